"""map() and GraphNode.map_over on both runners: zip, product, broadcast, errors, fail-fast."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import (
    Graph,
    GraphConfigError,
    GraphflowError,
    InputError,
    InterruptNode,
    RunStartEvent,
    node,
)


@node(output_name="s")
def add(a: int, b: int) -> int:
    return a + b


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


def test_map_zip_pairs_items_in_order(harness: Any) -> None:
    out = harness.map(Graph([add]), {"a": [1, 2, 3], "b": [10, 20, 30]}, map_over=["a", "b"])
    assert out == [{"s": 11}, {"s": 22}, {"s": 33}]


def test_map_zip_is_the_default_mode(harness: Any) -> None:
    out = harness.map(
        Graph([add]), {"a": [1, 2], "b": [10, 20]}, map_over=["a", "b"], map_mode="zip"
    )
    assert out == harness.map(Graph([add]), {"a": [1, 2], "b": [10, 20]}, map_over=["a", "b"])


def test_map_product_is_cartesian_in_map_over_order(harness: Any) -> None:
    @node(output_name="pair")
    def pair(a: str, b: str) -> str:
        return a + b

    graph = Graph([pair])
    inputs = {"a": ["x", "y"], "b": ["1", "2", "3"]}
    out = harness.map(graph, inputs, map_over=["a", "b"], map_mode="product")
    assert [o["pair"] for o in out] == ["x1", "x2", "x3", "y1", "y2", "y3"]
    out = harness.map(graph, inputs, map_over=["b", "a"], map_mode="product")
    assert [o["pair"] for o in out] == ["x1", "y1", "x2", "y2", "x3", "y3"]


def test_map_broadcasts_inputs_that_are_not_mapped(harness: Any) -> None:
    out = harness.map(Graph([add]), {"a": [1, 2, 3], "b": 100}, map_over="a")
    assert out == [{"s": 101}, {"s": 102}, {"s": 103}]


def test_map_broadcasts_a_list_that_is_not_mapped(harness: Any) -> None:
    @node(output_name="n")
    def count(x: int, items: list[int]) -> int:
        return x + len(items)

    out = harness.map(Graph([count]), {"x": [1, 2], "items": [7, 7, 7]}, map_over="x")
    assert out == [{"n": 4}, {"n": 5}]


def test_map_of_an_empty_list_is_an_empty_list(harness: Any) -> None:
    calls: list[int] = []

    @node(output_name="y")
    def track(x: int) -> int:
        calls.append(x)
        return x

    assert harness.map(Graph([track]), {"x": []}, map_over="x") == []
    assert harness.map(Graph([add]), {"a": [], "b": []}, map_over=["a", "b"]) == []
    assert calls == []


def test_map_zip_length_mismatch_names_the_lengths(harness: Any) -> None:
    with pytest.raises(InputError) as info:
        harness.map(Graph([add]), {"a": [1, 2, 3], "b": [1, 2]}, map_over=["a", "b"])
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, GraphflowError)
    message = str(info.value)
    assert "3" in message
    assert "2" in message
    assert "'a'" in message
    assert "'b'" in message


def test_map_product_accepts_different_lengths(harness: Any) -> None:
    out = harness.map(
        Graph([add]), {"a": [1, 2, 3], "b": [10, 20]}, map_over=["a", "b"], map_mode="product"
    )
    assert len(out) == 6


def test_map_over_a_name_missing_from_inputs_raises(harness: Any) -> None:
    with pytest.raises(GraphflowError) as info:
        harness.map(Graph([add]), {"a": [1], "b": 2, "c": [1]}, map_over="c")
    assert "'c'" in str(info.value)
    with pytest.raises(GraphflowError) as info:
        harness.map(Graph([add]), {"a": [1], "b": 2}, map_over=["a", "b_list"])
    assert "b_list" in str(info.value)


@pytest.mark.parametrize("value", ["abc", 3, None, {"k": 1}])
def test_map_over_a_value_that_is_not_a_list_raises(harness: Any, value: Any) -> None:
    calls: list[Any] = []

    @node(output_name="y")
    def track(x: Any) -> Any:
        calls.append(x)
        return x

    with pytest.raises(GraphflowError) as info:
        harness.map(Graph([track]), {"x": value}, map_over="x")
    assert "'x'" in str(info.value)
    assert calls == []


def test_map_of_a_graph_with_an_interrupt_raises_config_error(harness: Any) -> None:
    ask = InterruptNode("ask", input_param="y", response_param="answer")
    graph = Graph([double, ask])
    with pytest.raises(GraphConfigError) as info:
        harness.map(graph, {"x": [1, 2]}, map_over="x")
    assert "map runs the graph multiple times" in str(info.value)


def test_map_of_a_graph_with_a_nested_interrupt_raises_config_error(harness: Any) -> None:
    inner = Graph([InterruptNode("ask", input_param="y", response_param="answer")], name="inner")
    graph = Graph([double, inner.as_node()])
    with pytest.raises(GraphConfigError) as info:
        harness.map(graph, {"x": [1, 2]}, map_over="x")
    assert "map runs the graph multiple times" in str(info.value)


def test_map_fails_fast_with_the_failing_items_exception(harness: Any) -> None:
    error = LookupError("item two")

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise error
        return x

    with pytest.raises(LookupError) as info:
        harness.map(Graph([picky]), {"x": [1, 2, 3]}, map_over="x")
    assert info.value is error
    assert any("picky" in n for n in getattr(info.value, "__notes__", []))


def test_sync_map_stops_at_the_first_failing_item(harness: Any) -> None:
    if harness.kind != "sync":
        return  # items of AsyncRunner.map run concurrently; order of starts is not fixed
    calls: list[int] = []

    @node(output_name="y")
    def picky(x: int) -> int:
        calls.append(x)
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError):
        harness.map(Graph([picky]), {"x": [1, 2, 3, 4]}, map_over="x")
    assert calls == [1, 2]


def test_map_select_limits_each_items_outputs(harness: Any) -> None:
    @node(output_name="z")
    def inc(y: int) -> int:
        return y + 1

    out = harness.map(Graph([double, inc]), {"x": [1, 2]}, map_over="x", select=["y"])
    assert out == [{"y": 2}, {"y": 4}]
    out = harness.map(Graph([double, inc]), {"x": [1, 2]}, map_over="x")
    assert out == [{"z": 3}, {"z": 5}]


def test_map_results_keep_input_order(harness: Any) -> None:
    out = harness.map(Graph([double]), {"x": list(range(20))}, map_over="x")
    assert out == [{"y": 2 * i} for i in range(20)]


def test_graph_node_map_over_outputs_lists(harness: Any) -> None:
    inner = Graph([double], name="inner")

    @node(output_name="total")
    def total(y: list[int]) -> int:
        return sum(y)

    outer = Graph([inner.as_node(name="each").map_over("x"), total])
    assert harness.run(outer, {"x": [1, 2, 3]}) == {"total": 12}
    assert harness.run(outer, {"x": [1, 2, 3]}, select=["y"]) == {"y": [2, 4, 6]}


def test_graph_node_map_over_zip_and_product(harness: Any) -> None:
    inner = Graph([add], name="adder")
    zipped = Graph([inner.as_node().map_over("a", "b")])
    assert harness.run(zipped, {"a": [1, 2], "b": [10, 20]}) == {"s": [11, 22]}
    crossed = Graph([inner.as_node().map_over("a", "b", mode="product")])
    assert harness.run(crossed, {"a": [1, 2], "b": [10, 20]}) == {"s": [11, 21, 12, 22]}


def test_graph_node_map_over_broadcasts_other_inputs(harness: Any) -> None:
    inner = Graph([add], name="adder")
    outer = Graph([inner.as_node().map_over("a")])
    assert harness.run(outer, {"a": [1, 2, 3], "b": 5}) == {"s": [6, 7, 8]}


def test_graph_node_map_over_an_empty_list_outputs_empty_lists(harness: Any) -> None:
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node().map_over("x")])
    assert harness.run(outer, {"x": []}) == {"y": []}


def test_graph_node_map_over_zip_length_mismatch_raises(harness: Any) -> None:
    inner = Graph([add], name="adder")
    outer = Graph([inner.as_node().map_over("a", "b")])
    with pytest.raises(ValueError) as info:
        harness.run(outer, {"a": [1, 2, 3], "b": [1]})
    assert isinstance(info.value, GraphflowError)
    assert "3" in str(info.value)
    assert "1" in str(info.value)


def test_graph_node_map_over_of_a_graph_with_interrupts_raises_at_build(
    harness: Any,
) -> None:
    inner = Graph([InterruptNode("ask", input_param="q", response_param="a")], name="inner")
    with pytest.raises(GraphConfigError) as info:
        inner.as_node().map_over("q")
    assert "map runs the graph multiple times" in str(info.value)


def test_map_over_a_graph_node_inside_a_map(harness: Any) -> None:
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node().map_over("x")])
    out = harness.map(outer, {"x": [[1, 2], [3]]}, map_over="x")
    assert out == [{"y": [2, 4]}, {"y": [6]}]


def test_map_select_of_an_unknown_name_raises(harness: Any) -> None:
    with pytest.raises(GraphflowError) as info:
        harness.map(Graph([double]), {"x": [1]}, map_over="x", select=["yy"])
    assert "Did you mean 'y'" in str(info.value)


def test_map_items_are_runs_sharing_the_session_id(harness: Any, recorder: Any) -> None:
    runner = harness.make(event_processors=[recorder])
    harness.map(Graph([double]), {"x": [1, 2]}, map_over="x", runner=runner, session_id="s1")
    starts = [e for e in recorder.events if isinstance(e, RunStartEvent)]
    assert len(starts) == 2
    assert all(e.session_id == "s1" for e in starts)
    assert len({e.run_id for e in starts}) == 2
