"""A graph compiled once for execution: indices, wiring and gate facts per node.

Everything here is derived from the graph alone, so it is computed once per graph and
reused by every run and every map item (engine notes: "work repeated per node that
belongs per graph").
"""

from __future__ import annotations

from typing import Any

from graphflow.graph import GateNode, Graph, GraphNode, InterruptNode
from graphflow.graph.nodes import BaseNode, FunctionNode

__all__ = ["FUNC", "GATE", "GRAPH", "INTERRUPT", "NodePlan", "Plan", "plan_for"]

FUNC, GATE, INTERRUPT, GRAPH = 0, 1, 2, 3


class NodePlan:
    """What the scheduler and the drivers need to know about one node."""

    __slots__ = (
        "cache",
        "check",
        "code",
        "first_ok",
        "func",
        "gated_by",
        "identity",
        "idx",
        "is_async",
        "is_gen",
        "kind",
        "name",
        "needs",
        "node",
        "opt",
        "out_map",
        "outputs",
        "req",
        "seed_out",
        "simple",
        "strict_waits",
        "targets",
        "waits_on",
    )

    def __init__(self, idx: int, node: BaseNode) -> None:
        self.idx = idx
        self.node = node
        self.name = node.name
        self.kind = node.kind
        self.outputs = node.outputs
        self.is_async = node.is_async
        self.is_gen = node.is_generator
        self.cache = node.cache
        self.func: Any = getattr(node, "func", None)
        if isinstance(node, GateNode):
            self.code = GATE
        elif isinstance(node, InterruptNode):
            self.code = INTERRUPT
        elif isinstance(node, GraphNode):
            self.code = GRAPH
        else:
            self.code = FUNC
        param_of = node.param_of if isinstance(node, FunctionNode) else {}
        self.identity = all(param_of.get(i, i) == i for i in node.inputs)
        # (out name, inner name) for GraphNodes
        self.out_map: tuple[tuple[str, str], ...] = (
            tuple(node.inner_output.items()) if isinstance(node, GraphNode) else ()
        )
        self.req: tuple[tuple[str, str], ...] = ()
        self.opt: tuple[tuple[str, str], ...] = ()
        self.needs: tuple[str, ...] = ()
        self.check: tuple[str, ...] = tuple(i for i in node.inputs if i not in node.outputs)
        self.gated_by: tuple[int, ...] = ()
        self.first_ok: frozenset[int] = frozenset()
        self.waits_on: tuple[int, ...] = ()
        self.strict_waits: tuple[int, ...] = ()
        self.targets: tuple[int, ...] = ()
        self.seed_out = False
        #: a plain function with one output and no cache: drivers call it inline
        self.simple = (
            self.code == FUNC and not self.is_gen and not self.cache and (len(self.outputs) == 1)
        )


class Plan:
    """The compiled form of a graph."""

    def __init__(self, graph: Graph) -> None:
        s = graph.structure
        self.graph = graph
        self.name = graph.name
        names = list(s.nodes)
        index = {n: i for i, n in enumerate(names)}
        self.nodes = [NodePlan(i, s.nodes[n]) for i, n in enumerate(names)]
        self.index = index
        self.produced = frozenset(s.producers)
        gates_of = s.gates_of()
        for np in self.nodes:
            node = np.node
            param_of: dict[str, str] = getattr(node, "param_of", {})
            req, opt, needs = [], [], []
            for inp in node.inputs:
                pair = (inp, param_of.get(inp, inp))
                produced = inp in s.producers and inp not in node.answer_inputs
                if produced:
                    needs.append(inp)
                if produced or inp not in node.optional_inputs:
                    req.append(pair)
                else:
                    opt.append(pair)
            np.req, np.opt, np.needs = tuple(req), tuple(opt), tuple(needs)
            # An interrupt (or a graph holding one) runs once even when its answer is already
            # given: it passes the answer on and gets a record, so it asks again when its
            # input changes (core.md, InterruptNode).
            asks = isinstance(node, InterruptNode) or (
                isinstance(node, GraphNode) and node.graph.has_interrupts
            )
            np.seed_out = asks or bool(s.seed_outputs[np.name])
            gates = gates_of.get(np.name, [])
            np.gated_by = tuple(index[g] for g in gates)
            # a gate that depends on the target's own outputs lets it run first
            np.first_ok = frozenset(index[g] for g in gates if g in s.data_reach[np.name])
            reach = s.data_reach[np.name]
            producers = {p for inp in np.needs for p in s.producers.get(inp, ()) if p != np.name}
            if isinstance(node, GateNode):
                np.targets = tuple(index[t] for t in node.node_targets)
                # a gate that depends on a target's outputs waits for that target's first pass
                producers.update(t for t in node.node_targets if np.name in s.data_reach[t])
            np.strict_waits = tuple(sorted(index[p] for p in producers))
            np.waits_on = tuple(sorted(index[p] for p in producers if p not in reach))
        #: value name -> nodes to re-examine when it changes
        self.consumers: dict[str, tuple[int, ...]] = {
            v: tuple(index[c] for c in cs) for v, cs in s.consumers.items()
        }
        spec = graph.inputs
        self.required = spec.required
        self.bound = dict(spec.bound)
        self.accepts = frozenset((*spec.all, *s.producers, *graph.interrupt_responses))
        #: for each data cycle: (its seeds, seeds also produced outside it)
        self.cycles: list[tuple[list[str], tuple[str, ...], bool]] = []
        for comp, seeds in s.cycle_seeds:
            members = set(comp)
            fed = any(p not in members for seed in seeds for p in s.producers.get(seed, ()))
            self.cycles.append((comp, seeds, fed))
        self.needed_by: dict[str, list[str]] = {v: list(cs) for v, cs in s.consumers.items()}
        self.default_select = graph.leaf_outputs or graph.outputs
        #: a DAG without gates or interrupts (nested graphs too): supersteps can be replayed
        self.static: bool = not (
            graph.has_cycles or graph.has_gates or graph.has_interrupts
        ) and all(plan_for(gn.graph).static for gn in graph.nested_graphs)
        #: input names -> supersteps (see _static.py)
        self.levels: dict[frozenset[str], Any] = {}
        self.outputs = frozenset(graph.outputs)


def plan_for(graph: Graph) -> Plan:
    """Return the graph's compiled plan, compiling it on first use."""
    cache = graph._runtime_cache
    plan = cache.get("plan")
    if plan is None:
        plan = cache["plan"] = Plan(graph)
    return plan
