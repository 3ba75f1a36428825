"""Error responses that name the offending field and never echo the input back.

FastAPI's default validation handler returns the rejected input, which fails to serialize when that input
is NaN or Infinity (a 500 instead of a 422). Here only the location, a message and the error type are kept.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from app.api.responses import JSON
from app.core.trainer import InvalidInput
from app.sessions import SessionNotFound


def _field(loc):
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _detail(loc, msg, kind):
    return {"loc": list(loc), "msg": f"{_field(loc)}: {msg}", "type": kind}


async def validation_error(request: Request, exc: RequestValidationError):
    errors = []
    for e in exc.errors():
        if e["type"] == "json_invalid":
            errors.append(_detail(("body",), f"invalid JSON at character {e['loc'][-1]}", "json_invalid"))
        else:
            errors.append(_detail(e["loc"], e["msg"], e["type"]))
    return JSON({"detail": errors}, status_code=422)


async def invalid_input(request: Request, exc: InvalidInput):
    return JSON({"detail": [_detail((exc.location, exc.field), exc.message, "value_error")]}, status_code=422)


async def not_found(request: Request, exc: SessionNotFound):
    return JSON({"detail": "Session not found"}, status_code=404)


async def http_error(request: Request, exc: HTTPException):
    return JSON({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI):
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidInput, invalid_input)
    app.add_exception_handler(SessionNotFound, not_found)
    app.add_exception_handler(HTTPException, http_error)
