"""Frames per second of the repeated update in headless Chromium, beside a bare Plotly.react loop.

The page: "Start repeated update" at the defaults; every render (regions, lines, arrows, parameter panel,
table, loss curve) is counted in-page with performance.now() over DURATION seconds. The peer: a bare page
on the same origin that only calls Plotly.react on the same two figures in a requestAnimationFrame loop,
with no network. Prints both and their ratio.

Then the same run on 10,000 points (blobs, 5 classes × 2,000), and both runs again with the loss surface
shown: the surface must not cost the update more than a fifth of its rate.

    .venv/bin/python bench/animation.py [--rounds 3]    # each figure the best of the rounds
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import expect, sync_playwright

from common import figure, heading, server

CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's chromium (the /usr/bin wrapper prints a harmless warning)
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

DURATION = 5.0
BARE = """<!doctype html><html><head><script src="/vendor/plotly.min.js"></script></head><body>
<div style="position:relative;width:430px;height:430px"><div id="regions-axes" style="position:absolute;inset:0"></div>
<div id="regions" style="position:absolute;inset:0"></div></div>
<div style="position:relative;width:1200px;height:240px"><div id="curve-axes" style="position:absolute;inset:0"></div>
<div id="curve" style="position:absolute;inset:0"></div></div>
<script type="module">
import { regionsFigure, lossFigure, planeAxesFigure, lossAxesFigure } from "/static/js/plots.js";
const state = await (await fetch("/api/sessions", { method: "POST" })).json();
let frames = 0, t0 = 0, ranges = "";
const axes = planeAxesFigure();
Plotly.react("regions-axes", axes.data, axes.layout, { staticPlot: true });
const history = [state.loss];
function frame(now) {
  if (!t0) t0 = now;
  const W = state.W.map((r) => r.map((v) => v * (1 - 0.001 * (frames % 100))));
  history.push(history[history.length - 1] * 0.999);
  const s = { ...state, W };
  const r = regionsFigure(s);
  Plotly.react("regions", r.data, r.layout, { staticPlot: true });
  const view = { history: history.slice(), historyStart: 0, state: { segments: state.segments } };
  const c = lossFigure(view, false);
  if (JSON.stringify(c.ranges) !== ranges) {
    ranges = JSON.stringify(c.ranges);
    const a = lossAxesFigure(c.ranges);
    Plotly.react("curve-axes", a.data, a.layout, { staticPlot: true });
  }
  Plotly.react("curve", c.data, c.layout, { displayModeBar: false });
  frames++;
  if (now - t0 < %DURATION% * 1000) requestAnimationFrame(frame);
  else window.result = frames / ((now - t0) / 1000);
}
requestAnimationFrame(frame);
</script></body></html>"""


def page_fps(page, base, large=False, surface=False):
    page.goto(base + "/")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    if large:
        page.select_option("#preset", "blobs")
        page.fill("#preset-classes", "5")
        page.fill("#preset-n", "2000")
        page.click("text=Load data")
        expect(page.locator("#table-note")).to_contain_text("of 10000 points")
    if surface:
        page.check("#surface-on")
        page.wait_for_function("() => document.getElementById('surface').data !== undefined"
                               " || document.getElementById('surface-msg').textContent !== ''", timeout=120_000)
        if page.inner_text("#surface-msg"):
            raise RuntimeError(f"the surface failed: {page.inner_text('#surface-msg')}")
    page.click("text=Start repeated update")
    page.wait_for_timeout(500)  # warm up
    fps = page.evaluate(
        """async (duration) => {
          const app = window.app.plane ?? window.app; // the plane counts its frames (earlier: the app)
          const r0 = app.frames, t0 = performance.now();
          await new Promise((resolve) => setTimeout(resolve, duration * 1000));
          return (app.frames - r0) / ((performance.now() - t0) / 1000);
        }""",
        DURATION,
    )
    page.click("text=Stop repeated update")
    page.wait_for_timeout(300)
    steps = int(page.inner_text("#step-count").replace(",", ""))
    return fps, steps


def bare_fps(page, base):
    page.route(base + "/bare", lambda route: route.fulfill(
        status=200, content_type="text/html", body=BARE.replace("%DURATION%", str(DURATION))))
    page.goto(base + "/bare")
    page.wait_for_function("window.result !== undefined", timeout=(DURATION + 10) * 1000)
    return page.evaluate("window.result")


CASES = {  # name: (large, surface)
    "9 points": (False, False), "9 points, surface shown": (False, True),
    "10,000 points": (True, False), "10,000 points, surface shown": (True, True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each case; the best is printed")
    args = parser.parse_args(argv)
    best = {name: (0.0, 0) for name in CASES}
    # a loaded machine may take more than the default 10 s for a 10,000-point surface: measure, do not refuse
    with server(lab_budget=120) as base, sync_playwright() as p:  # noqa: SIM117
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.rounds):  # the cases alternate, so that a busy moment of the machine hits all alike
            for name, (large, surface) in CASES.items():
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                best[name] = max(best[name], page_fps(page, base, large, surface))
                page.close()
        bare = bare_fps(browser.new_page(viewport={"width": 1280, "height": 800}), base)
        browser.close()
    heading(f"3. Animation: repeated update, headless Chromium, {DURATION:g} s each, best of {args.rounds}")
    fps, steps = best["9 points"]
    figure("page, 9 points: full redraws per second", fps, "/s", 50, at_least=True, info=f"{steps} steps taken")
    figure("bare page: Plotly.react of the same figures, no network", bare, "/s")
    figure("page ÷ bare", fps / bare, "×")
    large, steps = best["10,000 points"]
    figure("page, 10,000 points: redraws per second", large, "/s", 30, at_least=True, info=f"{steps} steps taken")
    for size, alone in (("9 points", fps), ("10,000 points", large)):
        shown, steps = best[f"{size}, surface shown"]
        figure(f"page, {size}, surface shown: redraws per second", shown, "/s", info=f"{steps} steps taken")
        figure(f"  ÷ without the surface ({size})", shown / alone, "×", 0.8, at_least=True)

if __name__ == "__main__":
    sys.exit(main())
