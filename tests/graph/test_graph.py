"""Graph: derived properties, definition hash, bind/unbind, immutability."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphflow import (
    END,
    Graph,
    GraphConfigError,
    GraphNode,
    InputSpec,
    InterruptNode,
    SyncRunner,
    ifelse,
    node,
    route,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="total")
def add(doubled: int, offset: int = 0) -> int:
    return doubled + offset


@node(output_name="report")
def describe(total: int, doubled: int) -> str:
    return f"{doubled}->{total}"


@node(output_name="count")
def increment(count: int, step: int = 1) -> int:
    return count + step


@node(output_name="y")
def produce(x: int) -> int:
    return x + 1


@route(targets=["produce", END])
def again(y: int) -> str:
    return "produce" if y < 3 else END


@node(output_name="slow")
async def fetch(x: int) -> int:
    return x


def _interrupt_graph(name: str = "review") -> Graph:
    return Graph([InterruptNode("approve", "draft", "decision")], name=name)


# ------------------------------------------------------------------ nodes, inputs, outputs
def test_nodes_keep_the_given_order() -> None:
    g = Graph([describe, add, double])
    assert list(g.nodes) == ["describe", "add", "double"]
    assert g.nodes["add"] is add


def test_name_defaults_to_none_and_is_kept() -> None:
    assert Graph([double]).name is None
    assert Graph([double], name="pipeline").name == "pipeline"


def test_inputs_split_required_and_optional() -> None:
    spec = Graph([double, add]).inputs
    assert isinstance(spec, InputSpec)
    assert spec.required == ("x",)
    assert spec.optional == ("offset",)
    assert spec.seeds == ()
    assert dict(spec.bound) == {}
    assert set(spec.all) == {"x", "offset"}


def test_name_is_required_when_any_consumer_lacks_a_default() -> None:
    @node(output_name="z")
    def needs_offset(offset: int) -> int:
        return offset

    spec = Graph([double, add, needs_offset]).inputs
    assert "offset" in spec.required
    assert "offset" not in spec.optional


def test_produced_names_are_not_inputs() -> None:
    spec = Graph([double, add]).inputs
    assert "doubled" not in spec.all


def test_seeds_are_names_produced_and_consumed_inside_a_data_cycle() -> None:
    g = Graph([increment])
    assert g.inputs.seeds == ("count",)
    assert "count" not in g.inputs.required
    assert g.inputs.optional == ("step",)
    assert "count" in g.inputs.all


def test_outputs_are_all_produced_names_in_node_order() -> None:
    assert Graph([describe, double, add]).outputs == ("report", "doubled", "total")


def test_leaf_outputs_are_produced_names_nobody_consumes() -> None:
    g = Graph([double, add, describe])
    assert g.leaf_outputs == ("report",)


# ------------------------------------------------------------------ feature flags
def test_dag_has_no_cycles_or_gates() -> None:
    g = Graph([double, add])
    assert (g.has_cycles, g.has_gates, g.has_async_nodes, g.has_interrupts) == (
        False,
        False,
        False,
        False,
    )


def test_data_cycle_is_detected() -> None:
    assert Graph([increment]).has_cycles is True


def test_cycle_made_by_a_gate_is_detected_without_seeds() -> None:
    g = Graph([produce, again])
    assert g.has_cycles is True
    assert g.has_gates is True
    assert g.inputs.seeds == ()
    assert g.inputs.required == ("x",)


def test_gate_to_downstream_node_makes_no_cycle() -> None:
    @ifelse(when_true="add", when_false=END)
    def positive(doubled: int) -> bool:
        return doubled > 0

    g = Graph([double, positive, add])
    assert g.has_gates is True
    assert g.has_cycles is False


def test_async_node_or_async_gate_makes_graph_async() -> None:
    @ifelse(when_true="double", when_false=END)
    async def check(x: int) -> bool:
        return True

    assert Graph([fetch]).has_async_nodes is True
    assert Graph([check, double]).has_async_nodes is True


def test_async_node_inside_nested_graph_does_not_make_parent_async() -> None:
    inner = Graph([fetch], name="inner")
    outer = Graph([inner.as_node(), double])
    assert inner.has_async_nodes is True
    assert outer.has_async_nodes is False


def test_interrupts_count_at_any_nesting_depth() -> None:
    level2 = _interrupt_graph("level2")
    level1 = Graph([level2.as_node()], name="level1")
    top = Graph([level1.as_node(), double])
    assert level2.has_interrupts is True
    assert level1.has_interrupts is True
    assert top.has_interrupts is True


def test_nested_graphs_expose_graph_and_explicit_runner() -> None:
    inner = Graph([double], name="inner")
    runner = SyncRunner()
    other = Graph([describe], name="other")
    outer = Graph([inner.as_node(runner=runner), add, other.as_node()])
    items = list(outer.nested_graphs)
    assert [type(i) for i in items] == [GraphNode, GraphNode]
    assert [i.graph for i in items] == [inner, other]
    assert items[0].explicit_runner is runner
    assert items[1].explicit_runner is None


# ------------------------------------------------------------------ definition_hash
_MODULE = """
from graphflow import Graph, node

@node(output_name="y")
def first(x):
    return x {op} 1

@node(output_name="{out}")
def second(y):
    return y * 2

graph = Graph([first, second], name="g")
"""


def _graph_hash(tmp_path: Path, seed: str, op: str = "+", out: str = "z") -> str:
    (tmp_path / "gf_graph_hash_mod.py").write_text(textwrap.dedent(_MODULE.format(op=op, out=out)))
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}/work/main", "PYTHONHASHSEED": seed}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", "import gf_graph_hash_mod as m; print(m.graph.definition_hash)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    return proc.stdout.strip()


def test_definition_hash_is_stable_across_processes(tmp_path: Path) -> None:
    first = _graph_hash(tmp_path, "1")
    assert first and first == _graph_hash(tmp_path, "2")


def test_definition_hash_changes_when_node_code_changes(tmp_path: Path) -> None:
    assert _graph_hash(tmp_path, "1", op="+") != _graph_hash(tmp_path, "1", op="-")


def test_definition_hash_changes_when_wiring_changes(tmp_path: Path) -> None:
    assert _graph_hash(tmp_path, "1", out="z") != _graph_hash(tmp_path, "1", out="w")


def test_definition_hash_changes_when_an_output_is_renamed_in_process() -> None:
    base = Graph([double, add])
    renamed = Graph([double, add.with_outputs(total="sum")])
    assert base.definition_hash == Graph([double, add]).definition_hash
    assert base.definition_hash != renamed.definition_hash


def test_definition_hash_changes_when_a_gate_target_changes() -> None:
    @ifelse(when_true="add", when_false=END)
    def gate(doubled: int) -> bool:
        return True

    @ifelse(when_true=END, when_false="add")
    def gate2(doubled: int) -> bool:
        return True

    one = Graph([double, gate, add])
    two = Graph([double, gate2.with_name("gate"), add])
    assert one.definition_hash != two.definition_hash


# ------------------------------------------------------------------ bind / unbind
def test_bind_returns_new_graph_and_leaves_original_untouched() -> None:
    g = Graph([double, add])
    bound = g.bind(x=3)
    assert bound is not g
    assert dict(bound.inputs.bound) == {"x": 3}
    assert "x" not in bound.inputs.required
    assert "x" in bound.inputs.all
    assert dict(g.inputs.bound) == {}
    assert g.inputs.required == ("x",)


def test_bound_value_is_used_by_a_run() -> None:
    g = Graph([double, add]).bind(x=4, offset=1)
    assert SyncRunner().run(g, {})["total"] == 9


def test_bind_a_seed_of_a_cycle_is_allowed() -> None:
    g = Graph([increment]).bind(count=0)
    assert dict(g.inputs.bound) == {"count": 0}
    assert g.inputs.seeds == ()


def test_unbind_returns_new_graph_and_leaves_original_untouched() -> None:
    bound = Graph([double, add]).bind(x=3, offset=2)
    unbound = bound.unbind("x")
    assert unbound is not bound
    assert dict(unbound.inputs.bound) == {"offset": 2}
    assert unbound.inputs.required == ("x",)
    assert dict(bound.inputs.bound) == {"x": 3, "offset": 2}


def test_bind_unknown_name_raises_with_did_you_mean() -> None:
    with pytest.raises(GraphConfigError) as exc:
        Graph([double, add]).bind(ofset=1)
    msg = str(exc.value)
    assert "ofset" in msg
    assert "Did you mean 'offset'" in msg
    assert "How to fix" in msg


def test_bind_produced_name_raises_naming_the_producer() -> None:
    with pytest.raises(GraphConfigError) as exc:
        Graph([double, add]).bind(doubled=1)
    msg = str(exc.value)
    assert "doubled" in msg and "double" in msg
    assert "How to fix" in msg


def test_unbind_name_that_is_not_bound_raises_with_did_you_mean() -> None:
    g = Graph([double, add]).bind(offset=1)
    with pytest.raises(GraphConfigError) as exc:
        g.unbind("ofset")
    msg = str(exc.value)
    assert "Did you mean 'offset'" in msg
    assert "How to fix" in msg


# ------------------------------------------------------------------ immutability
def test_nodes_mapping_is_read_only() -> None:
    g = Graph([double, add])
    with pytest.raises(TypeError):
        g.nodes["extra"] = describe  # type: ignore[index]
    with pytest.raises(TypeError):
        del g.nodes["double"]  # type: ignore[attr-defined]
    assert list(g.nodes) == ["double", "add"]


def test_nodes_list_passed_in_can_change_without_changing_the_graph() -> None:
    given = [double, add]
    g = Graph(given)
    given.append(describe)
    assert list(g.nodes) == ["double", "add"]


def test_graph_has_no_public_mutators() -> None:
    public = {a for a in dir(Graph) if not a.startswith("_")}
    mutators = {a for a in public if a.startswith(("set", "add", "remove", "update", "append"))}
    assert mutators == set()


@pytest.mark.parametrize(
    "attr", ["nodes", "inputs", "outputs", "leaf_outputs", "has_cycles", "definition_hash"]
)
def test_derived_properties_cannot_be_assigned(attr: str) -> None:
    g = Graph([double, add])
    with pytest.raises(AttributeError):
        setattr(g, attr, {})


@pytest.mark.parametrize(("attr", "value"), [("name", "renamed"), ("strict_types", True)])
def test_graph_attributes_cannot_be_reassigned(attr: str, value: object) -> None:
    g = Graph([double, add], name="pipeline")
    with pytest.raises(AttributeError):
        setattr(g, attr, value)


def test_input_spec_bound_is_read_only() -> None:
    spec = Graph([double, add]).bind(x=1).inputs
    with pytest.raises(TypeError):
        spec.bound["x"] = 2  # type: ignore[index]


def test_input_spec_is_frozen() -> None:
    import dataclasses

    spec = Graph([double, add]).inputs
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.required = ()  # type: ignore[misc]
