"""Debug only: how long the server itself delays requests, to tell its own stalls from a busy machine's.

Off unless ``LINCLASS_DEBUG_TIMINGS`` names a file (bench/attack.py sets it); then, until the server stops:

* a tick on the event loop every ``TICK`` seconds records how late it woke (``late``) and how much CPU the
  loop's thread used meanwhile. A tick late by 30 ms while the loop's thread ran 1 ms is the machine's (the
  process was not scheduled, or waited for the GIL); late by 30 ms with 30 ms of CPU is a callback holding
  the loop. ``held`` = min(late, CPU) per tick: what the loop's own work can explain of the delay.
* every HTTP request's time in the server, from its arrival in the app to its last body byte, by client
  address and kind (``health``, ``step``, ``other``): the server's latency without the client's scheduling.

* a sampling thread looks every ``SAMPLE`` seconds whether the tick is overdue by more than ``STALL``; if so it
  records where the loop's thread is (its innermost frames): ``stalls`` counts the places, each sample about
  ``SAMPLE`` seconds of a stall (a busy machine's stalls show up too, wherever the loop was waiting).

When the app stops it writes percentiles of all this as JSON to the file. No setting, no route: nothing changes
for a server started without the variable.
"""

import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict

import numpy as np

ENV = "LINCLASS_DEBUG_TIMINGS"
TICK = 0.005
MAX_SAMPLES = 200_000  # per series: the memory stays bounded however long the server runs
SAMPLE, STALL, FRAMES = 0.002, 0.005, 4


class Watch:
    def __init__(self, path):
        self.path, self.ticks, self.requests, self.task = path, [], defaultdict(list), None
        self.stalls, self.due, self.running = Counter(), None, threading.Event()

    def start(self):
        self.task = asyncio.ensure_future(self._tick())
        self.running.set()
        threading.Thread(target=self._sample, args=(threading.get_ident(),), daemon=True).start()

    async def _tick(self):
        while True:
            t0, c0 = time.perf_counter(), time.thread_time()
            self.due = t0 + TICK
            await asyncio.sleep(TICK)
            if len(self.ticks) < MAX_SAMPLES:
                self.ticks.append((time.perf_counter() - t0 - TICK, time.thread_time() - c0))

    def _sample(self, loop_thread):
        while self.running.is_set():
            time.sleep(SAMPLE)
            due = self.due
            if due is not None and time.perf_counter() > due + STALL:
                frame = sys._current_frames().get(loop_thread)
                if frame is not None and len(self.stalls) < 10_000:
                    self.stalls[_where(frame)] += 1

    def record(self, key, seconds):
        series = self.requests[key]
        if len(series) < MAX_SAMPLES:
            series.append(seconds)

    def stop(self):
        self.running.clear()
        if self.task is not None:
            self.task.cancel()
        late = np.array([t[0] for t in self.ticks] or [0.0]) * 1000
        held = np.minimum(late, np.array([t[1] for t in self.ticks] or [0.0]) * 1000)
        out = {"loop": {"ticks": len(self.ticks), **_summary("late", late), **_summary("held", held)},
               "requests": {k: {"n": len(v), **_summary("ms", np.array(v) * 1000)} for k, v in self.requests.items()},
               "stalls": self.stalls.most_common(8), "sample_ms": SAMPLE * 1000}
        with open(self.path, "w") as f:
            json.dump(out, f)


def _where(frame):
    """The innermost ``FRAMES`` frames, innermost first: ``file:line function``."""
    out = []
    while frame is not None and len(out) < FRAMES:
        out.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(out)


def _summary(name, ms):
    return {f"{name}_p50": float(np.percentile(ms, 50)), f"{name}_p99": float(np.percentile(ms, 99)),
            f"{name}_max": float(ms.max())}


class Timed:
    """ASGI middleware: each HTTP request's time in the server, into the :class:`Watch`."""

    def __init__(self, app, watch):
        self.app, self.watch = app, watch

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0, path = time.perf_counter(), scope["path"]
        kind = "health" if path == "/api/health" else "step" if path.endswith("/step") else "other"
        key = f"{(scope.get('client') or ('-',))[0]} {kind}"

        async def timed_send(message):
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.watch.record(key, time.perf_counter() - t0)

        await self.app(scope, receive, timed_send)


def install(app):
    """The :class:`Watch` if ``LINCLASS_DEBUG_TIMINGS`` is set (its middleware in front of ``app.front``, the
    fast path included), else None."""
    path = os.environ.get(ENV)
    if not path:
        return None
    watch = Watch(path)
    app.front = Timed(app.front, watch)
    return watch
