"""Sessions in Redis, shared by every server process that points at the same server; same interface as
:class:`app.sessions.MemoryStore`, and the same limits (:mod:`app.session_limits`), kept in Redis so that
they hold across processes. The keys and the scripts that change them are in :mod:`app.redis_lua`.

A session is stored as :mod:`app.session_codec` lays it out: a small ``core``, its data, and a loss history
appended per step. Every use renews the session keys' TTL of ``idle_timeout``, so idle sessions expire in
Redis itself.

Edits are serialized across processes by the session's lock (and within one process by an asyncio lock, so
only other processes' requests poll): a token with a lease of ``LEASE_MS``, renewed every third of it while
its request runs, so a crashed process (or a lock saved in Redis's append-only file when it died) stalls the
session for at most one lease. A write whose lock was lost is refused (503, not applied); a 503 for a lost
connection may come after Redis applied the write: either way a retry with ``If-Match`` is safe.

What a record holds is the codec's business (``codec.encode(obj, loaded=None) -> (core, data, history mode,
history bytes, accounted size)``, ``codec.decode(sid, reply) -> (obj, loaded)``; ``core`` carries the
``revision``): :class:`~app.session_codec.SessionCodec` by default; image experiments have their own (:mod:`app.experiment_codec`)
in a second store under their own prefix.
"""

import asyncio
import random
import secrets
from contextlib import asynccontextmanager

import orjson
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.redis_lua import COMMON, SCRIPTS
from app.session_codec import SessionCodec
from app.session_limits import Limits, TooManySessions
from app.sessions import WAITED, RequestAbandoned, SessionNotFound, StoreUnavailable, check_id, new_id

LEASE_MS = 3_000  # a lock's lease, renewed every third of it while its request runs
LOCK_WAIT = 30.0  # seconds to wait for another process's edit before answering 503
MAX_CONNECTIONS = 64  # to Redis, per process, for requests
LEASE_CONNECTIONS = 8  # and for lease renewals, which must never queue behind requests
SOCKET_TIMEOUT = 5.0  # seconds for one Redis reply: a frozen Redis fails requests, not holds them for long
# Scripts that may run twice to the same effect (a second acquisition by the same token is the first), and so
# are repeated once when a connection turns out dead; the others change the store and are not.
_REPEATABLE = {"open", "count", "renew", "release"}


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
