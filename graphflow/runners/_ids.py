"""Event span ids: 16 hex digits, as OpenTelemetry's span ids are.

``random.getrandbits`` is what the OpenTelemetry SDK's own id generator uses: these ids must
be unique, not secret, and one is made per node execution, so the cheapest uniform source
wins (``secrets.token_hex(8)`` costs about twice as much). ``random`` reseeds itself in a
forked child, so processes never share a sequence.
"""

from __future__ import annotations

from random import getrandbits

__all__ = ["new_span_id"]


def new_span_id() -> str:
    """A fresh 64-bit id as 16 lowercase hex digits."""
    return "%016x" % getrandbits(64)  # noqa: UP031 - the fastest of the formatting spellings
