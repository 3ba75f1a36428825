"""The app factory: store, routers, error handlers, middleware, static files."""

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api import compute, errors, lab, pages, sessions
from app.api.middleware import RequestGuard, SecurityHeaders
from app.config import Config
from app.sessions import MemoryStore


def make_store(config):
    if config.session_store.startswith("redis://"):
        from app.redis_store import RedisStore

        return RedisStore(config.session_store, config.max_sessions, config.idle_timeout)
    return MemoryStore(config.max_sessions, config.idle_timeout)


def create_app(config=None):
    config = config or Config.from_env()

    @asynccontextmanager
    async def lifespan(app):
        yield
        await app.state.store.close()
        app.state.compute.close()

    app = FastAPI(title="linear-classify-demo", version="1.0.0", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="The CS231n linear-classification loss demo: per-user sessions of a linear "
                              "classifier on 2-D data, trained step by step with SVM or softmax losses.")
    app.state.config, app.state.store = config, make_store(config)
    errors.install(app)
    compute.install(app, config)
    for router in (sessions.router, lab.router, pages.health, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.add_middleware(RequestGuard, max_body=config.max_body)
    app.add_middleware(SecurityHeaders)
    return app
