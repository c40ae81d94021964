"""AsyncRunner: async nodes of a superstep run concurrently on the event loop."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from secrets import token_hex
from typing import Any, Literal

from graphflow.cache import Cache
from graphflow.events import EventDispatcher, EventProcessor, MapEndEvent, MapStartEvent, RunStatus
from graphflow.graph import Graph, validate_map_compatible
from graphflow.runners._aio import LIMIT, all_or_first_error, set_limit
from graphflow.runners._engine import Run, Task
from graphflow.runners._inputs import check_inputs, resolve_select
from graphflow.runners._mapping import map_params, map_values
from graphflow.runners._nested import child_runs, merge_items
from graphflow.runners._plan import GATE, GRAPH, Plan
from graphflow.runners._setup import check_processors, dispatcher_for, prepare_graph
from graphflow.runners._static import Levels
from graphflow.runners.base import (
    BaseRunner,
    ExecutionStrategy,
    RunnerCapabilities,
    get_execution_strategy,
)
from graphflow.runners.handle import PAUSE, RunHandle, check_handlers
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


class AsyncRunner(BaseRunner):
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
        run = Run.top(
            plan,
            inputs,
            dispatcher=dispatcher,
            cache=self._cache,
            max_iterations=max_iterations,
            run_id=uuid.uuid4().hex,
            handlers=interrupt_handlers,
        )
        run.handle = handle
        token = set_limit(max_concurrency)
        try:
            out, status = await self._run_item(run, session_id, inputs, names, None, workflow_id)
            return RunResult(out, status, workflow_id, run.run_id, run.paused)
        finally:
            LIMIT.reset(token)
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
        validate_map_compatible(graph, "AsyncRunner.map() was called")
        plan = prepare_graph(self, graph)
        check_inputs(plan, inputs)
        params = map_params(map_over, inputs, map_mode)
        items = map_values(params, inputs, map_mode)
        names = resolve_select(plan, select)
        dispatcher = dispatcher_for(self, event_processors, async_mode=True)
        Run.check_missing(plan, inputs)
        map_span = token_hex(8) if dispatcher is not None else None
        map_id = uuid.uuid4().hex if dispatcher is not None else ""
        t0 = time.perf_counter()
        if dispatcher is not None:
            dispatcher.emit(
                MapStartEvent(map_id, map_span or "", None, plan.name, len(items), time.time())
            )
        token = set_limit(max_concurrency)
        status = RunStatus.ERROR
        try:
            coros = [
                self._map_item(
                    plan,
                    {**inputs, **dict(zip(params, item, strict=True))},
                    names,
                    index,
                    dispatcher,
                    map_span,
                    session_id,
                    max_iterations,
                )
                for index, item in enumerate(items)
            ]
            results = await all_or_first_error(coros)
            status = RunStatus.COMPLETED
            return results
        finally:
            LIMIT.reset(token)
            if dispatcher is not None:
                dispatcher.emit(
                    MapEndEvent(
                        map_id,
                        map_span or "",
                        None,
                        (time.perf_counter() - t0) * 1000.0,
                        status,
                        time.time(),
                    )
                )
                await dispatcher.force_flush_async()

    async def _map_item(
        self,
        plan: Plan,
        item: dict[str, Any],
        names: tuple[str, ...],
        index: int,
        dispatcher: EventDispatcher | None,
        map_span: str | None,
        session_id: str | None,
        max_iterations: int | None,
    ) -> dict[str, Any]:
        run = Run.top(
            plan,
            item,
            dispatcher=dispatcher,
            cache=self._cache,
            max_iterations=max_iterations,
            parent_span=map_span,
            run_id=uuid.uuid4().hex if dispatcher is not None else "",
            checked=True,
        )
        out, _ = await self._run_item(run, session_id, item, names, index, None)
        return out

    # ------------------------------------------------------------------ driving
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

    async def _drive(self, run: Run) -> None:
        if run.levels is not None:
            await self._replay(run, run.levels)
            return
        execute = self._execute
        events = run.events
        commit = run.sched.commit
        while (batch := run.next_batch()) is not None:
            if len(batch) == 1:
                task = batch[0]
                np = task.np
                # the hot path: one ready node, nothing to observe, no limit: no task at all
                if events is None and np.simple and LIMIT.get() is None:
                    try:
                        raw = np.func(**task.kwargs)
                        task.outputs = ((np.outputs[0], await raw if np.is_async else raw),)
                    except BaseException as exc:
                        run.failed(task, exc)
                        raise
                else:
                    await execute(run, task)
            else:
                await all_or_first_error([execute(run, t) for t in batch])
            if events is not None and events.pending:
                await events.drain()
            commit(batch)

    async def _replay(self, run: Run, levels: Levels) -> None:
        """Run a DAG's precomputed supersteps (see _static.py): no readiness bookkeeping."""
        values = run.sched.values
        events = run.events
        for level in levels:
            run.count_iteration(level)
            if len(level) == 1:
                np = level[0]
                task = run.task(np)
                if events is None and np.simple and LIMIT.get() is None:
                    try:
                        raw = np.func(**task.kwargs)
                        values[np.outputs[0]] = await raw if np.is_async else raw
                    except BaseException as exc:
                        run.failed(task, exc)
                        raise
                    continue
                tasks = [task]
                await self._execute(run, task)
            else:
                tasks = [run.task(np) for np in level]
                await all_or_first_error([self._execute(run, t) for t in tasks])
            if events is not None and events.pending:
                await events.drain()
            for task in tasks:
                values.update(task.outputs)

    async def _execute(self, run: Run, task: Task) -> None:
        np = task.np
        if (run.events is not None or np.cache) and run.begin(task):
            return
        try:
            code = np.code
            if code <= GATE:  # FUNC or GATE: call the function
                limit = LIMIT.get()
                if limit is None:
                    raw = await self._call(run, task)
                else:
                    async with limit:
                        raw = await self._call(run, task)
            elif code == GRAPH:
                raw = await self._graph(run, task)
                if task.paused:  # an interrupt inside paused: like it, no end event
                    return
            else:
                found, raw = run.fresh_answer(task)
                if not found:
                    raw = await self._ask(run, task)
                    if raw is PAUSE:
                        run.pause(task)
                        return
            run.finish(task, raw)
        except BaseException as exc:
            run.failed(task, exc)
            raise

    async def _ask(self, run: Run, task: Task) -> Any:
        """An interrupt's answer: from its handler, from iter()'s respond(), or PAUSE."""
        handler = run.handler_for(task)
        if handler is not None:
            answer = handler(run.interrupt_value(task))
            return await answer if inspect.isawaitable(answer) else answer
        run.ask(task)
        if run.events is not None:
            await run.events.force_flush_async()
        if run.handle is None:
            return PAUSE
        return await run.handle.ask(task.np.outputs[0])

    async def _call(self, run: Run, task: Task) -> Any:
        scope = run.open_scope(task)
        try:
            return await self._body(run, task)
        finally:
            if scope is not None:
                scope.close()

    async def _body(self, run: Run, task: Task) -> Any:
        np = task.np
        result = np.func(**task.kwargs)
        if not np.is_gen:
            return await result if np.is_async else result
        if not np.is_async:
            return run.collect(task, result)
        chunks: list[Any] = []
        events = run.events
        async for chunk in result:
            run.chunk(task, chunk, len(chunks))
            chunks.append(chunk)
            if events is not None and events.pending:
                await events.drain()
        return run.joined(chunks)

    async def _graph(self, run: Run, task: Task) -> dict[str, Any]:
        nested: Any = task.np.node.explicit_runner  # type: ignore[attr-defined]  # GraphNode
        strategy = (
            ExecutionStrategy.AWAIT if nested is None else get_execution_strategy(self, nested)
        )
        children = child_runs(run, task, async_mode=True)
        if strategy is ExecutionStrategy.AWAIT:
            runner = nested or self
            await all_or_first_error([runner._drive_child_async(c) for c in children])
        else:  # THREAD_POOL: a sync runner in a worker thread, the loop stays free
            for child in children:
                await asyncio.to_thread(nested._drive_child, child)
        for child in children:
            if child.paused is not None:
                task.paused = True
                if run.paused is None:
                    run.paused = child.paused
        return merge_items(task, [c.produced() for c in children])

    async def _drive_child_async(self, child: Run) -> None:
        """Drive a nested graph's run on this loop (the AWAIT strategy)."""
        await self._drive(child)
