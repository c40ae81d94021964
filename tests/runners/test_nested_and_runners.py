"""Nested graphs, cross-runner strategies, capabilities and compatibility checks."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from typing import Any

import pytest

from graphflow import (
    END,
    AsyncRunner,
    DaftRunner,
    ExecutionStrategy,
    Graph,
    IncompatibleRunnerError,
    InterruptNode,
    NodeStartEvent,
    RunnerCapabilities,
    SyncRunner,
    get_execution_strategy,
    node,
    route,
    validate_runner_compatibility,
)

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="z")
def add_one(y: int) -> int:
    return y + 1


@node(output_name="y")
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


def _interrupt_graph() -> Graph:
    return Graph([double, InterruptNode("approve", input_param="y", response_param="ok")])


def test_nested_graph_inherits_the_parent_runner(harness: Any) -> None:
    inner = Graph([double, add_one], name="inner")

    @node(output_name="w")
    def finish(z: int) -> int:
        return z * 10

    outer = Graph([inner.as_node(), finish])
    # every inner output is visible outside: y is a leaf of the outer graph
    assert harness.run(outer, {"x": 1}) == {"y": 2, "w": 30}
    assert harness.run(outer, {"x": 1}, select=["y", "z"]) == {"y": 2, "z": 3}


def test_nested_graph_renamed_inputs_and_outputs(harness: Any) -> None:
    inner = Graph([double], name="inner")
    gn = inner.as_node(name="dbl").with_inputs(x="n").with_outputs(y="twice")
    assert harness.run(Graph([gn]), {"n": 4}) == {"twice": 8}


def test_nested_graph_uses_its_bound_values(harness: Any) -> None:
    @node(output_name="y")
    def scale(x: int, factor: int) -> int:
        return x * factor

    inner = Graph([scale], name="inner").bind(factor=3)
    assert harness.run(Graph([inner.as_node()]), {"x": 2}) == {"y": 6}


def test_graph_nested_two_levels_deep(harness: Any) -> None:
    level2 = Graph([double], name="level2")
    level1 = Graph([level2.as_node(), add_one], name="level1")
    assert harness.run(Graph([level1.as_node()]), {"x": 5}) == {"y": 10, "z": 11}


def test_async_nested_runner_inside_sync_parent() -> None:
    inner = Graph([async_double], name="inner").as_node(runner=AsyncRunner())
    assert SyncRunner().run(Graph([inner, add_one]), {"x": 2}) == {"z": 5}


def test_async_nested_runner_inside_sync_parent_within_a_running_loop() -> None:
    threads: list[int] = []

    @node(output_name="y")
    async def where(x: int) -> int:
        threads.append(threading.get_ident())
        return x * 2

    outer = Graph([Graph([where], name="inner").as_node(runner=AsyncRunner()), add_one])

    def sync_caller() -> dict[str, Any]:
        return SyncRunner().run(outer, {"x": 3})

    async def main() -> tuple[dict[str, Any], int]:
        return sync_caller(), threading.get_ident()

    out, loop_thread = asyncio.run(main())
    assert out == {"z": 7}
    assert threads
    assert threads[0] != loop_thread


def test_sync_nested_runner_inside_async_parent_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    @node(output_name="y")
    def where(x: int) -> int:
        threads.append(threading.get_ident())
        return x * 2

    inner = Graph([where], name="inner").as_node(runner=SyncRunner())

    async def main() -> tuple[Any, int]:
        return await AsyncRunner().run(Graph([inner, add_one]), {"x": 3}), threading.get_ident()

    result, loop_thread = asyncio.run(main())
    assert result.outputs == {"z": 7}
    assert threads
    assert threads[0] != loop_thread


def test_execution_strategy_table() -> None:
    sync, aio = SyncRunner(), AsyncRunner()
    assert get_execution_strategy(aio, aio) is ExecutionStrategy.AWAIT
    assert get_execution_strategy(aio, sync) is ExecutionStrategy.THREAD_POOL
    assert get_execution_strategy(sync, aio) is ExecutionStrategy.ASYNCIO_RUN
    assert get_execution_strategy(sync, sync) is ExecutionStrategy.DIRECT


def test_sync_runner_capabilities_match_the_seed_table() -> None:
    assert SyncRunner().capabilities == RunnerCapabilities(
        supports_cycles=True,
        supports_gates=True,
        supports_interrupts=False,
        supports_async_nodes=False,
        supports_streaming=False,
        supports_distributed=False,
        returns_coroutine=False,
    )


def test_async_runner_capabilities_match_the_seed_table() -> None:
    assert AsyncRunner().capabilities == RunnerCapabilities(
        supports_cycles=True,
        supports_gates=True,
        supports_interrupts=True,
        supports_async_nodes=True,
        supports_streaming=True,
        supports_distributed=False,
        returns_coroutine=True,
    )


def test_daft_runner_capabilities_or_import_error_naming_the_extra() -> None:
    if importlib.util.find_spec("daft") is None:
        with pytest.raises(ImportError) as info:
            DaftRunner()
        assert "daft" in str(info.value)
        assert "[daft]" in str(info.value)
        return
    assert DaftRunner().capabilities == RunnerCapabilities(
        supports_cycles=False,
        supports_gates=False,
        supports_interrupts=False,
        supports_async_nodes=True,
        supports_streaming=False,
        supports_distributed=True,
        returns_coroutine=False,
    )


def test_sync_runner_rejects_async_nodes() -> None:
    graph = Graph([async_double])
    with pytest.raises(IncompatibleRunnerError) as info:
        validate_runner_compatibility(graph, SyncRunner())
    assert "async" in str(info.value)
    with pytest.raises(IncompatibleRunnerError):
        SyncRunner().run(graph, {"x": 1})
    with pytest.raises(IncompatibleRunnerError):
        SyncRunner().map(graph, {"x": [1]}, map_over="x")
    validate_runner_compatibility(graph, AsyncRunner())


def test_sync_runner_rejects_interrupts() -> None:
    graph = _interrupt_graph()
    with pytest.raises(IncompatibleRunnerError) as info:
        validate_runner_compatibility(graph, SyncRunner())
    assert "interrupt" in str(info.value)
    with pytest.raises(IncompatibleRunnerError):
        SyncRunner().run(graph, {"x": 1})
    validate_runner_compatibility(graph, AsyncRunner())


def test_compatibility_recurses_into_nested_graphs_with_the_inherited_runner() -> None:
    inner = Graph([async_double], name="inner")
    outer = Graph([inner.as_node(), add_one])
    assert not outer.has_async_nodes
    with pytest.raises(IncompatibleRunnerError):
        validate_runner_compatibility(outer, SyncRunner())
    with pytest.raises(IncompatibleRunnerError):
        SyncRunner().run(outer, {"x": 1})
    deeper = Graph([Graph([outer.as_node(name="mid")], name="top").as_node()])
    with pytest.raises(IncompatibleRunnerError):
        validate_runner_compatibility(deeper, SyncRunner())


def test_nested_interrupt_is_rejected_by_sync_runner() -> None:
    outer = Graph([_interrupt_graph().as_node(name="review")])
    assert outer.has_interrupts
    with pytest.raises(IncompatibleRunnerError):
        validate_runner_compatibility(outer, SyncRunner())


def test_explicit_nested_runner_overrides_the_inherited_one() -> None:
    inner = Graph([async_double], name="inner").as_node(runner=AsyncRunner())
    outer = Graph([inner, add_one])
    validate_runner_compatibility(outer, SyncRunner())


def test_as_node_with_an_incompatible_runner_raises_at_build_time() -> None:
    with pytest.raises(IncompatibleRunnerError):
        Graph([async_double], name="inner").as_node(runner=SyncRunner())
    with pytest.raises(IncompatibleRunnerError):
        _interrupt_graph().as_node(name="review", runner=SyncRunner())


def test_nested_explicit_runner_processors_get_nested_events(
    harness: Any, make_recorder: Any
) -> None:
    top, own = make_recorder(), make_recorder()
    inner = Graph([double, add_one], name="inner")
    nested = inner.as_node(name="sub", runner=harness.make(event_processors=[own]))

    @node(output_name="w")
    def finish(z: int) -> int:
        return z * 10

    runner = harness.make(event_processors=[top])
    out = harness.run(Graph([nested, finish]), {"x": 1}, runner=runner, select=["w"])
    assert out == {"w": 30}
    top_nodes = {e.node_name for e in top.events if isinstance(e, NodeStartEvent)}
    own_nodes = {e.node_name for e in own.events if isinstance(e, NodeStartEvent)}
    assert top_nodes == {"sub", "double", "add_one", "finish"}
    assert own_nodes == {"double", "add_one"}
    assert [type(e).__name__ for e in own.events] == [
        "NodeStartEvent",
        "NodeEndEvent",
        "NodeStartEvent",
        "NodeEndEvent",
    ]
    sub_span = next(e.span_id for e in top.events if getattr(e, "node_name", "") == "sub")
    assert all(e.parent_span_id == sub_span for e in own.events)
    run_id = top.events[0].run_id
    assert all(e.run_id == run_id for e in own.events)


def test_nested_async_runner_in_sync_parent_sends_events_to_both(make_recorder: Any) -> None:
    top, own = make_recorder(), make_recorder()
    nested = Graph([async_double], name="inner").as_node(runner=AsyncRunner(event_processors=[own]))
    out = SyncRunner(event_processors=[top]).run(Graph([nested, add_one]), {"x": 1})
    assert out == {"z": 3}
    assert [e.node_name for e in own.events if isinstance(e, NodeStartEvent)] == ["async_double"]
    top_nodes = [e.node_name for e in top.events if isinstance(e, NodeStartEvent)]
    assert top_nodes == ["inner", "async_double", "add_one"]
    assert type(top.events[0]).__name__ == "RunStartEvent"
    assert type(top.events[-1]).__name__ == "RunEndEvent"


def test_graph_node_as_a_loop_body_reruns_each_pass(harness: Any) -> None:
    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    @route(targets=["body", END])
    def check(count: int) -> Any:
        return "body" if count < 4 else END

    body = Graph([increment], name="body").as_node()
    out = harness.run(Graph([body, check]), {"count": 0}, max_iterations=GUARD)
    assert out == {"count": 4}


@pytest.mark.parametrize("outer_kind", ["sync", "async"])
def test_error_in_a_nested_graph_with_another_runner_propagates_unchanged(
    outer_kind: str,
) -> None:
    error = ArithmeticError("inner")

    @node(output_name="y")
    async def boom_async(x: int) -> int:
        raise error

    @node(output_name="y")
    def boom_sync(x: int) -> int:
        raise error

    if outer_kind == "sync":
        sub = Graph([boom_async], name="g").as_node(name="sub", runner=AsyncRunner())
        call = lambda: SyncRunner().run(Graph([sub, add_one]), {"x": 1})  # noqa: E731
    else:
        sub = Graph([boom_sync], name="g").as_node(name="sub", runner=SyncRunner())
        call = lambda: asyncio.run(AsyncRunner().run(Graph([sub, add_one]), {"x": 1}))  # noqa: E731
    with pytest.raises(ArithmeticError) as info:
        call()
    assert info.value is error
    notes = getattr(info.value, "__notes__", [])
    assert any("sub/boom" in n for n in notes), notes
