"""One image experiment: a linear classifier on a real dataset, trained by the 2-D demo's optimizers.

An experiment holds only its parameters (``W`` K×D, ``b``), settings, loss and accuracy history and generator
state; the images belong to the dataset (:mod:`app.core.images`), shared by every experiment and passed in
to each method that needs them. So an experiment is as small as a 2-D session and fits the same stores.

* ``history[i]`` is the loss reported by step ``history_start + i`` (step 0: the initial full-batch loss).
  Minibatch SGD reports its minibatch's loss, the others the full training loss (see
  :mod:`app.core.optimizers`).
* ``accuracy`` holds ``[step, train, val]`` after each request that stepped: accuracy on a fixed sample of
  1,000 training images (as the assignment's ``check_accuracy``) and on the validation split. It is thinned
  to every other point when it grows past ``MAX_ACCURACY_POINTS``, so it spans the whole run.
* A numerical-gradient step costs ``2·P + 1`` loss evaluations, ``P = K·(D + 1)``: 1,301 on digits, 61,461 on
  CIFAR-10, where one step would take hours; it is refused where a step exceeds ``NUMERICAL_MAX_WORK``.
"""

import math
import secrets
import time
from dataclasses import dataclass, field, replace

import numpy as np

from app.core import gradcheck, records
from app.core.images import SPECS
from app.core.optimizers import Problem, run_steps
from app.core.settings import SETTING_NAMES, Settings
from app.core.validation import InvalidInput

# Per dataset. With these, gd and sgd reach 96 % test accuracy on digits within 1,000 steps. h = 1e-5 as the
# assignment's grad_check_sparse: the truncation error of centered differences (h²/6 times the third
# derivative) and the rounding (see app.core.gradcheck) both stay below 1e-6 of a trained model's gradients.
DEFAULTS = {
    "digits": dict(loss_type="svm_ww", optimizer="gd", step_size=0.3, reg=0.001, batch_size=200,
                   search_scale=1e-4, h=1e-5),
    # the assignment's learning rate 1e-7 and λ = 2.5e4 on 0–255 pixels, in [0, 1] units (see images.py)
    "cifar10": dict(loss_type="svm_ww", optimizer="sgd", step_size=0.0065, reg=0.38, batch_size=200,
                    search_scale=1e-4, h=1e-5),
}
INIT_SCALE = 1e-4  # W ~ INIT_SCALE · N(0, 1), b = 0: the size of one of random search's draws
MAX_HISTORY = 20_000  # losses kept (older ones dropped): with the accuracy points, under 1 MB an experiment
MAX_ACCURACY_POINTS = 1_000
MAX_MISTAKES = 24
NUMERICAL_MAX_WORK = 2e10  # multiply-adds of one numerical-gradient step (about ten seconds here)


def default_settings(dataset, **changes):
    return replace(Settings(), **{**DEFAULTS[dataset], **changes})


def numerical_work(data):
    """Multiply-adds of one numerical-gradient step: 2·P + 1 loss evaluations over the training set."""
    k, d = len(data.spec.classes), data.spec.dims
    return (2 * k * (d + 1) + 1) * len(data.train.y) * k * d


@dataclass
class Experiment:
    dataset: str
    W: np.ndarray
    b: np.ndarray
    settings: Settings
    seed: int
    step: int = 0
    history: list = field(default_factory=list)
    history_start: int = 0
    accuracy: list = field(default_factory=list)  # [[step, train accuracy, validation accuracy], …]
    segments: list = field(default_factory=list)  # [[first step, optimizer], …]
    rng_state: dict | None = None
    diverged: bool = False
    loss_evals: int = 0  # what the last step cost
    seconds: float = 0.0  # compute time of the last request that changed the parameters
    taken: int = 0  # steps taken by the last step request (fewer than asked when its time ran out)
    tries: int = 0
    accepted: int = 0
    revision: int = 0  # changes saved so far (the store counts them; kept beside the record, not in it)
    _rng: object = field(default=None, repr=False, compare=False)

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def create(cls, data, seed=None, **changes):
        """A new experiment on ``data`` with the dataset's default settings, changed as given."""
        settings = _checked(data, default_settings(data.name), changes)
        e = cls(data.name, np.zeros((0, 0)), np.zeros(0), settings, 0)
        e.reset(data, seed)
        return e

    def reset(self, data, seed=None):
        """Fresh parameters from ``seed`` (random if None), history cleared; the settings stay."""
        t0 = time.perf_counter()
        self.seed = secrets.randbits(63) if seed is None else seed
        self._rng, self.rng_state = np.random.default_rng(self.seed), None
        k, d = len(data.spec.classes), data.spec.dims
        self.W, self.b = INIT_SCALE * self._rng.standard_normal((k, d)), np.zeros(k)
        self.step, self.history_start, self.diverged = 0, 0, False
        self.loss_evals = self.taken = self.tries = self.accepted = 0
        self.history = [self.problem(data).evaluate(self.W, self.b).loss]
        self.segments = [[0, self.settings.optimizer]]
        self.accuracy = []
        self._measure(data)
        self.rng_state = self._rng.bit_generator.state
        self.seconds = time.perf_counter() - t0

    # --- derived ----------------------------------------------------------------------------------------------
    @property
    def classes(self):
        return len(self.b)

    @property
    def rng(self):
        if self._rng is None:
            self._rng = records.generator(self.seed, self.rng_state)
        return self._rng

    def problem(self, data, split="train"):
        s, part = self.settings, (data.dev if split == "dev" else data.split(split))
        # float64 for the numerical gradient: in float32 the loss's rounding (~1e-7) over 2h swamps it
        X = part.X.astype(np.float64) if s.optimizer == "numerical" and split == "train" else part.X
        return Problem(X, part.y, s.reg, s.loss_type, s.reg_gradient, s.step_size, s.batch_size, s.h,
                       s.search_scale, full_loss=False)

    def predict(self, X):
        s = X @ self.W.T.astype(X.dtype)
        s += self.b.astype(X.dtype)
        return s.argmax(axis=1)

    # --- edits --------------------------------------------------------------------------------------------------
    def update(self, data, **changes):
        """Change any settings; all-or-nothing; parameters and history stay."""
        settings = _checked(data, self.settings, changes)
        if settings.optimizer != self.settings.optimizer:
            if self.segments and self.segments[-1][0] == self.step:
                self.segments[-1][1] = settings.optimizer
            else:
                self.segments.append([self.step, settings.optimizer])
        self.settings, self.diverged = settings, False

    # --- optimization ---------------------------------------------------------------------------------------
    def run(self, data, steps, budget=None, clock=time.perf_counter, stop=None, abort=None):
        """Up to ``steps`` steps, stopping after ``budget`` seconds (at least one), or when ``stop()``, asked before
        each step, says so; ``abort()`` may also drop a numerical step midway (see
        :func:`~app.core.optimizers.run_steps`). Returns how many were taken; the experiment is consistent."""
        t0 = clock()
        problem, optimizer = self.problem(data), self.settings.optimizer
        ev = None if optimizer == "sgd" else problem.evaluate(self.W, self.b)  # sgd needs no full pass
        deadline = None if budget is None else t0 + budget
        r = run_steps(problem, optimizer, self.W, self.b, ev, self.rng, steps, deadline, clock, stop=stop,
                      abort=abort)
        taken = self.taken = len(r.losses)
        self.W, self.b, self.diverged, self.loss_evals = r.W, r.b, r.diverged, r.loss_evals
        if optimizer == "random_search":
            self.tries, self.accepted = self.tries + taken, self.accepted + r.accepted
        self.step += taken
        self.history.extend(r.losses)
        if len(self.history) > MAX_HISTORY:
            drop = len(self.history) - MAX_HISTORY
            del self.history[:drop]
            self.history_start += drop
        if taken:
            self._measure(data)
        self.rng_state = self.rng.bit_generator.state
        self.seconds = clock() - t0
        return taken

    def _measure(self, data):
        train = np.mean(self.predict(data.train.X[data.sample]) == data.train.y[data.sample])
        val = np.mean(self.predict(data.val.X) == data.val.y)
        self.accuracy.append([self.step, float(train), float(val)])
        if len(self.accuracy) > MAX_ACCURACY_POINTS:
            self.accuracy = self.accuracy[-1::-2][::-1]  # every other point, the latest kept

    # --- views -------------------------------------------------------------------------------------------------
    def evaluate(self, data, split):
        """Accuracy, confusion matrix (rows: true class) and the first mistakes on a split."""
        part, k = data.split(split), self.classes
        predicted = self.predict(part.X)
        confusion = np.bincount(part.y * k + predicted, minlength=k * k).reshape(k, k)
        wrong = np.flatnonzero(predicted != part.y)
        mistakes = [{"index": int(i), "label": int(part.y[i]), "predicted": int(predicted[i])}
                    for i in wrong[:MAX_MISTAKES]]
        return {"split": split, "accuracy": float(np.mean(predicted == part.y)), "confusion": confusion,
                "mistakes": mistakes, "mistake_count": int(len(wrong)), "n": int(len(part.y))}

    def templates(self):
        """Each class's weights as an image, all scaled together to 0–255 (as the CS231n notes draw them)."""
        lo, hi = float(self.W.min()), float(self.W.max())
        scaled = (self.W - lo) * (255.0 / (hi - lo)) if hi > lo else np.full(self.W.shape, 127.5)
        return np.rint(scaled).astype(np.uint8).reshape(self.classes, *SPECS[self.dataset].shape)

    def gradient_check(self, data, count, seed, stop=None):
        """The analytic gradient against centered differences at ``count`` random parameters, on the training
        dev sample in float64 (as the assignment's ``grad_check_sparse`` on ``X_dev``); ``stop()`` as
        :func:`app.core.gradcheck.gradient_check`'s."""
        p = self.W.size + self.b.size
        indices = np.sort(np.random.default_rng(seed).choice(p, size=min(count, p), replace=False))
        return gradcheck.gradient_check(self.problem(data, "dev"), self.W, self.b, indices, stop)

    # --- records (the shared stores) ---------------------------------------------------------------------------
    def to_record(self):
        """Everything that defines this experiment as plain values; ``from_record`` inverts it."""
        rng_state = self.rng.bit_generator.state if self._rng is not None else self.rng_state
        if rng_state is not None:  # PCG64's 128-bit integers, as text: JSON libraries stop at 64 bits
            rng_state = {**rng_state, "state": {k: str(v) for k, v in rng_state["state"].items()}}
        return {
            "dataset": self.dataset, "settings": {name: getattr(self.settings, name) for name in SETTING_NAMES},
            "W": self.W, "b": self.b, "seed": self.seed, "step": self.step, "history": list(self.history),
            "history_start": self.history_start, "accuracy": [list(a) for a in self.accuracy],
            "segments": [list(s) for s in self.segments], "rng_state": rng_state, "diverged": self.diverged,
            "loss_evals": self.loss_evals, "seconds": self.seconds, "taken": self.taken, "tries": self.tries,
            "accepted": self.accepted,
        }

    @classmethod
    def from_record(cls, record):
        """Rebuild an experiment from ``to_record`` output (as stored by this server: shapes are checked, the
        numbers trusted)."""
        try:
            spec = SPECS[record["dataset"]]
            settings = Settings(**record["settings"])
            settings.check()
            W, b = np.asarray(record["W"], dtype=np.float64), np.asarray(record["b"], dtype=np.float64)
            if W.shape != (len(spec.classes), spec.dims) or b.shape != (len(spec.classes),):
                raise InvalidInput("W", f"must be {len(spec.classes)}×{spec.dims} for {record['dataset']}")
            rng_state = record.get("rng_state")
            if rng_state is not None:
                rng_state = {**rng_state, "state": {k: int(v) for k, v in rng_state["state"].items()}}
            e = cls(record["dataset"], W, b, settings, int(record["seed"]), int(record["step"]),
                    [float(v) for v in record["history"]], int(record["history_start"]),
                    [[int(s), float(t), float(v)] for s, t, v in record["accuracy"]],
                    [[int(s), str(o)] for s, o in record["segments"]], rng_state, bool(record["diverged"]),
                    int(record["loss_evals"]), float(record["seconds"]), int(record["taken"]),
                    int(record["tries"]), int(record["accepted"]))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput("record", f"not an experiment record ({type(exc).__name__}: {exc})") from None
        if not e.history or not all(map(math.isfinite, e.history)):
            raise InvalidInput("history", "must be a non-empty list of finite losses")
        return e


def _checked(data, settings, changes):
    """``settings`` with ``changes``, or :class:`InvalidInput` naming the first bad one."""
    unknown = set(changes) - set(SETTING_NAMES)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown field")
    # x + 0.0 turns a −0.0 (valid JSON) into 0.0, which is what the user means by it
    new = replace(settings, **{k: (v + 0.0 if type(v) is float else v) for k, v in changes.items()})
    new.check()
    if new.optimizer == "numerical" and numerical_work(data) > NUMERICAL_MAX_WORK:
        k, d = len(data.spec.classes), data.spec.dims
        raise InvalidInput("optimizer", f"one numerical-gradient step on {data.name} takes 2·P + 1 = "
                           f"{2 * k * (d + 1) + 1:,} loss evaluations over {len(data.train.y):,} images "
                           f"({numerical_work(data):.1e} multiply-adds, too slow for a shared server): the "
                           "lecture's point; use gd or sgd")
    return new
