"""What a session keeps about its run besides parameters and losses: the held-out data and its loss history,
the changes made along the way, the divergence watch and the preset the data were drawn from; and their
place in a session record (export, import, shared stores). :mod:`app.core.trainer` calls these.
"""

import math

import numpy as np

from app.core import changes as change_log
from app.core import datasets, divergence, heldout
from app.core.settings import SETTING_NAMES
from app.core.validation import InvalidInput

PRESET_KEYS = ("name", "seed", "n", "classes", "noise", "test_fraction")


def preset(name, seed=None, n=None, classes=None, noise=None, test_fraction=0.0):
    """How the data were drawn: redrawing ``name`` with the same values and seed gives the same points and
    the same held-out split (``noise`` None: the preset's default spread; the original points have none)."""
    if name != "original" and noise is None and name in datasets.NOISE:
        noise = datasets.NOISE[name][0]
    return dict(zip(PRESET_KEYS, (name, seed, n, classes, noise, float(test_fraction))))


def check_preset_options(data, test_fraction, noise):
    """``test_fraction`` and ``noise`` apply only to a generated preset being loaded, ``noise`` only to one
    with a spread, within its range."""
    if data is None or data == "original":
        why = ("applies only when a generated preset is loaded (data)" if data is None
               else "applies only to a generated preset, not to the original points")
        if test_fraction:
            raise InvalidInput("test_fraction", why)
        if noise is not None:
            raise InvalidInput("noise", why)
        return
    if noise is not None:
        if data not in datasets.NOISE:
            raise InvalidInput("noise", f"the {data} preset has no spread to set")
        high = datasets.NOISE[data][1]
        if not 0 <= noise <= high:
            raise InvalidInput("noise", f"must be from 0 to {high:g} for {data}")


def mark_edits(t, settings, W, b, X, y, held):
    """Record, before they are applied, the edits that change the run's settings, parameters or data."""
    step, log = t.step, t.changes
    for name in SETTING_NAMES:
        value = getattr(settings, name)
        if value != getattr(t.settings, name):
            change_log.mark(log, step, name, value)
    if not (np.array_equal(X, t.X) and np.array_equal(y, t.y)):
        change_log.mark(log, step, "data", len(y))
        t.preset = None
    if not _same_test_set(held, t.test_set):
        change_log.mark(log, step, "test_data", 0 if held is None else len(held.y))
        t.preset = None
    if not (np.array_equal(W, t.W) and np.array_equal(b, t.b)):
        change_log.mark(log, step, "params")


def _same_test_set(a, b):
    if a is None or b is None:
        return a is b
    return np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)


def to_record(t):
    held = t.test_set
    return {
        "X_test": None if held is None else held.X.tolist(), "y_test": None if held is None else held.y.tolist(),
        "test_history": None if held is None else list(held.history),
        "changes": [dict(c) for c in t.changes], "divergence": t.watch.to_record(),
        "preset": None if t.preset is None else dict(t.preset),
    }


def restore(t, record):
    """Set these parts of ``t`` from ``record`` (all optional: records from before they existed), checked
    as any user upload; raises InvalidInput naming the part."""
    held = None
    if record.get("X_test") is not None or record.get("y_test") is not None:
        room = t.max_points - len(t.y)
        held = heldout.checked(record.get("X_test"), record.get("y_test"), t.classes, t.X.shape[1], room)
    if held is not None:
        history = record.get("test_history")
        try:
            held.history = [None if v is None else float(v) for v in history]
        except (TypeError, ValueError):
            raise InvalidInput("test_history", "must be a list of losses (or null) like history") from None
        if len(held.history) != len(t.history) or not all(v is None or math.isfinite(v) for v in held.history):
            raise InvalidInput("test_history", "must hold one finite loss (or null) per entry of history")
    t.test_set = held
    try:
        t.changes = change_log.check(record.get("changes") or [], t.step, SETTING_NAMES)
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("changes", "must be [{step, what, value}, …] up to the current step") from None
    try:
        t.watch = divergence.Watch.from_record(record.get("divergence"))
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("divergence", "must be {lowest, rises, flips, diverging}") from None
    w = t.watch
    if (w.lowest is not None and not math.isfinite(w.lowest)) or w.rises < 0 or w.flips < 0:
        raise InvalidInput("divergence", "lowest must be finite, rises and flips ≥ 0")
    t.preset = _checked_preset(record.get("preset"))


def _checked_preset(value):
    if value is None:
        return None
    try:
        p = {k: value[k] for k in PRESET_KEYS}
        ok = p["name"] in datasets.DATASETS and all(
            p[k] is None or (isinstance(p[k], (int, float)) and not isinstance(p[k], bool) and math.isfinite(p[k]))
            for k in PRESET_KEYS[1:])
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise InvalidInput("preset", f"must be {{{', '.join(PRESET_KEYS)}}} with a known preset name, or null")
    return p
