"""AsyncRunner: async nodes of a superstep run concurrently on the event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal

from graphflow.cache import Cache
from graphflow.events import EventProcessor, RunStatus
from graphflow.graph import Graph
from graphflow.runners._aio import LIMIT, all_or_first_error, set_limit
from graphflow.runners._async_driver import AsyncDriver
from graphflow.runners._engine import Run
from graphflow.runners._inputs import check_inputs, resolve_select
from graphflow.runners._mapcall import MapCall
from graphflow.runners._persist import Persistence
from graphflow.runners._plan import Plan
from graphflow.runners._setup import check_processors, dispatcher_for, prepare_graph
from graphflow.runners.base import (
    RunnerCapabilities,
)
from graphflow.runners.handle import RunHandle, check_handlers
from graphflow.runners.result import RunResult

__all__ = ["AsyncRunner"]

_CAPS = RunnerCapabilities(
    supports_cycles=True,
    supports_gates=True,
    supports_interrupts=True,
    supports_async_nodes=True,
    supports_streaming=True,
    supports_distributed=False,
    returns_coroutine=True,
)


class AsyncRunner(AsyncDriver):
    """Run graphs on asyncio: ``run()`` returns a RunResult, ``map()`` a list of dicts.

    Args:
        cache: cache backend for nodes built with ``cache=True``.
        checkpointer: persistence for ``workflow_id`` runs (durable workflows).
        event_processors: processors for every run; ``None`` uses the defaults.

    Example:
        >>> result = await AsyncRunner().run(graph, {"x": 3})
        >>> result["doubled"]
        6
    """

    runner_kind = "async"

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        checkpointer: Any = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> None:
        self._cache = cache
        self._checkpointer = checkpointer
        self._processors = check_processors(event_processors, "AsyncRunner")

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Everything but distribution; ``run()`` returns a coroutine."""
        return _CAPS

    async def run(  # type: ignore[override]  # seed: BaseRunner.run takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        max_concurrency: int | None = None,
        workflow_id: str | None = None,
        interrupt_handlers: dict[str, Callable[..., Any]] | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> RunResult:
        """Execute ``graph``; pauses at an unanswered interrupt (``status=PAUSED``).

        Raises:
            GraphConfigError, IncompatibleRunnerError, InputError, MissingInputError,
            ConflictError, InfiniteLoopError; a node's own exception propagates unchanged.
        """
        plan = prepare_graph(self, graph)
        check_inputs(plan, inputs)
        names = resolve_select(plan, select)
        check_handlers(graph, interrupt_handlers)
        return await self._run(
            plan,
            inputs,
            names,
            session_id,
            max_iterations,
            max_concurrency,
            workflow_id,
            interrupt_handlers,
            event_processors,
            None,
        )

    def iter(
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        max_concurrency: int | None = None,
        workflow_id: str | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> AbstractAsyncContextManager[RunHandle]:
        """Run ``graph`` and stream its events through a :class:`RunHandle`.

        Same semantics as ``run()``. On an ``InterruptEvent`` call
        ``handle.respond(event.response_param, answer)``; iterating on without an answer
        pauses the run. Leaving the block early cancels the run.
        """
        plan = prepare_graph(self, graph)
        check_inputs(plan, inputs)
        names = resolve_select(plan, select)
        return self._iter(
            plan,
            inputs,
            names,
            session_id,
            max_iterations,
            max_concurrency,
            workflow_id,
            event_processors,
        )

    @asynccontextmanager
    async def _iter(
        self,
        plan: Plan,
        inputs: dict[str, Any],
        names: tuple[str, ...],
        session_id: str | None,
        max_iterations: int | None,
        max_concurrency: int | None,
        workflow_id: str | None,
        event_processors: Sequence[EventProcessor] | None,
    ) -> AsyncIterator[RunHandle]:
        handle = RunHandle()
        extra = [*(event_processors or ()), handle.sink]

        async def go() -> None:
            try:
                result = await self._run(
                    plan,
                    inputs,
                    names,
                    session_id,
                    max_iterations,
                    max_concurrency,
                    workflow_id,
                    None,
                    extra,
                    handle,
                )
            except BaseException as exc:
                handle.finish(None, exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                handle.finish(result)

        task = asyncio.create_task(go())
        try:
            yield handle
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(
        self,
        plan: Plan,
        inputs: dict[str, Any],
        names: tuple[str, ...],
        session_id: str | None,
        max_iterations: int | None,
        max_concurrency: int | None,
        workflow_id: str | None,
        interrupt_handlers: dict[str, Callable[..., Any]] | None,
        event_processors: Sequence[EventProcessor] | None,
        handle: RunHandle | None,
    ) -> RunResult:
        dispatcher = dispatcher_for(self, event_processors, async_mode=True)
        persist: Persistence | None = None
        state = None
        if workflow_id is not None and self._checkpointer is not None:
            persist = Persistence(self._checkpointer, workflow_id, plan)
            state = await persist.open(claim=True)
        status = RunStatus.ERROR
        token = set_limit(max_concurrency)
        try:
            run = Run.top(
                plan,
                inputs,
                dispatcher=dispatcher,
                cache=self._cache,
                max_iterations=max_iterations,
                run_id=uuid.uuid4().hex,
                handlers=interrupt_handlers,
                state=state,
            )
            run.handle = handle
            if persist is not None and state is not None:
                run.restore(state, persist.pending)
                run.persist = persist
                await persist.save_inputs(run, inputs)
            out, status = await self._run_item(run, session_id, inputs, names, None, workflow_id)
            return RunResult(out, status, workflow_id, run.run_id, run.paused)
        finally:
            LIMIT.reset(token)
            if persist is not None:
                await persist.close(status)
            if dispatcher is not None:
                await dispatcher.force_flush_async()

    async def map(  # type: ignore[override]  # seed: BaseRunner.map takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        map_over: str | list[str],
        map_mode: Literal["zip", "product"] = "zip",
        select: list[str] | None = None,
        max_concurrency: int | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> list[dict[str, Any]]:
        """Run ``graph`` once per item, items concurrently; results in input order.

        ``max_concurrency`` bounds node executions in flight across all items.

        Raises:
            GraphConfigError: the graph has interrupts. InputError: bad ``map_over``,
            zip lists of different lengths. The first failing item's exception.
        """
        call = MapCall(
            self, graph, inputs, map_over, map_mode, select, event_processors, async_mode=True
        )
        span = call.open_span()
        token = set_limit(max_concurrency)
        try:
            coros = [
                self._map_item(
                    call,
                    {**inputs, **dict(zip(call.params, item, strict=True))},
                    index,
                    None if span is None else span.span,
                    session_id,
                    max_iterations,
                )
                for index, item in enumerate(call.items)
            ]
            results = await all_or_first_error(coros)
            if span is not None:
                span.status = RunStatus.COMPLETED
            return results
        finally:
            LIMIT.reset(token)
            if span is not None:
                span.close()
                await span.dispatcher.force_flush_async()

    async def _map_item(
        self,
        call: MapCall,
        item: dict[str, Any],
        index: int,
        map_span: str | None,
        session_id: str | None,
        max_iterations: int | None,
    ) -> dict[str, Any]:
        run = Run.top(
            call.plan,
            item,
            dispatcher=call.dispatcher,
            cache=self._cache,
            max_iterations=max_iterations,
            parent_span=map_span,
            run_id=call.run_id(),
            checked=True,
        )
        out, _ = await self._run_item(run, session_id, item, call.names, index, None)
        return out

    async def _run_item(
        self,
        run: Run,
        session_id: str | None,
        inputs: dict[str, Any],
        names: tuple[str, ...],
        index: int | None,
        workflow_id: str | None,
    ) -> tuple[dict[str, Any], RunStatus]:
        run.start_event(session_id, "async", inputs, item_index=index, workflow_id=workflow_id)
        run.workflow_id = workflow_id
        try:
            await self._drive(run)
        except BaseException as exc:
            run.end_event({}, RunStatus.ERROR, exc)
            raise
        out = run.select(names)
        status = RunStatus.PAUSED if run.paused is not None else RunStatus.COMPLETED
        run.end_event(out, status)
        return out, status
