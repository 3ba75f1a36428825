"""Server settings, read from ``LINCLASS_*`` environment variables."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    max_sessions: int = 10_000
    idle_timeout: float = 3600.0  # seconds
    max_points: int = 10_000  # per session
    max_body: int = 2 * 1024 * 1024  # bytes
    session_store: str = "memory"  # or redis://host:port/db

    @classmethod
    def from_env(cls, env=os.environ):
        kw = {}
        for name, kind in (("max_sessions", int), ("idle_timeout", float), ("max_points", int),
                           ("max_body", int), ("session_store", str)):
            value = env.get(f"LINCLASS_{name.upper()}")
            if value is not None:
                kw[name] = kind(value)
        return cls(**kw)
