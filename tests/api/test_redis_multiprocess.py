"""Two uvicorn server processes sharing one Redis serve the same sessions: a session created on one is used on
the other, and steps sent to both, in turn or all at once, are each applied exactly once."""

import asyncio

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
