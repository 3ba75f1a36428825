"""Only ids of the shape the server issues reach a store, and no id can name an internal key: the Redis
store's keys live in namespaces (``s:``, ``h:``, ``l:`` for a session's state, history and lock, ``meta:`` for
the indexes) that no id maps into."""

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Config
from app.main import create_app

ROUTES = [("get", ""), ("get", "/export"), ("get", "/gradcheck"), ("get", "/surface"), ("get", "/line"),
          ("patch", ""), ("post", "/step"), ("post", "/reset"), ("delete", "")]
# path segments as sent (percent-encoded: "%0A" reaches the server as a trailing newline, which "$" would allow)
ILL_SHAPED = ["used", "meta:used", "meta:total", "x" * 31, "x" * 33, "+" * 32, "=" * 32, "." * 32, "é" * 32,
              "a" * 32 + "%0A", "a" * 31 + "%20", "a" * 31 + "%00", "A" * 32 + ":history", "s:" + "A" * 30,
              "٠" * 32]  # Arabic-Indic digits: \w would take them


class Spy:
    """A store that records every call made to it and passes it on."""

    def __init__(self, store):
        self.store, self.calls = store, []

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if callable(attr):
            def record(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)
            return record
        return attr


@pytest.mark.parametrize("method, path", ROUTES)
def test_an_id_not_of_the_issued_shape_is_a_404_before_the_store_is_asked(config, method, path):
    app = create_app(config)
    with TestClient(app) as client:
        spy = app.state.store = Spy(app.state.store)
        for sid in ILL_SHAPED:
            kw = {"json": {}} if method in ("patch", "post") else {}
            r = client.request(method, f"/api/sessions/{sid}{path}", **kw)
            assert (r.status_code, r.json()) == (404, {"detail": "Session not found"}), sid
        assert spy.calls == []
        sid = client.post("/api/sessions").json()["id"]  # and a real one is served
        assert client.get(f"/api/sessions/{sid}").status_code == 200 and "open" in spy.calls


KEY = re.compile(r"linclass:(?:[shl]:[A-Za-z0-9_-]{32}|meta:.+)")


def test_internal_redis_keys_are_out_of_every_id_s_reach(redis_url, redis_db):
    with TestClient(create_app(Config(session_store=redis_url, max_sessions=50))) as client:
        sid = client.post("/api/sessions", json={"optimizer": "sgd"}).json()["id"]
        assert client.post(f"/api/sessions/{sid}/step", json={"steps": 5}).status_code == 200
        keys = sorted(k.decode() for k in redis_db.keys("*"))
        assert all(KEY.fullmatch(k) for k in keys), keys
        assert {"linclass:meta:used", f"linclass:s:{sid}", f"linclass:h:{sid}"} <= set(keys)
        before = {k: redis_db.dump(k) for k in keys if k != "linclass:meta:used"}  # its scores are use times
        attacks = [("delete", "used"), ("get", "used"), ("delete", "meta:used"), ("get", "meta:total"),
                   ("delete", f"{sid}:history"), ("delete", f"s:{sid}"), ("post", f"{sid}:history/reset"),
                   ("delete", f"{sid}:lock"), ("delete", f"h:{sid}")]
        for method, path in attacks:
            r = client.request(method, f"/api/sessions/{path}")
            assert r.status_code in (404, 405), (method, path, r.status_code)
        assert {k: redis_db.dump(k) for k in before} == before and redis_db.zcard("linclass:meta:used") == 1
        r = client.post(f"/api/sessions/{sid}/step")  # the session is whole
        assert r.status_code == 200 and r.json()["step"] == 6
        # and the index still caps the store
        for _ in range(60):
            assert client.post("/api/sessions").status_code == 201
        assert redis_db.zcard("linclass:meta:used") == 50 and len(redis_db.keys("linclass:s:*")) == 50
