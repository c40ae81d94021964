"""Readiness and state of one run: the scheduling core shared by every runner.

State is one mutable object per run (never copied per step). Readiness is incremental:
after a superstep only the nodes that ran, the consumers of values that changed, and the
targets of gates that decided are re-examined (core.md, "Execution").
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphflow.runners._plan import INTERRUPT, Plan

if TYPE_CHECKING:
    from graphflow.runners._nodes import Task

__all__ = ["END_DECISION", "MISSING", "Schedule", "VersionCounter", "same_value"]

MISSING: Any = object()
#: a gate's decision when it chose END (or None without fallback)
END_DECISION = -1


class VersionCounter:
    """Hands out increasing value versions; shared by a run and its nested graphs."""

    __slots__ = ("_count",)

    _lock = threading.Lock()  # for at_least only, which is rare: one lock for all counters

    def __init__(self, start: int = 1) -> None:
        self._count = itertools.count(start)

    def __next__(self) -> int:
        return next(self._count)

    def at_least(self, version: int) -> None:
        """Make every later version greater than ``version`` (after loading a checkpoint)."""
        with self._lock:
            current = next(self._count)
            self._count = itertools.count(max(current, version + 1))


def same_value(old: Any, new: Any) -> bool:
    """True when ``new`` leaves a value unchanged: same object, or ``==`` returning True."""
    if old is new:
        return True
    try:
        result = old == new
    except Exception:
        return False
    return result is True


class Schedule:
    """Values with versions, execution records, gate decisions, and the ready set."""

    __slots__ = (
        "answered",
        "candidates",
        "counter",
        "decisions",
        "nodes",
        "pending",
        "plan",
        "records",
        "values",
        "versions",
    )

    def __init__(
        self,
        plan: Plan,
        values: dict[str, Any],
        versions: dict[str, int],
        counter: VersionCounter,
    ) -> None:
        self.plan = plan
        self.nodes = plan.nodes
        self.values = values
        self.versions = versions
        self.counter = counter
        n = len(plan.nodes)
        #: per node: the versions of its `check` inputs when it last ran (None: never)
        self.records: list[tuple[int, ...] | None] = [None] * n
        #: per gate: the target index it chose last, END_DECISION, or None (undecided)
        self.decisions: list[int | None] = [None] * n
        #: per node: gates whose choice of it has not been used yet
        self.pending: dict[int, set[int]] = {}
        #: per interrupt: the version of the answer it passed on last
        self.answered: dict[int, int] = {}
        self.candidates: set[int] = set()

    def start(self, initial: frozenset[int] | None = None) -> None:
        """Compute the first candidates (``initial``: known already, e.g. per map call)."""
        if initial is not None:
            self.candidates = set(initial)
            return
        is_candidate = self.is_candidate
        self.candidates = {i for i in range(len(self.nodes)) if is_candidate(i)}

    def is_candidate(self, i: int) -> bool:
        """All inputs resolve, no gate blocks it, and it is stale."""
        np = self.nodes[i]
        values = self.values
        for name in np.needs:
            if name not in values:
                return False
        if np.gated_by:
            chosen = self.pending.get(i)
            if chosen:
                return True  # (c) a gate has just chosen it
            if self.records[i] is not None:
                return False  # after its first pass a gated node waits for a choice
            decisions = self.decisions
            for g in np.gated_by:
                if decisions[g] is not None or g not in np.first_ok:
                    return False
        rec = self.records[i]
        if rec is None:  # (b)
            if not np.outputs or np.seed_out:
                return True
            return any(o not in values for o in np.outputs)
        versions = self.versions  # (a)
        return any(versions.get(name, -1) != v for name, v in zip(np.check, rec, strict=True))

    def ready(self) -> list[int]:
        """Candidates not waiting on a candidate producer of one of their inputs, in order.

        A node waits while a producer of one of its inputs is a candidate, so it runs once,
        on the newer value (a gate also waits for the first pass of a target whose outputs
        it depends on). When every candidate waits — producers that share a data cycle
        waiting on each other — waiting would deadlock: then only producers that are not
        downstream of the node hold it (core.md, "No glitches").
        """
        cands = self.candidates
        if len(cands) <= 1:
            return list(cands)
        nodes = self.nodes
        out = [i for i in cands if not any(p in cands for p in nodes[i].strict_waits)]
        if not out:
            out = [i for i in cands if not any(p in cands for p in nodes[i].waits_on)]
        out.sort()
        return out

    def snapshot(self, i: int) -> tuple[int, ...]:
        """The versions node ``i`` consumes if it runs now."""
        get = self.versions.get
        return tuple([get(name, -1) for name in self.nodes[i].check])

    def apply(self, name: str, value: Any, changed: list[str]) -> None:
        """Store a produced value; bump its version only when it changed."""
        values = self.values
        old = values.get(name, MISSING)
        values[name] = value
        if old is MISSING or not same_value(old, value):
            self.versions[name] = next(self.counter)
            changed.append(name)

    def apply_versioned(
        self, outputs: Sequence[tuple[str, Any]], versions: dict[str, int], changed: list[str]
    ) -> None:
        """Store a nested graph's outputs with the versions they had inside it."""
        for name, value in outputs:
            version = versions.get(name)
            if version is None:
                self.apply(name, value, changed)
                continue
            self.values[name] = value
            if self.versions.get(name) != version:
                self.versions[name] = version
                changed.append(name)

    def commit(self, batch: Sequence[Task]) -> list[str]:
        """Apply one superstep: records, outputs, gate decisions, then re-examine.

        A node that ran is dropped from the candidates; it is re-examined only when
        something in this superstep touched it (an input changed, a gate chose it).
        """
        affected: set[int] = set()
        changed: list[str] = []
        records = self.records
        pending = self.pending
        cands = self.candidates
        apply = self.apply
        for task in batch:
            if task.paused:
                continue
            np = task.np
            i = np.idx
            records[i] = task.rec
            cands.discard(i)
            if pending:
                pending.pop(i, None)
            if task.versions is None:
                for name, value in task.outputs:
                    apply(name, value, changed)
            else:
                self.apply_versioned(task.outputs, task.versions, changed)
            if task.decision is not None:
                self.decide(i, task.decision, affected)
            elif np.code == INTERRUPT:
                self.answered[i] = self.versions.get(np.outputs[0], 0)
        consumers = self.plan.consumers
        for name in changed:
            affected.update(consumers.get(name, ()))
        if affected:
            self.reexamine(affected)
        return changed

    def decide(self, gate: int, decision: int, affected: set[int]) -> None:
        """Record a gate's decision: its chosen target may run once, the others wait."""
        self.decisions[gate] = decision
        for t in self.nodes[gate].targets:
            gates = self.pending.setdefault(t, set())
            if t == decision:
                gates.add(gate)
            else:
                gates.discard(gate)
            affected.add(t)

    def reexamine(self, affected: set[int]) -> None:
        """Recompute candidacy for ``affected`` nodes."""
        cands = self.candidates
        is_candidate = self.is_candidate
        for j in affected:
            if is_candidate(j):
                cands.add(j)
            else:
                cands.discard(j)
