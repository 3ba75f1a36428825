"""The HTTP server the CLI starts: uvicorn with the limits a server shared by a class needs.

Through uvicorn's own options where it has them (:func:`uvicorn_options`):

* ``timeout_keep_alive``: an idle keep-alive connection is closed after ``keep_alive_timeout`` seconds;
* ``limit_concurrency``: at ``max_connections`` open connections (or requests in progress) new requests
  are answered 503;
* ``h11_max_incomplete_event_size``: the request line and headers may take ``max_header_bytes``;
* ``server_header`` off: no ``server: uvicorn`` on every response (it tells a scanner what runs here, and
  costs the hottest route a header).

uvicorn applies the header limit to its h11 protocol only, and has no deadline for receiving a request, so
:class:`LimitedHttpToolsProtocol` (its httptools protocol, which the CLI uses) adds:

* the header limit: httptools buffers an unfinished header without bound (a 200 MB one costs ~400 MB);
  beyond ``max_header_bytes`` the request is answered 431 and the connection closed, before parsing more;
* ``request_timeout``: from a connection's first byte (or its opening) to the end of a request's body. A
  connection that dawdles (slowloris), or opens and sends nothing, is answered 408 (or just closed) when it
  expires. The time a request waits for the app to read its body does not count;
* connections beyond ``max_connections`` are answered 503 and closed at once, rather than held open idle.

uvicorn has no option for ``request_timeout``, so the protocol reads it from ``LINCLASS_REQUEST_TIMEOUT``, in
every worker process alike.

It also sends each response in one piece: uvicorn writes the status line and headers when the app starts the
response and the body when it sends it, two ``send()`` calls and, on a connection with Nagle's algorithm off,
two TCP segments for one small answer. Over loopback the receiving side's work runs on the sender's core too,
so the second segment cost the server's one core about a tenth of a step request (bench/throughput.py).
:class:`CoalescingTransport` joins the writes made in one turn of the event loop into one.
"""

import functools
import gc

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.config import load_config
from app.main import create_app

DEFAULT_HEADER_BYTES = 16 * 1024  # h11's own default, if uvicorn's option is not set
YOUNG_GC_THRESHOLD = 10_000  # allocations between collections of the youngest generation (Python's default: 700)


def served_app():
    """The app as the CLI serves it (uvicorn's app factory, in every worker process): :func:`app.main.create_app`
    with the garbage collector tuned for a long-running server. The objects that exist once the app is built
    (modules, routes, schemas: some 80,000) are frozen out of every later collection, and the youngest
    generation is collected every 10,000 allocations instead of 700. Requests make almost no cyclic garbage,
    but 100 clients keep thousands of young objects alive at any moment, so Python's default collects, and
    promotes, the same live objects over and over: under bench/throughput.py's load that was 4 µs of CPU per
    step request and a 22 ms pause in every full collection; with this, under 1 µs and no full collection."""
    app = create_app()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    return app


def uvicorn_options(config):
    """Keyword arguments for ``uvicorn.run`` that apply ``config``'s HTTP limits."""
    return {"http": LimitedHttpToolsProtocol, "h11_max_incomplete_event_size": config.max_header_bytes,
            "timeout_keep_alive": config.keep_alive_timeout, "limit_concurrency": config.max_connections,
            "server_header": False}


@functools.cache
def request_timeout():
    return load_config().request_timeout


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header limit, a request deadline and a hard connection limit."""

    def __init__(self, config, server_state, app_state, _loop=None):
        super().__init__(config, server_state, app_state, _loop)
        self.max_header_bytes = config.h11_max_incomplete_event_size or DEFAULT_HEADER_BYTES
        self.request_timeout = request_timeout()
        self.head_bytes, self.reading_head, self.received = 0, True, False
        self.deadline = self.request_began = None  # the connection's timer; when the request in progress began

    # --- connections ----------------------------------------------------------------------------------
    def connection_made(self, transport):
        super().connection_made(CoalescingTransport(transport, self.loop))
        limit = self.config.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            self._refuse(503, "Too many open connections")
            return
        self.request_began = self.loop.time()
        self._watch(self.request_timeout)

    def connection_lost(self, exc):
        if self.deadline is not None:
            self.deadline.cancel()
        super().connection_lost(exc)

    # --- the header limit -----------------------------------------------------------------------------
    def data_received(self, data):
        self.received = True
        while data and not self.transport.is_closing():
            if not self.reading_head:
                super().data_received(data)
                return
            room = self.max_header_bytes - self.head_bytes
            if room <= 0:
                self._refuse(431, "Request header fields too large")
                return
            piece, data = data[:room], data[room:]
            self.head_bytes += len(piece)
            super().data_received(piece)  # may complete the head: the rest is then fed unlimited

    def on_headers_complete(self):
        self.reading_head = False
        super().on_headers_complete()

    def on_response_complete(self):
        self.transport.flush()  # the whole response at once, without waiting for the loop's next turn
        super().on_response_complete()

    # --- the request deadline -------------------------------------------------------------------------
    # One timer per connection, not one per request: a request only notes when it began, and the timer, when
    # it fires, closes the connection if the request then in progress is overdue, or else looks again when it
    # would be (a call_later and a cancel on every request cost the hottest route 2 µs; bench/protocol_cpu.py).
    def on_message_begin(self):
        super().on_message_begin()
        if self.request_began is None:  # the first request's time counts from the connection's opening
            self.request_began = self.loop.time()

    def on_message_complete(self):
        super().on_message_complete()
        self.request_began = None
        self.head_bytes, self.reading_head = 0, True

    def _watch(self, delay):
        self.deadline = self.loop.call_later(delay, self._expire)

    def _expire(self):
        self.deadline = None
        if self.transport.is_closing():
            return
        began = self.request_began
        # between requests (uvicorn's keep-alive timeout applies), or the app has not read the body yet (the
        # client is not to blame): look again later
        if began is None or self.flow.read_paused:
            self._watch(self.request_timeout)
            return
        overdue = self.loop.time() - began - self.request_timeout
        if overdue < 0:
            self._watch(-overdue)
        elif self.reading_head and self.received:
            self._refuse(408, "Request timeout")
        else:
            self.transport.close()

    def _refuse(self, status, message):
        """Answer ``status`` and close, unless a response is under way on this connection: then just close."""
        if self.cycle is None or self.cycle.response_complete:
            body = message.encode()
            self.transport.write(STATUS_LINE[status] + b"content-type: text/plain; charset=utf-8\r\n"
                                 b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
                                 + body)
        self.transport.close()


class CoalescingTransport:
    """A connection's transport whose writes wait until the end of the event loop's turn (or :meth:`flush`) and
    then go out as one: a response's head and body in one ``send()``. At most one turn's writes are held, so a
    streamed response still flows, chunk by chunk, under the transport's own flow control."""

    def __init__(self, transport, loop):
        self._transport, self._loop, self._pending = transport, loop, []

    def write(self, data):
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self):
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():  # a lost connection: nothing to send it to (and nothing kept)
            self._transport.write(data)

    def close(self):
        self.flush()
        self._transport.close()

    def is_closing(self):
        return self._transport.is_closing()

    def __getattr__(self, name):  # everything else as the transport itself (extra info, reading, protocol)
        return getattr(self._transport, name)
