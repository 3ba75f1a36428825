"""Per-user training state, kept in a bounded store: create, read, edit under a lock, delete. No HTTP here.

Every store has the same async interface: ``create(trainer, owner) -> id``, ``open(id, write=True, gone=None)``
(an async context manager yielding the trainer), ``delete(id, check=None, gone=None)``, ``count()`` and
``close()``. Unknown, expired, evicted and ill-shaped ids raise :class:`SessionNotFound`. Every saved change
adds one to the trainer's ``revision`` (the API's ETag). ``gone`` is an async callable saying whether the
client has left: a request that waited for the session's lock checks it once it has the lock, and lets go at
once if so (:class:`RequestAbandoned`). :class:`app.redis_store.RedisStore` shares sessions between server
processes; both enforce :mod:`app.session_limits`.

:class:`MemoryStore` is the embedded default. ``open`` holds the session's own lock for the whole
read-modify-write (reads too, so that none sees half an update), so concurrent requests to one session are
applied one after another and none is lost.
"""

import asyncio
import itertools
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from app.session_limits import BYTES_STEP, CreationRate, Limits, Ranking, is_session_id, session_bytes

WAITED = 0.05  # seconds: a request that waited longer for its lock checks that its client is still there


class SessionNotFound(KeyError):
    pass


class StoreUnavailable(RuntimeError):
    """The store cannot serve the request now (its server is unreachable, or a session stayed locked).

    A change answered with this may or may not have been applied (the store's reply can be lost after the
    write); a retry carrying ``If-Match`` is applied only if it was not."""


class RequestAbandoned(Exception):
    """The client left while its request waited for the session; nothing was changed."""


def new_id():
    """192 random bits, URL-safe: 32 characters (:data:`app.session_limits.ID_SHAPE`)."""
    return secrets.token_urlsafe(24)


def check_id(sid):
    if not is_session_id(sid):
        raise SessionNotFound(sid)


@dataclass(eq=False)
class _Entry:
    sid: str
    trainer: object
    owner: str
    used: float
    size: int = 0
    users: int = 0  # requests holding or awaiting the lock: while any, the session is never evicted
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(eq=False)
class _Owner:
    sessions: OrderedDict = field(default_factory=OrderedDict)  # id -> entry, least recently used first
    bytes: int = 0


class MemoryStore:
    def __init__(self, max_sessions=10_000, idle_timeout=3600.0, clock=time.monotonic, **limits):
        self.limits = Limits(max_sessions=max_sessions, idle_timeout=idle_timeout, **limits)
        self.max_sessions, self.idle_timeout, self.clock = max_sessions, idle_timeout, clock
        self._entries = OrderedDict()  # id -> entry, least recently used first
        self._owners = {}  # owner -> _Owner, only owners with sessions
        self._by_count, self._by_bytes = Ranking(), Ranking()  # of the _Owner objects
        self._bytes = 0
        self._rate = CreationRate(self.limits.create_rate, self.limits.create_burst, clock)

    def __len__(self):
        return len(self._entries)

    async def bytes(self):
        """The accounted size of every session together."""
        return self._bytes

    async def create(self, trainer, owner="unknown"):
        self._expire()
        self._rate.take(owner)
        entry = _Entry(new_id(), trainer, owner, self.clock())
        mine = self._owners.setdefault(owner, _Owner())
        before = _weights(mine)
        self._entries[entry.sid] = mine.sessions[entry.sid] = entry
        self._resize(entry, before)
        self._shrink(entry)
        return entry.sid

    def _entry(self, sid):
        entry = self._entries.get(sid)  # an ill-shaped id is not among them: only issued ids are keys
        now = self.clock()
        if entry is None or (now - entry.used > self.idle_timeout and not entry.users):
            if entry is not None:
                self._remove(entry)
            raise SessionNotFound(sid)
        entry.used = now
        self._entries.move_to_end(sid)
        self._owners[entry.owner].sessions.move_to_end(sid)
        return entry

    def _expire(self):
        now = self.clock()
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.used <= self.idle_timeout or oldest.users:
                break
            self._remove(oldest)

    def open(self, sid, write=True, gone=None):
        """The trainer, under the session's lock (``async with``); changes to it must be all-or-nothing."""
        return _Opened(self, self._entry(sid), write, gone)

    async def delete(self, sid, check=None, gone=None):
        """Delete the session once the requests on it are done; ``check(revision)`` may refuse by raising."""
        async with self.open(sid, write=False, gone=gone) as t:
            if check is not None:
                check(t.revision)
            self._remove(self._entries[sid])

    async def count(self):
        """Live sessions (expired ones dropped first)."""
        self._expire()
        return len(self._entries)

    async def close(self):
        pass

    # --- accounting and eviction (see app.session_limits) ------------------------------------------------
    def _rerank(self, owner, before):
        after = _weights(owner)
        self._by_count.move(owner, before[0], after[0])
        self._by_bytes.move(owner, before[1], after[1])

    def _resize(self, entry, before=None):
        owner = self._owners[entry.owner]
        before = before or _weights(owner)
        size = session_bytes(entry.trainer)
        self._bytes += size - entry.size
        owner.bytes += size - entry.size
        entry.size = size
        self._rerank(owner, before)

    def _remove(self, entry):
        del self._entries[entry.sid]
        owner = self._owners[entry.owner]
        before = _weights(owner)
        del owner.sessions[entry.sid]
        owner.bytes -= entry.size
        self._bytes -= entry.size
        self._rerank(owner, before)
        if not owner.sessions:
            del self._owners[entry.owner]

    def _evict_oldest_idle(self, owner, keep):
        for entry in owner.sessions.values():
            if entry is not keep and not entry.users:
                self._remove(entry)
                return True
        return False

    def _evict_from_heaviest(self, ranking, weight, keep):
        """Evict the least recently used idle session of the owner with the greatest ``weight`` (between equals,
        of the one whose least recently used session is oldest); if none of those has one, of the next."""
        for top, owners in ranking.descending():
            if len(owners) > 16:  # many as heavy (each with one session, say): the first of theirs in the LRU order
                for entry in itertools.islice(self._entries.values(), 64):
                    if entry is not keep and not entry.users and weight(self._owners[entry.owner]) == top:
                        self._remove(entry)
                        return True
            owners = sorted(owners, key=lambda o: next(iter(o.sessions.values())).used)
            if any(self._evict_oldest_idle(o, keep) for o in owners):
                return True
        return False

    def _shrink(self, keep):
        """Back within the limits, never evicting ``keep`` (the session just created or changed)."""
        mine, limits = self._owners[keep.owner], self.limits
        while len(mine.sessions) > limits.per_address and self._evict_oldest_idle(mine, keep):
            pass
        while len(self._entries) > self.max_sessions and \
                self._evict_from_heaviest(self._by_count, lambda o: len(o.sessions), keep):
            pass
        while self._bytes > limits.max_bytes and \
                self._evict_from_heaviest(self._by_bytes, lambda o: o.bytes // BYTES_STEP, keep):
            pass


class _Opened:
    """:meth:`MemoryStore.open`'s context: the session's lock held from entry to exit, the session counted in
    use meanwhile, the change accounted on a normal exit. A class rather than an ``asynccontextmanager``: every
    request passes here, and a generator-based one costs about 4 µs more (bench/protocol_cpu.py)."""

    __slots__ = ("store", "entry", "write", "gone")

    def __init__(self, store, entry, write, gone):
        self.store, self.entry, self.write, self.gone = store, entry, write, gone

    async def __aenter__(self):
        entry = self.entry
        waited = entry.lock.locked()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:
            entry.users -= 1
            raise
        try:
            if self.store._entries.get(entry.sid) is not entry:  # deleted while this request waited
                raise SessionNotFound(entry.sid)
            if waited and self.gone is not None and await self.gone():
                raise RequestAbandoned()
        except BaseException:
            self._release()
            raise
        return entry.trainer

    async def __aexit__(self, exc_type, exc, traceback):
        try:
            if exc_type is None and self.write:
                entry = self.entry
                entry.trainer.revision += 1
                self.store._resize(entry)
                self.store._shrink(entry)
        finally:
            self._release()

    def _release(self):
        self.entry.users -= 1
        self.entry.lock.release()


def _weights(owner):
    """An owner's weights in the two rankings: its sessions, and its bytes in steps (None: it has none)."""
    return (len(owner.sessions), owner.bytes // BYTES_STEP) if owner.sessions else (None, None)
