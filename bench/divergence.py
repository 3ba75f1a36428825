"""How far the divergence watch's thresholds are from the runs of issue 12 (app/core/divergence.py).

Runs, in process, every loss on the original points and on every preset (two seeds, 2–5 classes, 1, 20 and
200 points per class): the diverging settings (gd at step size 10 with λ = 0.1 and at 1 with λ = 1 for 100
steps, at 0.1 with λ = 10 for 500; sgd at 10 with λ = 0.1 and the numerical gradient at 1 with λ = 1 for 100)
and the healthy ones (gd at 1 with λ = 0.25 and at 3 with λ = 0.1, sgd batch 1 at 0.5 with λ = 0.25 and batch 2
at 0.1 with λ = 0, random search, and the numerical gradient at 0.1, 1 and 3) for ``--steps`` steps (the
numerical gradient: at most 300, and only up to 20 points per class). It prints:

* healthy: the largest growth ratio ``loss / max(lowest loss so far, LOSS_FLOOR)`` met with the loss rising
  ``RISES`` steps in a row (the growth sign fires at ``GROWTH_RATIO``), the largest without that condition,
  the longest run of W reversals (which count only under the rule, false on all of them), and any firing;
* diverging: per setting, the latest step at which the watch fired against the step it must fire by, which
  sign fired first, and how many runs the growth sign alone would have missed.

    .venv/bin/python bench/divergence.py [--steps 1000] [--quick]
"""

import argparse
import time

import numpy as np

from app.core import divergence
from app.core.losses import LOSS_TYPES
from app.core.model import REG_GRADIENTS
from app.core.optimizers import OPTIMIZERS
from app.core.trainer import Trainer

DIVERGING = [("gd", 10, 0.1, 100, 1), ("gd", 1, 1, 100, 1), ("gd", 0.1, 10, 500, 1), ("sgd", 10, 0.1, 100, 4),
             ("numerical", 1, 1, 100, 1)]  # optimizer, step size, λ, must fire within, batch size
HEALTHY = [("gd", 1, 0.25, None, 1), ("gd", 3, 0.1, None, 1), ("sgd", 0.5, 0.25, None, 1),
           ("sgd", 0.1, 0.0, None, 2), ("random_search", 0.1, 0.1, None, 1), ("numerical", 0.1, 0.1, None, 1),
           ("numerical", 1, 0.25, None, 1), ("numerical", 3, 0.1, None, 1)]


def data_sets(quick):
    yield None
    seeds, sizes = ((0,), (1, 20)) if quick else ((0, 1), (1, 20, 200))
    for name in ("blobs", "moons", "circles", "random"):
        for seed in seeds:
            for classes in (2, 3, 4, 5):
                for n in sizes:
                    yield name, seed, classes, n


def follow(data, loss_type, optimizer, step_size, reg, batch_size, steps):
    """One run, watched as the trainer watches it; returns the losses, the W reversals under the rule, the
    step and sign at which the watch fired (or None), and the longest run of reversals."""
    t = Trainer.create(seed=0 if data is None else data[1], loss_type=loss_type, optimizer=optimizer,
                       step_size=step_size, reg=reg, batch_size=batch_size)
    if data is not None:
        name, seed, classes, n = data
        t.reset(seed=seed, data=name, n=n, classes=classes)
    problem, step_fn, rng = t.problem(), OPTIMIZERS[optimizer], t.rng
    rule = divergence.rule_holds(divergence.reg_factor(t.settings, REG_GRADIENTS))
    W, b, ev = t.W, t.b, t.evaluation
    watch = divergence.Watch()
    watch.begin(ev.loss)
    losses, fired, sign, streak, longest = [ev.loss], None, None, 0, 0
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, steps + 1):
            st = step_fn(problem, W, b, ev, rng)
            flipped = float(np.vdot(st.W, W)) < 0
            streak = streak + 1 if flipped else 0
            longest = max(longest, streak)
            watch.observe(ev.loss, st.ev.loss, rule and flipped)
            if watch.diverging and fired is None:
                fired, sign = i, "flips" if watch.flips >= divergence.FLIPS else "growth"
            W, b, ev = st.W, st.b, st.ev
            losses.append(ev.loss)
    return np.array(losses), fired, sign, longest


def growth_ratios(losses):
    """``(largest ratio with RISES rises in a row, largest ratio)`` of loss / max(lowest so far, floor)."""
    ratio = losses / np.maximum(np.minimum.accumulate(losses), divergence.LOSS_FLOOR)
    rises = np.zeros(len(losses), dtype=int)
    for i in range(1, len(losses)):
        rises[i] = rises[i - 1] + 1 if losses[i] > losses[i - 1] else 0
    return float(np.max(np.where(rises >= divergence.RISES, ratio, 0))), float(ratio.max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="steps of each healthy run")
    parser.add_argument("--quick", action="store_true", help="one seed, up to 20 points per class")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    healthy, diverging = [], {}
    for data in data_sets(args.quick):
        for loss_type in LOSS_TYPES:
            for optimizer, step_size, reg, within, batch in HEALTHY + DIVERGING:
                big = data is not None and data[3] > 20
                if optimizer == "numerical" and within is None and big:
                    continue
                steps = within or (min(args.steps, 300) if optimizer == "numerical" else args.steps)
                losses, fired, sign, longest = follow(data, loss_type, optimizer, step_size, reg, batch, steps)
                run = (data, loss_type, optimizer, step_size, reg)
                if within is None:
                    healthy.append((growth_ratios(losses), longest, fired, run))
                else:
                    growth_alone = growth_ratios(losses)[0] >= divergence.GROWTH_RATIO
                    diverging.setdefault((optimizer, step_size, reg, within), []).append(
                        (fired, sign, growth_alone, run))
    rising = max(healthy, key=lambda h: h[0][0])
    anyway = max(healthy, key=lambda h: h[0][1])
    flips = max(healthy, key=lambda h: h[1])
    print(f"{len(healthy)} healthy runs of up to {args.steps} steps; thresholds: growth {divergence.GROWTH_RATIO:g}× "
          f"(floor {divergence.LOSS_FLOOR:g}, {divergence.RISES} rises), {divergence.FLIPS} reversals under the rule")
    print(f"  largest ratio while rising {divergence.RISES}×: {rising[0][0]:.2f} "
          f"(margin {divergence.GROWTH_RATIO / rising[0][0]:.1f}×) at {rising[3]}")
    print(f"  largest ratio at all:        {anyway[0][1]:.2f} at {anyway[3]}")
    print(f"  longest run of W reversals:  {flips[1]} steps (the rule is false: not counted) at {flips[3]}")
    print(f"  fired: {[h[3] for h in healthy if h[2] is not None]}")
    for (optimizer, step_size, reg, within), runs in diverging.items():
        steps = [r[0] for r in runs if r[0] is not None]
        missed = [r[3] for r in runs if r[0] is None]
        signs = {s: sum(r[1] == s for r in runs) for s in ("growth", "flips")}
        print(f"{optimizer} step size {step_size:g}, λ = {reg:g}: {len(runs)} runs, fired by step "
              f"{max(steps) if steps else None} (must by {within}), first sign {signs}, growth alone would miss "
              f"{sum(not r[2] for r in runs)}; missed {missed}")
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
