"""Checks of a session record (:meth:`Trainer.to_record`'s output, as a user may upload it) beyond the checks
of the settings, parameters and data, which :meth:`Trainer.update` makes. Each function returns the clean
value or raises :class:`InvalidInput` naming the field; none keeps anything it was not asked for.

Every count is an integer in [0, 2^63), which JSON libraries write exactly (the API's import holds them to
[0, 2^53), exact in JavaScript too, see :mod:`app.schemas`); counts only grow, by at most 10,000 a request,
so a session imported at that bound can train on (and be stored and read back) for 9·10^14 requests more.
"""

import math

import numpy as np

from app.core.validation import InvalidInput

MAX_COUNT = 2**63
PCG64_KEYS = {"bit_generator", "state", "has_uint32", "uinteger"}


def count(name, value, high=MAX_COUNT):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < high:
        raise InvalidInput(name, f"must be an integer in [0, {'2^63' if high == MAX_COUNT else high})")
    return value


def history(values, start, step, max_history):
    """The loss history: ``values[i]`` is the loss after step ``start + i``, the last one after ``step``."""
    if not isinstance(values, list) or not 1 <= len(values) <= max_history:
        raise InvalidInput("history", f"must be a list of 1 to {max_history} losses")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise InvalidInput("history", "every loss must be a finite number")
    if start + len(values) - 1 != step:
        raise InvalidInput("history", "must hold the losses from history_start to step, one per step")
    return [float(v) for v in values]


def segments(values, optimizers, history_start, step, max_history):
    """``[[first step, optimizer], …]``: strictly increasing steps, the first at or before ``history_start``
    (older ones may have been dropped with the history), none after ``step``."""
    text = f"must be 1 to {max_history + 1} [step, optimizer] pairs with increasing steps from at most " \
           f"history_start to at most step, and optimizers in {list(optimizers)}"
    if not isinstance(values, list) or not 1 <= len(values) <= max_history + 1:
        raise InvalidInput("segments", text)
    out = []
    for item in values:
        if not isinstance(item, (list, tuple)) or len(item) != 2 or item[1] not in optimizers:
            raise InvalidInput("segments", text)
        start = count("segments", item[0])
        if (out and start <= out[-1][0]) or start > step:
            raise InvalidInput("segments", text)
        out.append([start, item[1]])
    if out[0][0] > history_start:
        raise InvalidInput("segments", text)
    return out


def last_batch(value, points):
    """The indices of the last minibatch, or None."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > points:
        raise InvalidInput("last_batch", f"must be null or a list of at most {points} point indices")
    return [count("last_batch", i, high=points) for i in value]


def _u128(name, text):
    """A 128-bit unsigned integer, written in decimal (as text: JSON libraries stop at 64 bits)."""
    if isinstance(text, str) and 1 <= len(text) <= 39 and text.isascii() and text.isdigit():
        value = int(text)
        if value < 2**128:
            return value
    raise InvalidInput(name, "must be an integer in [0, 2^128) written in decimal digits as a string")


def rng_state(value):
    """NumPy's PCG64 generator state, exactly: no other generator, no other keys, every number in range."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != PCG64_KEYS or value["bit_generator"] != "PCG64":
        raise InvalidInput("rng_state", "must be a PCG64 state {bit_generator, state, has_uint32, uinteger}")
    inner = value["state"]
    if not isinstance(inner, dict) or set(inner) != {"state", "inc"}:
        raise InvalidInput("rng_state.state", "must be {state, inc}")
    state, inc = _u128("rng_state.state.state", inner["state"]), _u128("rng_state.state.inc", inner["inc"])
    if inc % 2 == 0:
        raise InvalidInput("rng_state.state.inc", "must be odd")
    return {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
            "has_uint32": count("rng_state.has_uint32", value["has_uint32"], high=2),
            "uinteger": count("rng_state.uinteger", value["uinteger"], high=2**32)}


def generator(seed, state=None):
    """The session's random generator: seeded by ``seed``, then moved to a stored PCG64 ``state`` if any."""
    rng = np.random.default_rng(seed)
    if state is not None:
        rng.bit_generator.state = state
    return rng
