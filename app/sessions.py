"""Per-user training state, kept in a bounded store: create, read, edit under a lock, delete. No HTTP here.

Every store has the same async interface: ``create(trainer) -> id``, ``open(id, write=True)`` (an async
context manager yielding the trainer), ``delete(id)``, ``count()`` and ``close()``. Unknown, expired and
evicted ids raise :class:`SessionNotFound`. :class:`app.redis_store.RedisStore` shares sessions between
server processes.

:class:`MemoryStore` is the embedded default: an LRU of at most ``max_sessions`` entries, each dropped after
``idle_timeout`` seconds without use. ``open`` holds the session's own lock for the whole read-modify-write
(reads too, so that none sees half an update), so concurrent requests to one session are applied one after
another and none is lost.
"""

import asyncio
import secrets
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class SessionNotFound(KeyError):
    pass


class StoreUnavailable(RuntimeError):
    """The store cannot serve the request now (its server is unreachable, or a session stayed locked)."""


def new_id():
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass
class _Entry:
    trainer: object
    used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class MemoryStore:
    def __init__(self, max_sessions=10_000, idle_timeout=3600.0, clock=time.monotonic):
        self.max_sessions, self.idle_timeout, self.clock = max_sessions, idle_timeout, clock
        self._entries = OrderedDict()

    def __len__(self):
        return len(self._entries)

    async def create(self, trainer):
        self._expire()
        while len(self._entries) >= self.max_sessions:
            self._entries.popitem(last=False)
        sid = new_id()
        self._entries[sid] = _Entry(trainer, self.clock())
        return sid

    def _entry(self, sid):
        entry = self._entries.get(sid)
        now = self.clock()
        if entry is None or now - entry.used > self.idle_timeout:
            self._entries.pop(sid, None)
            raise SessionNotFound(sid)
        entry.used = now
        self._entries.move_to_end(sid)
        return entry

    def _expire(self):
        now = self.clock()
        while self._entries:
            sid, oldest = next(iter(self._entries.items()))
            if now - oldest.used <= self.idle_timeout:
                break
            del self._entries[sid]

    @asynccontextmanager
    async def open(self, sid, write=True):
        """The trainer, under the session's lock; changes to it must be all-or-nothing."""
        entry = self._entry(sid)
        async with entry.lock:
            if self._entries.get(sid) is not entry:
                raise SessionNotFound(sid)
            yield entry.trainer

    async def delete(self, sid):
        self._entry(sid)
        del self._entries[sid]

    async def count(self):
        """Live sessions (expired ones dropped first)."""
        self._expire()
        return len(self._entries)

    async def close(self):
        pass
