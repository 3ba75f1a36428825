"""Where computation runs (app/api/compute.py): the cost model's inline-or-pool decision, the bounded pool (503
at once when full), the compute budget (``steps_taken``), stopping when the client goes with the session
consistent, MemoryError → 503, and the lab's limits."""

import asyncio
import json
import os
import socket
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api import compute
from app.api.compute import ComputePool, CostModel
from app.config import Config
from app.core import gradcheck, surface
from app.core.trainer import Trainer
from app.main import create_app
from tests.api.test_http_limits import cli_server

FIXED = CostModel(per_call=20e-6, per_score=2e-9)  # a model with known numbers, for the decisions


def one_point(**settings):
    return {"X": [[0.1, 0.2]], "y": [0], "seed": 1, **settings}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def app_with(**config):
    app = create_app(Config(**config))
    app.state.compute.model = FIXED
    return app


def spy_on_pool(app):
    """Count the jobs handed to the pool."""
    pool, calls = app.state.compute, []
    run = pool.run

    async def counted(*args, **kw):
        calls.append(args[1])
        return await run(*args, **kw)

    pool.run = counted
    return calls


# --- the cost model ----------------------------------------------------------------------------------------------
def test_the_cost_model_counts_a_fixed_cost_per_step():
    t = Trainer.create(**one_point())
    assert FIXED.step_seconds(t) == pytest.approx(20e-6 + 2e-9 * 3)
    # the case: steps=10000 on one point was computed inline (160–400 ms) by a points × steps rule
    assert FIXED.step_seconds(t) <= compute.INLINE_SECONDS < 10_000 * FIXED.step_seconds(t)
    t.update(optimizer="numerical")  # two evaluations per parameter and one more
    assert FIXED.step_seconds(t) == pytest.approx(19 * (20e-6 + 2e-9 * 3))
    t.update(optimizer="sgd", X=[[0.1, 0.2]] * 100, y=[0] * 100, batch_size=4)
    assert FIXED.step_seconds(t) == pytest.approx(2 * 20e-6 + 2e-9 * 3 * (4 + 100))


def test_the_model_is_measured_on_this_machine():
    model = CostModel.measured()
    assert 1e-7 < model.per_call < 1e-2 and 0 < model.per_score < 1e-5


def test_cheap_steps_run_at_once_and_costly_ones_in_a_worker_thread():
    app = app_with(compute_budget=600.0)
    app.state.compute.model = CostModel(per_call=20e-6, per_score=1e-6)
    calls = spy_on_pool(app)
    with TestClient(app) as client:
        sid = client.post("/api/sessions", json=one_point()).json()["id"]
        r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10})
        assert r.status_code == 200 and r.json()["steps_taken"] == 10 and calls == []
        large = {"X": [[i / 1000, 0.5] for i in range(1000)], "y": [i % 3 for i in range(1000)]}
        client.patch(f"/api/sessions/{sid}", json=large)  # 3 ms a step by this model: a worker's job
        r = client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
        assert r.status_code == 200 and r.json()["steps_taken"] == 2 and len(calls) == 1


@pytest.mark.anyio
async def test_a_long_run_of_cheap_steps_lets_other_requests_through():
    # before: steps=10000 on one point ran on the event loop in one go (160–400 ms), everyone else waiting
    app = app_with(compute_budget=600.0)
    calls = spy_on_pool(app)
    finished = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as http:
        sid = (await http.post("/api/sessions", json=one_point())).json()["id"]

        async def request(name, method, path, **kw):
            r = await http.request(method, path, **kw)
            finished.append(name)
            return r

        run = asyncio.ensure_future(request("run", "POST", f"/api/sessions/{sid}/step", json={"steps": 10_000}))
        await asyncio.sleep(0.01)
        health = await request("health", "GET", "/api/health")
        other = await request("other", "POST", "/api/sessions")
        assert health.status_code == 200 and other.status_code == 201
        r = await run
    assert finished == ["health", "other", "run"]
    assert r.json()["steps_taken"] == 10_000 and r.json()["step"] == 10_000 and calls == []  # on the loop, sliced
    app.state.compute.close()


# --- the budget ----------------------------------------------------------------------------------------------------
def test_steps_beyond_the_budget_are_not_taken_and_the_response_says_so():
    with TestClient(app_with(compute_budget=0.05)) as client:
        sid = client.post("/api/sessions", json=one_point(optimizer="numerical")).json()["id"]
        r = client.post(f"/api/sessions/{sid}/step", params={"detail": "summary"}, json={"steps": 10_000})
        state = r.json()
        assert r.status_code == 200 and 0 < state["steps_taken"] < 10_000 and not state["diverged"]
        assert state["step"] == state["steps_taken"] == len(state["history"])
        again = client.get(f"/api/sessions/{sid}").json()
        assert again["step"] == state["step"] and len(again["history"]) == state["step"] + 1


def test_a_lab_computation_over_its_budget_answers_503():
    with TestClient(app_with(lab_budget=1e-9)) as client:
        sid = client.post("/api/sessions").json()["id"]
        for path in ("/surface", "/line", "/gradcheck"):
            r = client.get(f"/api/sessions/{sid}{path}")
            assert r.status_code == 503 and r.headers["retry-after"] == "2", path
            assert "budget" in r.json()["detail"]


def test_a_grid_too_large_for_the_session_is_422_naming_n(client, session):
    sid = session["id"]
    client.post(f"/api/sessions/{sid}/reset", json={"data": "random", "n": 1000, "classes": 10})
    r = client.get(f"/api/sessions/{sid}/surface", params={"n": 201})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "n: too much work for a session of 10000 points and 10 classes: at most 44"
    assert client.get(f"/api/sessions/{sid}/surface", params={"n": 5}).status_code == 200
    client.post(f"/api/sessions/{sid}/reset", json={"data": "random", "n": 2000, "classes": 5})
    assert client.get(f"/api/sessions/{sid}/surface", params={"n": 61}).status_code == 200  # the page's largest


# --- the pool's bound -----------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_full_pool_answers_503_at_once_and_cheap_steps_still_run(monkeypatch):
    started, release = threading.Event(), threading.Event()

    def held(*args, stop=None):
        started.set()
        release.wait(30)
        return {"params": [], "max_rel_error": 0.0, "h": 1e-4, "precision": "float64"}

    monkeypatch.setattr(gradcheck, "gradient_check", held)
    app = app_with(compute_workers=1, compute_queue=1, compute_budget=600.0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as http:
        sid = (await http.post("/api/sessions", json=one_point())).json()["id"]
        running = asyncio.ensure_future(http.get(f"/api/sessions/{sid}/gradcheck"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        waiting = asyncio.ensure_future(http.get(f"/api/sessions/{sid}/gradcheck"))  # the queue's one place
        await asyncio.sleep(0.05)
        refused = await http.get(f"/api/sessions/{sid}/gradcheck")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        costly = await http.post(f"/api/sessions/{sid}/step", json={"steps": 10_000})
        assert costly.status_code == 503
        cheap = await http.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        assert cheap.status_code == 200 and cheap.json()["step"] == 1
        release.set()
        assert (await running).status_code == 200 and (await waiting).status_code == 200
    app.state.compute.close()


# --- a client that goes away -----------------------------------------------------------------------------------------
class Gone:
    """A request whose client disconnects after ``delay`` seconds."""

    def __init__(self, delay):
        self.delay = delay

    async def receive(self):
        await asyncio.sleep(self.delay)
        return {"type": "http.disconnect"}


def test_a_run_stops_when_its_client_disconnects_and_keeps_what_it_took():
    pool = ComputePool(1, 0, budget=600.0, lab_budget=600.0)
    t = Trainer.create(**one_point(optimizer="numerical"))
    try:
        taken = asyncio.run(pool.run_steps(Gone(0.05), t, 1_000_000))
    finally:
        pool.close()
    assert 0 < taken < 1_000_000
    assert t.step == taken and len(t.history) == taken + 1 and t.history[-1] == t.evaluation.loss


def test_a_lab_computation_stops_when_its_client_disconnects(monkeypatch):
    pool = ComputePool(1, 0, budget=600.0, lab_budget=600.0)
    t = Trainer.create(seed=0)
    t.reset("random", seed=1, data="random", n=1000, classes=10)
    monkeypatch.setattr(surface, "CHUNK_ELEMENTS", 50_000)  # many chunks: 201 × 201 × 10,000 × 10 scores
    try:
        with pytest.raises(compute.OverBudget):
            asyncio.run(pool.lab(Gone(0.05), surface.surface, t.problem(), t.W, t.b, 0, 1, 1.0, 201))
    finally:
        pool.close()


def test_over_http_a_run_stops_when_the_client_hangs_up():
    with cli_server({"LINCLASS_COMPUTE_BUDGET": "600"}) as port:
        base = f"http://127.0.0.1:{port}/api/sessions"
        sid = httpx.post(base, json=one_point(optimizer="numerical")).json()["id"]
        body = json.dumps({"steps": 10_000}).encode()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"POST /api/sessions/{sid}/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            threading.Event().wait(0.3)
        # the read waits for the session's lock, which the run holds until it stops
        state = httpx.get(f"{base}/{sid}", params={"detail": "summary"}, timeout=60).json()
        assert 0 < state["step"] < 10_000 and len(state["history"]) == state["step"] + 1


# --- out of memory ---------------------------------------------------------------------------------------------------
def test_a_failed_allocation_answers_503_and_changes_nothing(monkeypatch, client, session):
    sid = session["id"]

    def no_memory(*args, **kw):
        raise MemoryError

    monkeypatch.setattr(surface, "surface", no_memory)
    r = client.get(f"/api/sessions/{sid}/surface")
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and "memory" in r.json()["detail"]
    monkeypatch.setattr(Trainer, "run", no_memory)
    r = client.post(f"/api/sessions/{sid}/step")
    assert r.status_code == 503
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0


def test_the_workers_run_at_a_lower_priority():
    pool = ComputePool(1, 0, budget=1.0, lab_budget=1.0)
    try:
        nice = pool.executor.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    finally:
        pool.close()
    assert nice == os.getpriority(os.PRIO_PROCESS, 0) + compute.WORKER_NICE or nice == 19
