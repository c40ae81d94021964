"""Graph: nodes wired by name, checked when built, immutable."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from graphflow.exceptions import GraphConfigError, ImmutableGraphError, did_you_mean
from graphflow.graph.analysis import Structure
from graphflow.graph.gates import GateNode
from graphflow.graph.interrupt import InterruptNode
from graphflow.graph.nested import GraphNode
from graphflow.graph.nodes import BaseNode
from graphflow.graph.validation import check_nodes, check_structure

__all__ = ["Graph", "InputSpec"]


@dataclass(frozen=True)
class InputSpec:
    """The names a run of a graph takes.

    Attributes:
        required: names no node produces and some consumer has no default for.
        optional: names no node produces whose consumers all have defaults.
        seeds: names produced inside a cycle that the cycle's nodes also consume;
            a run must give at least one seed of each cycle.
        bound: values fixed with ``Graph.bind``.
    """

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()
    bound: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def all(self) -> tuple[str, ...]:
        """Every name a run may be given: required, optional, seeds and bound."""
        return tuple(dict.fromkeys((*self.required, *self.optional, *self.seeds, *self.bound)))


class Graph:
    """A set of nodes wired by name: every producer of ``x`` feeds every consumer of ``x``.

    Structural mistakes raise :class:`GraphConfigError` here, at construction.

    Args:
        nodes: the nodes, in the order SyncRunner runs ready nodes.
        name: the graph's name (used for spans, metrics and ``as_node``).
        strict_types: check that annotated outputs fit annotated inputs.

    Example:
        >>> graph = Graph([double, add_one], name="pipeline")
        >>> graph.inputs.required
        ('x',)
    """

    def __init__(
        self, nodes: Iterable[BaseNode], *, name: str | None = None, strict_types: bool = False
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise GraphConfigError(
                f"Graph name must be a non-empty str, got {name!r}.\n\n"
                f"How to fix: Graph([...], name='pipeline'), or leave name out."
            )
        checked = check_nodes(nodes, name)
        self.name = name
        self.strict_types = strict_types
        self._structure = Structure(checked)
        check_structure(self._structure, name, strict_types)
        self._bound: dict[str, Any] = {}
        #: per-graph cache for runners (compiled plans); private.
        self._runtime_cache: dict[Any, Any] = {}
        self._frozen = True

    # ------------------------------------------------------------------ structure
    @property
    def nodes(self) -> Mapping[str, BaseNode]:
        """Nodes by name, in the given order."""
        return MappingProxyType(self._structure.nodes)

    @property
    def structure(self) -> Structure:
        """Edges, cycles and reachability (for runners)."""
        return self._structure

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """Every produced name, in node order."""
        return tuple(dict.fromkeys(o for n in self._structure.nodes.values() for o in n.outputs))

    @cached_property
    def leaf_outputs(self) -> tuple[str, ...]:
        """Produced names that no node consumes."""
        return tuple(o for o in self.outputs if o not in self._structure.consumers)

    @cached_property
    def _unbound_inputs(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        s = self._structure
        required: list[str] = []
        optional: list[str] = []
        for value, cons in s.consumers.items():
            if value in s.producers:
                continue
            if all(value in s.nodes[c].optional_inputs for c in cons):
                optional.append(value)
            else:
                required.append(value)
        seeds = tuple(dict.fromkeys(v for _, ss in s.cycle_seeds for v in ss))
        return tuple(required), tuple(optional), seeds

    @property
    def inputs(self) -> InputSpec:
        """Required, optional, seed and bound input names."""
        required, optional, seeds = self._unbound_inputs
        bound = self._bound
        return InputSpec(
            required=tuple(n for n in required if n not in bound),
            optional=tuple(n for n in optional if n not in bound),
            seeds=tuple(n for n in seeds if n not in bound),
            bound=MappingProxyType(dict(bound)),
        )

    @cached_property
    def interrupt_responses(self) -> tuple[str, ...]:
        """Response params of every interrupt in this graph and nested graphs."""
        names: list[str] = []
        for n in self._structure.nodes.values():
            if isinstance(n, InterruptNode):
                names.append(n.response_param)
            elif isinstance(n, GraphNode):
                names.extend(n.answer_inputs)
        return tuple(dict.fromkeys(names))

    @cached_property
    def has_cycles(self) -> bool:
        """True when data or gate edges form a cycle."""
        return self._structure.has_cycles

    @cached_property
    def has_gates(self) -> bool:
        """True when the graph has a route or ifelse gate."""
        return any(isinstance(n, GateNode) for n in self._structure.nodes.values())

    @cached_property
    def has_async_nodes(self) -> bool:
        """True when one of this graph's own nodes is an async function or async gate."""
        return any(n.is_async for n in self._structure.nodes.values())

    @cached_property
    def has_interrupts(self) -> bool:
        """True when an InterruptNode is here or in a nested graph, at any depth."""
        for n in self._structure.nodes.values():
            if isinstance(n, InterruptNode):
                return True
            if isinstance(n, GraphNode) and n.graph.has_interrupts:
                return True
        return False

    @cached_property
    def nested_graphs(self) -> tuple[GraphNode, ...]:
        """The GraphNodes of this graph (each has ``.graph`` and ``.explicit_runner``)."""
        return tuple(n for n in self._structure.nodes.values() if isinstance(n, GraphNode))

    @cached_property
    def definition_hash(self) -> str:
        """Hash of every node's code and the wiring; stable across processes."""
        h = hashlib.sha256()
        for n in self._structure.nodes.values():
            targets = getattr(n, "targets", ())
            part = (
                f"{n.kind}|{n.name}|{n.definition_hash}|{','.join(n.inputs)}|"
                f"{','.join(n.outputs)}|{','.join(map(str, targets))}\n"
            )
            h.update(part.encode())
        return h.hexdigest()

    # ------------------------------------------------------------------ derived graphs
    def bind(self, **values: Any) -> Graph:
        """Return a copy where the given inputs have fixed values (inputs still win).

        Raises:
            GraphConfigError: a name that is not an input of this graph.
        """
        required, optional, seeds = self._unbound_inputs
        allowed = (*required, *optional, *seeds, *self._bound)
        for key in values:
            if key not in allowed:
                why = (
                    f"'{key}' is produced by node(s) {self._structure.producers[key]}; only "
                    f"graph inputs can be bound."
                    if key in self._structure.producers
                    else f"'{key}' is not an input.{did_you_mean(key, allowed)}"
                )
                raise GraphConfigError(
                    f"Cannot bind '{key}' on {self._label}: {why}\n\n"
                    f"Inputs: {', '.join(allowed) or '(none)'}.\n\n"
                    f"How to fix: bind one of the inputs, or pass the value in run(inputs=...)."
                )
        return self._with_bound({**self._bound, **values})

    def unbind(self, *names: str) -> Graph:
        """Return a copy without the bound values of ``names``."""
        for key in names:
            if key not in self._bound:
                raise GraphConfigError(
                    f"Cannot unbind '{key}' on {self._label}: it is not bound."
                    f"{did_you_mean(key, self._bound)}\n\n"
                    f"Bound: {', '.join(self._bound) or '(none)'}.\n\n"
                    f"How to fix: unbind one of the bound names."
                )
        return self._with_bound({k: v for k, v in self._bound.items() if k not in names})

    def _with_bound(self, bound: dict[str, Any]) -> Graph:
        clone = copy.copy(self)
        object.__setattr__(clone, "_bound", bound)
        object.__setattr__(clone, "_runtime_cache", {})
        return clone

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen"):
            raise ImmutableGraphError(
                f"Cannot set '{name}': a Graph is immutable once built.\n\n"
                f"How to fix: use graph.bind()/unbind(), or build a new Graph([...])."
            )
        object.__setattr__(self, name, value)

    def as_node(self, name: str | None = None, runner: Any = None) -> GraphNode:
        """Use this graph as one node of another graph.

        Args:
            name: the node's name (default: the graph's name).
            runner: a runner for this graph; checked for compatibility at once.
        """
        return GraphNode(self, name=name, runner=runner)

    @property
    def _label(self) -> str:
        return f"graph '{self.name}'" if self.name else "the graph"

    def __repr__(self) -> str:
        return f"Graph(name={self.name!r}, nodes={list(self._structure.nodes)})"
