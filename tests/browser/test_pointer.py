"""Pointer events on the plane: a finger drags a point as a mouse does, a cancelled touch leaves the editor
ready, hovering a point shows its details, and refusing to delete the last point says why."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import session_state
from tests.browser.helpers import in_viewport, to_pixels


@pytest.fixture
def tablet(browser, live_server):
    """A touch-screen page (has_touch) on the default state, and a CDP session to send real touch events."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    yield page, context.new_cdp_session(page)
    assert errors == []
    context.close()


def touch(cdp, kind, x=None, y=None):
    points = [] if x is None else [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4, "force": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_touch_drag_moves_a_point(tablet, live_server):
    page, cdp = tablet
    (x0, y0), (x1, y1) = to_pixels(page, 0.5, 0.4), to_pixels(page, 0.9, 0.9)  # point 0 to the top right
    touch(cdp, "touchStart", x0, y0)
    for i in range(1, 13):
        touch(cdp, "touchMove", x0 + (x1 - x0) * i / 12, y0 + (y1 - y0) * i / 12)
        page.wait_for_timeout(15)
    touch(cdp, "touchEnd")
    first = page.locator("#data-table tbody tr").first
    expect(first.locator("td").nth(0)).to_have_text("0.90")
    expect(first.locator("td").nth(1)).to_have_text("0.90")
    assert session_state(page, live_server)["X"][0] == pytest.approx([0.9, 0.9], abs=0.01)


def test_a_cancelled_touch_ends_the_drag_and_the_next_tap_adds_a_point(tablet, live_server):
    page, cdp = tablet
    (x0, y0), (x1, y1) = to_pixels(page, 0.5, 0.4), to_pixels(page, 0.6, 0.6)
    touch(cdp, "touchStart", x0, y0)
    touch(cdp, "touchMove", x1, y1)
    touch(cdp, "touchCancel")  # the browser took the gesture: pointercancel
    page.wait_for_function("() => window.app.editor.drag === null")
    expect(page.locator("#data-table tbody tr").first.locator("td").nth(1)).to_have_text("0.60")  # kept where it was
    page.locator("input[name=new-class][value='1']").tap()
    page.touchscreen.tap(*to_pixels(page, -0.8, 0.8))
    expect(page.locator("#data-table tbody tr")).to_have_count(10)
    state = session_state(page, live_server)
    assert state["X"][-1] == pytest.approx([-0.8, 0.8], abs=0.01) and state["y"][-1] == 1
    assert state["X"][0] == pytest.approx([0.6, 0.6], abs=0.01)


def test_hovering_a_point_shows_its_coordinates_label_scores_and_loss(demo):
    info = demo.locator("#point-info")
    expect(info).to_be_hidden()
    demo.mouse.move(*to_pixels(demo, 0.5, 0.4))
    expect(info).to_be_visible()
    # point 0 at the defaults: s = W x + b = (1.30, -0.10, 0.60), L = max(0, -0.10 - 1.30 + 1) + max(0, 0.60 - 1.30 + 1)
    expect(info).to_have_text("point 0 · class 0x = (0.50, 0.40)s = 1.30, -0.10, 0.60Lᵢ = 0.30")
    assert in_viewport(demo, info.bounding_box())
    demo.mouse.move(*to_pixels(demo, -0.8, 0.8))  # empty space
    expect(info).to_be_hidden()
    demo.mouse.move(*to_pixels(demo, 0.7, -0.4))  # point 6, class 2
    expect(info).to_contain_text("point 6 · class 2")
    expect(info).to_contain_text("Lᵢ = 2.50")


def test_refusing_to_delete_the_last_point_says_why(demo, live_server):
    sid = demo.evaluate("window.app.sid")
    assert httpx.patch(f"{live_server}/api/sessions/{sid}", json={"X": [[0.5, 0.4]], "y": [0]}).status_code == 200
    demo.reload()
    expect(demo.locator("#data-table tbody tr")).to_have_count(1)
    demo.check("#delete-mode")
    demo.mouse.click(*to_pixels(demo, 0.5, 0.4))
    message = demo.locator("#plane-msg")
    expect(message).to_contain_text("last point")
    expect(message).to_contain_text("at least one")
    assert in_viewport(demo, message.bounding_box())
    assert len(session_state(demo, live_server)["X"]) == 1
    demo.uncheck("#delete-mode")
    demo.mouse.click(*to_pixels(demo, -0.5, 0.5))  # the next success clears it
    expect(demo.locator("#data-table tbody tr")).to_have_count(2)
    expect(message).to_have_text("")
