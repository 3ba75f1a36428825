"""Imports validated completely, on each store: any record that is not what an export could be is a 422 that
names the field, nothing is created, and no input of any shape is a 500 or leaves a session that later is.
And null for any field of a creation or an edit is a 422 naming it (leaving a field out is how to omit it)."""

import json

import pytest

import app.core.trainer
from app.core.trainer import MAX_HISTORY
from app.schemas import SETTING_FIELDS

BIG = 2**64


def count(client):
    return client.portal.call(client.app.state.store.count)


@pytest.fixture
def record(client):
    """An export of a session that used its generator (sgd) and changed optimizer once."""
    sid = client.post("/api/sessions", json={"seed": 5, "optimizer": "sgd", "batch_size": 3}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    client.patch(f"/api/sessions/{sid}", json={"optimizer": "random_search"})
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    r = client.get(f"/api/sessions/{sid}/export").json()
    assert r["rng_state"] is not None and len(r["segments"]) == 2 and r["tries"] == 2
    return r


def nested(depth):
    value = 0
    for _ in range(depth):
        value = {"a": value}
    return value


def rng(change):
    return lambda r: {**r, "rng_state": change(json.loads(json.dumps(r["rng_state"])))}


def with_inner(**words):
    def change(state):
        state["state"].update(words)
        return state
    return rng(change)


BAD = [  # (name, change to the record, the field the message must name)
    *[(f"{k}>=2^64", lambda r, k=k: {**r, k: BIG}, k) for k in ("step", "history_start", "loss_evals", "tries", "accepted")],
    *[(f"{k}=2^53", lambda r, k=k: {**r, k: 2**53}, k) for k in ("step", "history_start", "loss_evals", "tries", "accepted")],
    ("step=2^64-1", lambda r: {**r, "step": BIG - 1}, "step"),
    ("segments>=2^64", lambda r: {**r, "segments": [[BIG, "gd"]]}, "segments"),
    ("segments unordered", lambda r: {**r, "segments": [[3, "gd"], [0, "sgd"]]}, "segments"),
    ("segments after step", lambda r: {**r, "segments": [[0, "gd"], [r["step"] + 1, "sgd"]]}, "segments"),
    ("segments start after history", lambda r: {**r, "segments": [[1, "gd"]]}, "segments"),
    ("segments empty", lambda r: {**r, "segments": []}, "segments"),
    ("last_batch>=2^64", lambda r: {**r, "last_batch": [BIG]}, "last_batch"),
    ("last_batch beyond the points", lambda r: {**r, "last_batch": [0, 9]}, "last_batch"),
    ("last_batch too long", lambda r: {**r, "last_batch": [0] * 10}, "last_batch"),
    ("accepted > tries", lambda r: {**r, "accepted": r["tries"] + 1}, "accepted"),
    ("history shorter than the steps", lambda r: {**r, "history": r["history"][1:]}, "history"),
    ("history longer than the steps", lambda r: {**r, "history": r["history"] + [1.0]}, "history"),
    ("history over its cap", lambda r: {**r, "history": [1.0] * (MAX_HISTORY + 1), "step": MAX_HISTORY}, "history"),
    ("seed>=2^64", lambda r: {**r, "seed": BIG}, "seed"),
    ("diverged as a number", lambda r: {**r, "diverged": 1}, "diverged"),
    ("rng_state nested 255 deep", lambda r: {**r, "rng_state": nested(255)}, "rng_state"),
    ("rng_state extra key", rng(lambda s: {**s, "junk": "x" * 1000}), "rng_state"),
    ("rng_state inner extra key", with_inner(junk="1"), "rng_state"),
    ("rng_state other generator", rng(lambda s: {**s, "bit_generator": "MT19937"}), "rng_state"),
    ("rng_state state>=2^128", with_inner(state=str(2**128)), "rng_state"),
    ("rng_state inc>=2^128", with_inner(inc=str(2**128 + 1)), "rng_state"),
    ("rng_state inc even", with_inner(inc="4"), "rng_state"),
    ("rng_state state negative", with_inner(state="-1"), "rng_state"),
    ("rng_state state as a number", with_inner(state=12345), "rng_state"),
    ("rng_state state unicode digits", with_inner(state="١٢٣"), "rng_state"),
    ("rng_state has_uint32=2", rng(lambda s: {**s, "has_uint32": 2}), "rng_state"),
    ("rng_state uinteger=2^32", rng(lambda s: {**s, "uinteger": 2**32}), "rng_state"),
    ("rng_state uinteger>=2^64", rng(lambda s: {**s, "uinteger": BIG}), "rng_state"),
    ("rng_state missing key", rng(lambda s: {k: v for k, v in s.items() if k != "uinteger"}), "rng_state"),
    ("rng_state a list", lambda r: {**r, "rng_state": [1, 2]}, "rng_state"),
]


@pytest.mark.parametrize("name, change, field", BAD, ids=[b[0] for b in BAD])
def test_an_invalid_record_is_a_422_naming_the_field_and_creates_nothing(client, record, name, change, field):
    before = count(client)
    r = client.post("/api/sessions/import", json=change(record))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["msg"].split(":")[0].split(".")[0] == field, detail
    assert count(client) == before


def test_the_largest_counts_are_accepted_and_the_session_keeps_working(client, record):
    """Up to 2^53 − 1 after a last request of 10,000 steps (random search, which counts its tries)."""
    top = 2**53 - 1 - 10_000
    big = {**record, "step": top, "history_start": top - len(record["history"]) + 1, "loss_evals": 2**53 - 1,
           "segments": [[0, "sgd"], [top - 2, "random_search"]], "tries": top, "accepted": top}
    r = client.post("/api/sessions/import", json=big)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10_000})
    assert r.status_code == 200 and r.json()["step"] == 2**53 - 1 and r.json()["search"]["tries"] == 2**53 - 1
    for path in ("", "/export", "/gradcheck", "/surface", "/line"):
        assert client.get(f"/api/sessions/{sid}{path}").status_code == 200
    exported = client.get(f"/api/sessions/{sid}/export").json()
    assert client.post("/api/sessions/import", json=exported).status_code == 201


def test_counts_trained_past_the_import_bound_keep_working(client, record):
    """The bound is on what is imported; a session trains on past it, and each store reads it back."""
    top = 2**53 - 1
    big = {**record, "step": top, "history_start": top - len(record["history"]) + 1,
           "segments": [[0, "sgd"], [top - 2, "random_search"]], "tries": top, "accepted": 0}
    sid = client.post("/api/sessions/import", json=big).json()["id"]
    for _ in range(2):
        r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10_000}, params={"detail": "summary"})
        assert r.status_code == 200 and r.json()["search"]["tries"] == r.json()["step"]
    assert r.json()["step"] == top + 20_000
    for path in ("", "/export", "/gradcheck"):
        assert client.get(f"/api/sessions/{sid}{path}").status_code == 200
    exported = client.get(f"/api/sessions/{sid}/export").json()
    assert client.post("/api/sessions/import", json=exported).json()["detail"][0]["msg"].startswith("step")


def test_new_data_forget_the_last_minibatch_which_indexed_the_old_points(client):
    sid = client.post("/api/sessions", json={"optimizer": "sgd", "batch_size": 9}).json()["id"]
    assert client.post(f"/api/sessions/{sid}/step").json()["last_batch"] == list(range(9))
    r = client.patch(f"/api/sessions/{sid}", json={"X": [[0, 0], [1, 1], [0, 1]], "y": [0, 1, 2]})
    assert r.status_code == 200 and r.json()["last_batch"] is None
    assert client.get(f"/api/sessions/{sid}").status_code == 200  # on Redis, read back from the stored record
    assert client.post("/api/sessions/import", json=client.get(f"/api/sessions/{sid}/export").json()).status_code == 201


def test_an_export_carries_exactly_the_generator_state_and_imports_back(client, record):
    assert set(record["rng_state"]) == {"bit_generator", "state", "has_uint32", "uinteger"}
    assert set(record["rng_state"]["state"]) == {"state", "inc"}
    r = client.post("/api/sessions/import", json=record)
    twin = client.get(f"/api/sessions/{r.json()['id']}/export").json()
    assert twin == record


def test_a_trimmed_history_and_its_segments_import_back(client, monkeypatch):
    monkeypatch.setattr(app.core.trainer, "MAX_HISTORY", 20)
    sid = client.post("/api/sessions", json={"seed": 1}).json()["id"]
    for optimizer in ("sgd", "gd", "random_search", "sgd"):
        client.patch(f"/api/sessions/{sid}", json={"optimizer": optimizer})
        client.post(f"/api/sessions/{sid}/step", json={"steps": 8})
    record = client.get(f"/api/sessions/{sid}/export").json()
    # the segments before the kept history went with it, but for the one it starts in
    assert (record["step"], record["history_start"], len(record["history"])) == (32, 13, 20)
    assert record["segments"] == [[8, "gd"], [16, "random_search"], [24, "sgd"]]
    r = client.post("/api/sessions/import", json=record)
    assert r.status_code == 201 and client.get(f"/api/sessions/{r.json()['id']}/export").json() == record
    over = {**record, "history": [1.0] * 21, "history_start": 12}
    assert client.post("/api/sessions/import", json=over).json()["detail"][0]["msg"].startswith("history")


FIELDS = [*SETTING_FIELDS, "W", "b", "X", "y"]


@pytest.mark.parametrize("field", FIELDS + ["seed"])
def test_null_for_a_field_of_a_new_session_is_a_422_naming_it(client, field):
    before = count(client)
    r = client.post("/api/sessions", json={field: None})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].split(":")[0] == field
    assert count(client) == before


@pytest.mark.parametrize("field", FIELDS)
def test_null_for_a_field_of_an_edit_is_a_422_naming_it(client, session, field):
    sid = session["id"]
    before = client.get(f"/api/sessions/{sid}/export").content
    valid = {"reg": 0.5} if field != "reg" else {"step_size": 0.2}  # and nothing of the valid change applied
    r = client.patch(f"/api/sessions/{sid}", json={field: None, **valid})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].split(":")[0] == field
    assert client.get(f"/api/sessions/{sid}/export").content == before


@pytest.mark.parametrize("field", ["seed", "data", "n", "classes"])
def test_null_for_a_field_of_a_reset_is_a_422_naming_it(client, session, field):
    r = client.post(f"/api/sessions/{session['id']}/reset", json={field: None})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].split(":")[0] == field


def test_a_history_far_over_its_cap_is_refused_before_the_body_is_validated(client):
    """A million-entry history (2 MB) is refused by the import route's first check (app/api/import_guard.py),
    with its message (the validation, which held the event loop ~300 ms, would say "List should have at most…",
    and name the other fields missing); a body that cannot hold that many entries goes on as before."""
    from app.api import import_guard

    body = b'{"history": [' + b",".join([b"0"] * 1_000_000) + b'], "W": [[1, 2]]}'
    assert import_guard.history_over_cap(body) == 1_000_000
    r = client.post("/api/sessions/import", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body", "history"], "msg": f"history: must have at most {MAX_HISTORY:,} "
                                   "entries", "type": "value_error"}]
    assert import_guard.history_over_cap(b'{"history": [' + b",".join([b"0"] * MAX_HISTORY) + b"]}") is None
    commas = b",".join([b"0"] * 200_000)
    assert import_guard.history_over_cap(b"[" + commas + b"]") is None  # no history
    assert import_guard.history_over_cap(b'{"test_history": [' + commas + b"]}") is None  # another key
    assert import_guard.history_over_cap(b'{"x": "\\"history\\": [' + commas + b']"}') is None  # in a string
    assert import_guard.history_over_cap(b'{"history" :\n [' + commas + b"]}") == 200_000
