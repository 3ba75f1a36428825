"""The image experiments through the bounded compute pool (app/api/experiment_compute.py): inline only when the
cost model says a request is cheap, 503 with ``Retry-After`` at once when the pool is full (nothing changed),
the compute budget (``steps_taken``), a numerical run that leaves the event loop free, and a client that goes
away stopping the run with the experiment consistent."""

import asyncio
import threading
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api import experiment_compute
from app.api.compute import ComputePool, CostModel
from app.config import Config
from app.core import gradcheck, images
from app.core.experiment import Experiment
from app.main import create_app
from tests.api.test_compute import spy_on_pool

MODEL = CostModel(per_call=20e-6, per_score=2e-9, per_madd=1e-10)  # known numbers, for the decisions


@pytest.fixture
def anyio_backend():
    return "asyncio"


def app_with(**config):
    app = create_app(Config(**{"compute_budget": 600.0, "lab_budget": 600.0, **config}))
    app.state.compute.model = MODEL
    return app


def new(client, **body):
    r = client.post("/api/experiments", json={"dataset": "digits", "seed": 1, **body})
    assert r.status_code == 201, r.text
    return r.json()


def reference(steps, **settings):
    e = Experiment.create(images.get("digits"), seed=1, **settings)
    e.run(images.get("digits"), steps)
    return e


# --- the cost model ----------------------------------------------------------------------------------------------
def test_the_cost_model_counts_every_loss_evaluation_of_a_step_on_images():
    digits = images.get("digits")
    e = Experiment.create(digits, seed=1)
    assert experiment_compute.step_evaluations(e, digits) == [(1, 1197)]
    assert experiment_compute.fixed_evaluations(e, digits) == [(1, 1197), (1, 1000 + 300)]
    e.update(digits, optimizer="numerical")  # 2·P + 1 = 1,301 evaluations, and the one at the new parameters
    assert experiment_compute.step_evaluations(e, digits) == [(1301, 1197), (1, 1197)]
    e.update(digits, optimizer="sgd", batch_size=64)  # the minibatch only, no full pass even at the start
    assert experiment_compute.step_evaluations(e, digits) == [(1, 64)]
    assert experiment_compute.fixed_evaluations(e, digits) == [(1, 1300)]
    # one evaluation over 1,197 images of 64 pixels, 10 classes: the call, the scores, their multiply-adds
    assert MODEL.seconds([(1, 1197)], 10, 64) == pytest.approx(20e-6 + 1197 * 10 * (2e-9 + 62 * 1e-10))


def test_the_model_measures_a_cost_per_multiply_add():
    model = CostModel.measured()
    assert 0 < model.per_madd < 1e-6


def test_cheap_requests_run_at_once_and_costly_ones_in_a_worker_thread():
    app = app_with()
    calls = spy_on_pool(app)
    with TestClient(app) as client:
        eid = new(client)["id"]  # the digits are loaded by a worker the first time (if not already)
        calls.clear()
        r = client.post(f"/api/experiments/{eid}/step", json={"steps": 2})
        assert r.status_code == 200 and r.json()["steps_taken"] == 2 and calls == []
        assert client.get(f"/api/experiments/{eid}/evaluate").status_code == 200 and calls == []
        client.patch(f"/api/experiments/{eid}", json={"optimizer": "numerical"})
        r = client.post(f"/api/experiments/{eid}/step", json={"steps": 1})  # 1,302 evaluations: a worker's
        assert r.status_code == 200 and r.json()["steps_taken"] == 1 and len(calls) == 1
        assert client.get(f"/api/experiments/{eid}/gradcheck?count=3").status_code == 200 and len(calls) == 2


# --- the pool's bound and the budgets ------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_full_pool_answers_503_at_once_and_changes_nothing(monkeypatch):
    started, release = threading.Event(), threading.Event()
    real_check = gradcheck.gradient_check

    def held(*args, **kw):
        started.set()
        release.wait(30)
        return real_check(*args, **kw)

    monkeypatch.setattr(gradcheck, "gradient_check", held)
    app = app_with(compute_workers=1, compute_queue=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as http:
        before = (await http.post("/api/experiments", json={"dataset": "digits", "seed": 1,
                                                             "optimizer": "numerical"})).json()
        eid = before["id"]
        templates = (await http.get(f"/api/experiments/{eid}/templates")).json()
        checking = asyncio.ensure_future(http.get(f"/api/experiments/{eid}/gradcheck?count=3"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        refused = await http.post(f"/api/experiments/{eid}/step", json={"steps": 1})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        other = await http.get(f"/api/experiments/{eid}/gradcheck?count=3")
        assert other.status_code == 503 and other.headers["retry-after"] == "1"
        after = (await http.get(f"/api/experiments/{eid}")).json()
        assert after == before
        assert (await http.get(f"/api/experiments/{eid}/templates")).json() == templates
        release.set()
        assert (await checking).status_code == 200
        done = await http.post(f"/api/experiments/{eid}/step", json={"steps": 1})
        assert done.status_code == 200 and done.json()["step"] == 1
    app.state.compute.close()


def test_steps_beyond_the_budget_are_not_taken_and_the_response_says_so():
    with TestClient(app_with(compute_budget=0.05)) as client:
        eid = new(client)["id"]
        # 10,000 gd steps on digits take seconds: more than 0.05 s of them are not taken
        state = client.post(f"/api/experiments/{eid}/step", json={"steps": 10_000}).json()
        taken = state["steps_taken"]
        assert 0 < taken < 10_000 and state["taken"] == taken and state["step"] == taken
        assert len(state["history"]) == taken and state["history"] == reference(taken).history[1:]
        again = client.get(f"/api/experiments/{eid}").json()
        assert again["step"] == taken and len(again["history"]) == taken + 1
        # a numerical step (about a second) is not cut short by the budget: the one begun is finished
        client.patch(f"/api/experiments/{eid}", json={"optimizer": "numerical"})
        state = client.post(f"/api/experiments/{eid}/step", json={"steps": 10_000}).json()
        assert state["steps_taken"] == 1 and state["step"] == taken + 1 and state["loss_evals"] == 1301


def test_an_experiment_gradient_check_over_its_budget_answers_503():
    with TestClient(app_with(lab_budget=1e-9)) as client:
        eid = new(client)["id"]
        r = client.get(f"/api/experiments/{eid}/gradcheck?count=50")
        assert r.status_code == 503 and r.headers["retry-after"] == "2" and "budget" in r.json()["detail"]


# --- the event loop stays free ----------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_numerical_run_on_digits_leaves_the_event_loop_to_others():
    app = app_with()
    pool, finished = app.state.compute, []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120) as http:
        eid = (await http.post("/api/experiments", json={"dataset": "digits", "seed": 1,
                                                         "optimizer": "numerical"})).json()["id"]

        async def request(name, method, path, **kw):
            r = await http.request(method, path, **kw)
            finished.append((name, pool.pending))
            return r

        run = asyncio.ensure_future(request("run", "POST", f"/api/experiments/{eid}/step", json={"steps": 2}))
        while pool.pending == 0:  # until the run holds its worker
            await asyncio.sleep(0.001)
        health = await request("health", "GET", "/api/health")
        other = await request("other", "POST", "/api/sessions")
        assert health.status_code == 200 and other.status_code == 201
        r = await run
    # both answered while the run was in its worker (pending 1), which then finished both its steps
    assert finished == [("health", 1), ("other", 1), ("run", 0)]
    assert r.json()["steps_taken"] == 2 and r.json()["step"] == 2 and r.json()["loss_evals"] == 1301
    pool.close()


# --- a client that goes away -------------------------------------------------------------------------------------------
class Gone:
    """A request whose client disconnects after ``delay`` seconds, on an app with this pool."""

    def __init__(self, pool, delay):
        self.app, self.delay = SimpleNamespace(state=SimpleNamespace(compute=pool)), delay

    async def receive(self):
        await asyncio.sleep(self.delay)
        return {"type": "http.disconnect"}


@pytest.mark.parametrize("optimizer", ["gd", "numerical"])
def test_a_run_stops_when_its_client_disconnects_and_stays_consistent(optimizer):
    digits = images.get("digits")
    pool = ComputePool(1, 0, budget=600.0, lab_budget=600.0)
    e = Experiment.create(digits, seed=1, optimizer=optimizer)
    W = e.W.copy()
    try:
        taken = asyncio.run(experiment_compute.run_steps(Gone(pool, 0.05), e, digits, 10_000))
    finally:
        pool.close()
    assert e.step == taken == e.taken and len(e.history) == taken + 1
    expected = reference(taken, optimizer=optimizer)
    assert e.history == expected.history and np.array_equal(e.W, expected.W)
    if optimizer == "numerical":  # its one step (about a second) was dropped midway, the parameters untouched
        assert taken == 0 and np.array_equal(e.W, W)
    else:
        assert 0 < taken < 10_000
