"""app/loop_watch.py (debug only, for bench/attack.py): off without LINCLASS_DEBUG_TIMINGS; with it, the app
writes its requests' times by client and kind, and its event loop's ticks, to the file when it stops."""

import json
import time

from fastapi.testclient import TestClient

from app.config import Config
from app.main import create_app


def test_off_without_the_variable(monkeypatch):
    monkeypatch.delenv("LINCLASS_DEBUG_TIMINGS", raising=False)
    app = create_app(Config())
    assert app.state.watch is None
    assert not any(m.cls.__name__ == "Timed" for m in app.user_middleware)


def test_with_it_the_server_writes_its_own_timings_when_it_stops(monkeypatch, tmp_path):
    out = tmp_path / "timings.json"
    monkeypatch.setenv("LINCLASS_DEBUG_TIMINGS", str(out))
    with TestClient(create_app(Config())) as client:
        sid = client.post("/api/sessions").json()["id"]
        for _ in range(3):
            assert client.post(f"/api/sessions/{sid}/step").status_code == 200
        assert client.get("/api/health").status_code == 200
        time.sleep(0.05)  # some ticks of the loop
        assert not out.exists()
    timings = json.loads(out.read_text())
    requests = timings["requests"]
    assert set(requests) == {"testclient step", "testclient health", "testclient other"}
    assert (requests["testclient step"]["n"], requests["testclient health"]["n"], requests["testclient other"]["n"]) \
        == (3, 1, 1)
    assert 0 < requests["testclient step"]["ms_p50"] <= requests["testclient step"]["ms_max"]
    loop = timings["loop"]
    assert loop["ticks"] >= 1 and 0 <= loop["held_p99"] <= loop["held_max"] and loop["held_p99"] <= loop["late_max"] + 1e-9
    assert isinstance(timings["stalls"], list)
