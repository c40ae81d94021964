"""RunHandle: stream a run's events and answer its interrupts (``AsyncRunner.iter``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphflow.events import Event, EventProcessor
from graphflow.exceptions import GraphConfigError, RunHandleError, did_you_mean
from graphflow.graph import Graph, GraphNode, InterruptNode
from graphflow.runners.result import RunResult

__all__ = ["PAUSE", "RunHandle", "check_handlers"]

#: what an unanswered question resolves to when the consumer moves on without answering
PAUSE: Any = object()
_DONE: Any = object()


class _Sink(EventProcessor):
    """Feeds a handle's queue; part of the run's processors."""

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self._queue = queue

    def on_event(self, event: Event) -> None:
        self._queue.put_nowait(event)


class RunHandle:
    """Handle for streaming graph execution with interrupt support.

    Iterate it for events; after an ``InterruptEvent`` call ``respond(param, value)``
    and keep iterating. Moving on without an answer pauses the run.

    Example:
        >>> async with runner.iter(graph, {"draft": "hi"}) as run:
        ...     async for event in run:
        ...         if isinstance(event, InterruptEvent):
        ...             run.respond(event.response_param, "approved")
        >>> run.result.status
        <RunStatus.COMPLETED: 'completed'>
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.sink = _Sink(self._queue)
        self._questions: dict[str, asyncio.Future[Any]] = {}
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[Event]:
        """Yield events as they happen; raise the run's error at the end, if any."""
        while True:
            if self._queue.empty():
                self._pause_unanswered()
            item = await self._queue.get()
            if item is _DONE:
                break
            yield item
        if self._error is not None:
            raise self._error

    def respond(self, param: str, value: Any) -> None:
        """Answer the pending interrupt whose ``response_param`` is ``param``.

        Raises:
            RunHandleError: no interrupt is waiting for ``param``.
        """
        future = self._questions.pop(param, None)
        if future is None or future.done():
            waiting = ", ".join(self._questions) or "none"
            raise RunHandleError(
                f"respond('{param}', ...) but no interrupt is waiting for '{param}' "
                f"(waiting: {waiting}).\n\nHow to fix: call respond() after an "
                f"InterruptEvent, with its response_param."
            )
        future.set_result(value)

    @property
    def result(self) -> RunResult:
        """The RunResult, once iteration is complete.

        Raises:
            RunHandleError: (a RuntimeError) before the run has finished.
        """
        if self._result is None:
            raise RunHandleError(
                "RunHandle.result was read before the run finished.\n\n"
                "How to fix: read it after the `async for event in run:` loop ends."
            )
        return self._result

    # ------------------------------------------------------------------ runner side
    async def ask(self, param: str) -> Any:
        """Wait for ``respond(param, ...)``; PAUSE if the consumer moves on unanswered."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._questions[param] = future
        try:
            return await future
        finally:
            self._questions.pop(param, None)

    def _pause_unanswered(self) -> None:
        for param, future in list(self._questions.items()):
            if not future.done():
                future.set_result(PAUSE)
            self._questions.pop(param, None)

    def finish(self, result: RunResult | None, error: BaseException | None = None) -> None:
        """Record the outcome and end iteration."""
        self._result = result
        self._error = error
        self._finished = True
        self._queue.put_nowait(_DONE)


def check_handlers(graph: Graph, handlers: dict[str, Callable[..., Any]] | None) -> None:
    if not handlers:
        return
    names = _interrupt_names(graph, "")
    for key, fn in handlers.items():
        if key not in names:
            raise GraphConfigError(
                f"interrupt_handlers has '{key}', which is not an interrupt of the graph."
                f"{did_you_mean(key, names)}\n\nInterrupts: {', '.join(sorted(names)) or '(none)'}."
            )
        if not callable(fn):
            raise GraphConfigError(f"interrupt_handlers['{key}'] is not callable: {fn!r}.")


def _interrupt_names(graph: Graph, prefix: str) -> set[str]:
    names: set[str] = set()
    for n in graph.nodes.values():
        if isinstance(n, InterruptNode):
            names.update((n.name, prefix + n.name))
        elif isinstance(n, GraphNode):
            names |= _interrupt_names(n.graph, f"{prefix}{n.name}/")
    return names
