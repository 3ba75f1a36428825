"""Keyboard and screen readers: sliders that announce their value and step through round values, exact values
typed after a click or Enter, focus that follows Start and Stop, and ▲/▼ targets of at least 24×24 px."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import session_state


def test_sliders_announce_the_value_and_arrow_keys_step_through_round_values(demo, live_server):
    step, reg = demo.locator("#step-size"), demo.locator("#reg")
    expect(step).to_have_attribute("aria-valuetext", "0.1")
    expect(reg).to_have_attribute("aria-valuetext", "0.1")
    step.focus()
    demo.keyboard.press("ArrowRight")
    expect(step).to_have_attribute("aria-valuetext", "0.2")
    expect(demo.locator("#step-size-value")).to_have_text("0.20000")
    demo.keyboard.press("ArrowRight")
    expect(step).to_have_attribute("aria-valuetext", "0.5")
    demo.keyboard.press("ArrowLeft")
    expect(step).to_have_attribute("aria-valuetext", "0.2")
    demo.wait_for_timeout(300)
    assert session_state(demo, live_server)["step_size"] == 0.2  # a round value, not 0.10233


# Each PATCH answer held back 400 ms in the page, so that a second change is made while the first is in flight.
SLOW_PATCHES = """() => {
  const send = window.fetch;
  window.fetch = (url, init) => send(url, init).then((r) =>
    init?.method === "PATCH" ? new Promise((resolve) => setTimeout(() => resolve(r), 400)) : r);
}"""


def test_a_slider_keeps_its_newest_value_while_earlier_changes_are_answered(demo, live_server):
    demo.evaluate(SLOW_PATCHES)
    step = demo.locator("#step-size")
    step.focus()
    demo.keyboard.press("ArrowRight")  # 0.2, in flight
    demo.keyboard.press("ArrowRight")  # 0.5, queued behind it
    # The answer to 0.2 arrives and is drawn while 0.5 is still on its way: the slider must not go back to 0.2.
    demo.wait_for_function("() => window.app.view.state.step_size === 0.2")
    demo.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))")
    assert step.get_attribute("aria-valuetext") == "0.5"
    expect(demo.locator("#step-size-value")).to_have_text("0.50000")
    demo.keyboard.press("ArrowLeft")  # from 0.5, not from an echoed 0.2
    expect(step).to_have_attribute("aria-valuetext", "0.2")
    demo.wait_for_function("() => !window.app.queue.busy && window.app.view.state.step_size === 0.2")
    assert session_state(demo, live_server)["step_size"] == 0.2


def test_one_key_press_moves_lambda_off_zero_and_back(demo, live_server):
    reg = demo.locator("#reg")
    reg.focus()
    demo.keyboard.press("Home")
    expect(reg).to_have_attribute("aria-valuetext", "0")
    expect(demo.locator("#reg-loss")).to_have_text("0.00")
    demo.keyboard.press("ArrowRight")  # one press
    expect(reg).to_have_attribute("aria-valuetext", "0.0001")
    expect(demo.locator("#reg-value")).to_have_text("0.00010")
    demo.wait_for_timeout(300)
    assert session_state(demo, live_server)["reg"] == pytest.approx(1e-4)
    demo.keyboard.press("ArrowLeft")  # and one back
    expect(reg).to_have_attribute("aria-valuetext", "0")
    demo.wait_for_timeout(300)
    assert session_state(demo, live_server)["reg"] == 0


def test_exact_values_can_be_typed(demo, live_server):
    demo.click("#step-size-value")
    field = demo.locator(".control-head .num-input")
    expect(field).to_be_focused()
    field.fill("0.0375")
    field.press("Enter")
    expect(demo.locator("#step-size-value")).to_have_text("0.03750")
    expect(demo.locator("#step-size-value")).to_be_focused()  # back where the user was
    expect(demo.locator("#step-size")).to_have_attribute("aria-valuetext", "0.0375")

    demo.locator("#reg-value").focus()  # keyboard: focus and Enter
    demo.keyboard.press("Enter")
    demo.keyboard.press("Control+A")
    demo.keyboard.type("0.25")
    demo.keyboard.press("Enter")
    expect(demo.locator("#reg-value")).to_have_text("0.25000")

    for name, text, shown in (("W[1,0]", "-2.5", "-2.50"), ("b[2]", "0.125", "0.13")):
        demo.click(f"[data-param='{name}'] .value")
        demo.locator(f"[data-param='{name}'] .num-input").fill(text)
        demo.keyboard.press("Enter")
        expect(demo.locator(f"[data-param='{name}'] .value")).to_have_text(shown)
    state = session_state(demo, live_server)
    assert state["step_size"] == 0.0375 and state["reg"] == 0.25
    assert state["W"][1][0] == -2.5 and state["b"][2] == 0.125  # exact, not the two decimals shown


def test_a_typed_value_out_of_range_is_refused_beside_the_field(demo, live_server):
    demo.click("#step-size-value")
    field = demo.locator(".control-head .num-input")
    field.fill("5000")
    field.press("Enter")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(demo.locator("#step-msg")).to_contain_text("Step size must be a number from")
    field.fill("0.5")
    field.press("Enter")
    expect(demo.locator("#step-msg")).to_have_text("")
    assert session_state(demo, live_server)["step_size"] == 0.5


def test_start_moves_focus_to_stop_and_stop_back_to_start(demo):
    demo.locator("#btn-start").focus()
    demo.keyboard.press("Enter")
    expect(demo.locator("#btn-stop")).to_be_focused()
    expect(demo.locator("#btn-start")).to_be_disabled()
    demo.keyboard.press("Enter")
    expect(demo.locator("#btn-start")).to_be_focused()
    expect(demo.locator("#btn-stop")).to_be_disabled()
    demo.wait_for_timeout(200)
    demo.click("#btn-start")  # with the mouse as well
    expect(demo.locator("#btn-stop")).to_be_focused()
    demo.click("#btn-stop")
    expect(demo.locator("#btn-start")).to_be_focused()


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["1280", "phone"])
def test_nudge_buttons_are_at_least_24_px_square(page, live_server, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    sizes = page.locator("#param-grid .nudge").evaluate_all(
        "(bs) => bs.map((b) => { const r = b.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(sizes) == 18
    assert min(w for w, _ in sizes) >= 24 and min(h for _, h in sizes) >= 24
