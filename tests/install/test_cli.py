"""The command line: version, help, settings from the environment, start-up errors in one line, --open,
--log-level, --reload, ``python -m app`` and ``make run PORT=… HOST=…``."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

from app import __version__
from app.config import Config, ConfigError, load_config
from app.main import create_app
from app.sessions import MemoryStore
from tests.conftest import ROOT, free_port, wait_until

CLI = [sys.executable, "-m", "app"]


def run(*args, env=(), timeout=30):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, **dict(env)})


@contextmanager
def serving(command, env=(), **kw):
    """``command`` started in its own process group; yields ``(process, URL)`` once it answers."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **dict(env)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/api/health").status_code == 200, " ".join(command[:3]), proc)
        yield proc, url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_version():
    out = run("--version")
    assert (out.returncode, out.stdout.strip()) == (0, f"linear-classify-demo {__version__}")


def test_help_lists_every_setting_with_its_default():
    text = run("--help").stdout
    for name, field in Config.model_fields.items():
        line = next(line for line in text.splitlines() if f"LINCLASS_{name.upper()} " in line)
        assert f"(default: {field.default})" in line
    assert "--open" in text and "--reload" in text and "--log-level" in text


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LINCLASS_MAX_SESSIONS", "12")
    monkeypatch.setenv("LINCLASS_IDLE_TIMEOUT", "90.5")
    monkeypatch.setenv("LINCLASS_MAX_BODY", "1000")
    c = load_config()
    assert (c.max_sessions, c.idle_timeout, c.max_body, c.session_store) == (12, 90.5, 1000, "memory")
    store = create_app(c).state.store
    assert isinstance(store, MemoryStore) and (store.max_sessions, store.idle_timeout) == (12, 90.5)


@pytest.mark.parametrize("variable, value, words", [
    ("LINCLASS_MAX_SESSIONS", "abc", "valid integer"),
    ("LINCLASS_MAX_SESSIONS", "0", "greater than 0"),
    ("LINCLASS_IDLE_TIMEOUT", "nan", "finite number"),
    ("LINCLASS_IDLE_TIMEOUT", "-5", "greater than 0"),
    ("LINCLASS_SESSION_STORE", "rediss://example:6379", "should match pattern"),
])
def test_a_bad_setting_stops_the_command_with_one_line(variable, value, words):
    out = run(env={variable: value})
    assert out.returncode == 2 and out.stdout == ""
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"linear-classify-demo: {variable}={value!r} is not valid: ") and words in line
    with pytest.raises(ConfigError, match=variable):
        load_config(**{variable.removeprefix("LINCLASS_").lower(): value})


def test_a_busy_port_is_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run("--port", str(port))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"linear-classify-demo: port {port} is in use: pass --port"]


def test_several_workers_need_redis():
    out = run("--workers", "2", "--port", str(free_port()))
    assert out.returncode == 2 and "LINCLASS_SESSION_STORE=redis://" in out.stderr


def test_open_opens_the_page_once_it_is_served(tmp_path):
    opened = tmp_path / "opened"
    # webbrowser runs $BROWSER with %s replaced by the URL
    browser = f"{sys.executable} -c \"import sys; open('{opened}', 'w').write(sys.argv[1])\" %s"
    with serving([*CLI, "--port", "{port}", "--open"], env={"BROWSER": browser}) as (_, url):
        deadline = time.monotonic() + 20
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text() == url + "/"
        assert "Linear Classification" in httpx.get(url + "/").text


def test_log_level_warning_hides_the_startup_lines():
    lines = {}
    for level in ("info", "warning"):
        with serving([*CLI, "--port", "{port}", "--log-level", level]) as (proc, url):
            httpx.get(url + "/api/health")
        lines[level] = proc.stderr.read()
    assert "Uvicorn running on" in lines["info"] and "Uvicorn running on" not in lines["warning"]


def test_reload_serves_the_demo():
    with serving([*CLI, "--port", "{port}", "--reload"]) as (_, url):
        assert httpx.post(url + "/api/sessions").status_code == 201


def test_make_run_takes_host_and_port():
    with serving(["make", "--no-print-directory", "run", "PORT={port}", "HOST=127.0.0.1"]) as (_, url):
        assert httpx.post(url + "/api/sessions").json()["loss"] == pytest.approx(6.2667, abs=1e-4)


def test_the_served_app_leaves_its_startup_objects_out_of_garbage_collection():
    import gc

    from app.main import DemoApp
    from app.server import YOUNG_GC_THRESHOLD, served_app

    threshold = gc.get_threshold()
    try:
        app = served_app()
        assert isinstance(app, DemoApp) and app.front is not None
        assert gc.get_freeze_count() > 10_000  # the modules, routes and schemas, never traversed again
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *threshold[1:])
        app.state.compute.close()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
