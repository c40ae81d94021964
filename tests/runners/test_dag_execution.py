"""DAG execution on both runners: wiring, renames, defaults, bound values, select, errors."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import Graph, GraphflowError, NodeOutputError, node

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="z")
def add_one(y: int) -> int:
    return y + 1


def test_chain_passes_each_output_to_the_next_node(harness: Any) -> None:
    assert harness.run(Graph([double, add_one]), {"x": 3}) == {"z": 7}


def test_chain_runs_whatever_order_the_nodes_are_listed_in(harness: Any) -> None:
    assert harness.run(Graph([add_one, double]), {"x": 3}) == {"z": 7}


def test_fan_out_and_fan_in(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="v")
    def source(x: int) -> int:
        calls.append("source")
        return x + 1

    @node(output_name="left")
    def left_branch(v: int) -> int:
        calls.append("left")
        return v * 10

    @node(output_name="right")
    def right_branch(v: int) -> int:
        calls.append("right")
        return v * 100

    @node(output_name="total")
    def join(left: int, right: int) -> int:
        calls.append("join")
        return left + right

    graph = Graph([join, right_branch, left_branch, source])
    assert harness.run(graph, {"x": 1}) == {"total": 220}
    assert sorted(calls) == ["join", "left", "right", "source"]
    assert calls[0] == "source"
    assert calls[-1] == "join"


def test_several_outputs_are_unpacked_from_a_tuple(harness: Any) -> None:
    @node(output_name=("total", "count"))
    def stats(xs: list[int]) -> tuple[int, int]:
        return sum(xs), len(xs)

    @node(output_name="mean")
    def mean(total: int, count: int) -> float:
        return total / count

    graph = Graph([stats, mean])
    assert harness.run(graph, {"xs": [1, 2, 3]}) == {"mean": 2.0}
    assert harness.run(graph, {"xs": [2, 4]}, select=["total", "count"]) == {
        "total": 6,
        "count": 2,
    }


def test_wrong_number_of_outputs_raises_naming_the_node(harness: Any) -> None:
    @node(output_name=("a", "b"))
    def split_three(x: int) -> tuple[int, int, int]:
        return x, x, x

    with pytest.raises(NodeOutputError) as info:
        harness.run(Graph([split_three]), {"x": 1})
    assert isinstance(info.value, GraphflowError)
    assert "split_three" in str(info.value)


def test_with_inputs_and_with_outputs_rewire_a_node(harness: Any) -> None:
    renamed = double.with_inputs(x="number").with_outputs(y="twice")
    follow = add_one.with_inputs(y="twice")
    graph = Graph([renamed, follow])
    assert harness.run(graph, {"number": 5}) == {"z": 11}
    assert harness.run(graph, {"number": 5}, select=["twice"]) == {"twice": 10}


def test_with_inputs_accepts_a_dict(harness: Any) -> None:
    graph = Graph([double.with_inputs({"x": "n"})])
    assert harness.run(graph, {"n": 4}) == {"y": 8}


def test_rename_inputs_maps_a_parameter_to_another_input_name(harness: Any) -> None:
    @node(output_name="greeting", rename_inputs={"name": "user"})
    def greet(name: str) -> str:
        return f"hi {name}"

    assert harness.run(Graph([greet]), {"user": "ada"}) == {"greeting": "hi ada"}


def test_default_is_used_when_not_given_and_overridden_when_given(harness: Any) -> None:
    @node(output_name="y")
    def scale(x: int, factor: int = 3) -> int:
        return x * factor

    graph = Graph([scale])
    assert harness.run(graph, {"x": 2}) == {"y": 6}
    assert harness.run(graph, {"x": 2, "factor": 10}) == {"y": 20}


def test_an_edge_cancels_a_default_the_consumer_waits_for_its_producer(harness: Any) -> None:
    seen: list[int] = []

    @node(output_name="y")
    def scale(x: int, factor: int = 3) -> int:
        seen.append(factor)
        return x * factor

    @node(output_name="factor")
    def pick_factor(x: int) -> int:
        return 100

    graph = Graph([scale, pick_factor])
    assert harness.run(graph, {"x": 2}) == {"y": 200}
    assert seen == [100]


def test_bound_values_fill_inputs_and_given_inputs_override_them(harness: Any) -> None:
    @node(output_name="y")
    def scale(x: int, factor: int) -> int:
        return x * factor

    bound = Graph([scale]).bind(factor=4)
    assert harness.run(bound, {"x": 2}) == {"y": 8}
    assert harness.run(bound, {"x": 2, "factor": 5}) == {"y": 10}
    assert harness.run(bound.bind(x=1), {}) == {"y": 4}


def test_bound_value_wins_over_a_default(harness: Any) -> None:
    @node(output_name="y")
    def scale(x: int, factor: int = 3) -> int:
        return x * factor

    assert harness.run(Graph([scale]).bind(factor=7), {"x": 1}) == {"y": 7}


def test_side_effect_node_without_outputs_runs_once(harness: Any) -> None:
    calls: list[int] = []

    @node
    def log(y: int) -> None:
        calls.append(y)

    # no leaf outputs (log consumes y): select falls back to all outputs
    assert harness.run(Graph([double, log]), {"x": 4}) == {"y": 8}
    assert calls == [8]


def test_side_effect_node_with_no_inputs_runs_once(harness: Any) -> None:
    calls: list[str] = []

    @node
    def ping() -> None:
        calls.append("ping")

    assert harness.run(Graph([ping]), {}) == {}
    assert calls == ["ping"]


def test_select_defaults_to_leaf_outputs(harness: Any) -> None:
    @node(output_name="w")
    def other(y: int) -> int:
        return -y

    graph = Graph([double, add_one, other])
    assert harness.run(graph, {"x": 1}) == {"z": 3, "w": -2}


def test_select_returns_only_the_named_outputs(harness: Any) -> None:
    graph = Graph([double, add_one])
    assert harness.run(graph, {"x": 1}, select=["y"]) == {"y": 2}
    assert harness.run(graph, {"x": 1}, select=["y", "z"]) == {"y": 2, "z": 3}


def test_select_of_an_unknown_name_raises_with_a_hint(harness: Any) -> None:
    calls: list[int] = []

    @node(output_name="result")
    def work(x: int) -> int:
        calls.append(x)
        return x

    with pytest.raises(GraphflowError) as info:
        harness.run(Graph([work]), {"x": 1}, select=["reslt"])
    assert "reslt" in str(info.value)
    assert "Did you mean 'result'" in str(info.value)
    assert calls == []


@node(output_name="h")
def halve(x: int) -> int:
    return x // 2


@node(output_name="x")
def at_least_one(h: int) -> int:
    return max(h, 1)


def test_select_of_a_pure_cycle_defaults_to_all_outputs(harness: Any) -> None:
    graph = Graph([halve, at_least_one])
    assert graph.leaf_outputs == ()
    assert harness.run(graph, {"x": 40}, max_iterations=GUARD) == {"h": 0, "x": 1}


def test_value_given_for_a_non_seed_produced_name_skips_its_producer(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="y")
    def expensive(x: int) -> int:
        calls.append("expensive")
        return x * 2

    graph = Graph([expensive, add_one])
    assert harness.run(graph, {"x": 1, "y": 10}) == {"z": 11}
    assert calls == []


def test_node_exception_propagates_unchanged_with_a_note_naming_the_node(
    harness: Any,
) -> None:
    error = KeyError("missing thing")

    @node(output_name="y")
    def explode(x: int) -> int:
        raise error

    with pytest.raises(KeyError) as info:
        harness.run(Graph([explode]), {"x": 1})
    assert info.value is error
    assert type(info.value) is KeyError
    notes = getattr(info.value, "__notes__", [])
    assert any("explode" in n for n in notes), notes


def test_exception_in_a_later_node_stops_the_run(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="z")
    def broken(y: int) -> int:
        raise ZeroDivisionError("nope")

    @node(output_name="w")
    def after(z: int) -> int:
        calls.append("after")
        return z

    with pytest.raises(ZeroDivisionError):
        harness.run(Graph([double, broken, after]), {"x": 1})
    assert calls == []


def test_nested_graph_failure_note_names_the_outer_inner_path(harness: Any) -> None:
    error = RuntimeError("inner failure")

    @node(output_name="y")
    def explode(x: int) -> int:
        raise error

    inner = Graph([explode], name="inner")
    outer = Graph([inner.as_node(name="outer"), add_one])
    with pytest.raises(RuntimeError) as info:
        harness.run(outer, {"x": 1})
    assert info.value is error
    notes = getattr(info.value, "__notes__", [])
    assert any("outer/explode" in n for n in notes), notes
    assert len(notes) == 1, notes


def test_sync_runner_runs_ready_nodes_in_graph_order(harness: Any) -> None:
    calls: list[str] = []

    def make(name: str) -> Any:
        def body(x: int) -> int:
            calls.append(name)
            return x

        return node(body, output_name=f"out_{name}", name=name)

    graph = Graph([make("c"), make("a"), make("b")])
    harness.run(graph, {"x": 1})
    if harness.kind == "sync":
        assert calls == ["c", "a", "b"]
    else:
        assert sorted(calls) == ["a", "b", "c"]
