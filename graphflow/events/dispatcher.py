"""The dispatcher: fans each event out to processors, best-effort and isolated.

A processor that raises is logged (in full the first time, at debug level after that) and
counted in :func:`processor_error_counts`; the run goes on. ``strict=True`` re-raises instead,
for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from graphflow.events.processor import AsyncEventProcessor, EventProcessor
from graphflow.events.types import Event, NodeStartEvent
from graphflow.exceptions import GraphConfigError

__all__ = [
    "EventDispatcher",
    "processor_error_counts",
    "record_telemetry_drop",
    "reset_processor_error_counts",
    "reset_telemetry_drop_counts",
    "telemetry_drop_counts",
]

logger = logging.getLogger("graphflow")

_errors_lock = threading.Lock()
_error_counts: dict[str, int] = {}
_logged: set[int] = set()  # id() of processors whose first error was logged in full


def processor_error_counts() -> dict[str, int]:
    """Return how many exceptions processors raised, keyed by class ``__qualname__``."""
    with _errors_lock:
        return dict(_error_counts)


def reset_processor_error_counts() -> None:
    """Forget all counted errors (and which processors were logged). For tests."""
    with _errors_lock:
        _error_counts.clear()
        _logged.clear()


_drops: dict[tuple[str, str], int] = {}


def record_telemetry_drop(processor: str, reason: str, count: int = 1) -> None:
    """Count telemetry lost on the way out (an exporter's queue full, a failed export).

    Process-wide, like :func:`processor_error_counts`; ``PrometheusProcessor`` reports both
    as ``graphflow_telemetry_dropped_total{processor, reason}``. Never raises.
    """
    if count > 0:
        with _errors_lock:
            key = (processor, reason)
            _drops[key] = _drops.get(key, 0) + count


def telemetry_drop_counts() -> dict[tuple[str, str], int]:
    """Telemetry dropped since start (or reset), by ``(processor, reason)``."""
    with _errors_lock:
        return dict(_drops)


def reset_telemetry_drop_counts() -> None:
    """Forget every counted drop. For tests."""
    with _errors_lock:
        _drops.clear()


def _record_error(processor: EventProcessor) -> bool:
    """Count one error; return True if it is the processor's first (to log in full)."""
    name = type(processor).__qualname__
    key = id(processor)
    with _errors_lock:
        _error_counts[name] = _error_counts.get(name, 0) + 1
        if key in _logged:
            return False
        _logged.add(key)
    # A later processor may reuse the id once this one is gone (TypeError: no weakrefs).
    with contextlib.suppress(TypeError):
        weakref.finalize(processor, _logged.discard, key)
    return True


def _prefers_async(processor: EventProcessor, sync_name: str, async_name: str) -> bool:
    """Whether an async runner should await ``async_name`` rather than call ``sync_name``.

    It should, unless the subclass overrides only the sync method.
    """
    if not isinstance(processor, AsyncEventProcessor):
        return False
    cls = type(processor)
    own_sync = getattr(cls, sync_name) is not getattr(AsyncEventProcessor, sync_name)
    own_async = getattr(cls, async_name) is not getattr(AsyncEventProcessor, async_name)
    return own_async or not own_sync


class _Queue:
    """Events waiting for an async processor, shared with dispatchers extended from one."""

    __slots__ = ("drain_lock", "drain_loop", "items", "lock")

    def __init__(self) -> None:
        self.items: deque[tuple[AsyncEventProcessor, Event]] = deque()
        self.lock = threading.Lock()
        self.drain_lock: asyncio.Lock | None = None
        self.drain_loop: asyncio.AbstractEventLoop | None = None


class _Scope:
    """One entered ``node_scope``; ``close()`` exits it, a failure logged and counted."""

    __slots__ = ("_dispatcher", "_processor", "_scope")

    def __init__(
        self,
        dispatcher: EventDispatcher,
        processor: EventProcessor,
        scope: AbstractContextManager[Any],
    ) -> None:
        self._dispatcher = dispatcher
        self._processor = processor
        self._scope = scope

    def close(self) -> None:
        try:
            self._scope.__exit__(None, None, None)
        except Exception:
            self._dispatcher._failed(self._processor, "node_scope")


class _Scopes:
    """Several entered scopes; ``close()`` exits them innermost first, each isolated."""

    __slots__ = ("_scopes",)

    def __init__(self, scopes: list[_Scope]) -> None:
        self._scopes = scopes

    def close(self) -> None:
        for scope in reversed(self._scopes):
            scope.close()


class EventDispatcher:
    """Sends each event to every processor, in order, without letting them break the run.

    Args:
        processors: the processors; duplicates (by identity) are dropped, order is kept.
        async_mode: set by ``AsyncRunner``. Events for an :class:`AsyncEventProcessor` are
            then queued in :attr:`pending` instead of being handled at once, and delivered by
            ``await drain()``.
        strict: re-raise processor exceptions instead of logging them (for tests).

    Attributes:
        processors: the processors, deduplicated.
        active: whether there is any processor. When false, runners build no events at all.
        has_async: whether any processor is an :class:`AsyncEventProcessor`.
        pending: ``(processor, event)`` pairs awaiting :meth:`drain` (async mode only). Test it
            with ``if dispatcher.pending:``. Appends are locked, so worker threads may emit.

    Raises:
        GraphConfigError: if an item is not an :class:`EventProcessor`.

    Example:
        >>> from graphflow.events import CacheHitEvent, EventProcessor
        >>> dispatcher = EventDispatcher([EventProcessor()])
        >>> if dispatcher.active:
        ...     dispatcher.emit(CacheHitEvent("r", "s", None, "embed", 0.0))
        >>> dispatcher.force_flush()
    """

    __slots__ = (
        "_deferred",
        "_flush_async",
        "_queue",
        "_sync",
        "active",
        "async_mode",
        "has_async",
        "pending",
        "processors",
        "scoped",
        "strict",
    )

    def __init__(
        self,
        processors: Iterable[EventProcessor] = (),
        *,
        async_mode: bool = False,
        strict: bool = False,
    ) -> None:
        unique: dict[int, EventProcessor] = {}
        for processor in processors:
            if not isinstance(processor, EventProcessor):
                raise GraphConfigError(
                    f"Event processors must be EventProcessor instances; got "
                    f"{type(processor).__qualname__}.\n\nHow to fix: subclass "
                    "graphflow.EventProcessor (or TypedEventProcessor) and pass an instance."
                )
            unique.setdefault(id(processor), processor)
        self.processors: tuple[EventProcessor, ...] = tuple(unique.values())
        self.active: bool = bool(self.processors)
        self.has_async: bool = any(isinstance(p, AsyncEventProcessor) for p in self.processors)
        self.async_mode = async_mode
        self.strict = strict
        deferred = [
            p
            for p in self.processors
            if async_mode and _prefers_async(p, "on_event", "on_event_async")
        ]
        self._deferred: tuple[AsyncEventProcessor, ...] = tuple(
            p for p in deferred if isinstance(p, AsyncEventProcessor)
        )
        deferred_ids = {id(p) for p in self._deferred}
        self._sync = tuple(p for p in self.processors if id(p) not in deferred_ids)
        self._flush_async = frozenset(
            id(p)
            for p in self.processors
            if async_mode and _prefers_async(p, "force_flush", "force_flush_async")
        )
        self._queue = _Queue()
        self.pending = self._queue.items
        #: processors that override ``node_scope`` (runners skip scopes when empty)
        self.scoped: tuple[EventProcessor, ...] = tuple(
            p for p in self.processors if type(p).node_scope is not EventProcessor.node_scope
        )

    def __repr__(self) -> str:
        names = ", ".join(type(p).__qualname__ for p in self.processors)
        return f"EventDispatcher([{names}], async_mode={self.async_mode}, strict={self.strict})"

    def open_scope(self, event: NodeStartEvent) -> _Scope | _Scopes | None:
        """Enter every processor's ``node_scope`` for this node; the caller calls ``close()``.

        Returns None when no processor provides a scope. A scope that fails to enter or
        exit is logged and counted like any processor failure; the node runs regardless.
        """
        scoped = self.scoped
        if len(scoped) == 1:  # the common case (one tracing processor)
            return self._enter(scoped[0], event)
        entered: list[_Scope] = []
        try:
            for processor in scoped:
                one = self._enter(processor, event)
                if one is not None:
                    entered.append(one)
        except BaseException:  # strict mode re-raised: exit what was entered
            _Scopes(entered).close()
            raise
        return _Scopes(entered) if entered else None

    def _enter(self, processor: EventProcessor, event: NodeStartEvent) -> _Scope | None:
        try:
            scope = processor.node_scope(event)
            if scope is None:
                return None
            scope.__enter__()
        except Exception:
            self._failed(processor, "node_scope")
            return None
        return _Scope(self, processor, scope)

    def extended(self, processors: Iterable[EventProcessor]) -> EventDispatcher:
        """Return a dispatcher with ``processors`` appended (duplicates dropped).

        Used by nested graphs with an explicit runner: their events go to the top-level
        processors and to that runner's. The new dispatcher keeps ``async_mode`` and
        ``strict`` and shares :attr:`pending` with this one, so either's ``drain()`` delivers
        both's events. Returns ``self`` when nothing new is added.
        """
        combined = EventDispatcher(
            (*self.processors, *processors), async_mode=self.async_mode, strict=self.strict
        )
        if len(combined.processors) == len(self.processors):
            return self
        combined._queue = self._queue
        combined.pending = self._queue.items
        return combined

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every processor (queue it for async ones in async mode).

        Safe to call from several threads at once; the sync path takes no lock.
        """
        for processor in self._sync:
            try:
                processor.on_event(event)
            except Exception:
                self._failed(processor, "on_event")
        if self._deferred:
            with self._queue.lock:
                self.pending.extend((p, event) for p in self._deferred)

    emit_threadsafe = emit
    """Alias of :meth:`emit`, which is already safe off the event-loop thread."""

    async def drain(self) -> None:
        """Await ``on_event_async`` for every pending pair, in order (async mode).

        Call it on the event loop's thread. Concurrent drains are serialized, so each
        processor sees events in emission order.
        """
        if not self.pending:
            return
        queue = self._queue
        loop = asyncio.get_running_loop()
        if queue.drain_lock is None or queue.drain_loop is not loop:
            queue.drain_lock, queue.drain_loop = asyncio.Lock(), loop
        async with queue.drain_lock:
            while True:
                with queue.lock:
                    if not queue.items:
                        return
                    processor, event = queue.items.popleft()
                try:
                    await processor.on_event_async(event)
                except Exception:
                    self._failed(processor, "on_event_async")

    def force_flush(self) -> None:
        """Call every processor's ``force_flush()``, isolating failures."""
        for processor in self.processors:
            try:
                processor.force_flush()
            except Exception:
                self._failed(processor, "force_flush")

    async def force_flush_async(self) -> None:
        """:meth:`drain`, then flush every processor, awaiting async ones in async mode."""
        await self.drain()
        for processor in self.processors:
            try:
                if isinstance(processor, AsyncEventProcessor) and (
                    id(processor) in self._flush_async
                ):
                    await processor.force_flush_async()
                else:
                    processor.force_flush()
            except Exception:
                self._failed(processor, "force_flush")

    def _failed(self, processor: EventProcessor, method: str) -> None:
        """Count and log the exception being handled; re-raise it when strict."""
        first = _record_error(processor)
        if self.strict:
            raise  # called from an except block: re-raises the exception being handled
        name = type(processor).__qualname__
        if first:
            logger.exception(
                "Event processor %s raised in %s(); the run goes on. Later errors from this "
                "processor are logged at debug level and counted.",
                name,
                method,
            )
        else:
            logger.debug("Event processor %s raised in %s()", name, method, exc_info=True)
