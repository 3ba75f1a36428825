"""Issue item 6: memory per idle default session, and a bounded store under 100,000 creations.

Sessions are created the way ``POST /api/sessions`` creates them (``Trainer.create``, ``MemoryStore.create``
and the state response, which evaluates the parameters), in this process, without HTTP.

* Per session: tracemalloc's traced memory (Python objects and NumPy buffers) after 1,000 sessions, minus
  before, divided by 1,000; once fresh, once after one step each (a used but idle session, generator drawn).
* Bounded: 100,000 sessions created in a loop against the default cap (``max_sessions`` = 10,000, LRU
  eviction). Traced memory is sampled as it goes (it must level off at the cap) in one run, and the peak
  RSS is read in a second run without tracemalloc, in a fresh process, so that neither disturbs the other.

    .venv/bin/python bench/memory.py
"""

import asyncio
import gc
import itertools
import subprocess
import sys
import tracemalloc

from common import PYTHON, figure, heading
from app.api import responses
from app.config import Config
from app.core.trainer import Trainer
from app.sessions import MemoryStore


OWNERS = itertools.count()  # one owner per session: the store's per-address rate and count limits stay out of it


async def create(store, steps=0):
    t = Trainer.create()
    sid = await store.create(t, owner=f"bench-{next(OWNERS)}")
    if steps:
        t.run(steps)
    responses.JSON(responses.state(sid, t))
    return sid


async def per_session(count=1000, steps=0):
    store = MemoryStore(Config().max_sessions, Config().idle_timeout)
    await create(store, steps)  # first-use imports and caches are not a session's
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(count):
        await create(store, steps)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(store) == count + 1
    return (after - before) / count


async def churn(total, sample_every, trace):
    store = MemoryStore(Config().max_sessions, Config().idle_timeout)
    samples = []
    if trace:
        tracemalloc.start()
    for i in range(1, total + 1):
        await create(store)
        if trace and i % sample_every == 0:
            samples.append((i, len(store), tracemalloc.get_traced_memory()[0]))
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    return samples, peak, len(store)


def rss_mb(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main():
    if sys.argv[1:] == ["--rss"]:  # the child of the RSS measurement: nothing but the loop
        before = rss_mb("VmRSS")
        _, _, live = asyncio.run(churn(100_000, 0, trace=False))
        print(before, rss_mb("VmHWM"), rss_mb("VmRSS"), live)
        return

    heading("6. Memory")
    kb = asyncio.run(per_session()) / 1024
    figure("idle default session (tracemalloc, 1,000 sessions)", kb, "KB", 64)
    kb = asyncio.run(per_session(steps=1)) / 1024
    figure("  same, after one step each", kb, "KB")

    samples, peak, live = asyncio.run(churn(100_000, 10_000, trace=True))
    for i, n, current in samples:
        if i in (10_000, 20_000, 50_000, 100_000):
            figure(f"  traced memory after {i:,} creations ({n:,} live)", current / 2**20, "MB")
    grew = samples[-1][2] / samples[0][2]
    figure("traced memory at 100,000 ÷ at 10,000 creations", grew, "×", 1.1,
           info="bounded: levels off at the cap")
    figure("  tracemalloc peak over the 100,000", peak / 2**20, "MB")
    out = subprocess.run([PYTHON, __file__, "--rss"], capture_output=True, text=True, check=True).stdout.split()
    start, peak, end, live = float(out[0]), float(out[1]), float(out[2]), int(out[3])
    figure("peak RSS, 100,000 creations, fresh process", peak, "MB",
           info=f"{start:.0f} MB after imports, {end:.0f} MB at the end, {live:,} live")


if __name__ == "__main__":
    main()
