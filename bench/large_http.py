"""Issue item 4 over HTTP: one step with ``detail=summary`` at 10,000 points (the default cap) and at 100,000
(a server started with ``LINCLASS_MAX_POINTS=100000`` and a larger body limit for the upload).

The targets are on server compute (bench/compute.py); here the round trip minus the do-nothing endpoint's,
both taken alternately in the same loop, shows what HTTP adds on top.

    .venv/bin/python bench/large_http.py [--rounds 100]
"""

import argparse
import time

import httpx
import numpy as np

from common import figure, heading, percentile, server
from app.core import datasets


def points(n):
    X, y = datasets.make("blobs", np.random.default_rng(0), -(-n // 3), 3)
    return {"X": X[:n].tolist(), "y": y[:n].tolist()}


def measure(url, n, rounds):
    with httpx.Client(base_url=url, timeout=60) as client:
        r = client.post("/api/sessions", json=points(n))
        assert r.status_code == 201, r.text[:300]
        sid = r.json()["id"]
        step = lambda: client.post(f"/api/sessions/{sid}/step?detail=summary", json={"steps": 1})
        health = lambda: client.get("/api/health")
        for _ in range(10):
            step(), health()
        s, h = [], []
        for _ in range(rounds):
            for fn, out in ((step, s), (health, h)):
                t0 = time.perf_counter()
                assert fn().status_code == 200
                out.append(time.perf_counter() - t0)
    return s, h


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)
    heading("4. Large data over HTTP: POST /step?detail=summary, sequential, keep-alive")
    for n, env in ((10_000, {}), (100_000, {"max_points": 100_000, "max_body": 64 * 2**20})):
        with server(**env) as url:
            s, h = measure(url, n, args.rounds)
        p50, h50 = percentile(s, 50), percentile(h, 50)
        figure(f"step round trip p50, {n:,} points", p50 * 1e3, "ms",
               info=f"p95 {percentile(s, 95) * 1e3:.2f} ms; health p50 {h50 * 1e3:.2f} ms")
        figure(f"  minus health p50 (server + payload), {n:,}", (p50 - h50) * 1e3, "ms")


if __name__ == "__main__":
    main()
