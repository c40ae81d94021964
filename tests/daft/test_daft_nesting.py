"""DaftRunner inside Sync/Async parents, and nested graphs inside DaftRunner graphs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("daft")

from daft_graphs import NodeFailed, double, failing, label, shift

from graphflow import (
    AsyncRunner,
    DaftRunner,
    ExecutionStrategy,
    Graph,
    SyncRunner,
    get_execution_strategy,
    node,
)
from graphflow.testing import capture_traces


@node(output_name="final")
def finish(label: str) -> str:
    return label.upper()


def _outer(runner: Any) -> Graph:
    inner = Graph([shift, label], name="inner").as_node(runner=runner)
    return Graph([double, inner, finish], name="outer")


def test_strategies_are_direct_from_sync_and_thread_pool_from_async() -> None:
    daft_runner = DaftRunner()
    assert get_execution_strategy(SyncRunner(), daft_runner) is ExecutionStrategy.DIRECT
    assert get_execution_strategy(AsyncRunner(), daft_runner) is ExecutionStrategy.THREAD_POOL


def test_a_daft_graph_inside_a_sync_parent_runs_its_item_and_stays_one_trace() -> None:
    with capture_traces() as captured:
        runner = SyncRunner(event_processors=captured.processors)
        outputs = runner.run(_outer(DaftRunner()), {"x": 2, "offset": 1}, select=["final"])
        assert outputs == {"final": "ITEM-5"}
        captured.assert_tree(
            """
            run outer  graphflow.runner=sync
            ├── node double
            ├── node inner
            │   ├── node shift
            │   └── node label
            └── node finish
            """
        )
        captured.assert_no_orphans()


def test_a_daft_graph_inside_an_async_parent_runs_in_a_worker_thread() -> None:
    with capture_traces() as captured:
        runner = AsyncRunner(event_processors=captured.processors)
        result = asyncio.run(runner.run(_outer(DaftRunner()), {"x": 3}, select=["final"]))
        assert result.outputs == {"final": "ITEM-6"}
        inner = captured.one(node="inner")
        assert [c.name for c in inner.children] == ["node shift", "node label"]


def test_a_sync_parent_maps_items_through_a_nested_daft_graph() -> None:
    results = SyncRunner().map(
        _outer(DaftRunner()), {"x": [1, 2, 3]}, map_over="x", select=["final"]
    )
    assert results == [{"final": "ITEM-2"}, {"final": "ITEM-4"}, {"final": "ITEM-6"}]


def test_a_nested_daft_graph_error_reaches_the_parent_with_its_type() -> None:
    outer = Graph([failing().as_node(runner=DaftRunner())], name="outer")
    with pytest.raises(NodeFailed):
        SyncRunner().run(outer, {"x": 2})


def test_nested_graphs_are_flattened_into_the_daft_plan() -> None:
    for nested in (None, DaftRunner()):
        inner = Graph([shift, label], name="inner").as_node(runner=nested)
        graph = Graph([double, inner, finish], name="outer")
        frame = DaftRunner().map(graph, {"x": [1, 2]}, map_over="x", select=["final"])
        assert frame.to_pydict() == {"x": [1, 2], "final": ["ITEM-2", "ITEM-4"]}


def test_a_sync_runner_graph_nested_in_a_daft_graph_uses_that_runner() -> None:
    inner = Graph([double, shift], name="arith").as_node(runner=SyncRunner())
    graph = Graph([inner, label], name="outer")
    frame = DaftRunner().map(graph, {"x": [1, 2]}, map_over="x", select=["label"])
    assert frame.to_pydict()["label"] == ["item-2", "item-4"]


def test_nested_traces_inside_a_daft_map_keep_their_structure() -> None:
    inner = Graph([shift, label], name="inner").as_node()
    graph = Graph([double, inner], name="outer")
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        runner.map(graph, {"x": [1]}, map_over="x").collect()
        captured.assert_tree(
            """
            map outer
            └── run outer
                ├── node double
                └── node inner
                    ├── node shift
                    └── node label
            """
        )


def test_a_mapped_graph_node_inside_a_daft_graph() -> None:
    inner = Graph([double], name="inner").as_node().map_over("x")
    graph = Graph([inner], name="outer")
    frame = DaftRunner().map(graph, {"x": [[1, 2], [3]]}, map_over="x")
    assert frame.to_pydict()["doubled"] == [[2, 4], [6]]
