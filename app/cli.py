"""``linear-classify-demo``: serve the demo (127.0.0.1:8000 by default)."""

import argparse

import uvicorn


def main(argv=None):
    parser = argparse.ArgumentParser(prog="linear-classify-demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes; more than one needs the Redis store")
    args = parser.parse_args(argv)
    uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="info")


if __name__ == "__main__":
    main()
