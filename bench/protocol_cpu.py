"""CPU per request of uvicorn's HTTP protocol and the app together, in process and without the kernel: the
app's server protocol (app.server.LimitedHttpToolsProtocol, with the CLI's options) is fed whole requests on
a fake transport, one after another on one keep-alive connection, under uvloop. Quieter than
bench/throughput.py on a shared machine (no sockets, no client, best of several rounds), it tells how much of
a request's CPU is Python's: the kernel's share (sockets, epoll) comes on top; bench/throughput.py measures
both. The issue-10 target of ≤ 200 µs per step request is that total.

``--root DIR`` measures another checkout (``git archive <commit> | tar -x -C DIR``) for before/after.

    .venv/bin/python bench/protocol_cpu.py [--requests 3000] [--rounds 5] [--root DIR]
"""

import argparse
import asyncio
import os
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Transport:
    """Just enough of an asyncio transport for uvicorn's protocol: it keeps what is written."""

    def __init__(self):
        self.out, self.closing = [], False

    def write(self, data):
        self.out.append(data)

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


async def measure(requests, rounds):
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from app.config import load_config
    from app.main import create_app
    from app.server import LimitedHttpToolsProtocol, uvicorn_options

    options = {k: v for k, v in uvicorn_options(load_config()).items() if k != "http"}
    config = Config(app=create_app(), lifespan="off", access_log=False, log_level="warning", **options)
    config.load()
    protocol = LimitedHttpToolsProtocol(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    transport = Transport()
    protocol.connection_made(transport)

    async def send(request):
        transport.out.clear()
        protocol.data_received(request)
        while protocol.cycle is None or not protocol.cycle.response_complete:
            await asyncio.sleep(0)
        return b"".join(transport.out)

    created = await send(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    sid = re.search(rb'"id":"([^"]+)"', created).group(1)
    cases = {"GET /api/health": b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"}
    for detail in ("full", "summary"):
        cases[f"POST /step?detail={detail}"] = (
            b"POST /api/sessions/" + sid + b"/step?detail=" + detail.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:8000"
            b"\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"steps\":1}")
    for name, request in cases.items():
        for _ in range(300):
            answer = await send(request)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        best = float("inf")
        for _ in range(rounds):
            t0 = time.process_time()
            for _ in range(requests):
                await send(request)
            best = min(best, (time.process_time() - t0) / requests)
        print(f"  {name:<28s} {best * 1e6:7.1f} µs CPU per request (protocol + app, no kernel; best of {rounds})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the checkout to measure (default: this one)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root))
    import uvloop

    print(f"{args.root}, Python {platform.python_version()} ({os.path.realpath(sys.executable)}):")
    uvloop.run(measure(args.requests, args.rounds))


if __name__ == "__main__":
    main()
