"""Session locks: short leases renewed while their request runs, so a crash (or a lock Redis saved in its
append-only file when it died) stalls a session for one lease at most; and requests whose client has left
stop waiting, and let go at once of a lock they got too late. The requests here are raw ASGI calls, whose
``receive`` says when the client disconnects, as a server does."""

import asyncio
import os
import shutil
import signal
import subprocess

import pytest
import redis

from app.config import Config
from app.core.trainer import Trainer
from app.main import create_app
from app.redis_store import LEASE_MS, RedisStore
from tests.conftest import free_port, stop, wait_until


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def call(app, method, path, body=b"", gone=False):
    """The response status of one request; with ``gone``, the client disconnects right after sending it."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    started = []

    async def receive():
        if messages:
            return messages.pop()
        if gone:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # still there

    async def send(message):
        if message["type"] == "http.response.start":
            started.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "client": ("127.0.0.1", 9),
             "server": ("test", 80), "headers": [(b"content-type", b"application/json"),
                                                 (b"content-length", str(len(body)).encode())]}
    await app(scope, receive, send)
    return started[0]


@pytest.fixture
async def app(config):
    app = create_app(config)
    yield app
    await app.state.store.close()


def hold(app, sid, redis_url):
    """Another request's hold on the session: on the memory store its lock, on Redis another process's."""
    if app.state.config.session_store == "memory":
        return app.state.store.open(sid)

    class OtherProcess:
        async def __aenter__(self):
            self.db = redis.Redis.from_url(redis_url)
            self.db.set(f"linclass:l:{sid}", "another process", px=60_000)

        async def __aexit__(self, *exc):
            self.db.delete(f"linclass:l:{sid}")
            self.db.close()

    return OtherProcess()


@pytest.mark.anyio
async def test_a_request_whose_client_left_while_it_waited_changes_nothing(app, redis_url):
    store = app.state.store
    sid = await store.create(Trainer.create(seed=1))
    async with hold(app, sid, redis_url):
        waiting = asyncio.create_task(call(app, "POST", f"/api/sessions/{sid}/step", b'{"steps": 5}', gone=True))
        live = asyncio.create_task(call(app, "POST", f"/api/sessions/{sid}/step", b'{"steps": 1}'))
        await asyncio.sleep(0.3)
        assert not live.done()  # a client still there waits its turn
        if app.state.config.session_store != "memory":
            assert await asyncio.wait_for(waiting, 5) == 499  # stopped polling at once, not after 30 s
    assert await asyncio.wait_for(waiting, 5) == 499 and await asyncio.wait_for(live, 5) == 200
    async with store.open(sid, write=False) as t:
        assert t.step == 1  # the live request's step only


@pytest.mark.anyio
async def test_a_lock_is_a_short_lease_renewed_while_its_request_runs(redis_url, redis_db):
    store = RedisStore(redis_url)
    try:
        sid = await store.create(Trainer.create(seed=1))
        async with store.open(sid) as t:
            for _ in range(9):  # 4.5 s, one and a half leases
                await asyncio.sleep(0.5)
                assert 0 < redis_db.pttl(f"linclass:l:{sid}") <= LEASE_MS == 3000
            t.run(2)
        async with store.open(sid, write=False) as t:
            assert t.step == 2
        assert not redis_db.exists(f"linclass:l:{sid}")
    finally:
        await store.close()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (it is frozen and killed), with an append-only file."""
    port = free_port()
    args = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "yes", "--appendfsync", "always", "--dir", str(tmp_path)]
    url = f"redis://127.0.0.1:{port}/0"

    def start():
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(url)
        wait_until(client.ping, "redis-server", proc)
        client.close()
        return proc

    server = {"url": url, "proc": start(), "start": start}
    yield server
    stop(server["proc"])


@pytest.mark.anyio
async def test_a_lock_got_after_the_client_left_is_released_at_once(own_redis):
    """Redis stood still (SIGSTOP) while a request asked for the lock; its client left meanwhile. When Redis
    resumes, the lock the request got is let go at once, and the step is not taken."""
    app = create_app(Config(session_store=own_redis["url"]))
    db = redis.Redis.from_url(own_redis["url"])
    try:
        sid = await app.state.store.create(Trainer.create(seed=1))
        pid = own_redis["proc"].pid
        os.kill(pid, signal.SIGSTOP)
        asyncio.get_running_loop().call_later(1.0, os.kill, pid, signal.SIGCONT)
        assert await call(app, "POST", f"/api/sessions/{sid}/step", b'{"steps": 5}', gone=True) == 499
        assert not db.exists(f"linclass:l:{sid}")
        async with app.state.store.open(sid, write=False) as t:
            assert t.step == 0
    finally:
        db.close()
        await app.state.store.close()


@pytest.mark.anyio
async def test_a_lock_saved_when_redis_died_lasts_one_lease_after_the_restart(own_redis):
    store = RedisStore(own_redis["url"])
    db = redis.Redis.from_url(own_redis["url"])
    try:
        sid = await store.create(Trainer.create(seed=1))
        await store._acquire(sid, "a request on a server that died with Redis", None)
        own_redis["proc"].kill()
        own_redis["proc"].wait()
        own_redis["proc"] = own_redis["start"]()  # from the append-only file
        assert 0 < db.pttl(f"linclass:l:{sid}") <= LEASE_MS
        async with store.open(sid) as t:  # waits out the rest of the lease, no more
            t.run(1)
        async with store.open(sid, write=False) as t:
            assert t.step == 1
    finally:
        db.close()
        await store.close()
