"""Request and response models of the REST API (pydantic).

Requests are strict (no strings for numbers, no floats for integers, no unknown fields) and reject NaN and
Infinity. Shapes and label ranges depend on each other and are checked by :mod:`app.core.trainer`.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Finite = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
LossType = Literal["svm_ww", "svm_ova", "svm_structured", "softmax"]
RegGradient = Literal["exact", "original"]
Optimizer = Literal["gd", "sgd", "numerical", "random_search"]
Dataset = Literal["original", "blobs", "moons", "circles", "random"]
Seed = Annotated[int, Field(ge=0, lt=2**63)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SessionUpdate(Request):
    """Any subset of the settings, parameters and data. Never resets the parameters or the history."""

    loss_type: LossType | None = None
    step_size: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None
    reg: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    reg_gradient: RegGradient | None = Field(None, description="'exact' (2λW) or 'original' (0.5λW, as the original demo)")
    optimizer: Optimizer | None = None
    batch_size: Annotated[int, Field(ge=1, le=100_000)] | None = Field(None, description="minibatch size for sgd")
    h: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(None, description="finite-difference step")
    search_scale: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = Field(
        None, description="standard deviation of random search's draws")
    W: list[list[Finite]] | None = Field(None, description="K×2 weights")
    b: list[Finite] | None = Field(None, description="K biases")
    X: list[list[Finite]] | None = Field(None, description="N×2 points")
    y: list[Annotated[int, Field(ge=0)]] | None = Field(None, description="N labels in [0, K)")

    def changes(self):
        return self.model_dump(exclude_none=True)


class SessionCreate(SessionUpdate):
    """Optional settings for a new session; ``seed`` fixes its random generator."""

    seed: Seed | None = None


class StepRequest(Request):
    steps: Annotated[int, Field(ge=1, le=10_000)] = 1


class ResetRequest(Request):
    params: Literal["default", "random"] = "default"
    seed: Seed | None = None
    data: Dataset | None = Field(None, description="a preset to load; omitted keeps the current data")
    n: Annotated[int, Field(ge=1, le=10_000)] | None = Field(None, description="points per class (presets)")
    classes: Annotated[int, Field(ge=2, le=10)] | None = None


class Settings(Request):
    loss_type: LossType = "svm_ww"
    step_size: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 0.1
    reg: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 0.1
    reg_gradient: RegGradient = "exact"
    optimizer: Optimizer = "gd"
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 4
    h: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1e-4
    search_scale: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 1.0


class SessionRecord(Request):
    """A whole session as exported by ``GET /api/sessions/{id}/export``; import it to continue elsewhere."""

    format: Literal["linear-classify-demo/1"] = "linear-classify-demo/1"
    settings: Settings
    W: list[list[Finite]]
    b: list[Finite]
    X: list[list[Finite]]
    y: list[Annotated[int, Field(ge=0)]]
    step: Annotated[int, Field(ge=0)]
    history: list[Annotated[float, Field(allow_inf_nan=False)]]
    history_start: Annotated[int, Field(ge=0)]
    segments: list[Annotated[tuple[Annotated[int, Field(ge=0)], Optimizer], Field(strict=False)]]
    seed: Seed
    rng_state: dict | None = None
    diverged: bool = False
    loss_evals: Annotated[int, Field(ge=0)] = 0
    last_batch: list[Annotated[int, Field(ge=0)]] | None = None
    tries: Annotated[int, Field(ge=0)] = 0
    accepted: Annotated[int, Field(ge=0)] = 0


class Segment(BaseModel):
    start: int
    optimizer: Optimizer


class Search(BaseModel):
    tries: int
    accepted: int
    best_loss: float


class SessionPublic(BaseModel):
    """The state of a session, everything evaluated at the current ``W, b``.

    ``history[i]`` is the total loss after step ``history_start + i`` (step 0 is the initial loss). ``GET``
    returns the whole history; ``step`` returns only the entries it added, so its size does not grow with
    the number of steps already taken. With ``detail=summary`` the per-example arrays are ``null``.
    """

    id: str
    loss_type: LossType
    step_size: float
    reg: float
    reg_gradient: RegGradient
    optimizer: Optimizer
    batch_size: int
    h: float
    search_scale: float
    seed: int
    classes: int
    n_points: int
    W: list[list[float]]
    b: list[float]
    dW: list[list[float]]
    db: list[float]
    X: list[list[float]] | None
    y: list[int] | None
    scores: list[list[float]] | None
    losses: list[float] | None
    data_loss: float
    reg_loss: float
    loss: float
    accuracy: float
    step: int
    history: list[float]
    history_start: int
    segments: list[Segment]
    diverged: bool
    loss_evals: int
    last_batch: list[int] | None
    search: Search
    steps_taken: int | None = Field(None, description="step only: the steps this request took, fewer than asked "
                                    "when the loss diverged or the server's compute budget ran out")


class ParamCheck(BaseModel):
    name: str
    analytic: float
    numerical: float
    rel_error: float
    kink: bool


class GradCheck(BaseModel):
    params: list[ParamCheck]
    max_rel_error: float
    h: float
    precision: Literal["float64"] = Field(description="the arithmetic of the numerical gradient (see app.core.gradcheck)")


class Surface(BaseModel):
    p1: str
    p2: str
    xs: list[float]
    ys: list[float]
    loss: list[list[float | None]] = Field(description="null where the loss overflows float64")


class Line(BaseModel):
    direction: str
    offsets: list[float]
    loss: list[float | None]
