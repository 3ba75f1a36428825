"""Conditional requests (RFC 9110 §8.8.3, §13.1.1): every state response carries a strong ``ETag`` for the
session's current state, and every request that changes a session honours ``If-Match``, so that a client can
retry a step or an edit (after a timeout, a lost connection, a 503) without applying it twice: a retry of a
change that was applied carries an ETag that is no longer current, and gets 412 with the current one.

The tag is the session id and its revision, which the store adds one to on every saved change: unique to
one state of one session, and cheap to make (it is made on every request that steps).
"""

import re
from typing import Annotated

from fastapi import Header

from app.api.responses import JSON

IfMatch = Annotated[str | None, Header(
    description="Apply the change only if the session's current ETag is one of these (or `*`); otherwise 412 "
                "with the current ETag. Send the ETag of the last state you saw, so that a retry is never "
                "applied twice.")]
# RFC 9110: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a comma-separated list
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


class PreconditionFailed(Exception):
    def __init__(self, current):
        super().__init__("the session has changed since the ETag sent in If-Match")
        self.current = current


def etag(sid, revision):
    return f'"{sid}.{revision}"'


def matches(if_match, current):
    """Whether an ``If-Match`` value admits the current strong ETag: ``*``, or a list holding it; weak tags
    never match (strong comparison), and an unparsable value matches nothing."""
    if if_match.strip() == "*":
        return True
    position, found = 0, False
    while position < len(if_match):
        m = _TAG.match(if_match, position)
        if m is None or m.end() == position:
            return False
        found |= m.group(1) is None and f'"{m.group(2)}"' == current
        position = m.end()
    return found


def require(if_match, sid, revision):
    """Raise :class:`PreconditionFailed` unless ``If-Match`` (if sent) admits the session's current state."""
    if if_match is not None and not matches(if_match, etag(sid, revision)):
        raise PreconditionFailed(etag(sid, revision))


def tagged(state, revision, status_code=200):
    """A state response with its ETag."""
    return JSON(state, status_code=status_code, headers={"ETag": etag(state["id"], revision)})
