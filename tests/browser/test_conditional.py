"""The page sends If-Match with its changes: a change to a session that moved on behind its back, or a step
retried after its answer was lost, is refused (412), and the page shows the session's current state."""

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import session_state

CHANGED = "The session had changed (elsewhere, or by a retried request); showing its current state."


def expected_noise(console, *words):
    """The browser logs failed requests itself; take out those this test causes, leave the rest to the fixture."""
    expected = [c for c in console if any(w in c for w in words)]
    assert expected
    console[:] = [c for c in console if c not in expected]


def test_a_change_made_elsewhere_is_shown_not_overwritten(demo, live_server, console):
    sid = demo.evaluate("window.app.sid")
    for _ in range(3):  # another tab, or a script, steps the same session
        assert httpx.post(f"{live_server}/api/sessions/{sid}/step").status_code == 200
    demo.click("text=Single parameter update")
    expect(demo.locator("#status")).to_have_text(CHANGED)
    expect(demo.locator("#step-count")).to_have_text("3")  # the page's step was refused, the others shown
    assert session_state(demo, live_server)["step"] == 3
    demo.click("text=Single parameter update")  # and the next one applies to what the page now shows
    expect(demo.locator("#step-count")).to_have_text("4")
    assert session_state(demo, live_server)["step"] == 4
    expected_noise(console, "412")


def test_a_step_retried_after_its_answer_was_lost_is_applied_once(demo, live_server, console):
    sent = []

    def lose_the_first_answer(route):
        sent.append(route.request.headers.get("if-match"))
        if len(sent) == 1:
            route.fetch()  # the server takes the step…
            route.abort()  # …and its answer never arrives
        else:
            route.continue_()

    demo.route("**/api/sessions/*/step*", lose_the_first_answer)
    demo.click("text=Single parameter update")
    expect(demo.locator("#status")).to_have_text(CHANGED)
    expect(demo.locator("#step-count")).to_have_text("1")
    assert len(sent) == 2 and sent[0] == sent[1] and sent[0].startswith('"')  # the same step, sent twice
    assert session_state(demo, live_server)["step"] == 1  # and taken once
    expected_noise(console, "412", "ERR_FAILED")
