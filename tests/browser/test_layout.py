"""Layouts for every classroom: a 1024×768 projector, presentation mode, ten classes at 1280 px and on a
390 px phone, a diverged run with parameters near 1e150, and numbers that always fit."""

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import diverge, in_viewport, l_column_visible, load_preset, overflows

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
NUMBER = re.compile(r"^-?(\d{1,5}\.\d{2}|\d\.\d{1,2}e[+-]\d{1,3})$")  # the page's format for two-decimal values


def projector_parts(page):
    """The four things a class must see: the plane, the parameters, the table's L column and the totals."""
    parts = {"plane": "#regions", "parameters": "#param-grid", "L header": "#data-table th.loss-col",
             "mean of L": "#data-table tfoot td.loss-col", "totals": ".totals"}
    boxes = {name: page.locator(sel).bounding_box() for name, sel in parts.items()}
    boxes.update({f"L of row {i}": b for i, b in enumerate(page.locator("#data-table tbody td.loss-col").evaluate_all(
        "(cells) => cells.map((c) => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })"))})
    return {name: box for name, box in boxes.items() if not in_viewport(page, box)}


def test_a_projector_at_1024x768_shows_plane_parameters_l_and_totals(page, live_server, console):
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    assert projector_parts(page) == {}
    assert overflows(page) == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "projector-1024x768.png")
    assert console == []


def test_presentation_mode_enlarges_type_is_remembered_and_in_the_link(page, live_server, context, console):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    size = "(el) => parseFloat(getComputedStyle(el).fontSize)"
    normal = page.locator("#total-loss").evaluate(size)
    tick = "() => document.getElementById('regions-axes')._fullLayout.xaxis.tickfont.size"
    normal_tick = page.evaluate(tick)
    page.check("#present")
    expect(page.locator("html")).to_have_class(re.compile(r"\bpresent\b"))
    assert page.locator("#total-loss").evaluate(size) >= normal * 1.15
    assert page.evaluate(tick) >= normal_tick + 4  # plot labels grow too
    assert "present=1" in page.url
    assert projector_parts(page) == {}  # still fits a 1280×720 projector
    assert overflows(page) == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "presentation-1280x720.png")

    page.goto(live_server + "/")  # remembered without the link
    expect(page.locator("html")).to_have_class(re.compile(r"\bpresent\b"))
    expect(page.locator("#present")).to_be_checked()
    page.uncheck("#present")
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bpresent\b"))
    assert "present=1" not in page.url

    other = context.browser.new_context(viewport={"width": 1280, "height": 720})  # a fresh browser: the link alone
    shared = other.new_page()
    shared.goto(live_server + "/#present=1")
    expect(shared.locator("html")).to_have_class(re.compile(r"\bpresent\b"))
    expect(shared.locator("#total-loss")).to_have_text("6.27")
    other.close()
    assert console == []


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["1280", "phone"])
def test_ten_classes_fit_with_nothing_cut_off(page, live_server, console, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    assert page.get_attribute("#preset-classes", "max") == "10"
    load_preset(page, "blobs", 10, 4)
    expect(page.locator("#data-table thead th")).to_have_count(14)
    expect(page.locator("#class-picker label")).to_have_count(10)
    assert overflows(page) == []
    assert l_column_visible(page)
    width = viewport[0]
    for sel in ["#class-picker label", "[data-param^='b[']", "#param-grid .value"]:
        for box in page.locator(sel).evaluate_all("(els) => els.map((e) => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"):
            assert 0 <= box[0] and box[1] <= width, (sel, box)
    page.locator(".table-wrap").evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")  # every column can be reached
    expect(page.locator("#data-table th", has_text="s[9]")).to_be_in_viewport()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"ten-classes-{width}.png", full_page=True)
    assert console == []


@pytest.mark.parametrize("viewport", [(1280, 800), (1024, 768)], ids=["1280", "1024"])
def test_a_diverged_run_near_1e150_fits(page, live_server, console, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    state = diverge(page, live_server)
    assert max(abs(v) for row in state["W"] for v in row) >= 1e149
    assert overflows(page) == []
    assert l_column_visible(page)
    values = (page.locator("#param-grid .value").all_inner_texts() + page.locator("#param-grid .grad").all_inner_texts()
              + page.locator("#data-table tbody td:not(.label)").all_inner_texts()
              + [page.inner_text(s) for s in ("#data-loss", "#reg-loss", "#total-loss")])
    bad = [v for v in values if not NUMBER.match(v) or len(v.lstrip("-")) > 8]
    assert bad == []
    assert page.inner_text("[data-param='W[0,0]'] .value") == f"{state['W'][0][0]:.1e}"  # three exponent digits: one decimal
    if viewport == (1024, 768):
        assert projector_parts(page) == {}
    else:  # the lab panels too: their numbers fit, and a surface below the numbers' precision is explained
        page.click("text=Run gradient check")
        expect(page.locator("#gradcheck-table tbody tr")).to_have_count(9)
        page.check("#surface-on")
        expect(page.locator("#surface-msg")).to_contain_text("below the precision")
        assert overflows(page) == []
    assert console == []


def test_values_keep_their_place_when_signs_and_digits_change(demo):
    right = "(els) => els.map((e) => Math.round(e.getBoundingClientRect().right * 10) / 10)"
    value = demo.locator("[data-param='b[0]'] .value")
    before = value.evaluate("(e) => e.getBoundingClientRect().right")
    columns = demo.locator("#data-table thead th").evaluate_all(right)
    demo.locator("[data-param='b[0]'] button").last.click()  # 0.00 → -0.10: a sign appears
    expect(value).to_have_text("-0.10")
    assert value.evaluate("(e) => e.getBoundingClientRect().right") == pytest.approx(before, abs=0.5)
    for n in (1, 2):  # scores change sign and digit count; the columns stay put
        demo.click("text=Single parameter update")
        expect(demo.locator("#step-count")).to_have_text(str(n))
    assert demo.locator("#data-table thead th").evaluate_all(right) == columns


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (0, 2, "0.00"), (-0.001, 2, "0.00"), (6.2667, 2, "6.27"), (-4, 2, "-4.00"), (99999.99, 2, "99999.99"),
    (100000, 2, "1.00e+5"), (2.2489623394129738e28, 2, "2.25e+28"), (-5.1851503259604554e151, 2, "-5.2e+151"),
    (1.7e308, 2, "1.7e+308"), (0.1, 5, "0.10000"), (1000, 5, "1000.000"), (0.0001, 5, "0.00010"), (12345678, 0, "12345678"),
])
def test_one_number_format_for_every_value(demo, value, decimals, text):
    shown = demo.evaluate("async ([v, d]) => (await import('/static/js/format.js')).formatNumber(v, d)", [value, decimals])
    assert shown == text


def test_nothing_overflows_at_common_screen_sizes_in_either_mode(page, live_server, console):
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    found = {}
    for present in (False, True):
        page.set_checked("#present", present)
        for size in [(320, 640), (390, 844), (768, 1024), (900, 700), (1024, 768), (1366, 768), (1920, 1080)]:
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.wait_for_timeout(150)  # the plots follow the window's size
            if problems := overflows(page):
                found[(present, size)] = problems
    assert found == {}
    assert console == []


FADE = "() => getComputedStyle(document.querySelector('#data-table tbody td.loss-col'), '::after').content"


def test_columns_scrolling_beneath_the_l_column_fade_into_it(page, live_server, console):
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    assert page.evaluate(FADE) == "none"  # everything fits: no edge to show
    diverge(page, live_server)  # scores near 1e151 make the table wider than its box
    expect(page.locator(".table-wrap")).to_have_class(re.compile(r"\boverflowing\b"))
    assert page.evaluate(FADE) == '""'  # the fade over the slivers of the cells beneath
    assert console == []


def test_a_tiny_positive_loss_reads_below_0_01_not_as_a_zero(demo, live_server):
    sid = demo.evaluate("window.app.sid")
    body = {"X": [[0.5, 0.5], [-0.5, -0.5], [0, 0.5]], "y": [0, 1, 2], "W": [[1.996, 0], [0, 0], [0, 0]], "b": [0, 0, 0]}
    state = httpx.patch(f"{live_server}/api/sessions/{sid}", json=body).json()
    assert 0 < state["losses"][0] < 0.005
    demo.reload()
    first = demo.locator("#data-table tbody tr").first.locator("td.loss")
    expect(first).to_have_text("<0.01")
    expect(first).not_to_have_class(re.compile(r"\bzero\b"))  # framed as a positive loss, not ticked
