"""An image experiment as a Redis record, for :class:`app.redis_store.RedisStore` (``codec=ExperimentCodec``).

The same layout as a session's: ``core`` is :meth:`Experiment.to_record` as orjson without the parameters and
the loss history; ``data`` is ``W`` (K×D) then ``b`` (K) as little-endian float64, 8·K·(D + 1) bytes (5 KB on
digits, 246 KB on CIFAR-10); the loss history is appended per step. The images are never stored: every
experiment on a dataset shares the one copy each server process loads.
"""

import numpy as np
import orjson

from app.core.experiment import Experiment
from app.core.images import SPECS
from app.core.validation import InvalidInput
from app.session_codec import RECORD_OVERHEAD, Loaded, history_change, pack_losses
from app.sessions import SessionNotFound


class ExperimentCodec:
    @staticmethod
    def encode(experiment, loaded=None):
        """``(core, data, history mode, history bytes, accounted size)`` to store ``experiment``, as new or over ``loaded``."""
        record = experiment.to_record()
        W, b, history = record.pop("W"), record.pop("b"), record.pop("history")
        start = record["history_start"]
        mode, chunk, base = history_change(loaded, start, history) if loaded else ("set", pack_losses(history), start)
        data = np.ascontiguousarray(W, dtype="<f8").tobytes() + np.ascontiguousarray(b, dtype="<f8").tobytes()
        core = orjson.dumps({**record, "history_base": base, "revision": experiment.revision + (loaded is not None)})
        size = RECORD_OVERHEAD + len(core) + len(data) + 8 * (start + len(history) - base)
        return core, data, mode, chunk, size

    @staticmethod
    def decode(sid, reply):
        """``(experiment, loaded)`` from the store's ``open`` reply."""
        if reply[0] == 0:
            raise SessionNotFound(sid)
        _, core, data, packed = reply
        record = orjson.loads(core)
        base, revision = record.pop("history_base"), record.pop("revision")
        history = np.frombuffer(packed, dtype="<f8")[record["history_start"] - base :].tolist()
        spec = SPECS[record["dataset"]]
        k, d = len(spec.classes), spec.dims
        params = np.frombuffer(data, dtype="<f8")
        W, b = params[: k * d].reshape(k, d).copy(), params[k * d :].copy()
        try:
            experiment = Experiment.from_record({**record, "W": W, "b": b, "history": history})
        except InvalidInput as e:
            raise RuntimeError(f"experiment {sid[:6]}…: the stored record is invalid ({e})") from None
        experiment.revision = revision
        return experiment, Loaded(data, list(history), record["history_start"], base)
