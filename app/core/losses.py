"""The four losses of the CS231n linear-classify demo, vectorized over examples.

For scores ``s`` of shape (N, K) and integer labels ``y`` of shape (N,), with margin 1:

=================  ================================================  =========================
``svm_ww``         L_i = Σ_{j≠y} max(0, s_j − s_y + 1)               Weston & Watkins, 1999
``svm_ova``        L_i = Σ_j max(0, 1 − t_j s_j),  t_y = +1, else −1  one-vs-all
``svm_structured`` L_i = max(0, max_{j≠y} s_j − s_y + 1)             Crammer & Singer, 2001
``softmax``        L_i = −log(e^{s_y} / Σ_j e^{s_j})                 cross-entropy
=================  ================================================  =========================

Every function returns ``(losses, dscores)``: the per-example losses (N,) and ``dscores[i] = ∂L_i/∂s_i``
(N, K). A hinge contributes to the gradient only where its margin is strictly positive, so at a kink
(margin exactly 0) the one-sided derivative from the inactive side is used. Softmax shifts each row by its
maximum before exponentiating, which keeps it finite for any finite scores.
"""

import numpy as np

HINGE_LOSSES = ("svm_ww", "svm_ova", "svm_structured")
LOSS_TYPES = HINGE_LOSSES + ("softmax",)


def svm_ww(s, y):
    rows = np.arange(len(y))
    margins = s - s[rows, y][:, None] + 1.0
    margins[rows, y] = 0.0
    active = margins > 0
    ds = active.astype(float)
    ds[rows, y] = -ds.sum(axis=1)
    return np.where(active, margins, 0.0).sum(axis=1), ds


def svm_ova(s, y):
    t = np.full(s.shape, -1.0)
    t[np.arange(len(y)), y] = 1.0
    margins = 1.0 - t * s
    active = margins > 0
    return np.where(active, margins, 0.0).sum(axis=1), -t * active


def svm_structured(s, y):
    rows = np.arange(len(y))
    rivals = s.copy()
    rivals[rows, y] = -np.inf
    j = rivals.argmax(axis=1)
    margins = rivals[rows, j] - s[rows, y] + 1.0
    active = margins > 0
    ds = np.zeros_like(s)
    ds[rows[active], j[active]] = 1.0
    ds[rows[active], y[active]] = -1.0
    return np.where(active, margins, 0.0), ds


def softmax(s, y):
    rows = np.arange(len(y))
    z = s - s.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    ds = np.exp(z - log_norm[:, None])
    ds[rows, y] -= 1.0
    return log_norm - z[rows, y], ds


LOSSES = {"svm_ww": svm_ww, "svm_ova": svm_ova, "svm_structured": svm_structured, "softmax": softmax}
