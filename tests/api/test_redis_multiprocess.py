"""Two uvicorn server processes sharing one Redis serve the same sessions: a session created on one is used on
the other, and steps sent to both, in turn or all at once, are each applied exactly once. The per-address
limits, the memory accounting and the ETags hold across the two, and a request whose client leaves stops
waiting."""

import asyncio
import socket
import time

import httpx
import pytest

from app.config import Config
from tests.conftest import uvicorn_server


@pytest.fixture(scope="module")
def servers(redis_url):
    config = Config(session_store=redis_url)
    with uvicorn_server(config) as a, uvicorn_server(config) as b:
        yield a, b


def test_steps_alternating_between_two_servers_continue_one_history(servers):
    a, b = servers
    s = httpx.post(a + "/api/sessions", json={"optimizer": "sgd", "seed": 9}).json()
    sid, history = s["id"], s["history"]
    for i in range(20):
        r = httpx.post(f"{(a, b)[i % 2]}/api/sessions/{sid}/step", json={"steps": 3})
        assert r.status_code == 200 and r.json()["step"] == 3 * (i + 1)
        history += r.json()["history"]
    assert httpx.patch(f"{b}/api/sessions/{sid}", json={"loss_type": "softmax"}).status_code == 200
    on_a, on_b = (httpx.get(f"{url}/api/sessions/{sid}").json() for url in (a, b))
    assert on_a == on_b and on_a["loss_type"] == "softmax"
    assert on_a["step"] == 60 and on_a["history"] == history
    assert httpx.get(f"{a}/api/sessions/{sid}/export").content == httpx.get(f"{b}/api/sessions/{sid}/export").content
    assert httpx.delete(f"{a}/api/sessions/{sid}").status_code == 204
    assert httpx.get(f"{b}/api/sessions/{sid}").status_code == 404


def test_concurrent_steps_on_two_servers_are_all_applied(servers):
    a, b = servers

    async def run():
        async with httpx.AsyncClient(timeout=60) as http:
            sid = (await http.post(a + "/api/sessions", json={"optimizer": "random_search", "seed": 3})).json()["id"]
            calls = [http.post(f"{url}/api/sessions/{sid}/step", params={"detail": "summary"})
                     for _ in range(30) for url in (a, b)]
            responses = await asyncio.gather(*calls)
            final = (await http.get(f"{b}/api/sessions/{sid}")).json()
            return responses, final

    responses, final = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 60
    assert sorted(r.json()["step"] for r in responses) == list(range(1, 61))
    assert final["step"] == 60 and len(final["history"]) == 61 and final["search"]["tries"] == 60
    by_step = {r.json()["step"]: r.json()["history"] for r in responses}
    assert final["history"][1:] == [by_step[i][0] for i in range(1, 61)]


# --- the limits hold across processes: their accounting lives in Redis ---------------------------------------
def from_address(address):
    return {"X-Forwarded-For": address}  # uvicorn trusts it from loopback (--forwarded-allow-ips' default)


def test_one_address_flooding_two_servers_leaves_every_other_address_sessions_alive(redis_url, redis_db):
    config = Config(session_store=redis_url, max_sessions=300, create_burst=5000, create_rate=1000.0)
    with uvicorn_server(config) as a, uvicorn_server(config) as b:
        victims = [httpx.post(f"{(a, b)[i % 2]}/api/sessions", headers=from_address(f"10.0.0.{i}")).json()["id"]
                   for i in range(20)]

        async def flood():
            async with httpx.AsyncClient(timeout=60) as http:
                limit = asyncio.Semaphore(16)

                async def create(i):
                    async with limit:
                        r = await http.post(f"{(a, b)[i % 2]}/api/sessions", headers=from_address("10.9.9.9"))
                        return r.status_code

                return await asyncio.gather(*(create(i) for i in range(1500)))

        assert asyncio.run(flood()) == [201] * 1500
        assert all(httpx.get(f"{(b, a)[i % 2]}/api/sessions/{sid}").status_code == 200 for i, sid in enumerate(victims))
        assert redis_db.zcard("linclass:meta:used") == 220 and redis_db.zcard("linclass:meta:o:10.9.9.9") == 200
        sizes = [int(v) for v in redis_db.hvals("linclass:meta:size")]
        assert len(sizes) == 220 and sum(sizes) == int(redis_db.get("linclass:meta:total"))


def test_the_creation_rate_of_an_address_is_counted_across_servers(redis_url, redis_db):
    config = Config(session_store=redis_url, create_burst=10, create_rate=0.1)
    with uvicorn_server(config) as a, uvicorn_server(config) as b:
        statuses = [httpx.post(f"{(a, b)[i % 2]}/api/sessions", headers=from_address("10.0.0.1")).status_code
                    for i in range(14)]
        assert statuses == [201] * 10 + [429] * 4
        assert httpx.post(f"{b}/api/sessions", headers=from_address("10.0.0.2")).status_code == 201


def test_an_etag_from_one_server_is_the_precondition_on_the_other(servers):
    a, b = servers
    r = httpx.post(a + "/api/sessions", json={"seed": 2})
    sid, tag = r.json()["id"], r.headers["etag"]
    stepped = httpx.post(f"{b}/api/sessions/{sid}/step", headers={"If-Match": tag})
    assert stepped.status_code == 200 and httpx.get(f"{a}/api/sessions/{sid}").headers["etag"] == stepped.headers["etag"]
    retry = httpx.post(f"{a}/api/sessions/{sid}/step", headers={"If-Match": tag})
    assert retry.status_code == 412 and retry.headers["etag"] == stepped.headers["etag"]
    assert httpx.delete(f"{a}/api/sessions/{sid}", headers={"If-Match": tag}).status_code == 412
    assert httpx.delete(f"{a}/api/sessions/{sid}", headers={"If-Match": stepped.headers["etag"]}).status_code == 204


def test_a_client_that_leaves_while_its_request_waits_for_a_lock_stops_its_polling(servers, redis_db):
    """Over a real socket: the server notices the disconnect and stops asking Redis for the lock."""
    a, _ = servers
    sid = httpx.post(a + "/api/sessions").json()["id"]
    redis_db.set(f"linclass:l:{sid}", "another request, stuck", px=60_000)

    def polls():
        return redis_db.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)

    host, port = a.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"POST /api/sessions/{sid}/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 2\r\n\r\n{{}}".encode())
        time.sleep(0.5)
        waiting = polls()
        time.sleep(0.3)
        assert polls() - waiting >= 3  # the request is polling for the lock
    time.sleep(0.3)  # the server has seen the connection close
    left = polls()
    time.sleep(0.5)
    assert polls() - left <= 1  # and no more
    redis_db.delete(f"linclass:l:{sid}")
    assert httpx.get(f"{a}/api/sessions/{sid}").json()["step"] == 0  # its step was never taken
