"""Event processors: the objects runners hand every event to.

A processor runs inline, on the thread (or event loop) that emitted the event, so it must be
quick and must not raise; anything slow (network export) belongs behind a queue. The
dispatcher logs and counts what a processor raises anyway, so a broken processor never changes
a run's outcome.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import weakref
from collections.abc import Coroutine
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from graphflow.events.types import EVENT_TYPES, Event, NodeStartEvent

__all__ = ["AsyncEventProcessor", "EventProcessor", "TypedEventProcessor"]

logger = logging.getLogger("graphflow")

_INIT_LOCK = threading.Lock()


class EventProcessor:
    """Receives the events of runs. Every method is a no-op by default.

    Methods run inline and must neither block nor raise. Runners call :meth:`force_flush`
    after each run (and before a pause); they never call :meth:`shutdown`: that belongs to
    whoever owns the processor, so one processor can serve many runners and concurrent runs.
    Processors may be called from several threads at once (nested graphs in worker threads).

    Example:
        >>> from graphflow.events import CacheHitEvent
        >>> class Printer(EventProcessor):
        ...     def on_event(self, event: Event) -> None:
        ...         print(type(event).__name__)
        >>> Printer().on_event(CacheHitEvent("r", "s", None, "embed", 0.0))
        CacheHitEvent
    """

    def on_event(self, event: Event) -> None:
        """Handle one event.

        Args:
            event: the event, frozen; do not try to change it.
        """

    def force_flush(self) -> None:
        """Export whatever is buffered. Subclasses may add ``timeout_millis: int = 30000``."""

    def shutdown(self) -> None:
        """Flush and release resources. Terminal: called once, by the owner, never by runs."""

    def node_scope(self, event: NodeStartEvent) -> AbstractContextManager[Any] | None:
        """A context the runner enters around the node's own body (its function call only).

        Override it to make something current while user code runs, e.g. the node's span,
        so that spans created inside the node nest under it. Runners call it right after
        ``on_event(event)`` for that ``NodeStartEvent``, enter the result in the task that
        runs the body, and exit it when the body returns or raises. Return ``None`` (the
        default) for nothing. Must not raise; an exception is logged and ignored.
        """
        return None


class AsyncEventProcessor(EventProcessor):
    """A processor whose work is coroutines, awaited by ``AsyncRunner``.

    ``AsyncRunner`` awaits :meth:`on_event_async` and :meth:`force_flush_async` (when the
    subclass defines them). ``SyncRunner`` calls the sync methods, whose default runs the
    coroutine to completion on a private event loop owned by the processor. If an event loop
    is already running in the calling thread (a ``SyncRunner`` used from async code), the
    coroutine cannot be run there: a warning is logged once per processor and the event is
    dropped. :meth:`shutdown` closes the private loop.

    Example:
        >>> from graphflow.events import CacheHitEvent
        >>> class Sender(AsyncEventProcessor):
        ...     async def on_event_async(self, event: Event) -> None:
        ...         print(type(event).__name__)
        >>> Sender().on_event(CacheHitEvent("r", "s", None, "embed", 0.0))
        CacheHitEvent
    """

    _gf_loop: asyncio.AbstractEventLoop | None = None
    _gf_lock: threading.Lock | None = None
    _gf_warned: bool = False

    async def on_event_async(self, event: Event) -> None:
        """Handle one event on the runner's event loop. Default: nothing.

        Args:
            event: the event, frozen; do not try to change it.
        """

    async def force_flush_async(self) -> None:
        """Export whatever is buffered, on the runner's event loop. Default: nothing."""

    async def shutdown_async(self) -> None:
        """Release async resources. Default: nothing. Called by :meth:`shutdown`."""

    def on_event(self, event: Event) -> None:
        """Run :meth:`on_event_async` on the private loop (see the class docstring)."""
        self._run_blocking(self.on_event_async(event), "on_event")

    def force_flush(self) -> None:
        """Run :meth:`force_flush_async` on the private loop (see the class docstring)."""
        self._run_blocking(self.force_flush_async(), "force_flush")

    def shutdown(self) -> None:
        """Run :meth:`shutdown_async` on the private loop, then close that loop.

        From code with a running event loop, ``await shutdown_async()`` instead: this method
        can then only close the private loop.
        """
        self._run_blocking(self.shutdown_async(), "shutdown")
        with self._lock():
            loop, self._gf_loop = self._gf_loop, None
            if loop is not None:
                loop.close()

    def _lock(self) -> threading.Lock:
        lock = self._gf_lock
        if lock is None:
            with _INIT_LOCK:
                lock = self._gf_lock
                if lock is None:
                    lock = self._gf_lock = threading.Lock()
        return lock

    def _run_blocking(self, coro: Coroutine[Any, Any, None], method: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            self._warn_running_loop(method)
            return
        # One private loop serves every thread; the lock keeps it from running twice at once.
        with self._lock():
            loop = self._gf_loop
            if loop is None or loop.is_closed():
                loop = self._gf_loop = asyncio.new_event_loop()
                # Close the loop even if the owner never calls shutdown().
                weakref.finalize(self, loop.close)
            loop.run_until_complete(coro)

    def _warn_running_loop(self, method: str) -> None:
        if self._gf_warned:
            return
        self._gf_warned = True
        logger.warning(
            "%s.%s() was called from a thread whose event loop is running, so its coroutine "
            "cannot run; the call is dropped (further drops are silent). How to fix: use "
            "AsyncRunner from async code, or override %s() with a sync version.",
            type(self).__qualname__,
            method,
            method,
        )


_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def _handler_name(event_type: type) -> str:
    base = event_type.__name__.removesuffix("Event")
    return "on_" + _CAMEL_BOUNDARY.sub("_", base).lower()


_HANDLER_NAMES: dict[type, str] = {t: _handler_name(t) for t in EVENT_TYPES}


class TypedEventProcessor(EventProcessor):
    """Dispatches each event to an ``on_<snake_case>`` method, when the subclass defines it.

    ``RunStartEvent`` goes to ``on_run_start``, ``NodeEndEvent`` to ``on_node_end``,
    ``StreamingChunkEvent`` to ``on_streaming_chunk``, ``MapStartEvent`` to ``on_map_start``,
    and so on. Events without a handler are ignored. The table is built once per class.

    Example:
        >>> from graphflow.events import NodeEndEvent
        >>> class Timer(TypedEventProcessor):
        ...     def on_node_end(self, event: NodeEndEvent) -> None:
        ...         print(event.node_name, event.duration_ms)
        >>> Timer().on_event(NodeEndEvent("r", "s", None, "embed", [], 2.0, False, 0.0))
        embed 2.0
    """

    _gf_handlers: ClassVar[dict[type, str | None]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._gf_handlers = {
            t: name if callable(getattr(cls, name, None)) else None
            for t, name in _HANDLER_NAMES.items()
        }

    def on_event(self, event: Event) -> None:
        """Call the handler for ``type(event)``, if the class defines one."""
        handlers = self._gf_handlers
        event_type = type(event)
        try:
            name = handlers[event_type]
        except KeyError:
            name = handlers[event_type] = self._resolve(event_type)
        if name is not None:
            getattr(self, name)(event)

    @classmethod
    def _resolve(cls, event_type: type) -> str | None:
        """Handler name for a subclass of an event type (rare; cached by the caller)."""
        for base in event_type.__mro__[1:]:
            if base in _HANDLER_NAMES:
                return cls._gf_handlers.get(base)
        return None
