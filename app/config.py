"""Server settings, read from ``LINCLASS_*`` environment variables and checked once at startup."""

import math
import os
from dataclasses import dataclass

_KINDS = (("max_sessions", int), ("idle_timeout", float), ("max_points", int), ("max_body", int),
          ("session_store", str), ("cifar10_dir", str))


@dataclass(frozen=True)
class Config:
    max_sessions: int = 10_000  # the least recently used session is evicted beyond this
    idle_timeout: float = 3600.0  # seconds without use before a session is dropped
    max_points: int = 10_000  # per session
    max_body: int = 2 * 1024 * 1024  # bytes; larger requests get a 413
    session_store: str = "memory"  # or redis://host:port/db, shared by several server processes
    cifar10_dir: str | None = None  # a cifar-10-batches-py folder (python pickles); unset: CIFAR-10 unavailable

    def __post_init__(self):
        for name in ("max_sessions", "idle_timeout", "max_points", "max_body"):
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
