"""HTTP clients for bench/attack.py: a keep-alive connection that tallies statuses, and bounded loops."""

import http.client
import json
import threading
import time
from collections import Counter

HOST = "127.0.0.1"


class Tally:
    """Statuses of every attacker request, failed connections, and notes, shared by the attack's threads."""

    def __init__(self):
        self.lock, self.statuses, self.notes = threading.Lock(), Counter(), []

    def add(self, status):
        with self.lock:
            self.statuses[status] += 1

    def note(self, text):
        with self.lock:
            self.notes.append(text)


class Client:
    """One keep-alive connection (optionally from another loopback address); reconnects after a failure."""

    def __init__(self, port, tally=None, timeout=30.0, source=None):
        self.port, self.tally, self.timeout, self.source = port, tally, timeout, source
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """``(status, body bytes)``, or ``(None, b"")`` if the connection failed."""
        headers = dict(headers or {})
        if body is not None:
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        try:
            if self.conn is None:
                src = (self.source, 0) if self.source else None
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout, source_address=src)
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            status, data = r.status, r.read()
            if status >= 500 or r.will_close:  # as a browser would: the server may close it after an error
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            status, data = None, b""
        if self.tally is not None:
            self.tally.add(status)
        return status, data

    def json(self, method, path, body=None):
        status, data = self.request(method, path, body)
        return status, (json.loads(data) if data and status and status < 500 else None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def new_session(client, **body):
    status, state = client.json("POST", "/api/sessions", body or None)
    if status != 201:
        raise RuntimeError(f"could not create a session: {status}")
    return state["id"]


def large_session(client, per_class, classes):
    sid = new_session(client)
    status, _ = client.request("POST", f"/api/sessions/{sid}/reset",
                               {"params": "random", "seed": 1, "data": "random", "n": per_class, "classes": classes})
    if status != 200:
        raise RuntimeError(f"could not load {per_class}×{classes} points: {status}")
    return sid


def loop_until(deadline, fn, limit=100_000):
    """Call ``fn()`` until the deadline or ``limit`` calls; returns how many were made."""
    n = 0
    while time.monotonic() < deadline and n < limit:
        fn()
        n += 1
    return n


def in_threads(count, target, *args):
    threads = [threading.Thread(target=target, args=args, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    return threads


def join(threads, deadline):
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 35)
