"""The page in a real browser: it shows the original demo's numbers and every control changes the session."""

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from app.core import datasets
from app.core.model import default_params, evaluate
from tests.browser.conftest import session_state

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def column(page, index):
    return page.locator(f"#data-table tbody tr td:nth-child({index})").all_inner_texts()


def expected_losses(loss_type):
    X, y = datasets.original()
    W, b = default_params()
    return [f"{v:.2f}" for v in evaluate(W, b, X, y, 0.1, loss_type).losses]


def test_loads_with_the_default_numbers(demo):
    assert demo.locator("#data-table thead th").all_inner_texts() == ["x[0]", "x[1]", "y", "s[0]", "s[1]", "s[2]", "L"]
    expect(demo.locator("#data-table tbody tr")).to_have_count(9)
    assert column(demo, 7) == ["0.30", "1.70", "0.00", "3.20", "6.80", "2.40", "2.50", "3.30", "4.70"]
    assert column(demo, 4)[:3] == ["1.30", "1.40", "1.90"]  # s[0] = W[0]·x + b[0]
    expect(demo.locator("#data-loss")).to_have_text("2.77")
    expect(demo.locator("#reg-loss")).to_have_text("3.50")
    expect(demo.locator("#step-count")).to_have_text("0")
    expect(demo.locator("#data-table tbody tr:nth-child(3) td.loss")).to_have_class(re.compile(r"\bzero\b"))
    expect(demo.locator("#data-table tbody tr:nth-child(2) td.loss")).not_to_have_class(re.compile(r"\bzero\b"))
    values = demo.locator("#param-grid .value").all_inner_texts()
    assert values == ["1.00", "2.00", "0.00", "2.00", "-4.00", "0.50", "3.00", "-1.00", "-0.50"]
    grads = demo.locator("#param-grid .grad").all_inner_texts()
    assert grads[:3] == ["-0.23", "0.37", "0.11"]  # exact mode: dW[0] and db[0] at the defaults
    traces = demo.evaluate("document.getElementById('regions').data.map((t) => t.type)")
    assert traces[0] == "heatmap" and traces.count("scatter") >= 4
    SCREENSHOTS.mkdir(exist_ok=True)
    demo.screenshot(path=SCREENSHOTS / "default.png", full_page=True)


def test_single_update_increments_the_step_and_lowers_the_loss(demo, live_server):
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    expect(demo.locator("#total-loss")).to_have_text("6.00")
    state = session_state(demo, live_server)
    assert state["step"] == 1 and state["loss"] < state["history"][0]
    assert len(demo.evaluate("document.getElementById('loss-curve').data[0].y")) == 2


def test_repeated_update_runs_and_stops(demo):
    demo.click("text=Start repeated update")
    expect(demo.locator("#btn-stop")).to_be_enabled()
    expect(demo.locator("#step-count")).not_to_have_text("0")
    demo.wait_for_timeout(1000)
    demo.click("text=Stop repeated update")
    expect(demo.locator("#btn-start")).to_be_enabled()
    demo.wait_for_timeout(300)  # an answer already on its way is still drawn
    stopped = int(demo.inner_text("#step-count"))
    assert stopped >= 10
    demo.wait_for_timeout(700)
    assert int(demo.inner_text("#step-count")) == stopped
    assert float(demo.inner_text("#total-loss")) < 6.27


@pytest.mark.parametrize("loss_type", ["svm_ova", "svm_structured", "softmax", "svm_ww"])
def test_each_loss_shows_its_own_losses(demo, live_server, loss_type):
    if loss_type == "svm_ww":
        demo.select_option("#loss-type", "softmax")
        expect(demo.locator("#total-loss")).to_have_text("5.34")
    demo.select_option("#loss-type", loss_type)
    expected = expected_losses(loss_type)
    expect(demo.locator("#data-table tbody tr td:nth-child(7)")).to_have_text(expected)
    assert session_state(demo, live_server)["loss_type"] == loss_type


def test_sliders_change_the_session_without_resetting(demo, live_server):
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.locator("#step-size").fill("-2")  # log10 position: 0.01
    expect(demo.locator("#step-size-value")).to_have_text("0.01000")
    demo.locator("#reg").fill("-4.2")  # the lowest notch is exactly 0
    expect(demo.locator("#reg-value")).to_have_text("0.00000")
    expect(demo.locator("#reg-loss")).to_have_text("0.00")
    state = session_state(demo, live_server)
    assert state["step_size"] == pytest.approx(0.01) and state["reg"] == 0
    assert state["step"] == 1 and len(state["history"]) == 2
    demo.locator("#reg").fill("0")
    expect(demo.locator("#reg-value")).to_have_text("1.00000")
    assert session_state(demo, live_server)["reg"] == pytest.approx(1.0)


def test_nudging_w00_changes_it_by_a_tenth_and_redraws(demo, live_server):
    line_before = demo.evaluate("document.getElementById('regions').data[2].x")
    demo.locator("[data-param='W[0,0]'] button").first.click()
    expect(demo.locator("[data-param='W[0,0]'] .value")).to_have_text("1.10")
    assert session_state(demo, live_server)["W"][0] == pytest.approx([1.1, 2.0])
    line_after = demo.evaluate("document.getElementById('regions').data[2].x")
    assert line_after != line_before
    demo.locator("[data-param='b[2]'] button").last.click()
    expect(demo.locator("[data-param='b[2]'] .value")).to_have_text("-0.60")


def test_keyboard_operates_the_nudge_buttons(demo, live_server):
    demo.locator("[data-param='W[1,1]'] button").first.focus()
    demo.keyboard.press("Enter")
    expect(demo.locator("[data-param='W[1,1]'] .value")).to_have_text("-3.90")


def test_randomize_changes_w_and_reset_restores_it(demo, live_server):
    demo.click("text=Randomize parameters")
    expect(demo.locator("#total-loss")).not_to_have_text("6.27")
    W = session_state(demo, live_server)["W"]
    assert not np.allclose(W, default_params()[0])
    demo.get_by_role("button", name="Reset", exact=True).click()
    expect(demo.locator("#total-loss")).to_have_text("6.27")
    expect(demo.locator("#step-count")).to_have_text("0")


def test_original_regularization_mode_changes_the_gradients(demo):
    demo.click("text=Advanced")
    demo.check("input[name=reg-gradient][value=original]")
    expect(demo.locator("[data-param='W[0,0]'] .grad")).to_have_text("-0.38")
    expect(demo.locator("#total-loss")).to_have_text("6.27")  # the loss itself does not change


def test_narrow_screen_wraps_the_controls_below_the_plot(page, live_server, console):
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    plot, controls = page.locator("#regions").bounding_box(), page.locator("#param-grid").bounding_box()
    assert controls["y"] >= plot["y"] + plot["height"]
    assert plot["width"] <= 420
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "narrow.png", full_page=True)
    assert console == []


def test_auto_steps_per_frame_takes_more_steps_when_the_step_size_is_small(demo, live_server):
    demo.locator("#step-size").fill("-3")  # 0.001: auto takes round(0.1 / 0.001) = 100 steps a frame
    expect(demo.locator("#step-size-value")).to_have_text("0.00100")
    demo.select_option("#steps-per-frame", "auto")
    demo.click("text=Start repeated update")
    expect(demo.locator("#step-count")).not_to_have_text("0")
    demo.click("text=Stop repeated update")
    demo.wait_for_timeout(300)
    step = session_state(demo, live_server)["step"]
    assert step >= 100 and step % 100 == 0
