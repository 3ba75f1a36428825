"""The gradient check: analytic gradient against centered differences, parameter by parameter.

``rel_error = |a − n| / max(|a|, |n|, 1e-12)``; below 1e-7 is a pass. On up to ``EXACT_MAX_POINTS`` points
the losses at ``θ ± h`` come from :mod:`app.core.exact` (decimal arithmetic, no rounding noise), so an exactly
zero analytic gradient is confirmed as zero; on more points float64 is used and ``precision`` says so. For a piecewise-linear (hinge) loss a
parameter is flagged as on a *kink* when the hinge pattern differs between ``θ − h`` and ``θ + h``: there the
numerical gradient averages two slopes and disagrees with the one-sided analytic gradient for a good reason.
"""

import numpy as np

from decimal import Decimal

from app.core import exact
from app.core.losses import HINGE_LOSSES, LOSSES
from app.core.model import scores
from app.core.optimizers import numerical_gradient, pack, unpack

PASS, WARN = 1e-7, 1e-4
EXACT_MAX_POINTS = 1000


def param_names(classes):
    return [f"W[{k},{d}]" for k in range(classes) for d in range(2)] + [f"b[{k}]" for k in range(classes)]


def relative_error(a, n):
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)


def kinks(problem, W, b):
    """Which parameters have a hinge kink within ``h`` of their current value."""
    k, theta, h = len(b), pack(W, b), problem.h
    flags = np.zeros(theta.size, dtype=bool)
    if problem.loss_type not in HINGE_LOSSES:
        return flags
    pattern = lambda t: LOSSES[problem.loss_type](scores(*unpack(t, k), problem.X), problem.y)[1]
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        flags[i] = not np.array_equal(pattern(up), pattern(down))
    return flags


def exact_numerical_gradient(problem, theta, classes):
    """Centered differences with the losses in decimal; the step is the exact gap between the floats.

    Where ``θ_i ± h`` rounds back to ``θ_i`` (``|θ_i|`` huge after a divergence), the neighbouring floats
    are used instead, so the gap is never zero.
    """
    f = lambda t: exact.total_loss(*unpack(t, classes), problem.X, problem.y, problem.reg, problem.loss_type)
    grad = np.empty_like(theta)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] = max(theta[i] + problem.h, np.nextafter(theta[i], np.inf))
        down[i] = min(theta[i] - problem.h, np.nextafter(theta[i], -np.inf))
        grad[i] = float((f(up) - f(down)) / (Decimal(up[i]) - Decimal(down[i])))
    return grad


def gradient_check(problem, W, b):
    k, theta = len(b), pack(W, b)
    ev = problem.evaluate(W, b)
    analytic = pack(ev.dW, ev.db)
    if len(problem.y) <= EXACT_MAX_POINTS:
        numeric, precision = exact_numerical_gradient(problem, theta, k), "decimal"
    else:
        numeric = numerical_gradient(lambda t: problem.loss(*unpack(t, k)), theta.copy(), problem.h)
        precision = "float64"
    rel = relative_error(analytic, numeric)
    flags = kinks(problem, W, b)
    params = [
        {"name": name, "analytic": float(a), "numerical": float(n), "rel_error": float(r), "kink": bool(f)}
        for name, a, n, r, f in zip(param_names(k), analytic, numeric, rel, flags)
    ]
    return {"params": params, "max_rel_error": float(rel.max()), "h": problem.h, "precision": precision}
