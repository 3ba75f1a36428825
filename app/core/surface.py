"""The total loss over a plane (or a line) through the current parameters, vectorized over the grid.

Parameters are flattened as ``θ = (W[0,0], …, W[0,D−1], …, W[K−1,D−1], b[0], …, b[K−1])`` (D = 2 here).
Moving ``θ`` by ``a·u`` moves the scores by ``a·(X W_uᵀ + b_u)`` and the regularization loss to
``λ Σ (W + a W_u)²``, so one broadcast evaluates the whole grid at once; the grid is cut into chunks only to bound
memory on large data.
"""

import re

import numpy as np

from app.core.losses import LOSSES
from app.core.model import scores
from app.core.optimizers import pack, unpack

MAX_GRID = 201
CHUNK_ELEMENTS = 2_000_000
_NAME = re.compile(r"^W\[(\d+),(\d+)\]$|^b\[(\d+)\]$")


def param_index(name, classes, dims=2):
    """Index of ``W[k,d]`` or ``b[k]`` in θ, or None if the name is not a parameter."""
    m = _NAME.match(name)
    if not m:
        return None
    k = int(m.group(1) if m.group(1) is not None else m.group(3))
    if k >= classes or (m.group(1) is not None and int(m.group(2)) >= dims):
        return None
    return dims * k + int(m.group(2)) if m.group(1) is not None else dims * classes + k


def unit(index, classes, dims=2):
    u = np.zeros((dims + 1) * classes)
    u[index] = 1.0
    return u


def plane_loss(problem, W, b, u1, a1, u2, a2):
    """Total loss at ``θ + a1[j]·u1 + a2[i]·u2`` as an array of shape (len(a2), len(a1))."""
    k = len(b)
    (W1, b1), (W2, b2) = unpack(u1, k), unpack(u2, k)
    s0, d1, d2 = scores(W, b, problem.X), scores(W1, b1, problem.X), scores(W2, b2, problem.X)
    n, loss_fn = len(problem.y), LOSSES[problem.loss_type]
    out = np.empty((len(a2), len(a1)))
    rows = max(1, CHUNK_ELEMENTS // (len(a1) * n * k))
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(a2), rows):
            b2_ = a2[start : start + rows]
            S = s0 + a1[None, :, None, None] * d1 + b2_[:, None, None, None] * d2
            losses = loss_fn(S.reshape(-1, k), np.tile(problem.y, S.shape[0] * S.shape[1]))[0]
            out[start : start + rows] = losses.reshape(len(b2_), len(a1), n).mean(axis=2)
        A1, A2 = a1[None, :], a2[:, None]
        reg = ((W + A1[..., None, None] * W1 + A2[..., None, None] * W2) ** 2).sum(axis=(2, 3))
    return out + problem.reg * reg


def surface(problem, W, b, p1, p2, span, n):
    """Loss on an n×n grid of (p1, p2) values within ±span of the current ones; the other parameters fixed."""
    k, theta = len(b), pack(W, b)
    offsets = np.linspace(-span, span, n)
    loss = plane_loss(problem, W, b, unit(p1, k, W.shape[1]), offsets, unit(p2, k, W.shape[1]), offsets)
    return theta[p1] + offsets, theta[p2] + offsets, loss


def line(problem, W, b, direction, span, n):
    """Loss along a parameter (``direction`` is an index) or along the unit negative gradient ("gradient")."""
    k = len(b)
    if direction == "gradient":
        ev = problem.evaluate(W, b)
        g = -pack(ev.dW, ev.db)
        top = np.abs(g).max()
        u = g / top if 0 < top < np.inf else np.zeros_like(g)  # scaled first: |g|² overflows near 1e154
        u /= np.linalg.norm(u) or 1.0
    else:
        u = unit(direction, k, W.shape[1])
    offsets = np.linspace(-span, span, n)
    return offsets, plane_loss(problem, W, b, u, offsets, np.zeros_like(u), np.zeros(1))[0]
