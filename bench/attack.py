"""Issue 10: each attack of the adversarial review against a real server, while a victim steps its own session.

For every attack a fresh server is started the way users start it (``python -m app.cli``), pinned with
taskset to one core (``--server-core``, 0) while this script, its victim and its attackers run on the other
(``--load-core``, 1). During the attack a victim steps its own default session every 20 ms and a probe reads
``/api/health`` every 20 ms, each on a keep-alive connection of its own, in a separate process so that the
attackers' own CPU use does not delay their clocks. Printed per attack, as a table (bench/attack_report.py): the
victim's step p99, the probe's p99, the same two measured inside the server and the event loop's own stalls
(app/loop_watch.py: the machine's noise told apart from the server's), the server's peak RSS (VmHWM), the
count of 5xx answers other than 503 (to anyone), of 503s, of failed connections, whether the targets hold,
and what the attack observed. Targets: victim p99 ≤ 50 ms, probe p99 ≤ 20 ms, peak memory ≤
budget + 200 MB, no 5xx other than 503.

Every loop is bounded in count and time, every socket is loopback. A watchdog kills a server whose RSS passes
``--rss-cap`` MB (4096; the machine is shared) and the line says so: the attack would have taken more.

    .venv/bin/python bench/attack.py [--seconds 10] [--only big_get,cheap_steps] [--no-together] [--repeat 1] [--wrk]
                                     [--code DIR]   # serve another checkout, e.g. `git archive` of main: before

``--wrk`` measures throughput instead: 100 wrk connections (one thread each), each creating its own session
and then stepping it with one request in flight (bench/wrk_step.lua); target ≥ 50 steps/s per client.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_clients import HOST, Client, Tally, join, new_session  # noqa: E402
from attack_report import print_header, print_legend, print_row  # noqa: E402
from attacks import ATTACKS, TOGETHER  # noqa: E402
from common import PYTHON, ROOT, free_port, percentile, stop_process, wait_until  # noqa: E402


# --- the server ------------------------------------------------------------------------------------------------
def rss_mb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def get_status(port, path, source=None, timeout=5.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=source)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


@contextmanager
def redis_server(core, appendonly=False):
    """A redis-server of its own on a free loopback port (pinned with the server); yields (url, controller)."""
    exe = shutil.which("redis-server") or sys.exit("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        args = ["taskset", "-c", str(core), exe, "--port", str(port), "--bind", HOST, "--save", "", "--dir", tmp,
                "--appendonly", "yes" if appendonly else "no", "--appendfsync", "always"]
        box = {"proc": None}

        def start():
            box["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL)

            def ping():
                with socket.create_connection((HOST, port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")

            wait_until(ping, box["proc"], "redis-server", timeout=30)

        start()
        try:
            yield f"redis://{HOST}:{port}/0", {"start": start, "box": box, "port": port}
        finally:
            box["proc"].kill()
            box["proc"].wait()


class Server:
    """``python -m app.cli`` pinned to one core, with a watchdog on its memory; its own timings of requests and
    of its event loop (app/loop_watch.py) are in ``timings`` once stopped (None from a server without them)."""

    def __init__(self, core, env, rss_cap_mb, log, code=ROOT):
        self.port = free_port()
        self.timings_file = tempfile.mktemp(prefix="attack-timings-", suffix=".json")
        environ = {**os.environ, **{f"LINCLASS_{k.upper()}": str(v) for k, v in env.items()},
                   "LINCLASS_DEBUG_TIMINGS": self.timings_file}
        cmd = ["taskset", "-c", str(core), PYTHON, "-m", "app.cli", "--host", HOST, "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=code, env=environ, stdout=log, stderr=log)
        self.rss_cap, self.killed_at, self.peak, self.timings = rss_cap_mb, None, 0.0, None
        wait_until(lambda: get_status(self.port, "/api/health", timeout=1) == 200, self.proc, "the server", timeout=30)
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()

    def _watchdog(self):
        while not self._stop.wait(0.02):
            rss = rss_mb(self.proc.pid)
            self.peak = max(self.peak, rss, rss_mb(self.proc.pid, "VmHWM"))
            if rss > self.rss_cap and self.killed_at is None:
                self.killed_at = rss
                self.proc.kill()
                return

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.peak = max(self.peak, rss_mb(self.proc.pid, "VmHWM"))
        self._stop.set()
        self._watch.join()
        stop_process(self.proc)
        try:
            with open(self.timings_file) as f:
                self.timings = json.load(f)
            os.unlink(self.timings_file)
        except (OSError, ValueError):
            pass


# --- the victim and the probe (a process of their own) ---------------------------------------------------------
def measure(port, sid, seconds):
    """Runs in a child process: latencies (ms) and statuses of the victim's steps and the probe's health checks."""
    out = {}

    def paced(name, method, path, source):
        c = Client(port, timeout=30, source=source)
        lat, statuses = [], Counter()
        end, tick = time.monotonic() + seconds, time.monotonic()
        while time.monotonic() < end and len(lat) < 100_000:
            t0 = time.perf_counter()
            status, _ = c.request(method, path)
            lat.append((time.perf_counter() - t0) * 1000)
            statuses[str(status)] += 1
            tick += 0.02
            time.sleep(max(0.0, tick - time.monotonic()))
        c.close()
        out[name] = {"latencies": lat, "statuses": statuses}

    threads = [threading.Thread(target=paced, args=("victim", "POST", f"/api/sessions/{sid}/step", "127.0.0.200")),
               threading.Thread(target=paced, args=("probe", "GET", "/api/health", "127.0.0.201"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out))


# --- running ---------------------------------------------------------------------------------------------------
class Context:
    def __init__(self, port, redis=None):
        self.port, self.redis = port, redis


def run(names, args, log):
    """Start a server, the victim and the attacks ``names`` (at once), and return one result row."""
    env = {}
    for name in names:
        env.update({k: v for k, v in ATTACKS[name][1].items() if k != "redis"})
    redis_kind = next((ATTACKS[n][1]["redis"] for n in names if "redis" in ATTACKS[n][1]), None)
    with ExitStack() as stack:
        redis = None
        if redis_kind:
            url, redis = stack.enter_context(redis_server(args.server_core, appendonly=redis_kind == "aof"))
            env["session_store"] = url
        server = Server(args.server_core, env, args.rss_cap, log, args.code)
        stack.callback(server.stop)
        ctx = Context(server.port, redis)
        victim = Client(server.port, source="127.0.0.200")
        sid = new_session(victim)
        victim.close()
        tally = Tally()
        deadline = time.monotonic() + args.seconds
        meter = subprocess.Popen([PYTHON, __file__, f"--measure={server.port},{sid},{args.seconds + 1}"],
                                 stdout=subprocess.PIPE, text=True)  # one argument: an id may start with "-"
        time.sleep(0.5)
        threads = []
        for name in names:
            def attack(fn=ATTACKS[name][0], name=name):
                try:
                    fn(ctx, tally, deadline)
                except Exception as e:  # a broken server can break the attack's setup: say so, go on
                    tally.note(f"{name} stopped: {type(e).__name__}: {str(e)[:100]}")
            threads.append(threading.Thread(target=attack, daemon=True))
        for t in threads:
            t.start()
        measured = json.loads(meter.communicate(timeout=args.seconds + 120)[0])
        join(threads, deadline)
        if any(t.is_alive() for t in threads):
            tally.note("an attacker thread was still running at the end")
        alive = server.alive()
        server.stop()
        timings = server.timings
    statuses = Counter(tally.statuses)
    for part in measured.values():
        statuses.update({(None if k == "None" else int(k)): v for k, v in part["statuses"].items()})
    return {
        "name": " + ".join(names) if len(names) < 3 else f"{len(names)} at once",
        "victim": percentile(measured["victim"]["latencies"], 99), "probe": percentile(measured["probe"]["latencies"], 99),
        "rss": server.killed_at or server.peak, "killed": server.killed_at is not None, "died": not alive,
        "5xx": sum(v for k, v in statuses.items() if k and k >= 500 and k != 503), "503": statuses.get(503, 0),
        "failed": statuses.get(None, 0), "notes": tally.notes, "server": timings,
    }


def wrk_throughput(args, log):
    """100 connections, one thread and one session each, one step in flight each."""
    exe = shutil.which("wrk") or sys.exit("wrk is not installed")
    server = Server(args.server_core, {}, args.rss_cap, log, args.code)
    try:
        cmd = ["taskset", "-c", str(args.load_core), exe, "-t", "100", "-c", "100", "-d", f"{args.seconds:g}s",
               "--timeout", "10s", "-s", str(Path(__file__).with_name("wrk_step.lua")), f"http://{HOST}:{server.port}"]
        cpu_before = cpu_seconds(server.proc.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60).stdout
        cpu = cpu_seconds(server.proc.pid) - cpu_before
    finally:
        server.stop()
    print(out)
    m = re.search(r"per-client steps/s: min ([\d.]+) median ([\d.]+)", out)
    total = re.search(r"steps/s total ([\d.]+)", out)
    if m:
        print(f"throughput: per client min {m[1]} / median {m[2]} steps/s "
              f"[{' ok ' if float(m[1]) >= 50 else 'MISS'}] (target ≥ 50 each)")
    if total:  # what the server's own CPU time says one dedicated core could do, whatever else the machine runs
        requests = float(total[1]) * args.seconds
        per_request = cpu / max(requests, 1)
        print(f"server CPU per step request {per_request * 1e3:.3f} ms ({cpu:.1f} s of CPU in {args.seconds:g} s): "
              f"one dedicated core ≈ {1 / per_request:.0f} steps/s, {1 / per_request / 100:.1f} per client")


def cpu_seconds(pid):
    """User + system CPU time of a process (and its finished children), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default="", help="comma-separated attack names: " + ", ".join(ATTACKS))
    parser.add_argument("--no-together", action="store_true", help="skip the eight-at-once run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each attack, each printed (the spread shows the noise)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--load-core", type=int, default=1)
    parser.add_argument("--rss-cap", type=float, default=4096, help="MB; the watchdog kills the server beyond")
    parser.add_argument("--wrk", action="store_true", help="measure throughput with wrk instead")
    parser.add_argument("--code", default=ROOT, help="the app to serve: a checkout of another commit (before/after)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        port, sid, seconds = args.measure.split(",")
        return measure(int(port), sid, float(seconds))
    os.sched_setaffinity(0, {args.load_core})
    with tempfile.NamedTemporaryFile("w+", prefix="attack-server-", suffix=".log", delete=False) as log:
        print(f"server on core {args.server_core}, load on core {args.load_core}; load average "
              f"{os.getloadavg()[0]:.1f}; server log {log.name}", flush=True)
        if args.wrk:
            return wrk_throughput(args, log)
        names = [n for n in args.only.split(",") if n] or list(ATTACKS)
        runs = [[name] for name in names] + ([TOGETHER] if not args.no_together and not args.only else [])
        print_header()
        for attack in runs:  # every run printed: on a shared machine the spread says how noisy the figures are
            for _ in range(args.repeat):
                print_row(run(attack, args, log))
        print_legend()


if __name__ == "__main__":
    main()
