"""The strategies of the lecture "Basic optimization", one step each.

Every step function has the signature ``step(problem, W, b, ev, rng) -> Step``, where ``problem`` fixes the
data and the objective, ``ev`` is the :class:`~app.core.model.Evaluation` at ``W, b`` (full batch) and
``rng`` is the session's seeded generator. It returns the new parameters, the full-batch evaluation there,
and what the step cost.

* ``gd``: ``W ← W − step_size · ∂L/∂W`` with the analytic full-batch gradient (one evaluation).
* ``sgd``: the same with the gradient of a minibatch of ``batch_size`` points sampled without replacement.
  The loss it reports is the full-batch loss after the step (the 2-D demo, whose data are small), or with
  ``Problem.full_loss`` off the minibatch's loss before it, as CS231n's training loop records: a full pass over
  CIFAR-10's 49,000 images would cost a hundred minibatch steps.
* ``numerical``: the gradient by centered differences ``(L(θ + h e_i) − L(θ − h e_i)) / 2h``, which costs
  two loss evaluations per parameter: the lecture's slow first attempt.
* ``random_search``: draw ``W, b ~ scale · N(0, 1)`` and keep them only if the total loss goes down.

Every step works for any input dimension D (``W`` is K×D). :func:`run_steps` repeats one of them.
"""

import math
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from app.core.chunks import Stopped, checkpoint
from app.core.model import evaluate, total_loss

ABORT_EVERY = 16  # parameters of a numerical gradient between two questions to ``abort()``


@dataclass(frozen=True)
class Problem:
    """The data and the objective a step minimizes; ``step_size`` etc. are the optimizer's settings."""

    X: np.ndarray
    y: np.ndarray
    reg: float
    loss_type: str
    reg_gradient: str
    step_size: float
    batch_size: int
    h: float
    search_scale: float
    full_loss: bool = True  # sgd reports the full-batch loss after its step (else the minibatch's, before it)

    def evaluate(self, W, b, rows=None):
        X, y = (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])
        return evaluate(W, b, X, y, self.reg, self.loss_type, self.reg_gradient)

    def loss(self, W, b):
        return total_loss(W, b, self.X, self.y, self.reg, self.loss_type)


@dataclass(slots=True)  # not frozen: see app.core.model.Evaluation
class Step:
    W: np.ndarray
    b: np.ndarray
    ev: object  # Evaluation at the new W, b
    loss_evals: int  # loss (or loss-and-gradient) evaluations the step cost, the final one included
    batch: np.ndarray | None = None
    accepted: bool = True


def pack(W, b):
    """``θ = (W[0,0], …, W[0,D−1], W[1,0], …, W[K−1,D−1], b[0], …, b[K−1])``: P = K·(D + 1) entries."""
    return np.concatenate([W.ravel(), b])


def unpack(theta, classes):
    dims = theta.size // classes - 1
    return theta[: dims * classes].reshape(classes, dims), theta[dims * classes :]


def numerical_gradient(f, theta, h, indices=None, abort=None):
    """Centered differences of the scalar function ``f`` at ``theta`` (restored afterwards), for every entry or
    only those at ``indices`` (the others are left 0). ``abort()``, if given, is asked every ``ABORT_EVERY``
    entries: true ends it with :class:`~app.core.chunks.Stopped` (``theta`` restored)."""
    grad = np.empty_like(theta) if indices is None else np.zeros_like(theta)
    for n, i in enumerate(range(theta.size) if indices is None else indices):
        if n % ABORT_EVERY == 0:
            checkpoint(abort)
        old = theta[i]
        theta[i] = old + h
        up = f(theta)
        theta[i] = old - h
        down = f(theta)
        theta[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def gd(problem, W, b, ev, rng):
    W, b = W - problem.step_size * ev.dW, b - problem.step_size * ev.db
    return Step(W, b, problem.evaluate(W, b), 1)


def sgd(problem, W, b, ev, rng):
    n = len(problem.y)
    batch = rng.choice(n, size=min(problem.batch_size, n), replace=False)
    g = problem.evaluate(W, b, batch)
    W, b = W - problem.step_size * g.dW, b - problem.step_size * g.db
    if not problem.full_loss:
        return Step(W, b, g, 1, batch=np.sort(batch))
    return Step(W, b, problem.evaluate(W, b), 2, batch=np.sort(batch))


def numerical(problem, W, b, ev, rng, abort=None):
    k = len(b)
    theta = pack(W, b)
    grad = numerical_gradient(lambda t: problem.loss(*unpack(t, k)), theta, problem.h, abort=abort)
    dW, db = unpack(grad, k)
    W, b = W - problem.step_size * dW, b - problem.step_size * db
    return Step(W, b, problem.evaluate(W, b), 2 * theta.size + 1)


def random_search(problem, W, b, ev, rng):
    k = len(b)
    W_try = problem.search_scale * rng.standard_normal(W.shape)
    b_try = problem.search_scale * rng.standard_normal(k)
    ev_try = problem.evaluate(W_try, b_try)
    if ev_try.loss < ev.loss:
        return Step(W_try, b_try, ev_try, 1)
    return Step(W, b, ev, 1, accepted=False)


OPTIMIZERS = {"gd": gd, "sgd": sgd, "numerical": numerical, "random_search": random_search}


@dataclass(slots=True)  # not frozen: see app.core.model.Evaluation
class Run:
    """Where :func:`run_steps` ended and what it saw on the way."""

    W: np.ndarray
    b: np.ndarray
    ev: object  # the last step's evaluation (the start's if no step was taken)
    losses: list  # the loss each step reported
    batch: np.ndarray | None  # the last step's minibatch
    loss_evals: int  # what the last step cost
    accepted: int  # random search: draws kept
    diverged: bool  # stopped because a step would leave finite numbers


def run_steps(problem, optimizer, W, b, ev, rng, steps, deadline=None, clock=time.perf_counter, stop=None,
              on_step=None, abort=None):
    """Up to ``steps`` steps of ``optimizer`` from ``W, b`` (``ev`` their evaluation; sgd without ``full_loss``
    needs none). Stops early at the last finite state if a step diverges, once ``clock()`` passes ``deadline``
    (after at least one step), or when ``stop()``, asked before each step, says so (a budget spent, a client
    gone). ``abort()`` is also asked within a numerical-gradient step (seconds long on images): true drops that
    step, untaken (a client gone). Each step taken is shown to ``on_step(W, ev, st)`` with the parameters it
    started from."""
    step_fn, losses, batch, cost, accepted, diverged = OPTIMIZERS[optimizer], [], None, 0, 0, False
    if optimizer == "numerical" and abort is not None:
        step_fn = partial(numerical, abort=abort)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below, not warned about
        for _ in range(steps):
            if stop is not None and stop():
                break
            try:
                st = step_fn(problem, W, b, ev, rng)
            except Stopped:
                break
            if not math.isfinite(st.ev.loss) or not (problem.full_loss or _finite(st.W, st.b)):
                diverged = True
                break
            if on_step is not None:
                on_step(W, ev, st)
            W, b, ev, batch, cost = st.W, st.b, st.ev, st.batch, st.loss_evals
            accepted += st.accepted
            losses.append(ev.loss)
            if deadline is not None and clock() >= deadline:
                break
    return Run(W, b, ev, losses, batch, cost, accepted, diverged)


def _finite(W, b):
    """A minibatch's loss is taken before its step, so the step's result is checked apart (the full loss after
    a step is finite only if the parameters are)."""
    return bool(np.isfinite(W).all() and np.isfinite(b).all())
