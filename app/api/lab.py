"""The optimization lab: gradient check and loss surfaces of a session's current state."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.deps import SessionId, Store
from app.api.responses import JSON, finite_or_none
from app.core import gradcheck, surface
from app.core.validation import InvalidInput
from app.schemas import GradCheck, Line, Surface

router = APIRouter(prefix="/api/sessions", tags=["optimization lab"])
Span = Annotated[float, Query(gt=0, le=1000, allow_inf_nan=False,
                              description="half-width of the range around the current values")]
ParamName = Annotated[str, Query(max_length=20, description="a parameter: W[k,d] or b[k]")]
# The most scores (grid points × data points × classes) one request may evaluate, 10–45 ns each on the 2-core
# reference machine (busy: 2–9 s): the page's largest surface, 61×61 over 10,000 points of 5 classes, fits.
# More answers 422 naming n, before any work is done.
MAX_SCORES = 200_000_000


def _index(field, name, W):
    classes, dims = W.shape
    i = surface.param_index(name, classes, dims)
    if i is None:
        raise InvalidInput(field, f"must name a parameter W[k,d] or b[k] with k < {classes} and d < {dims}", "query")
    return i


def _check_work(t, grid_points, n):
    """422 for a grid that would take too long on this session's data; the message gives the largest n."""
    per_point = len(t.y) * t.classes
    if grid_points * per_point > MAX_SCORES:
        most = MAX_SCORES // per_point
        largest = int(most ** 0.5) if grid_points == n * n else most
        raise InvalidInput("n", f"too much work for a session of {len(t.y)} points and {t.classes} classes: "
                                f"at most {largest}", "query")


@router.get("/{sid}/gradcheck", response_model=GradCheck)
async def gradient_check(sid: SessionId, store: Store, request: Request):
    """Analytic gradient against centered differences for every parameter at the current state."""
    async with store.open(sid, write=False) as t:
        args = t.problem(), t.W.copy(), t.b.copy()
    return JSON(await request.app.state.compute.lab(request, gradcheck.gradient_check, *args))


@router.get("/{sid}/surface", response_model=Surface)
async def loss_surface(sid: SessionId, store: Store, request: Request, p1: ParamName = "W[0,0]", p2: ParamName = "b[1]",
                       span: Span = 3.0, n: Annotated[int, Query(ge=2, le=surface.MAX_GRID)] = 61):
    """Total loss on an n×n grid over two parameters, the others fixed; ``loss[i][j]`` is at ``ys[i], xs[j]``."""
    async with store.open(sid, write=False) as t:
        i1, i2 = _index("p1", p1, t.W), _index("p2", p2, t.W)
        if i1 == i2:
            raise InvalidInput("p2", "must differ from p1", "query")
        _check_work(t, n * n, n)
        args = t.problem(), t.W.copy(), t.b.copy(), i1, i2, span, n
    xs, ys, loss = await request.app.state.compute.lab(request, surface.surface, *args)
    return JSON({"p1": p1, "p2": p2, "xs": xs, "ys": ys, "loss": finite_or_none(loss)})


@router.get("/{sid}/line", response_model=Line)
async def loss_line(sid: SessionId, store: Store, request: Request, direction: ParamName = "gradient", span: Span = 3.0,
                    n: Annotated[int, Query(ge=2, le=1001)] = 101):
    """Total loss along one parameter, or along the unit negative gradient (``direction=gradient``)."""
    async with store.open(sid, write=False) as t:
        d = direction if direction == "gradient" else _index("direction", direction, t.W)
        _check_work(t, n, n)
        args = t.problem(), t.W.copy(), t.b.copy(), d, span, n
    offsets, loss = await request.app.state.compute.lab(request, surface.line, *args)
    return JSON({"direction": direction, "offsets": offsets, "loss": finite_or_none(loss)})
