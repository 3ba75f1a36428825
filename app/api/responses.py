"""Fast JSON responses: orjson writes NumPy arrays directly, skipping FastAPI's ``jsonable_encoder``."""

import numpy as np
import orjson
from fastapi import Response

from app.core import divergence


def _fallback(value):
    """What orjson's NumPy support leaves out: non-contiguous arrays (transposes) and NumPy scalars."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content):
    return orjson.dumps(content, default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY)


class JSON(Response):
    media_type = "application/json"

    def render(self, content):
        return dumps(content)


def finite_or_none(a):
    """A nested list with None where ``a`` is not finite (JSON has no NaN or Infinity)."""
    a = np.asarray(a, dtype=float)
    return a if np.isfinite(a).all() else _clean(a.tolist())


def _clean(v):
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v if np.isfinite(v) else None


def state(sid, t, detail="full", history_from=None):
    """The session state (see :class:`app.schemas.SessionPublic`)."""
    s, ev = t.settings, t.evaluation
    full = detail == "full"
    # a single request may take more steps than the history keeps: start at the oldest one kept
    start = t.history_start if history_from is None else max(history_from, t.history_start)
    return {
        "id": sid,
        "loss_type": s.loss_type, "step_size": s.step_size, "reg": s.reg, "reg_gradient": s.reg_gradient,
        "optimizer": s.optimizer, "batch_size": s.batch_size, "h": s.h, "search_scale": s.search_scale,
        "seed": t.seed, "classes": t.classes, "n_points": len(t.y),
        "W": t.W, "b": t.b, "dW": ev.dW, "db": ev.db,
        # X and the scores are stored column-major (see app.core.model.scores); orjson writes row-major arrays
        # itself, much faster than through lists
        "X": np.ascontiguousarray(t.X) if full else None, "y": t.y if full else None,
        "scores": np.ascontiguousarray(ev.scores) if full else None, "losses": ev.losses if full else None,
        "data_loss": ev.data_loss, "reg_loss": ev.reg_loss, "loss": ev.loss, "accuracy": t.accuracy,
        "step": t.step, "history": t.history[start - t.history_start :], "history_start": start,
        "segments": [{"start": a, "optimizer": o} for a, o in t.segments],
        "diverged": t.diverged, "loss_evals": t.loss_evals, "last_batch": t.last_batch,
        "search": {"tries": t.tries, "accepted": t.accepted, "best_loss": ev.loss},
        **_lesson(t, ev, full, start),
    }


def _lesson(t, ev, full, start):
    """Divergence, held-out data, changes and preset (see :class:`app.schemas.SessionPublic`)."""
    held, watch, factor = t.test_set, t.watch, t.reg_factor
    test_loss, test_accuracy = t.test_evaluation
    return {
        "diverging": watch.diverging, "divergence_cause": divergence.cause(watch.diverging, factor),
        "reg_factor": factor, "lowest_loss": ev.loss if watch.lowest is None else watch.lowest,
        "X_test": np.ascontiguousarray(held.X) if full and held is not None else None,
        "y_test": held.y if full and held is not None else None, "n_test": 0 if held is None else len(held.y),
        "test_loss": test_loss, "test_accuracy": test_accuracy,
        "test_history": None if held is None else held.history[start - t.history_start :],
        "changes": t.changes, "preset": t.preset,
    }
