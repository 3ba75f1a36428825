"""Shared fixtures: an app on each session store (in memory, and Redis on a real ``redis-server`` started
for the test run) and a TestClient on it; real uvicorn servers for the tests that need processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app.config import Config
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with code {proc.returncode}")
        try:
            if ready():
                return
        except (OSError, redis.ConnectionError, httpx.TransportError):
            pass
        time.sleep(0.05)
    pytest.fail(f"{what} did not start within {timeout:g} s")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of our own on a free loopback port, without persistence, for the whole run."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (Debian: apt-get install redis-server, or `make system-deps`)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path_factory.mktemp("redis"))], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    wait_until(client.ping, "redis-server", proc)
    yield url
    client.close()
    stop(proc)


@pytest.fixture
def redis_db(redis_url):
    """A synchronous client on the test Redis, emptied before the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


# A step request's compute budget (2 s by default) would cut runs of 10,000 steps short on a loaded machine;
# tests of the budget itself (tests/api/test_compute.py) set their own.
UNHURRIED = {"compute_budget": 600.0, "lab_budget": 600.0}


@pytest.fixture(params=["memory", "redis"])
def config(request):
    """The default settings (but unhurried compute), on each session store in turn."""
    if request.param == "memory":
        return Config(**UNHURRIED)
    request.getfixturevalue("redis_db")
    return Config(session_store=request.getfixturevalue("redis_url"), **UNHURRIED)


@pytest.fixture
def client(config):
    with TestClient(create_app(config)) as c:
        yield c


@pytest.fixture
def session(client):
    """A fresh default session's state."""
    r = client.post("/api/sessions")
    assert r.status_code == 201
    return r.json()


@contextmanager
def uvicorn_server(config):
    """The app under a real uvicorn process on a free loopback port, with these settings; yields its URL."""
    port = free_port()
    names = ("session_store", "max_sessions", "idle_timeout", "max_memory_mb", "max_sessions_per_address",
             "create_rate", "create_burst")
    env = {**os.environ, **{f"LINCLASS_{name.upper()}": str(getattr(config, name)) for name in names}}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(url + "/api/health").status_code == 200, "uvicorn", proc)
        yield url
    finally:
        stop(proc)


@pytest.fixture
def start_server():
    """``start_server(config) -> URL``: :func:`uvicorn_server`, stopped after the test."""
    with ExitStack() as stack:
        yield lambda config: stack.enter_context(uvicorn_server(config))
