"""Checks of values that come from users: each returns the clean value or raises :class:`InvalidInput`,
which names the field, so that the API can answer 422 with a message that says what is wrong."""

import math

import numpy as np

MAX_ABS = 1e6  # largest magnitude accepted for any coordinate or parameter


class InvalidInput(ValueError):
    """A rejected value; ``field`` names it, ``location`` says where it came from (body or query)."""

    def __init__(self, field, message, location="body"):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.location = field, message, location


def choice(name, value, allowed):
    if value not in allowed:
        raise InvalidInput(name, f"must be one of {', '.join(allowed)}")


def number(name, value, low, high, low_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (low_open and value == low):
        raise InvalidInput(name, f"must be a number {'>' if low_open else '≥'} {low:g} and ≤ {high:g}")


def finite_array(name, value, shape_text, ndim, columns=None):
    """A finite float64 array of the given rank (and column count), each entry of magnitude ≤ MAX_ABS."""
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(name, f"must be {shape_text} of numbers") from None
    if a.ndim != ndim or (columns is not None and a.shape[1] != columns) or a.size == 0:
        raise InvalidInput(name, f"must be {shape_text} of numbers")
    if not np.isfinite(a).all() or np.abs(a).max() > MAX_ABS:
        raise InvalidInput(name, f"every number must be finite with magnitude ≤ {MAX_ABS:g}")
    return a


def labels(value, classes, max_points):
    a = np.array(value)
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iu":
        raise InvalidInput("y", "must be a non-empty list of integer labels")
    if a.min() < 0 or a.max() >= classes:
        raise InvalidInput("y", f"labels must be integers in [0, {classes})")
    if a.size > max_points:
        raise InvalidInput("y", f"at most {max_points} points")
    return a.astype(np.int64)
