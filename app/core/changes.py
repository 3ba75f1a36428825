"""The changes made during a run, each with the step at which it happened, so that the loss curve can mark
them: a change of a setting (``what`` is its name, ``value`` the new value), of the training data
(``"data"``, the number of points), of the held-out data (``"test_data"``, the number of test points) or of
the parameters by hand (``"params"``, no value).

Several edits of the same thing at the same step (a slider dragged while paused) make one entry with the
latest value. Only the last ``MAX_CHANGES`` are kept: the curve has room for no more labels than that.
"""

import math

MAX_CHANGES = 100
KINDS = ("data", "test_data", "params")


def mark(changes, step, what, value=None):
    """Append ``{"step", "what", "value"}`` to ``changes`` (in place), merging with an entry of the same step."""
    last = changes[-1] if changes else None
    if last is not None and last["step"] == step and last["what"] == what:
        last["value"] = value
    else:
        changes.append({"step": step, "what": what, "value": value})
        del changes[:-MAX_CHANGES]


def check(changes, step, setting_names):
    """``changes`` from a record (a user's upload), cleaned; raises ValueError when it is not a change list."""
    clean = []
    for c in changes:
        s, what, value = int(c["step"]), str(c["what"]), c["value"]
        ok_value = value is None or isinstance(value, str) or (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))
        if not 0 <= s <= step or (what not in setting_names and what not in KINDS) or not ok_value:
            raise ValueError("changes must be [{step, what, value}, …] up to the current step")
        clean.append({"step": s, "what": what, "value": value})
    return clean[-MAX_CHANGES:]
