"""Sessions in Redis, shared by every server process that points at the same server; same interface as
:class:`app.sessions.MemoryStore`, and the same limits (:mod:`app.session_limits`), kept in Redis so that
they hold across processes. The keys and the scripts that change them are in :mod:`app.redis_lua`.

A session's ``core`` is :meth:`Trainer.to_record` as orjson without the data and the loss histories, plus its
``revision``; its data is ``X`` as float64 then ``y`` as int64 (24 bytes a point), then the same for the
``core["n_test"]`` held-out points, rewritten only when the data change; its history is float64 bytes (with a
test set, pairs of loss and test loss, NaN for a missing test loss) *appended* per step, so a step costs the
same however long the history is (``core["history_base"]`` is the step of its first entry; the dead front left
by trimming is rewritten away only once it outgrows the live history). Every use renews the session keys' TTL
of ``idle_timeout``, so idle sessions expire in Redis itself.

Edits are serialized across processes by the session's lock (and within one process by an asyncio lock, so
only other processes' requests poll): a token with a lease of ``LEASE_MS``, renewed every third of it while
its request runs, so a crashed process (or a lock saved in Redis's append-only file when it died) stalls the
session for at most one lease. A write whose lock was lost is refused (503, not applied); a 503 for a lost
connection may come after Redis applied the write: either way a retry with ``If-Match`` is safe.

What a record holds is the codec's business (``codec.encode(obj, loaded=None) -> (core, data, history mode,
history bytes, accounted size)``, ``codec.decode(sid, reply) -> (obj, loaded)``; ``core`` carries the
``revision``): :class:`SessionCodec` by default; image experiments have their own (:mod:`app.experiment_codec`)
in a second store under their own prefix.
"""

import asyncio
import random
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
import orjson
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.core.trainer import Trainer
from app.core.validation import MAX_ABS, InvalidInput
from app.redis_lua import COMMON, SCRIPTS
from app.session_limits import Limits, TooManySessions
from app.sessions import WAITED, RequestAbandoned, SessionNotFound, StoreUnavailable, check_id, new_id

LEASE_MS = 3_000  # a lock's lease, renewed every third of it while its request runs
LOCK_WAIT = 30.0  # seconds to wait for another process's edit before answering 503
MAX_CONNECTIONS = 64  # to Redis, per process, for requests
LEASE_CONNECTIONS = 8  # and for lease renewals, which must never queue behind requests
SOCKET_TIMEOUT = 5.0  # seconds for one Redis reply: a frozen Redis fails requests, not holds them for long
RECORD_OVERHEAD = 512  # bytes Redis spends on a session's keys and index entries, beyond their values
# Scripts that may run twice to the same effect (a second acquisition by the same token is the first), and so
# are repeated once when a connection turns out dead; the others change the store and are not.
_REPEATABLE = {"open", "count", "renew", "release"}


@dataclass(frozen=True)
class _Loaded:
    """What a session looked like when opened, to write back only what changed."""

    data: bytes
    history: list
    history_start: int
    history_base: int
    test_history: list | None = None


class RedisStore:
    def __init__(self, url, max_sessions=10_000, idle_timeout=3600.0, prefix="linclass:", codec=None, **limits):
        self.limits = Limits(max_sessions=max_sessions, idle_timeout=idle_timeout, **limits)
        self.codec = codec or SessionCodec
        options = {"socket_connect_timeout": 5, "socket_timeout": SOCKET_TIMEOUT}
        self.redis = redis.asyncio.from_url(url, max_connections=MAX_CONNECTIONS, **options)
        self._lease_redis = redis.asyncio.from_url(url, max_connections=LEASE_CONNECTIONS, **options)
        # Beyond the pool's connections, requests queue here (first come, first served, one woken per free
        # connection) rather than fail, as the pool would, or all wake on each release, as its blocking kind does.
        self._connections = asyncio.Semaphore(MAX_CONNECTIONS)
        self._lease_connections = asyncio.Semaphore(LEASE_CONNECTIONS)
        self.max_sessions, self.idle_timeout, self.prefix = max_sessions, idle_timeout, prefix
        self.codec = codec or SessionCodec
        self._ttl = max(1, round(idle_timeout * 1000))
        self._scripts = {name: self.redis.register_script(COMMON + body) for name, body in SCRIPTS.items()}
        self._lease_scripts = {name: self._lease_redis.register_script(SCRIPTS[name]) for name in ("renew", "release")}
        self._local = {}  # id -> [asyncio.Lock, users]: this process's requests queue here, not on Redis

    def _lock_key(self, sid):
        return f"{self.prefix}l:{sid}"

    def _limit_args(self):
        return [self.limits.per_address, self.max_sessions, self.limits.max_bytes]

    async def _run(self, script, args, keys=(), lease=False):
        scripts, slots = (self._lease_scripts, self._lease_connections) if lease else (self._scripts, self._connections)
        for attempt in (1, 2):
            try:
                async with slots:
                    return await scripts[script](keys=list(keys), args=args)
            except (RedisConnectionError, RedisTimeoutError) as e:
                if attempt == 1 and script in _REPEATABLE and isinstance(e, RedisConnectionError):
                    continue  # a pooled connection to a server that restarted since: once more, on a new one
                text = f"the session store is unreachable ({type(e).__name__})"
                if script not in _REPEATABLE:  # the script may have run, its answer lost
                    text += "; the change may or may not have been applied: retry it with If-Match"
                raise StoreUnavailable(text) from e

    async def create(self, trainer, owner="unknown"):
        sid = new_id()
        core, data, _, chunk, size = self.codec.encode(trainer)
        limits = self.limits
        wait_ms = await self._run("create", [self.prefix, sid, owner, self._ttl, limits.create_rate, limits.create_burst,
                                             size, *self._limit_args(), core, data, chunk])
        if wait_ms:
            raise TooManySessions(max(1, -(-wait_ms // 1000)))
        return sid

    @asynccontextmanager
    async def open(self, sid, write=True, gone=None):
        """The trainer; with ``write``, under the session's lock, and saved if the block exits normally."""
        check_id(sid)
        if not write:
            reply = await self._run("open", [self.prefix, sid, self._ttl, "", 0])
            yield self.codec.decode(sid, reply)[0]
            return
        async with self._locked(sid, gone) as reply:
            trainer, loaded = self.codec.decode(sid, reply)
            yield trainer
            await self._save(sid, reply.token, trainer, loaded)  # which releases the lock
            reply.saved = True

    async def delete(self, sid, check=None, gone=None):
        """Delete the session once the edits on it are done; ``check(revision)`` may refuse by raising."""
        check_id(sid)
        async with self._locked(sid, gone) as reply:
            if check is not None:
                check(orjson.loads(reply[1])["revision"])
            result = await self._run("delete", [self.prefix, sid, reply.token])
            reply.saved = True
        if result == 0:
            raise SessionNotFound(sid)
        if result < 0:
            raise StoreUnavailable("the session's lock expired before the deletion, which was not applied")

    @asynccontextmanager
    async def _locked(self, sid, gone):
        """The ``open`` script's reply under the session's lock, renewed while the block runs; released at the
        end unless the block marked the reply ``saved`` (its script released it)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with self._local_lock(sid):
            token = secrets.token_hex(16)
            reply = _Reply(await self._acquire(sid, token, gone), token)
            if reply[0] == 0:
                raise SessionNotFound(sid)
            renewer = asyncio.create_task(self._renew(sid, token))
            try:
                if gone is not None and loop.time() - started > WAITED and await gone():
                    raise RequestAbandoned()  # its client left while it waited (or Redis stood still)
                yield reply
            finally:
                renewer.cancel()
                if not reply.saved:  # an error or a cancellation: nothing is written, and the lock is let go now
                    await self._run("release", [token], keys=[self._lock_key(sid)], lease=True)

    async def _acquire(self, sid, token, gone):
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + LOCK_WAIT, 0.001
        while True:
            reply = await self._run("open", [self.prefix, sid, self._ttl, token, LEASE_MS])
            if reply[0] != 1:
                return reply
            if loop.time() > deadline:
                raise StoreUnavailable("the session is busy with another request; try again")
            if gone is not None and await gone():
                raise RequestAbandoned()  # stop polling for a client that has left
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(2 * delay, 0.05)

    async def _renew(self, sid, token):
        try:
            while True:
                await asyncio.sleep(LEASE_MS / 3000)
                if not await self._run("renew", [token, LEASE_MS], keys=[self._lock_key(sid)], lease=True):
                    return  # lost: the save will find so and refuse
        except StoreUnavailable:
            pass  # the save will find the lock lost and refuse

    async def _save(self, sid, token, trainer, loaded):
        core, data, mode, chunk, size = self.codec.encode(trainer, loaded)
        result = await self._run("save", [self.prefix, sid, self._ttl, token, core,
                                          b"" if data == loaded.data else data, mode, chunk, size,
                                          *self._limit_args()])
        if result == 0:
            raise SessionNotFound(sid)
        if result < 0:
            raise StoreUnavailable("the session's lock expired during the update, which was not applied")
        trainer.revision += 1

    @asynccontextmanager
    async def _local_lock(self, sid):
        entry = self._local.setdefault(sid, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._local[sid]

    async def count(self):
        """Live sessions (expired ones forgotten first)."""
        return await self._run("count", [self.prefix, self._ttl])

    async def bytes(self):
        """The accounted size of every session together."""
        try:
            return int(await self.redis.get(self.prefix + "meta:total") or 0)
        except (RedisConnectionError, RedisTimeoutError) as e:
            raise StoreUnavailable(f"the session store is unreachable ({type(e).__name__})") from e

    async def close(self):
        await self.redis.aclose()
        await self._lease_redis.aclose()


class _Reply(list):
    """The ``open`` script's reply, with the lock's token and whether the lock was released by a save."""

    def __init__(self, reply, token):
        super().__init__(reply)
        self.token, self.saved = token, False


def _pack(losses, test_losses=None):
    """The losses as float64 bytes, each followed by its test loss (None as NaN) if there is a test set."""
    if test_losses is None:
        return np.asarray(losses, dtype="<f8").tobytes()
    rows = np.empty((len(losses), 2), dtype="<f8")
    rows[:, 0], rows[:, 1] = losses, np.array(test_losses, dtype=float)
    return rows.tobytes()


def _unpack(packed, skip, paired):
    """``(losses, test losses or None)`` from ``_pack`` bytes, the first ``skip`` entries left out."""
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
        mode, chunk, base = _history_change(loaded, start, history, test_history)
    else:
        mode, chunk, base = "set", _pack(history, test_history), start
    rest = {k: v for k, v in record.items() if k not in _APART}
    held = trainer.test_set
    revision = trainer.revision + (loaded is not None)
    core = orjson.dumps({**rest, "history_base": base, "max_points": trainer.max_points, "revision": revision,
                         "n_test": 0 if held is None else len(held.y)})
    data = _pack_data(trainer.X, trainer.y) + (b"" if held is None else _pack_data(held.X, held.y))
    per_entry = 8 if held is None else 16  # a test set stores a test loss beside each loss
    size = RECORD_OVERHEAD + len(core) + len(data) + per_entry * (start + len(history) - base)
    return core, data, mode, chunk, size


def _history_change(loaded, start, history, test_history=None):
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
        return "append", _pack(history[new], None if test_history is None else test_history[new]), base
    return "set", _pack(history, test_history), start


def _decode(sid, reply):
    """``(trainer, loaded)`` from the ``open`` script's reply."""
    if reply[0] == 0:
        raise SessionNotFound(sid)
    _, core, data, packed = reply
    record = orjson.loads(core)
    base, max_points, n_test = record.pop("history_base"), record.pop("max_points"), record.pop("n_test", 0)
    revision = record.pop("revision", 0)
    history, test_history = _unpack(packed, record["history_start"] - base, n_test > 0)
    test_bytes = 24 * n_test
    X, y = _unpack_data(data[: len(data) - test_bytes])
    X_test, y_test = _unpack_data(data[len(data) - test_bytes :]) if n_test else (None, None)
    record = {**record, "X": X, "y": y, "X_test": X_test, "y_test": y_test}
    trainer = _trainer(sid, record, history, test_history, max_points)
    trainer.revision = revision
    held = None if test_history is None else list(test_history)
    return trainer, _Loaded(data, list(history), record["history_start"], base, held)


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
