"""Sessions are reachable only by their unguessable id; every response carries the security headers, and the
page runs no inline script."""

import base64
import re
from html.parser import HTMLParser

import pytest

ID = re.compile(r"[A-Za-z0-9_-]+")


def csp(response):
    """The Content-Security-Policy as {directive: [sources]}."""
    parts = (p.split() for p in response.headers["content-security-policy"].split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_ids_are_at_least_128_random_bits(client):
    ids = [client.post("/api/sessions").json()["id"] for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(ID.fullmatch(sid) for sid in ids)
    raw = [base64.urlsafe_b64decode(sid + "=" * (-len(sid) % 4)) for sid in ids]
    assert min(map(len, raw)) >= 16
    # random bits, not a counter or a clock: every bit position takes both values across 200 ids
    bits = [int.from_bytes(r, "big") for r in raw]
    width = 8 * min(map(len, raw))
    assert all(0 < sum((b >> i) & 1 for b in bits) < 200 for i in range(width))


def test_sessions_cannot_be_listed(client, session):
    for method, path in (("GET", "/api/sessions"), ("GET", "/api/sessions/"), ("GET", "/api/sessions/export"),
                         ("GET", "/api/sessions/*"), ("GET", "/api/sessions/%2A/export")):
        r = client.request(method, path)
        assert r.status_code in (404, 405), (path, r.status_code)
        assert session["id"] not in r.text
    paths = client.get("/openapi.json").json()["paths"]
    assert "get" not in paths["/api/sessions"]  # no listing route in the API at all


def test_a_session_cannot_be_read_without_its_exact_id(client, session):
    sid = session["id"]
    for guess in (sid[:-1], sid[:16], sid.upper() if sid.upper() != sid else sid.lower(), sid + "x", "0" * len(sid)):
        for path in ("", "/export", "/gradcheck"):
            r = client.get(f"/api/sessions/{guess}{path}")
            assert (r.status_code, r.json()) == (404, {"detail": "Session not found"})
    assert client.get(f"/api/sessions/{sid}").status_code == 200


def test_the_page_allows_scripts_from_this_origin_only(client):
    r = client.get("/")
    policy = csp(r)
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"


class Scripts(HTMLParser):
    """Collects inline script bodies, event-handler attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.sources, self.inline, self.handlers, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        self.handlers += [v for v in attrs.values() if v and v.strip().lower().startswith("javascript:")]
        if tag == "script":
            self._in_script = True
            self.sources.append(attrs.get("src"))

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:60])


def test_the_page_has_no_inline_script_for_the_policy_to_block(client):
    page = Scripts()
    page.feed(client.get("/").text)
    assert page.sources and all(src and src.startswith("/") for src in page.sources)
    assert page.inline == [] and page.handlers == []


def test_every_kind_of_response_carries_nosniff_and_a_policy(client, session):
    sid = session["id"]
    responses = [
        client.get(f"/api/sessions/{sid}"), client.post(f"/api/sessions/{sid}/step"),  # 200
        client.post("/api/sessions"), client.delete(f"/api/sessions/{client.post('/api/sessions').json()['id']}"),
        client.get("/api/sessions/nope"),  # 404
        client.patch(f"/api/sessions/{sid}", json={"reg": -1}),  # 422
        client.post(f"/api/sessions/{sid}/step", content=b"{}", headers={"Content-Type": "text/plain"}),  # 415
        client.post(f"/api/sessions/{sid}/step", content=b" " * (2 * 1024 * 1024 + 1),
                    headers={"Content-Type": "application/json"}),  # 413
        client.get("/api/health"), client.get("/openapi.json"), client.get("/favicon.ico"),
        client.get("/vendor/plotly.min.js"), client.get("/no/such/page"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 201, 204, 404, 422, 415, 413, 200, 200, 200, 200, 404]
    for r in responses:
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        policy = csp(r)
        assert "'unsafe-inline'" not in policy.get("script-src", policy["default-src"]), r.url  # its fallback
        assert policy["frame-ancestors"] == ["'none'"], r.url
        if r.url.path.startswith("/api/"):  # data, never a document: nothing may load or run in it
            assert policy == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}, r.url


def test_only_the_api_docs_may_run_their_inline_script(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "'unsafe-inline'" in csp(r)["script-src"]
    assert "'unsafe-inline'" not in csp(client.get("/"))["script-src"]


def test_errors_name_the_field_but_never_echo_the_value(client, session):
    marker = "<script>alert(1)</script>"
    for r in (client.patch(f"/api/sessions/{session['id']}", json={"loss_type": marker}),
              client.patch(f"/api/sessions/{session['id']}", json={"W": [[marker, 1], [2, 3], [4, 5]]}),
              client.get(f"/api/sessions/{marker}")):
        assert 400 <= r.status_code < 500 and marker not in r.text and r.headers["content-type"] == "application/json"

    # an unknown field's name is the client's text too: its place is named (the body, a nested object), not it
    record = client.get(f"/api/sessions/{session['id']}/export").json()
    record["settings"]["x_marker_x"] = 1
    for r, place in ((client.patch(f"/api/sessions/{session['id']}", json={"x_marker_x" * 1000: 1}), "body"),
                     (client.post("/api/sessions", json={"x_marker_x": 1}), "body"),
                     (client.post(f"/api/sessions/{session['id']}/step", json={"x_marker_x": 1}), "body"),
                     (client.post("/api/sessions/import", json=record), "settings")):
        assert r.status_code == 422 and "marker" not in r.text
        assert r.json()["detail"][0]["msg"] == f"{place}: unknown field (see the schema at /docs)"


@pytest.mark.parametrize("path", ["/", "/api/health", "/static/css/app.css", "/static/js/main.js",
                                  "/vendor/plotly.min.js", "/favicon.ico", "/docs"])
def test_head_answers_like_get_without_a_body(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
