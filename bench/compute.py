"""Issue items 2, 4 and 5: server compute, in process (no HTTP), the work a request does from the trainer on.

* 2 — ``steps=1000`` on the default data: ``trainer.run(1000)`` plus building and rendering the response.
* 4 — one gradient-descent step at 10,000 and 100,000 points (the cap raised, as ``max_points`` allows);
  the response with ``detail=summary`` is timed beside it.
* 5 — the 61×61 loss surface over ``W[0,0], b[1]`` on the default data, rendered as the route does.
* Issue 10 — the gradient check at 10,000 points × 10 classes (float64, every parameter), target ≤ 50 ms.

Each figure is the best of several rounds (the least disturbed on a shared machine); the median is shown
beside it.

    .venv/bin/python bench/compute.py
"""

import numpy as np

from common import best_of, figure, heading, median_of
from app.api import responses
from app.core import datasets, gradcheck, surface
from app.core.losses import LOSS_TYPES
from app.core.trainer import Trainer


def respond(t, detail="full", history_from=None):
    """What the step route does after ``run``: the state dict, rendered to JSON bytes."""
    return responses.JSON(responses.state("0" * 32, t, detail, history_from=history_from)).body


def many_steps():
    heading("2. steps=1000 on the default data, server compute (run + response)")
    for loss_type in LOSS_TYPES:
        t = Trainer.create(seed=1, loss_type=loss_type)
        t.run(1000)

        def request():
            first = t.step + 1
            t.run(1000)
            respond(t, history_from=first)

        ms = best_of(request, repeat=9) * 1e3
        info = f"median {median_of(request, 9) * 1e3:.1f} ms"
        if loss_type == "svm_ww":
            figure("steps=1000, default (svm_ww, gd)", ms, "ms", 50, 30, info)
        else:
            figure(f"  same with {loss_type}", ms, "ms", info=info)


def large_trainer(n, loss_type="svm_ww"):
    X, y = datasets.make("blobs", np.random.default_rng(0), -(-n // 3), 3)
    return Trainer.create(seed=1, max_points=n, loss_type=loss_type, X=X[:n], y=y[:n])


def large_data():
    heading("4. One gd step on large data, server compute (cap raised for 100,000)")
    for n, target in ((10_000, 1.0), (100_000, 10.0)):
        for loss_type in LOSS_TYPES:
            t = large_trainer(n, loss_type)
            t.run(3)
            ms = best_of(lambda: t.run(1), repeat=15) * 1e3
            info = f"median {median_of(lambda: t.run(1), 15) * 1e3:.2f} ms"
            if loss_type == "svm_ww":
                figure(f"gd step, {n:,} points (svm_ww)", ms, "ms", target, info=info)
            else:
                figure(f"  same with {loss_type}", ms, "ms", info=info)
        t = large_trainer(n)
        figure(f"  summary state response, {n:,} points", best_of(lambda: respond(t, "summary")) * 1e3, "ms",
               info=f"{len(respond(t, 'summary'))} bytes")
        figure(f"  full state response, {n:,} points", best_of(lambda: respond(t)) * 1e3, "ms",
               info=f"{len(respond(t)) / 1e6:.1f} MB")


def loss_surface():
    heading("5. 61×61 loss surface on the default data, server compute (surface + response)")
    for loss_type in LOSS_TYPES:
        t = Trainer.create(seed=1, loss_type=loss_type)
        i1, i2 = surface.param_index("W[0,0]", 3), surface.param_index("b[1]", 3)

        def request():
            xs, ys, loss = surface.surface(t.problem(), t.W, t.b, i1, i2, 3.0, 61)
            return responses.JSON({"p1": "W[0,0]", "p2": "b[1]", "xs": xs, "ys": ys,
                                   "loss": responses.finite_or_none(loss)}).body

        ms = best_of(request, repeat=15) * 1e3
        info = f"median {median_of(request, 15) * 1e3:.2f} ms"
        if loss_type == "svm_ww":
            figure("61×61 surface, default (svm_ww)", ms, "ms", 20, info=info)
        else:
            figure(f"  same with {loss_type}", ms, "ms", info=info)


def gradient_check():
    heading("Issue 10. Gradient check at 10,000 points × 10 classes, server compute (check + response)")
    for loss_type in LOSS_TYPES:
        t = Trainer.create(seed=1, loss_type=loss_type)
        t.reset("random", seed=2, data="random", n=1000, classes=10)

        def request():
            return responses.JSON(gradcheck.gradient_check(t.problem(), t.W, t.b)).body

        ms = best_of(request, repeat=7) * 1e3
        info = f"median {median_of(request, 7) * 1e3:.1f} ms"
        if loss_type == "svm_ww":
            figure("gradient check, 10,000 × 10 (svm_ww)", ms, "ms", 50, info=info)
        else:
            figure(f"  same with {loss_type}", ms, "ms", 50, info=info)


def main():
    many_steps()
    large_data()
    loss_surface()
    gradient_check()


if __name__ == "__main__":
    main()
