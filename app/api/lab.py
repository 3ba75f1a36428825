"""The optimization lab: gradient check and loss surfaces of a session's current state."""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.api.deps import SessionId, Store
from app.api.responses import JSON, finite_or_none
from app.core import gradcheck, surface
from app.core.validation import InvalidInput
from app.schemas import GradCheck, Line, Surface

router = APIRouter(prefix="/api/sessions", tags=["optimization lab"])
Span = Annotated[float, Query(gt=0, le=1000, allow_inf_nan=False,
                              description="half-width of the range around the current values")]
ParamName = Annotated[str, Query(max_length=20, description="a parameter: W[k,d] or b[k]")]


def _index(field, name, classes):
    i = surface.param_index(name, classes)
    if i is None:
        raise InvalidInput(field, f"must name a parameter W[k,d] or b[k] with k < {classes} and d in 0, 1", "query")
    return i


@router.get("/{sid}/gradcheck", response_model=GradCheck)
async def gradient_check(sid: SessionId, store: Store):
    """Analytic gradient against centered differences for every parameter at the current state."""
    async with store.open(sid, write=False) as t:
        args = t.problem(), t.W.copy(), t.b.copy()
    return JSON(await run_in_threadpool(gradcheck.gradient_check, *args))


@router.get("/{sid}/surface", response_model=Surface)
async def loss_surface(sid: SessionId, store: Store, p1: ParamName = "W[0,0]", p2: ParamName = "b[1]", span: Span = 3.0,
                       n: Annotated[int, Query(ge=2, le=surface.MAX_GRID)] = 61):
    """Total loss on an n×n grid over two parameters, the others fixed; ``loss[i][j]`` is at ``ys[i], xs[j]``."""
    async with store.open(sid, write=False) as t:
        i1, i2 = _index("p1", p1, t.classes), _index("p2", p2, t.classes)
        if i1 == i2:
            raise InvalidInput("p2", "must differ from p1", "query")
        args = t.problem(), t.W.copy(), t.b.copy(), i1, i2, span, n
    xs, ys, loss = await run_in_threadpool(surface.surface, *args)
    return JSON({"p1": p1, "p2": p2, "xs": xs, "ys": ys, "loss": finite_or_none(loss)})


@router.get("/{sid}/line", response_model=Line)
async def loss_line(sid: SessionId, store: Store, direction: ParamName = "gradient", span: Span = 3.0,
                    n: Annotated[int, Query(ge=2, le=1001)] = 101):
    """Total loss along one parameter, or along the unit negative gradient (``direction=gradient``)."""
    async with store.open(sid, write=False) as t:
        d = direction if direction == "gradient" else _index("direction", direction, t.classes)
        args = t.problem(), t.W.copy(), t.b.copy(), d, span, n
    offsets, loss = await run_in_threadpool(surface.line, *args)
    return JSON({"direction": direction, "offsets": offsets, "loss": finite_or_none(loss)})
