"""The async driver: how AsyncRunner calls nodes. Scheduling lives in the shared core.

Only what must differ from the sync driver is here: awaiting coroutines, running a
superstep's nodes concurrently, the concurrency limit, awaiting interrupt answers, and
nested graphs on the loop or in a worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from graphflow.events import RunStatus
from graphflow.runners._aio import LIMIT, all_or_first_error
from graphflow.runners._engine import Run, Task
from graphflow.runners._nested import child_runs, merge_items
from graphflow.runners._plan import GATE, GRAPH
from graphflow.runners._static import Levels
from graphflow.runners.base import BaseRunner, ExecutionStrategy, get_execution_strategy
from graphflow.runners.handle import PAUSE

__all__ = ["AsyncDriver"]


class AsyncDriver(BaseRunner):
    """Drives runs on the event loop; base of AsyncRunner."""

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
            changed = commit(batch)
            if run.persist is not None:
                await run.persist.save_superstep(run, batch, changed)

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
            if run.persist is not None and len(children) == 1 and not task.np.node.map_params:  # type: ignore[attr-defined]  # GraphNode
                await run.persist.child(children[0], task.np.name)
            await all_or_first_error([runner._drive_child_async(c) for c in children])
        else:  # THREAD_POOL: a sync runner in a worker thread, the loop stays free
            for child in children:
                await asyncio.to_thread(nested._drive_child, child)
        for child in children:
            if child.paused is not None:
                task.paused = True
                if run.paused is None:
                    run.paused = child.paused
        return merge_items(task, children)

    async def _drive_child_async(self, child: Run) -> None:
        """Drive a nested graph's run on this loop (the AWAIT strategy)."""
        if child.persist is None:
            await self._drive(child)
            return
        status = RunStatus.ERROR
        try:
            await self._drive(child)
            status = RunStatus.PAUSED if child.paused is not None else RunStatus.COMPLETED
        finally:
            await child.persist.close(status)
