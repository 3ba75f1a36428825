"""The README's shell examples work when pasted into a shell in order, against a live server."""

import re
import subprocess

import httpx

from app.config import Config
from tests.conftest import ROOT, uvicorn_server


def api_examples():
    """The first ``sh`` block of the README's "API" section."""
    section = (ROOT / "README.md").read_text().split("\n## API\n", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


def test_the_api_examples_run_in_order():
    with uvicorn_server(Config()) as url:
        port = url.rsplit(":", 1)[1]
        script = api_examples().replace("localhost:8000", f"127.0.0.1:{port}") + 'echo; echo "ID=$ID"\n'
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        sid = out.stdout.strip().splitlines()[-1].removeprefix("ID=")
        state = httpx.get(f"{url}/api/sessions/{sid}").json()
    assert state["step"] == 100 and state["loss_type"] == "softmax"
    assert out.stdout.count('"history"') == 2 and '"xs"' in out.stdout and '"max_rel_error"' in out.stdout


def test_the_first_screen_gives_the_two_make_commands():
    first_screen = (ROOT / "README.md").read_text()[:2500]
    assert "make run " in first_screen and "make test " in first_screen
