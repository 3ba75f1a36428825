"""Issue 13, the image experiments: step times, the numerical gradient's cost, memory, the page's frame rate.

The step times are measured in this process with BLAS on one thread, as the server runs experiments.

* One minibatch SGD step (batch 256) on CIFAR-10-sized data: 49,000 × 3,072 float32, synthetic (≤ 5 ms).
* One full-batch gradient-descent step on the digits (1,197 × 64) (≤ 1 ms); a numerical-gradient step and a
  random-search try there, for the lecture's comparison.
* Memory: the server's RSS before and after 50 digits experiments of 3,000 steps each (≤ 50 MB), and what one
  experiment holds at its caps (20,000 losses, 1,000 accuracy points), traced in this process.
* The page: templates redrawn per second while training on the digits in headless Chromium (≥ 20), and where
  the page's main thread spends its time meanwhile: each view's drawing (measured by wrapping its draw method),
  the step requests' round trip, and tasks over 50 ms.

    .venv/bin/python bench/images.py [--quick]
"""

import argparse
import gc
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np

from common import PYTHON, ROOT, best_of, figure, free_port, heading, median_of, process
from app.main import one_blas_thread
from app.core import images
from app.core.experiment import MAX_ACCURACY_POINTS, MAX_HISTORY, Experiment
from app.core.optimizers import Problem, run_steps

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def step_times(quick=False):
    heading("13. Image experiments: one step")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((49_000, 3072), dtype=np.float32)
    y = rng.integers(0, 10, 49_000)
    cifar = Problem(X, y, 0.38, "svm_ww", "exact", 0.0065, 256, 1e-5, 1e-4, full_loss=False)
    state = {"W": 1e-4 * rng.standard_normal((10, 3072)), "b": np.zeros(10)}
    draws = np.random.default_rng(1)

    def sgd_step():
        r = run_steps(cifar, "sgd", state["W"], state["b"], None, draws, 1)
        state["W"], state["b"] = r.W, r.b

    sgd_step()
    figure("minibatch SGD step, batch 256, 49,000 × 3,072 (best)", 1000 * best_of(sgd_step, repeat=20 if quick else 50),
           "ms", 5)
    figure("  same, median of 21" if quick else "  same, median of 51",
           1000 * median_of(sgd_step, repeat=21 if quick else 51), "ms")
    del X, cifar

    digits = images.get("digits")
    timings = {}
    for optimizer, repeat in (("gd", 200), ("random_search", 200), ("numerical", 3)):
        e = Experiment.create(digits, seed=1, optimizer=optimizer)
        p = e.problem(digits)
        ev = p.evaluate(e.W, e.b)
        timings[optimizer] = best_of(lambda: run_steps(p, optimizer, e.W, e.b, ev, e.rng, 1), repeat=repeat)
        e.run(digits, 1)
        timings[optimizer + " evals"] = e.loss_evals
    figure("full-batch gradient-descent step on digits (best)", 1000 * timings["gd"], "ms", 1)
    figure("random-search try on digits (best)", 1000 * timings["random_search"], "ms")
    figure("numerical-gradient step on digits (best of 3)", 1000 * timings["numerical"], "ms",
           info=f"{timings['numerical evals']:,} loss evaluations (2·P + 1, P = 650)")
    figure("  numerical ÷ analytic step time", timings["numerical"] / timings["gd"], "×")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def train(client, url, steps):
    eid = client.post(f"{url}/api/experiments", json={"dataset": "digits"}).json()["id"]
    done = 0
    while done < steps:  # each request is cut at about a second of compute
        done = client.post(f"{url}/api/experiments/{eid}/step", json={"steps": min(1000, steps - done)}).json()["step"]
    return eid


def server_memory(count, steps):
    heading("13. Image experiments: memory")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [PYTHON, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log", "--log-level", "warning"]
    ready = lambda: httpx.get(f"{url}/api/health").status_code == 200
    with process(cmd, ready, "the server", cwd=ROOT, env=dict(os.environ)) as proc, httpx.Client(timeout=60) as client:
        train(client, url, steps)  # the dataset loaded, every code path warm
        before = rss_mb(proc.pid)
        for _ in range(count):
            train(client, url, steps)
        after = rss_mb(proc.pid)
    figure(f"server RSS added by {count} digits experiments of {steps:,} steps", after - before, "MB", 50,
           info=f"{before:.0f} → {after:.0f} MB")

    digits = images.get("digits")
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = []
    for i in range(count):  # at the caps: as long a history as an experiment ever keeps
        e = Experiment.create(digits, seed=i)
        e.history = [float(v) for v in np.random.default_rng(i).random(MAX_HISTORY)]
        on_train, on_val = np.random.default_rng(i).random((2, MAX_ACCURACY_POINTS))
        e.accuracy = [[s, float(a), float(v)] for s, a, v in zip(range(MAX_ACCURACY_POINTS), on_train, on_val)]
        kept.append(e)
    gc.collect()
    held = (tracemalloc.get_traced_memory()[0] - base) / count
    tracemalloc.stop()
    figure(f"one experiment at its caps ({MAX_HISTORY:,} losses, {MAX_ACCURACY_POINTS:,} points)", held / 2**20, "MB",
           info=f"× {count} = {count * held / 2**20:.0f} MB")


# Wraps the page's drawing methods and fetch to time them: {name: [calls, total ms]}, and long tasks.
MEASURE = """() => {
  const app = window.app, spent = (window.spent = { "long tasks (over 50 ms)": [0, 0] });
  const time = (obj, method, name) => {
    const original = obj[method].bind(obj);
    spent[name] = [0, 0];
    obj[method] = (...args) => {
      const t0 = performance.now();
      try { return original(...args); } finally { spent[name][0]++; spent[name][1] += performance.now() - t0; }
    };
  };
  time(app, "render", "render: templates, texts, curves when due");
  time(app.templates, "draw", "templates");
  time(app.curves, "draw", "curves (loss, accuracy)");
  time(app, "drawResults", "results (heatmap, grid)");
  time(app.grid, "draw", "test-image grid");
  const fetched = window.fetch;
  spent["step round trip"] = [0, 0];
  window.fetch = async (...args) => {
    const t0 = performance.now();
    const answer = await fetched(...args);
    if (String(args[0]).includes("/step")) { spent["step round trip"][0]++; spent["step round trip"][1] += performance.now() - t0; }
    return answer;
  };
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) { spent["long tasks (over 50 ms)"][0]++; spent["long tasks (over 50 ms)"][1] += task.duration; }
  }).observe({ entryTypes: ["longtask"] });
}"""


def page_fps(duration):
    from playwright.sync_api import sync_playwright

    from common import server

    heading("13. Image experiments: the page")
    with server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/images")
        page.wait_for_function("() => window.app && window.app.frames > 0", timeout=60_000)
        page.evaluate(MEASURE)
        page.click("#btn-run")
        page.wait_for_timeout(1000)  # warm up
        fps, steps, spent = page.evaluate(
            """async (duration) => {
              const app = window.app, f0 = app.frames, s0 = app.view.state.step, t0 = performance.now();
              for (const v of Object.values(window.spent)) v.fill(0);
              await new Promise((resolve) => setTimeout(resolve, duration * 1000));
              const seconds = (performance.now() - t0) / 1000;
              return [(app.frames - f0) / seconds, (app.view.state.step - s0) / seconds, window.spent];
            }""", duration)
        page.click("#btn-stop")
        browser.close()
    figure("templates redrawn while training on digits (10 steps/update)", fps, "/s", 20, at_least=True,
           info=f"{steps:.0f} steps/s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, (calls, ms) in spent.items():  # the main thread's time per second of training, by what spent it
        figure(f"  {name}", ms / duration, "ms/s",
               info=f"{calls / duration:.1f} a second, {ms / max(calls, 1):.1f} ms each")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 10 experiments of 1,000 steps for the memory figure")
    args = parser.parse_args(argv)
    one_blas_thread()  # as the server computes (see app.main.one_blas_thread)
    step_times(args.quick)
    server_memory(10 if args.quick else 50, 1000 if args.quick else 3000)
    page_fps(5.0)


if __name__ == "__main__":
    main()
