"""DaftRunner rejects what it cannot run, and bad map arguments, before any work starts."""

from __future__ import annotations

import pytest

pytest.importorskip("daft")

from daft_graphs import double

from graphflow import (
    END,
    DaftRunner,
    Graph,
    GraphConfigError,
    IncompatibleRunnerError,
    InputError,
    InterruptNode,
    MissingInputError,
    RunnerCapabilities,
    SyncRunner,
    node,
    route,
)


def test_capabilities_are_the_seeds() -> None:
    assert DaftRunner().capabilities == RunnerCapabilities(
        supports_cycles=False,
        supports_gates=False,
        supports_interrupts=False,
        supports_async_nodes=True,
        supports_streaming=False,
        supports_distributed=True,
        returns_coroutine=False,
    )


@node(output_name="count")
def bump(count: int) -> int:
    return count + 1


def test_a_cycle_is_rejected_naming_the_feature_and_the_runner_to_use() -> None:
    with pytest.raises(IncompatibleRunnerError) as info:
        DaftRunner().run(Graph([bump]), {"count": 0})
    assert "cycles" in str(info.value)
    assert "SyncRunner or AsyncRunner" in str(info.value)


def test_a_gate_is_rejected_by_map_and_run() -> None:
    @route(targets=["double", END])
    def gate(x: int) -> str:
        return "double"

    graph = Graph([gate, double])
    for call in (
        lambda: DaftRunner().run(graph, {"x": 1}),
        lambda: DaftRunner().map(graph, {"x": [1]}, map_over="x"),
    ):
        with pytest.raises(IncompatibleRunnerError) as info:
            call()
        assert "gates" in str(info.value)


def test_an_interrupt_is_rejected_by_run_and_map() -> None:
    graph = Graph([double, InterruptNode("ask", input_param="doubled", response_param="ok")])
    with pytest.raises(IncompatibleRunnerError) as info:
        DaftRunner().run(graph, {"x": 1})
    assert "interrupts" in str(info.value)
    assert "AsyncRunner" in str(info.value)
    with pytest.raises(GraphConfigError):
        DaftRunner().map(graph, {"x": [1]}, map_over="x")


def test_a_nested_graph_with_a_cycle_is_rejected_too() -> None:
    inner = Graph([bump], name="loop")
    with pytest.raises(IncompatibleRunnerError):
        DaftRunner().run(Graph([double, inner.as_node()]), {"x": 1, "count": 0})
    with pytest.raises(IncompatibleRunnerError):
        inner.as_node(runner=DaftRunner())
    # an explicit runner that supports cycles is fine inside a Daft graph
    Graph([double, inner.as_node(runner=SyncRunner())])


def _tracked() -> tuple[Graph, list[int]]:
    calls: list[int] = []

    @node(output_name="y")
    def track(x: int, z: int = 0) -> int:
        calls.append(x)
        return x

    return Graph([track]), calls


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"map_over": "nope"}, "'nope'"),
        ({"map_over": []}, "non-empty"),
        ({"map_over": "x", "map_mode": "cross"}, "map_mode"),
        ({"map_over": ["x", "z"]}, "equal length"),
        ({"map_over": "x", "select": ["missing"]}, "'missing'"),
        ({"map_over": "x", "max_concurrency": 0}, "max_concurrency"),
        ({"map_over": "x", "select": ["x"]}, "does not produce"),
    ],
)
def test_bad_map_arguments_fail_at_the_call_before_any_work(
    kwargs: dict[str, object], message: str
) -> None:
    graph, calls = _tracked()
    with pytest.raises((InputError, GraphConfigError)) as info:
        DaftRunner().map(graph, {"x": [1, 2, 3], "z": [1, 2]}, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert calls == []


def test_a_non_list_mapped_input_fails_at_the_call() -> None:
    graph, calls = _tracked()
    with pytest.raises(InputError):
        DaftRunner().map(graph, {"x": "abc"}, map_over="x")
    assert calls == []


def test_missing_and_unknown_inputs_fail_at_the_call() -> None:
    @node(output_name="s")
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(MissingInputError):
        DaftRunner().map(Graph([add]), {"a": [1, 2]}, map_over="a")
    with pytest.raises(MissingInputError):
        DaftRunner().run(Graph([add]), {"a": 1})
    with pytest.raises(InputError):
        DaftRunner().map(Graph([add]), {"a": [1], "b": 1, "c": 2}, map_over="a")


def test_a_cache_that_cannot_reach_workers_is_rejected_at_construction() -> None:
    import threading

    from graphflow import Cache

    class LockedCache(Cache):
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def get(self, key: str) -> tuple[bool, object]:
            return False, None

        def set(self, key: str, value: object) -> None:
            pass

    with pytest.raises(GraphConfigError) as info:
        DaftRunner(cache=LockedCache())
    assert "DiskCache" in str(info.value)


def test_event_processors_must_be_a_list_of_processors() -> None:
    with pytest.raises(GraphConfigError):
        DaftRunner(event_processors=[object()])  # type: ignore[list-item]
