"""Held-out data on the page: the train/test and noise sliders, Regenerate, hollow test points that the editor
never touches, the test curve and the test accuracy."""

from playwright.sync_api import expect

from app.core.datasets import NOISE
from tests.browser.conftest import session_state
from tests.browser.helpers import load_blobs_with_tests, to_pixels

TEST_TRACE = "() => document.getElementById('regions').data.find((t) => t.name === 'test points') ?? null"


def test_the_test_slider_holds_points_out_drawn_hollow(demo, live_server):
    expect(demo.locator("#test-accuracy")).to_have_text("—")
    state = load_blobs_with_tests(demo, live_server)
    assert state["n_points"] == 42 and state["n_test"] == 18 and state["preset"]["test_fraction"] == 0.3
    trace = demo.evaluate(TEST_TRACE)
    assert len(trace["x"]) == 18 and all(s.endswith("-open") for s in trace["marker"]["symbol"])
    points = sorted(zip(trace["x"], trace["y"]))
    assert points == sorted((x, y) for x, y in state["X_test"])
    # the training points are the other 42, filled
    filled = demo.evaluate("() => document.getElementById('regions').data.filter((t) => t.mode === 'markers' && t.name !== 'test points')[0]")
    assert len(filled["x"]) == 42 and not any(s.endswith("-open") for s in filled["marker"]["symbol"])
    expect(demo.locator("#test-accuracy")).to_have_text(f"{round(100 * state['test_accuracy'])} %")


def test_steps_draw_a_test_curve_in_the_legend(demo, live_server):
    load_blobs_with_tests(demo, live_server)
    for n in range(1, 4):
        demo.click("#btn-step")
        expect(demo.locator("#step-count")).to_have_text(str(n))
    state = session_state(demo, live_server)
    curve = demo.evaluate("() => document.getElementById('loss-curve').data.find((t) => t.name === 'test data loss')")
    assert curve["x"] == [0, 1, 2, 3] and curve["y"] == state["test_history"]
    assert curve["line"]["dash"] == "dot"
    expect(demo.locator("#loss-legend")).to_contain_text("test data loss")
    expect(demo.locator("#test-accuracy")).to_have_text(f"{round(100 * state['test_accuracy'])} %")


def test_regenerate_draws_new_points_and_noise_follows_the_preset(demo, live_server):
    before = load_blobs_with_tests(demo, live_server)
    assert demo.locator("#noise").get_attribute("max") == str(NOISE["blobs"][1])
    demo.locator("#noise").focus()
    demo.keyboard.press("End")
    expect(demo.locator("#noise-value")).to_have_text("0.5")
    demo.wait_for_function("() => window.app.view.state.preset.noise === 0.5")
    moved = session_state(demo, live_server)
    assert moved["preset"]["seed"] == before["preset"]["seed"] and moved["X"] != before["X"]  # same draw, wider
    demo.click("#btn-regenerate")
    demo.wait_for_function(f"() => window.app.view.state.preset.seed !== {moved['preset']['seed']}")
    fresh = session_state(demo, live_server)
    assert fresh["n_test"] == 18 and fresh["preset"]["noise"] == 0.5 and fresh["X"] != moved["X"]
    assert len(demo.evaluate(TEST_TRACE)["x"]) == 18
    page_noise = demo.evaluate("async () => (await import('/static/js/datapanel.js')).NOISE")
    assert page_noise == {k: list(v) for k, v in NOISE.items()}


def test_test_points_are_described_on_hover_and_never_edited(demo, live_server):
    state = load_blobs_with_tests(demo, live_server)
    train = state["X"]
    lonely = next(p for p in state["X_test"] if min(abs(p[0] - q[0]) + abs(p[1] - q[1]) for q in train) > 0.08)
    demo.evaluate("window.scrollTo(0, 0)")  # the sliders scrolled the plane away
    demo.mouse.move(*to_pixels(demo, *lonely))
    info = demo.locator("#point-info")
    expect(info).to_contain_text("test point")
    expect(info).to_contain_text("held out")
    demo.mouse.click(*to_pixels(demo, *lonely))  # a click on a test point adds nothing, moves nothing
    demo.wait_for_timeout(300)
    after = session_state(demo, live_server)
    assert after["X"] == state["X"] and after["X_test"] == state["X_test"]


def test_the_original_points_have_no_test_split(demo):
    expect(demo.locator("#test-fraction")).to_be_disabled()
    expect(demo.locator("#noise")).to_be_disabled()
    demo.select_option("#preset", "random")
    expect(demo.locator("#test-fraction")).to_be_enabled()
    expect(demo.locator("#noise")).to_be_disabled()  # the uniform preset has no spread
    expect(demo.locator("#noise")).to_have_attribute("aria-valuetext", "none for this preset")
