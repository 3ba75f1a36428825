"""The gradient check: analytic gradient against centered differences, parameter by parameter.

``rel_error = |a − n| / max(|a|, |n|, 1e-12)``; below 1e-7 is a pass. On up to ``EXACT_MAX_POINTS`` points
the losses at ``θ ± h`` come from :mod:`app.core.exact` (decimal arithmetic, no rounding noise), so an exactly
zero analytic gradient is confirmed as zero; on more points float64 is used and ``precision`` says so. For a piecewise-linear (hinge) loss a
parameter is flagged as on a *kink* when the hinge pattern differs between ``θ − h`` and ``θ + h``: there the
numerical gradient averages two slopes and disagrees with the one-sided analytic gradient for a good reason.

Any input dimension D: the decimal losses are the 2-D demo's (:mod:`app.core.exact` is written for D = 2), so
larger inputs are checked in float64. ``indices`` restricts the check to those entries of θ (flattened as
:func:`app.core.optimizers.pack`), as CS231n's ``grad_check_sparse`` samples a few of a large model's parameters.
"""

import numpy as np

from decimal import Decimal

from app.core import exact
from app.core.losses import HINGE_LOSSES, LOSSES
from app.core.model import scores
from app.core.optimizers import numerical_gradient, pack, unpack

PASS, WARN = 1e-7, 1e-4
EXACT_MAX_POINTS = 1000
# x86's 80-bit long double (eps 1e-19); where long double is just float64 (some platforms), say so
EXTENDED = "extended" if np.finfo(np.longdouble).eps < 1e-18 else "float64"


def param_names(classes, dims=2):
    return [f"W[{k},{d}]" for k in range(classes) for d in range(dims)] + [f"b[{k}]" for k in range(classes)]


def relative_error(a, n):
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)


def kinks(problem, W, b, indices=None):
    """Which parameters have a hinge kink within ``h`` of their current value (of those at ``indices``)."""
    k, theta, h = len(b), pack(W, b), problem.h
    flags = np.zeros(theta.size, dtype=bool)
    if problem.loss_type not in HINGE_LOSSES:
        return flags
    pattern = lambda t: LOSSES[problem.loss_type](scores(*unpack(t, k), problem.X), problem.y)[1]
    for i in range(theta.size) if indices is None else indices:
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        flags[i] = not np.array_equal(pattern(up), pattern(down))
    return flags


def exact_numerical_gradient(problem, theta, classes, indices):
    """Centered differences with the losses in decimal; the step is the exact gap between the floats.

    Where ``θ_i ± h`` rounds back to ``θ_i`` (``|θ_i|`` huge after a divergence), the neighbouring floats
    are used instead, so the gap is never zero.
    """
    f = lambda t: exact.total_loss(*unpack(t, classes), problem.X, problem.y, problem.reg, problem.loss_type)
    grad = np.zeros_like(theta)
    for i in indices:
        up, down = theta.copy(), theta.copy()
        up[i] = max(theta[i] + problem.h, np.nextafter(theta[i], np.inf))
        down[i] = min(theta[i] - problem.h, np.nextafter(theta[i], -np.inf))
        grad[i] = float((f(up) - f(down)) / (Decimal(up[i]) - Decimal(down[i])))
    return grad


def extended_numerical_gradient(problem, W, b, indices):
    """Centered differences for images (D > 2), in extended precision and term by term.

    On images many gradients are tiny beside the loss: a pixel that is nearly constant over the images gives
    ~1e-10, and float64 differences of the total loss (~2.3, rounded to ~5e-16, over 2h) get those 1e-5 to
    1e-3 wrong. So the per-example losses are differenced before they are averaged, in long double, and the
    regularization term only in the entry that moved (the others cancel exactly). Moving ``W[k,d]`` by ``±h``
    moves only the scores of class k, by ``±h·X[:, d]`` (``b[k]``: by ``±h``): the scores at ``θ ± h`` are
    computed so, from the scores at ``θ``, rather than by a full product per parameter.
    """
    X, y, h = problem.X.astype(np.longdouble), problem.y, np.longdouble(problem.h)
    s0 = np.ascontiguousarray(scores(W.astype(np.longdouble), b.astype(np.longdouble), X))
    loss_fn, dims = LOSSES[problem.loss_type], W.shape[1]
    grad = np.zeros(W.size + b.size)
    for i in indices:
        k, d = divmod(int(i), dims) if i < W.size else (int(i) - W.size, None)
        shift = h * X[:, d] if d is not None else h
        up, down = s0.copy(), s0.copy()
        up[:, k] += shift
        down[:, k] -= shift
        data = np.sum(loss_fn(up, y)[0] - loss_fn(down, y)[0]) / len(y)
        w = np.longdouble(W.flat[i]) if d is not None else None
        reg = problem.reg * ((w + h) * (w + h) - (w - h) * (w - h)) if d is not None else 0
        grad[i] = (data + reg) / (2 * h)
    return grad


def gradient_check(problem, W, b, indices=None):
    k, theta = len(b), pack(W, b)
    indices = np.arange(theta.size) if indices is None else np.asarray(indices, dtype=np.int64)
    ev = problem.evaluate(W, b)
    analytic = pack(ev.dW, ev.db)[indices]
    if W.shape[1] > 2:
        numeric, precision = extended_numerical_gradient(problem, W, b, indices)[indices], EXTENDED
    elif len(problem.y) <= EXACT_MAX_POINTS:
        numeric, precision = exact_numerical_gradient(problem, theta, k, indices)[indices], "decimal"
    else:
        numeric = numerical_gradient(lambda t: problem.loss(*unpack(t, k)), theta.copy(), problem.h, indices)
        numeric, precision = numeric[indices], "float64"
    rel = relative_error(analytic, numeric)
    flags = kinks(problem, W, b, indices)[indices]
    names = param_names(k, W.shape[1])
    params = [
        {"name": names[i], "analytic": float(a), "numerical": float(n), "rel_error": float(r), "kink": bool(f)}
        for i, a, n, r, f in zip(indices, analytic, numeric, rel, flags)
    ]
    return {"params": params, "max_rel_error": float(rel.max()), "h": problem.h, "precision": precision}
