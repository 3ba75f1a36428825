"""Shared steps of the browser tests: states to put the page in, and measurements of what it shows."""

import json

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import session_state

# Every element whose content is wider than its box (scroll boxes excepted: they scroll by design), and the
# page's own width.
OVERFLOWS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.plot-layer, .surface-plot, .slice-plot, svg')) continue;
    const cs = getComputedStyle(el);
    if (['none', 'inline', 'contents'].includes(cs.display) || !el.getClientRects().length) continue;
    if (/auto|scroll/.test(cs.overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} "${el.textContent.slice(0, 40)}" ${el.scrollWidth} > ${el.clientWidth}`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) bad.push(`the page: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  return bad;
}"""


def to_pixels(page, x, y):
    """Page coordinates of the data point (x, y) on the region plot."""
    return page.evaluate(
        """([x, y]) => {
          const gd = document.getElementById('regions');
          const { xaxis, yaxis } = gd._fullLayout;
          const r = gd.getBoundingClientRect();
          return [r.left + xaxis._offset + (x + 1) / 2 * xaxis._length, r.top + yaxis._offset + (1 - y) / 2 * yaxis._length];
        }""",
        [x, y],
    )


def overflows(page):
    return page.evaluate(OVERFLOWS)


def in_viewport(page, box):
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5 \
        and box["y"] + box["height"] <= size["height"] + 0.5


def within(inner, outer):
    return inner["x"] >= outer["x"] - 0.5 and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5 \
        and inner["y"] >= outer["y"] - 0.5 and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5


def l_column_visible(page):
    """The L header, the first row's L and the mean are inside the table's box and, the table scrolled into
    view, inside the viewport (whatever the table's own horizontal scroll)."""
    page.locator(".table-wrap").scroll_into_view_if_needed()
    wrap = page.locator(".table-wrap").bounding_box()
    cells = [page.locator("#data-table th.loss-col"), page.locator("#data-table tbody tr").first.locator("td.loss-col"),
             page.locator("#data-table tfoot td.loss-col")]
    return all(within(c.bounding_box(), wrap) and in_viewport(page, c.bounding_box()) for c in cells)


def load_preset(page, preset, classes, per_class):
    page.select_option("#preset", preset)
    page.fill("#preset-classes", str(classes))
    page.fill("#preset-n", str(per_class))
    page.click("text=Load data")
    expect(page.locator("#param-grid .param")).to_have_count(3 * classes)


def load_blobs_with_tests(page, live_server):
    page.select_option("#preset", "blobs")
    page.click("#btn-preset")
    expect(page.locator("#data-table tbody tr")).to_have_count(60)
    slider = page.locator("#test-fraction")
    slider.focus()
    for _ in range(6):  # 0.05 a key: 30 %
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "30 % held out for testing")
    page.wait_for_function("() => window.app.view.state.n_test === 18")
    return session_state(page, live_server)


def diverge(page, live_server, size=1e149):
    """Gradient steps at step size 1000 until the largest weight passes ``size`` (each multiplies W by about
    -199) or the run overflows; then the page is reloaded on that session."""
    sid = page.evaluate("window.app.sid")
    with httpx.Client(base_url=live_server) as client:
        assert client.patch(f"/api/sessions/{sid}", json={"step_size": 1000}).status_code == 200
        for _ in range(200):
            state = client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()
            if state["diverged"] or max(abs(v) for row in state["W"] for v in row) >= size:
                break
    page.reload()
    expect(page.locator("#step-count")).to_have_text(str(state["step"]))
    return state


def export_session(page, path):
    """Click "Export session (JSON)" and save the download at ``path``; returns the record."""
    with page.expect_download() as download:
        page.click("text=Export session (JSON)")
    download.value.save_as(path)
    return json.loads(path.read_text())
