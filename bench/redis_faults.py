"""Issue 10, item 9: Redis faults and the session locks.

* Restart: a redis-server with an append-only file (fsync always); a process opens a session for an edit (it
  holds the session's lock) and is killed (SIGKILL) together with Redis; Redis restarts from its file, with
  the lock in it. Printed: the seconds from the restart until a step on that session succeeds, and the
  lock's remaining lease right after the restart.
* Freeze: a uvicorn server (core 0) on Redis; 20 clients (core 1) step their own sessions in a loop, giving
  up on a request after 1 s and sending the next; Redis is stopped (SIGSTOP) for 10 s. Printed: steps a
  second before the freeze and in the seconds after it, how long after it every client had a step again,
  and how many steps the server took for requests whose clients had given up.

``--root DIR`` runs another checkout's store and server (for a before figure).

    .venv/bin/python bench/redis_faults.py [--root DIR] [--runs 3] [--only restart|freeze]
"""

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import redis

from common import PYTHON, ROOT, free_port, heading, process

HOLD = """
import asyncio, sys
from app.core.trainer import Trainer
from app.redis_store import RedisStore
async def main():
    store = RedisStore(sys.argv[1])
    sid = await store.create(Trainer.create(seed=1))
    async with store.open(sid) as t:
        print(sid, flush=True)
        await asyncio.sleep(3600)  # an edit in flight, until this process is killed
asyncio.run(main())
"""
STEP = """
import asyncio, sys, time
from app.core.trainer import Trainer
from app.redis_store import RedisStore
async def main():
    store = RedisStore(sys.argv[1])
    while True:
        try:
            async with store.open(sys.argv[2]) as t:
                t.run(1)
            break
        except Exception:  # the store unreachable while the connection is remade, or busy past its wait
            await asyncio.sleep(0.05)
    print(time.time() - float(sys.argv[3]))  # since the restart
    await store.close()
asyncio.run(main())
"""


def start_redis(port, folder):
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always", "--dir", folder],
                            stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, client
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not start")


def one_run(root):
    port, folder = free_port(), tempfile.mkdtemp()
    url = f"redis://127.0.0.1:{port}/0"
    redis_proc, client = start_redis(port, folder)
    holder = subprocess.Popen([PYTHON, "-c", HOLD, url], cwd=root, stdout=subprocess.PIPE, text=True)
    sid = holder.stdout.readline().strip()
    time.sleep(0.5)  # the edit is under way
    holder.kill()
    redis_proc.kill()
    holder.wait()
    redis_proc.wait()
    redis_proc, client = start_redis(port, folder)
    restarted = time.time()
    lock = next((k for k in client.keys("*") if b"lock" in k or k.startswith(b"linclass:l:")), None)
    lease = client.pttl(lock) / 1000 if lock else 0.0
    out = subprocess.run([PYTHON, "-c", STEP, url, sid, str(restarted)], cwd=root, capture_output=True, text=True, check=True)
    redis_proc.kill()
    redis_proc.wait()
    shutil.rmtree(folder, ignore_errors=True)
    return float(out.stdout.strip()), lease


async def step_loops(url, sids, seconds, log):
    """Each client steps its own session until ``seconds`` have passed; ``log`` gets the time of each success."""
    deadline = time.monotonic() + seconds

    async def loop(http, sid):
        while time.monotonic() < deadline:
            try:
                r = await http.post(f"{url}/api/sessions/{sid}/step", params={"detail": "summary"})
                if r.status_code == 200:
                    log.append((time.monotonic(), sid))
            except httpx.HTTPError:
                pass
            if not log or log[-1][1] != sid:
                await asyncio.sleep(0.01)

    async with httpx.AsyncClient(timeout=1.0, limits=httpx.Limits(max_connections=100)) as http:
        await asyncio.gather(*(loop(http, sid) for sid in sids))


def freeze(root, clients=20, before=5.0, frozen=10.0, after=15.0):
    port, folder = free_port(), tempfile.mkdtemp()
    redis_proc, _ = start_redis(port, folder)
    web = free_port()
    cmd = ["taskset", "-c", "0", PYTHON, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(web), "--no-access-log", "--log-level", "critical"]
    env = {**os.environ, "LINCLASS_SESSION_STORE": f"redis://127.0.0.1:{port}/0"}
    url = f"http://127.0.0.1:{web}"
    try:
        with process(cmd, lambda: httpx.get(url + "/api/health").status_code == 200, "server", cwd=root, env=env):
            sids = [httpx.post(url + "/api/sessions", headers={"X-Forwarded-For": f"10.0.0.{i}"}).json()["id"]
                    for i in range(clients)]
            log = []

            async def scenario():
                loops = asyncio.create_task(step_loops(url, sids, before + frozen + after, log))
                await asyncio.sleep(before)
                os.kill(redis_proc.pid, signal.SIGSTOP)
                await asyncio.sleep(frozen)
                os.kill(redis_proc.pid, signal.SIGCONT)
                thawed = time.monotonic()
                await loops
                return thawed

            thawed = asyncio.run(scenario())
            time.sleep(3)  # what the server still does for requests whose clients gave up
            taken = sum(httpx.get(f"{url}/api/sessions/{sid}?detail=summary").json()["step"] for sid in sids)
    finally:
        redis_proc.kill()
        redis_proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    rate = lambda a, b: sum(a <= t - thawed < b for t, _ in log) / (b - a)  # noqa: E731
    back = [min((t - thawed for t, s in log if s == sid and t >= thawed), default=float("inf")) for sid in sids]
    print(f"  steps/s: before the freeze {rate(-frozen - before + 0.5, -frozen):.0f}; after it, in s 0-1 "
          f"{rate(0, 1):.0f}, 1-5 {rate(1, 5):.0f}, 5-10 {rate(5, 10):.0f}, 10-15 {rate(10, 15):.0f}; "
          f"every client stepping again {max(back):.1f} s after it (median {sorted(back)[len(back) // 2]:.1f} s); "
          f"steps taken for clients that had given up on them: {taken - len(log)} (of {taken})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["restart", "freeze"])
    args = parser.parse_args(argv)
    if args.only in (None, "restart"):
        heading(f"Lock stall after Redis and the editing server die together ({args.root})")
        for _ in range(args.runs):
            stall, lease = one_run(args.root)
            print(f"  a step succeeded {stall:5.2f} s after the restart (the lock's lease then: {lease:5.2f} s)")
    if args.only in (None, "freeze"):
        heading(f"Steps around a 10 s Redis freeze, 20 clients giving up after 1 s ({args.root})")
        freeze(args.root)


if __name__ == "__main__":
    sys.exit(main())
