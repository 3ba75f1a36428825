"""Issue items 1 and 2 over HTTP: the step round trip against a do-nothing endpoint, on one server, in one run.

A uvicorn server (uvloop, httptools) runs in a subprocess on a free loopback port; one keep-alive httpx client
sends requests one at a time. ``GET /api/health`` and ``POST /api/sessions/{id}/step`` alternate, so both see
the same machine load, and the ratio of their medians is the figure (the machine is shared and noisy).

    .venv/bin/python bench/step_latency.py [--rounds 2000]
"""

import argparse
import time

import httpx

from common import figure, heading, percentile, server

JSON_TYPE = {"content-type": "application/json"}


def timed(send, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = send()
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args(argv)
    with server() as url, httpx.Client(base_url=url) as client:
        sid = client.post("/api/sessions").json()["id"]
        health = lambda: client.get("/api/health")
        step = lambda: client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        summary = lambda: client.post(f"/api/sessions/{sid}/step?detail=summary", json={"steps": 1})
        encoded = lambda: client.post(f"/api/sessions/{sid}/step", content=b'{"steps":1}', headers=JSON_TYPE)
        bodiless = lambda: client.post(f"/api/sessions/{sid}/step")  # steps defaults to 1
        step_size = len(step().content)
        kinds = (health, step, summary, encoded, bodiless)
        for fn in kinds:  # warm up both sides
            timed(fn, 200)
        times = {fn: [] for fn in kinds}
        for i in range(args.rounds):  # alternate the order too, so none always follows another
            for fn in kinds if i % 2 else kinds[::-1]:
                times[fn].extend(timed(fn, 1))
        h, s = times[health], times[step]
        big = lambda: client.post(f"/api/sessions/{sid}/step", json={"steps": 1000})
        timed(big, 5)
        b, hb = [], []
        for _ in range(60):
            b.extend(timed(big, 1))
            hb.extend(timed(health, 1))

    us = 1e6
    heading(f"1. Step round trip, default data, {args.rounds} sequential requests each, keep-alive, loopback")
    figure("GET /api/health p50", percentile(h, 50) * us, "µs")
    figure("GET /api/health p95", percentile(h, 95) * us, "µs")
    figure("POST /step (steps=1) p50", percentile(s, 50) * us, "µs", info=f"{step_size} bytes")
    figure("POST /step (steps=1) p95", percentile(s, 95) * us, "µs")
    figure("step p50 / health p50", percentile(s, 50) / percentile(h, 50), "×", 1.5, 1.3)
    figure("step p95 / health p95", percentile(s, 95) / percentile(h, 95), "×")
    for fn, name in ((summary, "?detail=summary"), (encoded, "body pre-encoded by the client"),
                     (bodiless, "no body (steps=1 by default)")):
        figure(f"  same ratio, {name}", percentile(times[fn], 50) / percentile(h, 50), "×",
               info=f"p50 {percentile(times[fn], 50) * us:.0f} µs")
    heading("2. Many steps per request over HTTP (server compute alone: bench/compute.py)")
    figure("POST /step (steps=1000) p50 round trip", percentile(b, 50) * 1e3, "ms")
    figure("  minus GET /api/health p50 in the same loop", (percentile(b, 50) - percentile(hb, 50)) * 1e3, "ms",
           50, 30)


if __name__ == "__main__":
    main()
