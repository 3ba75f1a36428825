"""Messages where the user is looking: beside the control that caused them (or in the toast fixed in the
viewport when that place is out of view), cleared by the next success; explanations that follow the data."""

from playwright.sync_api import expect

from tests.browser.helpers import export_session, in_viewport, load_preset


def test_an_error_raised_while_scrolled_down_appears_in_view_beside_its_button(demo, console):
    demo.locator("#btn-preset").scroll_into_view_if_needed()
    demo.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # the Data panel, far below the header
    demo.select_option("#preset", "blobs")
    demo.fill("#preset-classes", "1")
    demo.click("text=Load data")
    message = demo.locator("#preset-msg")
    expect(message).to_contain_text("classes")
    assert in_viewport(demo, message.bounding_box())
    button, box = demo.locator("#btn-preset").bounding_box(), message.bounding_box()
    assert abs(box["y"] - (button["y"] + button["height"])) < 60  # right under the button that caused it
    demo.fill("#preset-classes", "3")
    demo.click("text=Load data")
    expect(message).to_have_text("")  # cleared by the next success
    expect(demo.locator("#param-grid .param")).to_have_count(9)
    console[:] = [c for c in console if "422" not in c]  # the refused request, logged by the browser


def test_a_successful_import_replaces_the_failure_message(demo, tmp_path, live_server):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    demo.set_input_files("#import-file", str(bad))
    note = demo.locator("#share-note")
    expect(note).to_contain_text("Import failed")
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    good = tmp_path / "good.json"
    assert export_session(demo, good)["step"] == 1
    demo.set_input_files("#import-file", str(good))
    expect(note).to_have_text("Imported good.json.")


def test_a_message_whose_place_is_out_of_view_is_repeated_in_the_toast(demo):
    # λ = 10, step size 0.2: W ← W·(1 − 2·10·0.2) = −3 W per step: the run is seen diverging (and stopped)
    # within a few frames of Start, pressed here while the page is scrolled down to the curve
    demo.locator("#reg").fill("1")
    expect(demo.locator("#reg-value")).to_have_text("10.00000")
    demo.click("#step-size-value")
    demo.locator(".control-head .num-input").fill("0.2")
    demo.keyboard.press("Enter")
    expect(demo.locator("#step-size-value")).to_have_text("0.20000")
    demo.select_option("#steps-per-frame", "10")
    demo.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # reading the curve
    demo.evaluate("document.getElementById('btn-start').click()")  # a click that does not scroll
    toast = demo.locator("#toast")
    rule = "2·λ·step size = 2·10·0.2 = 4 ≥ 2: the regularization's own update multiplies W by −3 every step"
    expect(demo.locator("#status")).to_contain_text(rule, timeout=20_000)
    assert in_viewport(demo, toast.bounding_box())
    expect(demo.locator("#run-msg")).to_contain_text(rule)
    demo.get_by_role("button", name="Reset", exact=True).click()
    expect(demo.locator("#step-count")).to_have_text("0")
    expect(demo.locator("#status")).to_have_text("")  # the next success clears both
    expect(demo.locator("#run-msg")).to_have_text("")


def test_the_explanations_follow_the_number_of_classes(demo):
    expect(demo.locator(".explain .k-count")).to_have_text("3")
    expect(demo.locator(".explain .k-scores")).to_have_text("3 scores s[0], s[1], s[2]")
    load_preset(demo, "blobs", 5, 4)
    expect(demo.locator(".explain .k-count")).to_have_text("5")
    expect(demo.locator(".explain .k-scores")).to_have_text("5 scores s[0] … s[4]")
    assert "three" not in demo.inner_text(".explain")
