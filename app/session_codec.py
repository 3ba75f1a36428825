"""A 2-D session (:class:`~app.core.trainer.Trainer`) as a Redis record, for :class:`app.redis_store.RedisStore`,
and the packing helpers the image experiments' codec (:mod:`app.experiment_codec`) shares.

A session's ``core`` is :meth:`Trainer.to_record` as orjson without the data and the loss histories, plus its
``revision``; its data is ``X`` as float64 then ``y`` as int64 (24 bytes a point), then the same for the
``core["n_test"]`` held-out points, rewritten only when the data change; its history is float64 bytes (with a
test set, pairs of loss and test loss, NaN for a missing test loss) *appended* per step, so a step costs the
same however long the history is (``core["history_base"]`` is the step of its first entry; the dead front left
by trimming is rewritten away only once it outgrows the live history).

A codec is ``encode(obj, loaded=None) -> (core, data, history mode, history bytes, accounted size)`` and
``decode(sid, reply) -> (obj, loaded)``, ``reply`` being the ``open`` script's (:mod:`app.redis_lua`).
"""

from dataclasses import dataclass

import numpy as np
import orjson

from app.core.trainer import Trainer
from app.core.validation import MAX_ABS, InvalidInput
from app.sessions import SessionNotFound

RECORD_OVERHEAD = 512  # bytes Redis spends on a session's keys and index entries, beyond their values


@dataclass(frozen=True)
class Loaded:
    """What a session looked like when opened, to write back only what changed."""

    data: bytes
    history: list
    history_start: int
    history_base: int
    test_history: list | None = None


def pack_losses(losses, test_losses=None):
    """The losses as float64 bytes, each followed by its test loss (None as NaN) if there is a test set."""
    if test_losses is None:
        return np.asarray(losses, dtype="<f8").tobytes()
    rows = np.empty((len(losses), 2), dtype="<f8")
    rows[:, 0], rows[:, 1] = losses, np.array(test_losses, dtype=float)
    return rows.tobytes()


def unpack_losses(packed, skip, paired):
    """``(losses, test losses or None)`` from ``pack_losses`` bytes, the first ``skip`` entries left out."""
    a = np.frombuffer(packed, dtype="<f8")
    if not paired:
        return a[skip:].tolist(), None
    rows = a.reshape(-1, 2)[skip:]
    test, gaps = rows[:, 1].tolist(), np.isnan(rows[:, 1])
    if gaps.any():
        test = [None if gap else v for gap, v in zip(gaps, test)]
    return rows[:, 0].tolist(), test


def _pack_data(X, y):
    """``X`` (N×2 float64) then ``y`` (N int64), little-endian: 24 bytes a point."""
    return np.ascontiguousarray(X, dtype="<f8").tobytes() + np.ascontiguousarray(y, dtype="<i8").tobytes()


def _unpack_data(data):
    n = len(data) // 24
    return np.frombuffer(data, "<f8", 2 * n).reshape(n, 2), np.frombuffer(data, "<i8", n, offset=16 * n)


_APART = ("X", "y", "history", "X_test", "y_test", "test_history")  # stored as bytes, not in core


def _encode(trainer, loaded=None):
    """``(core, data, history mode, history bytes, accounted size)`` to store ``trainer``, as new or as a
    change over ``loaded`` (its revision then one more)."""
    record = trainer.to_record()
    start, history, test_history = record["history_start"], record["history"], record["test_history"]
    if loaded:
        mode, chunk, base = history_change(loaded, start, history, test_history)
    else:
        mode, chunk, base = "set", pack_losses(history, test_history), start
    rest = {k: v for k, v in record.items() if k not in _APART}
    held = trainer.test_set
    revision = trainer.revision + (loaded is not None)
    core = orjson.dumps({**rest, "history_base": base, "max_points": trainer.max_points, "revision": revision,
                         "n_test": 0 if held is None else len(held.y)})
    data = _pack_data(trainer.X, trainer.y) + (b"" if held is None else _pack_data(held.X, held.y))
    per_entry = 8 if held is None else 16  # a test set stores a test loss beside each loss
    size = RECORD_OVERHEAD + len(core) + len(data) + per_entry * (start + len(history) - base)
    return core, data, mode, chunk, size


def history_change(loaded, start, history, test_history=None):
    """``(mode, bytes, history_base)``: append the new losses if the history only grew (and lost some of its
    front to trimming), else rewrite it."""
    old, old_start, base = loaded.history, loaded.history_start, loaded.history_base
    old_end, end = old_start + len(old), start + len(history)
    kept = slice(start - old_start, None)
    grew = old_start <= start <= old_end <= end and history[: old_end - start] == old[kept] and (
        test_history is None if loaded.test_history is None else
        test_history is not None and test_history[: old_end - start] == loaded.test_history[kept])
    if grew and start - base <= len(history) + 1024:
        new = slice(old_end - start, None)
        return "append", pack_losses(history[new], None if test_history is None else test_history[new]), base
    return "set", pack_losses(history, test_history), start


def _decode(sid, reply):
    """``(trainer, loaded)`` from the ``open`` script's reply."""
    if reply[0] == 0:
        raise SessionNotFound(sid)
    _, core, data, packed = reply
    record = orjson.loads(core)
    base, max_points, n_test = record.pop("history_base"), record.pop("max_points"), record.pop("n_test", 0)
    revision = record.pop("revision", 0)
    history, test_history = unpack_losses(packed, record["history_start"] - base, n_test > 0)
    test_bytes = 24 * n_test
    X, y = _unpack_data(data[: len(data) - test_bytes])
    X_test, y_test = _unpack_data(data[len(data) - test_bytes :]) if n_test else (None, None)
    record = {**record, "X": X, "y": y, "X_test": X_test, "y_test": y_test}
    trainer = _trainer(sid, record, history, test_history, max_points)
    trainer.revision = revision
    held = None if test_history is None else list(test_history)
    return trainer, Loaded(data, list(history), record["history_start"], base, held)


def _trainer(sid, record, history, test_history, max_points):
    """``Trainer.from_record``, which checks a record as it would a user's upload, but for two things a stored
    record is trusted with: the parameters, which training can carry past the bound that user input is held
    to (a huge step size), and the loss history, float64 and finite already (and checking 100,000 losses
    would cost more than the step). They go through it clipped and cut short, and are put back after."""
    W, b = np.asarray(record["W"], dtype=float), np.asarray(record["b"], dtype=float)
    light = {**record, "W": np.clip(W, -MAX_ABS, MAX_ABS), "b": np.clip(b, -MAX_ABS, MAX_ABS),
             "history": history[-1:], "history_start": record["step"],
             "test_history": None if test_history is None else test_history[-1:]}
    try:
        t = Trainer.from_record(light, max_points=max_points)
    except InvalidInput as e:
        raise RuntimeError(f"session {sid[:6]}…: the stored record is invalid ({e})") from None
    t.history, t.history_start = history, record["history_start"]
    if test_history is not None:
        t.test_set.history = test_history
    if not (np.array_equal(t.W, W) and np.array_equal(t.b, b)):
        t.W, t.b, t._ev = W, b, None  # _ev: the cached evaluation, of the clipped parameters
    return t


class SessionCodec:
    """A 2-D session (:class:`Trainer`) as a Redis record."""

    encode = staticmethod(_encode)
    decode = staticmethod(_decode)
