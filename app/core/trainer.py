"""One user's training state: data, parameters, settings, history; validated edits and optimizer runs.

Pure NumPy and plain Python. Every edit is validated as a whole before anything changes, so a rejected
edit leaves the state exactly as it was (:class:`InvalidInput` names the offending field). A run that would
leave finite numbers (a step size far too large) stops at the last finite state and sets ``diverged``.
"""

import math
import secrets
from dataclasses import dataclass, field, replace

import numpy as np

from app.core import datasets, divergence, heldout, records, run_record
from app.core.model import REG_GRADIENTS, accuracy, default_params, random_params
from app.core.optimizers import OPTIMIZERS, Problem, run_steps
from app.core.settings import SETTING_NAMES, Settings
from app.core.validation import InvalidInput, finite_array, labels

MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_HISTORY = 100_000  # older losses are dropped beyond this; ``history_start`` says where the list begins


def new_seed():
    """A random seed below 2^53: exact as a JavaScript number, so that a page's link can send a preset's seed
    back and have the same points drawn again."""
    return secrets.randbits(53)


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
    test_set: heldout.HeldOut | None = None  # the test set, never trained on
    changes: list = field(default_factory=list)  # [{"step", "what", "value"}, …] (app.core.changes)
    watch: divergence.Watch = field(default_factory=divergence.Watch)
    preset: dict | None = None  # how the data were drawn (run_record.preset); None once edited by hand
    revision: int = 0  # changes saved so far: the session store adds one per change (the API's ETag)
    _ev: object = field(default=None, repr=False, compare=False)
    _problem: object = field(default=None, repr=False, compare=False)  # of the current data and settings
    _rng: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.X = _column_major(self.X)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def create(cls, max_points=10_000, seed=None, **changes):
        """The original demo's state, with any settings, parameters or data changed as given."""
        W, b = default_params()
        X, y = datasets.original()
        seed = new_seed() if seed is None else seed
        t = cls(W, b, X, y, seed=seed, max_points=max_points, preset=run_record.preset("original"))
        t.update(**changes)
        t._restart()
        return t

    def _restart(self):
        self.step, self.history_start, self.diverged = 0, 0, False
        self.tries = self.accepted = self.loss_evals = 0
        self.last_batch = None
        self.history = [self.evaluation.loss]
        self.segments = [[0, self.settings.optimizer]]
        self.changes = []
        self.watch.restart()
        if self.test_set is not None:
            self.test_set.history = [self.test_evaluation[0]]

    # --- derived ----------------------------------------------------------------------------------
    @property
    def classes(self):
        return len(self.b)

    @property
    def rng(self):
        if self._rng is None:
            self._rng = records.generator(self.seed, self.rng_state)
        return self._rng

    def problem(self):
        """The data and the objective (immutable: the lab's worker threads may hold it while the session moves
        on); made again only after an edit or a reset."""
        if self._problem is None:
            s = self.settings
            self._problem = Problem(self.X, self.y, s.reg, s.loss_type, s.reg_gradient, s.step_size,
                                    s.batch_size, s.h, s.search_scale)
        return self._problem

    @property
    def evaluation(self):
        if self._ev is None:
            self._ev = self.problem().evaluate(self.W, self.b)
        return self._ev

    @property
    def accuracy(self):
        return accuracy(self.evaluation.scores, self.y)

    @property
    def test_evaluation(self):
        """``(test loss, test accuracy)`` at the current parameters, or ``(None, None)`` without a test set."""
        if self.test_set is None:
            return None, None
        return self.test_set.evaluate(self.W, self.b, self.settings.loss_type)

    @property
    def reg_factor(self):
        return divergence.reg_factor(self.settings, REG_GRADIENTS)

    # --- edits ------------------------------------------------------------------------------------
    def update(self, **changes):
        """Change any settings and any of ``W, b, X, y``; all-or-nothing; never resets the history."""
        unknown = set(changes) - set(SETTING_NAMES) - {"W", "b", "X", "y", "X_test", "y_test"}
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
        held = heldout.after_edit(self.test_set, changes, len(W), X, self.max_points - len(X), len(self.history))
        if settings.optimizer != self.settings.optimizer:
            self._mark_segment(settings.optimizer)
        run_record.mark_edits(self, settings, W, b, X, y, held)
        self.W, self.b, self.X, self.y, self.settings = W, b, _column_major(X), y, settings
        self.test_set = held
        if "X" in changes or "y" in changes:
            self.last_batch = None  # it indexed the old points
        self.diverged = False
        self.watch.restart()
        self._ev = self._problem = None

    def _mark_segment(self, optimizer):
        if self.segments and self.segments[-1][0] == self.step:
            self.segments[-1][1] = optimizer
        else:
            self.segments.append([self.step, optimizer])

    def reset(self, params="default", seed=None, data=None, n=None, classes=None, test_fraction=0.0, noise=None):
        """Parameters back to the defaults (or random), optionally new data (a preset drawn from ``seed``, with
        ``test_fraction`` of it held out and its spread ``noise``); history cleared. All-or-nothing."""
        seed = new_seed() if seed is None else seed
        rng = np.random.default_rng(seed)
        run_record.check_preset_options(data, test_fraction, noise)
        held, preset = self.test_set, self.preset
        if data == "original":
            X, y = datasets.original()
            held, preset = None, run_record.preset("original")
        elif data is not None:
            X, y = datasets.make(data, rng, n or 20, classes or self.classes, noise)
            X, y, X_test, y_test = heldout.split(rng, X, y, test_fraction)
            held = None if X_test is None else heldout.HeldOut(np.asfortranarray(X_test), y_test)
            preset = run_record.preset(data, seed, n or 20, classes or self.classes, noise, test_fraction)
        else:
            X, y = self.X, self.y
        classes = 3 if data == "original" else classes or self.classes
        low = max(int(y.max()) + 1, MIN_CLASSES, 0 if held is None else int(held.y.max()) + 1)
        if not low <= classes <= MAX_CLASSES:
            raise InvalidInput("classes", f"must be between {low} and {MAX_CLASSES} for this data")
        if len(X) + (0 if held is None else len(held.y)) > self.max_points:
            raise InvalidInput("n", f"at most {self.max_points} points in all")
        W, b = random_params(rng, classes) if params == "random" else spread_params(classes)
        self.W, self.b, self.X, self.y, self._ev, self._problem = W, b, _column_major(X), y, None, None
        self.test_set, self.preset = held, preset
        self.seed, self._rng, self.rng_state = seed, rng, None
        self._restart()

    def restore_defaults(self, seed=None):
        """Everything of the original demo: its nine points, the default settings and parameters; history
        cleared (Reset keeps the data and the settings)."""
        self.settings = Settings()  # reset() makes the problem again
        self.reset(seed=seed, data="original")

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
            "tries": self.tries, "accepted": self.accepted, **run_record.to_record(self),
        }

    @classmethod
    def from_record(cls, record, max_points=10_000):
        """Rebuild a trainer from ``to_record`` output, validating everything (records may come from users)."""
        try:
            t = cls(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 2)), np.zeros(1, dtype=np.int64),
                    max_points=max_points)
            t.update(**record["settings"], W=record["W"], b=record["b"], X=record["X"], y=record["y"])
            step = records.count("step", record["step"])
            start = records.count("history_start", record["history_start"])
            history = records.history(record["history"], start, step, MAX_HISTORY)
            segments = records.segments(record["segments"], OPTIMIZERS, start, step, MAX_HISTORY)
            seed = records.count("seed", record["seed"])
            rng_state = records.rng_state(record.get("rng_state"))
            counts = {k: records.count(k, record.get(k, 0)) for k in ("loss_evals", "tries", "accepted")}
            last_batch = records.last_batch(record.get("last_batch"), len(t.y))
            if not isinstance(diverged := record.get("diverged", False), bool):
                raise InvalidInput("diverged", "must be true or false")
        except (KeyError, TypeError) as e:
            raise InvalidInput(e.args[0] if isinstance(e, KeyError) else "record", "missing or of the wrong type") \
                from None
        if counts["accepted"] > counts["tries"]:
            raise InvalidInput("accepted", "must be at most tries")
        t.step, t.history, t.history_start, t.segments, t.seed = step, history, start, segments, seed
        t.rng_state, t.diverged, t.last_batch = rng_state, diverged, last_batch
        t.loss_evals, t.tries, t.accepted = counts["loss_evals"], counts["tries"], counts["accepted"]
        run_record.restore(t, record)
        return t

    # --- optimization -----------------------------------------------------------------------------
    def run(self, steps, stop=None):
        """Take ``steps`` optimizer steps; returns how many were taken: fewer if diverged, or if ``stop()``,
        asked before each step, said to stop (a deadline, a client gone); the state is consistent either way."""
        watch, held, loss_type, current = self.watch, self.test_set, self.settings.loss_type, self.evaluation
        flips_count = divergence.rule_holds(self.reg_factor)  # W's reversals say something only under the rule
        watch.begin(current.loss)

        def on_step(W, ev, st):
            watch.observe(ev.loss, st.ev.loss, flips_count and float(np.vdot(st.W, W)) < 0)
            if held is not None:
                held.history.append(held.evaluate(st.W, st.b, loss_type)[0])

        r = run_steps(self.problem(), self.settings.optimizer, self.W, self.b, current, self.rng, steps, stop=stop,
                      on_step=on_step)
        new, taken, self.diverged = r.losses, len(r.losses), r.diverged
        if r.diverged:
            watch.diverging = True
        if self.settings.optimizer == "random_search":
            self.tries, self.accepted = self.tries + taken, self.accepted + r.accepted
        self.W, self.b, self._ev = r.W, r.b, r.ev
        self.loss_evals, self.last_batch = r.loss_evals, (r.batch.tolist() if r.batch is not None else None)
        self.step += taken
        self.history.extend(new)
        if len(self.history) > MAX_HISTORY:
            drop = len(self.history) - MAX_HISTORY
            del self.history[:drop]
            self.history_start += drop
            if held is not None:
                del held.history[:drop]
            while len(self.segments) > 1 and self.segments[1][0] <= self.history_start:
                del self.segments[0]  # it describes only dropped steps
        return taken  # the generator's state is read when a record is made (to_record)


def spread_params(classes):
    """The original demo's parameters for 3 classes; otherwise unit weights spread evenly around the circle."""
    if classes == 3:
        return default_params()
    a = 2 * np.pi * np.arange(classes) / classes + np.pi / 6
    return np.column_stack([np.cos(a), np.sin(a)]), np.zeros(classes)
