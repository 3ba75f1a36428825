"""The four losses: hand-checked numbers at the defaults, gradients against centered differences."""

import numpy as np
import pytest

from app.core import datasets
from app.core.losses import HINGE_LOSSES, LOSS_TYPES, LOSSES
from app.core.model import default_params, evaluate, total_loss
from app.core.optimizers import numerical_gradient, pack, unpack

X, Y = datasets.original()
W0, B0 = default_params()

# (data, reg, total, db) at the defaults with λ = 0.1, checked by hand
TABLE = {
    "svm_ww": (2.7667, 3.5, 6.2667, [0.1111, -0.1111, 0]),
    "svm_ova": (4.0222, 3.5, 7.5222, [0.5556, 0.2222, 0.2222]),
    "svm_structured": (2.3667, 3.5, 5.8667, [0.1111, 0, -0.1111]),
    "softmax": (1.8366, 3.5, 5.3366, [0.1515, 0.0362, -0.1877]),
}


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_hand_checked_numbers_at_the_defaults(loss_type):
    data, reg, total, db = TABLE[loss_type]
    ev = evaluate(W0, B0, X, Y, 0.1, loss_type)
    assert ev.data_loss == pytest.approx(data, abs=1e-4)
    assert ev.reg_loss == pytest.approx(reg, abs=1e-12)
    assert ev.loss == pytest.approx(total, abs=1e-4)
    np.testing.assert_allclose(ev.db, db, atol=1e-4)


def test_svm_ww_per_example_losses_and_weight_gradients():
    ev = evaluate(W0, B0, X, Y, 0.1, "svm_ww")
    np.testing.assert_allclose(ev.losses, [0.3, 1.7, 0, 3.2, 6.8, 2.4, 2.5, 3.3, 4.7], atol=1e-12)
    np.testing.assert_allclose(ev.dW, [[-0.2333, 0.3667], [0.8111, -1.1778], [0.6222, 0.2111]], atol=1e-4)
    original = evaluate(W0, B0, X, Y, 0.1, "svm_ww", "original")
    np.testing.assert_allclose(original.dW, [[-0.3833, 0.0667], [0.5111, -0.5778], [0.1722, 0.3611]], atol=1e-4)
    np.testing.assert_allclose(original.db, ev.db)  # biases are not regularized
    assert original.loss == ev.loss  # the mode changes the gradient only


def test_one_original_step_matches_the_original_demo():
    ev = evaluate(W0, B0, X, Y, 0.1, "svm_ww", "original")
    W, b = W0 - 0.1 * ev.dW, B0 - 0.1 * ev.db
    np.testing.assert_allclose(W, [[1.0383, 1.9933], [1.9489, -3.9422], [2.9828, -1.0361]], atol=1e-4)
    np.testing.assert_allclose(b, [-0.0111, 0.5111, -0.5], atol=1e-4)


def naive_loss(s, y, loss_type):
    """Loop-by-loop definitions, written independently of the vectorized code."""
    out = []
    for si, yi in zip(s, y):
        others = [j for j in range(len(si)) if j != yi]
        if loss_type == "svm_ww":
            out.append(sum(max(0.0, si[j] - si[yi] + 1) for j in others))
        elif loss_type == "svm_ova":
            out.append(sum(max(0.0, 1 - (1 if j == yi else -1) * si[j]) for j in range(len(si))))
        elif loss_type == "svm_structured":
            out.append(max(0.0, max(si[j] for j in others) - si[yi] + 1))
        else:
            out.append(-np.log(np.exp(si[yi]) / np.exp(si).sum()))
    return np.array(out)


def random_state(rng, n=12, k=4):
    return rng.normal(size=(k, 2)), rng.normal(size=k), rng.uniform(-1, 1, (n, 2)), rng.integers(0, k, n)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_vectorized_losses_match_the_naive_loops(loss_type):
    rng = np.random.default_rng(7)
    for _ in range(20):
        W, b, X, y = random_state(rng)
        s = X @ W.T + b
        np.testing.assert_allclose(LOSSES[loss_type](s, y)[0], naive_loss(s, y, loss_type), rtol=1e-12, atol=1e-12)


def far_from_kinks(W, b, X, y, loss_type, h):
    """True when no hinge changes state within ±10h of every parameter (the check is then exact)."""
    if loss_type == "softmax":
        return True
    theta, k = pack(W, b), len(b)
    base = LOSSES[loss_type](X @ W.T + b, y)[1]
    for i in range(theta.size):
        for d in (-10 * h, 10 * h):
            t = theta.copy()
            t[i] += d
            Wt, bt = unpack(t, k)
            if not np.array_equal(LOSSES[loss_type](X @ Wt.T + bt, y)[1], base):
                return False
    return True


@pytest.mark.parametrize("reg", [0.0, 0.37])
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_analytic_gradient_matches_centered_differences(loss_type, reg):
    rng = np.random.default_rng(42)
    checked, h = 0, 1e-5
    while checked < 5:
        W, b, X, y = random_state(rng, n=40, k=3)
        if not far_from_kinks(W, b, X, y, loss_type, h):
            continue
        ev = evaluate(W, b, X, y, reg, loss_type)
        f = lambda t: total_loss(*unpack(t, len(b)), X, y, reg, loss_type)
        numeric = numerical_gradient(f, pack(W, b), h)
        analytic = pack(ev.dW, ev.db)
        # A hinge bias gradient is a count over N and can be exactly 0 (up to ~1e-17 of summation rounding);
        # float64 differences then carry only
        # rounding noise (~1e-11), which no relative error can judge: check those absolutely.
        zero = np.abs(analytic) < 1e-12
        assert np.abs(numeric[zero]).max(initial=0) < 1e-9
        rel = np.abs(analytic - numeric)[~zero] / np.maximum(np.abs(analytic), np.abs(numeric))[~zero]
        assert rel.max() < 1e-7, (loss_type, reg, rel.max())
        checked += 1


def test_softmax_is_finite_for_huge_scores():
    s = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [5e3, 5e3, -1e4]])
    y = np.array([1, 0, 2])
    losses, ds = LOSSES["softmax"](s, y)
    assert np.isfinite(losses).all() and np.isfinite(ds).all()
    np.testing.assert_allclose(losses, [2e4, 2e4 + np.log(2), 1.5e4 + np.log(2)], rtol=1e-12)


def test_softmax_stays_positive_and_exact_when_the_label_wins_by_far():
    """Where 1 + Σ e^(s_j − s_y) rounds to 1 (margins beyond ~37), L_i is still log1p of the sum of the others'
    exponentials, and its gradient agrees with centered differences on that tiny scale."""
    s = np.array([[50.0, 0.0, -3.0], [-10.0, 41.0, 40.0]])
    y = np.array([0, 1])
    losses, ds = LOSSES["softmax"](s, y)
    expected = [np.exp(-50.0) + np.exp(-53.0), np.log1p(np.exp(-1.0) + np.exp(-51.0))]  # log1p(x) = x below 1e-16
    np.testing.assert_allclose(losses, expected, rtol=1e-14)
    assert losses[0] > 0
    h = 1e-4
    for i, j in ((0, 0), (0, 1), (0, 2)):
        up, down = s.copy(), s.copy()
        up[i, j] += h
        down[i, j] -= h
        numerical = (LOSSES["softmax"](up, y)[0][i] - LOSSES["softmax"](down, y)[0][i]) / (2 * h)
        assert ds[i, j] == pytest.approx(numerical, rel=1e-6)  # e.g. ∂L_0/∂s_0 = −2.0e-22, not 0
    np.testing.assert_allclose(ds.sum(axis=1), 0.0, atol=1e-30)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_zero_weights_give_k_minus_one_and_log_k(k):
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, (10, 2)), rng.integers(0, k, 10)
    W, b = np.zeros((k, 2)), np.zeros(k)
    assert evaluate(W, b, X, y, 0.5, "svm_ww").loss == pytest.approx(k - 1, abs=1e-15)
    assert evaluate(W, b, X, y, 0.5, "softmax").loss == pytest.approx(np.log(k), abs=1e-15)


def test_hinge_at_exactly_zero_margin_does_not_count():
    s = np.array([[1.0, 0.0, -5.0]])  # margin of class 1 against class 0 is exactly 0
    losses, ds = LOSSES["svm_ww"](s, np.array([0]))
    assert losses[0] == 0.0 and not ds.any()


@pytest.mark.parametrize("loss_type", HINGE_LOSSES)
def test_hinge_gradients_are_exact_counts_without_negative_zeros(loss_type):
    """Margins of exactly 0 (inactive), −0.0 scores and active hinges: every ∂L_i/∂s_j is an exact small integer,
    and no zero is −0 (which would print as -0.0 in the state)."""
    s = np.array([[1.0, 0.0, -0.0], [-1.0, -0.0, 2.0], [0.5, -1.0, 1.5]])
    y = np.array([0, 2, 1])
    losses, ds = LOSSES[loss_type](np.asfortranarray(s), y)
    expected = np.zeros((3, 3))
    for i in range(3):  # the definitions, term by term
        others = [j for j in range(3) if j != y[i]]
        if loss_type == "svm_ww":
            for j in others:
                if s[i, j] - s[i, y[i]] + 1.0 > 0:
                    expected[i, j] += 1
                    expected[i, y[i]] -= 1
        elif loss_type == "svm_ova":
            for j in range(3):
                t = 1.0 if j == y[i] else -1.0
                expected[i, j] = -t if 1.0 - t * s[i, j] > 0 else 0.0
        else:
            rival = max(others, key=lambda j: (s[i, j], -j))  # the first of equals
            if s[i, rival] - s[i, y[i]] + 1.0 > 0:
                expected[i, rival], expected[i, y[i]] = 1.0, -1.0
    assert np.array_equal(ds, expected) and not np.signbit(ds[ds == 0]).any()


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_large_data_is_evaluated_in_chunks_with_the_same_results(monkeypatch, loss_type):
    from app.core import model

    rng = np.random.default_rng(5)
    X, y = rng.uniform(-1, 1, (500, 3)), rng.integers(0, 4, 500)
    W, b = rng.normal(0, 1, (4, 3)), rng.normal(0, 1, 4)
    whole = evaluate(W, b, X, y, 0.1, loss_type)
    monkeypatch.setattr(model, "CHUNK_ELEMENTS", 4 * 37)  # blocks of 37 examples
    parts = evaluate(W, b, X, y, 0.1, loss_type)
    np.testing.assert_array_equal(parts.losses, whole.losses)
    np.testing.assert_allclose(parts.dW, whole.dW, rtol=1e-13)
    np.testing.assert_allclose(parts.db, whole.db, rtol=1e-13, atol=1e-16)
    assert parts.loss == whole.loss
    assert model.total_loss(W, b, X, y, 0.1, loss_type) == whole.loss


def test_row_indices_are_shared_and_read_only():
    from app.core.losses import row_indices

    rows = row_indices(7)
    assert rows is row_indices(7) and np.array_equal(rows, np.arange(7)) and not rows.flags.writeable
    with pytest.raises(ValueError):  # a loss that wrote into them would corrupt every later evaluation
        rows[0] = 3
