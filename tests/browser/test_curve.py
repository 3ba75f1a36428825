"""The loss curve: a clean origin, readable log ticks, zero losses kept on a log scale (on the floor, marked),
overflowing losses clamped with a note instead of breaking the axis."""

import math

import httpx
from playwright.sync_api import expect

from tests.browser.helpers import diverge

CEILING = 1e300  # static/js/curve.js

BOXES = """(sel) => [...document.querySelectorAll(sel)].map((e) => {
  const r = e.getBoundingClientRect();
  return { text: e.textContent, x: r.x, y: r.y, width: r.width, height: r.height };
})"""


def overlap(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def plot_area(page):
    """The loss plot's drawing area in page coordinates."""
    return page.evaluate("""() => {
      const gd = document.getElementById('loss-axes');
      const { xaxis, yaxis } = gd._fullLayout;
      const r = gd.getBoundingClientRect();
      return { x: r.x + xaxis._offset, y: r.y + yaxis._offset, width: xaxis._length, height: yaxis._length };
    }""")


def traces(page):
    return page.evaluate("document.getElementById('loss-curve').data.map((t) => ({ x: t.x, y: t.y, symbol: t.marker.symbol, mode: t.mode }))")


def api(live_server, page, method, path, **body):
    sid = page.evaluate("window.app.sid")
    r = httpx.request(method, f"{live_server}/api/sessions/{sid}{path}", json=body or None, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_origin_is_clean_and_step_0_is_whole(demo):
    x_zero = [b for b in demo.evaluate(BOXES, "#loss-axes .xtick text") if b["text"] == "0"]
    y_zero = [b for b in demo.evaluate(BOXES, "#loss-axes .ytick text") if b["text"] == "0"]
    assert len(x_zero) == 1 and len(y_zero) == 1
    assert not overlap(x_zero[0], y_zero[0])
    marker = demo.evaluate(BOXES, "#loss-curve .scatterlayer .point")[0]
    area = plot_area(demo)
    assert area["x"] <= marker["x"] and marker["x"] + marker["width"] <= area["x"] + area["width"]
    assert area["y"] <= marker["y"] and marker["y"] + marker["height"] <= area["y"] + area["height"]


def test_log_ticks_read_as_powers_of_ten(demo):
    demo.click("text=Single parameter update")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.check("#log-y")
    demo.wait_for_timeout(300)
    labels = [b["text"] for b in demo.evaluate(BOXES, "#loss-axes .ytick text")]
    assert labels and all(math.log10(float(t)).is_integer() for t in labels), labels  # no "5", "2" or "100µ"
    assert "1" in labels and "10" in labels


def test_zero_losses_stay_on_a_log_scale_on_the_floor_and_marked(demo, live_server):
    api(live_server, demo, "PATCH", "", reg=0)
    api(live_server, demo, "POST", "/step", steps=2000)  # λ = 0: the data loss reaches 0 at step 174
    history = api(live_server, demo, "GET", "")["history"]
    zeros = [i for i, v in enumerate(history) if v == 0]
    assert len(zeros) > 1000
    demo.reload()
    expect(demo.locator("#step-count")).to_have_text("2000")
    demo.check("#log-y")
    expect(demo.locator("#curve-note")).to_contain_text("Zero losses")
    drawn = traces(demo)
    line = drawn[0]
    assert line["x"][-1] == 2000  # the curve runs to the last step
    floor = min(line["y"])
    assert floor > 0 and all(y > 0 for t in drawn for y in t["y"])
    assert line["y"][line["x"].index(zeros[-1])] == floor
    marks = [t for t in drawn if t["mode"] == "markers" and isinstance(t["symbol"], list)]
    assert marks and set(marks[0]["symbol"]) == {"triangle-down"} and set(marks[0]["y"]) == {floor}
    bottom = demo.evaluate("document.getElementById('loss-axes')._fullLayout.yaxis.range[0]")
    assert bottom < math.log10(floor) <= bottom + 1  # on the axis' lowest line, inside the plot


def test_overflowing_losses_are_clamped_with_a_note(demo, live_server):
    state = diverge(demo, live_server, size=math.inf)  # to the last finite state
    assert state["diverged"] and state["loss"] > CEILING
    expect(demo.locator("#curve-note")).to_contain_text("above 1e+300")
    drawn = traces(demo)
    assert max(y for t in drawn for y in t["y"]) == CEILING
    assert any(isinstance(t["symbol"], list) and "triangle-up" in t["symbol"] for t in drawn)
    ticks = demo.evaluate(BOXES, "#loss-axes .ytick text")
    title = demo.evaluate(BOXES, "#loss-axes .ytitle")[0]
    assert all(len(t["text"]) <= 8 for t in ticks), ticks
    assert not any(overlap(t, title) for t in ticks)
    assert demo.locator("#loss-axes .ytick text").first.is_visible()
