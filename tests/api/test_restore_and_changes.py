"""Reset against Restore defaults, and the change markers, through the API on each store."""

import pytest

from tests.api.test_sessions import DEFAULT_B, DEFAULT_W, finite_json, new, step, url


def test_restore_defaults_brings_back_everything_of_the_original_demo(client):
    fresh = new(client, seed=21)
    sid = new(client, loss_type="softmax", step_size=10, reg=0.5, optimizer="sgd", batch_size=2, h=1e-3)["id"]
    client.post(url(sid, "/reset"), json={"data": "blobs", "n": 30, "classes": 5, "test_fraction": 0.2})
    step(client, sid, 25)
    r = client.post(url(sid, "/restore"), json={"seed": 21})
    s = finite_json(r)
    assert r.status_code == 200 and s["id"] == sid
    assert {k: v for k, v in s.items() if k != "id"} == {k: v for k, v in fresh.items() if k != "id"}
    assert s["W"] == DEFAULT_W and s["b"] == DEFAULT_B and s["n_points"] == 9 and s["n_test"] == 0
    assert s["step_size"] == 0.1 and s["loss_type"] == "svm_ww" and s["history"] == [pytest.approx(6.2667, abs=1e-4)]
    step(client, sid, 5)
    r = client.post(url(sid, "/restore"))  # no body: a new seed, the rest the same
    assert r.status_code == 200 and r.json()["W"] == DEFAULT_W and r.json()["step"] == 0


def test_reset_keeps_settings_data_and_test_set(client):
    sid = new(client, step_size=10, loss_type="svm_ova")["id"]
    s = client.post(url(sid, "/reset"), json={"data": "circles", "n": 10, "classes": 2, "test_fraction": 0.3}).json()
    step(client, sid, 30)
    r = finite_json(client.post(url(sid, "/reset")))
    assert (r["step_size"], r["loss_type"], r["X"], r["X_test"], r["preset"]) == \
        (10, "svm_ova", s["X"], s["X_test"], s["preset"])
    assert r["step"] == 0 and r["history"] == [r["loss"]] and r["test_history"] == [r["test_loss"]]
    assert r["changes"] == [] and r["diverging"] is False


@pytest.mark.parametrize("body", [{"seed": -1}, {"seed": "1"}, {"data": "blobs"}, [1]])
def test_a_bad_restore_gets_422_and_changes_nothing(client, body):
    sid = new(client, step_size=3)["id"]
    step(client, sid, 2)
    before = client.get(url(sid, "/export")).json()
    r = client.post(url(sid, "/restore"), json=body)
    assert r.status_code == 422
    assert client.get(url(sid, "/export")).json() == before


def test_restore_of_an_unknown_session_is_404(client):
    assert client.post(url("nope" * 8, "/restore")).status_code == 404


def test_the_openapi_description_documents_restore_and_the_held_out_options(client):
    spec = client.get("/openapi.json").json()
    restore = spec["paths"]["/api/sessions/{sid}/restore"]["post"]
    assert "nine points" in restore["description"] and "default settings" in restore["description"]
    assert "/restore" in spec["paths"]["/api/sessions/{sid}/reset"]["post"]["description"]
    reset = spec["components"]["schemas"]["ResetRequest"]["properties"]
    assert "blobs 0 to 0.5 (default 0.15)" in reset["noise"]["description"]
    assert reset["test_fraction"]["maximum"] == 0.5 and reset["test_fraction"]["minimum"] == 0
    public = spec["components"]["schemas"]["SessionPublic"]["properties"]
    for name in ("diverging", "divergence_cause", "reg_factor", "lowest_loss", "X_test", "y_test", "n_test",
                 "test_loss", "test_accuracy", "test_history", "changes", "preset"):
        assert name in public, name
    assert "2·λ·step_size ≥ 2" in public["divergence_cause"]["description"]


def test_changes_are_marked_at_their_step_and_travel_with_the_session(client):
    sid = new(client, seed=4)["id"]
    step(client, sid, 3)
    client.patch(url(sid), json={"loss_type": "softmax", "reg": 0.01})
    step(client, sid, 2)
    client.patch(url(sid), json={"step_size": 0.5})
    client.patch(url(sid), json={"step_size": 0.7})  # the same slider, the same step: one marker
    client.patch(url(sid), json={"optimizer": "sgd", "X": [[0.1, 0.2], [0.3, -0.4], [-0.5, 0.6]], "y": [0, 1, 2]})
    s = step(client, sid, 1)
    expected = [{"step": 3, "what": "loss_type", "value": "softmax"}, {"step": 3, "what": "reg", "value": 0.01},
                {"step": 5, "what": "step_size", "value": 0.7}, {"step": 5, "what": "optimizer", "value": "sgd"},
                {"step": 5, "what": "data", "value": 3}]
    assert s["changes"] == expected
    assert s["segments"] == [{"start": 0, "optimizer": "gd"}, {"start": 5, "optimizer": "sgd"}]
    assert s["preset"] is None  # the data were edited by hand
    record = client.get(url(sid, "/export")).json()
    assert record["changes"] == expected
    copy = client.post("/api/sessions/import", json=record).json()
    assert copy["changes"] == expected
    bad = {**record, "changes": [{"step": 99, "what": "reg", "value": 1}]}  # after the session's step
    r = client.post("/api/sessions/import", json=bad)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("changes:")
