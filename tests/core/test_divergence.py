"""The divergence watch: its two signs on hand-made loss sequences, the rule 2·λ·η ≥ 2, and its life in a
trainer (latched, cleared by a change or a reset, carried by records). The grid of healthy and diverging
runs is tested through the API (tests/api/test_divergence.py)."""

import pytest

from app.core import divergence
from app.core.divergence import FLIPS, GROWTH_RATIO, LOSS_FLOOR, RISES, Watch
from app.core.model import REG_GRADIENTS
from app.core.settings import Settings
from app.core.trainer import Trainer


def watched(losses, flipped=()):
    """A watch fed ``losses`` (the first is where the run starts); returns it and the index where it fired."""
    w = Watch()
    w.begin(losses[0])
    fired = None
    for i in range(1, len(losses)):
        w.observe(losses[i - 1], losses[i], i - 1 < len(flipped) and flipped[i - 1])
        if w.diverging and fired is None:
            fired = i
    return w, fired


def test_growth_fires_once_far_above_the_lowest_and_still_rising():
    assert (GROWTH_RATIO, LOSS_FLOOR, RISES) == (10.0, 1.0, 3)  # the numbers below are built on these
    # lowest 2.0; the loss reaches 20 (10×) on the third rise in a row
    w, fired = watched([5.0, 2.0, 8.0, 15.0, 20.0, 25.0])
    assert fired == 4 and w.lowest == 2.0
    w, fired = watched([5.0, 2.0, 8.0, 15.0, 19.9, 25.0])  # 19.9 is not yet 10× the lowest
    assert fired == 5


def test_far_above_but_falling_or_rising_but_near_does_not_fire():
    assert watched([3.0, 2.0, 50.0, 40.0, 30.0, 45.0, 44.0])[1] is None  # never three rises in a row
    assert watched([10.0, 10.5, 11.0, 12.0, 13.0, 14.0, 15.0])[1] is None  # rising, but < 10× the lowest


def test_the_floor_keeps_tiny_losses_from_making_huge_ratios():
    # the loss rose 500-fold from 0.001, but stayed below 10 × LOSS_FLOOR: noise around a fit, not a blow-up
    assert watched([0.01, 0.001, 0.01, 0.1, 0.5, 9.9])[1] is None
    assert watched([0.01, 0.001, 0.01, 0.1, 0.5, 10.0])[1] == 5


def test_flips_fire_after_enough_in_a_row():
    flat = [3.0] * (FLIPS + 3)  # a 2-cycle: the loss does not grow at all
    assert watched(flat, [True] * FLIPS)[1] == FLIPS
    broken = [True] * (FLIPS - 1) + [False] + [True] * (FLIPS - 1)
    assert watched(flat + flat, broken)[1] is None


def test_the_watch_latches_until_restarted():
    w, fired = watched([1.0, 5.0, 20.0, 40.0, 1.0, 1.0])
    assert fired == 3 and w.diverging  # the loss fell back, the flag stays
    w.restart()
    assert (w.lowest, w.rises, w.flips, w.diverging) == (None, 0, 0, False)


@pytest.mark.parametrize("changes, factor", [
    ({}, 1 - 2 * 0.1 * 0.1),
    ({"step_size": 10}, -1.0),
    ({"reg": 10}, -1.0),
    ({"reg_gradient": "original", "step_size": 10}, 1 - 0.5 * 0.1 * 10),
    ({"optimizer": "sgd", "step_size": 3}, 1 - 2 * 0.1 * 3),
    ({"optimizer": "numerical", "reg_gradient": "original", "step_size": 10}, -1.0),  # centered differences of λΣW²
    ({"optimizer": "random_search"}, None),
])
def test_reg_factor(changes, factor):
    got = divergence.reg_factor(Settings(**changes), REG_GRADIENTS)
    assert got == (None if factor is None else pytest.approx(factor, abs=1e-15))


@pytest.mark.parametrize("reg, step_size, holds", [
    (0.1, 10, True), (1, 1, True), (10, 0.1, True), (0.3, 1 / 0.3, True), (0.7, 1 / 0.7, True),
    (0.25, 1, False), (0.1, 3, False), (0.1, 9.99, False), (1000, 1000, True), (0, 1000, False),
])
def test_the_rule_two_lambda_eta_at_least_two(reg, step_size, holds):
    factor = divergence.reg_factor(Settings(reg=reg, step_size=step_size), REG_GRADIENTS)
    assert divergence.rule_holds(factor) is holds
    assert divergence.cause(True, factor) == ("regularization" if holds else "step_size")
    assert divergence.cause(False, factor) is None


def test_a_trainer_at_the_rule_fires_and_a_change_or_reset_clears_it():
    t = Trainer.create(seed=0, step_size=10)
    t.run(100)
    assert t.watch.diverging and not t.diverged
    t.update(step_size=10)  # a change request, even to the same value, starts watching anew
    assert not t.watch.diverging and t.watch.lowest is None
    t.run(100)
    assert t.watch.diverging
    t.reset()
    assert not t.watch.diverging
    t.update(step_size=1)  # 2·0.1·1 < 2: healthy
    t.run(500)
    assert not t.watch.diverging and t.history[-1] < t.history[0]


def test_overflow_is_diverging_too():
    t = Trainer.create(seed=0, step_size=1000, reg=1000)
    t.run(1000)
    assert t.diverged and t.watch.diverging


@pytest.mark.parametrize("split_at", [1, 4, 9, 30])
def test_the_watch_survives_a_record_between_steps(split_at):
    """Steps split across records (as the shared store does between requests) fire at the same step."""
    def first_firing(t, total, chunk):
        for step in range(0, total, chunk):
            t = Trainer.from_record(t.to_record())
            t.run(chunk)
            if t.watch.diverging:
                return t.step
        return None

    whole = Trainer.create(seed=0, reg=10)  # 2·10·0.1 = 2
    fired = next(s for s in range(1, 501) if whole.run(1) and whole.watch.diverging)
    in_chunks = Trainer.create(seed=0, reg=10)
    got = first_firing(in_chunks, 500, split_at)
    assert got is not None and fired <= got < fired + split_at
