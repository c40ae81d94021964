"""SyncRunner: runs ready nodes one by one, in graph order, in the calling thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypeVar

from graphflow.cache import Cache
from graphflow.events import EventProcessor, RunStatus
from graphflow.exceptions import ExecutionError
from graphflow.graph import Graph
from graphflow.runners._engine import Run, Task
from graphflow.runners._inputs import check_inputs, resolve_select
from graphflow.runners._mapcall import MapCall
from graphflow.runners._nested import child_runs, merge_items
from graphflow.runners._plan import GATE, GRAPH
from graphflow.runners._setup import check_processors, dispatcher_for, prepare_graph
from graphflow.runners._static import Levels
from graphflow.runners.base import (
    BaseRunner,
    ExecutionStrategy,
    RunnerCapabilities,
    get_execution_strategy,
)

__all__ = ["SyncRunner", "run_coroutine_blocking"]

T = TypeVar("T")

_CAPS = RunnerCapabilities(
    supports_cycles=True,
    supports_gates=True,
    supports_interrupts=False,
    supports_async_nodes=False,
    supports_streaming=False,
    supports_distributed=False,
    returns_coroutine=False,
)


def run_coroutine_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    ctx = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="graphflow") as pool:
        return pool.submit(ctx.run, asyncio.run, coro).result()


class SyncRunner(BaseRunner):
    """Run graphs synchronously: ``run()`` returns a dict, ``map()`` a list of dicts.

    Args:
        cache: cache backend for nodes built with ``cache=True``.
        event_processors: processors that receive every event; ``None`` uses the
            defaults set by ``graphflow.instrument()`` (none unless called).

    Example:
        >>> runner = SyncRunner()
        >>> runner.run(graph, {"x": 3})
        {'doubled': 6}
    """

    runner_kind = "sync"

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> None:
        self._cache = cache
        self._processors = check_processors(event_processors, "SyncRunner")

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Cycles and gates; no async nodes, interrupts or streaming."""
        return _CAPS

    def run(  # type: ignore[override]  # seed: BaseRunner.run takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> dict[str, Any]:
        """Execute ``graph`` and return the selected outputs (default: leaf outputs).

        Raises:
            GraphConfigError, IncompatibleRunnerError, InputError, MissingInputError,
            ConflictError, InfiniteLoopError; a node's own exception propagates unchanged.
        """
        plan = prepare_graph(self, graph)
        check_inputs(plan, inputs)
        names = resolve_select(plan, select)
        dispatcher = dispatcher_for(self, event_processors, async_mode=False)
        run = Run.top(
            plan,
            inputs,
            dispatcher=dispatcher,
            cache=self._cache,
            max_iterations=max_iterations,
            run_id=uuid.uuid4().hex,
        )
        try:
            return self._run_item(run, session_id, inputs, names, None)
        finally:
            if dispatcher is not None:
                dispatcher.force_flush()

    def map(  # type: ignore[override]  # seed: BaseRunner.map takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        map_over: str | list[str],
        map_mode: Literal["zip", "product"] = "zip",
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> list[dict[str, Any]]:
        """Run ``graph`` once per item of the ``map_over`` inputs; results in input order.

        Raises:
            GraphConfigError: the graph has interrupts. InputError: bad ``map_over``,
            zip lists of different lengths. The first failing item's exception.
        """
        call = MapCall(
            self, graph, inputs, map_over, map_mode, select, event_processors, async_mode=False
        )
        plan, params, names = call.plan, call.params, call.names
        base = dict(inputs)
        span = call.open_span()
        try:
            results = []
            initial: frozenset[int] | None = None  # same names every item: same first step
            for index, item in enumerate(call.items):
                base.update(zip(params, item, strict=True))
                run = Run.top(
                    plan,
                    base,
                    dispatcher=call.dispatcher,
                    cache=self._cache,
                    max_iterations=max_iterations,
                    parent_span=None if span is None else span.span,
                    run_id=call.run_id(),
                    checked=True,
                    initial=initial,
                )
                initial = initial or frozenset(run.sched.candidates)
                results.append(self._run_item(run, session_id, base, names, index))
            if span is not None:
                span.status = RunStatus.COMPLETED
            return results
        finally:
            if span is not None:
                span.close()
                span.dispatcher.force_flush()

    # ------------------------------------------------------------------ driving
    def _run_item(
        self,
        run: Run,
        session_id: str | None,
        inputs: dict[str, Any],
        names: tuple[str, ...],
        index: int | None,
    ) -> dict[str, Any]:
        if run.events is None:  # the common, unobserved case: no event calls at all
            self._drive(run)
            return run.select(names)
        run.start_event(session_id, "sync", inputs, item_index=index)
        try:
            self._drive(run)
        except BaseException as exc:
            run.end_event({}, RunStatus.ERROR, exc)
            raise
        out = run.select(names)
        run.end_event(out, RunStatus.COMPLETED)
        return out

    def _drive(self, run: Run) -> None:
        if run.levels is not None:
            return self._replay(run, run.levels)
        execute = self._execute
        commit = run.sched.commit
        plain = run.events is None
        while (batch := run.next_batch()) is not None:
            for task in batch:
                np = task.np
                if plain and np.simple:  # the hot path: nothing to observe, nothing to cache
                    try:
                        task.outputs = ((np.outputs[0], np.func(**task.kwargs)),)
                    except BaseException as exc:
                        run.failed(task, exc)
                        raise
                else:
                    execute(run, task)
            commit(batch)
        return None

    def _replay(self, run: Run, levels: Levels) -> None:
        """Run a DAG's precomputed supersteps (see _static.py): no readiness bookkeeping."""
        values = run.sched.values
        plain = run.events is None
        for level in levels:
            run.count_iteration(level)
            done = []
            for np in level:
                task = run.task(np)
                if plain and np.simple:
                    try:
                        values[np.outputs[0]] = np.func(**task.kwargs)
                    except BaseException as exc:
                        run.failed(task, exc)
                        raise
                else:
                    self._execute(run, task)
                    done.append(task)
            for task in done:
                values.update(task.outputs)

    def _execute(self, run: Run, task: Task) -> None:
        np = task.np
        if (run.events is not None or np.cache) and run.begin(task):
            return
        try:
            code = np.code
            if code <= GATE:  # FUNC or GATE: call the function
                scope = run.open_scope(task)
                try:
                    raw = np.func(**task.kwargs)
                    if np.is_gen:
                        raw = run.collect(task, raw)
                finally:
                    if scope is not None:
                        scope.close()
            elif code == GRAPH:
                raw = self._graph(run, task)
            else:  # interrupts are rejected by validation before a run starts
                raise ExecutionError(f"SyncRunner cannot run interrupt '{np.name}'.")
            run.finish(task, raw)
        except BaseException as exc:
            run.failed(task, exc)
            raise

    def _graph(self, run: Run, task: Task) -> dict[str, Any]:
        nested: Any = task.np.node.explicit_runner  # type: ignore[attr-defined]  # GraphNode
        strategy = (
            ExecutionStrategy.DIRECT if nested is None else get_execution_strategy(self, nested)
        )
        children = child_runs(run, task, async_mode=False)
        for child in children:
            if strategy is ExecutionStrategy.DIRECT:
                (nested or self)._drive_child(child)
            else:
                run_coroutine_blocking(nested._drive_child_async(child))
        return merge_items(task, children)

    def _drive_child(self, child: Run) -> None:
        """Drive a nested graph's run in this thread (the DIRECT strategy)."""
        self._drive(child)
