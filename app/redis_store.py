"""Sessions in Redis, shared by every server process that points at the same server; same interface as
:class:`app.sessions.MemoryStore`.

Keys (the prefix ``P`` is ``linclass:``), each change made by one Lua script, atomically:

* ``P{id}``, a hash: ``core`` is :meth:`Trainer.to_record` as orjson without the data and the loss history;
  ``data`` is ``X`` as float64 then ``y`` as int64 (24 bytes a point), rewritten only when the data change.
* ``P{id}:history``: the loss history as float64 bytes, *appended* per step, so a step costs the same however
  long the history is. ``core["history_base"]`` is the step of its first byte's entry; the dead front left by
  trimming is rewritten away only once it outgrows the live history.
* ``P{id}:lock``: the token of the request editing the session. Edits are serialized across processes by it
  (and within one process by an asyncio lock, so only other processes' requests poll). It expires unless
  renewed, so a crashed process cannot hold a session forever; a write whose lock was lost is refused.
* ``Pused``: a sorted set of ids by last use on Redis's clock: expired ids leave it, and the least recently
  used are evicted beyond ``max_sessions``.

Every use renews the session keys' TTL of ``idle_timeout``, so idle sessions expire in Redis itself.

What a record holds is the codec's business (``codec.encode(obj, loaded=None) -> (core, data, history mode,
history bytes)``, ``codec.decode(sid, reply) -> (obj, loaded)``): :class:`SessionCodec` by default; image
experiments have their own (:mod:`app.experiment_codec`) in a second store under their own prefix.
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
from app.sessions import SessionNotFound, StoreUnavailable, new_id

LOCK_MS = 30_000  # a lock's lifetime, renewed every third of it while its request runs
LOCK_WAIT = 120.0  # seconds to wait for another process's edit before answering 503
MAX_CONNECTIONS = 64  # to Redis, per process

_LUA_COMMON = """
local function touch(state, history, used, sid, ttl)
  local t = redis.call('TIME')
  redis.call('PEXPIRE', state, ttl)
  redis.call('PEXPIRE', history, ttl)
  redis.call('ZADD', used, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), sid)
end
local function forget_expired(used, ttl)
  local t = redis.call('TIME')
  redis.call('ZREMRANGEBYSCORE', used, '-inf', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl)
end
"""
_SCRIPTS = {
    # KEYS state, history, used; ARGV sid, ttl, max_sessions, prefix, core, data, history
    "create": """
forget_expired(KEYS[3], tonumber(ARGV[2]))
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3]) + 1
if excess > 0 then
  local old = redis.call('ZPOPMIN', KEYS[3], excess)
  for i = 1, #old, 2 do redis.call('DEL', ARGV[4] .. old[i], ARGV[4] .. old[i] .. ':history') end
end
redis.call('HSET', KEYS[1], 'core', ARGV[5], 'data', ARGV[6])
redis.call('SET', KEYS[2], ARGV[7])
touch(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
return 1""",
    # KEYS state, history, lock, used; ARGV sid, ttl, token ('' to read without locking), lock_ms
    # -> {0} unknown id, {1} locked by another request, {2, core, data, history}
    "open": """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if ARGV[3] ~= '' and not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then return {1} end
touch(KEYS[1], KEYS[2], KEYS[4], ARGV[1], ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'core', 'data')
return {2, v[1], v[2], redis.call('GET', KEYS[2]) or ''}""",
    # KEYS state, history, lock, used; ARGV sid, ttl, token, core, data ('' if unchanged), 'set'|'append', history
    # -> 1 saved, 0 the session is gone (evicted or deleted meanwhile), -1 the lock was lost
    "save": """
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
redis.call('DEL', KEYS[3])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'core', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'data', ARGV[5]) end
if ARGV[6] == 'set' then redis.call('SET', KEYS[2], ARGV[7]) else redis.call('APPEND', KEYS[2], ARGV[7]) end
touch(KEYS[1], KEYS[2], KEYS[4], ARGV[1], ARGV[2])
return 1""",
    # KEYS lock; ARGV token
    "release": "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    # KEYS lock; ARGV token, lock_ms
    "renew": "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
    # KEYS state, history, used; ARGV sid -> keys deleted
    "delete": "redis.call('ZREM', KEYS[3], ARGV[1]) return redis.call('DEL', KEYS[1], KEYS[2])",
    # KEYS used; ARGV ttl
    "count": "forget_expired(KEYS[1], tonumber(ARGV[1])) return redis.call('ZCARD', KEYS[1])",
}


@dataclass(frozen=True)
class _Loaded:
    """What a session looked like when opened, to write back only what changed."""

    data: bytes
    history: list
    history_start: int
    history_base: int


class RedisStore:
    def __init__(self, url, max_sessions=10_000, idle_timeout=3600.0, prefix="linclass:", codec=None):
        self.redis = redis.asyncio.from_url(url, max_connections=MAX_CONNECTIONS, socket_connect_timeout=5,
                                            socket_timeout=30)
        # Beyond the pool's connections, requests queue here (first come, first served, one woken per free
        # connection) rather than fail, as the pool would, or all wake on each release, as its blocking kind does.
        self._connections = asyncio.Semaphore(MAX_CONNECTIONS)
        self.max_sessions, self.idle_timeout, self.prefix = max_sessions, idle_timeout, prefix
        self.codec = codec or SessionCodec
        self._ttl = max(1, round(idle_timeout * 1000))
        self._used = prefix + "used"
        self._scripts = {name: self.redis.register_script(_LUA_COMMON + body) for name, body in _SCRIPTS.items()}
        self._local = {}  # id -> [asyncio.Lock, users]: this process's requests queue here, not on Redis

    def _keys(self, sid):
        return self.prefix + sid, self.prefix + sid + ":history", self.prefix + sid + ":lock"

    async def _run(self, script, keys, args):
        try:
            async with self._connections:
                return await self._scripts[script](keys=keys, args=args)
        except (RedisConnectionError, RedisTimeoutError) as e:
            raise StoreUnavailable(f"the session store is unreachable ({type(e).__name__})") from e

    async def create(self, trainer):
        sid = new_id()
        state, history, _ = self._keys(sid)
        core, data, _, chunk = self.codec.encode(trainer)
        await self._run("create", [state, history, self._used],
                        [sid, self._ttl, self.max_sessions, self.prefix, core, data, chunk])
        return sid

    @asynccontextmanager
    async def open(self, sid, write=True):
        """The trainer; with ``write``, under the session's lock, and saved if the block exits normally."""
        state, history, lock = self._keys(sid)
        if not write:
            reply = await self._run("open", [state, history, lock, self._used], [sid, self._ttl, "", 0])
            yield self.codec.decode(sid, reply)[0]
            return
        async with self._local_lock(sid):
            token = secrets.token_hex(16)
            reply = await self._acquire(sid, token)
            renewer, saved = asyncio.create_task(self._renew(lock, token)), False
            try:
                trainer, loaded = self.codec.decode(sid, reply)
                yield trainer
                await self._save(sid, token, trainer, loaded)  # which releases the lock
                saved = True
            finally:
                renewer.cancel()
                if not saved:  # an error or a cancellation: nothing is written, and the lock is let go now
                    await self._run("release", [lock], [token])

    async def _acquire(self, sid, token):
        state, history, lock = self._keys(sid)
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + LOCK_WAIT, 0.001
        while True:
            reply = await self._run("open", [state, history, lock, self._used], [sid, self._ttl, token, LOCK_MS])
            if reply[0] != 1:
                return reply
            if loop.time() > deadline:
                raise StoreUnavailable("the session is busy with another request; try again")
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(2 * delay, 0.05)

    async def _renew(self, lock, token):
        try:
            while True:
                await asyncio.sleep(LOCK_MS / 3000)
                await self._run("renew", [lock], [token, LOCK_MS])
        except StoreUnavailable:
            pass  # the save will find the lock lost and refuse

    async def _save(self, sid, token, trainer, loaded):
        state, history, lock = self._keys(sid)
        core, data, mode, chunk = self.codec.encode(trainer, loaded)
        result = await self._run("save", [state, history, lock, self._used],
                                 [sid, self._ttl, token, core, b"" if data == loaded.data else data, mode, chunk])
        if result == 0:
            raise SessionNotFound(sid)
        if result < 0:
            raise StoreUnavailable("the session's lock expired during the update, which was not applied")

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

    async def delete(self, sid):
        state, history, _ = self._keys(sid)
        if await self._run("delete", [state, history, self._used], [sid]) == 0:
            raise SessionNotFound(sid)

    async def count(self):
        """Live sessions (expired ones forgotten first)."""
        return await self._run("count", [self._used], [self._ttl])

    async def close(self):
        await self.redis.aclose()


def _pack(losses):
    return np.asarray(losses, dtype="<f8").tobytes()


def _pack_data(X, y):
    """``X`` (N×2 float64) then ``y`` (N int64), little-endian: 24 bytes a point."""
    return np.ascontiguousarray(X, dtype="<f8").tobytes() + np.ascontiguousarray(y, dtype="<i8").tobytes()


def _unpack_data(data):
    n = len(data) // 24
    return np.frombuffer(data, "<f8", 2 * n).reshape(n, 2), np.frombuffer(data, "<i8", n, offset=16 * n)


def _encode(trainer, loaded=None):
    """``(core, data, history mode, history bytes)`` to store ``trainer``, as new or over ``loaded``."""
    record = trainer.to_record()
    start, history = record["history_start"], record["history"]
    mode, chunk, base = _history_change(loaded, start, history) if loaded else ("set", _pack(history), start)
    rest = {k: v for k, v in record.items() if k not in ("X", "y", "history")}
    core = orjson.dumps({**rest, "history_base": base, "max_points": trainer.max_points})
    return core, _pack_data(trainer.X, trainer.y), mode, chunk


def _history_change(loaded, start, history):
    """``(mode, bytes, history_base)``: append the new losses if the history only grew (and lost some of its
    front to trimming), else rewrite it."""
    old, old_start, base = loaded.history, loaded.history_start, loaded.history_base
    old_end, end = old_start + len(old), start + len(history)
    grew = old_start <= start <= old_end <= end and history[: old_end - start] == old[start - old_start :]
    if grew and start - base <= len(history) + 1024:
        return "append", _pack(history[old_end - start :]), base
    return "set", _pack(history), start


def _decode(sid, reply):
    """``(trainer, loaded)`` from the ``open`` script's reply."""
    if reply[0] == 0:
        raise SessionNotFound(sid)
    _, core, data, packed = reply
    record = orjson.loads(core)
    base, max_points = record.pop("history_base"), record.pop("max_points")
    history = np.frombuffer(packed, dtype="<f8")[record["history_start"] - base :].tolist()
    X, y = _unpack_data(data)
    trainer = _trainer(sid, {**record, "X": X, "y": y}, history, max_points)
    return trainer, _Loaded(data, list(history), record["history_start"], base)


def _trainer(sid, record, history, max_points):
    """``Trainer.from_record``, which checks a record as it would a user's upload, but for two things a stored
    record is trusted with: the parameters, which training can carry past the bound that user input is held
    to (a huge step size), and the loss history, float64 and finite already (and checking 100,000 losses
    would cost more than the step). They go through it clipped and cut short, and are put back after."""
    W, b = np.asarray(record["W"], dtype=float), np.asarray(record["b"], dtype=float)
    light = {**record, "W": np.clip(W, -MAX_ABS, MAX_ABS), "b": np.clip(b, -MAX_ABS, MAX_ABS),
             "history": history[-1:], "history_start": record["step"]}
    try:
        t = Trainer.from_record(light, max_points=max_points)
    except InvalidInput as e:
        raise RuntimeError(f"session {sid[:6]}…: the stored record is invalid ({e})") from None
    t.history, t.history_start = history, record["history_start"]
    if not (np.array_equal(t.W, W) and np.array_equal(t.b, b)):
        t.W, t.b, t._ev = W, b, None  # _ev: the cached evaluation, of the clipped parameters
    return t


class SessionCodec:
    """A 2-D session (:class:`Trainer`) as a Redis record."""

    encode = staticmethod(_encode)
    decode = staticmethod(_decode)
