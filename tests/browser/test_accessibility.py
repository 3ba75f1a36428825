"""An automated accessibility audit (axe-core, bundled by the axe-playwright-python package: nothing is fetched)
of the page in its main states: no serious or critical violations."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import diverge, load_preset

AXE = Axe()


def serious(page):
    """The serious and critical violations, one line each (rule: the elements it names)."""
    results = AXE.run(page).response
    assert results["testEngine"]["name"] == "axe-core" and results["passes"] is not None
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def open_lab(page):
    page.click("text=Run gradient check")
    expect(page.locator("#gradcheck-table tbody tr")).to_have_count(9)
    page.check("#surface-on")
    expect(page.locator("#surface .main-svg").first).to_be_visible()
    expect(page.locator("#slice .main-svg").first).to_be_visible()
    page.click("text=Advanced")


def teach_what_goes_wrong(page):
    """Held-out points, a stale gradient check and the divergence message with its remedies (issue 12)."""
    load_preset(page, "blobs", 3, 20)
    page.locator("#test-fraction").focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.app.view.state.n_test === 18")
    page.click("text=Run gradient check")
    expect(page.locator("#gradcheck-table tbody tr")).to_have_count(9)
    page.click("#step-size-value")
    page.locator(".num-input").fill("10")
    page.keyboard.press("Enter")
    page.click("#btn-start")
    expect(page.locator("#run-msg .remedies button")).to_have_count(2, timeout=10_000)
    expect(page.locator("#gradcheck-stale")).to_be_visible()


STATES = {
    "default": lambda page, live_server: None,
    "diverged": lambda page, live_server: diverge(page, live_server),
    "ten classes": lambda page, live_server: load_preset(page, "blobs", 10, 3),
    "lab panels open": lambda page, live_server: open_lab(page),
    "diverging, test data, stale check": lambda page, live_server: teach_what_goes_wrong(page),
    "presentation, original colours": lambda page, live_server: (page.check("#present"), page.check("#original-colors")),
}


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["1280", "phone"])
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_or_critical_violations(page, live_server, console, state, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(live_server + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    STATES[state](page, live_server)
    page.wait_for_timeout(300)
    assert serious(page) == []
    assert console == []


def test_the_audit_finds_what_it_should(demo):
    # The audit is live: text as light as the old class-picker orange (2.68:1) is reported.
    demo.evaluate("document.querySelector('.hint').style.color = '#e08a1e'")
    assert any(line.startswith("color-contrast") for line in serious(demo))
