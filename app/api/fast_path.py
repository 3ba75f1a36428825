"""The step and health routes' usual requests, answered in front of FastAPI's middleware and routing.

The repeated update hammers ``POST /api/sessions/{id}/step``: a class of 100 clients at 50 steps/s each needs
5,000 steps/s from one core, ≤ 200 µs of CPU per request (bench/throughput.py). FastAPI's route costs about
350 µs on routing and dependencies alone, and its middleware stack (error handling, body limit, the request
guard, the security headers), each wrapping ``send`` again, a further ~30 µs. So :class:`FastPath` sits in
front of all of it (:class:`app.main.DemoApp`) and answers, with raw ASGI messages:

* ``POST /api/sessions/{id}/step`` with no query or ``detail=full|summary``, at most one ``If-Match`` and an
  ordinary body: a ``Content-Length`` within the server's ``max_body`` and, if there is a body, declared as
  ``application/json`` (the request guard's rules), not chunked. It runs the route's own code
  (:func:`app.api.sessions.take_steps`) and answers errors with the app's own exception handlers;
* ``GET /api/health``.

Every other request, and any of these with an unusual header (repeated, too long a body, another content type),
goes on to FastAPI, whose answer is then the reference one: its routes stay declared and documented in the
OpenAPI schema, and tests/api/test_fast_path.py checks that both answer alike, byte for byte.
"""

import inspect

from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.api.etag import etag
from app.api.middleware import API_HEADERS, refusal
from app.api.pages import HEALTH
from app.api.responses import dumps
from app.api.sessions import take_steps

PREFIX, SUFFIX = "/api/sessions/", "/step"
DETAILS = {b"": "full", b"detail=full": "full", b"detail=summary": "summary"}
JSON_TYPE = [(b"content-type", b"application/json")]
HEALTH_HEADERS = ((b"content-length", str(len(HEALTH)).encode()), *JSON_TYPE, *API_HEADERS)
SERVER_ERROR = b"Internal Server Error"
# the request headers the fast path reads; a request that repeats one of them goes to FastAPI
READ = {b"content-length", b"content-type", b"if-match", b"transfer-encoding"}


class FastPath:
    """ASGI: the usual step and health requests here, all others to ``rest`` (FastAPI's own ``__call__``)."""

    def __init__(self, app, rest, max_body):
        self.app, self.rest, self.max_body = app, rest, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope.get("root_path"):
            path, method = scope["path"], scope["method"]
            if method == "POST" and path.startswith(PREFIX) and path.endswith(SUFFIX):
                sid, detail = path[len(PREFIX):-len(SUFFIX)], DETAILS.get(scope["query_string"])
                headers = _read(scope["headers"])
                if sid and "/" not in sid and detail is not None and self._ordinary(headers, path):
                    if_match = headers.get(b"if-match")
                    if_match = None if if_match is None else if_match.decode("latin-1")
                    return await self._step(scope, receive, send, sid, if_match, detail)
            elif method == "GET" and path == "/api/health":  # messages made anew: a wrapper of send may change them
                await send({"type": "http.response.start", "status": 200, "headers": list(HEALTH_HEADERS)})
                return await send({"type": "http.response.body", "body": HEALTH})
        await self.rest(scope, receive, send)

    def _ordinary(self, headers, path):
        """A body the request guard lets through whole, not chunked (a stream is limited as it comes, by the
        guard): else FastAPI answers it."""
        return headers is not None and b"transfer-encoding" not in headers and \
            refusal(headers, path, self.max_body) is None

    async def _step(self, scope, receive, send, sid, if_match, detail):
        scope["app"] = self.app  # as Starlette sets it, for request.app
        request = Request(scope, receive, send)
        started = False

        async def start(status, headers, body):
            nonlocal started
            started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        try:
            body = await _body(receive)
            if body is None:  # the client left while sending it: nobody to answer
                return
            state, revision = await take_steps(request, sid, body, if_match, detail)
            payload = dumps(state)
            await start(200, [(b"etag", etag(sid, revision).encode()), (b"content-length", str(len(payload)).encode()),
                              *JSON_TYPE, *API_HEADERS], payload)
        except Exception as exc:
            if started:
                raise
            handler = _handler(self.app.exception_handlers, exc)
            if handler is None:  # as Starlette's ServerErrorMiddleware: a plain 500, and the error to the log
                await start(500, [(b"content-length", str(len(SERVER_ERROR)).encode()),
                                  (b"content-type", b"text/plain; charset=utf-8"), *API_HEADERS], SERVER_ERROR)
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            response.raw_headers.extend(API_HEADERS)
            await response(scope, receive, send)


async def _body(receive):
    """The whole request body (its length already checked), or None if the client disconnected."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _read(headers):
    """The headers in :data:`READ` as ``{name: value}`` (bytes), or None if one of them is repeated."""
    found = {}
    for key, value in headers:
        if key in READ:
            if key in found:
                return None
            found[key] = value
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
