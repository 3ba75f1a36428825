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
maximum before exponentiating, which keeps it finite for any finite scores, and sums the other classes'
exponentials apart from the top one's 1 (``log1p``, ``expm1``), which keeps L_i and its gradient exact, and L_i
positive, when the label wins by far (``log(1 + r)`` rounds to 0 once r < 1.1e-16).

For speed (see README, "Performance"), each function makes about a dozen NumPy calls whatever N is (per-call
overhead dominates the demo's nine points), allocates a single N×K array and reuses it (``out=``) from the
margins to the gradient (fresh memory costs page faults on large data), and reduces only along ``axis=1``,
which stays a contiguous sweep when the scores are stored class-major as :func:`app.core.model.scores` does
(with ``np.add.reduce``: ``.sum`` is the same call behind a layer of Python). A hinge's activity is taken as
``np.sign`` of the hinge in its own buffer: 1 where it is positive, 0 where it is 0 (a hinge is never −0: a
margin ``x + 1`` or ``1 − x`` that is 0 is +0 when rounding to nearest, and ``max(·, 0)`` of a negative one is
the +0 given); ``np.greater`` into a float buffer would cost a conversion more.
``tests/core/test_losses.py`` checks every function against loop-by-loop definitions.
"""

import functools

import numpy as np

HINGE_LOSSES = ("svm_ww", "svm_ova", "svm_structured")
LOSS_TYPES = HINGE_LOSSES + ("softmax",)


@functools.lru_cache(maxsize=16)
def row_indices(n):
    """``0, 1, …, n − 1``, read-only: made once per size (a session's points, a chunk, a minibatch) rather than on
    every evaluation; the 16 most recent sizes are kept (at most 1.3 MB with 10,000 points a session)."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def svm_ww(s, y):
    rows = row_indices(len(y))
    margins = s - s[rows, y][:, None]
    margins += 1.0
    margins[rows, y] = 0.0  # j = y is not a term of the sum
    hinge = np.maximum(margins, 0.0, out=margins)
    losses = np.add.reduce(hinge, axis=1)
    ds = np.sign(hinge, out=hinge)  # 1 where the hinge is active, else 0 (in the same buffer; see the module)
    ds[rows, y] = 0.0 - np.add.reduce(ds, axis=1)  # 0 − count, not −count: +0 where no hinge is active
    return losses, ds


def svm_ova(s, y):
    rows = row_indices(len(y))
    margins = s + 1.0  # 1 − t_j s_j with t_j = −1 …
    margins[rows, y] = 1.0 - s[rows, y]  # … and t_y = +1
    hinge = np.maximum(margins, 0.0, out=margins)
    losses = np.add.reduce(hinge, axis=1)
    ds = np.sign(hinge, out=hinge)  # ∂/∂s_j = −t_j where the hinge is active
    ds[rows, y] = 0.0 - ds[rows, y]  # not *= −1, which turns an inactive 0 into −0
    return losses, ds


def svm_structured(s, y):
    rows = row_indices(len(y))
    rivals = s.copy(order="K")
    rivals[rows, y] = -np.inf
    j = rivals.argmax(axis=1)  # the highest-scoring wrong class (the first of equals)
    margins = rivals[rows, j] - s[rows, y]
    margins += 1.0
    hit = (margins > 0).astype(float)
    ds = rivals  # its buffer is free now
    ds.fill(0.0)
    ds[rows, j] = hit  # j ≠ y: the label's own score is never its rival
    ds[rows, y] = 0.0 - hit  # not −hit: +0 where the hinge is inactive
    return np.maximum(margins, 0.0, out=margins), ds


def softmax(s, y):
    rows = row_indices(len(y))
    top = s.argmax(axis=1)
    z = s - s[rows, top][:, None]  # z_top = 0, every other z_j ≤ 0
    zy = z[rows, y]
    p = np.exp(z, out=z)
    # L_i = log(1 + r) − z_y with r = Σ_{j≠top} e^{z_j}: summed without the top class's 1 and taken by log1p, it
    # stays exact and positive when the label wins by a wide margin (1 + r rounds to 1 once r < 1.1e-16).
    p[rows, top] = 0.0
    rest = np.add.reduce(p, axis=1)
    p[rows, top] = 1.0
    norm = rest + 1.0
    ds = np.divide(p, norm[:, None], out=p)  # the probabilities …
    # … minus the one-hot label: p_y − 1 = (e^{z_y} − 1 − r) / (1 + r), which for y = top is −r / (1 + r) and not
    # the 0 that 1/(1 + r) − 1 rounds to: the gradient stays as exact as the loss (the gradient check agrees)
    ds[rows, y] = (np.expm1(zy) - rest) / norm
    return np.log1p(rest) - zy, ds


LOSSES = {"svm_ww": svm_ww, "svm_ova": svm_ova, "svm_structured": svm_structured, "softmax": softmax}
