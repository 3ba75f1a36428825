"""Server settings, read from ``LINCLASS_*`` environment variables and checked once at startup."""

import math
import os
from dataclasses import dataclass

_KINDS = (("max_sessions", int), ("idle_timeout", float), ("max_points", int), ("max_body", int),
          ("session_store", str))
# --- compute and HTTP limits (issue 10): app/api/compute.py and app/server.py --------------------------------
_LIMIT_KINDS = (("compute_workers", int), ("compute_queue", int), ("compute_budget", float), ("lab_budget", float),
                ("max_header_bytes", int), ("request_timeout", float), ("keep_alive_timeout", float),
                ("max_connections", int))
_POSITIVE_LIMITS = ("compute_workers", "compute_budget", "lab_budget", "max_header_bytes", "request_timeout",
                    "keep_alive_timeout", "max_connections")  # and compute_queue ≥ 0


@dataclass(frozen=True)
class Config:
    max_sessions: int = 10_000  # the least recently used session is evicted beyond this
    idle_timeout: float = 3600.0  # seconds without use before a session is dropped
    max_points: int = 10_000  # per session
    max_body: int = 2 * 1024 * 1024  # bytes; larger requests get a 413
    session_store: str = "memory"  # or redis://host:port/db, shared by several server processes

    # --- compute and HTTP limits (issue 10): app/api/compute.py and app/server.py -----------------------------
    # Work the cost model says is long runs in compute_workers threads with compute_queue more requests waiting
    # (beyond that: 503 with Retry-After); a step request computes for at most compute_budget seconds, a loss
    # surface, line or gradient check for lab_budget seconds (then 503).
    compute_workers: int = 2
    compute_queue: int = 32
    compute_budget: float = 2.0
    lab_budget: float = 10.0
    # The server the CLI starts: request line and headers up to max_header_bytes (beyond: 431 and closed);
    # request_timeout seconds to receive a request's headers and body (then 408 or closed: slowloris);
    # keep_alive_timeout idle seconds between requests; at most max_connections open (beyond: 503, closed).
    max_header_bytes: int = 32 * 1024
    request_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000

    def __post_init__(self):
        for name in ("max_sessions", "idle_timeout", "max_points", "max_body") + _POSITIVE_LIMITS:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive and finite, not {value!r}")
        if not self.compute_queue >= 0:
            raise ValueError(f"compute_queue must be ≥ 0, not {self.compute_queue!r}")
        if self.session_store != "memory" and not self.session_store.startswith("redis://"):
            raise ValueError(f"session_store must be 'memory' or a redis:// URL, not {self.session_store!r}")

    @classmethod
    def from_env(cls, env=os.environ):
        kw = {}
        for name, kind in _KINDS + _LIMIT_KINDS:
            var = f"LINCLASS_{name.upper()}"
            if (value := env.get(var)) is not None:
                try:
                    kw[name] = kind(value)
                except ValueError:
                    raise ValueError(f"{var} must be {'an integer' if kind is int else 'a number'}, "
                                     f"not {value!r}") from None
        return cls(**kw)
