"""Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware``): request guard and security headers."""

from fastapi import HTTPException

from app.api.responses import JSON

# Plotly sets inline styles on the elements it draws, hence 'unsafe-inline' for styles only; no inline scripts.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI at /docs (its files served from the fastapi-offline package, not a CDN) starts with an inline script.
DOCS_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " \
    "img-src 'self' data:; frame-ancestors 'none'"
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
          (b"x-frame-options", b"DENY")]
# The API answers data, never a document: nothing may load or run in one opened by a browser (and the short
# policy is quick to send on the hottest route).
API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_HEADERS = COMMON + [(b"content-security-policy", PAGE_CSP.encode())]
DOCS_HEADERS = COMMON + [(b"content-security-policy", DOCS_CSP.encode())]
API_HEADERS = COMMON + [(b"content-security-policy", API_CSP.encode())]


def security_headers(path):
    """The security headers of every response to ``path``: the API's, the docs' or the pages'."""
    if path.startswith("/api/"):
        return API_HEADERS
    return DOCS_HEADERS if path in ("/docs", "/redoc") else PAGE_HEADERS


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = security_headers(scope["path"])

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def refusal(headers, path, max_body):
    """Why the request guard refuses a request before reading its body, as ``(status, detail)``, or None.
    ``headers``: ``{name: value}`` in bytes, as ASGI gives them. The fast path (app.api.fast_path) asks the same."""
    length = headers.get(b"content-length", b"0")
    if not length.isdigit():
        return 400, "Content-Length must be a number"
    if int(length) > max_body:
        return 413, too_large(max_body)
    has_body = int(length) > 0 or b"transfer-encoding" in headers
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if has_body and path.startswith("/api/") and kind != b"application/json":
        return 415, "Content-Type must be application/json"
    return None


def too_large(max_body):
    return f"Request body too large: the limit is {max_body} bytes"


class RequestGuard:
    """413 for a request body over ``max_body`` bytes (by Content-Length, before reading it, or as it streams
    in); 415 for an API request whose body is not declared as JSON."""

    def __init__(self, app, max_body):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = refusal(dict(scope["headers"]), scope["path"], self.max_body)
        if refused is not None:
            status, detail = refused
            return await JSON({"detail": detail}, status_code=status)(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise HTTPException(413, too_large(self.max_body))
            return message

        await self.app(scope, limited_receive, send)
