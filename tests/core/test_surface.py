"""Loss surfaces and lines: every grid value is the total loss at the parameters it claims to be at."""

import numpy as np
import pytest

from app.core import surface
from app.core.losses import LOSS_TYPES
from app.core.model import total_loss
from app.core.optimizers import pack, unpack
from app.core.trainer import Trainer


def state(loss_type="svm_ww", seed=None, classes=3):
    t = Trainer.create(seed=0, loss_type=loss_type, reg=0.25)
    if seed is not None:
        t.reset("random", seed=seed, data="blobs", n=5, classes=classes)
    return t


def direct(t, changes):
    """``total_loss`` with some flattened parameters set to new values: the independent evaluation."""
    theta = pack(t.W, t.b)
    for i, v in changes.items():
        theta[i] = v
    s = t.settings
    return total_loss(*unpack(theta, t.classes), t.X, t.y, s.reg, s.loss_type)


@pytest.mark.parametrize("name, classes, index", [
    ("W[0,0]", 3, 0), ("W[0,1]", 3, 1), ("W[2,1]", 3, 5), ("b[0]", 3, 6), ("b[2]", 3, 8), ("b[4]", 5, 14),
    ("W[3,0]", 3, None), ("b[3]", 3, None), ("W[0,2]", 3, None), ("w[0,0]", 3, None), ("W[0, 0]", 3, None),
    ("b[0] ", 3, None), ("gradient", 3, None), ("", 3, None), ("b[-1]", 3, None),
])
def test_param_index(name, classes, index):
    assert surface.param_index(name, classes) == index


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_the_grid_centre_is_the_current_loss(loss_type):
    t = state(loss_type)
    xs, ys, loss = surface.surface(t.problem(), t.W, t.b, 0, 7, 3.0, 61)
    assert xs[30] == t.W[0, 0] and ys[30] == t.b[1]
    assert loss[30, 30] == pytest.approx(t.evaluation.loss, rel=1e-13)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("seed", [1, 2])
def test_random_grid_cells_equal_a_direct_evaluation(loss_type, seed):
    t = state(loss_type, seed, classes=4)
    rng = np.random.default_rng(seed)
    k = 3 * t.classes
    for _ in range(5):
        p1, p2 = rng.choice(k, 2, replace=False)
        xs, ys, loss = surface.surface(t.problem(), t.W, t.b, p1, p2, 2.0, 21)
        for i, j in rng.integers(0, 21, (4, 2)):
            assert loss[i, j] == pytest.approx(direct(t, {p1: xs[j], p2: ys[i]}), rel=1e-12, abs=1e-12)


def test_rows_follow_p2_and_columns_follow_p1():
    t = state()
    xs, ys, loss = surface.surface(t.problem(), t.W, t.b, 0, 8, 3.0, 7)  # W[0,0] across, b[2] down
    assert loss.shape == (7, 7)
    np.testing.assert_allclose(xs, t.W[0, 0] + np.linspace(-3, 3, 7))
    np.testing.assert_allclose(ys, t.b[2] + np.linspace(-3, 3, 7))
    # the regularization term changes along W[0,0] only, so the transpose would be a different array
    assert not np.allclose(loss, loss.T)
    assert loss[0, 6] == pytest.approx(direct(t, {0: xs[6], 8: ys[0]}), rel=1e-12)
    assert loss[6, 0] == pytest.approx(direct(t, {0: xs[0], 8: ys[6]}), rel=1e-12)


def test_a_non_square_slice_of_a_larger_model():
    t = state("softmax", seed=3, classes=5)
    xs, ys, loss = surface.surface(t.problem(), t.W, t.b, 13, 3, 0.5, 5)  # b[3] across, W[1,1] down
    assert loss[1, 4] == pytest.approx(direct(t, {13: xs[4], 3: ys[1]}), rel=1e-12)


def test_chunking_does_not_change_the_values(monkeypatch):
    t = state("svm_structured", seed=4)
    whole = surface.surface(t.problem(), t.W, t.b, 2, 6, 1.5, 31)[2]
    monkeypatch.setattr(surface, "CHUNK_ELEMENTS", 1)  # one grid row at a time
    np.testing.assert_array_equal(surface.surface(t.problem(), t.W, t.b, 2, 6, 1.5, 31)[2], whole)


def test_a_line_along_one_parameter_is_a_surface_row():
    t = state("svm_ova")
    offsets, loss = surface.line(t.problem(), t.W, t.b, 1, 3.0, 61)
    np.testing.assert_array_equal(offsets, np.linspace(-3, 3, 61))
    for j in (0, 17, 30, 60):
        assert loss[j] == pytest.approx(direct(t, {1: t.W[0, 1] + offsets[j]}), rel=1e-12)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_the_loss_goes_down_along_the_negative_gradient(loss_type):
    t = state(loss_type)
    offsets, loss = surface.line(t.problem(), t.W, t.b, "gradient", 0.05, 11)
    centre = loss[5]
    assert centre == pytest.approx(t.evaluation.loss, rel=1e-13)
    assert loss[6] < centre < loss[4]
    ev = t.evaluation
    g = pack(ev.dW, ev.db)
    # first-order: L(θ − a·g/|g|) ≈ L(θ) − a·|g| for a small step a
    assert (centre - loss[6]) / offsets[6] == pytest.approx(np.linalg.norm(g), rel=0.05)


def test_the_gradient_direction_is_a_unit_vector():
    t = state("softmax")
    offsets, loss = surface.line(t.problem(), t.W, t.b, "gradient", 1.0, 3)
    ev = t.evaluation
    g = pack(ev.dW, ev.db)
    theta = pack(t.W, t.b) - g / np.linalg.norm(g)
    s = t.settings
    assert loss[2] == pytest.approx(total_loss(*unpack(theta, 3), t.X, t.y, s.reg, s.loss_type), rel=1e-12)


def test_a_zero_gradient_line_is_flat():
    # one point of each class at the same place: the hinge pulls cancel exactly, L = K − 1 everywhere nearby
    t = Trainer.create(seed=0, reg=0.0, W=[[0, 0], [0, 0], [0, 0]], b=[0, 0, 0],
                       X=[[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], y=[0, 1, 2])
    assert not pack(t.evaluation.dW, t.evaluation.db).any()
    offsets, loss = surface.line(t.problem(), t.W, t.b, "gradient", 1.0, 5)
    assert loss.tolist() == [2.0] * 5  # no division by a zero norm
