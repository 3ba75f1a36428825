"""Loss surfaces and lines: every grid value is the total loss at the parameters it claims to be at, in
bounded memory at any size."""

import tracemalloc

import numpy as np
import pytest

from app.core import chunks, surface
from app.core.losses import LOSS_TYPES
from app.core.model import total_loss
from app.core.optimizers import Problem, pack, unpack
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
    ("W[٠,0]", 3, None), ("W[0,٠]", 3, None), ("b[１]", 3, None), ("W[0,0]\n", 3, None), ("b[1]\n", 3, None),
])
def test_param_index(name, classes, index):
    assert surface.param_index(name, classes) == index


@pytest.mark.parametrize("name, index", [("W[0,2]", 2), ("W[1,0]", 5), ("W[3,4]", 19), ("b[0]", 20), ("b[3]", 23),
                                         ("W[0,5]", None), ("W[4,0]", None), ("b[4]", None)])
def test_param_index_for_any_input_dimension(name, index):
    assert surface.param_index(name, 4, dims=5) == index


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


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_chunking_does_not_change_the_values(monkeypatch, chunk):
    t = state("svm_structured", seed=4)
    whole = surface.surface(t.problem(), t.W, t.b, 2, 6, 1.5, 31)[2]
    monkeypatch.setattr(surface, "CHUNK_ELEMENTS", chunk)  # one example and one grid point at a time, …
    # only the order in which the examples' losses are summed differs
    np.testing.assert_allclose(surface.surface(t.problem(), t.W, t.b, 2, 6, 1.5, 31)[2], whole, rtol=1e-14)


def large_problem(loss_type="svm_ww", classes=10, per_class=1000):
    t = Trainer.create(seed=0, loss_type=loss_type, reg=0.1)
    t.reset("random", seed=2, data="random", n=per_class, classes=classes)
    return t


def peak_bytes(fn):
    """Peak memory traced while ``fn`` runs (NumPy's buffers included), above what was allocated before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_a_long_line_on_the_largest_session_stays_within_the_budget():
    # before the chunks split one grid row: 1001 offsets × 10,000 points × 10 classes at once, over 800 MB
    t = large_problem()
    offsets, loss = [], []
    peak = peak_bytes(lambda: loss.append(surface.line(t.problem(), t.W, t.b, "gradient", 3.0, 1001)[1]))
    assert peak < chunks.WORK_BYTES
    assert loss[0][500] == pytest.approx(t.evaluation.loss, rel=1e-12)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_memory_follows_the_chunk_size_not_the_grid(monkeypatch, loss_type):
    t = large_problem(loss_type, classes=4, per_class=250)
    monkeypatch.setattr(surface, "CHUNK_ELEMENTS", 10_000)  # 80 kB arrays
    peak = peak_bytes(lambda: surface.surface(t.problem(), t.W, t.b, 0, 9, 1.0, 41))
    assert peak < 8 * 8 * 10_000 + 100_000  # eight chunk-sized arrays, and the 41×41 results


def test_a_stop_request_ends_the_computation_between_chunks(monkeypatch):
    t = large_problem(classes=3, per_class=100)
    monkeypatch.setattr(surface, "CHUNK_ELEMENTS", 3000)
    calls = []
    with pytest.raises(chunks.Stopped):
        surface.surface(t.problem(), t.W, t.b, 0, 1, 1.0, 21, stop=lambda: calls.append(1) or len(calls) == 5)
    assert len(calls) == 5


def test_any_input_dimension():
    rng = np.random.default_rng(3)
    X, y = rng.uniform(-1, 1, (30, 4)), np.arange(30) % 3
    W, b = rng.normal(0, 1, (3, 4)), rng.normal(0, 1, 3)
    problem = Problem(X, y, 0.2, "softmax", "exact", 0.1, 4, 1e-4, 1.0)
    p1, p2 = surface.param_index("W[2,3]", 3, 4), surface.param_index("b[1]", 3, 4)
    xs, ys, loss = surface.surface(problem, W, b, p1, p2, 1.0, 5)
    W2, b2 = W.copy(), b.copy()
    W2[2, 3], b2[1] = xs[4], ys[1]
    assert loss[1, 4] == pytest.approx(total_loss(W2, b2, X, y, 0.2, "softmax"), rel=1e-12)
    offsets, along = surface.line(problem, W, b, p1, 1.0, 5)
    np.testing.assert_allclose(along, [total_loss(np.where(np.arange(12).reshape(3, 4) == 11, W + a, W), b, X, y,
                                                  0.2, "softmax") for a in offsets], rtol=1e-12)


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
