"""The linear classifier and its objective.

Mathematics (pinned; every other module and the tests rely on it):

* Scores ``s = W x + b`` for a D-dimensional input ``x``; ``W`` is K×D, ``b`` has K entries. The 2-D demo is
  D = 2 (K = 3 by default); the image experiments (:mod:`app.core.experiment`) have D = 64 (8×8 digits) or
  3,072 (32×32×3 CIFAR-10) and K = 10. For a batch, ``S = X Wᵀ + b`` with ``X`` of shape (N, D).
* Per-example losses ``L_i`` as in :mod:`app.core.losses`: Weston–Watkins ``Σ_{j≠y} max(0, s_j − s_y + 1)``,
  one-vs-all ``Σ_j max(0, 1 − t_j s_j)`` with ``t_j = ±1``, structured (Crammer–Singer)
  ``max(0, max_{j≠y} s_j − s_y + 1)``, softmax ``−log softmax(s)_y``.
* Total loss ``L = (1/N) Σ_i L_i + λ Σ W²`` (data loss plus regularization loss; biases are not regularized).
* Gradients ``∂L/∂W = (1/N) Σ_i (∂L_i/∂s_i) x_iᵀ + 2λW`` and ``∂L/∂b = (1/N) Σ_i ∂L_i/∂s_i``.
  ``reg_gradient="original"`` uses ``0.5λW`` for the regularization term instead of ``2λW``: that is what
  the original CS231n web demo computes, kept so its numbers can be reproduced. The loss is ``λ Σ W²`` in
  both modes.
* Gradient-descent update ``W ← W − step_size · ∂L/∂W``, ``b ← b − step_size · ∂L/∂b``.
"""

from dataclasses import dataclass

import numpy as np

from app.core.chunks import CHUNK_ELEMENTS, spans
from app.core.losses import LOSSES

REG_GRADIENTS = {"exact": 2.0, "original": 0.5}

DEFAULT_W = ((1.0, 2.0), (2.0, -4.0), (3.0, -1.0))
DEFAULT_B = (0.0, 0.5, -0.5)


@dataclass(slots=True)
class Evaluation:
    """Everything the demo shows about ``W, b`` on ``X, y``. Treated as immutable (as are the optimizers' Step
    and Run), but not declared frozen: a frozen dataclass sets each field through ``object.__setattr__`` and
    takes 1.7 µs to build against 0.3 µs, and a 2-D step builds three (bench/protocol_cpu.py)."""

    scores: np.ndarray  # (N, K)
    losses: np.ndarray  # (N,)
    data_loss: float
    reg_loss: float
    loss: float
    dW: np.ndarray  # (K, D)
    db: np.ndarray  # (K,)


def scores(W, b, X):
    """``X Wᵀ + b`` of shape (N, K), stored class-major: ``scores(…).T`` is the contiguous (K, N) ``W Xᵀ + b``.

    The losses reduce over the K classes of each example; with K = 3 and N large, a row-major (N, K) array
    makes every such reduction a slow loop of length 3, while class-major storage turns it into K long,
    contiguous sweeps (over 10× faster at 100,000 points). The values are the same either way.

    The parameters are float64; images are float32 (half the memory: CIFAR-10's training set is 600 MB so). W is
    then cast to the data's type, since NumPy multiplies mixed types without BLAS, 30–100× slower. Products are
    ``np.dot``: the same BLAS call as ``@``, which spends 0.4 µs more per call getting there (a 2-D step is a few
    dozen calls of a few µs each: bench/protocol_cpu.py).
    """
    s = np.dot(W if W.dtype == X.dtype else W.astype(X.dtype), X.T)
    s += b[:, None]
    return s.T


def _loss_and_gradient(loss_fn, s, y, X):
    """Per-example losses and the summed ``dscoresᵀ X`` and ``dscores``; beyond ``CHUNK_ELEMENTS`` scores the
    loss function's working arrays are taken a block of examples at a time (:mod:`app.core.chunks`)."""
    if s.size <= CHUNK_ELEMENTS:
        losses, ds = loss_fn(s, y)
        return losses, np.dot(ds.T, X), np.add.reduce(ds, axis=0)
    losses, dW, db = np.empty(len(y)), 0.0, 0.0
    for start, end in spans(len(y), CHUNK_ELEMENTS // s.shape[1]):
        losses[start:end], ds = loss_fn(s[start:end], y[start:end])
        dW, db = dW + np.dot(ds.T, X[start:end]), db + ds.sum(axis=0)
    return losses, dW, db


def data_loss(W, b, X, y, loss_type):
    """Mean per-example loss, without the regularization term."""
    return float(_loss_and_gradient(LOSSES[loss_type], scores(W, b, X), y, X)[0].sum()) / len(y)


def total_loss(W, b, X, y, reg, loss_type):
    return data_loss(W, b, X, y, loss_type) + reg * float(np.vdot(W, W))


def evaluate(W, b, X, y, reg, loss_type="svm_ww", reg_gradient="exact"):
    """Loss, per-example losses and analytic gradients at ``W, b``."""
    s = scores(W, b, X)
    losses, dW, db = _loss_and_gradient(LOSSES[loss_type], s, y, X)
    n = len(y)
    data = float(np.add.reduce(losses)) / n
    reg_loss = reg * float(np.vdot(W, W))
    # Sum before dividing by N: hinge ds are integers, so a bias gradient that is truly 0 comes out exactly 0.
    dW /= n
    dW += REG_GRADIENTS[reg_gradient] * reg * W
    db /= n
    return Evaluation(s, losses, data, reg_loss, data + reg_loss, dW, db)


def accuracy(s, y):
    """Fraction of examples whose highest score is their own class (ties go to the lower index); a Python float
    (NumPy's count is a NumPy integer, which JSON encoders take only through a slow fallback)."""
    return int(np.count_nonzero(s.argmax(axis=1) == y)) / len(y)


def default_params():
    return np.array(DEFAULT_W), np.array(DEFAULT_B)


def random_params(rng, classes=3, scale=1.0):
    """Parameters drawn uniformly from [−scale, scale], as the original demo's "Randomize parameters"."""
    return rng.uniform(-scale, scale, (classes, 2)), rng.uniform(-scale, scale, classes)
