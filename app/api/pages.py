"""The page, its assets from installed packages (Plotly.js, Swagger UI), the favicon and the health check."""

from pathlib import Path

import plotly
import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates

from app.paths import STATIC, TEMPLATES

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
SWAGGER = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI 5: renders OpenAPI 3.1
CACHE = {"Cache-Control": "public, max-age=86400"}
HEALTH = b'{"status":"ok"}'

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)


@router.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request):
    return templates.TemplateResponse(request, "index.html", {"plotly_version": plotly.__version__})


@router.api_route("/images", methods=["GET", "HEAD"])
async def images_page(request: Request):
    return templates.TemplateResponse(request, "images.html", {"plotly_version": plotly.__version__})


@router.api_route("/vendor/plotly.min.js", methods=["GET", "HEAD"])
async def plotly_js():
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHE)


@router.api_route("/vendor/swagger/{name}", methods=["GET", "HEAD"])
async def swagger_asset(name: str):
    if name not in ("swagger-ui-bundle.js", "swagger-ui.css"):
        return Response(status_code=404)
    return FileResponse(SWAGGER / name, headers=CACHE)


@router.api_route("/docs", methods=["GET", "HEAD"])
async def docs():
    return get_swagger_ui_html(openapi_url="/openapi.json", title="linear-classify-demo API",
                               swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
                               swagger_css_url="/vendor/swagger/swagger-ui.css",
                               swagger_favicon_url="/favicon.ico")


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon():
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers=CACHE)


health = APIRouter(tags=["health"])


@health.get("/api/health")
@health.head("/api/health", include_in_schema=False)
async def health_check():
    """A do-nothing endpoint: the floor that the step endpoint's latency is measured against."""
    return Response(HEALTH, media_type="application/json")
