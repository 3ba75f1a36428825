"""Server settings, read once at start-up from ``LINCLASS_*`` environment variables (pydantic-settings).

Every field is one variable: ``max_sessions`` is ``LINCLASS_MAX_SESSIONS``. ``linear-classify-demo --help``
lists them all with their defaults; a bad value stops the command with one line that names the variable.
"""

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LINCLASS_"


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    max_sessions: int = Field(10_000, gt=0, description="live sessions; the least recently used is evicted beyond")
    idle_timeout: float = Field(3600.0, gt=0, allow_inf_nan=False,
                                description="seconds without use before a session is dropped")
    max_points: int = Field(10_000, gt=0, description="data points per session")
    max_body: int = Field(2 * 1024 * 1024, gt=0, description="bytes in a request body; larger ones get 413")
    session_store: str = Field("memory", pattern=r"^(memory|redis://\S+)$",
                               description="'memory', or redis://host:port/db to share sessions between processes")

    # Sharing one server fairly (enforced by both stores, see app/session_limits.py): beyond the memory budget or
    # max_sessions, the least recently used idle session of the address holding the most goes.
    max_memory_mb: float = Field(1024.0, gt=0, allow_inf_nan=False,
                                 description="MB that all sessions together may take (accounted per session)")
    max_sessions_per_address: int = Field(200, gt=0, description="live sessions one client address may hold; "
                                          "one more evicts that address's own least recently used idle session")
    create_rate: float = Field(2.0, gt=0, allow_inf_nan=False,
                               description="new sessions a second one address may create, after a burst; 429 beyond")
    create_burst: int = Field(200, gt=0, description="new sessions one address may create at once")

    cifar10_dir: str | None = Field(None, description="a cifar-10-batches-py folder (CS231n's python pickles); "
                                    "unset: CIFAR-10 is listed as unavailable")

    # Compute and HTTP limits (app/api/compute.py, app/server.py): long work runs in compute_workers threads with
    # compute_queue more requests waiting (beyond: 503 with Retry-After); the server the CLI starts closes
    # slow, idle and oversized requests.
    compute_workers: int = Field(2, gt=0, description="threads for long computations")
    compute_queue: int = Field(32, ge=0, description="requests that may wait for a compute thread; 503 beyond")
    compute_budget: float = Field(2.0, gt=0, allow_inf_nan=False,
                                  description="seconds of compute per step request (fewer steps are taken beyond)")
    lab_budget: float = Field(10.0, gt=0, allow_inf_nan=False,
                              description="seconds for a loss surface, line or gradient check (503 beyond)")
    max_header_bytes: int = Field(32 * 1024, gt=0, description="request line and headers; 431 beyond")
    request_timeout: float = Field(10.0, gt=0, allow_inf_nan=False,
                                   description="seconds to receive a request's headers and body (slowloris: 408)")
    keep_alive_timeout: float = Field(5.0, gt=0, allow_inf_nan=False,
                                      description="idle seconds before a keep-alive connection is closed")
    max_connections: int = Field(1000, gt=0, description="open connections; 503 and closed beyond")

    def store_limits(self):
        """The keyword arguments of the session stores' limits."""
        return {"max_bytes": round(self.max_memory_mb * 2**20), "per_address": self.max_sessions_per_address,
                "create_rate": self.create_rate, "create_burst": self.create_burst}


class ConfigError(ValueError):
    """A bad ``LINCLASS_*`` value, said in one line."""


def env_name(field):
    return ENV_PREFIX + field.upper()


def load_config(**overrides):
    """The settings from the environment (and ``overrides``), or :class:`ConfigError` naming the variable."""
    try:
        return Config(**overrides)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        name = env_name(str(err["loc"][0])) if err["loc"] else ENV_PREFIX + "*"
        raise ConfigError(f"{name}={err.get('input')!r} is not valid: {err['msg']}") from None


def describe_settings():
    """``--help`` text: every variable with its default and meaning."""
    lines = ["settings (environment variables):"]
    for name, field in Config.model_fields.items():
        lines.append(f"  {env_name(name):26} {field.description} (default: {field.default})")
    return "\n".join(lines)
