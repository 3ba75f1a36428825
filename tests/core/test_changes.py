"""Change markers (every change of a setting, the data or the parameters, at its step) and Restore defaults."""

import numpy as np
import pytest

from app.core import changes as change_log
from app.core.changes import MAX_CHANGES
from app.core.settings import Settings
from app.core.trainer import Trainer
from app.core.validation import InvalidInput


def test_every_change_is_marked_at_its_step():
    t = Trainer.create(seed=0)
    t.run(3)
    t.update(loss_type="softmax", reg=0.5)
    t.run(2)
    t.update(step_size=1.0, optimizer="sgd")
    t.update(X=t.X[:-1].tolist(), y=t.y[:-1].tolist())
    t.run(1)
    t.update(W=(t.W * 2).tolist())
    assert t.changes == [
        {"step": 3, "what": "loss_type", "value": "softmax"}, {"step": 3, "what": "reg", "value": 0.5},
        {"step": 5, "what": "step_size", "value": 1.0}, {"step": 5, "what": "optimizer", "value": "sgd"},
        {"step": 5, "what": "data", "value": 8}, {"step": 6, "what": "params", "value": None},
    ]
    assert t.segments == [[0, "gd"], [5, "sgd"]]  # unchanged, for compatibility


def test_unchanged_values_make_no_marker_and_a_dragged_slider_one():
    t = Trainer.create(seed=0)
    t.run(2)
    t.update(step_size=0.1, reg=0.1, W=t.W.tolist())  # the values it already has
    assert t.changes == []
    for v in (0.2, 0.3, 0.4):
        t.update(step_size=v)
    assert t.changes == [{"step": 2, "what": "step_size", "value": 0.4}]
    t.update(step_size=0.5, reg=0.2)
    t.update(step_size=0.6)  # not the last entry any more: a new one
    assert [c["what"] for c in t.changes] == ["step_size", "reg", "step_size"]


def test_the_log_keeps_the_last_entries_and_a_reset_clears_it():
    t = Trainer.create(seed=0)
    for i in range(MAX_CHANGES + 20):
        t.update(reg=0.01 * (i + 1))
        t.run(1)
    assert len(t.changes) == MAX_CHANGES and t.changes[-1] == {"step": MAX_CHANGES + 19, "what": "reg",
                                                              "value": pytest.approx(0.01 * (MAX_CHANGES + 20))}
    assert t.changes[0]["step"] == 20
    t.reset()
    assert t.changes == []


def test_a_preset_edited_by_hand_is_no_preset_any_more():
    t = Trainer.create(seed=0)
    assert t.preset["name"] == "original"
    t.reset(seed=2, data="blobs", n=4, classes=2)
    assert t.preset["name"] == "blobs" and t.preset["seed"] == 2
    t.update(reg=0.3)
    assert t.preset["name"] == "blobs"
    t.update(X=(t.X * 0.5).tolist())
    assert t.preset is None and t.changes[-1] == {"step": 0, "what": "data", "value": 8}


def test_restore_defaults_brings_back_the_original_demo():
    fresh = Trainer.create(seed=7)
    t = Trainer.create(seed=0, loss_type="softmax", step_size=10, reg=2, optimizer="sgd", batch_size=2)
    t.reset(seed=3, data="moons", n=20, classes=5, test_fraction=0.3, noise=0.1)
    t.run(30)
    t.restore_defaults(seed=7)
    assert t.settings == Settings() and t.test_set is None and t.preset == fresh.preset
    record, expected = t.to_record(), fresh.to_record()
    seeded = np.random.default_rng(7).bit_generator.state["state"]["state"]
    assert record.pop("rng_state")["state"]["state"] == str(seeded)
    assert expected.pop("rng_state") is None  # a fresh trainer draws its generator when first used, from the seed
    assert record == expected


def test_reset_keeps_the_settings_and_data_but_restore_does_not():
    t = Trainer.create(seed=0, step_size=10)
    t.reset(seed=3, data="blobs", n=5, classes=4, test_fraction=0.4)
    X, held = t.X.copy(), t.test_set.X.copy()
    t.run(20)
    t.reset()
    assert t.settings.step_size == 10 and t.step == 0 and t.classes == 4
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.test_set.X, held)
    assert t.test_set.history == [t.test_evaluation[0]]
    t.restore_defaults()
    assert t.settings.step_size == 0.1 and len(t.y) == 9 and t.classes == 3


@pytest.mark.parametrize("bad", [[{"step": 99, "what": "reg", "value": 1}], [{"step": 0, "what": "lr", "value": 1}],
                                 [{"step": 0, "what": "reg"}], [{"step": 0, "what": "reg", "value": [1]}], "x"])
def test_a_bad_change_list_in_a_record_is_rejected(bad):
    t = Trainer.create(seed=0)
    t.run(3)
    with pytest.raises(InvalidInput) as e:
        Trainer.from_record({**t.to_record(), "changes": bad})
    assert e.value.field == "changes"


def test_mark_merges_only_the_same_thing_at_the_same_step():
    log = []
    change_log.mark(log, 1, "reg", 0.2)
    change_log.mark(log, 1, "reg", 0.3)
    change_log.mark(log, 2, "reg", 0.4)
    change_log.mark(log, 2, "params")
    assert log == [{"step": 1, "what": "reg", "value": 0.3}, {"step": 2, "what": "reg", "value": 0.4},
                   {"step": 2, "what": "params", "value": None}]
