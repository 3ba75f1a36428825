"""Where a default gradient-descent step spends its time: NumPy calls per source line, Python calls, µs.

Counts every NumPy operation that ``trainer.run(1)`` performs on the default nine points: ufunc calls
(operators and reductions included), array functions (``np.where``, ``np.concatenate``, …), indexing and
index assignment, and array methods that are neither (``argmax``, ``astype``, ``copy``, …). It does so by
running the step on arrays of a counting ``ndarray`` subclass and by wrapping the ``np`` functions the core
modules call; each count is charged to the innermost line of ``app/core`` on the stack. Timings come from
separate, uninstrumented runs; the last column divides the time of a step by its NumPy calls (almost all of a
step's time is their fixed per-call cost on nine points).

    .venv/bin/python bench/profile_step.py [--loss svm_ww] [--steps 1]
"""

import argparse
import collections
import linecache
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core import losses, model, optimizers, trainer  # noqa: E402
from app.core.losses import LOSS_TYPES  # noqa: E402
from app.core.trainer import Trainer  # noqa: E402

CORE = str(ROOT / "app" / "core")
COUNTS = collections.Counter()
_depth = [0]  # > 0 while inside a counted call, so that NumPy's own internal calls are not counted again


def _charge(what):
    if _depth[0]:
        return
    f = sys._getframe(2)
    while f is not None and not f.f_code.co_filename.startswith(CORE):
        f = f.f_back
    where = (f.f_code.co_filename, f.f_lineno, f.f_code.co_name) if f else ("?", 0, "?")
    COUNTS[where + (what,)] += 1


def _counted(fn, name):
    def call(*args, **kwargs):
        _charge(name)
        _depth[0] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _depth[0] -= 1
    return call


class Probe(np.ndarray):
    """An ndarray that reports every operation done on it."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _charge(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}")
        _depth[0] += 1
        try:
            inputs = [x.view(np.ndarray) if isinstance(x, Probe) else x for x in inputs]
            if "out" in kwargs:
                kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, Probe) else x for x in kwargs["out"])
            result = getattr(ufunc, method)(*inputs, **kwargs)
        finally:
            _depth[0] -= 1
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        _charge(func.__name__)
        _depth[0] += 1
        try:
            args = [_unwrap(a) for a in args]
            kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
            result = func(*args, **kwargs)
        finally:
            _depth[0] -= 1
        return _wrap(result)

    def __getitem__(self, key):
        _charge("[]")
        _depth[0] += 1
        try:
            return _wrap(self.view(np.ndarray)[_unwrap(key)])
        finally:
            _depth[0] -= 1

    def __setitem__(self, key, value):
        _charge("[]=")
        _depth[0] += 1
        try:
            self.view(np.ndarray)[_unwrap(key)] = _unwrap(value)
        finally:
            _depth[0] -= 1


def _unwrap(x):
    if isinstance(x, Probe):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_unwrap(v) for v in x)
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    return x


def _wrap(x):
    if isinstance(x, np.ndarray) and not isinstance(x, Probe):
        return x.view(Probe)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


for _method in ("argmax", "argmin", "astype", "copy", "ravel", "reshape", "nonzero", "take", "put", "fill",
                "tolist", "item"):
    def _make(name):
        base = getattr(np.ndarray, name)

        def method(self, *args, **kwargs):
            _charge(f".{name}")
            _depth[0] += 1
            try:
                return _wrap(base(self.view(np.ndarray), *args, **kwargs))
            finally:
                _depth[0] -= 1
        return method
    setattr(Probe, _method, _make(_method))

# Probe.T, .shape etc. are attribute reads (no work) and stay uncounted.


class CountingNumpy:
    """Stands in for the ``np`` module inside the core modules: counts each function called through it."""

    def __getattr__(self, name):
        value = getattr(np, name)
        # ufuncs (np.add, and np.add.reduce) stay themselves: Probe.__array_ufunc__ counts their calls
        if callable(value) and not isinstance(value, (type, np.ufunc)):
            return _counted(value, f"np.{name}")
        return value


def count_numpy_calls(loss_type, steps):
    t = Trainer.create(seed=1, loss_type=loss_type)
    t.run(1)  # warm up: first-use imports and caches are not part of a step
    t.W, t.b, t.X, t.y = (a.view(Probe) for a in (t.W, t.b, t.X, t.y))
    t._ev = None
    t.evaluation  # noqa: B018
    modules = (losses, model, optimizers, trainer)
    saved = [m.np for m in modules]
    for m in modules:
        m.np = CountingNumpy()
    COUNTS.clear()
    python_calls = collections.Counter()

    def profiler(frame, event, arg):
        own = (frame.f_code.co_filename, frame.f_back.f_code.co_filename)
        if event == "call" and not _depth[0] and __file__ not in own:
            python_calls[(Path(frame.f_code.co_filename).name, frame.f_code.co_name)] += 1

    try:
        sys.setprofile(profiler)
        t.run(steps)
    finally:
        sys.setprofile(None)
        for m, s in zip(modules, saved):
            m.np = s
    return COUNTS.copy(), python_calls


def time_run(loss_type, steps, repeat=7):
    """Best time of ``trainer.run(steps)`` in µs."""
    t = Trainer.create(seed=1, loss_type=loss_type)
    t.run(10)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        t.run(steps)
        best = min(best, time.perf_counter() - t0)
    return best * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loss", choices=LOSS_TYPES, default=None, help="one loss (default: table for all four)")
    parser.add_argument("--steps", type=int, default=1)
    args = parser.parse_args(argv)
    summary = []
    for loss_type in [args.loss] if args.loss else LOSS_TYPES:
        counts, python_calls = count_numpy_calls(loss_type, args.steps)
        per_step = sum(counts.values()) / args.steps
        summary.append((loss_type, per_step, sum(python_calls.values()), time_run(loss_type, 1),
                        time_run(loss_type, 1000) / 1000))
        if args.loss or loss_type == "svm_ww":
            print(f"\nNumPy calls in trainer.run({args.steps}), gd, {loss_type}, default data, by source line:")
            by_line = collections.defaultdict(list)
            for (file, line, func, what), n in counts.items():
                by_line[(file, line, func)].append(f"{what}×{n // args.steps}" if n > args.steps else what)
            for (file, line, func), whats in sorted(by_line.items()):
                total = sum(v for (f2, l2, fn2, _), v in counts.items() if (f2, l2) == (file, line)) / args.steps
                src = linecache.getline(file, line).strip()
                print(f"  {Path(file).name}:{line:<4d} {func:<15s} {total:3.0f}  {src[:70]:<70s}  {' '.join(whats)}")
            print(f"  Python-level function calls in trainer.run({args.steps}):",
                  ", ".join(f"{f}:{fn}×{n}" for (f, fn), n in sorted(python_calls.items())))
    print(f"\ndefault gd steps, timed uninstrumented (best of 7); calls in trainer.run({args.steps}):")
    print(f"  {'loss':<15s} {'NumPy calls':>11s} {'Python calls':>12s} {'run(1) µs':>9s}"
          f" {'µs/step in run(1000)':>20s} {'÷ NumPy calls':>13s}")
    for loss_type, calls, py, once, us in summary:
        print(f"  {loss_type:<15s} {calls:11.0f} {py:12d} {once:9.1f} {us:20.1f} {us / calls:13.2f}")


if __name__ == "__main__":
    main()
