"""Running a GraphNode's inner graph: the parts every driver shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphflow.events import EventDispatcher
from graphflow.graph import GraphNode
from graphflow.runners._engine import Run, Task
from graphflow.runners._mapping import map_values
from graphflow.runners._plan import plan_for

if TYPE_CHECKING:
    from graphflow.runners.base import BaseRunner

__all__ = ["child_runs", "merge_items"]


def _dispatcher(run: Run, runner: BaseRunner | None, async_mode: bool) -> EventDispatcher | None:
    """The parent's processors, plus the explicit runner's own (core.md: both get events)."""
    own = getattr(runner, "_processors", None) if runner is not None else None
    if not own:
        return run.events
    if run.events is not None:
        return run.events.extended(own)
    return EventDispatcher(own, async_mode=async_mode)


def child_runs(run: Run, task: Task, async_mode: bool) -> list[Run]:
    """One child run for a GraphNode, or one per item for a mapped GraphNode."""
    gn: GraphNode = task.np.node  # type: ignore[assignment]  # GRAPH tasks hold GraphNodes
    runner = gn.explicit_runner
    plan = plan_for(gn.graph)
    versions = run.sched.versions
    inner = gn.inner_input
    named = run.inputs_of(task)
    values = {inner[k]: v for k, v in named.items()}
    vers = {inner[k]: versions.get(k, 0) for k in named}
    dispatcher = _dispatcher(run, runner, async_mode)
    cache = getattr(runner, "_cache", None) or run.cache
    if not gn.map_params:
        return [run.child(plan, task, values, vers, dispatcher, cache)]
    mapped = tuple(inner[p] for p in gn.map_params)
    children = []
    for item in map_values(mapped, values, gn.map_mode):
        item_values = dict(values)
        item_values.update(zip(mapped, item, strict=True))
        children.append(run.child(plan, task, item_values, dict(vers), dispatcher, cache))
    return children


def merge_items(task: Task, children: list[Run]) -> dict[str, Any]:
    """A GraphNode's raw value: the child's outputs, or lists of them when mapped.

    An unmapped child's outputs keep the versions they had inside (core.md: values pass in
    and out with their versions), recorded on the task for the parent's commit.
    """
    gn: GraphNode = task.np.node  # type: ignore[assignment]  # GRAPH tasks hold GraphNodes
    if not gn.map_params:
        child = children[0]
        versions = child.sched.versions
        task.versions = {
            outer: versions[inner] for outer, inner in task.np.out_map if inner in versions
        }
        return child.produced()
    results = [c.produced() for c in children]
    return {name: [r.get(name) for r in results] for name in gn.graph.outputs}
