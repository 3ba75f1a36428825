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
PAGE_HEADERS = COMMON + [(b"content-security-policy", PAGE_CSP.encode())]
DOCS_HEADERS = COMMON + [(b"content-security-policy", DOCS_CSP.encode())]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = DOCS_HEADERS if scope["path"] in ("/docs", "/redoc") else PAGE_HEADERS

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestGuard:
    """413 for a request body over ``max_body`` bytes (by Content-Length, before reading it, or as it streams
    in); 415 for an API request whose body is not declared as JSON."""

    def __init__(self, app, max_body):
        self.app, self.max_body = app, max_body

    def _error(self):
        return f"Request body too large: the limit is {self.max_body} bytes"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit():
            return await JSON({"detail": "Content-Length must be a number"}, status_code=400)(scope, receive, send)
        if int(length) > self.max_body:
            return await JSON({"detail": self._error()}, status_code=413)(scope, receive, send)
        has_body = int(length) > 0 or b"transfer-encoding" in headers
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if has_body and scope["path"].startswith("/api/") and kind != b"application/json":
            detail = "Content-Type must be application/json"
            return await JSON({"detail": detail}, status_code=415)(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise HTTPException(413, self._error())
            return message

        await self.app(scope, limited_receive, send)
