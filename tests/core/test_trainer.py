"""The training state: all-or-nothing edits, runs, history, segments, divergence, records."""

import math

import numpy as np
import pytest

from app.core import trainer as trainer_module
from app.core.trainer import Trainer, spread_params
from app.core.validation import InvalidInput


def trained(optimizer="sgd", steps=7, seed=3, **changes):
    t = Trainer.create(seed=seed, optimizer=optimizer, **changes)
    t.run(steps)
    return t


def test_a_new_trainer_is_the_original_demo():
    t = Trainer.create(seed=1)
    assert t.W.tolist() == [[1, 2], [2, -4], [3, -1]] and t.b.tolist() == [0, 0.5, -0.5]
    assert t.evaluation.loss == pytest.approx(6.266666666667, abs=1e-12)
    assert t.accuracy == pytest.approx(2 / 9)
    assert (t.step, t.history, t.history_start, t.segments) == (0, [t.evaluation.loss], 0, [[0, "gd"]])


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "numerical", "random_search"])
def test_n_steps_at_once_equal_n_single_steps(optimizer):
    a, b = Trainer.create(seed=5, optimizer=optimizer), Trainer.create(seed=5, optimizer=optimizer)
    assert a.run(12) == 12
    for _ in range(12):
        b.run(1)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.b, b.b)
    assert a.history == b.history and len(a.history) == 13 and a.step == b.step == 12
    assert a.last_batch == b.last_batch and (a.tries, a.accepted) == (b.tries, b.accepted)


BAD_EDITS = [
    ({"W": [[1, 2], [3]]}, "W"),
    ({"W": [[1, 2, 3], [1, 2, 3], [1, 2, 3]]}, "W"),
    ({"W": [[1, 2]] * 11, "b": [0] * 11}, "W"),
    ({"W": [[2e6, 0], [0, 0], [0, 0]]}, "W"),
    ({"W": [[math.nan, 0], [0, 0], [0, 0]]}, "W"),
    ({"W": [[1, 2], [3, 4]]}, "W"),  # b still has 3 entries
    ({"b": [0, 0]}, "b"),
    ({"W": [[1, 2], [3, 4]], "b": [0, 0]}, "W"),  # the labels need 3 classes
    ({"b": [0, math.inf, 0]}, "b"),
    ({"X": [[0, 0]]}, "X"),
    ({"y": [0, 1, 2, 0, 1, 2, 0, 1, 3]}, "y"),
    ({"y": [0, 1, 2, 0, 1, 2, 0, 1, 0.5]}, "y"),
    ({"y": [0, 1]}, "y"),
    ({"step_size": 0}, "step_size"),
    ({"step_size": 1000.5}, "step_size"),
    ({"reg": -0.1}, "reg"),
    ({"reg": math.nan}, "reg"),
    ({"h": 0}, "h"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": True}, "batch_size"),
    ({"loss_type": "hinge"}, "loss_type"),
    ({"optimizer": "adam"}, "optimizer"),
    ({"reg_gradient": "half"}, "reg_gradient"),
    ({"lr": 0.1}, "lr"),
    ({"reg": 0.5, "step_size": -1}, "step_size"),  # a valid change beside a bad one is not applied either
]


@pytest.mark.parametrize("changes, field", BAD_EDITS)
def test_a_rejected_edit_names_the_field_and_changes_nothing(changes, field):
    t = trained()
    before = t.to_record()
    with pytest.raises(InvalidInput) as e:
        t.update(**changes)
    assert e.value.field == field
    assert t.to_record() == before


def test_too_many_points_are_rejected():
    t = Trainer.create(seed=0, max_points=10)
    X = np.zeros((11, 2)).tolist()
    with pytest.raises(InvalidInput) as e:
        t.update(X=X, y=[0] * 11)
    assert e.value.field == "X" and len(t.y) == 9
    t.update(X=X[:10], y=[0] * 10)
    assert len(t.y) == 10


def test_edits_never_reset_parameters_or_history():
    t = trained("gd", 5)
    W, b, history = t.W.copy(), t.b.copy(), list(t.history)
    t.update(loss_type="softmax", reg=0.0, step_size=0.5, optimizer="sgd", batch_size=2, h=1e-3)
    np.testing.assert_array_equal(t.W, W)
    np.testing.assert_array_equal(t.b, b)
    assert t.history == history and t.step == 5
    assert t.evaluation.reg_loss == 0 and t.evaluation.loss == t.evaluation.data_loss  # re-evaluated


def test_segments_record_optimizer_changes_without_resetting_history():
    t = trained("gd", 3)
    t.update(optimizer="sgd")
    t.run(2)
    t.update(optimizer="numerical")
    t.update(optimizer="random_search")  # no step in between: replaces the last segment's optimizer
    t.run(4)
    t.update(reg=0.2)  # not an optimizer change
    assert t.segments == [[0, "gd"], [3, "sgd"], [5, "random_search"]]
    assert t.step == 9 and len(t.history) == 10 and t.history_start == 0


def test_a_huge_step_size_diverges_to_the_last_finite_state():
    t = Trainer.create(seed=0, step_size=1000)
    taken = t.run(10_000)
    assert t.diverged and 0 < taken < 10_000 and t.step == taken
    assert len(t.history) == taken + 1 and all(map(math.isfinite, t.history))
    ev = t.evaluation
    for a in (t.W, t.b, ev.dW, ev.db, ev.scores, ev.losses):
        assert np.isfinite(a).all()
    assert math.isfinite(ev.loss) and ev.loss > 1e100
    assert t.run(1) == 0 and t.diverged and t.step == taken  # stays at the last finite state
    t.reset()
    assert not t.diverged and t.step == 0 and t.history == [pytest.approx(6.266666666667, abs=1e-12)]


def test_history_keeps_the_most_recent_losses(monkeypatch):
    monkeypatch.setattr(trainer_module, "MAX_HISTORY", 5)
    t = Trainer.create(seed=0)
    t.run(3)
    full = list(t.history)
    t.run(4)
    assert t.step == 7 and t.history_start == 3 and len(t.history) == 5
    assert t.history[0] == full[3]


@pytest.mark.parametrize("params", ["default", "random"])
def test_reset_clears_the_history_and_is_reproducible_by_seed(params):
    a, b = trained(), trained(seed=99)
    a.reset(params, seed=42)
    b.reset(params, seed=42)
    np.testing.assert_array_equal(a.W, b.W)
    assert (a.step, a.history_start, a.segments, a.seed) == (0, 0, [[0, "sgd"]], 42)
    assert a.history == [a.evaluation.loss]
    a.run(5)
    b.run(5)
    assert a.history == b.history  # the generator restarts from the seed too


def test_reset_random_draws_uniform_parameters_that_differ_by_seed():
    t = Trainer.create(seed=0)
    t.reset("random", seed=1)
    W1 = t.W.copy()
    t.reset("random", seed=2)
    assert not np.array_equal(W1, t.W)
    assert np.abs(t.W).max() <= 1 and np.abs(t.b).max() <= 1


@pytest.mark.parametrize("kwargs, field", [({"classes": 2}, "classes"), ({"classes": 11}, "classes"),
                                           ({"data": "blobs", "n": 5001, "classes": 2}, "n")])
def test_a_rejected_reset_changes_nothing(kwargs, field):
    t = trained()
    before = t.to_record()
    with pytest.raises(InvalidInput) as e:
        t.reset(seed=1, **kwargs)
    assert e.value.field == field and t.to_record() == before


def test_spread_params_are_unit_vectors_around_the_circle():
    W, b = spread_params(4)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1, atol=1e-15)
    np.testing.assert_allclose(W @ W[0], [1, 0, -1, 0], atol=1e-15)  # 90° apart
    assert b.tolist() == [0] * 4
    assert spread_params(3)[0].tolist() == [[1, 2], [2, -4], [3, -1]]


@pytest.mark.parametrize("optimizer", ["sgd", "random_search"])
def test_a_record_round_trips_and_continues_identically(optimizer):
    a = trained(optimizer, 7, batch_size=3)
    b = Trainer.from_record(a.to_record())
    assert b.to_record() == a.to_record()
    a.run(20)
    b.run(20)
    assert a.history == b.history and a.last_batch == b.last_batch and a.to_record() == b.to_record()


@pytest.mark.parametrize("change, field", [
    ({"history": []}, "history"), ({"step": 0}, "history"), ({"segments": [[0, "adam"]]}, "segments"),
    ({"seed": -1}, "seed"), ({"rng_state": {"state": 5}}, "rng_state"), ({"W": "W"}, "W"),
])
def test_a_bad_record_is_rejected_with_the_field(change, field):
    record = {**trained().to_record(), **change}
    with pytest.raises(InvalidInput) as e:
        Trainer.from_record(record)
    assert e.value.field == field


@pytest.mark.parametrize("loss_type", ["svm_ww", "svm_structured", "softmax"])
def test_a_step_on_a_large_session_stays_within_the_memory_budget(loss_type):
    # 300,000 points × 10 classes: the scores alone are 24 MB; the loss's working arrays come in chunks
    import tracemalloc

    from app.core.chunks import WORK_BYTES

    rng = np.random.default_rng(0)
    n = 300_000
    t = Trainer.create(seed=0, max_points=n, loss_type=loss_type, X=rng.uniform(-1, 1, (n, 2)),
                       y=rng.integers(0, 10, n), W=rng.normal(0, 1, (10, 2)), b=np.zeros(10))
    t.evaluation
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        t.run(1)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < WORK_BYTES and t.step == 1
