"""The fast path (app.api.fast_path) answers the step route's usual requests as FastAPI's route does: the same
status, headers and JSON for successes and for every kind of error, and state responses that are exactly
:class:`app.schemas.SessionPublic`. A query string the fast path does not take sends the request to the route,
which gives the reference answer; a counter on the fast path's call proves which of the two answered."""

import pytest

from fastapi.testclient import TestClient

from app.api import fast_path
from app.main import create_app
from app.schemas import SessionPublic

WELL_SHAPED_UNKNOWN = "A" * 32


@pytest.fixture
def calls(monkeypatch):
    """How many requests the fast path itself answered."""
    seen = []
    take = fast_path.take_steps

    async def counted(*args):
        seen.append(args[1])
        return await take(*args)

    monkeypatch.setattr(fast_path, "take_steps", counted)
    return seen


def step(client, sid, body, route=False, detail="full", headers=None, content=None):
    """A step by the fast path, or (``route``) by FastAPI's route: an extra query parameter, which the route
    ignores, is one the fast path leaves to it."""
    query = f"?detail={detail}" + ("&via=route" if route else "")
    if content is not None:
        return client.post(f"/api/sessions/{sid}/step{query}", content=content, headers=headers)
    return client.post(f"/api/sessions/{sid}/step{query}", json=body, headers=headers)


def comparable(r):
    return r.status_code, r.content, [(k, v) for k, v in r.headers.multi_items() if k != "etag"], \
        "etag" in r.headers


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_a_step_by_the_fast_path_equals_the_routes_and_is_a_session_public(client, calls, detail):
    a, b = (client.post("/api/sessions", json={"seed": 7, "loss_type": "softmax"}).json()["id"] for _ in range(2))
    for steps in (1, 3):
        fast, slow = step(client, a, {"steps": steps}, detail=detail), step(client, b, {"steps": steps}, True, detail)
        assert fast.status_code == slow.status_code == 200
        fast_json, slow_json = fast.json(), slow.json()
        assert fast_json.pop("id") == a and slow_json.pop("id") == b
        assert fast_json == slow_json and fast_json["steps_taken"] == steps and fast_json["step"] == (
            1 if steps == 1 else 4)
        assert [k for k in fast.headers if k != "etag"] == [k for k in slow.headers if k != "etag"]
        assert fast.headers["etag"] == client.get(f"/api/sessions/{a}").headers["etag"] != slow.headers["etag"]
        body = fast.json()
        assert set(body) == set(SessionPublic.model_fields)
        assert SessionPublic.model_validate(body).model_dump(mode="json") == body
        assert (body["X"] is None) == (detail == "summary")
    assert calls == [a, a]


def test_no_body_is_one_step_and_the_default_detail_is_full(client, calls):
    sid = client.post("/api/sessions").json()["id"]
    r = client.post(f"/api/sessions/{sid}/step")
    assert r.status_code == 200 and r.json()["steps_taken"] == 1 and r.json()["X"] is not None
    assert calls == [sid]


@pytest.mark.parametrize("case", [
    {"sid": "nope"}, {"sid": WELL_SHAPED_UNKNOWN}, {"body": {"steps": 0}}, {"body": {"steps": "x"}},
    {"body": {"steps": 1, "extra": 2}}, {"content": b"{", "headers": {"Content-Type": "application/json"}},
    {"content": b"steps=1", "headers": {"Content-Type": "text/plain"}},
    {"headers": {"If-Match": '"0123456789abcdef01234567"'}}, {"headers": {"If-Match": 'W/"x", junk'}},
])
def test_errors_by_the_fast_path_equal_the_routes_and_change_nothing(client, calls, case):
    sid = client.post("/api/sessions").json()["id"]
    before = client.get(f"/api/sessions/{sid}").json()
    args = (case.get("sid", sid), case.get("body", {"steps": 1}))
    kw = {"headers": case.get("headers"), "content": case.get("content")}
    fast, slow = step(client, *args, **kw), step(client, *args, route=True, **kw)
    assert fast.status_code in (404, 412, 415, 422)
    assert comparable(fast) == comparable(slow)
    assert fast.headers.get("etag") == slow.headers.get("etag")
    assert client.get(f"/api/sessions/{sid}").json() == before
    assert len(calls) == (0 if fast.status_code == 415 else 1)  # the request guard refuses before either


def test_if_match_with_the_current_tag_or_a_star_applies_the_step_once(client, calls):
    created = client.post("/api/sessions")
    sid, tag = created.json()["id"], created.headers["etag"]
    first = step(client, sid, {"steps": 1}, headers={"If-Match": tag})
    assert first.status_code == 200 and first.json()["step"] == 1
    retry = step(client, sid, {"steps": 1}, headers={"If-Match": tag})
    assert retry.status_code == 412 and retry.headers["etag"] == first.headers["etag"]
    assert step(client, sid, {"steps": 1}, headers={"If-Match": "*"}).json()["step"] == 2
    assert calls == [sid] * 3


def test_the_fast_paths_answers_carry_the_security_headers(client):
    sid = client.post("/api/sessions").json()["id"]
    for r in (step(client, sid, {"steps": 1}), client.get("/api/health")):
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in \
            r.headers["content-security-policy"]
    assert client.get("/api/health").content == b'{"status":"ok"}'


def test_an_unexpected_error_is_a_plain_500_as_by_the_route_and_goes_to_the_log(config, monkeypatch):
    """Where no exception handler applies, the fast path answers as Starlette's ServerErrorMiddleware does for
    the route, and raises the error on (the server logs it)."""
    async def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(fast_path, "take_steps", broken)
    monkeypatch.setattr("app.api.sessions.take_steps", broken)
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False) as client:
        sid = client.post("/api/sessions").json()["id"]
        fast, slow = step(client, sid, {"steps": 1}), step(client, sid, {"steps": 1}, route=True)
    assert fast.status_code == slow.status_code == 500
    assert fast.content == slow.content == b"Internal Server Error"
    assert fast.headers["content-type"] == slow.headers["content-type"] == "text/plain; charset=utf-8"
    assert fast.headers["x-content-type-options"] == "nosniff"
    with TestClient(app) as client, pytest.raises(RuntimeError, match="a bug"):
        step(client, client.post("/api/sessions").json()["id"], {"steps": 1})


def test_step_bodies_parse_alike_whether_remembered_or_not():
    from fastapi.exceptions import RequestValidationError

    from app.api.sessions import SHORT_BODY, parse_step

    long = b'{"steps": 7' + b" " * SHORT_BODY + b"}"
    for body in (b'{"steps":7}', long, b'{"steps":7}', long):  # the short one is remembered the second time
        assert parse_step(body) == 7
    assert parse_step(b"") == 1
    for _ in range(2):  # an invalid body is refused every time, never remembered as some value
        with pytest.raises(RequestValidationError) as refused:
            parse_step(b'{"steps":0}')
        assert refused.value.errors()[0]["loc"] == ("body", "steps")
