"""AsyncRunner only: concurrency, max_concurrency, RunResult, cancellation of runs."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from graphflow import (
    AsyncRunner,
    Graph,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RunStatus,
    node,
)

TIMEOUT = 10.0


class InFlight:
    """Counts node bodies running at once."""

    def __init__(self) -> None:
        self.now = 0
        self.max = 0

    async def work(self, steps: int = 20) -> None:
        self.now += 1
        self.max = max(self.max, self.now)
        try:
            for _ in range(steps):
                await asyncio.sleep(0)
        finally:
            self.now -= 1


def _body(flight: InFlight) -> Any:
    async def body(x: int) -> int:
        await flight.work()
        return x

    return body


def _independent(flight: InFlight, n: int, prefix: str = "", name: str | None = None) -> Graph:
    """``n`` async nodes that all depend only on ``x``."""
    nodes = [
        node(_body(flight), output_name=f"{prefix}out{i}", name=f"{prefix}n{i}") for i in range(n)
    ]
    return Graph(nodes, name=name)


async def test_independent_async_nodes_run_concurrently() -> None:
    a_ready, b_ready = asyncio.Event(), asyncio.Event()

    @node(output_name="a")
    async def first(x: int) -> str:
        a_ready.set()
        await b_ready.wait()
        return "a"

    @node(output_name="b")
    async def second(x: int) -> str:
        b_ready.set()
        await a_ready.wait()
        return "b"

    result = await asyncio.wait_for(AsyncRunner().run(Graph([first, second]), {"x": 1}), TIMEOUT)
    assert result.outputs == {"a": "a", "b": "b"}


async def test_max_concurrency_one_runs_nodes_one_at_a_time() -> None:
    flight = InFlight()
    result = await AsyncRunner().run(_independent(flight, 4), {"x": 1}, max_concurrency=1)
    assert result.status == RunStatus.COMPLETED
    assert flight.max == 1


async def test_without_limit_all_ready_nodes_are_in_flight_together() -> None:
    flight = InFlight()
    await AsyncRunner().run(_independent(flight, 4), {"x": 1})
    assert flight.max == 4


async def test_max_concurrency_counts_across_map_items() -> None:
    flight = InFlight()

    @node(output_name="y")
    async def work(x: int) -> int:
        await flight.work()
        return x

    out = await AsyncRunner().map(
        Graph([work]), {"x": list(range(10))}, map_over="x", max_concurrency=2
    )
    assert out == [{"y": i} for i in range(10)]
    assert flight.max == 2


async def test_max_concurrency_counts_across_nested_graphs() -> None:
    flight = InFlight()
    outer = Graph(
        [
            _independent(flight, 3, "a", name="ga").as_node(),
            _independent(flight, 3, "b", name="gb").as_node(),
            *_independent(flight, 2, "c").nodes.values(),
        ]
    )
    unlimited = await asyncio.wait_for(AsyncRunner().run(outer, {"x": 1}), TIMEOUT)
    assert unlimited.status == RunStatus.COMPLETED
    assert flight.max == 8
    flight.max = 0
    result = await asyncio.wait_for(AsyncRunner().run(outer, {"x": 1}, max_concurrency=2), TIMEOUT)
    assert result.status == RunStatus.COMPLETED
    assert flight.max == 2


async def test_waiting_parent_graph_node_holds_no_permit() -> None:
    @node(output_name="y")
    async def leaf(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    level2 = Graph([leaf], name="level2")
    level1 = Graph([level2.as_node()], name="level1")
    outer = Graph([level1.as_node()])
    result = await asyncio.wait_for(AsyncRunner().run(outer, {"x": 1}, max_concurrency=1), TIMEOUT)
    assert result.outputs == {"y": 2}
    out = await asyncio.wait_for(
        AsyncRunner().map(outer, {"x": [1, 2, 3]}, map_over="x", max_concurrency=1), TIMEOUT
    )
    assert out == [{"y": 2}, {"y": 3}, {"y": 4}]


async def test_sync_nodes_run_on_the_loop_thread() -> None:
    threads: list[int] = []

    @node(output_name="y")
    def where(x: int) -> int:
        threads.append(threading.get_ident())
        return x

    await AsyncRunner().run(Graph([where]), {"x": 1})
    assert threads == [threading.get_ident()]


async def test_run_result_fields() -> None:
    @node(output_name="y")
    async def double(x: int) -> int:
        return x * 2

    result = await AsyncRunner().run(Graph([double]), {"x": 4}, workflow_id="wf-1")
    assert result.status == RunStatus.COMPLETED
    assert isinstance(result.run_id, str)
    assert result.run_id
    assert result.workflow_id == "wf-1"
    assert result.pause is None
    assert result.outputs == {"y": 8}
    assert result["y"] == 8
    other = await AsyncRunner().run(Graph([double]), {"x": 4})
    assert other.workflow_id is None
    assert other.run_id != result.run_id


async def test_failing_node_cancels_its_concurrent_sibling(recorder: Any) -> None:
    error = ValueError("boom")
    cancelled: list[str] = []
    started = asyncio.Event()

    @node(output_name="a")
    async def fails(x: int) -> int:
        await started.wait()
        raise error

    @node(output_name="b")
    async def hangs(x: int) -> int:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("hangs")
            raise
        return 0

    runner = AsyncRunner(event_processors=[recorder])
    with pytest.raises(ValueError) as info:
        await asyncio.wait_for(runner.run(Graph([fails, hangs]), {"x": 1}), TIMEOUT)
    assert info.value is error
    assert cancelled == ["hangs"]
    starts = {e.span_id: e.node_name for e in recorder.events if isinstance(e, NodeStartEvent)}
    ends = {e.span_id: e for e in recorder.events if isinstance(e, NodeEndEvent | NodeErrorEvent)}
    assert set(starts) == set(ends)
    by_name = {starts[s]: e for s, e in ends.items()}
    assert isinstance(by_name["fails"], NodeErrorEvent)
    assert isinstance(by_name["hangs"], NodeErrorEvent)
    assert by_name["hangs"].error_type == "CancelledError"
    assert recorder.events[-1].status == RunStatus.ERROR


async def test_leaving_iter_early_cancels_the_run_and_leaves_no_tasks() -> None:
    cancelled: list[str] = []
    started = asyncio.Event()

    @node(output_name="y")
    async def forever(x: int) -> int:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("forever")
            raise
        return x

    async with AsyncRunner().iter(Graph([forever]), {"x": 1}) as handle:
        async for event in handle:
            if isinstance(event, NodeStartEvent):
                await asyncio.wait_for(started.wait(), TIMEOUT)
                break
    assert cancelled == ["forever"]
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_node_that_starts_its_own_run_does_not_deadlock_under_a_limit() -> None:
    @node(output_name="y")
    async def leaf(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    inner = Graph([leaf])

    @node(output_name="z")
    async def delegate(x: int) -> int:
        result = await AsyncRunner().run(inner, {"x": x})
        return result["y"]

    result = await asyncio.wait_for(
        AsyncRunner().run(Graph([delegate]), {"x": 1}, max_concurrency=1), TIMEOUT
    )
    assert result.outputs == {"z": 2}
