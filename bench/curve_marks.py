"""The loss curve's cost with 100 change marks, beside the same curve without marks, in headless Chromium.

Two sessions with the same 300-step history: one changed λ before every third step (100 marks), the other never.
The page is opened on each in turn and times, in-page with performance.now(), ROUNDS × DRAWS calls of the loss
curve's draw (a new figure each call, as in the repeated update; the marks live on the axes layer and are
redrawn only when they change). Prints the best round of each and their ratio (alternated, same run, so the
machine's load cancels out).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from playwright.sync_api import expect, sync_playwright

from common import figure, heading, server

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROUNDS, DRAWS = 5, 60
TIME_DRAWS = f"""async () => {{
  for (let i = 0; i < 3; i++) window.app.lossView.draw(window.app.view, false, window.app.style); // settled
  await new Promise((r) => requestAnimationFrame(r));
  const t0 = performance.now();
  for (let i = 0; i < {DRAWS}; i++) window.app.lossView.draw(window.app.view, false, window.app.style);
  return (performance.now() - t0) / {DRAWS};
}}"""


def session(client, marks):
    sid = client.post("/api/sessions", json={"seed": 1}).json()["id"]
    for i in range(100):
        if marks:
            assert client.patch(f"/api/sessions/{sid}", json={"reg": 0.1 + 0.001 * (i % 2)}).status_code == 200
        client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    return sid


def main():
    heading("Loss curve with 100 change marks vs none (in-page draw time, best of rounds)")
    with server() as url, httpx.Client(base_url=url) as client, sync_playwright() as p:
        sids = {"marks": session(client, True), "none": session(client, False)}
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        best = {k: float("inf") for k in sids}
        for _ in range(ROUNDS):
            for kind, sid in sids.items():
                page.goto(url + "/")
                page.evaluate("(sid) => sessionStorage.setItem('session', sid)", sid)
                page.reload()
                expect(page.locator("#step-count")).to_have_text("300")
                best[kind] = min(best[kind], page.evaluate(TIME_DRAWS))
        shown = page.evaluate("() => document.getElementById('loss-axes').layout.annotations?.length ?? 0")
        browser.close()
    figure("curve draw, 100 marks", best["marks"], "ms")
    figure("curve draw, no marks", best["none"], "ms")
    figure("with marks ÷ without", best["marks"] / best["none"], "×", target=1.1, info=f"(last page: {shown} labels)")


if __name__ == "__main__":
    main()
