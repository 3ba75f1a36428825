"""Dependencies shared by the routers."""

from typing import Annotated, Literal

from fastapi import Depends, Query, Request


async def get_store(request: Request):
    return request.app.state.store


async def get_config(request: Request):
    return request.app.state.config


Store = Annotated[object, Depends(get_store)]
Config = Annotated[object, Depends(get_config)]
Detail = Annotated[
    Literal["full", "summary"],
    Query(description="'summary' omits the per-example arrays X, y, scores and losses (large data)"),
]
