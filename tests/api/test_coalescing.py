"""app.server.CoalescingTransport: the writes of one turn of the event loop go out as one (a response's head and
body in one send()), a close sends what is held first, and a streamed body still goes out turn by turn. Driven
on a real event loop with a transport that records each write it is given."""

import asyncio

import pytest

from app.server import CoalescingTransport


class Recorder:
    """The real transport's part: what it was asked to write, one entry per write() call."""

    def __init__(self):
        self.writes, self.closed = [], False

    def write(self, data):
        self.writes.append(data)

    def close(self):
        self.closed = True

    def is_closing(self):
        return self.closed

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 9)}.get(name, default)


async def next_turn():
    await asyncio.sleep(0)


@pytest.fixture
def pair():
    async def make():
        real = Recorder()
        return real, CoalescingTransport(real, asyncio.get_running_loop())
    return make


def test_the_writes_of_one_turn_go_out_as_one_at_its_end(pair):
    async def scenario():
        real, t = await pair()
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert real.writes == []  # held until the turn ends
        await next_turn()
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        await next_turn()
        assert len(real.writes) == 1  # nothing sent twice
    asyncio.run(scenario())


def test_flush_sends_at_once_and_close_sends_what_is_held_first(pair):
    async def scenario():
        real, t = await pair()
        t.write(b"a")
        t.flush()
        assert real.writes == [b"a"]
        t.write(b"b")
        t.write(b"c")
        t.close()
        assert real.writes == [b"a", b"bc"] and real.closed and t.is_closing()
        await next_turn()
        assert real.writes == [b"a", b"bc"]
    asyncio.run(scenario())


def test_a_streamed_body_goes_out_turn_by_turn(pair):
    async def scenario():
        real, t = await pair()
        for chunk in (b"head", b"one", b"two"):
            t.write(chunk)
            await next_turn()
        assert real.writes == [b"head", b"one", b"two"]
    asyncio.run(scenario())


def test_nothing_is_written_to_a_transport_that_is_closing_and_the_rest_is_the_transports(pair):
    async def scenario():
        real, t = await pair()
        real.closed = True  # the connection was lost
        t.write(b"late")
        await next_turn()
        assert real.writes == []
        assert t.get_extra_info("peername") == ("127.0.0.1", 9)
    asyncio.run(scenario())
