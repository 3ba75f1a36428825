"""Issue 10, items 2 and 6: one address floods the server with sessions while 20 other addresses each hold one.

Two floods against a uvicorn server (memory store unless --redis) on core 0, the clients on core 1, addresses
given by X-Forwarded-For (trusted from loopback, as from a reverse proxy):

* ``large``: 1,500 sessions of 10,000 points × 10 classes (1.1 MB each in memory) from one address, default
  settings. Prints the server's peak RSS (VmHWM), the accounted session bytes, what the flood was answered.
* ``evict``: 1,500 default sessions from one address with LINCLASS_MAX_SESSIONS=300. Prints how many of the
  20 other addresses' sessions are still alive.

``--root DIR`` runs another checkout's server (e.g. ``git archive <commit>`` unpacked) for a before figure;
``--env NAME=VALUE`` adds settings (``--env LINCLASS_MAX_SESSIONS_PER_ADDRESS=100000`` to see the memory
budget alone).

    .venv/bin/python bench/flood.py [--root DIR] [--env ...] [--only large|evict] [--redis]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import redis

from common import PYTHON, ROOT, free_port, heading, process

VICTIMS, FLOOD = 20, 1500


def rss_peak_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def redis_server():
    port, folder = free_port(), tempfile.mkdtemp()
    args = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--dir", folder]
    url = f"redis://127.0.0.1:{port}/0"
    with process(args, redis.Redis.from_url(url).ping, "redis-server", stdout=subprocess.DEVNULL) as proc:
        yield url, proc
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def server(root, env):
    port = free_port()
    cmd = ["taskset", "-c", "0", PYTHON, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    ready = lambda: httpx.get(f"{url}/api/health").status_code == 200  # noqa: E731
    with process(cmd, ready, "the server", cwd=root, env={**os.environ, **env}) as proc:
        yield url, proc


def large_body():
    rng = np.random.default_rng(0)
    X = np.round(rng.uniform(-1, 1, (10_000, 2)), 6).tolist()
    return {"X": X, "y": [i % 10 for i in range(10_000)], "W": rng.uniform(-1, 1, (10, 2)).tolist(), "b": [0.0] * 10}


async def flood(url, body, count=FLOOD, concurrency=4):
    statuses = {}
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=120) as http:
        async def create():
            async with limit:
                r = await http.post(f"{url}/api/sessions", json=body, headers={"X-Forwarded-For": "10.9.9.9"})
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        await asyncio.gather(*(create() for _ in range(count)))
    return statuses


def victims(url):
    ids = []
    for i in range(VICTIMS):
        r = httpx.post(f"{url}/api/sessions", headers={"X-Forwarded-For": f"10.0.0.{i}"})
        ids.append(r.json()["id"])
        httpx.post(f"{url}/api/sessions/{ids[-1]}/step")
    return ids


def alive(url, ids):
    return sum(httpx.get(f"{url}/api/sessions/{sid}?detail=summary").status_code == 200 for sid in ids)


def accounted_mb(url, redis_url):
    if redis_url:
        return int(redis.Redis.from_url(redis_url).get("linclass:meta:total") or 0) / 2**20
    return float("nan")  # the memory store's total is not exposed over HTTP


def run(kind, root, env, redis_url):
    settings = dict(env)
    if redis_url:
        settings["LINCLASS_SESSION_STORE"] = redis_url
    if kind == "evict":
        settings.setdefault("LINCLASS_MAX_SESSIONS", "300")
    with server(root, settings) as (url, proc):
        ids = victims(url)
        body = large_body() if kind == "large" else None
        started = time.perf_counter()
        statuses = asyncio.run(flood(url, body))
        took = time.perf_counter() - started
        print(f"  {kind}: flood of {FLOOD} answered {dict(sorted(statuses.items()))} in {took:.1f} s; "
              f"other addresses' sessions alive: {alive(url, ids)} of {VICTIMS}; server peak RSS "
              f"{rss_peak_mb(proc.pid):.0f} MB" + (f"; accounted in Redis {accounted_mb(url, redis_url):.0f} MB"
                                                    if redis_url else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose server to run")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE settings for the server")
    parser.add_argument("--only", choices=["large", "evict"])
    parser.add_argument("--redis", action="store_true", help="on a Redis store (a redis-server of its own)")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    heading(f"Session flood from one address ({args.root}, {env or 'defaults'}, "
            f"{'Redis' if args.redis else 'memory'} store)")
    for kind in ("large", "evict"):
        if args.only in (None, kind):
            if args.redis:
                with redis_server() as (url, _):
                    run(kind, args.root, env, url)
            else:
                run(kind, args.root, env, None)


if __name__ == "__main__":
    main()
