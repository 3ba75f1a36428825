"""The total loss over a plane (or a line) through the current parameters.

Parameters are flattened as ``θ = (W.ravel(), b)`` for a K×D ``W``: ``W[0,0], W[0,1], …, W[K−1,D−1], b[0], …``.
Moving θ by ``a·u`` moves the scores by ``a·(X W_uᵀ + b_u)`` and the regularization loss to ``λ Σ (W + a W_u)²``,
a quadratic in ``a`` whose coefficients are computed once. The data loss is evaluated by the loss functions
of :mod:`app.core.losses` on blocks of (grid points × examples × classes) scores, at most ``CHUNK_ELEMENTS``
each, so working memory stays bounded whatever the grid and the data (:mod:`app.core.chunks`).
"""

import re

import numpy as np

from app.core.chunks import CHUNK_ELEMENTS, checkpoint, spans
from app.core.losses import LOSSES
from app.core.optimizers import pack

MAX_GRID = 201
_NAME = re.compile(r"W\[([0-9]+),([0-9]+)\]|b\[([0-9]+)\]")  # ASCII digits only; fullmatch: no trailing newline


def param_index(name, classes, dims=2):
    """Index of ``W[k,d]`` or ``b[k]`` in θ for a ``classes``×``dims`` W, or None if there is no such parameter."""
    m = _NAME.fullmatch(name)
    if not m:
        return None
    if m.group(3) is not None:
        k = int(m.group(3))
        return classes * dims + k if k < classes else None
    k, d = int(m.group(1)), int(m.group(2))
    return k * dims + d if k < classes and d < dims else None


def split(u, shape):
    """The ``W`` and ``b`` parts of a flattened vector, for a ``W`` of ``shape``."""
    size = shape[0] * shape[1]
    return u[:size].reshape(shape), u[size:]


def unit(index, size):
    u = np.zeros(size)
    u[index] = 1.0
    return u


def _reg_quadratic(W, W1, W2):
    """``Σ (W + a1 W1 + a2 W2)²`` as a function of the arrays ``a1, a2``."""
    c0, c1, c2 = np.vdot(W, W), 2 * np.vdot(W, W1), 2 * np.vdot(W, W2)
    c11, c12, c22 = np.vdot(W1, W1), 2 * np.vdot(W1, W2), np.vdot(W2, W2)
    return lambda a1, a2: c0 + a1 * (c1 + c11 * a1 + c12 * a2) + a2 * (c2 + c22 * a2)


def plane_loss(problem, W, b, u1, a1, u2=None, a2=(0.0,), stop=None):
    """Total loss at ``θ + a1[j]·u1 + a2[i]·u2`` as an array of shape (len(a2), len(a1)); no ``u2``: a line."""
    classes = len(b)
    a1, a2 = np.asarray(a1, dtype=float), np.asarray(a2, dtype=float)
    W1, b1 = split(u1, W.shape)
    W2, b2 = split(u2, W.shape) if u2 is not None else (np.zeros_like(W), np.zeros_like(b))
    A1, A2 = np.tile(a1, len(a2)), np.repeat(a2, len(a1))  # the grid's points, row by row
    X, y, loss_fn = problem.X, problem.y, LOSSES[problem.loss_type]
    total = np.zeros(len(A1))
    with np.errstate(over="ignore", invalid="ignore"):
        for r0, r1 in spans(len(y), CHUNK_ELEMENTS // classes):
            Xc, n = X[r0:r1], r1 - r0
            s0, d1 = W @ Xc.T + b[:, None], W1 @ Xc.T + b1[:, None]  # (K, n): class-major, as losses prefer
            d2 = W2 @ Xc.T + b2[:, None] if u2 is not None else None
            points = max(1, CHUNK_ELEMENTS // (classes * n))
            labels = np.tile(y[r0:r1], min(points, len(A1)))
            moving = [(A, d, np.flatnonzero(d.any(axis=1))) for A, d in ((A1, d1), (A2, d2)) if d is not None]
            for g0, g1 in spans(len(A1), points):
                checkpoint(stop)
                S = np.empty((classes, g1 - g0, n))  # the scores of every (grid point, example)
                S[...] = s0[:, None, :]
                for A, d, rows in moving:  # only the classes the directions move (one each for a parameter)
                    for k in rows:
                        S[k] += np.multiply.outer(A[g0:g1], d[k])
                count = (g1 - g0) * n
                losses = loss_fn(S.reshape(classes, count).T, labels[:count])[0]
                total[g0:g1] += losses.reshape(g1 - g0, n).sum(axis=1)
        loss = total / len(y) + problem.reg * _reg_quadratic(W, W1, W2)(A1, A2)
    return loss.reshape(len(a2), len(a1))


def surface(problem, W, b, p1, p2, span, n, stop=None):
    """Loss on an n×n grid of (p1, p2) values within ±span of the current ones; the other parameters fixed."""
    theta = pack(W, b)
    offsets = np.linspace(-span, span, n)
    loss = plane_loss(problem, W, b, unit(p1, theta.size), offsets, unit(p2, theta.size), offsets, stop)
    return theta[p1] + offsets, theta[p2] + offsets, loss


def line(problem, W, b, direction, span, n, stop=None):
    """Loss along a parameter (``direction`` is an index) or along the unit negative gradient ("gradient")."""
    size = W.size + len(b)
    if direction == "gradient":
        ev = problem.evaluate(W, b)
        g = -pack(ev.dW, ev.db)
        top = np.abs(g).max()
        u = g / top if 0 < top < np.inf else np.zeros_like(g)  # scaled first: |g|² overflows near 1e154
        u /= np.linalg.norm(u) or 1.0
    else:
        u = unit(direction, size)
    offsets = np.linspace(-span, span, n)
    return offsets, plane_loss(problem, W, b, u, offsets, stop=stop)[0]
