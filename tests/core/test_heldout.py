"""Held-out data: the split, the preset's spread, test losses checked by loops, and that no test point is
ever trained on."""

import numpy as np
import pytest

from app.core import datasets, heldout
from app.core import trainer as trainer_module
from app.core.losses import LOSS_TYPES
from app.core.trainer import Trainer
from app.core.validation import InvalidInput
from tests.core.test_losses import naive_loss


def loop_test_loss(W, b, X, y, loss_type):
    """Mean data loss over (X, y), scores and losses by plain loops."""
    s = [[sum(W[k][d] * x[d] for d in range(len(x))) + b[k] for k in range(len(b))] for x in X]
    return sum(naive_loss(s, y, loss_type)) / len(y)


@pytest.mark.parametrize("n, fraction, expected", [(10, 0.0, 0), (10, 0.2, 2), (10, 0.25, 3), (10, 0.5, 5),
                                                   (7, 0.5, 4), (2, 0.5, 1), (3, 0.1, 0), (100, 0.33, 33)])
def test_split_sizes_and_order(n, fraction, expected):
    X, y = np.arange(2 * n, dtype=float).reshape(n, 2), np.arange(n) % 3
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    Xa, ya, Xt, yt = heldout.split(rng, X, y, fraction)
    if expected == 0:
        assert Xt is yt is None and Xa is X and rng.bit_generator.state == before  # nothing drawn
        return
    assert len(yt) == len(Xt) == expected and len(ya) == len(Xa) == n - expected
    rows = sorted(Xa[:, 0].tolist() + Xt[:, 0].tolist())
    assert rows == X[:, 0].tolist()  # every point exactly once
    assert Xa[:, 0].tolist() == sorted(Xa[:, 0]) and Xt[:, 0].tolist() == sorted(Xt[:, 0])  # order kept
    np.testing.assert_array_equal(yt, (Xt[:, 0] // 2).astype(int) % 3)  # labels travel with their points


@pytest.mark.parametrize("fraction", [-0.01, 0.51, 1.0])
def test_split_refuses_fractions_outside_0_to_half(fraction):
    with pytest.raises(InvalidInput) as e:
        heldout.split(np.random.default_rng(0), np.zeros((4, 2)), np.zeros(4, int), fraction)
    assert e.value.field == "test_fraction"


@pytest.mark.parametrize("name", ["blobs", "moons", "circles"])
def test_the_default_spread_draws_the_same_points_as_before(name):
    default = datasets.NOISE[name][0]
    a = datasets.make(name, np.random.default_rng(3), 15, 4)
    b = datasets.make(name, np.random.default_rng(3), 15, 4, default)
    np.testing.assert_array_equal(a[0], b[0])


def test_blobs_spread_is_the_noise():
    for noise in (0.05, 0.3):
        X, y = datasets.make("blobs", np.random.default_rng(1), 3000, 2, noise)
        a = 2 * np.pi * np.arange(2) / 2 + np.pi / 6
        centres = 0.55 * np.column_stack([np.cos(a), np.sin(a)])
        assert np.std(X - centres[y]) == pytest.approx(noise, rel=0.05)
    X0, _ = datasets.make("blobs", np.random.default_rng(1), 10, 3, 0.0)
    assert len(np.unique(X0.round(12), axis=0)) == 3  # no spread: every point on its centre


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("name", ["blobs", "moons", "circles", "random"])
def test_reset_holds_out_a_fraction_and_test_loss_matches_loops(loss_type, name):
    t = Trainer.create(seed=0, loss_type=loss_type)
    t.reset(seed=5, data=name, n=10, classes=4, test_fraction=0.3)
    assert (len(t.y), len(t.test_set.y)) == (28, 12)
    assert t.preset == {"name": name, "seed": 5, "n": 10, "classes": 4, "noise": datasets.NOISE.get(name, (None,))[0],
                        "test_fraction": 0.3}
    t.run(5)
    loss, acc = t.test_evaluation
    X, y = t.test_set.X.tolist(), t.test_set.y.tolist()
    assert loss == pytest.approx(loop_test_loss(t.W.tolist(), t.b.tolist(), X, y, loss_type), rel=1e-12)
    predicted = [int(np.argmax([sum(w * v for w, v in zip(Wk, x)) + bk for Wk, bk in zip(t.W, t.b)])) for x in X]
    assert acc == sum(p == label for p, label in zip(predicted, y)) / len(y)


def test_the_same_seed_redraws_the_same_data_and_split_and_a_new_one_differs():
    a, b, c = (Trainer.create(seed=0) for _ in range(3))
    a.reset(seed=9, data="moons", n=30, classes=3, test_fraction=0.2, noise=0.1)
    b.reset(seed=9, data="moons", n=30, classes=3, test_fraction=0.2, noise=0.1)
    c.reset(seed=10, data="moons", n=30, classes=3, test_fraction=0.2, noise=0.1)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.test_set.X, b.test_set.X)
    assert not np.array_equal(a.X, c.X)
    whole = datasets.make("moons", np.random.default_rng(9), 30, 3, 0.1)[0]
    assert sorted(map(tuple, np.vstack([a.X, a.test_set.X]))) == sorted(map(tuple, whole))


@pytest.mark.parametrize("kwargs, field", [
    ({"data": "blobs", "test_fraction": 0.6}, "test_fraction"),
    ({"data": "original", "test_fraction": 0.2}, "test_fraction"),
    ({"test_fraction": 0.2}, "test_fraction"),  # no preset loaded: nothing to split
    ({"data": "blobs", "noise": 0.51}, "noise"),
    ({"data": "circles", "noise": -0.1}, "noise"),
    ({"data": "random", "noise": 0.1}, "noise"),
    ({"noise": 0.1}, "noise"),
    ({"data": "blobs", "n": 3000, "classes": 4, "test_fraction": 0.5}, "n"),  # 12,000 points in all
])
def test_a_rejected_reset_with_held_out_options_changes_nothing(kwargs, field):
    t = Trainer.create(seed=0)
    t.reset(seed=1, data="blobs", n=5, classes=3, test_fraction=0.4)
    t.run(3)
    before = t.to_record()
    with pytest.raises(InvalidInput) as e:
        t.reset(seed=2, **kwargs)
    assert e.value.field == field and t.to_record() == before


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "numerical", "random_search"])
def test_test_points_are_never_trained_on(optimizer):
    """Moving every test point (and relabelling them) changes the test losses, not one training number."""
    a, b = Trainer.create(seed=4, optimizer=optimizer), Trainer.create(seed=4, optimizer=optimizer)
    for t in (a, b):
        t.reset(seed=4, data="blobs", n=10, classes=3, test_fraction=0.5)
    moved = -b.test_set.X
    b.update(X_test=moved.tolist(), y_test=((b.test_set.y + 1) % 3).tolist())
    a.run(40)
    b.run(40)
    np.testing.assert_array_equal(a.W, b.W)
    assert a.history == b.history and a.last_batch == b.last_batch
    assert a.test_set.history != b.test_set.history


def test_the_test_history_follows_every_step_and_is_trimmed_with_the_history(monkeypatch):
    monkeypatch.setattr(trainer_module, "MAX_HISTORY", 6)
    t = Trainer.create(seed=0)
    t.reset(seed=3, data="circles", n=8, classes=2, test_fraction=0.25)
    expected = [t.test_evaluation[0]]
    for _ in range(9):
        t.run(1)
        expected.append(t.test_evaluation[0])
    assert t.history_start == 4 and len(t.history) == len(t.test_set.history) == 6
    assert t.test_set.history == pytest.approx(expected[4:], rel=1e-15)


def test_editing_the_test_set():
    t = Trainer.create(seed=0)
    t.reset(seed=3, data="blobs", n=6, classes=3, test_fraction=0.5)
    t.run(2)
    with pytest.raises(InvalidInput) as e:
        t.update(W=[[1, 0], [0, 1]], b=[0, 0], y=[0] * len(t.y))  # the test labels still need 3 classes
    assert e.value.field == "W"
    with pytest.raises(InvalidInput) as e:
        t.update(X_test=[[0, 0]])
    assert e.value.field == "y_test"
    t.update(X_test=[], y_test=[])  # no test set any more
    assert t.test_set is None and t.test_evaluation == (None, None) and t.preset is None
    t.update(X_test=[[0.5, 0.5]], y_test=[2])  # a new one: no test loss for the steps before it
    assert t.test_set.history == [None, None, None]
    t.run(1)
    assert t.test_set.history[:3] == [None] * 3 and t.test_set.history[3] == t.test_evaluation[0]


def test_a_record_carries_the_test_set_and_continues_identically():
    a = Trainer.create(seed=0, optimizer="sgd")
    a.reset(seed=3, data="moons", n=12, classes=3, test_fraction=0.25, noise=0.2)
    a.run(7)
    b = Trainer.from_record(a.to_record())
    assert b.to_record() == a.to_record()
    np.testing.assert_array_equal(a.test_set.X, b.test_set.X)
    a.run(10)
    b.run(10)
    assert a.to_record() == b.to_record() and len(b.test_set.history) == 18


@pytest.mark.parametrize("change, field", [
    ({"test_history": [1.0]}, "test_history"),  # not one per history entry
    ({"test_history": None}, "test_history"),
    ({"y_test": [7] * 9}, "y_test"),
    ({"X_test": [[0, 0]] * 9, "y_test": None}, "y_test"),
])
def test_a_bad_test_set_in_a_record_is_rejected(change, field):
    a = Trainer.create(seed=0)
    a.reset(seed=3, data="blobs", n=6, classes=3, test_fraction=0.5)
    a.run(2)
    with pytest.raises(InvalidInput) as e:
        Trainer.from_record({**a.to_record(), **change})
    assert e.value.field == field
