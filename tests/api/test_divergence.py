"""``diverging`` over the grid of issue 12, through the API: it fires for every loss within 100 steps at step
size 10 with λ = 0.1 and at step size 1 with λ = 1, within 500 at step size 0.1 with λ = 10, and never on the
healthy runs, on the original points and on every preset (several seeds, 2 to 5 classes, sizes the page
offers). The memory store runs the whole grid; the Redis store, whose part is only to carry the watch from one
request to the next, runs every fourth data set with each run split over four requests. bench/divergence.py
measures the margins on a larger grid and longer runs.
"""

import pytest

from fastapi.testclient import TestClient

from app.core.losses import LOSS_TYPES
from app.main import create_app
from tests.api.test_sessions import finite_json, url

DIVERGING = [(10, 0.1, 100), (1, 1, 100), (0.1, 10, 500)]  # step size, λ, steps within which it must fire
HEALTHY = [
    {"optimizer": "gd", "step_size": 1, "reg": 0.25},
    {"optimizer": "gd", "step_size": 3, "reg": 0.1},
    {"optimizer": "sgd", "batch_size": 1, "step_size": 0.5, "reg": 0.25},
    {"optimizer": "sgd", "batch_size": 2, "step_size": 0.1, "reg": 0},
    {"optimizer": "random_search"},
    {"optimizer": "numerical"},
]
HEALTHY_STEPS = 300  # bench/divergence.py follows them for 1,000 steps on twice as many data sets
NUMERICAL_STEPS = 100  # 2·(3K) + 1 loss evaluations a step: the slow method, and a step-size-0.1 one
PRESETS = ["blobs", "moons", "circles", "random"]
# every preset with every class count and every size, the two seeds alternating; and a large one of each
DATA = [None] + [(name, (classes + i) % 2, classes, n) for name in PRESETS for classes in (2, 3, 4, 5)
                 for i, n in enumerate((1, 20, 200))] + [(name, 2, 3, 1000) for name in PRESETS]


@pytest.fixture
def client(config):
    """A client of a server that lets this one address create the hundreds of sessions the grid needs."""
    roomy = config.model_copy(update={"create_burst": 100_000, "max_sessions_per_address": 100_000})
    with TestClient(create_app(roomy)) as c:
        yield c


def session(client, data, **settings):
    """A session on ``data`` (None: the original points) with these settings; its id."""
    r = client.post("/api/sessions", json={"seed": 0, **settings})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    if data is not None:
        name, seed, classes, n = data
        r = client.post(url(sid, "/reset"), json={"data": name, "seed": seed, "classes": classes, "n": n},
                        params={"detail": "summary"})
        assert r.status_code == 200, r.text
    return sid


def run(client, sid, steps, chunks):
    """Take ``steps`` steps in ``chunks`` requests; returns the last state and the step at which ``diverging``
    was first seen true (None if never)."""
    fired, done = None, 0
    for i in range(chunks):
        n = steps * (i + 1) // chunks - done
        r = client.post(url(sid, "/step"), json={"steps": n}, params={"detail": "summary"})
        assert r.status_code == 200, r.text
        s = finite_json(r)
        done += n
        if s["diverging"] and fired is None:
            fired = s["step"]
    return s, fired


def grid(config):
    return DATA if config.session_store == "memory" else DATA[::4]


def requests_per_run(config):
    """Requests per run: the Redis store must carry the watch (lowest loss, counts of rises and reversals)
    from one to the next."""
    return 1 if config.session_store == "memory" else 4


@pytest.mark.parametrize("step_size, reg, within", DIVERGING)
def test_diverging_fires_on_every_loss_and_data_set(client, config, step_size, reg, within):
    missed = []
    for data in grid(config):
        for loss_type in LOSS_TYPES:
            sid = session(client, data, loss_type=loss_type, step_size=step_size, reg=reg)
            s, fired = run(client, sid, within, requests_per_run(config))
            if fired is None:
                missed.append((data, loss_type, s["loss"], s["lowest_loss"]))
            else:
                assert s["diverging"] and s["divergence_cause"] == "regularization" and s["reg_factor"] == -1.0
            client.delete(url(sid))
    assert missed == []


@pytest.mark.parametrize("settings", HEALTHY, ids=[f"{h['optimizer']}-{h.get('step_size', 0.1)}" for h in HEALTHY])
def test_diverging_never_fires_on_healthy_runs(client, config, settings):
    steps = NUMERICAL_STEPS if settings["optimizer"] == "numerical" else HEALTHY_STEPS
    fired = []
    for data in grid(config):
        if settings["optimizer"] == "numerical" and data is not None and data[3] > 20:
            continue  # the numerical gradient on hundreds of points: minutes of CPU for what gd shows already
        for loss_type in LOSS_TYPES:
            sid = session(client, data, loss_type=loss_type, **settings)
            s, at = run(client, sid, steps, requests_per_run(config))
            if at is not None:
                fired.append((data, loss_type, at, s["loss"], s["lowest_loss"]))
            assert s["divergence_cause"] is None and s["step"] == steps
            client.delete(url(sid))
    assert fired == []


def test_a_change_or_a_reset_clears_it_and_halving_the_step_size_cures_it(client):
    sid = session(client, None, step_size=10)
    s, fired = run(client, sid, 30, 1)
    assert s["diverging"] and fired == 30 and s["loss"] > 10 * s["lowest_loss"]
    s = client.post(url(sid, "/reset")).json()  # parameters back, step size kept
    assert s["diverging"] is False and s["divergence_cause"] is None and s["step_size"] == 10
    assert run(client, sid, 30, 1)[0]["diverging"]  # so it diverges again
    s = client.patch(url(sid), json={"step_size": 5}).json()  # halve it: 2·0.1·5 = 1 < 2
    assert s["diverging"] is False and s["reg_factor"] == 0.0 and s["lowest_loss"] == s["loss"]
    start = s["loss"]
    s, fired = run(client, sid, 500, 5)
    assert fired is None and s["loss"] < start
