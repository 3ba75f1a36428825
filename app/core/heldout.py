"""Held-out points: split off a generated preset, never trained on, evaluated after every step.

The test loss is the mean *data* loss over the held-out points (no regularization term: it measures the
fit, and λ Σ W² is the same for every point set); the test history holds it after each step, aligned with
the training loss history.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from app.core.losses import LOSSES
from app.core.model import scores
from app.core.validation import InvalidInput, finite_array

MAX_TEST_FRACTION = 0.5


def split(rng, X, y, test_fraction):
    """``(X, y, X_test, y_test)``: ``round(test_fraction · N)`` points drawn at random (at least one left to
    train on) held out, both parts in their original order; the test part is ``None, None`` when empty.
    Draws nothing from ``rng`` when ``test_fraction`` is 0, so the rest of a seeded reset is unchanged."""
    if not 0 <= test_fraction <= MAX_TEST_FRACTION:
        raise InvalidInput("test_fraction", f"must be a number from 0 to {MAX_TEST_FRACTION}")
    count = min(int(np.floor(test_fraction * len(y) + 0.5)), len(y) - 1)
    if count <= 0:
        return X, y, None, None
    held = np.zeros(len(y), dtype=bool)
    held[rng.choice(len(y), size=count, replace=False)] = True
    return X[~held], y[~held], X[held], y[held]


@dataclass
class HeldOut:
    X: np.ndarray
    y: np.ndarray
    # the test loss after step history_start + i, like the loss history (None before the test set existed)
    history: list = field(default_factory=list)

    def evaluate(self, W, b, loss_type):
        """``(test loss, test accuracy)`` at ``W, b``; the loss is None where it overflows (parameters a
        diverging run left just short of overflowing the training loss)."""
        with np.errstate(over="ignore", invalid="ignore"):
            s = scores(W, b, self.X)
            loss = float(LOSSES[loss_type](s, self.y)[0].sum()) / len(self.y)
        return (loss if math.isfinite(loss) else None), np.count_nonzero(s.argmax(axis=1) == self.y) / len(self.y)


def checked(X_test, y_test, classes, columns, room):
    """A :class:`HeldOut` from user values (``None`` for two empty lists: no test set), or InvalidInput."""
    if X_test is None or y_test is None:
        raise InvalidInput("X_test" if X_test is None else "y_test", "X_test and y_test must be given together")
    if len(X_test) == 0 and len(y_test) == 0:
        return None
    X = finite_array("X_test", X_test, f"an N×{columns} array", 2, columns)
    y = np.array(y_test)
    if y.ndim != 1 or y.dtype.kind not in "iu" or y.size == 0:
        raise InvalidInput("y_test", "must be a list of integer labels")
    if y.min() < 0 or y.max() >= classes:
        raise InvalidInput("y_test", f"labels must be integers in [0, {classes})")
    if len(y) != len(X):
        raise InvalidInput("y_test", f"X_test has {len(X)} points but y_test has {len(y)} labels")
    if len(y) > room:
        raise InvalidInput("X_test", f"at most {room} test points beside the training points")
    return HeldOut(np.asfortranarray(X), y.astype(np.int64))


def after_edit(current, changes, classes, X, room, history_length):
    """The test set after an edit of the session: the one given in ``changes``, else ``current``, which must
    still fit the classes and the room left beside the training points ``X``. A new test set continues the
    test history, or starts one with ``None`` for the ``history_length`` losses recorded without it."""
    if "X_test" in changes or "y_test" in changes:
        held = checked(changes.get("X_test"), changes.get("y_test"), classes, X.shape[1], room)
        if held is not None:
            held.history = list(current.history) if current is not None else [None] * history_length
        return held
    if current is not None and current.y.max() >= classes:
        raise InvalidInput("W", f"the test labels need at least {current.y.max() + 1} classes")
    if current is not None and len(current.y) > room:
        raise InvalidInput("X", f"at most {room} points beside the {len(current.y)} test points")
    return current
