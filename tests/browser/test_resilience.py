"""The page under faults: a diverging step size, and a session the server no longer has."""

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import session_state


def test_divergence_is_reported_and_reset_recovers(demo, live_server):
    demo.locator("#step-size").fill("1")  # step size 10 and λ = 10, the sliders' maxima: W ← W·(1 − 2·10·10)
    demo.locator("#reg").fill("1")
    expect(demo.locator("#reg-value")).to_have_text("10.00000")
    demo.select_option("#steps-per-frame", "1000")
    demo.click("text=Start repeated update")
    # the message appears beside the Start button that caused it
    expect(demo.locator("#run-msg")).to_have_text("Diverged — lower the step size or reset.", timeout=20_000)
    expect(demo.locator("#btn-start")).to_be_enabled()  # the repeated update stopped by itself
    state = session_state(demo, live_server)
    assert state["diverged"] is True and state["step_size"] == 10 and state["reg"] == 10
    demo.get_by_role("button", name="Reset", exact=True).click()  # the original parameters, the settings kept: 2.77 + 10 · 35
    expect(demo.locator("#step-count")).to_have_text("0")
    expect(demo.locator("#total-loss")).to_have_text("352.77")
    expect(demo.locator("#run-msg")).to_have_text("")  # cleared by the next success


def test_a_lost_session_is_replaced_and_the_user_told(demo, live_server, console):
    old = demo.evaluate("window.app.sid")
    assert httpx.delete(f"{live_server}/api/sessions/{old}").status_code == 204
    demo.click("text=Single parameter update")
    expect(demo.locator("#status")).to_contain_text("a new one was started")
    new = demo.evaluate("window.app.sid")
    assert new != old
    expect(demo.locator("#total-loss")).to_have_text("6.27")
    assert session_state(demo, live_server)["step"] == 0
    expected = [c for c in console if old in c or "404 (Not Found)" in c]  # the browser logs the 404 itself
    assert len(expected) >= 1
    console[:] = [c for c in console if c not in expected]


def test_server_text_is_rendered_as_text(demo, live_server):
    # An error message carrying markup must appear literally, never as HTML.
    demo.evaluate("window.app.say('<img src=x onerror=alert(1)>', 'error')")
    expect(demo.locator("#status")).to_have_text("<img src=x onerror=alert(1)>")
    assert demo.locator("#status img").count() == 0
