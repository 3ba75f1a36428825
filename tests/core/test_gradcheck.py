"""The gradient check: passes where the analytic gradient is right, fails where it is not, flags kinks."""

import numpy as np
import pytest

from app.core.gradcheck import EXACT_MAX_POINTS, gradient_check, param_names, relative_error
from app.core.losses import HINGE_LOSSES, LOSS_TYPES
from app.core.trainer import Trainer


def check(t):
    return gradient_check(t.problem(), t.W, t.b)


def by_name(result):
    return {p["name"]: p for p in result["params"]}


def test_param_names_follow_the_flattening_order():
    assert param_names(2) == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "b[0]", "b[1]"]


def test_relative_error():
    np.testing.assert_allclose(relative_error(np.array([1.0, 0.0, 2.0, -1.0]), np.array([1.1, 0.0, 1.0, 1.0])),
                               [0.1 / 1.1, 0.0, 0.5, 2.0])


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_exact_mode_passes_at_the_default_state(loss_type, reg):
    result = check(Trainer.create(seed=0, loss_type=loss_type, reg=reg))
    assert result["precision"] == "decimal" and result["h"] == 1e-4
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


def test_many_points_fall_back_to_float64():
    t = Trainer.create(seed=0, loss_type="softmax")
    t.reset("random", seed=1, data="blobs", n=EXACT_MAX_POINTS // 2 + 1, classes=2)
    result = check(t)
    assert result["precision"] == "float64"
    assert result["max_rel_error"] < 1e-6
