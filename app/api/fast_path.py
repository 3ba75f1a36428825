"""The step and health routes' usual requests answered without FastAPI's routing and dependency resolution.

Those cost about 350 µs of CPU per step request here (matching the path against every route, solving the
dependencies, validating the query and headers), while the step itself, its store and its response take
about 90 µs: with them, one core served ~1,400 steps/s, short of the 5,000 that 100 clients at 50 steps/s
need (bench/throughput.py). This pure ASGI middleware, innermost of the app's own (after the request guard's
body and content-type checks, inside the security headers), takes ``POST /api/sessions/{id}/step`` with no
query or ``detail=full|summary`` and at most one ``If-Match``, and ``GET /api/health``; it runs the same code
as the routes (:func:`app.api.sessions.take_steps`) and answers errors with the app's own exception handlers.
Every other request, including any other query string, goes on to FastAPI, whose routes stay declared and
documented in the OpenAPI schema.
"""

import inspect

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.api.pages import HEALTH
from app.api.sessions import take_steps

PREFIX, SUFFIX = "/api/sessions/", "/step"
DETAILS = {b"": "full", b"detail=full": "full", b"detail=summary": "summary"}
_MANY = object()


class FastPath:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope.get("root_path"):
            path, method = scope["path"], scope["method"]
            if method == "POST" and path.startswith(PREFIX) and path.endswith(SUFFIX):
                sid, detail = path[len(PREFIX):-len(SUFFIX)], DETAILS.get(scope["query_string"])
                if_match = _header(scope["headers"], b"if-match")
                if sid and "/" not in sid and detail is not None and if_match is not _MANY:
                    return await self._step(scope, receive, send, sid, if_match, detail)
            elif method == "GET" and path == "/api/health":
                return await Response(HEALTH, media_type="application/json")(scope, receive, send)
        await self.app(scope, receive, send)

    async def _step(self, scope, receive, send, sid, if_match, detail):
        request = Request(scope, receive, send)
        try:
            response = await take_steps(request, sid, await request.body(), if_match, detail)
        except Exception as exc:
            handler = _handler(scope["app"].exception_handlers, exc)
            if handler is None:  # as FastAPI's routes: on to the server-error middleware (a 500)
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)


def _header(headers, name):
    """The value of header ``name`` (lower-case bytes) as text, None if absent, ``_MANY`` if repeated."""
    found = None
    for key, value in headers:
        if key == name:
            if found is not None:
                return _MANY
            found = value.decode("latin-1")
    return found


def _handler(handlers, exc):
    """The exception handler Starlette's ExceptionMiddleware would pick: by status code for an HTTPException,
    else by the exception's class or its nearest base class that has one."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:  # Starlette gives that one to the server-error middleware
            return handlers[cls]
    return None
