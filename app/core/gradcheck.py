"""The gradient check: analytic gradient against centered differences, parameter by parameter, in float64.

``numerical_p = (L(θ + h e_p) − L(θ − h e_p)) / 2h`` and ``rel_error = |a − n| / max(|a|, |n|, 1e-12)``;
below 1e-7 is a pass. θ is ``W.ravel()`` then ``b``, for a ``W`` of any shape K×D; ``indices`` checks only
those entries of θ (as CS231n's ``grad_check_sparse`` does on images).

Differencing two totals in float64 leaves noise of about 1e-16 · L / h, enough to make an exactly zero
analytic gradient (common with hinges: the default state has ∂L/∂b[2] = 0) look 100 % wrong. So the
difference is taken term by term, and exactly where it can be. Moving ``W[k,d]`` (or ``b[k]``) by ±h moves only
class k's scores, ``s_ik`` by ±δ_i with ``δ_i = h·x_id`` (or h): the terms of ``L_i`` without ``s_k`` cancel
exactly and are never computed.

* Hinges. Every term with ``s_k`` in a hinge loss has the form ``max(f, a + c·δ)``, c = ±1, with ``f`` what
  the rest of its max gives (0 for a plain hinge; the other rivals' margin in the structured SVM). Above ``f``
  on both sides it changes by exactly 2cδ, below on both by exactly 0; only a term that crosses ``f`` between
  the two sides (a *kink*, flagged) has its difference computed from the two values. The 2cδ are summed in
  units of 2h, so for a bias the sum is an integer: exactly 0 when the analytic gradient is.
* Softmax: ``L_i = log Σ_j e^{s_j} − s_y``; moving ``s_k`` by δ adds ``log1p(p_k · expm1(δ))`` (p the softmax
  probabilities), accurate however small δ is, and subtracts δ if y = k.
* Regularization: ``λ((w + h)² − (w − h)²) = λ · 2h · 2w``, exactly.

All of it with the step exactly h, however large ``|θ|`` is. At a kink the centered difference averages two
slopes and disagrees with the one-sided analytic gradient for a good reason; the flag says so. Examples and
parameters are taken in chunks (:mod:`app.core.chunks`), so memory stays bounded at any size.
"""

import numpy as np

from app.core.chunks import CHUNK_ELEMENTS, checkpoint, spans
from app.core.model import scores
from app.core.validation import InvalidInput

PASS, WARN = 1e-7, 1e-4


def param_name(i, classes, dims):
    return f"W[{i // dims},{i % dims}]" if i < classes * dims else f"b[{i - classes * dims}]"


def param_names(classes, dims=2):
    return [param_name(i, classes, dims) for i in range(classes * dims + classes)]


def relative_error(a, n):
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)


def _hinge_terms(loss_type, s, y, k):
    """The terms of the examples' losses that contain ``s_k``, as ``max(f, a + c·Δs_k)``: ``(rows, a, c, f)``."""
    n, classes = s.shape
    rows, sk, own = np.arange(n), s[:, k], y == k
    if loss_type == "svm_ww":  # y ≠ k: max(0, s_k − s_y + 1); y = k: max(0, s_j − s_k + 1) for every j ≠ k
        theirs, mine = rows[~own], rows[own]
        others = np.delete(np.arange(classes), k)
        a = np.concatenate([sk[theirs] - s[theirs, y[theirs]] + 1.0,
                            (s[np.ix_(mine, others)] - sk[mine, None] + 1.0).ravel()])
        c = np.concatenate([np.ones(len(theirs)), -np.ones(len(mine) * len(others))])
        return np.concatenate([theirs, np.repeat(mine, len(others))]), a, c, 0.0
    if loss_type == "svm_ova":  # max(0, 1 − t_k s_k)
        t = np.where(own, 1.0, -1.0)
        return rows, 1.0 - t * sk, -t, 0.0
    # svm_structured: max(0, max_{j≠y} s_j − s_y + 1). y = k: a hinge on r − s_k + 1, r the best rival;
    # y ≠ k: max(f, s_k − s_y + 1) with f = max(0, r' − s_y + 1), r' the best rival other than k (−∞ if none)
    rivals = s.copy()
    rivals[rows, y] = -np.inf
    rivals[:, k] = -np.inf
    best, sy = rivals.max(axis=1), s[rows, y]
    a = np.where(own, best - sk + 1.0, sk - sy + 1.0)
    f = np.where(own, 0.0, np.maximum(best - sy + 1.0, 0.0))
    return rows, a, np.where(own, -1.0, 1.0), f


def _softmax_shift(p, d):
    """``log Σ_j e^{s_j + d·[j=k]} − log Σ_j e^{s_j}`` for ``p = softmax(s)_k``, in a form that cannot overflow."""
    with np.errstate(divide="ignore"):
        return np.logaddexp(np.log1p(-p), np.log(p) + d)


def _softmax_differences(p, yc, E, k_of, d_of, h):
    """Σ_i of ``L_i(s_k + δ_i) − L_i(s_k − δ_i)`` for each parameter (class ``k_of``, column ``d_of`` of E).

    Computed on transposes (one contiguous row per parameter): ``p`` and ``E`` are stored column-major."""
    hx = h * E.T
    pk = p.T[k_of]
    own = k_of[:, None] == yc[None, :]
    if np.abs(hx).max() > 1.0:  # steps too large for the accurate form below (h·|x| > 1)
        step = hx[d_of]
        return (_softmax_shift(pk, step) - _softmax_shift(pk, -step) - np.where(own, 2 * step, 0.0)).sum(axis=1)
    # log(1 + p(e^δ − 1)) − log(1 + p(e^{−δ} − 1)) = log1p(p(e^δ − e^{−δ}) / (1 + p(e^{−δ} − 1))): one log1p,
    # and the δ-only parts once per column of E rather than once per parameter
    back = np.expm1(-hx)
    spread = np.expm1(hx) - back
    d = np.log1p(pk * spread[d_of] / (1.0 + pk * back[d_of]))
    d -= own * (2 * hx[d_of])
    return d.sum(axis=1)


def _hinge_differences(loss_type, s, yc, E, reach, k, cols, d_of, h):
    """For class k's parameters ``cols``: Σ over steady terms of c·x, Σ of the crossing terms' differences,
    and which parameters have a crossing term. ``E`` is the chunk's ``[X | 1]``, ``reach`` 2h·max|E| by row."""
    rows, a, c, f = _hinge_terms(loss_type, s, yc, k)
    near = np.abs(a - f) <= reach[rows]  # only these can cross f within ±h·x (a factor 2 to spare for rounding)
    above = a > f
    weight = np.bincount(rows, weights=c * (above & ~near), minlength=len(E))
    steady = weight @ E[:, d_of[cols]]
    moved, kink = np.zeros(len(cols)), np.zeros(len(cols), dtype=bool)
    if near.any():  # the few terms within reach of their kink: both sides, exactly
        rows, a, c = rows[near], a[near, None], c[near, None]
        f = f if np.isscalar(f) else f[near, None]
        cx = c * E[np.ix_(rows, d_of[cols])]
        up, down = a + h * cx, a - h * cx
        above_up, above_down = up > f, down > f
        steady += np.where(above_up & above_down, cx, 0.0).sum(axis=0)
        crossing = above_up != above_down
        kink = crossing.any(axis=0)
        moved = np.where(crossing, np.maximum(f, up) - np.maximum(f, down), 0.0).sum(axis=0)
    return steady, moved, kink


def _differences(problem, W, b, flat, stop):
    """Per parameter of ``flat``: the steady hinge terms' Σ c·x (in units of 2h), the other terms' Σ of
    differences, and whether a term crosses a kink."""
    classes, dims = W.shape
    X, y, h = problem.X, problem.y, problem.h
    steady, moved, kink = np.zeros(len(flat)), np.zeros(len(flat)), np.zeros(len(flat), dtype=bool)
    k_of = np.where(flat < classes * dims, flat // dims, flat - classes * dims)
    d_of = np.where(flat < classes * dims, flat % dims, dims)  # column ``dims`` of E = [X | 1] is the bias's
    for r0, r1 in spans(len(y), CHUNK_ELEMENTS // max(classes, dims + 1)):
        checkpoint(stop)
        yc = y[r0:r1]
        E = np.empty((len(yc), dims + 1), order="F")  # column-major: the sweeps below run down columns
        E[:, :dims], E[:, dims] = X[r0:r1], 1.0
        s = scores(W, b, X[r0:r1])
        if problem.loss_type == "softmax":
            p = np.exp(s - s.max(axis=1, keepdims=True))  # class-major, as the scores
            p /= p.sum(axis=1, keepdims=True)
            for c0, c1 in spans(len(flat), CHUNK_ELEMENTS // len(yc)):
                checkpoint(stop)
                moved[c0:c1] += _softmax_differences(p, yc, E, k_of[c0:c1], d_of[c0:c1], h)
            continue
        reach = 2 * h * np.abs(E).max(axis=1)
        for k in np.unique(k_of):
            checkpoint(stop)
            cols = np.flatnonzero(k_of == k)
            part = _hinge_differences(problem.loss_type, s, yc, E, reach, k, cols, d_of, h)
            steady[cols] += part[0]
            moved[cols] += part[1]
            kink[cols] |= part[2]
    return steady, moved, kink


def numerical_gradient(problem, W, b, indices=None, stop=None):
    """``(numerical, kink)`` for the entries ``indices`` of θ (all by default); see the module docstring."""
    classes, dims = W.shape
    size = classes * dims + classes
    flat = np.arange(size) if indices is None else np.asarray(indices, dtype=np.int64).ravel()
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        raise InvalidInput("indices", f"must be parameter indices in [0, {size})")
    with np.errstate(over="ignore", invalid="ignore"):
        steady, moved, kink = _differences(problem, W, b, flat, stop)
        n, h = len(problem.y), problem.h
        w = np.where(flat < classes * dims, W.ravel()[np.minimum(flat, classes * dims - 1)], 0.0)
        reg = 2.0 * problem.reg * w  # λ · 2h · 2w / 2h
        return steady / n + moved / (2 * h * n) + reg, kink


def gradient_check(problem, W, b, indices=None, stop=None):
    """``{"params": [{"name", "analytic", "numerical", "rel_error", "kink"}, …], "max_rel_error", "h",
    "precision": "float64"}`` for the entries ``indices`` of θ = (W.ravel(), b), in that order (all by default);
    names are ``W[k,d]`` and ``b[k]``. ``stop()``, if given, is asked between chunks (:class:`chunks.Stopped`)."""
    classes, dims = W.shape
    numeric, kink = numerical_gradient(problem, W, b, indices, stop)
    ev = problem.evaluate(W, b)
    analytic = np.concatenate([ev.dW.ravel(), ev.db])
    flat = np.arange(analytic.size) if indices is None else np.asarray(indices, dtype=np.int64).ravel()
    analytic = analytic[flat]
    rel = relative_error(analytic, numeric)
    params = [
        {"name": param_name(int(i), classes, dims), "analytic": float(a), "numerical": float(n),
         "rel_error": float(r), "kink": bool(f)}
        for i, a, n, r, f in zip(flat, analytic, numeric, rel, kink)
    ]
    return {"params": params, "max_rel_error": float(rel.max(initial=0.0)), "h": problem.h, "precision": "float64"}
