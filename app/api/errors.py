"""Error responses that name the offending field and never echo the input back, documented in the schema.

FastAPI's default validation handler returns the rejected input, which fails to serialize when that input
is NaN or Infinity (a 500 instead of a 422). Here only the location, a message and the error type are kept,
and an unknown field is named by where it is (the body, ``settings``), not by its name, the client's text.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from app.api.etag import PreconditionFailed
from app.api.responses import JSON
from app.core.validation import InvalidInput
from app.session_limits import TooManySessions
from app.sessions import RequestAbandoned, SessionNotFound, StoreUnavailable

_MESSAGE = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# Every API route may answer these (413 and 415 come from app.api.middleware); FastAPI documents the 422.
def _documented(status, text, headers=None):
    response = {"description": text, "content": {"application/json": {"schema": _MESSAGE}}}
    return {status: {**response, "headers": headers}} if headers else {status: response}


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "string"}}}
RESPONSES = {
    **_documented(400, "The body could not be parsed"),
    **_documented(404, "Session not found (unknown, expired or evicted id)"),
    **_documented(413, "Request body too large"),
    **_documented(415, "Content-Type is not application/json"),
    **_documented(503, "The session store is unavailable; retry later. A change answered 503 may or may not "
                       "have been applied: retry it with If-Match, and a 412 says it was", _RETRY_AFTER),
}
ETAG_HEADER = {"ETag": {"description": "the session state's entity tag, for If-Match", "schema": {"type": "string"}}}
# the routes that change a session add this, those that create one the next
PRECONDITION_FAILED = _documented(412, "If-Match did not match: the session has changed (perhaps by this very "
                                       "request, retried); the ETag header holds its current tag", ETAG_HEADER)
TOO_MANY_SESSIONS = _documented(429, "This client address created too many sessions too fast", _RETRY_AFTER)


def _field(loc):
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _detail(loc, msg, kind):
    return {"loc": list(loc), "msg": f"{_field(loc)}: {msg}", "type": kind}


async def validation_error(request: Request, exc: RequestValidationError):
    errors = []
    for e in exc.errors():
        if e["type"] == "json_invalid":
            where = e["loc"][-1]  # FastAPI gives the character; pydantic's parser (the step route) a message
            at = f"at character {where}" if isinstance(where, int) else e["msg"].removeprefix("Invalid JSON: ")
            text = f"invalid JSON ({at})"
            errors.append(_detail(("body",), text, "json_invalid"))
        elif e["type"] == "extra_forbidden":  # the last part of loc is the client's own text: not echoed
            errors.append(_detail(e["loc"][:-1], "unknown field (see the schema at /docs)", e["type"]))
        else:
            errors.append(_detail(e["loc"], e["msg"], e["type"]))
    return JSON({"detail": errors}, status_code=422)


async def invalid_input(request: Request, exc: InvalidInput):
    return JSON({"detail": [_detail((exc.location, exc.field), exc.message, "value_error")]}, status_code=422)


async def not_found(request: Request, exc: SessionNotFound):
    return JSON({"detail": "Session not found"}, status_code=404)


async def unavailable(request: Request, exc: StoreUnavailable):
    return JSON({"detail": f"Session store unavailable: {exc}"}, status_code=503, headers={"Retry-After": "1"})


async def precondition_failed(request: Request, exc: PreconditionFailed):
    detail = "Precondition failed: the session has changed since the ETag sent in If-Match; GET it again"
    return JSON({"detail": detail}, status_code=412, headers={"ETag": exc.current})


async def too_many_sessions(request: Request, exc: TooManySessions):
    kind = "experiments" if request.url.path.startswith("/api/experiments") else "sessions"
    detail = f"Too many new {kind} from this address; try again in {exc.retry_after} s"
    return JSON({"detail": detail}, status_code=429, headers={"Retry-After": str(exc.retry_after)})


async def abandoned(request: Request, exc: RequestAbandoned):
    """Nobody reads this: the client has gone (499, as nginx logs it)."""
    return JSON({"detail": "Client closed the request"}, status_code=499)


# FastAPI answers "There was an error parsing the body" for whatever the JSON parser raised besides a syntax error.
_PARSE_ERRORS = {RecursionError: "body: JSON nested too deeply", UnicodeDecodeError: "body: not valid UTF-8"}


async def http_error(request: Request, exc: HTTPException):
    detail = exc.detail
    if exc.status_code == 400 and type(exc.__cause__) in _PARSE_ERRORS:
        detail = _PARSE_ERRORS[type(exc.__cause__)]
    return JSON({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI):
    """The handlers, and the responses they add to every route included after this call."""
    app.router.responses = {**RESPONSES, **app.router.responses}
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidInput, invalid_input)
    app.add_exception_handler(SessionNotFound, not_found)
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(PreconditionFailed, precondition_failed)
    app.add_exception_handler(TooManySessions, too_many_sessions)
    app.add_exception_handler(RequestAbandoned, abandoned)
    app.add_exception_handler(HTTPException, http_error)
