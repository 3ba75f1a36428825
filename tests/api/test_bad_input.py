"""Hostile and extreme input on every endpoint and field: each gets a 4xx whose message names the problem,
and the session is byte-for-byte unchanged afterwards (state, export with the generator state, and the
number of sessions). Then the largest step sizes the API allows: the state stays finite and reset recovers."""

import json

import pytest

GOOD_X = [[0.5, 0.4], [0.8, 0.3], [0.3, 0.8], [-0.4, 0.3], [-0.3, 0.7], [-0.7, 0.2], [0.7, -0.4], [0.5, -0.6],
          [-0.4, -0.5]]
GOOD_Y = [0, 0, 0, 1, 1, 1, 2, 2, 2]
JSON_TYPE = {"Content-Type": "application/json"}
MAX = 2 * 1024 * 1024


def raw(text):
    """A body sent as these exact bytes (for what ``json.dumps`` would not write, like NaN)."""
    return text.encode() if isinstance(text, str) else text


def points(n):
    return [[(i % 97) / 97, (i % 89) / 89] for i in range(n)]


# (where, body, expected status, the field or words the message must name). ``where`` is a method and a path
# under the session, or "create" or "import"; "import" bodies are functions of the session's export.
CASES = [
    # PATCH: every field, wrong types and values
    ("PATCH", {"loss_type": 1}, 422, "loss_type"),
    ("PATCH", {"loss_type": "hinge"}, 422, "loss_type"),
    ("PATCH", {"step_size": "0.1"}, 422, "step_size"),
    ("PATCH", {"step_size": "NaN"}, 422, "step_size"),
    ("PATCH", {"step_size": "Infinity"}, 422, "step_size"),
    ("PATCH", raw('{"step_size": NaN}'), 422, "step_size"),
    ("PATCH", raw('{"step_size": Infinity}'), 422, "step_size"),
    ("PATCH", raw('{"step_size": -Infinity}'), 422, "step_size"),
    ("PATCH", raw('{"step_size": 1e999}'), 422, "step_size"),
    ("PATCH", {"step_size": 1e308}, 422, "step_size"),
    ("PATCH", {"step_size": 0}, 422, "step_size"),
    ("PATCH", {"step_size": -0.5}, 422, "step_size"),
    ("PATCH", {"step_size": True}, 422, "step_size"),
    ("PATCH", {"step_size": [0.1]}, 422, "step_size"),
    ("PATCH", {"reg": -0.1}, 422, "reg"),
    ("PATCH", {"reg": 1e308}, 422, "reg"),
    ("PATCH", raw('{"reg": NaN}'), 422, "reg"),
    ("PATCH", {"reg": "Infinity"}, 422, "reg"),
    ("PATCH", {"reg_gradient": "half"}, 422, "reg_gradient"),
    ("PATCH", {"optimizer": "adam"}, 422, "optimizer"),
    ("PATCH", {"batch_size": 0}, 422, "batch_size"),
    ("PATCH", {"batch_size": 2.5}, 422, "batch_size"),
    ("PATCH", {"batch_size": "4"}, 422, "batch_size"),
    ("PATCH", {"batch_size": 10**30}, 422, "batch_size"),
    ("PATCH", {"h": 0}, 422, "h"),
    ("PATCH", {"h": 2}, 422, "h"),
    ("PATCH", raw('{"h": NaN}'), 422, "h"),
    ("PATCH", {"search_scale": 0}, 422, "search_scale"),
    ("PATCH", {"search_scale": -1}, 422, "search_scale"),
    ("PATCH", {"W": [[1, 2], [3]]}, 422, "W"),  # ragged
    ("PATCH", {"W": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, 422, "W"),  # K×3
    ("PATCH", {"W": [1, 2, 3]}, 422, "W"),  # 1-D
    ("PATCH", {"W": []}, 422, "W"),
    ("PATCH", {"W": [[1, 2]], "b": [0]}, 422, "W"),  # one class
    ("PATCH", {"W": [[1, 2]] * 11, "b": [0] * 11}, 422, "W"),  # eleven classes
    ("PATCH", {"W": [[1, 2], [3, 4]]}, 422, "W"),  # 2 rows, 3 biases, labels up to 2
    ("PATCH", raw('{"W": [[NaN, 2], [2, -4], [3, -1]]}'), 422, "W"),
    ("PATCH", {"W": [["1", 2], [2, -4], [3, -1]]}, 422, "W"),
    ("PATCH", {"W": [[1e308, 2], [2, -4], [3, -1]]}, 422, "W"),
    ("PATCH", {"b": [0, 0]}, 422, "b"),
    ("PATCH", {"b": [[0], [0], [0]]}, 422, "b"),
    ("PATCH", raw('{"b": [Infinity, 0, 0]}'), 422, "b"),
    ("PATCH", {"b": "abc"}, 422, "b"),
    ("PATCH", {"X": [], "y": []}, 422, "X"),  # empty data
    ("PATCH", {"X": [[1, 2], [3]] + GOOD_X[2:]}, 422, "X"),  # ragged
    ("PATCH", {"X": [[1, 2, 3]] * 9}, 422, "X"),
    ("PATCH", raw('{"X": [[-Infinity, 0]' + ", [0, 0]" * 8 + "]}"), 422, "X"),
    ("PATCH", {"X": GOOD_X[:8]}, 422, "X"),  # 8 points, 9 labels
    ("PATCH", {"X": points(10_001), "y": [0] * 10_001}, 422, "X"),  # 10,001 points
    ("PATCH", {"y": GOOD_Y[:-1] + [3]}, 422, "y"),  # label out of range for 3 classes
    ("PATCH", {"y": GOOD_Y[:-1] + [-1]}, 422, "y"),
    ("PATCH", {"y": GOOD_Y[:-1] + [1.5]}, 422, "y"),  # not an integer
    ("PATCH", {"y": GOOD_Y[:-1] + [2.0]}, 422, "y"),  # not an integer either (strict)
    ("PATCH", {"y": GOOD_Y[:-1] + ["2"]}, 422, "y"),
    ("PATCH", {"y": GOOD_Y[:-1] + [True]}, 422, "y"),
    ("PATCH", {"y": []}, 422, "y"),
    ("PATCH", {"stepsize": 0.1}, 422, "unknown field"),  # unknown fields: named by place, never echoed
    ("PATCH", {"steps": 5}, 422, "unknown field"),
    ("PATCH", [], 422, "body"),
    ("PATCH", "softmax", 422, "body"),
    ("PATCH", None, 422, "body"),
    ("PATCH ?detail=everything", {"reg": 0.5}, 422, "detail"),
    # step
    ("POST /step", {"steps": 0}, 422, "steps"),
    ("POST /step", {"steps": -1}, 422, "steps"),
    ("POST /step", {"steps": 10_001}, 422, "steps"),
    ("POST /step", {"steps": 10**12}, 422, "steps"),
    ("POST /step", {"steps": 2**64}, 422, "steps"),
    ("POST /step", {"steps": 1e9}, 422, "steps"),
    ("POST /step", {"steps": 2.5}, 422, "steps"),
    ("POST /step", {"steps": "5"}, 422, "steps"),
    ("POST /step", {"steps": True}, 422, "steps"),
    ("POST /step", {"steps": None}, 422, "steps"),
    ("POST /step", raw('{"steps": NaN}'), 422, "steps"),
    ("POST /step", {"step": 5}, 422, "unknown field"),
    ("POST /step", {"steps": 5, "fast": True}, 422, "unknown field"),
    ("POST /step", [5], 422, "body"),
    ("POST /step?detail=x", {"steps": 5}, 422, "detail"),
    # reset
    ("POST /reset", {"params": "zero"}, 422, "params"),
    ("POST /reset", {"seed": -1}, 422, "seed"),
    ("POST /reset", {"seed": 2**63}, 422, "seed"),
    ("POST /reset", {"seed": 1.5}, 422, "seed"),
    ("POST /reset", {"seed": "1"}, 422, "seed"),
    ("POST /reset", {"data": "spiral"}, 422, "data"),
    ("POST /reset", {"data": "blobs", "n": 0}, 422, "n"),
    ("POST /reset", {"data": "blobs", "n": 10_001}, 422, "n"),
    ("POST /reset", {"data": "blobs", "n": 5000, "classes": 3}, 422, "n"),  # 15,000 points in all
    ("POST /reset", {"data": "blobs", "n": 5.5}, 422, "n"),
    ("POST /reset", {"classes": 1}, 422, "classes"),
    ("POST /reset", {"classes": 11}, 422, "classes"),
    ("POST /reset", {"classes": 2}, 422, "classes"),  # the labels need 3
    ("POST /reset", {"classes": "3"}, 422, "classes"),
    ("POST /reset", {"dataset": "moons"}, 422, "unknown field"),
    # the lab's queries
    ("GET /surface?p1=W[9,0]", None, 422, "p1"),
    ("GET /surface?p1=" + "W" * 21, None, 422, "p1"),
    ("GET /surface?p1=b[0]&p2=b[0]", None, 422, "p2"),
    ("GET /surface?p2=x", None, 422, "p2"),
    ("GET /surface?span=0", None, 422, "span"),
    ("GET /surface?span=-1", None, 422, "span"),
    ("GET /surface?span=nan", None, 422, "span"),
    ("GET /surface?span=inf", None, 422, "span"),
    ("GET /surface?span=1e308", None, 422, "span"),
    ("GET /surface?n=1", None, 422, "n"),
    ("GET /surface?n=1000000", None, 422, "n"),
    ("GET /surface?n=abc", None, 422, "n"),
    ("GET /line?direction=W[0,5]", None, 422, "direction"),
    ("GET /line?n=0", None, 422, "n"),
    ("GET /line?span=x", None, 422, "span"),
    ("GET ?detail=all", None, 422, "detail"),
    # new sessions: nothing is created
    ("create", {"seed": -1}, 422, "seed"),
    ("create", {"seed": "x"}, 422, "seed"),
    ("create", {"step_size": 1001}, 422, "step_size"),
    ("create", raw('{"reg": NaN}'), 422, "reg"),
    ("create", {"W": [[1, 2], [3]]}, 422, "W"),
    ("create", {"X": points(10_001), "y": [0] * 10_001}, 422, "X"),
    ("create", {"y": [5] * 9}, 422, "y"),
    ("create", {"color": "red"}, 422, "unknown field"),
    ("create", [1, 2], 422, "body"),
    # imports: nothing is created
    ("import", lambda r: {**r, "format": "other/1"}, 422, "format"),
    ("import", lambda r: {**r, "history": []}, 422, "history"),
    ("import", lambda r: {**r, "history": ["NaN"]}, 422, "history"),
    ("import", lambda r: {**r, "history": [1.0] * (r["step"] + 5)}, 422, "history"),
    ("import", lambda r: {**r, "step": -1}, 422, "step"),
    ("import", lambda r: {**r, "segments": [[0, "adam"]]}, 422, "segments"),
    ("import", lambda r: {**r, "rng_state": {"state": "garbage"}}, 422, "rng_state"),
    ("import", lambda r: {**r, "y": [7] * len(r["y"])}, 422, "y"),
    ("import", lambda r: {**r, "b": [0.0]}, 422, "b"),
    ("import", lambda r: {**r, "X": points(10_001), "y": [0] * 10_001}, 422, "X"),
    ("import", lambda r: {**r, "settings": {**r["settings"], "step_size": -1}}, 422, "settings"),
    ("import", lambda r: {**r, "extra": 1}, 422, "unknown field"),
    ("import", lambda r: {k: v for k, v in r.items() if k != "W"}, 422, "W"),
    # the body itself
    ("PATCH", raw('{"reg": 0.2,}'), 422, "invalid JSON"),
    ("POST /step", raw('{"steps": 1'), 422, "invalid JSON"),
    ("PATCH", raw(b'{"loss_type": "\xff"}'), 400, "UTF-8"),
    ("PATCH", raw("[" * 100_000 + "]" * 100_000), 400, "nested too deeply"),
    ("PATCH", raw(b""), 422, "body"),
    ("POST /step", raw('{"steps": 1' + " " * MAX + "}"), 413, "too large"),
    ("create", raw('{"seed": 1' + " " * MAX + "}"), 413, "too large"),
    ("import", lambda r: raw(json.dumps(r) + " " * MAX), 413, "too large"),
]
# wrong content types, on every route that takes a body
CASES += [(where, ("text/plain", b'{"steps": 1}'), 415, "Content-Type") for where in ("POST /step", "POST /reset", "create")]
CASES += [("PATCH", ("application/x-www-form-urlencoded", b"reg=0.5"), 415, "Content-Type"),
          ("import", ("multipart/form-data; boundary=x", b"--x--"), 415, "Content-Type"),
          ("POST /step", (None, b'{"steps": 1}'), 415, "Content-Type")]


def case_id(case):
    where, body, status, words = case
    shown = body if isinstance(body, bytes | tuple) else "record" if callable(body) else json.dumps(body)
    return f"{where}-{status}-{str(shown)[:50]}"


def finite_json(r):
    """The body parsed, failing on NaN or ±Infinity (which are not JSON)."""
    def reject(token):
        raise AssertionError(f"{token} in the response")
    return json.loads(r.text, parse_constant=reject)


def snapshot(client, sid):
    """Everything observable about the session, and how many sessions there are."""
    count = client.portal.call(client.app.state.store.count)
    return client.get(f"/api/sessions/{sid}").content, client.get(f"/api/sessions/{sid}/export").content, count


def send(client, sid, where, body, record):
    if where in ("create", "import"):
        method, url = "POST", "/api/sessions" + ("/import" if where == "import" else "")
    else:
        method, _, path = where.partition(" ")
        url = f"/api/sessions/{sid}{path}"
    body = body(record) if callable(body) else body
    if isinstance(body, tuple):  # (content type, bytes)
        kind, content = body
        return client.request(method, url, content=content, headers={"Content-Type": kind} if kind else {})
    if method == "GET":
        return client.request(method, url)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.request(method, url, content=content, headers=JSON_TYPE)


@pytest.fixture
def trained(client):
    """A session with a history and a used random generator."""
    sid = client.post("/api/sessions", json={"seed": 5, "optimizer": "sgd", "batch_size": 3}).json()["id"]
    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).status_code == 200
    return sid


@pytest.mark.parametrize("where, body, status, words", CASES, ids=map(case_id, CASES))
def test_bad_input_is_a_4xx_naming_the_problem_and_changes_nothing(client, trained, where, body, status, words):
    before = snapshot(client, trained)
    r = send(client, trained, where, body, json.loads(before[1]))
    assert r.status_code == status, r.text
    detail = finite_json(r)["detail"]
    if status == 422:
        names = [d["msg"].split(":")[0].split(".")[0] for d in detail]
        assert words in names or any(words in d["msg"] for d in detail), detail
        assert all(set(d) == {"loc", "msg", "type"} for d in detail)  # the input is never echoed back
    else:
        assert words in detail
    assert r.headers["content-type"] == "application/json"
    assert snapshot(client, trained) == before


def test_a_body_streamed_past_the_limit_is_a_413(client, trained):
    before = snapshot(client, trained)
    chunks = (b'{"steps": 1' if i == 0 else b" " * 65536 for i in range(40))  # no Content-Length: chunked
    r = client.post(f"/api/sessions/{trained}/step", content=chunks, headers=JSON_TYPE)
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert snapshot(client, trained) == before


def test_a_body_just_under_the_limit_is_accepted(client, trained):
    body = '{"steps": 2}'
    r = client.post(f"/api/sessions/{trained}/step", content=body + " " * (MAX - len(body)), headers=JSON_TYPE)
    assert r.status_code == 200 and r.json()["step"] == 5


# --- divergence: the largest step sizes ---------------------------------------------------------------
# null without a test set or while not diverging; the original points' preset has no seed, n, classes, noise
NULLABLE = {"last_batch", "X_test", "y_test", "test_loss", "test_accuracy", "test_history", "divergence_cause",
            "preset.seed", "preset.n", "preset.classes", "preset.noise"}


def assert_finite(value, path="state"):
    """No NaN or Infinity anywhere, and no null but the ones the schema allows."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not (v is None and (k in NULLABLE or f"{path.rpartition('.')[2]}.{k}" in NULLABLE)):
                assert_finite(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_finite(v, f"{path}[{i}]")
    else:
        assert value is not None, f"{path} is null"


@pytest.mark.parametrize("loss_type", ["svm_ww", "svm_ova", "svm_structured", "softmax"])
@pytest.mark.parametrize("optimizer, reg", [("gd", 0.1), ("gd", 1000), ("gd", 0), ("sgd", 0.1)])
def test_the_largest_step_size_never_puts_nan_or_infinity_in_the_state(client, loss_type, optimizer, reg):
    s = client.post("/api/sessions", json={"loss_type": loss_type, "optimizer": optimizer, "reg": reg,
                                          "step_size": 1000, "seed": 1}).json()
    for _ in range(2):  # the second run starts from wherever the first stopped
        before = s["step"]
        r = client.post(f"/api/sessions/{s['id']}/step", json={"steps": 10_000})
        assert r.status_code == 200
        s = finite_json(r)
        assert_finite(s)
        assert s["diverged"] == (s["step"] - before < 10_000) and len(s["history"]) == s["step"] - before
    for path in ("", "/export", "/gradcheck", "/surface", "/line"):
        r = client.get(f"/api/sessions/{s['id']}{path}")
        assert r.status_code == 200
        assert_finite(finite_json(r)) if path in ("", "/gradcheck") else finite_json(r)

    r = client.post(f"/api/sessions/{s['id']}/reset")
    fresh = client.post("/api/sessions", json={"loss_type": loss_type, "optimizer": optimizer, "reg": reg}).json()
    assert r.status_code == 200
    s = finite_json(r)
    keep = ("W", "b", "loss", "dW", "db", "history", "step", "diverged")
    assert {k: s[k] for k in keep} == {k: fresh[k] for k in keep}
    s = client.patch(f"/api/sessions/{s['id']}", json={"step_size": 0.1 / (1 + reg)}).json()  # a stable one
    s = finite_json(client.post(f"/api/sessions/{s['id']}/step", json={"steps": 20}))
    assert_finite(s)
    assert not s["diverged"] and s["step"] == 20 and s["loss"] < fresh["loss"]
