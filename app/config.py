"""Server settings, read from ``LINCLASS_*`` environment variables and checked once at startup."""

import math
import os
from dataclasses import dataclass

_KINDS = (("max_sessions", int), ("idle_timeout", float), ("max_points", int), ("max_body", int),
          ("session_store", str), ("max_memory_mb", float), ("max_sessions_per_address", int),
          ("create_rate", float), ("create_burst", int))
_POSITIVE = ("max_sessions", "idle_timeout", "max_points", "max_body", "max_memory_mb", "max_sessions_per_address",
             "create_rate", "create_burst")


@dataclass(frozen=True)
class Config:
    max_sessions: int = 10_000  # the least recently used session is evicted beyond this
    idle_timeout: float = 3600.0  # seconds without use before a session is dropped
    max_points: int = 10_000  # per session
    max_body: int = 2 * 1024 * 1024  # bytes; larger requests get a 413
    session_store: str = "memory"  # or redis://host:port/db, shared by several server processes

    # --- Sharing one server fairly (issue 10; enforced by both stores, see app/session_limits.py) ----------
    # All sessions together stay within this many MB (accounted, see session_limits.session_bytes); beyond it,
    # and beyond max_sessions, the least recently used idle session of the address holding the most goes.
    max_memory_mb: float = 1024.0
    # Live sessions one client address may hold (at least a class behind one NAT); creating one more evicts
    # that address's own least recently used idle session.
    max_sessions_per_address: int = 200
    # New sessions one address may create: a burst of create_burst, then create_rate a second; beyond, 429.
    create_rate: float = 2.0
    create_burst: int = 200

    def __post_init__(self):
        for name in _POSITIVE:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive and finite, not {value!r}")
        if self.session_store != "memory" and not self.session_store.startswith("redis://"):
            raise ValueError(f"session_store must be 'memory' or a redis:// URL, not {self.session_store!r}")

    @classmethod
    def from_env(cls, env=os.environ):
        kw = {}
        for name, kind in _KINDS:
            var = f"LINCLASS_{name.upper()}"
            if (value := env.get(var)) is not None:
                try:
                    kw[name] = kind(value)
                except ValueError:
                    raise ValueError(f"{var} must be {'an integer' if kind is int else 'a number'}, "
                                     f"not {value!r}") from None
        return cls(**kw)

    def store_limits(self):
        """The keyword arguments of the session stores' limits."""
        return {"max_bytes": round(self.max_memory_mb * 2**20), "per_address": self.max_sessions_per_address,
                "create_rate": self.create_rate, "create_burst": self.create_burst}
