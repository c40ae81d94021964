"""Structure of a list of nodes: edges, cycles, seeds, reachability. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from graphflow.graph.gates import GateNode
from graphflow.graph.nodes import BaseNode

__all__ = ["Structure"]


class Structure:
    """Edges and derived facts of a list of nodes, computed once per graph."""

    def __init__(self, nodes: Sequence[BaseNode]) -> None:
        self.nodes = {n.name: n for n in nodes}
        self.order = {n.name: i for i, n in enumerate(nodes)}
        producers: dict[str, list[str]] = {}
        consumers: dict[str, list[str]] = {}
        for n in nodes:
            for out in n.outputs:
                producers.setdefault(out, []).append(n.name)
            for inp in n.inputs:
                if inp not in n.answer_inputs:
                    consumers.setdefault(inp, []).append(n.name)
        self.producers = producers
        self.consumers = consumers
        data: dict[str, set[str]] = {n.name: set() for n in nodes}
        for value, prods in producers.items():
            for p in prods:
                data[p].update(consumers.get(value, ()))
        self.data_succ = data
        control: dict[str, set[str]] = {n.name: set() for n in nodes}
        for n in nodes:
            if isinstance(n, GateNode):
                control[n.name].update(t for t in n.node_targets if t in self.nodes)
        self.control_succ = control

    # ------------------------------------------------------------------ reachability
    def _reach(self, start: str, succ: dict[str, set[str]]) -> frozenset[str]:
        seen: set[str] = set()
        stack = list(succ[start])
        while stack:
            cur = stack.pop()
            if cur not in seen:
                seen.add(cur)
                stack.extend(succ[cur])
        return frozenset(seen)

    @cached_property
    def data_reach(self) -> dict[str, frozenset[str]]:
        """Nodes reachable from each node through data edges (itself only via a cycle)."""
        return {n: self._reach(n, self.data_succ) for n in self.nodes}

    @cached_property
    def any_reach(self) -> dict[str, frozenset[str]]:
        """Nodes reachable from each node through data and control edges."""
        both = {n: self.data_succ[n] | self.control_succ[n] for n in self.nodes}
        return {n: self._reach(n, both) for n in self.nodes}

    # ------------------------------------------------------------------ cycles
    @staticmethod
    def _sccs(succ: dict[str, set[str]], order: dict[str, int]) -> list[list[str]]:
        """Tarjan's algorithm, iterative; only components that are real cycles."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        result: list[list[str]] = []
        counter = 0
        for root in order:
            if root in index:
                continue
            work = [(root, iter(sorted(succ[root], key=order.__getitem__)))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                v, it = work[-1]
                advanced = False
                for w in it:
                    if w not in index:
                        index[w] = low[w] = counter
                        counter += 1
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(sorted(succ[w], key=order.__getitem__))))
                        advanced = True
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp: list[str] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in succ[v]:
                        result.append(sorted(comp, key=order.__getitem__))
        return result

    @cached_property
    def data_cycles(self) -> list[list[str]]:
        """Strongly connected components of the data edges that form cycles."""
        return self._sccs(self.data_succ, self.order)

    @cached_property
    def has_cycles(self) -> bool:
        """True when data or control edges form a cycle."""
        both = {n: self.data_succ[n] | self.control_succ[n] for n in self.nodes}
        return bool(self._sccs(both, self.order))

    @cached_property
    def cycle_seeds(self) -> list[tuple[list[str], tuple[str, ...]]]:
        """For each data cycle: its nodes and its seeds (names produced and consumed in it)."""
        out = []
        for comp in self.data_cycles:
            members = set(comp)
            seeds = []
            for node_name in comp:
                for value in self.nodes[node_name].outputs:
                    used = any(c in members for c in self.consumers.get(value, ()))
                    if used and value not in seeds:
                        seeds.append(value)
            out.append((comp, tuple(seeds)))
        return out

    @cached_property
    def seed_outputs(self) -> dict[str, frozenset[str]]:
        """For each node: its outputs that are seeds of a cycle it belongs to."""
        result: dict[str, frozenset[str]] = {n: frozenset() for n in self.nodes}
        for comp, seeds in self.cycle_seeds:
            for node_name in comp:
                mine = frozenset(s for s in seeds if s in self.nodes[node_name].outputs)
                result[node_name] = result[node_name] | mine
        return result

    # ------------------------------------------------------------------ gates
    def gates_of(self) -> dict[str, list[str]]:
        """For each node: the gates that target it."""
        result: dict[str, list[str]] = {}
        for gate, targets in self.control_succ.items():
            for t in targets:
                result.setdefault(t, []).append(gate)
        return result

    def exclusive(self, a: str, b: str) -> bool:
        """True when ``a`` and ``b`` sit on different branches of one gate."""
        for gate in self.nodes.values():
            if not isinstance(gate, GateNode):
                continue
            branches = []
            for t in gate.node_targets:
                if t in self.nodes:
                    branches.append(self.data_reach[t] | {t})
            in_a = [i for i, br in enumerate(branches) if a in br]
            in_b = [i for i, br in enumerate(branches) if b in br]
            if in_a and in_b and not set(in_a) & set(in_b):
                return True
        return False

    def ordered(self, a: str, b: str) -> bool:
        """True when one of the two nodes depends on the other."""
        return b in self.any_reach[a] or a in self.any_reach[b]
