"""Datasets: the original nine points and the generated presets, with their contract."""

import numpy as np
import pytest

from app.core import datasets
from app.core.losses import LOSS_TYPES
from app.core.model import evaluate
from app.core.trainer import Trainer

PRESETS = ["blobs", "moons", "circles", "random"]


def test_the_original_nine_points():
    X, y = datasets.original()
    assert X.shape == (9, 2) and X[0].tolist() == [0.5, 0.4] and X[8].tolist() == [-0.4, -0.5]
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    X2, y2 = datasets.make("original", np.random.default_rng(0), 50, 5)  # n and classes do not apply
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("n, classes", [(1, 2), (7, 3), (20, 5), (50, 10)])
def test_presets_keep_the_contract(name, n, classes):
    X, y = datasets.make(name, np.random.default_rng(1), n, classes)
    assert X.shape == (n * classes, 2) and y.shape == (n * classes,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.isfinite(X).all() and np.abs(X).max() <= 1.0
    assert y.min() >= 0 and y.max() < classes


@pytest.mark.parametrize("name", ["blobs", "moons", "circles"])
def test_structured_presets_have_n_points_per_class_in_order(name):
    X, y = datasets.make(name, np.random.default_rng(2), 6, 4)
    assert y.tolist() == [k for k in range(4) for _ in range(6)]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_are_reproducible_by_seed(name):
    a = datasets.make(name, np.random.default_rng(7), 15, 3)
    b = datasets.make(name, np.random.default_rng(7), 15, 3)
    c = datasets.make(name, np.random.default_rng(8), 15, 3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_blobs_cluster_around_their_centres():
    X, y = datasets.make("blobs", np.random.default_rng(3), 400, 3)
    a = 2 * np.pi * np.arange(3) / 3 + np.pi / 6
    centres = 0.55 * np.column_stack([np.cos(a), np.sin(a)])
    for k in range(3):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centres[k], atol=0.03)


def test_circles_are_rings_of_growing_radius():
    X, y = datasets.make("circles", np.random.default_rng(4), 200, 3)
    radii = [np.linalg.norm(X[y == k], axis=1).mean() for k in range(3)]
    np.testing.assert_allclose(radii, [0.3, 0.6, 0.9], atol=0.01)


def test_random_labels_use_every_class():
    _, y = datasets.make("random", np.random.default_rng(5), 100, 4)
    assert np.bincount(y).tolist() != [100] * 4 and set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("name", PRESETS)
def test_one_class_presets_are_all_label_zero(name):
    X, y = datasets.make(name, np.random.default_rng(6), 12, 1)
    assert X.shape == (12, 2) and np.abs(X).max() <= 1.0 and not y.any()


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("optimizer", ["gd", "sgd", "numerical", "random_search"])
def test_one_class_data_trains_to_finite_losses(loss_type, optimizer):
    t = Trainer.create(seed=0, loss_type=loss_type, optimizer=optimizer, y=[0] * 9)
    ev = t.evaluation
    assert np.isfinite(ev.losses).all() and np.isfinite(ev.dW).all() and np.isfinite(ev.db).all()
    assert t.accuracy == pytest.approx(5 / 9)  # the default W already puts five of the points in class 0
    assert t.run(30) == 30 and not t.diverged
    assert all(np.isfinite(t.history)) and t.history[-1] <= t.history[0]


def test_one_class_svm_loss_by_hand():
    # all labels 0: L_i = Σ_{j≠0} max(0, s_j − s_0 + 1); at W = 0, b = 0 every margin is 1
    X, _ = datasets.original()
    ev = evaluate(np.zeros((2, 2)), np.zeros(2), X, np.zeros(9, dtype=np.int64), 0.0, "svm_ww")
    assert ev.loss == 1.0 and ev.db.tolist() == [-1.0, 1.0]
