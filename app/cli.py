"""``linear-classify-demo``: serve the demo (127.0.0.1:8000 by default)."""

import argparse

import uvicorn

from app.config import Config
from app.server import uvicorn_options


def main(argv=None):
    parser = argparse.ArgumentParser(prog="linear-classify-demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes; more than one needs the Redis store")
    parser.add_argument("--access-log", action="store_true", help="log every request (off: the page sends many)")
    args = parser.parse_args(argv)
    if args.workers > 1 and not Config.from_env().session_store.startswith("redis://"):
        parser.error("--workers > 1 needs a shared session store: set LINCLASS_SESSION_STORE=redis://host:port/db "
                     "(with the in-memory store each worker would hold different sessions)")
    uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                access_log=args.access_log, log_level="info", **uvicorn_options(Config.from_env()))


if __name__ == "__main__":
    main()
