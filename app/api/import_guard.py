"""The import route's first check: a history over its cap is refused before the body is parsed.

FastAPI parses a body with the standard library's ``json`` and pydantic then validates (and copies) it, all on
the event loop: a 2 MB import holding a million-entry history held the loop ~300 ms (bench/attack.py,
``import_bomb``); any parser, even orjson (10–70 ms here), or a worker thread, would hold the loop or the GIL
for more than a few ms. So the body is only scanned, at C speed (about a millisecond for 2 MB): an array under
a ``"history"`` key with more commas than the cap allows is refused, 422 naming ``history``. That never refuses
a valid record: a valid history holds only numbers (so its entries are its commas + 1); a ``"history"`` key
anywhere else is an unknown field; inside a string its quotes are escaped and it does not match. Anything
else goes on to FastAPI as before.
"""

import re

from fastapi.routing import APIRoute

from app.core import trainer
from app.core.validation import InvalidInput

_HISTORY = re.compile(rb'"history"\s*:\s*\[')


def history_over_cap(body):
    """The entries of a ``"history"`` array in ``body`` if they are more than the cap allows, else None."""
    if body.count(b",") < trainer.MAX_HISTORY:  # too few commas anywhere
        return None
    for key in _HISTORY.finditer(body):
        end = body.find(b"]", key.end())
        entries = body.count(b",", key.end(), end if end >= 0 else len(body)) + 1
        if entries > trainer.MAX_HISTORY:
            return entries
    return None


class CappedHistoryRoute(APIRoute):
    def get_route_handler(self):
        handler = super().get_route_handler()

        async def checked(request):
            if history_over_cap(await request.body()) is not None:
                raise InvalidInput("history", f"must have at most {trainer.MAX_HISTORY:,} entries")
            return await handler(request)

        return checked
