"""The optimization lab in a real browser: editing data on the plot, optimizers, gradient check, loss
surface, shared links and export/import."""

import re

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import session_state
from tests.browser.helpers import export_session, to_pixels


def rows(page):
    return page.locator("#data-table tbody tr")


def test_add_drag_and_delete_points(demo, live_server):
    demo.locator("input[name=new-class][value='2']").check()
    demo.mouse.click(*to_pixels(demo, -0.8, -0.8))
    expect(rows(demo)).to_have_count(10)
    state = session_state(demo, live_server)
    assert state["X"][-1] == pytest.approx([-0.8, -0.8], abs=0.01) and state["y"][-1] == 2
    expect(rows(demo).nth(9).locator("td").nth(2)).to_have_text("2")

    demo.mouse.move(*to_pixels(demo, 0.5, 0.4))  # point 0
    demo.mouse.down()
    demo.mouse.move(*to_pixels(demo, 0.7, 0.7), steps=5)
    demo.mouse.move(*to_pixels(demo, 0.9, 0.9), steps=5)
    demo.mouse.up()
    expect(rows(demo).nth(0).locator("td").nth(0)).to_have_text(re.compile(r"^0\.(89|90|91)$"))
    moved = session_state(demo, live_server)["X"][0]
    assert moved == pytest.approx([0.9, 0.9], abs=0.01)  # a pixel is 0.005 in data units
    expect(rows(demo).nth(0).locator("td").nth(1)).to_have_text(f"{moved[1]:.2f}")

    demo.keyboard.down("Shift")
    demo.mouse.click(*to_pixels(demo, -0.8, -0.8))
    demo.keyboard.up("Shift")
    expect(rows(demo)).to_have_count(9)
    assert len(session_state(demo, live_server)["X"]) == 9


def test_switching_optimizer_marks_the_loss_curve(demo, live_server):
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.select_option("#optimizer", "random_search")
    expect(demo.locator("#optimizer-info")).to_contain_text("Tries: 0")
    for n in (2, 3, 4):
        demo.click("text=Single parameter update")
        expect(demo.locator("#step-count")).to_have_text(str(n))
    expect(demo.locator("#optimizer-info")).to_contain_text("Tries: 3")
    names = demo.evaluate("document.getElementById('loss-curve').data.map((t) => t.name)")
    assert names == ["gradient descent", "random search"]
    state = session_state(demo, live_server)
    assert [s["optimizer"] for s in state["segments"]] == ["gd", "random_search"] and len(state["history"]) == 5
    assert all(a >= b for a, b in zip(state["history"][1:], state["history"][2:]))  # random search never worsens


def test_sgd_circles_the_last_batch(demo):
    demo.select_option("#optimizer", "sgd")
    expect(demo.locator("label[data-for=sgd]")).to_be_visible()
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    rings = demo.evaluate("document.getElementById('regions').data.at(-1).x.length")
    assert rings == 4


def test_a_kink_is_set_apart_from_the_verdict(demo, live_server):
    sid = demo.evaluate("window.app.sid")
    s0 = session_state(demo, live_server)["scores"][0]  # example 0's class-2 margin s_2 − s_0 + 1 made exactly 0
    httpx.patch(f"{live_server}/api/sessions/{sid}", json={"b": [0, 0.5, -0.5 - (s0[2] - s0[0] + 1)]})
    demo.reload()
    demo.click("text=Run gradient check")
    verdict = demo.locator("#gradcheck-verdict")
    expect(verdict).to_contain_text("The analytic gradient is correct: worst relative error")
    kinks = demo.locator("#gradcheck-table tbody tr", has_text="⚠")
    expect(kinks.filter(has_text="b[2]")).to_have_count(1)
    expect(verdict).to_contain_text(f"away from the kinks. {kinks.count()} parameter(s) sit on a hinge kink (⚠)")
    worst = float(re.search(r"worst relative error (\S+) away", verdict.inner_text()).group(1))
    assert worst < 1e-7  # b[2]'s 0.5 at the kink is not what the verdict reports


def test_gradient_check_catches_the_original_mode(demo):
    demo.click("text=Run gradient check")
    expect(demo.locator("#gradcheck-verdict")).to_contain_text("correct")
    expect(demo.locator("#gradcheck-table td.bad")).to_have_count(0)
    demo.click("text=Advanced")
    demo.check("input[name=reg-gradient][value=original]")
    expect(demo.locator("[data-param='W[0,0]'] .grad")).to_have_text("-0.38")
    demo.click("text=Run gradient check")
    expect(demo.locator("#gradcheck-verdict")).to_contain_text("4× smaller")
    expect(demo.locator("#gradcheck-table td.bad")).to_have_count(6)  # the six weights; the biases pass
    expect(demo.locator("#gradcheck-table td.ok")).to_have_count(3)


def test_surface_shows_the_path_growing(demo):
    demo.check("#surface-on")
    expect(demo.locator("#surface .main-svg").first).to_be_visible()
    path = "document.getElementById('surface').data[1].x.length"
    demo.wait_for_timeout(200)
    assert demo.evaluate(path) == 1
    for n in (1, 2, 3):
        demo.click("text=Single parameter update")
        expect(demo.locator("#step-count")).to_have_text(str(n))
    demo.wait_for_function(f"() => {path} === 4")  # the surface follows at its own, lower rate
    contour = demo.evaluate("document.getElementById('surface').data[0]")
    assert contour["type"] == "contour" and len(contour["z"]) == 61
    assert len(demo.evaluate("document.getElementById('slice').data[0].y")) == 101


def test_a_shared_link_opens_the_same_state(demo, live_server, context):
    demo.select_option("#loss-type", "softmax")
    demo.locator("[data-param='W[2,1]'] button").first.click()
    expect(demo.locator("[data-param='W[2,1]'] .value")).to_have_text("-0.90")
    demo.locator("input[name=new-class][value='1']").check()
    demo.mouse.click(*to_pixels(demo, -0.8, 0.8))
    expect(rows(demo)).to_have_count(10)
    demo.click("text=Copy link to this state")
    expect(demo.locator("#share-note")).not_to_be_empty()
    url = demo.url
    assert "#" in url
    original = session_state(demo, live_server)

    other = context.new_page()
    other.goto(url)
    expect(other.locator("#total-loss")).to_have_text(demo.inner_text("#total-loss"))
    copy = session_state(other, live_server)
    assert copy["id"] != original["id"]
    for key in ("loss_type", "W", "b", "y", "step_size", "reg"):
        assert copy[key] == original[key], key
    np.testing.assert_allclose(copy["X"], original["X"], atol=1e-4)


def test_export_and_import_round_trip(demo, live_server, tmp_path):
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    path = tmp_path / "session.json"
    record = export_session(demo, path)
    assert record["step"] == 1 and len(record["history"]) == 2
    demo.get_by_role("button", name="Reset", exact=True).click()
    expect(demo.locator("#step-count")).to_have_text("0")
    demo.set_input_files("#import-file", str(path))
    expect(demo.locator("#step-count")).to_have_text("1")
    expect(demo.locator("#total-loss")).to_have_text("6.00")


def test_presets_load_generated_data(demo, live_server):
    demo.select_option("#preset", "circles")
    demo.fill("#preset-classes", "4")
    demo.fill("#preset-n", "10")
    demo.click("text=Load data")
    expect(demo.locator("#data-table thead th")).to_have_count(8)  # x0 x1 y s0..s3 L
    expect(rows(demo)).to_have_count(40)
    expect(demo.locator("#param-grid .param")).to_have_count(12)
    state = session_state(demo, live_server)
    assert len(state["X"]) == 40 and state["classes"] == 4


def test_ten_thousand_points_stay_responsive(demo, live_server):
    demo.select_option("#preset", "blobs")
    demo.fill("#preset-classes", "5")
    demo.fill("#preset-n", "2000")
    demo.click("text=Load data")
    expect(demo.locator("#table-note")).to_have_text("Showing 100 of 10000 points, evenly spaced.")
    expect(rows(demo)).to_have_count(100)
    assert len(demo.evaluate("document.getElementById('regions').data.find((t) => t.mode === 'markers').x")) == 2000
    demo.click("text=Start repeated update")
    expect(demo.locator("#step-count")).not_to_have_text("0")
    demo.wait_for_timeout(1000)
    demo.click("text=Stop repeated update")
    demo.wait_for_timeout(500)
    state = session_state(demo, live_server)
    assert state["step"] == int(demo.inner_text("#step-count")) >= 3
    first = state["scores"][0]  # after the stop the table shows the scores of the final state
    expect(rows(demo).nth(0).locator("td").nth(3)).to_have_text(f"{first[0]:.2f}".replace("-0.00", "0.00"))


def test_the_slice_follows_a_chosen_parameter(demo, live_server):
    demo.check("#surface-on")
    expect(demo.locator("#slice .main-svg").first).to_be_visible()
    demo.select_option("#slice-direction", "b[1]")
    expect(demo.locator("#slice .xtitle")).to_have_text("change of b[1]")
    offsets, loss = demo.evaluate("[document.getElementById('slice').data[0].x, document.getElementById('slice').data[0].y]")
    line = httpx.get(f"{live_server}/api/sessions/{demo.evaluate('window.app.sid')}/line",
                     params={"direction": "b[1]", "span": 3, "n": 101}).json()
    assert offsets == line["offsets"] and loss == line["loss"]
    assert loss[50] == pytest.approx(6.2667, abs=1e-4)  # the centre is the current state
