"""Many users at once: N concurrent clients (200 by default), each creating its own session and stepping it
back to back for S seconds (30) over loopback, against a real uvicorn process (one worker) on a free
127.0.0.1 port; once on the in-memory store and once on Redis (a redis-server of its own). Prints requests,
errors, throughput and the p50/p95/p99 latency of ``POST /step``, after the same for the do-nothing health
check (the floor: what the server and the clients cost without any work). A client that ends with a session
whose ``step`` differs from the steps it was answered 200 for counts as an error (a lost update).

    .venv/bin/python bench/load.py [--clients 200] [--seconds 30] [--store memory|redis|both]
"""

import argparse
import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as a script, or imported by the tests as bench.load
from common import free_port, process, server  # noqa: E402


@contextmanager
def redis_server():
    """A throwaway redis-server on a free loopback port, without persistence; yields its URL."""
    exe = shutil.which("redis-server") or sys.exit("redis-server is not installed (make system-deps)")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        def ping():
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]
        with process(args, ping, "redis-server", stdout=subprocess.DEVNULL):
            yield f"redis://127.0.0.1:{port}/0"


async def _client(base_url, deadline, latencies, errors, floor):
    # A client of its own per user: one httpx client shared by hundreds of connections spends its time in
    # its pool's bookkeeping (under 100 requests/s at 200 connections), which would measure httpx, not us.
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, verify=_TLS) as http:
        if floor:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                r = await http.get("/api/health")
                latencies.append(time.perf_counter() - t0)
            return
        r = await http.post("/api/sessions")
        if r.status_code != 201:
            errors.append(f"create: {r.status_code} {r.text[:80]}")
            return
        sid, done = r.json()["id"], 0
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                r = await http.post(f"/api/sessions/{sid}/step", params={"detail": "summary"})
            except httpx.HTTPError as e:
                errors.append(f"step: {type(e).__name__}")
                continue
            latencies.append(time.perf_counter() - t0)
            if r.status_code == 200:
                done += 1
            else:
                errors.append(f"step: {r.status_code} {r.text[:80]}")
        final = (await http.get(f"/api/sessions/{sid}", params={"detail": "summary"})).json()
        if (final["step"], len(final["history"])) != (done, done + 1):
            errors.append(f"lost update: {done} steps answered, the session is at step {final['step']}")


_TLS = ssl.create_default_context()  # unused on http://, but each httpx client would build its own (slowly)


async def run_load(base_url, clients=200, seconds=30.0, floor=False):
    """``(latencies in seconds, errors)`` of ``clients`` concurrent clients stepping their own sessions (or,
    with ``floor``, calling the do-nothing health check)."""
    latencies, errors = [], []
    deadline = time.monotonic() + seconds
    tasks = [_client(base_url, deadline, latencies, errors, floor) for _ in range(clients)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 120)
    return np.array(latencies), errors


def report(name, clients, seconds, latencies, errors):
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) * 1000 if len(latencies) else (float("nan"),) * 3
    print(f"{name:>14}: {clients} clients × {seconds:g} s: {len(latencies)} requests ({len(latencies) / seconds:.0f}/s), "
          f"{len(errors)} errors; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms", flush=True)
    for e in sorted(set(errors))[:10]:
        print(f"{'':>16}{errors.count(e)} × {e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--store", choices=["memory", "redis", "both"], default="both")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; the clients (httpx, in this process) share them with the server")
    failed = False
    with server() as url:
        report("health (floor)", args.clients, args.seconds, *asyncio.run(run_load(url, args.clients, args.seconds, True)))
    for store in ("memory", "redis") if args.store == "both" else (args.store,):
        with redis_server() if store == "redis" else nullcontext() as redis_url:
            with server(session_store=redis_url or "memory") as url:
                latencies, errors = asyncio.run(run_load(url, args.clients, args.seconds))
        report(f"step ({store})", args.clients, args.seconds, latencies, errors)
        failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
