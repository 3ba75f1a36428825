"""Throughput of steps: N clients (100), each with one step request in flight on its own session, against the
server the CLI starts (``python -m app``: uvloop, httptools, its HTTP limits, no access log) pinned to one core,
with ``wrk`` pinned to the other. Target (issue 10): ≥ 50 steps/s per client, i.e. 5,000 steps/s on the
server's one core, which leaves it ≤ 200 µs of CPU per step request.

Prints, for each round, the total and per-client steps/s, the latency p50/p99 and the server's CPU time per
request (utime + stime from /proc/<pid>/stat, before and after the round, ÷ the requests wrk completed): on a
shared, loaded machine that last figure is the robust one (others' programs lengthen wall time, not our CPU
time), and 1 s ÷ it is the throughput one idle core could give. Then the same for ``GET /api/health`` (the
app's floor: uvicorn, the middleware and the routing without a session or a step), and for a do-nothing ASGI
app under plain uvicorn (httptools, uvloop): the floor of the server and the kernel alone.

``--root DIR`` serves another checkout of the project (``git archive <commit> | tar -x -C DIR``) with this
benchmark, for a before/after comparison under the same conditions.

    .venv/bin/python bench/throughput.py [--clients 100] [--seconds 10] [--rounds 3] [--detail full|summary]
        [--server-core 0] [--client-core 1] [--root DIR] [--skip-health] [--skip-bare]
"""

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, figure, free_port, heading, process  # noqa: E402

LUA = Path(__file__).resolve().parent / "wrk_throughput.lua"
TICK = os.sysconf("SC_CLK_TCK")
TARGET_PER_CLIENT = 50.0  # steps/s


def cpu_seconds(pid):
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime: fields 14 and 15 of stat(5)


def start_server(core, port, root=ROOT, bare=False):
    """The CLI's server (``python -m app`` in ``root``, which imports that checkout's app), or with ``bare`` a
    do-nothing ASGI app under plain uvicorn, on ``core``; a context manager yielding the process."""
    if bare:
        cmd = [PYTHON, "-m", "uvicorn", "throughput:bare_app", "--app-dir", str(Path(__file__).parent), "--port",
               str(port), "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    else:
        cmd = [PYTHON, "-m", "app", "--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    return process(["taskset", "-c", str(core), *cmd], lambda: httpx.get(f"{url}/api/health").status_code == 200,
                   "the server", cwd=root)


async def bare_app(scope, receive, send):
    """The floor: answers every request with the health check's bytes, and nothing else."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"15")]})
    await send({"type": "http.response.body", "body": b'{"status":"ok"}'})


def run_wrk(url, clients, seconds, core, ids_file, mode, detail):
    cmd = ["taskset", "-c", str(core), shutil.which("wrk") or sys.exit("wrk is not installed"),
           f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url, "--",
           ids_file, mode, detail]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = dict(re.findall(r"(\w+)=(\S+)", line))
    return {"requests": int(r["requests"]), "seconds": float(r["seconds"]), "p50": int(r["p50_us"]) / 1000,
            "p99": int(r["p99_us"]) / 1000, "non200": int(r["non200"]), "errors": int(r["errors"]),
            "ok": sorted(int(x) for x in r["ok"].split(","))}


def measure(pid, url, args, ids_file, mode):
    """One round: wrk's figures plus the server's CPU µs per request."""
    before = cpu_seconds(pid)
    r = run_wrk(url, args.clients, args.seconds, args.client_core, ids_file, mode, args.detail)
    r["cpu_us"] = (cpu_seconds(pid) - before) / max(r["requests"], 1) * 1e6
    return r


def report(name, rounds, target_cpu=None):
    """Each round's figures, then the best round's against the targets."""
    for i, r in enumerate(rounds, 1):
        per = [n / r["seconds"] for n in r["ok"]]
        print(f"  round {i}: {r['requests'] / r['seconds']:7.0f} req/s; per client min {per[0]:.1f} median "
              f"{per[len(per) // 2]:.1f} max {per[-1]:.1f}; p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms; "
              f"server CPU {r['cpu_us']:.0f} µs/request; non-200 {r['non200']}, socket errors {r['errors']}")
    best = max(rounds, key=lambda r: r["requests"] / r["seconds"])
    clients = len(best["ok"])
    leanest = min(r["cpu_us"] for r in rounds)
    figure(f"{name}: total req/s (best round)", best["requests"] / best["seconds"], "/s",
           TARGET_PER_CLIENT * clients if target_cpu else None, at_least=True)
    figure(f"{name}: median per-client req/s (best round)", sorted(best["ok"])[clients // 2] / best["seconds"],
           "/s", TARGET_PER_CLIENT if target_cpu else None, at_least=True)
    figure(f"{name}: latency p50 (best round)", best["p50"], "ms")
    figure(f"{name}: latency p99 (best round)", best["p99"], "ms")
    # Each client keeps one request in flight, so the mean latency is clients ÷ throughput (Little's law). wrk's
    # own step figures break it (its mean came out 47 ms against 25 ms so, its p99 0.7 s while the app's
    # requests took at most 0.65 ms: LINCLASS_DEBUG_TIMINGS): its tail is its own, not the server's.
    figure(f"{name}: mean latency by Little's law (best round)", clients / (best["requests"] / best["seconds"]) * 1e3,
           "ms")
    figure(f"{name}: server CPU per request (least)", leanest, "µs", target_cpu)
    figure(f"{name}: one idle core's req/s at that CPU cost", 1e6 / leanest, "/s",
           TARGET_PER_CLIENT * clients if target_cpu else None, at_least=True)
    return all(r["non200"] == 0 and r["errors"] == 0 for r in rounds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--detail", choices=["full", "summary"], default="full",
                        help="the step responses' detail (default: full, as the page asks on small data)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--skip-health", action="store_true")
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args(argv)
    url = f"http://127.0.0.1:{free_port()}"
    print(f"server ({args.root}) on core {args.server_core}, wrk on core {args.client_core}; {args.clients} "
          f"clients, {args.rounds} rounds of {args.seconds} s; step detail={args.detail}; load average "
          f"{os.getloadavg()}")
    # the server runs under this interpreter, whose build alone moves the figures by a fifth (README, Performance)
    print(f"Python {platform.python_version()} ({os.path.realpath(sys.executable)})")
    clean = True
    with start_server(args.server_core, url.rsplit(":", 1)[1], args.root) as proc, \
            tempfile.NamedTemporaryFile("w") as ids:
        with httpx.Client(base_url=url) as http:
            for _ in range(args.clients):
                r = http.post("/api/sessions")
                r.raise_for_status()
                ids.write(r.json()["id"] + "\n")
        ids.flush()
        run_wrk(url, args.clients, 2, args.client_core, ids.name, "step", args.detail)  # warm up
        heading(f"POST /api/sessions/{{id}}/step?detail={args.detail} {{\"steps\":1}}, one session per client")
        clean &= report("step", [measure(proc.pid, url, args, ids.name, "step") for _ in range(args.rounds)],
                        target_cpu=1e6 / (TARGET_PER_CLIENT * args.clients))
        if not args.skip_health:
            heading("GET /api/health (the floor: HTTP, middleware and routing only)")
            clean &= report("health", [measure(proc.pid, url, args, ids.name, "health")
                                       for _ in range(args.rounds)])
    if not args.skip_bare:
        url = f"http://127.0.0.1:{free_port()}"
        with start_server(args.server_core, url.rsplit(":", 1)[1], bare=True) as proc:
            heading("a do-nothing ASGI app under plain uvicorn (the floor of uvicorn and the kernel)")
            clean &= report("bare ASGI", [measure(proc.pid, url, args, "-", "health") for _ in range(args.rounds)])
    if not clean:
        print("some requests failed (non-200 answers or socket errors): see the rounds above")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
