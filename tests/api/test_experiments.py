"""``/api/datasets`` and ``/api/experiments`` on each store: every route, its errors, the limits, CIFAR-10 from
a generated folder, reproducibility by seed, datasets loaded once and shared."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Config
from app.core import images
from app.core.experiment import DEFAULTS, Experiment
from app.main import create_app
from tests import fake_cifar


def strict(r):
    """The body as JSON, failing on NaN or Infinity (which Python's json would accept)."""
    return json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))


def new(client, **body):
    r = client.post("/api/experiments", json={"dataset": "digits", **body})
    assert r.status_code == 201, r.text
    return strict(r)


def reference(seed, steps=0, **settings):
    """The experiment computed here; the apps made by the fixtures have set BLAS on one thread for the process,
    as the server computes (float32 sums depend on how the work is split)."""
    e = Experiment.create(images.get("digits"), seed=seed, **settings)
    e.run(images.get("digits"), steps)
    return e


def without_id(state):
    return {k: v for k, v in state.items() if k not in ("id", "seconds", "step_seconds")}


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    fake_cifar.write(folder)
    return str(folder)


@pytest.fixture
def cifar_client(config, cifar_dir):
    with TestClient(create_app(config.model_copy(update={"cifar10_dir": cifar_dir}))) as c:
        yield c


# --- datasets -----------------------------------------------------------------------------------------------
def test_datasets_list_digits_and_cifar10_unavailable_with_a_hint(client):
    r = client.get("/api/datasets")
    assert r.status_code == 200
    digits, cifar = r.json()
    assert digits == {"name": "digits", "available": True, "shape": [8, 8], "classes": list("0123456789"),
                      "n_train": 1197, "n_val": 300, "n_test": 300, "hint": None}
    assert cifar["name"] == "cifar10" and cifar["available"] is False and cifar["shape"] == [32, 32, 3]
    assert "LINCLASS_CIFAR10_DIR" in cifar["hint"] and cifar["classes"][:3] == ["airplane", "automobile", "bird"]
    r = client.post("/api/experiments", json={"dataset": "cifar10"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dataset"]
    assert "LINCLASS_CIFAR10_DIR" in r.json()["detail"][0]["msg"]


def test_cifar10_from_a_folder_through_the_api(cifar_client):
    cifar = cifar_client.get("/api/datasets").json()[1]
    assert cifar["available"] is True and cifar["hint"] is None
    s = cifar_client.post("/api/experiments", json={"dataset": "cifar10", "seed": 1}).json()
    assert s["optimizer"] == "sgd" and s["parameters"] == 10 * 3073 and s["shape"] == [32, 32, 3]
    cifar = cifar_client.get("/api/datasets").json()[1]
    assert (cifar["n_train"], cifar["n_val"], cifar["n_test"]) == (90, 10, 30)
    step = strict(cifar_client.post(f"/api/experiments/{s['id']}/step?templates=true", json={"steps": 3}))
    assert step["step"] == 3 and step["templates"]["shape"] == [10, 32, 32, 3]
    assert np.array(step["templates"]["images"]).shape == (10, 32, 32, 3)
    pics = cifar_client.get(f"/api/experiments/{s['id']}/images?split=val&indices=0,9").json()
    assert pics["shape"] == [2, 32, 32, 3] and len(pics["labels"]) == 2
    r = cifar_client.patch(f"/api/experiments/{s['id']}", json={"optimizer": "numerical"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "optimizer"]
    assert "61,461 loss evaluations" in r.json()["detail"][0]["msg"]


# --- every route --------------------------------------------------------------------------------------------
def test_create_with_the_datasets_defaults(client):
    s = new(client, seed=3)
    assert {k: s[k] for k in DEFAULTS["digits"]} == DEFAULTS["digits"]
    assert (s["dataset"], s["seed"], s["step"], s["parameters"], s["shape"]) == ("digits", 3, 0, 650, [8, 8])
    expected = reference(3)
    assert s["history"] == expected.history and s["loss"] == expected.history[0]
    assert s["accuracy"] == expected.accuracy and s["val_accuracy"] == expected.accuracy[0][2]
    assert s["segments"] == [{"start": 0, "optimizer": "gd"}] and s["loss_evals"] == 0 and s["taken"] == 0


def test_step_trains_and_returns_only_what_it_added(client):
    s = new(client, seed=3)
    step = strict(client.post(f"/api/experiments/{s['id']}/step", json={"steps": 40}))
    assert (step["step"], step["taken"], step["history_start"], len(step["history"])) == (40, 40, 1, 40)
    assert step["accuracy"] == [[40, step["train_accuracy"], step["val_accuracy"]]] and step["val_accuracy"] > 0.9
    assert step["loss_evals"] == 1 and step["step_seconds"] == pytest.approx(step["seconds"] / 40)
    assert "templates" not in step or step["templates"] is None
    full = client.get(f"/api/experiments/{s['id']}").json()
    assert full["history"] == s["history"] + step["history"] and len(full["accuracy"]) == 2
    assert full["history"] == reference(3, 40).history


def test_step_with_templates(client):
    s = new(client, seed=3)
    step = client.post(f"/api/experiments/{s['id']}/step?templates=true", json={"steps": 5}).json()
    t = np.array(step["templates"]["images"])
    assert step["templates"]["shape"] == [10, 8, 8] and t.shape == (10, 8, 8) and t.min() == 0 and t.max() == 255
    assert client.get(f"/api/experiments/{s['id']}/templates").json() == step["templates"]


def test_patch_changes_settings_and_keeps_the_history(client):
    s = new(client, seed=3)
    client.post(f"/api/experiments/{s['id']}/step", json={"steps": 3})
    r = client.patch(f"/api/experiments/{s['id']}", json={"optimizer": "random_search", "reg": 0.01})
    assert r.status_code == 200
    p = r.json()
    assert (p["optimizer"], p["reg"], p["step"], p["history"]) == ("random_search", 0.01, 3, [])
    assert p["segments"] == [{"start": 0, "optimizer": "gd"}, {"start": 3, "optimizer": "random_search"}]
    step = client.post(f"/api/experiments/{s['id']}/step", json={"steps": 10}).json()
    assert step["search"]["tries"] == 10 and step["loss_evals"] == 1


def test_reset_by_seed(client):
    s = new(client, seed=3, step_size=0.1)
    client.post(f"/api/experiments/{s['id']}/step", json={"steps": 3})
    r = client.post(f"/api/experiments/{s['id']}/reset", json={"seed": 3})
    assert r.status_code == 200 and without_id(r.json()) == without_id(s)  # the settings stay
    other = client.post(f"/api/experiments/{s['id']}/reset").json()
    assert other["seed"] != 3 and other["step"] == 0 and other["step_size"] == 0.1


def test_evaluate_templates_images_and_gradcheck(client):
    s = new(client, seed=3)
    client.post(f"/api/experiments/{s['id']}/step", json={"steps": 50})
    digits = images.get("digits")
    expected_state = reference(3, 50)
    for split in ("val", "test"):
        r = client.get(f"/api/experiments/{s['id']}/evaluate?split={split}")
        expected = expected_state.evaluate(digits, split)
        assert r.status_code == 200 and r.json() == {**expected, "confusion": expected["confusion"].tolist()}
    assert client.get(f"/api/experiments/{s['id']}/evaluate").json()["split"] == "val"
    t = client.get(f"/api/experiments/{s['id']}/templates").json()
    assert t == {"shape": [10, 8, 8], "images": expected_state.templates().tolist()}
    pics = client.get(f"/api/experiments/{s['id']}/images?split=test&indices=4,0,299").json()
    assert pics["indices"] == [4, 0, 299] and pics["shape"] == [3, 8, 8]
    assert pics["images"] == digits.pixels("test", [4, 0, 299]).tolist()
    assert pics["labels"] == digits.test.y[[4, 0, 299]].tolist()
    assert pics["predicted"] == expected_state.predict(digits.test.X[[4, 0, 299]]).tolist()
    assert len(client.get(f"/api/experiments/{s['id']}/images").json()["indices"]) == 16
    check = client.get(f"/api/experiments/{s['id']}/gradcheck?count=8&seed=2").json()
    assert len(check["params"]) == 8 and check["precision"] == "float64" and check["h"] == 1e-5
    assert check == json.loads(json.dumps(expected_state.gradient_check(digits, 8, 2)))
    assert set(check["params"][0]) == {"name", "analytic", "numerical", "rel_error", "kink"}


def test_delete(client):
    s = new(client)
    assert client.delete(f"/api/experiments/{s['id']}").status_code == 204
    assert client.get(f"/api/experiments/{s['id']}").status_code == 404
    assert client.delete(f"/api/experiments/{s['id']}").status_code == 404


# --- errors -------------------------------------------------------------------------------------------------
ROUTES = [("get", ""), ("patch", ""), ("delete", ""), ("post", "/step"), ("post", "/reset"), ("get", "/evaluate"),
          ("get", "/templates"), ("get", "/images"), ("get", "/gradcheck")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_an_unknown_id_is_a_404_on_every_route(client, method, path):
    r = client.request(method, f"/api/experiments/no-such-id{path}", json={} if method == "patch" else None)
    assert (r.status_code, r.json()) == (404, {"detail": "Experiment not found"})


CREATE_ERRORS = [
    ({}, "dataset"), ({"dataset": "mnist"}, "dataset"), ({"dataset": "digits", "step_size": "0.1"}, "step_size"),
    ({"dataset": "digits", "reg": 1001}, "reg"), ({"dataset": "digits", "batch_size": 2.5}, "batch_size"),
    ({"dataset": "digits", "optimizer": "adam"}, "optimizer"), ({"dataset": "digits", "W": [[1]]}, "body"),
    ({"dataset": "digits", "seed": -1}, "seed"), ({"dataset": "digits", "search_scale": 0}, "search_scale"),
]


@pytest.mark.parametrize("body, field", CREATE_ERRORS)
def test_a_bad_creation_is_a_422_naming_the_field(client, body, field):
    """An unknown field is named by its place ("body"), never by the client's own text."""
    r = client.post("/api/experiments", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, r.text
    assert r.json()["detail"][0]["msg"].startswith(field)


def test_nan_is_refused(client):
    r = client.post("/api/experiments", content=b'{"dataset": "digits", "reg": NaN}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reg"]


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/step", {"steps": 0}, "steps"), ("post", "/step", {"steps": 10_001}, "steps"),
    ("post", "/step", {"steps": "5"}, "steps"), ("post", "/step", {"stepz": 5}, "body"),
    ("patch", "", {"step_size": -1}, "step_size"), ("patch", "", {"dataset": "cifar10"}, "body"),
    ("patch", "", {"loss_type": "hinge"}, "loss_type"), ("post", "/reset", {"seed": "1"}, "seed"),
    ("get", "/evaluate?split=train", None, "split"), ("get", "/images?indices=1,x", None, "indices"),
    ("get", "/images?indices=300", None, "indices"), ("get", "/images?indices=%EF%BC%91", None, "indices"),
    ("get", "/images?indices=1_0", None, "indices"), ("get", "/images?indices=%2B3", None, "indices"),
    ("get", "/images?indices=%201", None, "indices"), ("get", "/images?split=dev", None, "split"),
    ("get", f"/images?indices={','.join(['1'] * 101)}", None, "indices"), ("get", "/gradcheck?count=0", None, "count"),
    ("get", "/gradcheck?count=51", None, "count"), ("get", "/gradcheck?seed=-3", None, "seed"),
])
def test_a_bad_request_is_a_422_naming_the_field_and_changes_nothing(client, method, path, body, field):
    s = new(client, seed=1)
    before = client.get(f"/api/experiments/{s['id']}").json()
    r = client.request(method, f"/api/experiments/{s['id']}{path}", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, r.text
    assert client.get(f"/api/experiments/{s['id']}").json() == before


def test_the_largest_step_size_never_puts_nan_in_the_json(client):
    s = new(client, seed=1, loss_type="softmax", step_size=1000.0, reg=1000.0)
    step = strict(client.post(f"/api/experiments/{s['id']}/step?templates=true", json={"steps": 10_000}))
    assert step["diverged"] is True and step["taken"] < 10_000
    for path in ("", "/evaluate", "/templates", "/images", "/gradcheck?count=3"):
        strict(client.get(f"/api/experiments/{s['id']}{path}"))


# --- stores, limits, sharing ---------------------------------------------------------------------------------
def test_a_seed_reproduces_an_experiment(client):
    script = [("patch", {"optimizer": "sgd", "batch_size": 64}), ("step", {"steps": 30}),
              ("patch", {"optimizer": "random_search"}), ("step", {"steps": 20}), ("patch", {"loss_type": "softmax"}),
              ("step", {"steps": 5})]
    runs = []
    for _ in range(2):
        s = new(client, seed=42)
        for action, body in script:
            path = "" if action == "patch" else "/step"
            assert client.request("patch" if action == "patch" else "post", f"/api/experiments/{s['id']}{path}",
                                  json=body).status_code == 200
        runs.append(client.get(f"/api/experiments/{s['id']}").json())
        runs[-1]["templates"] = client.get(f"/api/experiments/{s['id']}/templates").json()
    assert without_id(runs[0]) == without_id(runs[1])
    other = new(client, seed=43)
    assert other["history"] != new(client, seed=42)["history"]


def test_the_redis_store_gives_the_same_states_as_the_memory_store(redis_url, redis_db):
    script = [("post", "", {"dataset": "digits", "seed": 7, "optimizer": "sgd"}), ("post", "/step", {"steps": 25}),
              ("patch", "", {"loss_type": "softmax", "reg": 0.01}), ("post", "/step", {"steps": 3}),
              ("patch", "", {"optimizer": "random_search"}), ("post", "/step", {"steps": 4}),
              ("post", "/reset", {"seed": 3}), ("patch", "", {"optimizer": "numerical"}),
              ("post", "/step", {"steps": 1}), ("get", "/evaluate?split=test", None), ("get", "/templates", None)]
    states = {}
    for store in ("memory", redis_url):
        with TestClient(create_app(Config(session_store=store))) as client:
            eid, out = None, []
            for method, path, body in script:
                url = "/api/experiments" if eid is None else f"/api/experiments/{eid}{path}"
                r = client.request(method, url, json=body)
                assert r.status_code in (200, 201), r.text
                eid = eid or r.json()["id"]
                out.append(without_id(r.json()))
            out.append(without_id(client.get(f"/api/experiments/{eid}").json()))
            states[store] = out
    assert states["memory"] == states[redis_url]


def test_redis_keeps_experiments_under_their_own_prefix_without_images(redis_url, redis_db):
    with TestClient(create_app(Config(session_store=redis_url))) as client:
        s = new(client, seed=1)
        client.post(f"/api/experiments/{s['id']}/step", json={"steps": 30})
        prefix = "linclass:experiments:"
        assert len(redis_db.hget(f"{prefix}s:{s['id']}", "data")) == 8 * 650  # W and b as float64: no images
        assert np.frombuffer(redis_db.get(f"{prefix}h:{s['id']}"), "<f8").tolist() == \
            client.get(f"/api/experiments/{s['id']}").json()["history"]
        assert redis_db.zcard(prefix + "meta:used") == 1 and redis_db.zcard("linclass:meta:used") == 0


def test_the_store_cap_evicts_the_least_recently_used_experiment(config):
    with TestClient(create_app(config.model_copy(update={"max_sessions": 2}))) as client:
        session = client.post("/api/sessions").json()["id"]
        a, b = new(client)["id"], new(client)["id"]
        client.get(f"/api/experiments/{a}")  # a is now the most recently used
        c = new(client)["id"]
        assert [client.get(f"/api/experiments/{e}").status_code for e in (a, b, c)] == [200, 404, 200]
        assert client.get(f"/api/sessions/{session}").status_code == 200  # a store of its own


def test_experiments_expire_after_the_idle_timeout(redis_url, redis_db):
    import time

    with TestClient(create_app(Config(session_store=redis_url, idle_timeout=0.3))) as client:
        s = new(client)
        time.sleep(0.5)
        assert client.get(f"/api/experiments/{s['id']}").status_code == 404


def test_the_dataset_is_loaded_once_and_shared_by_every_experiment(monkeypatch):
    monkeypatch.setattr(images, "_loaded", {})
    monkeypatch.setattr(images, "_locks", {})
    loads = []
    real = images.load_digits
    monkeypatch.setattr(images, "load_digits", lambda: loads.append(1) or real())
    seen = []
    real_run = Experiment.run
    monkeypatch.setattr(Experiment, "run",
                        lambda self, data, *a, **kw: seen.append(data) or real_run(self, data, *a, **kw))
    for _ in range(2):  # two apps in one process: still one load
        with TestClient(create_app(Config())) as client:
            for _ in range(3):
                s = new(client)
                client.post(f"/api/experiments/{s['id']}/step", json={"steps": 2})
    assert loads == [1] and len(seen) == 6 and all(d is seen[0] for d in seen)
    assert seen[0] is images.loaded("digits") and not seen[0].train.X.flags.writeable


def test_the_server_computes_with_blas_on_one_thread(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    numpy_blas = lambda: [i["num_threads"] for i in threadpool_info() if "numpy" in i["filepath"]]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    with threadpool_limits(2, user_api="blas"):
        create_app(Config())
        assert numpy_blas() == [1]


def test_the_images_page_has_the_main_pages_policy_and_no_inline_script(client):
    from tests.api.test_security import Scripts, csp

    r = client.get("/images")
    assert r.status_code == 200 and csp(r) == csp(client.get("/"))
    page = Scripts()
    page.feed(r.text)
    assert page.sources == ["/vendor/plotly.min.js", "/static/js/images.js"]
    assert page.inline == [] and page.handlers == []
    assert 'href="/images"' in client.get("/").text and 'href="/"' in r.text


def test_a_cifar10_folder_that_cannot_be_read_is_a_503_then_listed_unavailable(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    fake_cifar.write(folder, per_batch=2, n_test=2)
    (folder / "test_batch").write_bytes(b"\x80\x02garbage")
    with TestClient(create_app(Config(cifar10_dir=str(folder)))) as client:
        assert client.get("/api/datasets").json()[1]["available"] is True  # the files are there
        r = client.post("/api/experiments", json={"dataset": "cifar10"})
        assert r.status_code == 503 and r.json()["detail"].startswith("Dataset cifar10 could not be loaded")
        assert str(tmp_path) not in r.text
        listed = client.get("/api/datasets").json()[1]
        assert listed["available"] is False and "could not be read as CIFAR-10" in listed["hint"]
        r = client.post("/api/experiments", json={"dataset": "cifar10"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "dataset"]
