"""GraphNode (a graph used as a node) and InterruptNode, as parts of the graph model."""

from __future__ import annotations

import string

import pytest

from graphflow import (
    Graph,
    GraphConfigError,
    GraphflowError,
    GraphNode,
    InterruptNode,
    SyncRunner,
    node,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="total")
def add(doubled: int, offset: int = 0) -> int:
    return doubled + offset


@node(output_name="doubled")
def triple(x: int) -> int:
    return x * 3


@node(output_name="draft")
def write(topic: str) -> str:
    return f"about {topic}"


@node(output_name="published")
def publish(decision: str) -> bool:
    return decision == "yes"


def _inner() -> Graph:
    return Graph([double, add], name="inner")


def _review() -> Graph:
    return Graph([write, InterruptNode("approve", "draft", "decision")], name="review")


# ------------------------------------------------------------------ inputs and outputs
def test_graph_node_has_inner_inputs_and_outputs() -> None:
    gn = _inner().as_node()
    assert isinstance(gn, GraphNode)
    assert gn.name == "inner"
    assert set(gn.inputs) == {"x", "offset"}
    assert gn.outputs == ("doubled", "total")


def test_as_node_name_overrides_graph_name() -> None:
    assert _inner().as_node(name="math").name == "math"
    assert Graph([double]).as_node(name="solo").name == "solo"


def test_graph_node_inputs_include_response_params_of_inner_interrupts() -> None:
    gn = _review().as_node()
    assert set(gn.inputs) == {"topic", "decision"}
    assert set(gn.outputs) == {"draft", "decision"}


def test_response_params_of_nested_interrupts_at_depth_two_are_inputs() -> None:
    middle = Graph([_review().as_node()], name="middle")
    gn = middle.as_node()
    assert "decision" in gn.inputs


def test_answer_input_makes_no_cycle_in_the_parent() -> None:
    parent = Graph([_review().as_node(), publish])
    assert parent.has_cycles is False
    assert parent.inputs.seeds == ()
    assert "decision" not in parent.inputs.required
    assert parent.inputs.required == ("topic",)


def test_graph_node_that_outputs_its_own_answer_input_is_not_a_self_loop() -> None:
    gn = _review().as_node()
    # 'decision' is both an answer input and an output of gn: as an edge it would loop gn -> gn.
    assert "decision" in gn.inputs and "decision" in gn.outputs
    parent = Graph([gn])
    assert parent.has_cycles is False
    assert parent.inputs.seeds == ()


def test_graph_node_inputs_of_a_cycle_include_its_seeds() -> None:
    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    gn = Graph([increment], name="loop").as_node()
    assert "count" in gn.inputs
    assert "count" in gn.outputs


# ------------------------------------------------------------------ renames
def test_with_inputs_and_with_outputs_rename_graph_node_copies() -> None:
    gn = _inner().as_node()
    renamed = gn.with_inputs(x="number").with_outputs({"total": "result"})
    assert set(renamed.inputs) == {"number", "offset"}
    assert renamed.outputs == ("doubled", "result")
    assert set(gn.inputs) == {"x", "offset"}
    assert gn.outputs == ("doubled", "total")


def test_renamed_graph_node_maps_outer_names_to_inner_names_when_run() -> None:
    renamed = _inner().as_node().with_inputs(x="number").with_outputs(total="result")
    out = SyncRunner().run(Graph([renamed]), {"number": 3}, select=["result", "doubled"])
    assert out == {"result": 6, "doubled": 6}


def test_graph_node_with_name_returns_copy() -> None:
    gn = _inner().as_node()
    other = gn.with_name("other")
    assert (other.name, gn.name) == ("other", "inner")
    assert other.graph is gn.graph


def test_renaming_unknown_graph_node_input_raises_listing_names() -> None:
    gn = _inner().as_node().with_inputs(x="number")
    with pytest.raises(GraphflowError) as exc:
        gn.with_inputs(x="again")
    msg = str(exc.value)
    assert "number" in msg and "offset" in msg
    assert "'x' -> 'number'" in msg


# ------------------------------------------------------------------ map_over
def test_map_over_returns_a_mapped_copy() -> None:
    gn = _inner().as_node()
    mapped = gn.map_over("x")
    assert mapped is not gn
    assert isinstance(mapped, GraphNode)
    assert mapped.is_mapped is True
    assert gn.is_mapped is False
    assert mapped.inputs == gn.inputs
    assert mapped.outputs == gn.outputs


def test_mapped_graph_node_outputs_lists_when_run() -> None:
    mapped = _inner().as_node().map_over("x")
    out = SyncRunner().run(Graph([mapped]), {"x": [1, 2, 3]}, select=["total"])
    assert out == {"total": [2, 4, 6]}


def test_map_over_uses_renamed_input_names() -> None:
    gn = _inner().as_node().with_inputs(x="number")
    assert gn.map_over("number").is_mapped
    with pytest.raises(GraphConfigError, match="Did you mean 'number'"):
        gn.map_over("numbr")


def test_map_over_accepts_product_mode() -> None:
    assert _inner().as_node().map_over("x", "offset", mode="product").is_mapped


# ------------------------------------------------------------------ explicit runner
def test_explicit_runner_is_kept_and_defaults_to_none() -> None:
    runner = SyncRunner()
    assert _inner().as_node(runner=runner).explicit_runner is runner
    assert _inner().as_node().explicit_runner is None


def test_explicit_runner_survives_renamed_copies() -> None:
    runner = SyncRunner()
    gn = _inner().as_node(runner=runner).with_name("other").map_over("x")
    assert gn.explicit_runner is runner


# ------------------------------------------------------------------ definition_hash
def test_graph_node_hash_is_equal_for_equal_inner_graphs() -> None:
    assert _inner().as_node().definition_hash == _inner().as_node().definition_hash


def test_graph_node_hash_changes_when_inner_code_changes() -> None:
    before = Graph([double, add], name="inner").as_node()
    after = Graph([triple.with_name("double"), add], name="inner").as_node()
    assert before.definition_hash != after.definition_hash
    assert Graph([before]).definition_hash != Graph([after]).definition_hash


def test_graph_node_hash_changes_when_inner_wiring_changes() -> None:
    before = Graph([double, add], name="inner").as_node()
    after = Graph([double, add.with_outputs(total="sum")], name="inner").as_node()
    assert before.definition_hash != after.definition_hash


def test_graph_node_hash_changes_when_mapped() -> None:
    gn = _inner().as_node()
    assert gn.map_over("x").definition_hash != gn.definition_hash


# ------------------------------------------------------------------ InterruptNode
def test_interrupt_node_properties() -> None:
    ask = InterruptNode("approve", input_param="draft", response_param="decision")
    assert ask.name == "approve"
    assert ask.input_param == "draft"
    assert ask.response_param == "decision"
    assert ask.inputs == ("draft",)
    assert ask.outputs == ("decision",)
    assert ask.is_async is False
    h = ask.definition_hash
    assert h and set(h) <= set(string.hexdigits)


def test_interrupt_node_renames_follow_input_and_response_params() -> None:
    ask = InterruptNode("approve", "draft", "decision")
    renamed = ask.with_inputs(draft="text").with_outputs(decision="verdict")
    assert (renamed.input_param, renamed.response_param) == ("text", "verdict")
    assert (ask.input_param, ask.response_param) == ("draft", "decision")


def test_interrupt_node_hash_changes_with_its_params() -> None:
    one = InterruptNode("approve", "draft", "decision")
    two = InterruptNode("approve", "draft", "verdict")
    assert one.definition_hash != two.definition_hash


def test_interrupt_with_same_input_and_response_name_raises() -> None:
    with pytest.raises(GraphConfigError) as exc:
        InterruptNode("approve", "draft", "draft")
    msg = str(exc.value)
    assert "draft" in msg and "How to fix" in msg


@pytest.mark.parametrize(
    ("name", "input_param", "response_param"),
    [
        ("my-approve", "draft", "decision"),
        ("approve", "a.b", "decision"),
        ("approve", "draft", "x/y"),
        ("approve", "class", "decision"),
        ("approve", "draft", ""),
    ],
)
def test_interrupt_with_non_identifier_names_raises(
    name: str, input_param: str, response_param: str
) -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        InterruptNode(name, input_param, response_param)


def test_graph_with_interrupt_has_interrupts_but_graph_node_is_not_async() -> None:
    gn = _review().as_node()
    assert gn.graph.has_interrupts is True
    assert gn.is_async is False
