"""``linear-classify-demo`` (or ``python -m app``): serve the demo, on http://127.0.0.1:8000 by default."""

import argparse
import errno
import importlib.util
import socket
import sys
import threading
import time
import webbrowser

import uvicorn

from app import __version__
from app.config import ConfigError, describe_settings, load_config
from app.main import REDIS_MISSING
from app.paths import PACKAGE, STATIC, TEMPLATES
from app.server import uvicorn_options

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="linear-classify-demo", description=__doc__, epilog=describe_settings(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s; "
                        "0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="(default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="processes; more than one needs the Redis store")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="(default: %(default)s)")
    parser.add_argument("--access-log", action="store_true", help="log every request (off: the page sends many)")
    parser.add_argument("--reload", action="store_true", help="restart when the code changes (development)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser once serving")
    parser.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                        help="proxies whose X-Forwarded-For is trusted (comma-separated; see the README)")
    return parser, parser.parse_args(argv)


def fail(message):
    print(f"linear-classify-demo: {message}", file=sys.stderr)
    raise SystemExit(2)


def port_in_use(host, port):
    """Whether binding (as uvicorn will, with SO_REUSEADDR) fails because the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            fail(f"cannot listen on {host}:{port}: {e.strerror}")
    return False


def open_when_listening(host, port, timeout=30.0):
    """Open the page in the default browser as soon as the server accepts connections (in the background)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{f'[{local}]' if ':' in local else local}:{port}/"

    def wait_then_open():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection((local, port), 0.5).close()
            except OSError:
                time.sleep(0.1)
                continue
            webbrowser.open(url)
            return

    threading.Thread(target=wait_then_open, daemon=True).start()


def main(argv=None):
    parser, args = parse_args(argv)
    try:
        config = load_config()
    except ConfigError as e:
        fail(str(e))
    redis_store = config.session_store.startswith("redis://")
    if redis_store and importlib.util.find_spec("redis") is None:
        fail(REDIS_MISSING)
    if args.workers > 1 and not redis_store:
        fail("--workers > 1 needs a shared session store: set LINCLASS_SESSION_STORE=redis://host:port/db "
             "(with the in-memory store each worker would hold different sessions)")
    if args.reload and args.workers > 1:
        fail("--reload runs one process: leave out --workers")
    if port_in_use(args.host, args.port):
        fail(f"port {args.port} is in use: pass --port")
    if args.open:
        open_when_listening(args.host, args.port)
    reload = {"reload": True, "reload_dirs": [str(PACKAGE), str(STATIC), str(TEMPLATES)],
              "reload_includes": ["*.py", "*.html", "*.js", "*.css"]} if args.reload else {}
    uvicorn.run("app.server:served_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                access_log=args.access_log, log_level=args.log_level,
                forwarded_allow_ips=args.forwarded_allow_ips, **reload, **uvicorn_options(config))


if __name__ == "__main__":
    main()
