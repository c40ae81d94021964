"""Static supersteps for DAGs: the scheduler's decisions, computed once and replayed.

In a graph without cycles, gates or interrupts, a run in which no produced name is given
as an input runs every node exactly once, and which nodes share a superstep depends only
on which input names are present. So the scheduler is simulated once per set of input
names (on placeholder values) and the resulting supersteps are replayed by every run and
map item with those names: no readiness bookkeeping per node (engine notes).
"""

from __future__ import annotations

from typing import Any

from graphflow.runners._nodes import Task
from graphflow.runners._plan import NodePlan, Plan
from graphflow.runners._sched import Schedule, VersionCounter

__all__ = ["Levels", "levels_for"]

Levels = tuple[tuple[NodePlan, ...], ...]
_MAX_CACHED = 64


def levels_for(plan: Plan, names: frozenset[str]) -> Levels | None:
    """The supersteps of a run given ``names``, or None when it must be scheduled live."""
    if not plan.static or not names.isdisjoint(plan.produced):
        return None
    cache: dict[frozenset[str], Levels] = plan.levels
    found = cache.get(names)
    if found is None:
        found = _simulate(plan, names)
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[names] = found
    return found


def _simulate(plan: Plan, names: frozenset[str]) -> Levels:
    values: dict[str, Any] = dict.fromkeys(names)
    sched = Schedule(plan, values, dict.fromkeys(names, 0), VersionCounter())
    sched.start()
    levels: list[tuple[NodePlan, ...]] = []
    while ready := sched.ready():
        batch = []
        for i in ready:
            task = Task(plan.nodes[i], {}, sched.snapshot(i))
            task.outputs = tuple((name, object()) for name in plan.nodes[i].outputs)
            batch.append(task)
        sched.commit(batch)
        levels.append(tuple(plan.nodes[i] for i in ready))
    return tuple(levels)
