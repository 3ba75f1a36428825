"""Safe retries (RFC 9110 conditional requests), on each store: every state response carries a strong ETag of
the session's current state; PATCH, step, reset and DELETE honour If-Match, and a mismatch is a 412 with the
current ETag that changes nothing. So a step retried after a lost answer (or a 503) is never applied twice."""

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Config
from app.main import create_app
from app.sessions import StoreUnavailable

STRONG = re.compile(r'"[\x21\x23-\x7e]+"')  # RFC 9110: a strong entity-tag (no W/), its characters
CHANGES = [("patch", "", {"reg": 0.5}), ("post", "/step", {"steps": 2}), ("post", "/reset", {"params": "random"}),
           ("delete", "", None)]


def url(sid, path=""):
    return f"/api/sessions/{sid}{path}"


def send(client, method, sid, path, body, if_match=None):
    headers = {} if if_match is None else {"If-Match": if_match}
    return client.request(method, url(sid, path), json=body, headers=headers)


def test_every_state_response_carries_the_etag_of_the_current_state(client):
    created = client.post("/api/sessions", json={"seed": 1})
    sid, tags = created.json()["id"], [created.headers["etag"]]
    read = client.get(url(sid))
    assert read.headers["etag"] == tags[0] and client.get(url(sid), params={"detail": "summary"}).headers["etag"] == tags[0]
    for method, path, body in CHANGES[:3]:
        r = send(client, method, sid, path, body)
        assert r.status_code == 200
        tags.append(r.headers["etag"])
        assert client.get(url(sid)).headers["etag"] == tags[-1]  # the state the change left
    imported = client.post("/api/sessions/import", json=client.get(url(sid, "/export")).json())
    tags.append(imported.headers["etag"])
    tags.append(client.post("/api/sessions").headers["etag"])
    assert all(STRONG.fullmatch(tag) for tag in tags) and len(set(tags)) == len(tags)
    # reads change nothing: the lab's and the export's
    for path in ("/gradcheck", "/surface", "/line", "/export"):
        assert client.get(url(sid, path)).status_code == 200
    assert client.get(url(sid)).headers["etag"] == tags[3]


@pytest.mark.parametrize("method, path, body", CHANGES, ids=[m + p for m, p, _ in CHANGES])
def test_a_stale_if_match_is_a_412_with_the_current_etag_and_changes_nothing(client, method, path, body):
    first = client.post("/api/sessions", json={"seed": 4, "optimizer": "sgd"})
    sid, stale = first.json()["id"], first.headers["etag"]
    current = client.post(url(sid, "/step")).headers["etag"]
    before = client.get(url(sid, "/export")).content
    for if_match in (stale, f"W/{current}", current.strip('"'), f'"{"0" * 24}"', "", f"{stale}, W/{current}", "garbage"):
        r = send(client, method, sid, path, body, if_match)
        assert r.status_code == 412 and r.headers["etag"] == current, if_match
        assert r.json() == {"detail": "Precondition failed: the session has changed since the ETag sent in "
                                      "If-Match; GET it again"}
        assert client.get(url(sid, "/export")).content == before
    r = send(client, method, sid, path, body, f'{stale}, {current}')  # a list holding the current tag matches
    assert r.status_code == (204 if method == "delete" else 200)
    assert client.get(url(sid)).status_code == (404 if method == "delete" else 200)


@pytest.mark.parametrize("method, path, body", CHANGES, ids=[m + p for m, p, _ in CHANGES])
def test_if_match_star_or_the_current_etag_applies_the_change(client, method, path, body):
    for if_match in ("*", None, "current"):
        created = client.post("/api/sessions", json={"seed": 2})
        sid, tag = created.json()["id"], created.headers["etag"]
        r = send(client, method, sid, path, body, tag if if_match == "current" else if_match)
        assert r.status_code == (204 if method == "delete" else 200)
        if method == "delete":
            assert client.get(url(sid)).status_code == 404
        else:
            assert tag != r.headers["etag"] == client.get(url(sid)).headers["etag"]


def test_a_retried_step_is_never_applied_twice(client):
    r = client.post("/api/sessions", json={"seed": 3, "optimizer": "random_search"})
    sid, tag = r.json()["id"], r.headers["etag"]
    first = send(client, "post", sid, "/step", {"steps": 5}, tag)
    retry = send(client, "post", sid, "/step", {"steps": 5}, tag)  # as if the first answer had been lost
    assert first.status_code == 200 and retry.status_code == 412 and retry.headers["etag"] == first.headers["etag"]
    state = client.get(url(sid)).json()
    assert state["step"] == 5 and state["search"]["tries"] == 5
    nxt = send(client, "post", sid, "/step", {"steps": 5}, retry.headers["etag"])  # the client caught up
    assert nxt.status_code == 200 and nxt.json()["step"] == 10


def test_an_unknown_session_is_a_404_whatever_if_match_says(client):
    sid = client.post("/api/sessions").json()["id"]
    assert client.delete(url(sid)).status_code == 204
    for method, path, body in CHANGES:
        assert send(client, method, sid, path, body, '"abc"').status_code == 404


def test_the_openapi_schema_documents_etags_if_match_412_and_429(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/api/sessions/{sid}", "patch"), ("/api/sessions/{sid}/step", "post"),
                         ("/api/sessions/{sid}/reset", "post"), ("/api/sessions/{sid}", "delete")):
        op = paths[path][method]
        assert "412" in op["responses"] and "ETag" in op["responses"]["412"]["headers"]
        assert any(p["name"] == "if-match" and p["in"] == "header" for p in op["parameters"])
    for path, method, status in (("/api/sessions/{sid}", "get", "200"), ("/api/sessions", "post", "201"),
                                 ("/api/sessions/import", "post", "201"), ("/api/sessions/{sid}/step", "post", "200")):
        assert "ETag" in paths[path][method]["responses"][status]["headers"]
    for path in ("/api/sessions", "/api/sessions/import"):
        assert "Retry-After" in paths[path]["post"]["responses"]["429"]["headers"]


# --- Redis faults: a 503 may or may not have been applied; If-Match makes the retry safe either way ----------
@pytest.fixture
def redis_client(redis_url, redis_db):
    app = create_app(Config(session_store=redis_url))
    with TestClient(app) as client:
        yield client, app.state.store


def test_a_503_for_a_lost_lock_was_not_applied_and_its_retry_is(redis_client, redis_db, monkeypatch):
    client, store = redis_client
    r = client.post("/api/sessions", json={"seed": 5})
    sid, tag = r.json()["id"], r.headers["etag"]
    save = store._save

    async def lose_the_lock(sid_, token, trainer, loaded):
        redis_db.delete(f"linclass:l:{sid_}")  # as if its lease had run out
        return await save(sid_, token, trainer, loaded)

    monkeypatch.setattr(store, "_save", lose_the_lock)
    r = send(client, "post", sid, "/step", {"steps": 3}, tag)
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "not applied" in r.json()["detail"]
    monkeypatch.setattr(store, "_save", save)
    assert client.get(url(sid)).headers["etag"] == tag
    retry = send(client, "post", sid, "/step", {"steps": 3}, tag)
    assert retry.status_code == 200 and retry.json()["step"] == 3


def test_a_503_after_the_write_was_applied_makes_the_retry_a_412(redis_client, monkeypatch):
    client, store = redis_client
    r = client.post("/api/sessions", json={"seed": 5})
    sid, tag = r.json()["id"], r.headers["etag"]
    save = store._save

    async def reply_lost(*args):
        await save(*args)  # Redis applied it, then the connection dropped before the answer came back
        raise StoreUnavailable("the session store is unreachable (ConnectionError)")

    monkeypatch.setattr(store, "_save", reply_lost)
    assert send(client, "post", sid, "/step", {"steps": 3}, tag).status_code == 503
    monkeypatch.setattr(store, "_save", save)
    retry = send(client, "post", sid, "/step", {"steps": 3}, tag)
    assert retry.status_code == 412
    state = client.get(url(sid))
    assert state.json()["step"] == 3 and state.headers["etag"] == retry.headers["etag"]
