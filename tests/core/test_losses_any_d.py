"""The losses and gradients for any input dimension D: against scikit-learn's metrics and against loop-by-loop
references, with D and K random; float32 images give the float64 numbers to float32 precision."""

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import hinge_loss, log_loss

from app.core.losses import LOSS_TYPES, LOSSES
from app.core.model import evaluate, scores

SHAPES = [(1, 2), (3, 3), (17, 4), (64, 10), (200, 7)]  # (D, K)


def problem(seed, dims, classes, n=60):
    """Random W, b, X and labels in which every class occurs (scikit-learn's hinge_loss needs them all); scores
    of order 1 whatever D (log_loss clips probabilities below 1e-15)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % classes)
    X = rng.normal(size=(n, dims)) / np.sqrt(dims)
    return rng.normal(size=(classes, dims)), rng.normal(size=classes), X, y


def loop_scores(W, b, X):
    return np.array([[sum(W[k][d] * x[d] for d in range(len(x))) + b[k] for k in range(len(b))] for x in X])


def loop_loss_and_dscores(s, y, loss_type):
    """One example at a time, from the definitions in the model's docstring."""
    losses, ds = [], np.zeros_like(s)
    for i, (si, yi) in enumerate(zip(s, y)):
        others = [j for j in range(len(si)) if j != yi]
        if loss_type == "svm_ww":
            losses.append(sum(max(0.0, si[j] - si[yi] + 1) for j in others))
            for j in others:
                if si[j] - si[yi] + 1 > 0:
                    ds[i][j] += 1
                    ds[i][yi] -= 1
        elif loss_type == "svm_ova":
            total = 0.0
            for j in range(len(si)):
                t = 1 if j == yi else -1
                if 1 - t * si[j] > 0:
                    total += 1 - t * si[j]
                    ds[i][j] = -t
            losses.append(total)
        elif loss_type == "svm_structured":
            rival = max(others, key=lambda j: si[j])
            margin = si[rival] - si[yi] + 1
            losses.append(max(0.0, margin))
            if margin > 0:
                ds[i][rival], ds[i][yi] = 1, -1
        else:
            e = [np.exp(v - max(si)) for v in si]
            losses.append(-np.log(e[yi] / sum(e)))
            ds[i] = [v / sum(e) for v in e]
            ds[i][yi] -= 1
    return np.array(losses), ds


def loop_gradients(W, b, X, y, reg, loss_type):
    """By loops: ``∂L/∂W[k][d] = (1/N) Σ_i ∂L_i/∂s_k · x_d + 2λW[k][d]``, ``∂L/∂b[k] = (1/N) Σ_i ∂L_i/∂s_k``."""
    losses, ds = loop_loss_and_dscores(loop_scores(W, b, X), y, loss_type)
    n, (k, dims) = len(y), W.shape
    dW = [[sum(ds[i][c] * X[i][d] for i in range(n)) / n + 2 * reg * W[c][d] for d in range(dims)] for c in range(k)]
    db = [sum(ds[i][c] for i in range(n)) / n for c in range(k)]
    return losses.mean() + reg * (W**2).sum(), np.array(dW), np.array(db)


@pytest.mark.parametrize("dims, classes", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_is_scikit_learns_log_loss(dims, classes, seed):
    W, b, X, y = problem(seed, dims, classes)
    ev = evaluate(W, b, X, y, 0.0, "softmax")
    expected = log_loss(y, scipy_softmax(X @ W.T + b, axis=1), labels=range(classes))
    assert ev.data_loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dims, classes", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_structured_svm_is_scikit_learns_crammer_singer_hinge_loss(dims, classes, seed):
    W, b, X, y = problem(seed, dims, classes)
    ev = evaluate(W, b, X, y, 0.0, "svm_structured")
    if classes == 2:  # scikit-learn's binary hinge takes one decision value: s_1 − s_0, labels ±1
        expected = hinge_loss(2 * y - 1, ev.scores[:, 1] - ev.scores[:, 0])
    else:
        expected = hinge_loss(y, X @ W.T + b, labels=range(classes))
    assert ev.data_loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dims, classes", SHAPES)
def test_one_vs_all_svm_is_a_sum_of_scikit_learns_binary_hinge_losses(dims, classes):
    W, b, X, y = problem(2, dims, classes)
    ev = evaluate(W, b, X, y, 0.0, "svm_ova")
    S = X @ W.T + b
    expected = sum(hinge_loss(np.where(y == j, 1, -1), S[:, j]) for j in range(classes))
    assert ev.data_loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("dims, classes", SHAPES)
def test_losses_and_gradients_match_the_loop_by_loop_reference(loss_type, dims, classes):
    W, b, X, y = problem(3, dims, classes, n=25)
    reg = 0.37
    ev = evaluate(W, b, X, y, reg, loss_type)
    loss, dW, db = loop_gradients(W, b, X, y, reg, loss_type)
    losses, _ = loop_loss_and_dscores(loop_scores(W, b, X), y, loss_type)
    np.testing.assert_allclose(ev.losses, losses, rtol=1e-12, atol=1e-12)
    assert ev.loss == pytest.approx(loss, rel=1e-12)
    assert dW.shape == ev.dW.shape == (classes, dims)
    np.testing.assert_allclose(ev.dW, dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ev.db, db, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_the_gradient_is_the_slope_of_the_loss_for_a_large_d(loss_type):
    W, b, X, y = problem(4, 300, 10, n=40)
    ev = evaluate(W, b, X, y, 0.2, loss_type)
    rng, h = np.random.default_rng(0), 1e-6
    for _ in range(10):  # random directions: the directional derivative is ⟨∇L, u⟩
        U, u = rng.normal(size=W.shape), rng.normal(size=b.shape)
        up = evaluate(W + h * U, b + h * u, X, y, 0.2, loss_type).loss
        down = evaluate(W - h * U, b - h * u, X, y, 0.2, loss_type).loss
        slope = np.vdot(ev.dW, U) + np.vdot(ev.db, u)
        assert (up - down) / (2 * h) == pytest.approx(slope, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_float32_images_give_the_float64_numbers(loss_type):
    W, b, X, y = problem(5, 64, 10, n=300)
    wide, narrow = evaluate(W, b, X, y, 0.01, loss_type), evaluate(W, b, X.astype(np.float32), y, 0.01, loss_type)
    assert narrow.scores.dtype == np.float32 and narrow.dW.dtype == np.float32  # no float64 copy of the images
    assert narrow.loss == pytest.approx(wide.loss, rel=1e-5)
    np.testing.assert_allclose(narrow.dW, wide.dW, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(narrow.db, wide.db, rtol=1e-3, atol=1e-5)


def test_scores_are_w_x_plus_b_for_any_d():
    W, b, X, _ = problem(6, 5, 3, n=4)
    np.testing.assert_allclose(scores(W, b, X), loop_scores(W, b, X), rtol=1e-12)
    assert set(LOSSES) == set(LOSS_TYPES)
