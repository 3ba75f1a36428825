"""What every session store enforces so that one client cannot crowd out the others (no HTTP here).

* **Ids.** Only ids of the exact shape :func:`app.sessions.new_id` issues reach a store, so no id can name
  anything else (an internal Redis key, for one).
* **Owners.** Each session belongs to the client address that created it (:func:`owner_key`): IPv4 as is,
  IPv6 by its /64 network (one host commonly holds a whole /64).
* **Per owner.** An owner holds at most ``per_address`` live sessions: creating one more evicts that owner's
  *own* least recently used idle session. It may create ``create_burst`` sessions at once, then
  ``create_rate`` a second; beyond that creation is refused (:class:`TooManySessions`, a 429) until a token
  is back. Eviction, not refusal, for the live-session cap: a student who reloads the page, or a class
  behind one NAT, keeps working, and only that address's oldest idle tab goes.
* **All together.** Beyond ``max_sessions`` sessions or ``max_bytes`` accounted bytes the store evicts the
  least recently used idle session *of the owner holding the most* (sessions, resp. bytes, in 64 KB steps;
  between equals, the one whose oldest session is oldest), so a flood evicts only its sender's sessions. If
  that owner has no idle session (its one session is the one growing), the next heaviest gives way.
* **Never in flight.** A session with a request running or waiting on it is never evicted; the limits are
  exceeded by at most the sessions in flight until the next change brings them back.
"""

import heapq
import ipaddress
import math
import re
from collections import OrderedDict
from dataclasses import dataclass

ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 192 bits in 32 URL-safe characters
BYTES_STEP = 65536  # owners' bytes are compared in these steps, so that near-equals fall back to LRU order
MAX_OWNER_LENGTH = 64


def is_session_id(sid):
    return isinstance(sid, str) and ID_SHAPE.fullmatch(sid) is not None


class TooManySessions(Exception):
    """This address created sessions faster than its rate allows; ``retry_after`` seconds until it may again."""

    def __init__(self, retry_after):
        super().__init__(f"too many new sessions from this address; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 10_000
    idle_timeout: float = 3600.0
    max_bytes: int = 1024 * 2**20
    per_address: int = 200
    create_rate: float = 2.0  # sessions a second, per address, after the burst
    create_burst: int = 200


def owner_key(host):
    """The address a session is accounted to: IPv4 as is, IPv6 by its /64, other text (a test client, a unix
    socket's peer) as given, cut short."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(host)[:MAX_OWNER_LENGTH]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# What a session costs in this process, calibrated with tracemalloc (bench/memory.py's method): the points
# (X float64 ×2, y int64) and their scores and losses (K+1 float64, cached by the state response), a Python
# float and its list slot per history entry, an int and its slot per last_batch index, and the rest. An image
# experiment holds no points (they are shared by the process), but K·(D+1) parameters and accuracy records.
BASE_BYTES, HISTORY_ENTRY_BYTES, BATCH_ENTRY_BYTES, SEGMENT_BYTES = 4096, 32, 40, 100
ACCURACY_ENTRY_BYTES = 160  # [step, train, validation]: a list and three Python numbers


def session_bytes(t):
    """An upper estimate of the memory a session (or an image experiment) holds (within 5 % from 9 to 10,000
    points × 10 classes)."""
    fields = vars(t)  # an experiment's accuracy records (a session's accuracy is a computed property)
    held, classes = fields.get("test_set"), len(t.b)
    points = len(fields.get("y", ())) + (0 if held is None else len(held.y))
    histories = 1 if held is None else 2  # a test set keeps a test loss beside each loss
    return (BASE_BYTES + 8 * (t.W.size + t.b.size) + points * (32 + 8 * classes)
            + HISTORY_ENTRY_BYTES * histories * len(t.history) + BATCH_ENTRY_BYTES * len(fields.get("last_batch") or ())
            + SEGMENT_BYTES * len(t.segments) + ACCURACY_ENTRY_BYTES * len(fields.get("accuracy", ())))


class CreationRate:
    """Token buckets, one per owner: ``burst`` tokens, refilled at ``rate`` a second; a full bucket is
    forgotten, so memory grows only with the owners that created sessions in the last ``burst / rate``
    seconds."""

    def __init__(self, rate, burst, clock):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets = OrderedDict()  # owner -> (tokens, when), least recently updated first

    def _tokens(self, bucket, now):
        tokens, when = bucket
        return min(self.burst, tokens + (now - when) * self.rate)

    def take(self, owner):
        """Spend one token of ``owner``'s, or raise :class:`TooManySessions`."""
        now = self.clock()
        while self._buckets:  # forget buckets that have filled up again
            oldest = next(iter(self._buckets.values()))
            if self._tokens(oldest, now) < self.burst:
                break
            self._buckets.popitem(last=False)
        bucket = self._buckets.pop(owner, None)
        tokens = self.burst if bucket is None else self._tokens(bucket, now)
        if tokens < 1:
            self._buckets[owner] = (tokens, now)
            raise TooManySessions(max(1, math.ceil((1 - tokens) / self.rate)))
        self._buckets[owner] = (tokens - 1, now)


class Ranking:
    """Owners by an integer weight, the heaviest found in O(log n): buckets of owners by weight, and a heap of
    the weights that have owners (each at most once in it)."""

    def __init__(self):
        self._buckets, self._heap, self._queued = {}, [], set()

    def move(self, owner, old, new):
        """``owner``'s weight changed from ``old`` to ``new`` (None: not ranked)."""
        if old == new:
            return
        if old is not None:
            bucket = self._buckets[old]
            bucket.discard(owner)
            if not bucket:
                del self._buckets[old]
        if new is not None:
            self._buckets.setdefault(new, set()).add(owner)
            if new not in self._queued:
                heapq.heappush(self._heap, -new)
                self._queued.add(new)

    def descending(self):
        """``(weight, owners)`` from the heaviest down (the rest sorted only if asked for); ``owners`` is the
        ranking's own set: copy it before changing weights."""
        while self._heap and -self._heap[0] not in self._buckets:
            self._queued.discard(-heapq.heappop(self._heap))
        if not self._heap:
            return
        top = -self._heap[0]
        yield top, self._buckets[top]
        for weight in sorted((w for w in self._buckets if w < top), reverse=True):
            yield weight, self._buckets[weight]
