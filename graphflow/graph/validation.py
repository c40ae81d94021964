"""Build-time checks of a graph. Every failure is a GraphConfigError that says how to fix it."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphflow.exceptions import GraphConfigError, did_you_mean
from graphflow.graph.analysis import Structure
from graphflow.graph.gates import GateNode
from graphflow.graph.nested import GraphNode
from graphflow.graph.nodes import BaseNode

if TYPE_CHECKING:
    from graphflow.graph.graph import Graph

__all__ = ["check_nodes", "check_structure", "validate_map_compatible"]


def validate_map_compatible(graph: Graph, context: str) -> None:
    """Raise :class:`GraphConfigError` when ``graph`` has interrupts (map cannot pause).

    Args:
        graph: the graph to check.
        context: what is being attempted, for the message.
    """
    if graph.has_interrupts:
        raise GraphConfigError(
            f"{context}, but the graph contains interrupts.\n\n"
            f"The problem: map runs the graph multiple times in batch,\n"
            f"but interrupts pause for human input - these don't mix.\n\n"
            f"How to fix:\n"
            f"  Use runner.run() in a loop instead of map:\n"
            f"    for item in items:\n"
            f"        result = runner.run(graph, inputs={{...item...}})\n"
            f"        if result.pause:\n"
            f"            # Handle interrupt\n"
        )


def check_nodes(nodes: object, graph_name: str | None) -> list[BaseNode]:
    """Check the node list itself: types and unique names."""
    label = f"Graph '{graph_name}'" if graph_name else "Graph"
    if isinstance(nodes, BaseNode) or not isinstance(nodes, Iterable) or isinstance(nodes, str):
        raise GraphConfigError(
            f"{label} takes a list of nodes, got {type(nodes).__name__}.\n\n"
            f"How to fix: Graph([node_a, node_b], name='pipeline')."
        )
    result: list[BaseNode] = []
    for item in list(nodes):
        if isinstance(item, BaseNode):
            result.append(item)
            continue
        if callable(item):
            fname = getattr(item, "__name__", repr(item))
            raise GraphConfigError(
                f"{label} got the plain function '{fname}', not a node.\n\n"
                f"How to fix: decorate it with @node(output_name='...') (or @route/@ifelse "
                f"for a gate), or wrap it: node({fname}, output_name='...')."
            )
        raise GraphConfigError(
            f"{label} got {item!r} of type {type(item).__name__}, which is not a node.\n\n"
            f"How to fix: pass nodes made with @node, @route, @ifelse, InterruptNode, or "
            f"graph.as_node()."
        )
    seen: dict[str, BaseNode] = {}
    for n in result:
        if n.name in seen:
            raise GraphConfigError(
                f"{label} has two nodes named '{n.name}': {seen[n.name]!r} and {n!r}.\n\n"
                f"How to fix: rename one, e.g. {n.name}.with_name('{n.name}_2')."
            )
        seen[n.name] = n
    return result


def check_structure(s: Structure, graph_name: str | None, strict_types: bool) -> None:
    """Check gate targets, producers of one name, mapped nested graphs and types."""
    label = f"graph '{graph_name}'" if graph_name else "the graph"
    for n in s.nodes.values():
        if isinstance(n, GateNode):
            for t in n.node_targets:
                if t not in s.nodes:
                    raise GraphConfigError(
                        f"Gate '{n.name}' targets '{t}', which is not a node of {label}."
                        f"{did_you_mean(t, s.nodes)}\n\nNodes: {', '.join(s.nodes)}.\n\n"
                        f"How to fix: add the node '{t}' to the graph, or fix the target "
                        f"name (END stops the path)."
                    )
        if isinstance(n, GraphNode) and n.is_mapped:
            validate_map_compatible(n.graph, f"GraphNode '{n.name}' uses map_over")
    for value, prods in s.producers.items():
        for i, a in enumerate(prods):
            for b in prods[i + 1 :]:
                if not (s.ordered(a, b) or s.exclusive(a, b)):
                    raise GraphConfigError(
                        f"Nodes '{a}' and '{b}' both produce '{value}' in {label}.\n\n"
                        f"The problem: they are not on exclusive branches of one gate and "
                        f"neither depends on the other, so both could run at once and "
                        f"'{value}' would be ambiguous.\n\n"
                        f"How to fix: rename one output (.with_outputs({value}='...')), or "
                        f"put the two nodes behind one @route/@ifelse."
                    )
    if strict_types:
        _check_types(s, label)


def _check_types(s: Structure, label: str) -> None:
    for value, prods in s.producers.items():
        for p in prods:
            out_t = s.nodes[p].output_type(value)
            if out_t is None:
                continue
            for c in s.consumers.get(value, ()):
                in_t = s.nodes[c].input_type(value)
                if in_t is not None and not types_compatible(out_t, in_t):
                    raise GraphConfigError(
                        f"Type mismatch on '{value}' in {label}: node '{p}' outputs "
                        f"{_show(out_t)} but node '{c}' expects {_show(in_t)}.\n\n"
                        f"How to fix: change one annotation, convert the value in a node "
                        f"between them, or build the graph with strict_types=False."
                    )


def _show(t: Any) -> str:
    return getattr(t, "__name__", None) or repr(t)


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) in (typing.Union, types.UnionType)


def types_compatible(out_t: Any, in_t: Any) -> bool:
    """True when a value annotated ``out_t`` may flow into a parameter annotated ``in_t``."""
    if in_t is Any or out_t is Any or out_t == in_t or in_t is object:
        return True
    if _is_union(out_t):
        return all(types_compatible(m, in_t) for m in typing.get_args(out_t))
    if _is_union(in_t):
        return any(types_compatible(out_t, m) for m in typing.get_args(in_t))
    o_origin, i_origin = typing.get_origin(out_t), typing.get_origin(in_t)
    if o_origin is not None or i_origin is not None:
        o_cls = o_origin or out_t
        i_cls = i_origin or in_t
        if not (isinstance(o_cls, type) and isinstance(i_cls, type) and issubclass(o_cls, i_cls)):
            return False
        i_args = typing.get_args(in_t)
        return not i_args or typing.get_args(out_t) == i_args
    if isinstance(out_t, type) and isinstance(in_t, type):
        return issubclass(out_t, in_t)
    return False
