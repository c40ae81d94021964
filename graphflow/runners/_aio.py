"""asyncio helpers of AsyncRunner: the call-wide concurrency limit and fail-fast gathering."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar, Token
from typing import Any

from graphflow.exceptions import GraphConfigError

__all__ = ["LIMIT", "all_or_first_error", "set_limit"]

#: the call's concurrency limit, shared by every map item and nested graph of one call
LIMIT: ContextVar[asyncio.Semaphore | None] = ContextVar("graphflow_limit", default=None)


def set_limit(max_concurrency: int | None) -> Token[asyncio.Semaphore | None]:
    """Give this run()/map() call its own limit (None: unlimited); reset with the token.

    Every call sets its own value, so a run started from inside a node body does not
    compete for the permit that node holds; nested graphs run inside the call and share it.
    """
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or (max_concurrency < 1)
    ):
        raise GraphConfigError(
            f"max_concurrency must be a positive int or None, got {max_concurrency!r}.\n\n"
            f"How to fix: max_concurrency=8, or None for no limit."
        )
    return LIMIT.set(None if max_concurrency is None else asyncio.Semaphore(max_concurrency))


async def all_or_first_error(aws: list[Any]) -> list[Any]:
    """Run awaitables concurrently; on the first error cancel the rest and raise it."""
    if not aws:
        return []
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        unfinished = [t for t in tasks if not t.done()]
        for t in unfinished:
            t.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
    for t in tasks:
        if not t.cancelled() and t.exception() is not None:
            raise t.exception()
    return [t.result() for t in tasks]
