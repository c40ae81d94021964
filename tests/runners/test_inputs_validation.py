"""Inputs are checked before any node runs, by run() and map() alike, on both runners."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import Graph, GraphflowError, InputError, MissingInputError, node

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


def _graph_with_counter() -> tuple[Graph, list[str]]:
    """A graph needing a, b (by combine) and c (by scale), plus a node that needs nothing."""
    calls: list[str] = []

    @node
    def side_effect() -> None:
        calls.append("side_effect")

    @node(output_name="ab")
    def combine(a: int, b: int) -> int:
        calls.append("combine")
        return a + b

    @node(output_name="scaled")
    def scale(c: int, ab: int = 1) -> int:
        calls.append("scale")
        return c * ab

    return Graph([side_effect, combine, scale], name="needs_inputs"), calls


def _call(harness: Any, via: str, graph: Graph, inputs: Any) -> Any:
    if via == "run":
        return harness.run(graph, inputs)
    return harness.map(graph, inputs, map_over="items")


def test_missing_inputs_lists_every_name_and_who_needs_it(harness: Any) -> None:
    graph, calls = _graph_with_counter()
    with pytest.raises(MissingInputError) as info:
        harness.run(graph, {})
    err = info.value
    assert isinstance(err, InputError)
    assert isinstance(err, GraphflowError)
    assert isinstance(err, ValueError)
    message = str(err)
    for name in ("a", "b", "c"):
        assert f"'{name}'" in message
    assert "combine" in message
    assert "scale" in message
    assert set(err.missing) >= {"a", "b", "c"}
    assert calls == []


def test_missing_inputs_only_lists_what_is_missing(harness: Any) -> None:
    graph, calls = _graph_with_counter()
    with pytest.raises(MissingInputError) as info:
        harness.run(graph, {"a": 1, "c": 2})
    assert set(info.value.missing) == {"b"}
    assert "'b'" in str(info.value)
    assert calls == []


def test_missing_inputs_is_raised_by_map_before_any_item_runs(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="y")
    def add(items: int, offset: int) -> int:
        calls.append("add")
        return items + offset

    @node
    def side_effect() -> None:
        calls.append("side_effect")

    with pytest.raises(MissingInputError) as info:
        harness.map(Graph([side_effect, add]), {"items": [1, 2, 3]}, map_over="items")
    assert "offset" in str(info.value)
    assert "add" in str(info.value)
    assert calls == []


@node(output_name="h")
def halve(x: int) -> int:
    return x // 2


@node(output_name="x")
def at_least_one(h: int) -> int:
    return max(h, 1)


def test_cycle_without_a_seed_raises_missing_input(harness: Any) -> None:
    calls: list[str] = []

    @node
    def side_effect() -> None:
        calls.append("side_effect")

    graph = Graph([side_effect, halve, at_least_one])
    assert graph.inputs.required == ()
    with pytest.raises(MissingInputError) as info:
        harness.run(graph, {})
    message = str(info.value)
    assert "'x'" in message or "'h'" in message
    assert calls == []


def test_cycle_with_any_one_seed_runs(harness: Any) -> None:
    graph = Graph([halve, at_least_one])
    assert harness.run(graph, {"h": 8}, max_iterations=GUARD) == {"h": 0, "x": 1}
    assert harness.run(graph, {"x": 8}, max_iterations=GUARD) == {"h": 0, "x": 1}


@pytest.mark.parametrize("via", ["run", "map"])
def test_unknown_input_name_raises_with_did_you_mean(harness: Any, via: str) -> None:
    calls: list[str] = []

    @node(output_name="y")
    def work(items: int, offset: int) -> int:
        calls.append("work")
        return items + offset

    with pytest.raises(InputError) as info:
        _call(harness, via, Graph([work]), {"items": [1], "offset": 1, "ofset": 2})
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, GraphflowError)
    assert "ofset" in str(err)
    assert "Did you mean 'offset'" in str(err)
    assert calls == []


@pytest.mark.parametrize("via", ["run", "map"])
@pytest.mark.parametrize("bad", [[("items", [1])], "items", 42, None])
def test_inputs_that_are_not_a_dict_raise(harness: Any, via: str, bad: Any) -> None:
    calls: list[str] = []

    @node(output_name="y")
    def work(items: int) -> int:
        calls.append("work")
        return items

    with pytest.raises(GraphflowError):
        _call(harness, via, Graph([work]), bad)
    assert calls == []


def test_bound_values_satisfy_required_inputs(harness: Any) -> None:
    graph, calls = _graph_with_counter()
    out = harness.run(graph.bind(a=1, b=2), {"c": 3})
    assert out == {"scaled": 9}
    assert sorted(calls) == ["combine", "scale", "side_effect"]


def test_inputs_of_a_skipped_producer_are_not_required(harness: Any) -> None:
    @node(output_name="ab")
    def combine(a: int, b: int) -> int:
        raise AssertionError("combine must be skipped: its output is given")

    @node(output_name="total")
    def add(ab: int, c: int) -> int:
        return ab + c

    assert harness.run(Graph([combine, add]), {"ab": 5, "c": 2}) == {"total": 7}
