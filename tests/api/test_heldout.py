"""Held-out data through the API, on each store: sizes, test losses checked by loops, the per-step test history,
no training on test points, 422s, and records (export/import) that carry the test set."""

import json

import numpy as np
import pytest

from tests.api.test_sessions import finite_json, new, step, url
from tests.api.test_store import redis_client  # noqa: F401 (a fixture)
from tests.core.test_heldout import loop_test_loss


def reset(client, sid, **body):
    r = client.post(url(sid, "/reset"), json=body)
    assert r.status_code == 200, r.text
    return finite_json(r)


@pytest.mark.parametrize("name, n, classes, fraction, n_test", [
    ("blobs", 20, 3, 0.25, 15), ("moons", 7, 2, 0.5, 7), ("circles", 100, 5, 0.1, 50), ("random", 3, 4, 0.0, 0),
])
def test_sizes_and_the_preset(client, name, n, classes, fraction, n_test):
    s = reset(client, new(client)["id"], data=name, n=n, classes=classes, test_fraction=fraction, seed=11)
    assert (s["n_points"], s["n_test"]) == (n * classes - n_test, n_test)
    assert s["preset"] == {"name": name, "seed": 11, "n": n, "classes": classes, "test_fraction": fraction,
                           "noise": {"blobs": 0.15, "moons": 0.05, "circles": 0.03}.get(name)}
    if n_test:
        assert len(s["X_test"]) == len(s["y_test"]) == n_test and set(s["y_test"]) <= set(range(classes))
        assert s["test_history"] == [s["test_loss"]]
    else:
        assert s["X_test"] is s["y_test"] is s["test_loss"] is s["test_accuracy"] is s["test_history"] is None
    summary = client.get(url(s["id"]), params={"detail": "summary"}).json()
    assert summary["X_test"] is None and summary["n_test"] == n_test and summary["test_loss"] == s["test_loss"]


@pytest.mark.parametrize("loss_type", ["svm_ww", "svm_ova", "svm_structured", "softmax"])
def test_test_loss_and_accuracy_match_loops_after_every_step(client, loss_type):
    sid = new(client, loss_type=loss_type, optimizer="sgd", step_size=0.5)["id"]
    s = reset(client, sid, data="moons", n=15, classes=3, test_fraction=0.4, noise=0.12, seed=2)
    X, y = s["X_test"], s["y_test"]
    history = list(s["test_history"])
    for steps in (1, 3, 10):
        s = step(client, sid, steps)
        assert len(s["test_history"]) == len(s["history"]) == steps  # only the new entries, like history
        history += s["test_history"]
        expected = loop_test_loss(s["W"], s["b"], X, y, loss_type)
        assert s["test_loss"] == pytest.approx(expected, rel=1e-12) == s["test_history"][-1]
        predicted = np.argmax(np.array(X) @ np.array(s["W"]).T + s["b"], axis=1)
        assert s["test_accuracy"] == np.mean(predicted == y)
    full = finite_json(client.get(url(sid)))
    assert full["test_history"] == history and len(history) == len(full["history"]) == 15


def test_moving_the_test_points_changes_no_training_number(client):
    a, b = (new(client, optimizer="sgd", batch_size=3)["id"] for _ in range(2))
    for sid in (a, b):
        reset(client, sid, data="blobs", n=12, classes=3, test_fraction=0.5, seed=8)
    X_test = client.get(url(b)).json()["X_test"]
    r = client.patch(url(b), json={"X_test": (-np.array(X_test)).tolist(), "y_test": [0] * len(X_test)})
    assert r.status_code == 200 and r.json()["changes"] == [{"step": 0, "what": "test_data", "value": 18}]
    sa, sb = step(client, a, 30), step(client, b, 30)
    for key in ("W", "b", "history", "last_batch", "loss", "accuracy", "X", "y"):
        assert sa[key] == sb[key], key
    assert sa["test_history"] != sb["test_history"]


@pytest.mark.parametrize("body, field", [
    ({"data": "blobs", "test_fraction": 0.51}, "test_fraction"),
    ({"data": "blobs", "test_fraction": -0.1}, "test_fraction"),
    ({"data": "blobs", "test_fraction": 1}, "test_fraction"),
    ({"data": "blobs", "test_fraction": "0.2"}, "test_fraction"),
    ({"data": "original", "test_fraction": 0.2}, "test_fraction"), ({"test_fraction": 0.2}, "test_fraction"),
    ({"data": "blobs", "noise": 0.6}, "noise"), ({"data": "random", "noise": 0.1}, "noise"),
    ({"data": "moons", "noise": 2}, "noise"), ({"data": "moons", "noise": -1}, "noise"),
])
def test_bad_held_out_options_get_422_and_change_nothing(client, body, field):
    sid = new(client)["id"]
    reset(client, sid, data="circles", n=5, classes=2, test_fraction=0.2, seed=1)
    before = client.get(url(sid, "/export")).json()
    r = client.post(url(sid, "/reset"), json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith(f"{field}:"), r.text
    assert client.get(url(sid, "/export")).json() == before


@pytest.mark.parametrize("body, field", [({"X_test": [[0, 0]]}, "y_test"),
                                         ({"X_test": [[0, 0]], "y_test": [5]}, "y_test"),
                                         ({"X_test": [[0, 0, 0]], "y_test": [0]}, "X_test")])
def test_bad_test_points_get_422(client, body, field):
    sid = new(client)["id"]
    r = client.patch(url(sid), json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith(f"{field}:"), r.text


def test_export_and_import_carry_the_test_set(client):
    sid = new(client, optimizer="sgd", seed=3)["id"]
    reset(client, sid, data="moons", n=10, classes=4, test_fraction=0.3, seed=5)
    step(client, sid, 12)
    client.patch(url(sid), json={"reg": 0.2})
    record = client.get(url(sid, "/export")).json()
    assert len(record["X_test"]) == len(record["y_test"]) == 12 and len(record["test_history"]) == 13
    r = client.post("/api/sessions/import", json=record)
    assert r.status_code == 201
    copy = r.json()["id"]
    a, b = step(client, sid, 5), step(client, copy, 5)
    same = ("W", "b", "history", "test_history", "test_loss", "test_accuracy", "X_test", "y_test", "changes", "preset")
    assert {k: a[k] for k in same} == {k: b[k] for k in same}
    record.pop("X_test")
    r = client.post("/api/sessions/import", json=record)  # y_test without X_test
    assert r.status_code == 422 and "X_test" in r.text


def test_a_record_from_before_test_sets_still_imports(client):
    sid = new(client)["id"]
    step(client, sid, 3)
    record = client.get(url(sid, "/export")).json()
    for key in ("X_test", "y_test", "test_history", "changes", "divergence", "preset"):
        record.pop(key)
    r = client.post("/api/sessions/import", json=record)
    assert r.status_code == 201 and r.json()["n_test"] == 0
    assert r.json()["history"] == client.get(url(sid)).json()["history"]


def test_a_test_set_added_mid_run_has_no_test_loss_for_the_steps_before_it(client):
    sid = new(client, seed=1)["id"]
    step(client, sid, 3)
    r = client.patch(url(sid), json={"X_test": [[0.5, 0.5], [-0.5, 0.2]], "y_test": [0, 1]})
    assert r.status_code == 200 and r.json()["test_history"] == []  # a PATCH adds no history
    s = step(client, sid, 2)
    assert len(s["test_history"]) == 2 and s["test_history"][-1] == s["test_loss"]
    full = finite_json(client.get(url(sid)))
    assert full["test_history"][:4] == [None] * 4 and full["test_history"][4:] == s["test_history"]
    assert client.get(url(sid, "/export")).json()["test_history"] == full["test_history"]
    r = client.patch(url(sid), json={"X_test": [], "y_test": []})  # and removed again
    assert r.json()["test_history"] is None and r.json()["n_test"] == 0
    assert client.get(url(sid)).json()["X_test"] is None


def test_a_trimmed_test_history_stays_aligned_in_each_store(config, monkeypatch):
    from fastapi.testclient import TestClient

    import app.core.trainer
    from app.main import create_app

    monkeypatch.setattr(app.core.trainer, "MAX_HISTORY", 40)
    with TestClient(create_app(config)) as client:
        sid = new(client, seed=2, optimizer="sgd")["id"]
        reset(client, sid, data="blobs", n=10, classes=3, test_fraction=0.3, seed=4)
        seen = []
        for steps in (25, 25, 1, 60, 5):
            s = step(client, sid, steps)
            assert len(s["test_history"]) == len(s["history"]) == min(steps, 40)
            seen += s["test_history"]
        s = client.get(url(sid)).json()
        assert (s["step"], s["history_start"], len(s["history"]), len(s["test_history"])) == (116, 77, 40, 40)
        assert s["test_history"] == seen[-40:]


def test_a_preset_is_redrawn_by_its_seed_and_regenerated_by_a_new_one(client):
    sid = new(client)["id"]
    body = {"data": "circles", "n": 25, "classes": 3, "test_fraction": 0.2, "noise": 0.1}
    a = reset(client, sid, seed=123, **body)
    b = reset(client, sid, **{k: v for k, v in a["preset"].items() if k != "name"}, data="circles")
    assert (b["X"], b["X_test"], b["y_test"]) == (a["X"], a["X_test"], a["y_test"])
    c = reset(client, sid, **body)  # Regenerate: no seed, a new one
    assert c["preset"]["seed"] != 123 and c["X"] != a["X"] and c["n_test"] == a["n_test"] == 15


def test_redis_keeps_the_test_points_beside_the_data_and_the_test_losses_beside_the_losses(redis_client, redis_db):
    sid = new(redis_client)["id"]
    reset(redis_client, sid, data="blobs", n=10, classes=3, test_fraction=0.2, seed=3)
    s = step(redis_client, sid, 4)
    full = redis_client.get(url(sid)).json()
    data = redis_db.hget(f"linclass:s:{sid}", "data")
    assert len(data) == 24 * 30  # 24 training points, then 6 test points: X as float64, y as int64
    assert np.frombuffer(data, "<f8", 12, offset=24 * 24).reshape(6, 2).tolist() == full["X_test"]
    pairs = np.frombuffer(redis_db.get(f"linclass:h:{sid}"), "<f8").reshape(-1, 2)
    assert pairs[:, 0].tolist() == full["history"] and pairs[:, 1].tolist() == full["test_history"]
    assert s["test_history"] == full["test_history"][1:]


def test_a_session_stored_before_test_sets_and_the_watch_still_opens(redis_client, redis_db):
    sid = new(redis_client, seed=1, step_size=10)["id"]
    step(redis_client, sid, 3)
    core = json.loads(redis_db.hget(f"linclass:s:{sid}", "core"))
    assert "test_history" not in core and "X_test" not in core  # stored as bytes
    for key in ("n_test", "changes", "divergence", "preset"):
        core.pop(key)
    redis_db.hset(f"linclass:s:{sid}", "core", json.dumps(core))
    s = step(redis_client, sid, 30)
    assert s["step"] == 33 and s["n_test"] == 0 and s["diverging"] and s["preset"] is None
