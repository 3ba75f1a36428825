"""A fixed working-memory budget for every computation, whatever the data size and the query.

Computations over (grid points × examples × classes) or (examples × parameters) cut every axis into chunks
whose arrays hold at most ``CHUNK_ELEMENTS`` float64s each. A few such arrays are alive at once (the scores
block, the loss function's margins and gradient, index arrays), so about ``WORK_BYTES`` in all.

Between chunks they call ``stop()`` if given: a request whose client has gone, or whose time is up, ends
there (:class:`Stopped`) instead of computing an answer no one will read.
"""

WORK_BYTES = 64 * 2**20
CHUNK_ELEMENTS = WORK_BYTES // 8 // 8  # eight arrays of this many float64s fit the budget


class Stopped(Exception):
    """A computation gave up between two chunks because its ``stop()`` said so."""


def checkpoint(stop):
    if stop is not None and stop():
        raise Stopped


def spans(total, size):
    """``(start, end)`` of consecutive chunks of at most ``size`` (≥ 1) covering ``range(total)``."""
    size = max(1, int(size))
    return [(start, min(start + size, total)) for start in range(0, total, size)]
