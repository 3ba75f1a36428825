"""Concurrent requests: steps on one session are applied one after another and none is lost, on each store,
within one process, across two store clients of one Redis, and over loopback against a real server."""

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest

from app.core.trainer import Trainer
from app.main import create_app
from app.redis_store import RedisStore
from bench.load import run_load


@pytest.fixture
def anyio_backend():
    return "asyncio"


@asynccontextmanager
async def client_on(config):
    """An async client on a fresh app, in the test's own event loop (the Redis pool lives in it)."""
    app = create_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client
    await app.state.store.close()


@pytest.fixture
async def http(config):
    async with client_on(config) as client:
        yield client


LARGE = {"X": [[(i % 37) / 37 - 0.5, (i % 41) / 41 - 0.5] for i in range(2000)], "y": [i % 3 for i in range(2000)]}


@pytest.mark.anyio
@pytest.mark.parametrize("data, steps", [({}, 1), (LARGE, 12)], ids=["inline", "worker-thread"])
async def test_fifty_concurrent_steps_on_one_session_are_all_applied(http, data, steps):
    sid = (await http.post("/api/sessions", json={"optimizer": "sgd", "seed": 4, **data})).json()["id"]
    responses = await asyncio.gather(*(http.post(f"/api/sessions/{sid}/step", json={"steps": steps},
                                                 params={"detail": "summary"}) for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    states = [r.json() for r in responses]
    # each saw the ones before it applied: the steps they report are steps, 2·steps, …, 50·steps, each once
    assert sorted(s["step"] for s in states) == list(range(steps, 50 * steps + 1, steps))
    assert all(s["history_start"] == s["step"] - steps + 1 and len(s["history"]) == steps for s in states)
    final = (await http.get(f"/api/sessions/{sid}")).json()
    assert final["step"] == 50 * steps and len(final["history"]) == 50 * steps + 1
    by_step = {s["step"]: s["history"] for s in states}
    assert final["history"][1:] == [loss for i in range(steps, 50 * steps + 1, steps) for loss in by_step[i]]


@pytest.mark.anyio
async def test_a_crowd_of_new_users_is_served(config):
    """More concurrent requests than the Redis store has connections: they wait their turn, none fails. (From
    one address here, so its limits are raised: they are tested in test_limits.py.)"""
    async with client_on(config.model_copy(update=dict(max_sessions_per_address=300, create_burst=300))) as http:
        responses = await asyncio.gather(*(http.post("/api/sessions") for _ in range(300)))
        assert [r.status_code for r in responses] == [201] * 300
        steps = await asyncio.gather(*(http.post(f"/api/sessions/{r.json()['id']}/step") for r in responses))
        assert [r.json()["step"] for r in steps] == [1] * 300


@pytest.mark.anyio
async def test_concurrent_edits_and_reads_see_whole_updates_only(http):
    sid = (await http.post("/api/sessions", json={"seed": 4})).json()["id"]
    calls = []
    for i in range(60):
        if i % 3 == 0:
            calls.append(http.post(f"/api/sessions/{sid}/step", json={"steps": 1 + i % 7}))
        elif i % 3 == 1:
            calls.append(http.patch(f"/api/sessions/{sid}", json={"reg": 0.01 * (i % 5), "loss_type": "softmax"}))
        else:
            calls.append(http.get(f"/api/sessions/{sid}"))
    responses = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in responses)
    for r in responses[2::3]:  # every read is consistent in itself
        s = r.json()
        assert len(s["history"]) == s["step"] - s["history_start"] + 1
        assert s["loss"] == pytest.approx(s["data_loss"] + s["reg_loss"])
    final = (await http.get(f"/api/sessions/{sid}")).json()
    assert final["step"] == sum(1 + i % 7 for i in range(0, 60, 3)) and len(final["history"]) == final["step"] + 1


@pytest.mark.anyio
async def test_two_clients_of_one_redis_never_lose_an_update(redis_url, redis_db):
    """Two RedisStore objects stand for two server processes: only the Redis lock orders their edits."""
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    try:
        sid = await a.create(Trainer.create(seed=1, optimizer="random_search"))

        async def step(store):
            async with store.open(sid) as t:
                t.run(1)
                await asyncio.sleep(0.002)  # hold the lock across a switch to other requests

        await asyncio.gather(*(step(store) for _ in range(20) for store in (a, b)))
        async with b.open(sid, write=False) as t:
            assert (t.step, len(t.history), t.tries) == (40, 41, 40)
    finally:
        await a.close()
        await b.close()


def test_fifty_clients_over_loopback_have_no_errors(config, start_server):
    """The load test of bench/load.py, short: every request answered 200 and every session at the step count
    its client was answered for."""
    url = start_server(config)
    latencies, errors = asyncio.run(run_load(url, clients=50, seconds=3))
    assert errors == [] and len(latencies) >= 50
