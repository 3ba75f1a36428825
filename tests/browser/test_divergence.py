"""A run that blows up, in a real browser: the repeated update stops, the message beside Start explains why
(naming 2·λ·step size ≥ 2 when that is the cause) and offers "Halve the step size" and "Restore the defaults";
the Restore defaults button beside Reset."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import session_state
from tests.browser.helpers import in_viewport

SETTINGS = ["loss_type", "step_size", "reg", "reg_gradient", "optimizer", "batch_size", "h", "search_scale"]


def type_value(page, button, value):
    page.click(button)
    page.locator(".num-input").fill(str(value))
    page.keyboard.press("Enter")


def set_step_size(page, value, shown):
    type_value(page, "#step-size-value", value)
    expect(page.locator("#step-size-value")).to_have_text(shown)


def start_until_stopped(page):
    page.click("#btn-start")
    message = page.locator("#run-msg")
    expect(message).to_contain_text("keeps rising, so the run stopped", timeout=5_000)
    expect(page.locator("#btn-start")).to_be_enabled()
    expect(page.locator("#btn-stop")).to_be_disabled()
    return message


def test_step_size_10_diverges_stops_and_names_the_rule(demo, live_server):
    set_step_size(demo, 10, "10.00000")
    message = start_until_stopped(demo)
    # the defaults have λ = 0.1: 2·0.1·10 = 2, the regularization alone multiplies W by 1 − 2 = −1
    expect(message).to_contain_text("2·λ·step size = 2·0.1·10 = 2 ≥ 2: the regularization's own update multiplies W by −1 every step, so W flips sign and grows.")
    state = session_state(demo, live_server)
    assert state["diverging"] and not state["diverged"] and state["divergence_cause"] == "regularization"
    demo.wait_for_timeout(500)  # stopped: no step request goes out any more
    assert session_state(demo, live_server)["step"] == state["step"]
    expect(demo.locator("#step-count")).to_have_text(str(state["step"]))
    expect(message.get_by_role("button", name="Halve the step size")).to_be_visible()
    expect(message.get_by_role("button", name="Restore the defaults")).to_be_visible()


def test_halving_when_scrolled_down_says_it_once_beside_start_without_a_jump(demo, live_server):
    set_step_size(demo, 10, "10.00000")
    start_until_stopped(demo)
    remedy = demo.get_by_role("button", name="Halve the step size")
    remedy.evaluate("(b) => window.scrollBy(0, b.getBoundingClientRect().top - 10)")  # the button at the top edge
    before = demo.evaluate("window.scrollY")
    remedy.click()
    expect(demo.locator("#run-msg")).to_contain_text("Step size halved to 5")
    expect(demo.locator("#btn-start")).to_be_focused()
    box = demo.locator("#run-msg").bounding_box()  # in view, to the pixel (scrollIntoView may land on a half)
    assert box["y"] >= -1 and box["y"] + box["height"] <= demo.viewport_size["height"] + 1
    expect(demo.locator("#toast")).not_to_have_class(re.compile(r"\bshown\b"))  # said once, not twice
    assert abs(demo.evaluate("window.scrollY") - before) < 200  # scrolled as little as needed


def test_lambda_10_at_step_size_01_names_the_regularization(demo, live_server):
    type_value(demo, "#reg-value", 10)
    expect(demo.locator("#reg-value")).to_have_text("10.00000")
    message = start_until_stopped(demo)
    expect(message).to_contain_text("2·λ·step size = 2·10·0.1 = 2 ≥ 2")
    expect(message).to_contain_text("W flips sign and grows")
    assert session_state(demo, live_server)["reg_factor"] == pytest.approx(-1)


def test_a_step_too_large_for_the_loss_is_told_as_such(demo, live_server):
    type_value(demo, "#reg-value", 0.001)
    set_step_size(demo, 50, "50.00000")  # 2·0.001·50 = 0.1: the rule does not hold, the data term overshoots
    message = start_until_stopped(demo)
    expect(message).to_contain_text("The step size 50 is too large for this loss")
    expect(message).not_to_contain_text("2·λ·step size")
    assert session_state(demo, live_server)["divergence_cause"] == "step_size"


def test_halve_the_step_size_puts_the_parameters_back_and_the_run_recovers(demo, live_server):
    fresh = httpx.post(f"{live_server}/api/sessions").json()
    set_step_size(demo, 10, "10.00000")
    start_until_stopped(demo)
    demo.get_by_role("button", name="Halve the step size").click()
    expect(demo.locator("#step-size-value")).to_have_text("5.00000")
    expect(demo.locator("#run-msg")).to_contain_text("Step size halved to 5")
    expect(demo.locator("#btn-start")).to_be_focused()
    state = session_state(demo, live_server)
    assert state["step_size"] == 5 and not state["diverging"]
    # the lowest loss of this run was the first one: the default parameters
    assert state["W"] == fresh["W"] and state["b"] == fresh["b"]
    start = state["step"]
    demo.click("#btn-start")
    demo.wait_for_function(f"() => window.app.view.state.step >= {start + 150}", timeout=30_000)
    demo.click("#btn-stop")
    expect(demo.locator("#btn-start")).to_be_enabled()
    state = session_state(demo, live_server)
    assert not state["diverging"] and not state["diverged"]
    recent = state["history"][-50:]
    assert max(recent) < fresh["loss"] / 1.5  # bounded, and well below where it started (6.27)
    expect(demo.locator("#run-msg .remedies")).to_have_count(0)


def test_restore_defaults_brings_back_the_original_demo(demo, live_server):
    fresh = httpx.post(f"{live_server}/api/sessions").json()
    type_value(demo, "#reg-value", 1)
    demo.select_option("#loss-type", "softmax")
    demo.select_option("#optimizer", "sgd")
    demo.select_option("#preset", "blobs")
    demo.click("#btn-preset")
    expect(demo.locator("#data-table tbody tr")).to_have_count(60)
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.click("#btn-restore")
    expect(demo.locator("#data-table tbody tr")).to_have_count(9)
    expect(demo.locator("#step-count")).to_have_text("0")
    state = session_state(demo, live_server)
    for key in ["X", "y", "W", "b", "loss", "history", "n_test", *SETTINGS]:
        assert state[key] == fresh[key], key
    expect(demo.locator("#total-loss")).to_have_text("6.27")
    expect(demo.locator("#loss-type")).to_have_value("svm_ww")
    expect(demo.locator("#reg-value")).to_have_text("0.10000")


def test_restore_the_defaults_from_the_divergence_message(demo, live_server):
    fresh = httpx.post(f"{live_server}/api/sessions").json()
    set_step_size(demo, 10, "10.00000")
    start_until_stopped(demo)
    demo.get_by_role("button", name="Restore the defaults").click()
    expect(demo.locator("#step-size-value")).to_have_text("0.10000")
    expect(demo.locator("#run-msg")).to_have_text("")
    state = session_state(demo, live_server)
    assert [state[k] for k in ("W", "b", "step_size", "diverging")] == [fresh["W"], fresh["b"], 0.1, False]


def test_on_a_projector_the_remedies_come_into_view_uncovered(demo):
    demo.set_viewport_size({"width": 1024, "height": 768})
    set_step_size(demo, 10, "10.00000")
    start_until_stopped(demo)
    for name in ("Halve the step size", "Restore the defaults"):
        assert in_viewport(demo, demo.get_by_role("button", name=name).bounding_box())
    expect(demo.locator("#status")).to_have_text("")  # no toast over them
