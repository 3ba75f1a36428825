"""Browser tests: Debian's Chromium driven by Playwright against a live server on a free loopback port."""

from pathlib import Path

import httpx
import pytest

from app.config import Config
from tests.conftest import uvicorn_server

CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's binary; the /usr/bin/chromium wrapper prints a warning
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed (make test installs it)"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def live_server():
    """The real app under uvicorn in a subprocess on a free loopback port; yields its base URL."""
    with uvicorn_server(Config()) as url:
        yield url


@pytest.fixture
def console(page):
    """Every console error, page error and failed request of the test's page."""
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    return problems


@pytest.fixture
def demo(page, live_server, console):
    """The page, loaded, showing the default state; afterwards, asserts nothing went wrong in it."""
    from playwright.sync_api import expect

    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    yield page
    assert console == []


def session_state(page, live_server):
    """The page's session as the server holds it."""
    sid = page.evaluate("window.app.sid")
    return httpx.get(f"{live_server}/api/sessions/{sid}").json()
