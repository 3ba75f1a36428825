"""``/api/sessions``: every route, its numbers, its 404s and 422s, and what each leaves unchanged."""

import json

import numpy as np
import pytest

DEFAULT_W, DEFAULT_B = [[1, 2], [2, -4], [3, -1]], [0, 0.5, -0.5]


def url(sid, path=""):
    return f"/api/sessions/{sid}{path}"


def new(client, **body):
    r = client.post("/api/sessions", json=body or None)
    assert r.status_code == 201, r.text
    return r.json()


def finite_json(r):
    """The body parsed, failing on NaN or ±Infinity (which are not JSON)."""
    return json.loads(r.text, parse_constant=lambda token: pytest.fail(f"{token} in the response"))


def step(client, sid, steps=None):
    r = client.post(url(sid, "/step"), json=None if steps is None else {"steps": steps})
    assert r.status_code == 200, r.text
    return finite_json(r)


def same_but_id(a, b):
    return {k: v for k, v in a.items() if k != "id"} == {k: v for k, v in b.items() if k != "id"}


def test_a_new_session_has_the_default_state(client):
    r = client.post("/api/sessions")
    s = finite_json(r)
    assert r.status_code == 201 and isinstance(s["id"], str) and len(s["id"]) >= 32
    names = ("loss_type", "step_size", "reg", "reg_gradient", "optimizer", "batch_size", "h", "search_scale")
    assert [s[k] for k in names] == ["svm_ww", 0.1, 0.1, "exact", "gd", 4, 1e-4, 1.0] and s["n_points"] == 9
    assert s["W"] == DEFAULT_W and s["b"] == DEFAULT_B and s["classes"] == 3
    assert s["loss"] == pytest.approx(6.2667, abs=1e-4) and s["data_loss"] == pytest.approx(2.7667, abs=1e-4)
    assert s["reg_loss"] == pytest.approx(3.5, abs=1e-12) and s["accuracy"] == pytest.approx(2 / 9)
    np.testing.assert_allclose(s["dW"], [[-0.2333, 0.3667], [0.8111, -1.1778], [0.6222, 0.2111]], atol=1e-4)
    assert s["db"] == pytest.approx([0.1111, -0.1111, 0], abs=1e-4)
    assert s["scores"][0] == pytest.approx([1.3, -0.1, 0.6], abs=1e-12) and s["y"] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert s["segments"] == [{"start": 0, "optimizer": "gd"}] and s["diverged"] is False
    assert s["search"] == {"tries": 0, "accepted": 0, "best_loss": s["loss"]} and s["last_batch"] is None
    assert client.get(url(s["id"])).content == r.content


def test_create_with_settings_data_and_seed(client):
    s = new(client, loss_type="softmax", reg=0.0, seed=12, W=[[0, 0], [0, 0]], b=[0, 0],
            X=[[0.5, 0.5], [-0.5, 0.25], [0, 1]], y=[0, 1, 1])
    assert (s["seed"], s["classes"], s["n_points"], s["loss_type"]) == (12, 2, 3, "softmax")
    assert s["loss"] == pytest.approx(0.693147180560, abs=1e-12) and s["history"] == [s["loss"]]  # log 2


def test_summary_omits_the_per_example_arrays(client, session):
    s = client.get(url(session["id"]), params={"detail": "summary"}).json()
    assert s["X"] is s["y"] is s["scores"] is s["losses"] is None
    assert s["loss"] == session["loss"] and s["W"] == session["W"] and s["n_points"] == 9


def test_delete(client, session):
    r = client.delete(url(session["id"]))
    assert r.status_code == 204 and r.content == b""
    assert client.get(url(session["id"])).status_code == 404 == client.delete(url(session["id"])).status_code


ROUTES = [("get", ""), ("get", "/export"), ("get", "/gradcheck"), ("get", "/surface"), ("get", "/line"),
          ("patch", ""), ("post", "/step"), ("post", "/reset"), ("delete", "")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_unknown_ids_get_404(client, session, method, path):
    real = session["id"]
    client.delete(url(gone := new(client)["id"]))
    ids = ["x", "0", "a" * 5000, real[:-1], real + "A", real.swapcase(), "ünïcödé", "import", "a b", gone]
    for sid in ids:
        kw = {"json": {}} if method in ("patch", "post") else {}
        r = getattr(client, method)(url(sid, path), **kw)
        assert (r.status_code, r.json()) == (404, {"detail": "Session not found"}), sid[:20]
    assert client.get(url(real)).status_code == 200


def nested(n):
    return b"[" + b",".join([b"[0.5,0.5]"] * n) + b"]"


PATCH = [  # (raw body, the field the message must name)
    (b'{"reg": NaN}', "reg"), (b'{"reg": Infinity}', "reg"), (b'{"step_size": -Infinity}', "step_size"),
    (b'{"reg": 1e400}', "reg"), (b'{"W": [[NaN, 2], [2, -4], [3, -1]]}', "W"), (b'{"b": [0, 1e400, 0]}', "b"),
    (b'{"step_size": 0}', "step_size"), (b'{"step_size": -0.5}', "step_size"),
    (b'{"step_size": 1000.5}', "step_size"), (b'{"reg": -0.001}', "reg"), (b'{"reg": "0.1"}', "reg"),
    (b'{"h": 0}', "h"), (b'{"batch_size": 0}', "batch_size"), (b'{"batch_size": 2.0}', "batch_size"),
    (b'{"W": [[1000001, 2], [2, -4], [3, -1]]}', "W"), (b'{"b": [0, -1e7, 0]}', "b"),
    (b'{"W": [[1, 2], [2], [3, -1]]}', "W"), (b'{"W": [[1, 2, 0], [2, -4, 0], [3, -1, 0]]}', "W"),
    (b'{"W": [1, 2, 3]}', "W"), (b'{"W": [[1, 2], [2, -4]], "b": [0, 0]}', "W"), (b'{"b": [0, 0.5]}', "b"),
    (b'{"X": [[0, 0], [1, 1]]}', "X"), (b'{"X": [[0.5], ' + nested(8)[1:] + b"}", "X"),
    (b'{"y": [0, 0, 0, 1, 1, 1, 2, 2, 3]}', "y"), (b'{"y": [0, 0, 0, 1, 1, 1, 2, 2, -1]}', "y"),
    (b'{"y": [0, 0, 0, 1, 1, 1, 2, 2, 1.5]}', "y"), (b'{"y": [0, 0, 0, 1, 1, 1, 2, 2, 2.0]}', "y"),
    (b'{"y": [0, 0, 0, 1, 1, 1, 2, 2, "2"]}', "y"), (b'{"y": [0, 1, 2]}', "y"),
    (b'{"loss_type": "hinge"}', "loss_type"), (b'{"optimizer": "adam"}', "optimizer"),
    (b'{"reg_gradient": "half"}', "reg_gradient"), (b'{"learning_rate": 0.1}', "body"),  # unknown: not echoed
    (b'{"reg": 0.5, "step_size": 0}', "step_size"),  # the valid half is not applied either
    (b'{"X": ' + nested(10_001) + b', "y": [' + b",".join([b"0"] * 10_001) + b"]}", "X"),
    (b'{"reg": ', "body"), (b'{"reg": 0.1,}', "body"), (b"[1, 2]", "body"),
]
STEP = [(b'{"steps": 0}', "steps"), (b'{"steps": 10001}', "steps"), (b'{"steps": 1.5}', "steps"),
        (b'{"steps": NaN}', "steps"), (b'{"steps": "3"}', "steps"), (b'{"step": 3}', "body"),
        (b'{"steps": 3', "body")]
RESET = [(b'{"params": "zeros"}', "params"), (b'{"seed": -1}', "seed"), (b'{"seed": 9223372036854775808}', "seed"),
         (b'{"seed": 1.5}', "seed"), (b'{"classes": 1}', "classes"), (b'{"classes": 11}', "classes"),
         (b'{"classes": 2}', "classes"),  # the current labels need 3
         (b'{"data": "spiral"}', "data"), (b'{"data": "blobs", "n": 0}', "n"),
         (b'{"data": "blobs", "n": 5001, "classes": 2}', "n")]
INVALID = [("patch", "", *c) for c in PATCH] + [("post", "/step", *c) for c in STEP] + \
    [("post", "/reset", *c) for c in RESET]


@pytest.mark.parametrize("method, path, body, field", INVALID, ids=[f"{m}{p}:{b[:40]!r}" for m, p, b, _ in INVALID])
def test_invalid_input_is_a_422_naming_the_field_and_changes_nothing(client, method, path, body, field):
    sid = new(client, optimizer="sgd", seed=3)["id"]
    step(client, sid, 4)
    before = client.get(url(sid)).content
    r = getattr(client, method)(url(sid, path), content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    error = finite_json(r)["detail"][0]
    assert error["msg"].split(":")[0].split(".")[0] == field, error
    assert client.get(url(sid)).content == before


@pytest.mark.parametrize("body, field", [(b'{"reg": NaN}', "reg"), (b'{"seed": -3}', "seed"),
                                         (b'{"W": [[1, 2]], "b": [0]}', "W"), (b'{"X": [[0, 0]]}', "X")])
def test_invalid_creation_is_a_422_naming_the_field(client, body, field):
    r = client.post("/api/sessions", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and finite_json(r)["detail"][0]["msg"].startswith(field)


def test_at_most_10000_points(client):
    X, y = [[0.5, -0.5]] * 10_000, [0] * 10_000
    assert new(client, X=X, y=y)["n_points"] == 10_000
    r = client.post("/api/sessions", json={"X": X + [[0, 0]], "y": y + [0]})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("X: at most 10000 points")


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "random_search"])
def test_n_steps_equal_n_single_steps(client, optimizer):
    a, b = (new(client, optimizer=optimizer, seed=21, batch_size=2)["id"] for _ in range(2))
    step(client, a, 25)
    for i in range(25):
        step(client, b, 1 if i % 2 else None)  # an empty body is one step too
    sa, sb = client.get(url(a)).json(), client.get(url(b)).json()
    assert same_but_id(sa, sb) and sa["step"] == 25 and len(sa["history"]) == 26


def test_a_step_returns_only_the_new_history(client, session):
    sid = session["id"]
    first = step(client, sid)
    assert (first["step"], first["history_start"], len(first["history"])) == (1, 1, 1)
    assert first["history"][0] == pytest.approx(6.000295308642, abs=1e-12)
    step(client, sid, 2)
    s = step(client, sid, 2)
    assert (s["step"], s["history_start"], len(s["history"])) == (5, 4, 2)
    full = client.get(url(sid)).json()
    assert full["history_start"] == 0 and full["history"][4:6] == s["history"]
    assert full["history"][1:2] == first["history"]
    step(client, sid, 10_000)
    late = client.post(url(sid, "/step"))
    assert late.json()["history_start"] == late.json()["step"] == 10_006 and len(late.json()["history"]) == 1
    assert len(late.content) <= len(client.post(url(new(client)["id"], "/step")).content) + 100


def test_the_original_demo_step(client, session):
    client.patch(url(session["id"]), json={"reg_gradient": "original"})
    s = step(client, session["id"])
    np.testing.assert_allclose(s["W"], [[1.0383, 1.9933], [1.9489, -3.9422], [2.9828, -1.0361]], atol=1e-4)
    assert s["b"] == pytest.approx([-0.0111, 0.5111, -0.5], abs=1e-4)


def test_patch_changes_settings_but_never_resets(client):
    sid = new(client, seed=1)["id"]
    step(client, sid, 4)
    before = client.get(url(sid)).json()
    r = client.patch(url(sid), json={"loss_type": "softmax", "reg": 0.0, "step_size": 0.5, "optimizer": "sgd"})
    s = finite_json(r)
    assert r.status_code == 200 and (s["loss_type"], s["reg"], s["step_size"]) == ("softmax", 0.0, 0.5)
    assert s["W"] == before["W"] and s["b"] == before["b"] and s["step"] == 4
    assert s["history"] == [] and s["history_start"] == 5  # a PATCH adds no history
    assert s["reg_loss"] == 0 and s["loss"] == s["data_loss"] != before["loss"]
    assert client.get(url(sid)).json()["history"] == before["history"]
    step(client, sid, 3)
    assert client.get(url(sid)).json()["history"][:5] == before["history"]


def test_each_optimizer_reports_its_cost_and_segments_record_the_changes(client, session):
    sid = session["id"]
    expected = {"gd": (1, None), "sgd": (2, list(range(9))), "numerical": (2 * 9 + 1, None), "random_search": (1, None)}
    client.patch(url(sid), json={"batch_size": 100})  # clamps to the 9 points
    for optimizer, (loss_evals, last_batch) in expected.items():
        client.patch(url(sid), json={"optimizer": optimizer})
        s = step(client, sid, 3)
        assert (s["loss_evals"], s["last_batch"]) == (loss_evals, last_batch)
    assert s["search"]["tries"] == 3 and s["step"] == 12 and len(client.get(url(sid)).json()["history"]) == 13
    assert [(g["start"], g["optimizer"]) for g in s["segments"]] == \
        [(0, "gd"), (3, "sgd"), (6, "numerical"), (9, "random_search")]


def test_two_sessions_do_not_affect_each_other(client):
    a, b = (new(client, optimizer="sgd", seed=8)["id"] for _ in range(2))
    b_before = client.get(url(b)).content
    stepped = step(client, a, 10)
    client.patch(url(a), json={"reg": 0.7, "W": [[0, 1], [1, 0], [1, 1]]})
    client.post(url(a, "/reset"), json={"params": "random", "seed": 4})
    client.delete(url(a))
    assert client.get(url(b)).content == b_before
    assert step(client, b, 10)["history"] == stepped["history"]  # b's generator did not advance


def test_reset_default_clears_the_history_and_keeps_the_settings(client):
    sid = new(client, loss_type="softmax", seed=2)["id"]
    step(client, sid, 5)
    s = finite_json(client.post(url(sid, "/reset")))
    assert s["W"] == DEFAULT_W and s["b"] == DEFAULT_B and s["loss_type"] == "softmax"
    assert (s["step"], s["history_start"], s["history"]) == (0, 0, [pytest.approx(5.3366, abs=1e-4)])


def test_reset_random_is_reproducible_by_seed(client):
    a, b = new(client, optimizer="sgd")["id"], new(client, optimizer="sgd")["id"]
    step(client, b, 3)
    ra, rb = (client.post(url(sid, "/reset"), json={"params": "random", "seed": 123}).json() for sid in (a, b))
    assert ra["seed"] == 123 and same_but_id(ra, rb) and ra["W"] != DEFAULT_W
    assert max(abs(v) for row in ra["W"] for v in row) <= 1
    assert step(client, a, 5)["history"] == step(client, b, 5)["history"]
    assert client.post(url(a, "/reset"), json={"params": "random", "seed": 124}).json()["W"] != ra["W"]


@pytest.mark.parametrize("data", ["original", "blobs", "moons", "circles", "random"])
@pytest.mark.parametrize("classes", [2, 3, 4, 5])
def test_reset_with_a_data_preset(client, session, data, classes):
    body = {"params": "random", "seed": 5, "data": data, "n": 6, "classes": classes}
    s = finite_json(client.post(url(session["id"], "/reset"), json=body))
    k, n = (3, 9) if data == "original" else (classes, 6 * classes)
    assert (s["classes"], s["n_points"], len(s["W"]), len(s["b"]), len(s["X"])) == (k, n, k, k, n)
    assert set(s["y"]) <= set(range(k)) and all(abs(v) <= 1 for p in s["X"] for v in p)
    again = client.post(url(new(client)["id"], "/reset"), json=body).json()
    assert again["X"] == s["X"] and again["y"] == s["y"] and again["W"] == s["W"]
    assert step(client, session["id"], 5)["step"] == 5


def test_one_class_data_gives_finite_losses(client):
    sid = new(client, y=[0] * 9, loss_type="softmax")["id"]
    for optimizer in ("gd", "sgd", "numerical", "random_search"):
        client.patch(url(sid), json={"optimizer": optimizer})
        s = step(client, sid, 20)
        assert all(v >= 0 for v in s["history"]) and not s["diverged"]
    assert s["step"] == 80 and s["loss"] < 1.0
    assert all(client.get(url(sid, path)).status_code == 200 for path in ("/gradcheck", "/surface", "/line"))


def test_a_huge_step_size_diverges_to_a_finite_state_and_reset_recovers(client, session):
    sid = session["id"]
    client.patch(url(sid), json={"step_size": 1000})
    s = step(client, sid, 10_000)
    assert s["diverged"] is True and 0 < s["step"] < 10_000 and len(s["history"]) == s["step"]
    assert s["loss"] > 1e100 and s["loss"] == s["history"][-1]
    for path in ("", "/gradcheck", "/surface", "/line", "/export"):
        r = client.get(url(sid, path))
        assert r.status_code == 200 and finite_json(r).get("diverged", True) is True  # the flag persists
    r = finite_json(client.post(url(sid, "/reset")))
    assert r["diverged"] is False and r["step"] == 0 and r["loss"] == session["loss"] and r["step_size"] == 1000


@pytest.mark.parametrize("optimizer", ["sgd", "random_search"])
def test_export_import_round_trips_exactly(client, optimizer):
    sid = new(client, optimizer=optimizer, batch_size=3, seed=77)["id"]
    step(client, sid, 9)
    client.patch(url(sid), json={"loss_type": "softmax"})
    step(client, sid, 2)
    exported = client.get(url(sid, "/export"))
    assert exported.headers["content-disposition"] == 'attachment; filename="linear-classify-session.json"'
    assert (exported.json()["format"], exported.json()["step"]) == ("linear-classify-demo/1", 11)
    r = client.post("/api/sessions/import", json=exported.json())
    assert r.status_code == 201 and same_but_id(r.json(), client.get(url(sid)).json())
    twin = r.json()["id"]
    assert client.get(url(twin, "/export")).content == exported.content
    assert step(client, sid, 30) == {**step(client, twin, 30), "id": sid}
    assert same_but_id(client.get(url(sid)).json(), client.get(url(twin)).json())


@pytest.mark.parametrize("change, field", [({"history": []}, "history"), ({"format": "v0"}, "format"),
                                           ({"y": [7] * 9}, "y"), ({"rng_state": {"state": 1}}, "rng_state"),
                                           ({"segments": [[0, "adam"]]}, "segments"), ({"extra": 1}, "body")])
def test_a_bad_record_is_a_422_naming_the_field(client, session, change, field):
    record = {**client.get(url(session["id"], "/export")).json(), **change}
    r = client.post("/api/sessions/import", json=record)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].split(":")[0].split(".")[0] == field
