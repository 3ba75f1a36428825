"""Error responses that name the offending field and never echo the input back, documented in the schema.

FastAPI's default validation handler returns the rejected input, which fails to serialize when that input
is NaN or Infinity (a 500 instead of a 422). Here only the location, a message and the error type are kept.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from app.api.responses import JSON
from app.core.validation import InvalidInput
from app.sessions import SessionNotFound, StoreUnavailable

_MESSAGE = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# Every API route may answer these (413 and 415 come from app.api.middleware); FastAPI documents the 422.
RESPONSES = {
    status: {"description": text, "content": {"application/json": {"schema": _MESSAGE}}}
    for status, text in ((400, "The body could not be parsed"), (404, "Session not found (unknown, expired or "
                         "evicted id)"), (413, "Request body too large"), (415, "Content-Type is not "
                         "application/json"), (503, "The session store is unavailable; retry later"))
}


def _short(part):
    """A location part; an unknown field's name is the client's own text, so only its start is kept."""
    return part if isinstance(part, int) or len(part) <= 40 else part[:40] + "…"


def _field(loc):
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _detail(loc, msg, kind):
    loc = [_short(p) for p in loc]
    return {"loc": loc, "msg": f"{_field(loc)}: {msg}", "type": kind}


async def validation_error(request: Request, exc: RequestValidationError):
    errors = []
    for e in exc.errors():
        if e["type"] == "json_invalid":
            where = e["loc"][-1]  # FastAPI gives the character; pydantic's parser (the step route) a message
            at = f"at character {where}" if isinstance(where, int) else e["msg"].removeprefix("Invalid JSON: ")
            text = f"invalid JSON ({at})"
            errors.append(_detail(("body",), text, "json_invalid"))
        else:
            errors.append(_detail(e["loc"], e["msg"], e["type"]))
    return JSON({"detail": errors}, status_code=422)


async def invalid_input(request: Request, exc: InvalidInput):
    return JSON({"detail": [_detail((exc.location, exc.field), exc.message, "value_error")]}, status_code=422)


async def not_found(request: Request, exc: SessionNotFound):
    return JSON({"detail": "Session not found"}, status_code=404)


async def unavailable(request: Request, exc: StoreUnavailable):
    return JSON({"detail": f"Session store unavailable: {exc}"}, status_code=503, headers={"Retry-After": "1"})


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
    app.add_exception_handler(HTTPException, http_error)
