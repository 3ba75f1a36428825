"""Dependencies shared by the routers."""

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request

from app.session_limits import is_session_id, owner_key
from app.sessions import SessionNotFound


async def get_store(request: Request):
    return request.app.state.store


async def get_config(request: Request):
    return request.app.state.config


async def session_id(sid: Annotated[str, Path(description="the id returned on creation (32 URL-safe characters)")]):
    """The id, if it has the shape of the ids this server issues; any other is unknown (404) without the store
    being asked, so that no id can reach anything but a session."""
    if not is_session_id(sid):
        raise SessionNotFound(sid)
    return sid


async def get_owner(request: Request):
    """The client address the request's new session is accounted to (see app.session_limits.owner_key);
    behind a reverse proxy, uvicorn's --forwarded-allow-ips makes this the address the proxy saw."""
    return owner_key(request.client.host if request.client else None)


Store = Annotated[object, Depends(get_store)]
Config = Annotated[object, Depends(get_config)]
SessionId = Annotated[str, Depends(session_id)]
Owner = Annotated[str, Depends(get_owner)]
Detail = Annotated[
    Literal["full", "summary"],
    Query(description="'summary' omits the per-example arrays X, y, scores and losses (large data)"),
]
