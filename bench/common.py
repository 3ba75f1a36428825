"""Shared by the benchmarks: a server in a subprocess, percentiles, and one line per figure with its target."""

import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = []  # (name, value, unit, goal, holds) of every figure printed in this process


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, proc, what, timeout=20.0):
    """Poll ``ready()`` until it is true; fail if ``proc`` exits or ``timeout`` seconds pass."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if ready():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:g} s")


@contextmanager
def process(args, ready, what, **kw):
    """A subprocess, yielded once ``ready()`` holds, terminated (or killed) afterwards."""
    proc = subprocess.Popen(args, **kw)
    try:
        wait_until(ready, proc, what)
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc):
    """Terminate ``proc``, killing it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def server(**env):
    """``uvicorn app.main:create_app`` (uvloop, httptools, no access log) on a free loopback port; yields its URL.

    ``env`` sets ``LINCLASS_*`` settings, e.g. ``server(max_points=100_000)``.
    """
    import httpx

    port = free_port()
    environ = {**os.environ, **{f"LINCLASS_{k.upper()}": str(v) for k, v in env.items()}}
    cmd = [PYTHON, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
           "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    with process(cmd, lambda: httpx.get(f"{url}/api/health").status_code == 200, "the server", cwd=ROOT, env=environ):
        yield url


def percentile(values, q):
    """The ``q``-th percentile (0–100) by linear interpolation, as NumPy's default."""
    v = sorted(values)
    i = (len(v) - 1) * q / 100
    lo = int(i)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)


def best_of(fn, repeat=7, number=1):
    """Smallest mean time (s) of ``number`` calls of ``fn`` over ``repeat`` rounds: the least disturbed run."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def median_of(fn, repeat=21):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def heading(text):
    print(f"\n{text}")


def figure(name, value, unit, target=None, aim=None, info="", at_least=False):
    """Print one figure; ``target`` is an upper bound, or a lower one with ``at_least`` (``None``: informational)."""
    holds = None if target is None else (value >= target if at_least else value <= target)
    mark = {None: "    ", True: " ok ", False: "MISS"}[holds]
    sign = "≥" if at_least else "≤"
    goal = "" if target is None else f"{sign} {target:g}{unit}" + (f" (aim {aim:g}{unit})" if aim is not None else "")
    print(f"  [{mark}] {name:<52s} {value:10.3f} {unit:<3s} {goal:<26s} {info}")
    RESULTS.append((name, value, unit, goal, holds))
    return holds
