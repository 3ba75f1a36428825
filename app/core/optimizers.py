"""The strategies of the lecture "Basic optimization", one step each.

Every step function has the signature ``step(problem, W, b, ev, rng) -> Step``, where ``problem`` fixes the
data and the objective, ``ev`` is the :class:`~app.core.model.Evaluation` at ``W, b`` (full batch) and
``rng`` is the session's seeded generator. It returns the new parameters, the full-batch evaluation there,
and what the step cost.

* ``gd``: ``W ← W − step_size · ∂L/∂W`` with the analytic full-batch gradient (one evaluation).
* ``sgd``: the same with the gradient of a minibatch of ``batch_size`` points sampled without replacement.
* ``numerical``: the gradient by centered differences ``(L(θ + h e_i) − L(θ − h e_i)) / 2h``, which costs
  two loss evaluations per parameter: the lecture's slow first attempt.
* ``random_search``: draw ``W, b ~ scale · N(0, 1)`` and keep them only if the total loss goes down.
"""

from dataclasses import dataclass

import numpy as np

from app.core.model import evaluate, total_loss


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

    def evaluate(self, W, b, rows=None):
        X, y = (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])
        return evaluate(W, b, X, y, self.reg, self.loss_type, self.reg_gradient)

    def loss(self, W, b):
        return total_loss(W, b, self.X, self.y, self.reg, self.loss_type)


@dataclass(frozen=True)
class Step:
    W: np.ndarray
    b: np.ndarray
    ev: object  # Evaluation at the new W, b
    loss_evals: int  # loss (or loss-and-gradient) evaluations the step cost, the final one included
    batch: np.ndarray | None = None
    accepted: bool = True


def pack(W, b):
    return np.concatenate([W.ravel(), b])


def unpack(theta, classes):
    return theta[: 2 * classes].reshape(classes, 2), theta[2 * classes :]


def numerical_gradient(f, theta, h):
    """Centered differences of the scalar function ``f`` at ``theta`` (restored afterwards)."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
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
    return Step(W, b, problem.evaluate(W, b), 2, batch=np.sort(batch))


def numerical(problem, W, b, ev, rng):
    k = len(b)
    theta = pack(W, b)
    grad = numerical_gradient(lambda t: problem.loss(*unpack(t, k)), theta, problem.h)
    dW, db = unpack(grad, k)
    W, b = W - problem.step_size * dW, b - problem.step_size * db
    return Step(W, b, problem.evaluate(W, b), 2 * theta.size + 1)


def random_search(problem, W, b, ev, rng):
    k = len(b)
    W_try = problem.search_scale * rng.standard_normal((k, 2))
    b_try = problem.search_scale * rng.standard_normal(k)
    ev_try = problem.evaluate(W_try, b_try)
    if ev_try.loss < ev.loss:
        return Step(W_try, b_try, ev_try, 1)
    return Step(W, b, ev, 1, accepted=False)


OPTIMIZERS = {"gd": gd, "sgd": sgd, "numerical": numerical, "random_search": random_search}
