"""One user's training state: data, parameters, settings, history; validated edits and optimizer runs.

Pure NumPy and plain Python. Every edit is validated as a whole before anything changes, so a rejected
edit leaves the state exactly as it was (:class:`InvalidInput` names the offending field). A run that would
leave finite numbers (a step size far too large) stops at the last finite state and sets ``diverged``.
"""

import math
import secrets
from dataclasses import dataclass, field, fields, replace

import numpy as np

from app.core import datasets
from app.core.losses import LOSS_TYPES
from app.core.model import REG_GRADIENTS, accuracy, default_params, random_params
from app.core.optimizers import OPTIMIZERS, Problem
from app.core.validation import InvalidInput, choice, finite_array, labels, number

MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_HISTORY = 100_000  # older losses are dropped beyond this; ``history_start`` says where the list begins


@dataclass(frozen=True)
class Settings:
    loss_type: str = "svm_ww"
    step_size: float = 0.1
    reg: float = 0.1
    reg_gradient: str = "exact"
    optimizer: str = "gd"
    batch_size: int = 4
    h: float = 1e-4
    search_scale: float = 1.0

    def check(self):
        choice("loss_type", self.loss_type, LOSS_TYPES)
        choice("reg_gradient", self.reg_gradient, REG_GRADIENTS)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        number("step_size", self.step_size, 0, 1000, low_open=True)
        number("reg", self.reg, 0, 1000)
        number("h", self.h, 0, 1, low_open=True)
        number("search_scale", self.search_scale, 0, 1000, low_open=True)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise InvalidInput("batch_size", "must be an integer ≥ 1")


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def _column_major(X):
    """The points stored column by column, so that ``X.T`` is contiguous: :func:`app.core.model.scores`
    computes ``W @ X.T``, which BLAS does several times faster from contiguous rows on large data."""
    return np.asfortranarray(X)


@dataclass
class Trainer:
    W: np.ndarray
    b: np.ndarray
    X: np.ndarray
    y: np.ndarray
    settings: Settings = field(default_factory=Settings)
    step: int = 0
    history: list = field(default_factory=list)
    history_start: int = 0
    segments: list = field(default_factory=list)  # [[first step, optimizer], …]
    seed: int = 0
    rng_state: dict | None = None
    diverged: bool = False
    loss_evals: int = 0  # what the last step cost
    last_batch: list | None = None
    tries: int = 0
    accepted: int = 0
    max_points: int = 10_000
    _ev: object = field(default=None, repr=False, compare=False)
    _rng: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.X = _column_major(self.X)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def create(cls, max_points=10_000, seed=None, **changes):
        """The original demo's state, with any settings, parameters or data changed as given."""
        W, b = default_params()
        X, y = datasets.original()
        seed = secrets.randbits(63) if seed is None else seed
        t = cls(W, b, X, y, seed=seed, max_points=max_points)
        t.update(**changes)
        t._restart()
        return t

    def _restart(self):
        self.step, self.history_start, self.diverged = 0, 0, False
        self.tries = self.accepted = self.loss_evals = 0
        self.last_batch = None
        self.history = [self.evaluation.loss]
        self.segments = [[0, self.settings.optimizer]]

    # --- derived ----------------------------------------------------------------------------------
    @property
    def classes(self):
        return len(self.b)

    @property
    def rng(self):
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
            if self.rng_state is not None:
                self._rng.bit_generator.state = self.rng_state
        return self._rng

    def problem(self):
        s = self.settings
        return Problem(self.X, self.y, s.reg, s.loss_type, s.reg_gradient, s.step_size,
                       s.batch_size, s.h, s.search_scale)

    @property
    def evaluation(self):
        if self._ev is None:
            self._ev = self.problem().evaluate(self.W, self.b)
        return self._ev

    @property
    def accuracy(self):
        return accuracy(self.evaluation.scores, self.y)

    # --- edits ------------------------------------------------------------------------------------
    def update(self, **changes):
        """Change any settings and any of ``W, b, X, y``; all-or-nothing; never resets the history."""
        unknown = set(changes) - set(SETTING_NAMES) - {"W", "b", "X", "y"}
        if unknown:
            raise InvalidInput(sorted(unknown)[0], "unknown field")
        # x + 0.0 turns a −0.0 (valid JSON) into 0.0, which is what the user means by it
        plain = {k: (v + 0.0 if type(v) is float else v) for k, v in changes.items() if k in SETTING_NAMES}
        settings = replace(self.settings, **plain)
        settings.check()
        W = finite_array("W", changes["W"], "a K×2 array", 2, 2) if "W" in changes else self.W
        b = finite_array("b", changes["b"], "a list", 1) if "b" in changes else self.b
        if not MIN_CLASSES <= len(W) <= MAX_CLASSES:
            raise InvalidInput("W", f"must have between {MIN_CLASSES} and {MAX_CLASSES} rows (one per class)")
        if len(b) != len(W):
            field_ = "b" if "b" in changes else "W"
            raise InvalidInput(field_, f"W has {len(W)} rows but b has {len(b)} entries; they must match")
        X = finite_array("X", changes["X"], "an N×2 array", 2, 2) if "X" in changes else self.X
        if len(X) > self.max_points:
            raise InvalidInput("X", f"at most {self.max_points} points")
        y = labels(changes["y"], len(W), self.max_points) if "y" in changes else self.y
        if "y" not in changes and (y.max() >= len(W)):
            raise InvalidInput("W", f"the labels need at least {y.max() + 1} classes")
        if len(y) != len(X):
            raise InvalidInput("y" if "y" in changes else "X", f"X has {len(X)} points but y has {len(y)} labels")
        if settings.optimizer != self.settings.optimizer:
            self._mark_segment(settings.optimizer)
        self.W, self.b, self.X, self.y, self.settings = W, b, _column_major(X), y, settings
        self.diverged = False
        self._ev = None

    def _mark_segment(self, optimizer):
        if self.segments and self.segments[-1][0] == self.step:
            self.segments[-1][1] = optimizer
        else:
            self.segments.append([self.step, optimizer])

    def reset(self, params="default", seed=None, data=None, n=None, classes=None):
        """Parameters back to the defaults (or random), optionally new data; history cleared. All-or-nothing."""
        seed = secrets.randbits(63) if seed is None else seed
        rng = np.random.default_rng(seed)
        if data == "original":
            X, y = datasets.original()
        elif data is not None:
            X, y = datasets.make(data, rng, n or 20, classes or self.classes)
        else:
            X, y = self.X, self.y
        classes = 3 if data == "original" else classes or self.classes
        low = max(int(y.max()) + 1, MIN_CLASSES)
        if not low <= classes <= MAX_CLASSES:
            raise InvalidInput("classes", f"must be between {low} and {MAX_CLASSES} for this data")
        if len(X) > self.max_points:
            raise InvalidInput("n", f"at most {self.max_points} points in all")
        W, b = random_params(rng, classes) if params == "random" else spread_params(classes)
        self.W, self.b, self.X, self.y, self._ev = W, b, _column_major(X), y, None
        self.seed, self._rng, self.rng_state = seed, rng, None
        self._restart()

    # --- records (export, import, shared stores) ---------------------------------------------------
    def to_record(self):
        """Everything that defines this state, as plain JSON-able values; ``from_record`` inverts it."""
        rng_state = self._rng.bit_generator.state if self._rng is not None else self.rng_state
        if rng_state is not None:  # PCG64's 128-bit integers, as text: JSON libraries stop at 64 bits
            rng_state = {**rng_state, "state": {k: str(v) for k, v in rng_state["state"].items()}}
        return {
            "settings": {name: getattr(self.settings, name) for name in SETTING_NAMES},
            "W": self.W.tolist(), "b": self.b.tolist(), "X": self.X.tolist(), "y": self.y.tolist(),
            "step": self.step, "history": list(self.history), "history_start": self.history_start,
            "segments": [list(s) for s in self.segments], "seed": self.seed, "rng_state": rng_state,
            "diverged": self.diverged, "loss_evals": self.loss_evals, "last_batch": self.last_batch,
            "tries": self.tries, "accepted": self.accepted,
        }

    @classmethod
    def from_record(cls, record, max_points=10_000):
        """Rebuild a trainer from ``to_record`` output, validating everything (records may come from users)."""
        try:
            t = cls(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 2)), np.zeros(1, dtype=np.int64),
                    max_points=max_points)
            t.update(**record["settings"], W=record["W"], b=record["b"], X=record["X"], y=record["y"])
            history = [float(v) for v in record["history"]]
            step, start = int(record["step"]), int(record["history_start"])
            if not history or not all(map(math.isfinite, history)) or start < 0 or start + len(history) - 1 > step:
                raise InvalidInput("history", "must be a non-empty list of finite losses up to step")
            segments = [[int(a), str(o)] for a, o in record["segments"]]
            if not segments or any(o not in OPTIMIZERS for _, o in segments):
                raise InvalidInput("segments", f"must be [[step, optimizer], …] with optimizers in {list(OPTIMIZERS)}")
            seed = int(record["seed"])
            if not 0 <= seed < 2**63:
                raise InvalidInput("seed", "must be an integer in [0, 2^63)")
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, InvalidInput):
                raise
            raise InvalidInput("record", f"not a session record ({type(e).__name__}: {e})") from None
        t.step, t.history, t.history_start, t.segments, t.seed = step, history, start, segments, seed
        rng_state = record.get("rng_state")
        if rng_state is not None:
            try:
                rng_state = {**rng_state, "state": {k: int(v) for k, v in rng_state["state"].items()}}
                np.random.default_rng().bit_generator.state = rng_state
            except (KeyError, TypeError, ValueError, AttributeError):
                raise InvalidInput("rng_state", "not a PCG64 generator state") from None
        t.rng_state = rng_state
        t.diverged = bool(record.get("diverged", False))
        t.loss_evals, t.tries, t.accepted = (int(record.get(k, 0)) for k in ("loss_evals", "tries", "accepted"))
        t.last_batch = record.get("last_batch")
        return t

    # --- optimization -----------------------------------------------------------------------------
    def run(self, steps, stop=None):
        """Take ``steps`` optimizer steps; returns how many were taken: fewer if diverged, or if ``stop()``,
        asked before each step, said to stop (a deadline, a client gone); the state is consistent either way."""
        problem, step_fn, rng = self.problem(), OPTIMIZERS[self.settings.optimizer], self.rng
        W, b, ev = self.W, self.b, self.evaluation
        new, batch, cost = [], None, 0
        accepted, self.diverged = 0, False
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below, not warned about
            for _ in range(steps):
                if stop is not None and stop():
                    break
                st = step_fn(problem, W, b, ev, rng)
                if not math.isfinite(st.ev.loss):
                    self.diverged = True
                    break
                W, b, ev, batch, cost = st.W, st.b, st.ev, st.batch, st.loss_evals
                accepted += st.accepted
                new.append(ev.loss)
        taken = len(new)
        if self.settings.optimizer == "random_search":
            self.tries, self.accepted = self.tries + taken, self.accepted + accepted
        self.W, self.b, self._ev = W, b, ev
        self.loss_evals, self.last_batch = cost, (batch.tolist() if batch is not None else None)
        self.step += taken
        self.history.extend(new)
        if len(self.history) > MAX_HISTORY:
            drop = len(self.history) - MAX_HISTORY
            del self.history[:drop]
            self.history_start += drop
        self.rng_state = rng.bit_generator.state if self._rng is not None else self.rng_state
        return taken


def spread_params(classes):
    """The original demo's parameters for 3 classes; otherwise unit weights spread evenly around the circle."""
    if classes == 3:
        return default_params()
    a = 2 * np.pi * np.arange(classes) / classes + np.pi / 6
    return np.column_stack([np.cos(a), np.sin(a)]), np.zeros(classes)
