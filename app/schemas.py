"""Request and response models of the REST API (pydantic).

Requests are strict (no strings for numbers, no floats for integers, no unknown fields) and reject NaN and
Infinity. An optional field may be left out, but not sent as null. Shapes and label ranges depend on each
other and are checked by :mod:`app.core.trainer` (records by :mod:`app.core.records`).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.core.changes import KINDS as CHANGE_KINDS
from app.core.changes import MAX_CHANGES
from app.core.datasets import DATASETS, NOISE
from app.core.heldout import MAX_TEST_FRACTION
from app.core.settings import SETTING_FIELDS
from app.core.trainer import MAX_HISTORY
from app.core.validation import MAX_ABS

Finite = Annotated[float, Field(ge=-MAX_ABS, le=MAX_ABS, allow_inf_nan=False)]
Dataset = Literal[tuple(DATASETS)]
Seed = Annotated[int, Field(ge=0, lt=2**63)]
NOISE_RANGES = ", ".join(f"{name} 0 to {high:g} (default {default:g})" for name, (default, high) in NOISE.items())
Count = Annotated[int, Field(ge=0, lt=2**53)]  # exact in JavaScript too


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def setting_type(name):
    """The pydantic type of a session setting, from its declaration in :class:`app.core.settings.Settings`."""
    meta = SETTING_FIELDS[name].metadata
    if meta["choices"] is not None:
        return Literal[tuple(meta["choices"])]
    if meta["integer"]:
        return Annotated[int, Field(ge=meta["low"], le=meta["high"])]
    low = {"gt": meta["low"]} if meta["low_open"] else {"ge": meta["low"]}
    return Annotated[float, Field(**low, le=meta["high"], allow_inf_nan=False)]


def _settings_model(name, base, optional):
    """A model with every session setting: all optional (an edit: left out, never null) or with their
    defaults."""
    def spec(f):
        return setting_type(f.name), Field(None if optional else f.default, description=f.metadata["doc"])
    return create_model(name, __base__=base, **{f.name: spec(f) for f in SETTING_FIELDS.values()})


SettingsChanges = _settings_model("SettingsChanges", Request, optional=True)
Settings = _settings_model("Settings", Request, optional=False)
SettingsPublic = _settings_model("SettingsPublic", BaseModel, optional=False)
LossType, Optimizer = setting_type("loss_type"), setting_type("optimizer")


class SessionUpdate(SettingsChanges):
    """Any subset of the settings, parameters and data. Never resets the parameters or the history."""

    W: list[list[Finite]] = Field(None, description="K×2 weights")
    b: list[Finite] = Field(None, description="K biases")
    X: list[list[Finite]] = Field(None, description="N×2 points")
    y: list[Annotated[int, Field(ge=0)]] = Field(None, description="N labels in [0, K)")
    X_test: list[list[Finite]] = Field(
        None, description="held-out points (M×2), never trained on; with y_test; [] and [] remove the test set")
    y_test: list[Annotated[int, Field(ge=0)]] = Field(None, description="M held-out labels in [0, K)")

    def changes(self):
        """The fields sent (a default of None means "not sent": null itself is rejected)."""
        return self.model_dump(exclude_unset=True)


class SessionCreate(SessionUpdate):
    """Optional settings for a new session; ``seed`` fixes its random generator."""

    seed: Seed = None


class StepRequest(Request):
    steps: Annotated[int, Field(ge=1, le=10_000)] = 1


class ResetRequest(Request):
    """Parameters back to the defaults (or random) and the history cleared; the settings are kept, and the data
    too unless ``data`` names a preset to load. A generated preset is drawn from ``seed``: the same seed and
    values give the same points and the same held-out split, a new seed (omit it) redraws them."""

    params: Literal["default", "random"] = "default"
    seed: Seed = Field(None, description="omitted: a random seed")
    data: Dataset = Field(None, description="a preset to load; omitted keeps the current data")
    n: Annotated[int, Field(ge=1, le=10_000)] = Field(None, description="points per class (presets)")
    classes: Annotated[int, Field(ge=2, le=10)] = None
    test_fraction: Annotated[float, Field(ge=0, le=MAX_TEST_FRACTION, allow_inf_nan=False)] = Field(
        0.0, description="share of a generated preset's points held out as test data (X_test, y_test), "
        "never trained on; only with data")
    noise: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        None, description="a generated preset's spread (standard deviation of its Gaussian noise): "
        + NOISE_RANGES + "; omitted: the default. The random preset has none; only with data")


class RestoreRequest(Request):
    """Optional ``seed`` of the restored session's random generator."""

    seed: Seed = Field(None, description="omitted: a random seed")


class Change(BaseModel):
    """A change made during the run, at ``step``: a setting (``what`` is its name, ``value`` the new value),
    ``data`` (value: the number of training points), ``test_data`` (the number of test points) or ``params``
    (W, b edited by hand; no value)."""

    step: Count
    what: Literal[tuple(SETTING_FIELDS) + CHANGE_KINDS]
    value: str | float | None


class Preset(BaseModel):
    """How the data were drawn: ``POST …/reset`` with these values and ``seed`` draws the same points again
    (``noise`` and ``seed`` are null for the original points)."""

    name: Dataset
    seed: Seed | None
    n: Count | None
    classes: Count | None
    noise: float | None
    test_fraction: float


class DivergenceWatch(BaseModel):
    lowest: float | None
    rises: Count
    flips: Count
    diverging: bool


U128 = Annotated[str, Field(pattern=r"^[0-9]{1,39}$", description="an integer below 2^128, in decimal")]


class PCG64Words(Request):
    state: U128
    inc: U128 = Field(description="odd")


class RngState(Request):
    """NumPy's PCG64 bit generator state, as ``Generator.bit_generator.state`` gives it (the 128-bit integers as
    text); the ranges JSON Schema cannot say (below 2^128, odd ``inc``) are checked on import."""

    bit_generator: Literal["PCG64"]
    state: PCG64Words
    has_uint32: Annotated[int, Field(ge=0, le=1)]
    uinteger: Annotated[int, Field(ge=0, lt=2**32)]


class SessionRecord(Request):
    """A whole session as exported by ``GET /api/sessions/{id}/export``; import it to continue elsewhere.

    ``history[i]`` is the loss after step ``history_start + i``, the last one after ``step``; ``segments`` start
    at increasing steps; ``last_batch`` indexes the points."""

    format: Literal["linear-classify-demo/1"] = "linear-classify-demo/1"
    settings: Settings
    W: list[list[Finite]]
    b: list[Finite]
    X: list[list[Finite]]
    y: list[Annotated[int, Field(ge=0)]]
    step: Count
    history: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=1, max_length=MAX_HISTORY)]
    history_start: Count
    segments: Annotated[list[Annotated[tuple[Count, Optimizer], Field(strict=False)]],
                        Field(min_length=1, max_length=MAX_HISTORY + 1)]
    seed: Seed
    rng_state: RngState | None = None
    diverged: bool = False
    loss_evals: Count = 0
    last_batch: list[Count] | None = None
    tries: Count = 0
    accepted: Count = 0
    X_test: list[list[Finite]] | None = None
    y_test: list[Annotated[int, Field(ge=0)]] | None = None
    test_history: Annotated[list[Annotated[float, Field(allow_inf_nan=False)] | None],
                            Field(max_length=MAX_HISTORY)] | None = None
    changes: Annotated[list[Annotated[Change, Field(strict=False)]], Field(max_length=MAX_CHANGES)] = []
    divergence: Annotated[DivergenceWatch, Field(strict=False)] | None = None
    preset: Annotated[Preset, Field(strict=False)] | None = None


class Segment(BaseModel):
    start: int
    optimizer: Optimizer


class Search(BaseModel):
    tries: int
    accepted: int
    best_loss: float


class SessionPublic(SettingsPublic):
    """The state of a session, everything evaluated at the current ``W, b``.

    ``history[i]`` is the total loss after step ``history_start + i`` (step 0 is the initial loss). ``GET``
    returns the whole history; ``step`` returns only the entries it added, so its size does not grow with
    the number of steps already taken. With ``detail=summary`` the per-example arrays are ``null``.

    ``diverging`` turns true as soon as the run is clearly blowing up, long before ``diverged`` (float
    overflow): the loss ten times above its lowest value since the last change (``lowest_loss``) and still
    rising, or, when ``2·λ·step_size ≥ 2`` (``reg_factor ≤ −1``), W reversing its direction step after
    step. It stays true until the next reset or change; ``divergence_cause`` then says why.
    """

    id: str
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
    diverging: bool = Field(description="the run is blowing up (see above); false again after a reset or a change")
    divergence_cause: Literal["regularization", "step_size"] | None = Field(
        description="while diverging: 'regularization' when 2·λ·step_size ≥ 2 (0.5·λ·step_size ≥ 2 with "
        "reg_gradient 'original'; the numerical gradient is always exact), so that the regularization's own "
        "update multiplies W by reg_factor ≤ −1 each step; otherwise 'step_size' (too large for the data term)")
    reg_factor: float | None = Field(
        description="1 − c·λ·step_size (c = 2, or 0.5 for reg_gradient 'original'): what the regularization "
        "gradient alone multiplies W by each step; null for random search")
    lowest_loss: float = Field(description="the lowest loss since the last change, reset or edit")
    loss_evals: int
    last_batch: list[int] | None
    search: Search
    X_test: list[list[float]] | None = Field(description="held-out points (null without a test set or in summary)")
    y_test: list[int] | None
    n_test: int = Field(description="the number of held-out points (0 without a test set)")
    test_loss: float | None = Field(description="mean data loss over the held-out points (no λ Σ W²)")
    test_accuracy: float | None
    test_history: list[float | None] | None = Field(
        description="test loss after each step, aligned with history (null before a test set existed); "
        "step returns only the new entries, like history; null without a test set")
    changes: list[Change] = Field(description=f"the last changes of the run (at most {MAX_CHANGES}), oldest first")
    preset: Preset | None = Field(description="how the data were drawn; null once they are edited by hand")
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
