"""``/api/sessions``: create, read, change, step, reset and delete a user's training session."""

import functools
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.api import responses
from app.api.deps import Config, Detail, Owner, SessionId, Store
from app.api.errors import ETAG_HEADER, PRECONDITION_FAILED, TOO_MANY_SESSIONS
from app.api.etag import IfMatch, require, tagged
from app.api.import_guard import CappedHistoryRoute
from app.api.responses import JSON
from app.core.trainer import Trainer
from app.schemas import (ResetRequest, RestoreRequest, SessionCreate, SessionPublic, SessionRecord, SessionUpdate,
                         StepRequest)
from app.sessions import check_id

router = APIRouter(prefix="/api/sessions", tags=["sessions"])
STATE = {"headers": ETAG_HEADER}  # documents the ETag of every state response


STEP_BODY = {"required": False, "content": {"application/json": {"schema": StepRequest.model_json_schema()}}}


def parse_step(body):
    """``StepRequest.steps`` straight from the raw bytes: pydantic's JSON parser skips FastAPI's body handling,
    the largest cost of the hottest route (about 130 µs of a 950 µs round trip). A page sends the same few short
    bodies over and over (``{"steps":1}``), so their values are remembered."""
    if not body:
        return 1
    return _remembered_steps(body) if len(body) <= SHORT_BODY else _steps(body)


SHORT_BODY = 64  # bytes: what a body remembered by parse_step may take (with 256 of them, at most 16 KB)


def _steps(body):
    try:
        return StepRequest.model_validate_json(body).steps
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_input=False)])


_remembered_steps = functools.lru_cache(maxsize=256)(_steps)  # an invalid body raises each time: never remembered


# Registered first: routes are matched in order, and this is the route the repeated update hammers. Its usual
# requests are answered by app.api.fast_path without FastAPI's routing and dependencies (take_steps either way).
@router.post("/{sid}/step", response_model=SessionPublic, openapi_extra={"requestBody": STEP_BODY},
             responses={200: STATE, **PRECONDITION_FAILED})
async def step_session(sid: SessionId, request: Request, if_match: IfMatch = None, detail: Detail = "full"):
    """Take ``steps`` optimizer steps (default 1, at most 10,000) within the server's compute budget;
    ``steps_taken`` says how many were; the history holds only the new losses."""
    return tagged(*await take_steps(request, sid, await request.body(), if_match, detail))


async def take_steps(request, sid, body, if_match, detail):
    """The step route's work, shared with app.api.fast_path: ``(state, revision)`` for the tagged response;
    errors are raised in the route's order (an ill-shaped id before a bad body, both before the store is asked)."""
    check_id(sid)
    steps = parse_step(body)
    shared = request.app.state  # the store and the compute pool
    async with shared.store.open(sid, gone=request.is_disconnected) as t:
        require(if_match, sid, t.revision)
        first = t.step + 1
        taken = await shared.compute.run_steps(request, t, steps)
        state = responses.state(sid, t, detail, history_from=first)
        state["steps_taken"] = taken
    return state, t.revision


@router.post("", status_code=201, response_model=SessionPublic, responses={201: STATE, **TOO_MANY_SESSIONS})
async def create_session(store: Store, config: Config, owner: Owner,
                         body: Annotated[SessionCreate | None, Body()] = None):
    t = Trainer.create(max_points=config.max_points, **(body.changes() if body else {}))
    sid = await store.create(t, owner)
    return tagged(responses.state(sid, t), t.revision, status_code=201)


async def import_session(body: SessionRecord, store: Store, config: Config, owner: Owner):
    """A new session from an exported record (settings, data, parameters, history and generator state)."""
    t = Trainer.from_record(body.model_dump(), max_points=config.max_points)
    sid = await store.create(t, owner)
    return tagged(responses.state(sid, t), t.revision, status_code=201)


router.add_api_route("/import", import_session, methods=["POST"], status_code=201, response_model=SessionPublic,
                     responses={201: STATE, **TOO_MANY_SESSIONS}, route_class_override=CappedHistoryRoute)


@router.get("/{sid}/export", response_model=SessionRecord)
async def export_session(sid: SessionId, store: Store):
    """The whole session as a JSON file, to import later or elsewhere."""
    async with store.open(sid, write=False) as t:
        record = {"format": "linear-classify-demo/1", **t.to_record()}
    headers = {"Content-Disposition": 'attachment; filename="linear-classify-session.json"'}
    return JSON(record, headers=headers)


@router.get("/{sid}", response_model=SessionPublic, responses={200: STATE})
async def read_session(sid: SessionId, store: Store, detail: Detail = "full"):
    async with store.open(sid, write=False) as t:
        state = responses.state(sid, t, detail)
    return tagged(state, t.revision)


@router.patch("/{sid}", response_model=SessionPublic, responses={200: STATE, **PRECONDITION_FAILED})
async def update_session(sid: SessionId, body: SessionUpdate, store: Store, request: Request, if_match: IfMatch = None,
                         detail: Detail = "full"):
    async with store.open(sid, gone=request.is_disconnected) as t:
        require(if_match, sid, t.revision)
        t.update(**body.changes())
        state = responses.state(sid, t, detail, history_from=t.step + 1)
    return tagged(state, t.revision)


@router.post("/{sid}/reset", response_model=SessionPublic, responses={200: STATE, **PRECONDITION_FAILED})
async def reset_session(sid: SessionId, store: Store, request: Request, if_match: IfMatch = None,
                        body: Annotated[ResetRequest | None, Body()] = None, detail: Detail = "full"):
    """Reset: the parameters back to the defaults (or random), the history cleared; settings and data kept
    unless ``data`` loads a preset (with ``test_fraction`` held out and its spread ``noise``). To undo the
    settings too, ``POST …/restore``."""
    body = body or ResetRequest()
    async with store.open(sid, gone=request.is_disconnected) as t:
        require(if_match, sid, t.revision)
        t.reset(**body.model_dump())
        state = responses.state(sid, t, detail)
    return tagged(state, t.revision)


@router.post("/{sid}/restore", response_model=SessionPublic, responses={200: STATE, **PRECONDITION_FAILED})
async def restore_session(sid: SessionId, store: Store, request: Request, if_match: IfMatch = None,
                          body: Annotated[RestoreRequest | None, Body()] = None, detail: Detail = "full"):
    """Restore defaults: everything of the original demo in the same session: its nine points (no test
    set), the default settings and parameters; the history cleared."""
    body = body or RestoreRequest()
    async with store.open(sid, gone=request.is_disconnected) as t:
        require(if_match, sid, t.revision)
        t.restore_defaults(body.seed)
        state = responses.state(sid, t, detail)
    return tagged(state, t.revision)


@router.delete("/{sid}", status_code=204, responses=PRECONDITION_FAILED)
async def delete_session(sid: SessionId, store: Store, request: Request, if_match: IfMatch = None):
    await store.delete(sid, check=lambda revision: require(if_match, sid, revision), gone=request.is_disconnected)
    return Response(status_code=204)
