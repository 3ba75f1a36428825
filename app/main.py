"""The app factory: store, routers, error handlers, middleware, static files."""

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from app import __version__, loop_watch
from app.api import compute, errors, experiments, lab, pages, sessions
from app.api.fast_path import FastPath
from app.api.middleware import RequestGuard, SecurityHeaders
from app.config import ConfigError, load_config
from app.paths import STATIC
from app.sessions import MemoryStore


REDIS_MISSING = ("LINCLASS_SESSION_STORE=redis://… needs the Redis client: "
                 "pip install 'linear-classify-demo[redis]'")
# FastAPI's native OpenTelemetry support asks the global providers whether they are configured on every request
# (22 µs here, a tenth of a step request's CPU budget, bench/throughput.py); this server exports no telemetry.
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


def make_store(config, kind="sessions"):
    """Sessions' store, or the image experiments' (the same limits; in Redis under its own prefix)."""
    if config.session_store.startswith("redis://"):
        try:
            from app.redis_store import RedisStore
        except ImportError:
            raise ConfigError(REDIS_MISSING) from None

        if kind == "experiments":
            from app.experiment_codec import ExperimentCodec

            return RedisStore(config.session_store, config.max_sessions, config.idle_timeout,
                              prefix="linclass:experiments:", codec=ExperimentCodec, **config.store_limits())
        return RedisStore(config.session_store, config.max_sessions, config.idle_timeout, **config.store_limits())
    return MemoryStore(config.max_sessions, config.idle_timeout, **config.store_limits())


def one_blas_thread():
    """BLAS on one thread for the whole process, unless the environment sets a number. The server's parallelism
    is across requests; OpenBLAS's own threads wait for each other by spinning, which on two busy cores turns
    many small products into a crawl: a numerical-gradient step on the digits (1,301 products) took 15–35 s with
    two threads, 0.8 s with one. Called from the main thread: OpenBLAS ignores the setting made in a worker."""
    if not any(name in os.environ for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        threadpool_limits(1, user_api="blas")


def warm_routes(app):
    """FastAPI (0.165) builds each included router's route table on the first request that reaches it: ~50 ms of
    the event loop, under some user's request (bench/attack.py saw it as the loop's longest stall). Matching one
    path against every route here builds them before the server listens."""
    scope = {"type": "http", "path": "/api/health", "method": "GET", "root_path": "", "headers": [],
             "query_string": b""}
    for route in app.router.routes:
        route.matches(scope)


class DemoApp(FastAPI):
    """FastAPI with :class:`~app.api.fast_path.FastPath` in front of its middleware stack: every request goes
    to ``front``, which answers the hottest ones itself and passes the rest to FastAPI's own ``__call__``."""

    front = None

    async def __call__(self, scope, receive, send):
        await self.front(scope, receive, send)


def create_app(config=None):
    config = config or load_config()
    one_blas_thread()

    @asynccontextmanager
    async def lifespan(app):
        if app.state.watch:
            app.state.watch.start()
        yield
        if app.state.watch:
            app.state.watch.stop()
        await app.state.store.close()
        await app.state.experiments.close()
        app.state.compute.close()

    app = DemoApp(title="linear-classify-demo", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  telemetry=NO_TELEMETRY,
                  description="The CS231n linear-classification loss demo: per-user sessions of a linear "
                              "classifier on 2-D data, trained step by step with SVM or softmax losses.")
    app.state.config, app.state.store = config, make_store(config)
    app.state.experiments = make_store(config, "experiments")
    errors.install(app)
    compute.install(app, config)
    for router in (sessions.router, lab.router, experiments.router, pages.health, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestGuard, max_body=config.max_body)
    app.add_middleware(SecurityHeaders)
    app.front = FastPath(app, super(DemoApp, app).__call__, config.max_body)
    app.state.watch = loop_watch.install(app)  # debug only (LINCLASS_DEBUG_TIMINGS): in front, times it all
    warm_routes(app)
    return app
