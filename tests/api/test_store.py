"""The session stores: the cap with LRU eviction, the idle timeout, settings, and what the Redis store keeps."""

import asyncio
import json
from contextlib import asynccontextmanager

import numpy as np
import pytest
from fastapi.testclient import TestClient

import app.core.trainer
from app.config import Config, ConfigError, load_config
from app.core.trainer import Trainer
from app.main import create_app
from app.redis_store import RedisStore
from app.session_codec import Loaded, history_change
from app.sessions import MemoryStore, SessionNotFound, StoreUnavailable
from tests.conftest import free_port


@pytest.fixture
def anyio_backend():
    return "asyncio"


@asynccontextmanager
async def opened(url, **settings):
    """A RedisStore on the test server, closed afterwards."""
    store = RedisStore(url, **settings)
    try:
        yield store
    finally:
        await store.close()


def new(client, **body):
    r = client.post("/api/sessions", json=body or None)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def count(client):
    return client.portal.call(client.app.state.store.count)


def without_id(state):
    return {k: v for k, v in state.items() if k != "id"}


# --- the cap: least recently used first ---------------------------------------------------------------
def test_a_full_store_evicts_the_least_recently_used_session(config):
    with TestClient(create_app(config.model_copy(update={"max_sessions": 3}))) as client:
        a, b, c = new(client), new(client), new(client)
        assert client.post(f"/api/sessions/{a}/step").status_code == 200  # a is now the most recently used
        d = new(client)
        assert count(client) == 3
        for sid in (a, c, d):
            assert client.get(f"/api/sessions/{sid}?detail=summary").status_code == 200
        for method, path in (("get", ""), ("post", "/step"), ("patch", ""), ("post", "/reset"), ("delete", ""),
                             ("get", "/export"), ("get", "/gradcheck")):
            r = client.request(method, f"/api/sessions/{b}{path}", json={} if method == "patch" else None)
            assert (r.status_code, r.json()) == (404, {"detail": "Session not found"}), (method, path)


def test_the_cap_holds_under_many_creations(config):
    with TestClient(create_app(config.model_copy(update={"max_sessions": 5}))) as client:
        ids = [new(client) for _ in range(12)]
        assert count(client) == 5
        assert [client.get(f"/api/sessions/{sid}?detail=summary").status_code for sid in ids] == [404] * 7 + [200] * 5


def test_deleting_frees_a_place(config):
    with TestClient(create_app(config.model_copy(update={"max_sessions": 2}))) as client:
        a, b = new(client), new(client)
        assert client.delete(f"/api/sessions/{b}").status_code == 204
        c = new(client)
        assert count(client) == 2 and client.get(f"/api/sessions/{a}").status_code == 200
        assert client.get(f"/api/sessions/{b}").status_code == 404 and client.get(f"/api/sessions/{c}").status_code == 200


# --- the idle timeout ---------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.anyio
async def test_memory_sessions_expire_after_the_idle_timeout_since_their_last_use():
    clock = Clock()
    store = MemoryStore(max_sessions=10, idle_timeout=60, clock=clock)
    sid = await store.create(Trainer.create(seed=1))
    for _ in range(3):  # each use restarts the timeout
        clock.now += 59
        async with store.open(sid, write=False) as t:
            assert t.step == 0
    clock.now += 61
    with pytest.raises(SessionNotFound):
        async with store.open(sid):
            pass
    assert await store.count() == 0


@pytest.mark.anyio
async def test_redis_sessions_carry_the_idle_timeout_as_a_ttl_renewed_on_use(redis_url, redis_db):
    async with opened(redis_url, max_sessions=10, idle_timeout=60) as store:
        sid = await store.create(Trainer.create(seed=1))
        keys = [f"linclass:s:{sid}", f"linclass:h:{sid}"]
        assert all(0 < redis_db.pttl(k) <= 60_000 for k in keys)
        for k in keys:
            redis_db.pexpire(k, 5_000)
        async with store.open(sid, write=False):
            pass
        assert all(5_000 < redis_db.pttl(k) <= 60_000 for k in keys)
        for k in keys:
            redis_db.pexpire(k, 5_000)
        async with store.open(sid) as t:
            t.run(1)
        assert all(5_000 < redis_db.pttl(k) <= 60_000 for k in keys)
        assert redis_db.pttl(f"linclass:l:{sid}") == -2  # released


@pytest.mark.anyio
async def test_an_idle_redis_session_is_gone(redis_url, redis_db):
    async with opened(redis_url, max_sessions=10, idle_timeout=0.2) as store:
        sid = await store.create(Trainer.create(seed=1))
        await asyncio.sleep(0.4)  # Redis never returns a key past its expiry time
        with pytest.raises(SessionNotFound):
            async with store.open(sid, write=False):
                pass
        assert await store.count() == 0 and redis_db.zcard("linclass:meta:used") == 0


# --- what the Redis store keeps -------------------------------------------------------------------------
def test_the_redis_store_gives_the_same_states_as_the_memory_store(redis_url, redis_db):
    script = [("post", "", {"seed": 7, "optimizer": "sgd", "batch_size": 3}), ("post", "/step", {"steps": 5}),
              ("patch", "", {"loss_type": "softmax", "reg": 0.01}), ("post", "/step", {"steps": 3}),
              ("patch", "", {"optimizer": "random_search", "search_scale": 2.0}), ("post", "/step", {"steps": 4}),
              ("patch", "", {"X": [[0, 1], [1, 0], [-1, -1], [2, 2]], "y": [0, 1, 2, 1]}),
              ("post", "/step", {"steps": 2}), ("post", "/reset", {"params": "random", "seed": 3}),
              ("patch", "", {"optimizer": "numerical"}), ("post", "/step", {"steps": 2})]
    states = {}
    for store in ("memory", redis_url):
        with TestClient(create_app(Config(session_store=store))) as client:
            sid, out = None, []
            for method, path, body in script:
                r = client.request(method, "/api/sessions" if sid is None else f"/api/sessions/{sid}{path}", json=body)
                assert r.status_code in (200, 201), r.text
                sid = sid or r.json()["id"]
                out.append(without_id(r.json()))
            out += [without_id(client.get(f"/api/sessions/{sid}").json()), client.get(f"/api/sessions/{sid}/export").content]
            states[store] = out
    assert states["memory"] == states[redis_url]


@pytest.fixture
def redis_client(redis_url, redis_db):
    with TestClient(create_app(Config(session_store=redis_url))) as client:
        yield client


def test_a_step_appends_to_the_stored_history(redis_client, redis_db):
    sid = new(redis_client)
    key = f"linclass:h:{sid}"
    data = redis_db.hget(f"linclass:s:{sid}", "data")
    for steps in (1, 7, 30):
        before = redis_db.strlen(key)
        redis_client.post(f"/api/sessions/{sid}/step", json={"steps": steps})
        assert redis_db.strlen(key) == before + 8 * steps
    history = redis_client.get(f"/api/sessions/{sid}").json()["history"]
    assert np.frombuffer(redis_db.get(key), "<f8").tolist() == history and len(history) == 39
    assert redis_db.hget(f"linclass:s:{sid}", "data") == data  # a step does not rewrite the data


def test_the_stored_record_is_compact(redis_client, redis_db):
    sid = new(redis_client)
    redis_client.post(f"/api/sessions/{sid}/step", json={"steps": 500})
    core = json.loads(redis_db.hget(f"linclass:s:{sid}", "core"))  # readable with redis-cli: no pickles
    assert core["step"] == 500 and core["settings"]["loss_type"] == "svm_ww"
    assert "history" not in core and "X" not in core and len(redis_db.hget(f"linclass:s:{sid}", "core")) < 2000
    data = redis_db.hget(f"linclass:s:{sid}", "data")  # X as float64, then y as int64: 24 bytes a point
    assert len(data) == 9 * 24 and np.frombuffer(data, "<i8", offset=9 * 16).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.frombuffer(data, "<f8", 18).reshape(9, 2).tolist() == redis_client.get(f"/api/sessions/{sid}").json()["X"]


def test_history_writes_append_what_a_step_added_and_rewrite_after_a_reset():
    loaded = Loaded(b"", [5.0, 4.0, 3.0], history_start=10, history_base=8)
    mode, chunk, base = history_change(loaded, 10, [5.0, 4.0, 3.0, 2.5, 2.0])
    assert (mode, np.frombuffer(chunk, "<f8").tolist(), base) == ("append", [2.5, 2.0], 8)
    mode, chunk, base = history_change(loaded, 11, [4.0, 3.0, 2.5])  # trimmed at the front, grown at the end
    assert (mode, np.frombuffer(chunk, "<f8").tolist(), base) == ("append", [2.5], 8)
    mode, chunk, base = history_change(loaded, 0, [6.0])  # a reset
    assert (mode, np.frombuffer(chunk, "<f8").tolist(), base) == ("set", [6.0], 0)
    mode, chunk, base = history_change(loaded, 10, [5.0, 4.0, 9.0, 1.0])  # not a continuation
    assert (mode, np.frombuffer(chunk, "<f8").tolist(), base) == ("set", [5.0, 4.0, 9.0, 1.0], 10)
    far = Loaded(b"", [1.0], history_start=5000, history_base=0)  # the dead front outgrew the live history
    assert history_change(far, 5000, [1.0, 0.5])[0] == "set"


def test_a_trimmed_history_survives_each_store(config, monkeypatch):
    monkeypatch.setattr(app.core.trainer, "MAX_HISTORY", 50)
    with TestClient(create_app(config)) as client:
        sid = new(client, seed=2, optimizer="sgd")
        for steps in (30, 30, 1, 100, 5):
            r = client.post(f"/api/sessions/{sid}/step", json={"steps": steps})
            assert r.status_code == 200 and len(r.json()["history"]) == min(steps, 50)
        s = client.get(f"/api/sessions/{sid}").json()
        assert (s["step"], s["history_start"], len(s["history"])) == (166, 117, 50)
        assert s["history"][-5:] == r.json()["history"]


# --- settings -------------------------------------------------------------------------------------------
FAIRNESS = {"LINCLASS_MAX_MEMORY_MB": "64.5", "LINCLASS_MAX_SESSIONS_PER_ADDRESS": "120", "LINCLASS_CREATE_RATE": "0.5",
            "LINCLASS_CREATE_BURST": "30"}


def test_the_fairness_settings_come_from_the_environment_and_reach_both_stores(redis_url, monkeypatch):
    defaults = load_config()
    assert (defaults.max_memory_mb, defaults.max_sessions_per_address, defaults.create_rate,
            defaults.create_burst) == (1024.0, 200, 2.0, 200)
    for name, value in FAIRNESS.items():
        monkeypatch.setenv(name, value)
    c = load_config()
    assert (c.max_memory_mb, c.max_sessions_per_address, c.create_rate, c.create_burst) == (64.5, 120, 0.5, 30)
    for store in (create_app(c).state.store, create_app(c.model_copy(update={"session_store": redis_url})).state.store):
        limits = store.limits
        assert (limits.max_bytes, limits.per_address, limits.create_rate, limits.create_burst) == (64.5 * 2**20, 120, 0.5, 30)


@pytest.mark.parametrize("name, value, words", [
    ("LINCLASS_MAX_MEMORY_MB", "0", "greater than 0"),
    ("LINCLASS_MAX_MEMORY_MB", "inf", "finite number"),
    ("LINCLASS_MAX_SESSIONS_PER_ADDRESS", "-1", "greater than 0"),
    ("LINCLASS_CREATE_RATE", "fast", "valid number"),
    ("LINCLASS_CREATE_BURST", "2.5", "valid integer"),
])
def test_bad_fairness_settings_are_named_in_one_line(name, value, words, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}=.*{words}"):
        load_config()


def test_an_unreachable_redis_is_a_503_not_a_500():
    with TestClient(create_app(Config(session_store=f"redis://127.0.0.1:{free_port()}/0"))) as client:
        r = client.post("/api/sessions")
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "Session store unavailable" in r.json()["detail"]


# --- edits that lose their session or their lock are refused ------------------------------------------
@asynccontextmanager
async def either_store(kind, redis_url, **settings):
    if kind == "memory":
        yield MemoryStore(**settings)
    else:
        async with opened(redis_url, **settings) as store:
            yield store


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_session_with_an_edit_in_flight_is_never_evicted(kind, redis_url, redis_db):
    async with either_store(kind, redis_url, max_sessions=1) as store:
        sid = await store.create(Trainer.create(seed=1))
        async with store.open(sid) as t:
            t.run(3)
            other = await store.create(Trainer.create(seed=2))  # over the cap, but sid is busy
            assert await store.count() == 2
        async with store.open(sid, write=False) as t:  # the edit was saved, and the cap holds again
            assert t.step == 3
        assert await store.count() == 1
        with pytest.raises(SessionNotFound):
            async with store.open(other, write=False):
                pass


@pytest.mark.anyio
async def test_an_edit_whose_lock_expired_is_refused_and_not_applied(redis_url, redis_db):
    async with opened(redis_url) as store:
        sid = await store.create(Trainer.create(seed=1))
        with pytest.raises(StoreUnavailable, match="lock expired"):
            async with store.open(sid) as t:
                t.run(3)
                redis_db.delete(f"linclass:l:{sid}")  # as if it had timed out
        async with store.open(sid, write=False) as t:
            assert t.step == 0
        async with store.open(sid) as t:  # and the session is not left locked
            t.run(1)
        async with store.open(sid, write=False) as t:
            assert (t.step, len(t.history)) == (1, 2)


@pytest.mark.anyio
async def test_a_failed_edit_releases_the_lock_and_changes_nothing(redis_url, redis_db):
    async with opened(redis_url) as store:
        sid = await store.create(Trainer.create(seed=1))
        before = redis_db.hgetall(f"linclass:s:{sid}"), redis_db.get(f"linclass:h:{sid}")
        with pytest.raises(ZeroDivisionError):
            async with store.open(sid) as t:
                t.run(5)
                1 / 0
        assert (redis_db.hgetall(f"linclass:s:{sid}"), redis_db.get(f"linclass:h:{sid}")) == before
        assert not redis_db.exists(f"linclass:l:{sid}")
