"""HTTP limits of the server the CLI starts, over raw sockets: header size, a deadline for a request's headers
and body (slowloris), keep-alive and idle connections, and the number of open connections."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

from app.server import uvicorn_options
from app.config import Config
from tests.conftest import ROOT, free_port, stop, wait_until

LIMITS = {"LINCLASS_MAX_HEADER_BYTES": "4096", "LINCLASS_REQUEST_TIMEOUT": "1", "LINCLASS_KEEP_ALIVE_TIMEOUT": "1",
          "LINCLASS_MAX_CONNECTIONS": "6"}


@contextmanager
def cli_server(env):
    """``python -m app.cli`` on a free loopback port with these ``LINCLASS_*`` settings; yields the port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200, "the CLI", proc)
        yield port
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def port():
    with cli_server(LIMITS) as p:
        yield p


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_all(s):
    """Everything the server sends until it closes the connection (b"" if it closes without a word)."""
    chunks = []
    try:
        while chunk := s.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def closed_within(s, seconds):
    """What the server sent before closing ``s``, if it closed it within ``seconds``; else fail."""
    s.settimeout(seconds)
    try:
        return read_all(s)
    except socket.timeout:
        pytest.fail(f"the connection is still open after {seconds} s")


def get(port, headers=""):
    return f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode()


def test_the_cli_passes_the_limits_to_uvicorn():
    options = uvicorn_options(Config(max_header_bytes=1000, keep_alive_timeout=3.0, max_connections=7))
    assert options["h11_max_incomplete_event_size"] == 1000
    assert (options["timeout_keep_alive"], options["limit_concurrency"]) == (3.0, 7)


def test_headers_under_the_limit_are_served(port):
    with connect(port) as s:
        s.sendall(get(port, "X-Pad: " + "a" * 3000 + "\r\nConnection: close\r\n"))
        reply = read_all(s)
    assert status(reply) == 200 and reply.endswith(b'{"status":"ok"}')


def test_responses_do_not_name_the_server_software(port):
    with connect(port) as s:
        s.sendall(get(port, "Connection: close\r\n"))
        head = read_all(s).split(b"\r\n\r\n")[0].lower()
    assert b"\r\ndate: " in head and b"\r\nserver:" not in head and b"uvicorn" not in head


def test_a_complete_request_with_a_header_over_the_limit_gets_431(port):
    with connect(port) as s:
        s.sendall(get(port, "X-Big: " + "a" * 10_000 + "\r\n"))
        assert status(closed_within(s, 5)) == 431


def test_an_endless_header_is_cut_off_at_the_limit(port):
    with connect(port) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent, reply = 0, b""
        try:
            while sent < 50_000_000:
                s.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            reply = closed_within(s, 5)
    # the server stopped reading long before 50 MB: the kernel's buffers fill and the send fails
    assert sent < 50_000_000
    assert reply == b"" or status(reply) == 431


def test_a_large_body_is_not_a_large_header(port):
    body = json.dumps({"X": [[0.5, 0.25]] * 5000, "y": [0] * 5000}).encode()  # ~80 kB, 20× the header limit
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/sessions?detail=summary", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 201 and json.loads(r.read())["n_points"] == 5000
    conn.close()


def test_slowloris_is_closed_after_the_request_timeout(port):
    with connect(port) as s:
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        try:
            while time.monotonic() - start < 5:  # a header line every 0.2 s, never the blank line
                s.sendall(b"X-a: b\r\n")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            reply = b""
        else:
            pytest.fail("still open after 5 s with a 1 s request timeout")
        reply = reply or read_all(s)
    assert reply == b"" or status(reply) == 408


def test_a_slow_second_request_on_a_kept_alive_connection_is_closed_after_the_request_timeout(port):
    """Its time counts from its own first byte: the connection's one timer, set when it opened, looks again."""
    with connect(port) as s:
        time.sleep(0.6)  # most of a request timeout spent idle before the first request: not held against either
        s.sendall(get(port))
        assert status(s.recv(65536)) == 200
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        start, lines = time.monotonic(), 0
        try:
            while time.monotonic() - start < 5:
                s.sendall(b"X-a: b\r\n")
                lines += 1
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            pytest.fail("still open after 5 s with a 1 s request timeout")
    assert lines >= 8  # not cut off before its own second was up (0.1 s a line)


def test_a_slow_body_is_closed_after_the_request_timeout(port):
    with connect(port) as s:
        s.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{")
        try:
            for _ in range(25):
                time.sleep(0.2)
                s.sendall(b" ")
        except (BrokenPipeError, ConnectionResetError):
            return
        reply = closed_within(s, 5)
        assert status(reply) != 201


def test_a_connection_that_sends_nothing_is_closed(port):
    with connect(port) as s:
        assert closed_within(s, 5) == b""


def test_an_idle_keep_alive_connection_is_closed(port):
    with connect(port) as s:
        s.sendall(get(port))
        time.sleep(0.3)
        first = s.recv(65536)
        assert status(first) == 200
        assert closed_within(s, 5) == b""


def test_keep_alive_serves_several_requests(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/api/health")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        time.sleep(0.3)  # well within the keep-alive timeout
    conn.close()


def test_connections_beyond_the_limit_are_refused():
    with cli_server({**LIMITS, "LINCLASS_REQUEST_TIMEOUT": "30", "LINCLASS_MAX_CONNECTIONS": "5"}) as port:
        held = [connect(port) for _ in range(5)]
        try:
            time.sleep(0.2)
            with connect(port) as extra:
                assert status(closed_within(extra, 5)) == 503
        finally:
            for s in held:
                s.close()
        time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200  # slots free again
