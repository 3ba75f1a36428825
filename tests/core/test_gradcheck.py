"""The gradient check: passes where the analytic gradient is right, fails where it is not, flags kinks; its
numerical gradient equals an independent loop implementation in exact (rational or 80-digit) arithmetic."""

import tracemalloc
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest

from app.core import chunks, gradcheck
from app.core.gradcheck import gradient_check, numerical_gradient, param_names, relative_error
from app.core.losses import HINGE_LOSSES, LOSS_TYPES
from app.core.optimizers import Problem
from app.core.trainer import Trainer
from app.core.validation import InvalidInput


def check(t):
    return gradient_check(t.problem(), t.W, t.b)


def by_name(result):
    return {p["name"]: p for p in result["params"]}


def test_param_names_follow_the_flattening_order():
    assert param_names(2) == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "b[0]", "b[1]"]
    assert param_names(2, 3) == ["W[0,0]", "W[0,1]", "W[0,2]", "W[1,0]", "W[1,1]", "W[1,2]", "b[0]", "b[1]"]


def test_relative_error():
    np.testing.assert_allclose(relative_error(np.array([1.0, 0.0, 2.0, -1.0]), np.array([1.1, 0.0, 1.0, 1.0])),
                               [0.1 / 1.1, 0.0, 0.5, 2.0])


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_exact_mode_passes_at_the_default_state(loss_type, reg):
    result = check(Trainer.create(seed=0, loss_type=loss_type, reg=reg))
    assert result["precision"] == "float64" and result["h"] == 1e-4
    assert result["max_rel_error"] < 1e-7
    assert not any(p["kink"] for p in result["params"])
    assert [p["name"] for p in result["params"]] == param_names(3)


def test_an_exactly_zero_gradient_is_confirmed_as_zero():
    result = by_name(check(Trainer.create(seed=0)))
    assert result["b[2]"]["analytic"] == 0 and result["b[2]"]["numerical"] == 0 and result["b[2]"]["rel_error"] == 0


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("data, classes", [(None, 3), ("blobs", 4), ("random", 5)])
def test_exact_mode_passes_at_random_states(loss_type, seed, data, classes):
    t = Trainer.create(seed=0, loss_type=loss_type, reg=0.37)
    t.reset("random", seed=seed, data=data, n=6, classes=classes)
    result = check(t)
    assert len(result["params"]) == 3 * classes
    assert not any(p["kink"] for p in result["params"])  # these seeds sit away from every hinge
    assert result["max_rel_error"] < 1e-7


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_original_mode_with_reg_fails_for_w_but_not_for_b(loss_type):
    result = check(Trainer.create(seed=0, loss_type=loss_type, reg=0.1, reg_gradient="original"))
    params = result["params"]
    for p in params[:6]:  # analytic 0.5λW against the true 2λW
        assert p["rel_error"] > 0.3, p
    for p in params[6:]:
        assert p["rel_error"] < 1e-7, p
    assert result["max_rel_error"] > 0.3


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_original_mode_without_reg_passes(loss_type):
    result = check(Trainer.create(seed=0, loss_type=loss_type, reg=0.0, reg_gradient="original"))
    assert result["max_rel_error"] < 1e-7


def on_a_kink(loss_type="svm_ww"):
    """The default state with ``b[2]`` moved so that example 0's class-2 margin is 0: s_2 − s_0 + 1 = 0."""
    t = Trainer.create(seed=0, loss_type=loss_type)
    x, W = t.X[0], t.W
    t.update(b=[0.0, 0.5, W[0] @ x - W[2] @ x - 1])
    return t


def test_a_hinge_kink_is_flagged():
    t = on_a_kink()
    s = t.evaluation.scores[0]
    assert s[2] - s[0] + 1 == pytest.approx(0, abs=1e-15)
    result = by_name(check(t))
    # parameters moving s_0 or s_2 of example 0 cross the kink; those of class 1 do not
    kinked = {name for name, p in result.items() if p["kink"]}
    assert kinked == {"W[0,0]", "W[0,1]", "W[2,0]", "W[2,1]", "b[0]", "b[2]"}
    # on the kink the centered difference averages the two one-sided slopes (−1/9 active, 0 inactive)
    assert result["b[2]"]["analytic"] == pytest.approx(-1 / 9, abs=1e-15)
    assert result["b[2]"]["numerical"] == pytest.approx(-1 / 18, abs=1e-9)
    assert result["b[2]"]["rel_error"] == pytest.approx(0.5, abs=1e-8)
    for name in set(result) - kinked:
        assert result[name]["rel_error"] < 1e-7


@pytest.mark.parametrize("loss_type", HINGE_LOSSES)
def test_every_hinge_loss_flags_the_kink_at_b2(loss_type):
    # svm_ova's hinges are 1 − t_j s_j, not margins between classes; give it its own kink: s_2 = −1 at example 0
    t = on_a_kink(loss_type)
    if loss_type == "svm_ova":
        t.update(b=[0.0, 0.5, -1 - t.W[2] @ t.X[0]])
    assert by_name(check(t))["b[2]"]["kink"]


def test_softmax_has_no_kinks_and_passes_at_the_same_point():
    t = on_a_kink()
    t.update(loss_type="softmax")
    result = check(t)
    assert not any(p["kink"] for p in result["params"])
    assert result["max_rel_error"] < 1e-7


def test_far_from_the_origin_the_check_still_works():
    # after a divergence |θ| ~ 1e150: θ ± h rounds to θ, so the neighbouring floats are the step
    t = Trainer.create(seed=0, step_size=1000)
    t.run(10_000)
    assert t.diverged and np.abs(t.W).max() > 1e100
    result = check(t)
    assert all(np.isfinite([p["analytic"], p["numerical"], p["rel_error"]]).all() for p in result["params"])
    for p in result["params"][:6]:  # ∂L/∂W ≈ 2λW dominates, and the differences are exact
        assert p["rel_error"] < 1e-7, p


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_many_points_and_classes_pass(loss_type):
    t = Trainer.create(seed=0, loss_type=loss_type, reg=0.2)
    t.reset("random", seed=1, data="blobs", n=1000, classes=10)
    result = check(t)
    assert result["precision"] == "float64" and len(result["params"]) == 30
    assert all(p["rel_error"] < 1e-7 for p in result["params"] if not p["kink"])
    assert sum(p["kink"] for p in result["params"]) < 30


# --- an independent implementation: naive loops over examples and classes, in exact arithmetic -----------------
def loop_loss(W, b, X, y, reg, loss_type):
    """L = (1/N) Σ_i L_i + λ Σ W², term by term; exact (Fractions) for hinges, 80 digits for softmax."""
    if loss_type == "softmax":
        with localcontext() as ctx:
            ctx.prec = 80
            num = lambda v: Decimal(float(v)) if not isinstance(v, Decimal) else v
            W, b = [[num(v) for v in row] for row in W], [num(v) for v in b]
            total = Decimal(0)
            for x, label in zip(X, y):
                s = [sum((w * num(xd) for w, xd in zip(row, x)), Decimal(0)) + bk for row, bk in zip(W, b)]
                total += sum(v.exp() for v in s).ln() - s[label]
            return total / len(y) + num(reg) * sum(v * v for row in W for v in row)
    W, b = [[Fraction(v) for v in row] for row in W], [Fraction(v) for v in b]
    total = Fraction(0)
    for x, label in zip(X, y):
        s = [sum(w * Fraction(xd) for w, xd in zip(row, x)) + bk for row, bk in zip(W, b)]
        if loss_type == "svm_ww":
            total += sum(max(0, s[j] - s[label] + 1) for j in range(len(s)) if j != label)
        elif loss_type == "svm_ova":
            total += sum(max(0, 1 - (s[j] if j == label else -s[j])) for j in range(len(s)))
        else:
            total += max(0, max(s[j] for j in range(len(s)) if j != label) - s[label] + 1)
    return total / len(y) + Fraction(reg) * sum(v * v for row in W for v in row)


def loop_numerical_gradient(problem, W, b):
    """(L(θ + h e_p) − L(θ − h e_p)) / 2h for every p, θ ± h exactly (not rounded to a float)."""
    exact = Decimal if problem.loss_type == "softmax" else Fraction
    h = exact(problem.h)
    theta = [exact(float(v)) for v in np.concatenate([W.ravel(), b])]
    k, d = W.shape
    out = []
    for p in range(len(theta)):
        values = []
        for sign in (1, -1):
            t = list(theta)
            t[p] += sign * h
            values.append(loop_loss([t[r * d:(r + 1) * d] for r in range(k)], t[k * d:], problem.X, problem.y,
                                    problem.reg, problem.loss_type))
        with localcontext() as ctx:
            ctx.prec = 80
            out.append(float((values[0] - values[1]) / (2 * h)))
    return np.array(out)


def random_problem(loss_type, seed, n=12, classes=4, dims=3, reg=0.3, h=1e-4):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, dims))
    y = rng.integers(0, classes, n)
    y[:classes] = np.arange(classes)  # every class present
    W, b = rng.normal(0, 1, (classes, dims)), rng.normal(0, 0.5, classes)
    return Problem(X, y, reg, loss_type, "exact", 0.1, 4, h, 1.0), W, b


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("seed, dims", [(1, 1), (2, 2), (3, 3), (4, 5)])
def test_the_numerical_gradient_equals_an_exact_loop_implementation(loss_type, seed, dims):
    problem, W, b = random_problem(loss_type, seed, dims=dims)
    numeric, kink = numerical_gradient(problem, W, b)
    expected = loop_numerical_gradient(problem, W, b)
    assert not kink.any()
    tolerance = 1e-9 if loss_type == "softmax" else 1e-13  # softmax: h² truncation is in both; rounding is not
    np.testing.assert_allclose(numeric, expected, rtol=tolerance, atol=1e-15)
    result = gradient_check(problem, W, b)
    assert result["max_rel_error"] < 1e-7
    assert [p["name"] for p in result["params"]] == param_names(4, dims)


@pytest.mark.parametrize("loss_type", HINGE_LOSSES)
def test_at_a_kink_it_equals_the_exact_loop_implementation_too(loss_type):
    t = on_a_kink(loss_type)
    if loss_type == "svm_ova":
        t.update(b=[0.0, 0.5, -1 - t.W[2] @ t.X[0]])
    numeric, kink = numerical_gradient(t.problem(), t.W, t.b)
    assert kink.any()
    np.testing.assert_allclose(numeric, loop_numerical_gradient(t.problem(), t.W, t.b), rtol=1e-9, atol=1e-12)


def test_a_class_without_active_hinges_has_exactly_zero_numerical_gradients():
    # class 2 has no examples and scores far below the others: its hinges are inactive on both sides of every step
    t = Trainer.create(seed=0, reg=0.0, b=[0.0, 0.5, -50.0])
    t.update(X=t.X[:6].tolist(), y=t.y[:6].tolist())
    result = by_name(check(t))
    for name in ("W[2,0]", "W[2,1]", "b[2]"):
        assert result[name]["analytic"] == result[name]["numerical"] == result[name]["rel_error"] == 0, name


def test_a_sample_of_indices_is_checked_in_the_order_given():
    problem, W, b = random_problem("svm_ww", 5, dims=6, classes=3)
    full = gradient_check(problem, W, b)
    part = gradient_check(problem, W, b, indices=[20, 0, 7])
    assert [p["name"] for p in part["params"]] == ["b[2]", "W[0,0]", "W[1,1]"]
    assert part["params"] == [full["params"][i] for i in (20, 0, 7)]
    assert part["max_rel_error"] == max(p["rel_error"] for p in part["params"])
    with pytest.raises(InvalidInput):
        gradient_check(problem, W, b, indices=[21])


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_chunking_does_not_change_the_values(monkeypatch, loss_type):
    problem, W, b = random_problem(loss_type, 6, n=40, classes=5, dims=3)
    whole = numerical_gradient(problem, W, b)
    monkeypatch.setattr(gradcheck, "CHUNK_ELEMENTS", 7)  # a handful of examples and one parameter at a time
    parts = numerical_gradient(problem, W, b)
    np.testing.assert_allclose(parts[0], whole[0], rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(parts[1], whole[1])


def test_memory_stays_within_the_budget_at_the_largest_session():
    t = Trainer.create(seed=0, loss_type="svm_ww")
    t.reset("random", seed=1, data="random", n=1000, classes=10)  # 10,000 points, the default cap
    problem = t.problem()
    tracemalloc.start()
    try:
        check(t)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < chunks.WORK_BYTES


def test_a_stop_request_ends_the_check_between_chunks(monkeypatch):
    problem, W, b = random_problem("softmax", 7, n=50)
    monkeypatch.setattr(gradcheck, "CHUNK_ELEMENTS", 40)
    calls = []
    with pytest.raises(chunks.Stopped):
        gradient_check(problem, W, b, stop=lambda: calls.append(1) or len(calls) > 3)
    assert len(calls) == 4
