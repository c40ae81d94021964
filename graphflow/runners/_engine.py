"""The run: the shared scheduling core every runner drives.

Drivers (sync.py, async_.py) only call node functions; everything else — choosing the
next superstep, run events, applying results — lives here and in ``_nodes.py`` (events,
caching, outputs, gate decisions, errors per node), once. With no processors no event is
built; with no cache no key is computed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphflow.cache import Cache
from graphflow.events import EventDispatcher, RunEndEvent, RunStartEvent, RunStatus
from graphflow.exceptions import ConflictError, InfiniteLoopError
from graphflow.runners._ids import new_span_id
from graphflow.runners._inputs import check_missing
from graphflow.runners._nodes import NodeSteps, Task
from graphflow.runners._plan import NodePlan, Plan
from graphflow.runners._sched import END_DECISION, Schedule, VersionCounter
from graphflow.runners._static import levels_for

if TYPE_CHECKING:
    from graphflow.checkpointers import Checkpoint

__all__ = ["Run", "Task"]

_perf = time.perf_counter
_now = time.time


class Run(NodeSteps):
    """One execution of one graph (a top-level run, a map item, or a nested graph)."""

    def __init__(
        self,
        plan: Plan,
        values: dict[str, Any],
        versions: dict[str, int],
        *,
        counter: VersionCounter,
        dispatcher: EventDispatcher | None,
        cache: Cache | None,
        max_iterations: int | None,
        run_id: str,
        parent_span: str | None,
        path: str,
        graph_name: str | None,
        handlers: Mapping[str, Any] | None = None,
        checked: bool = False,
        initial: frozenset[int] | None = None,
        persist: bool = False,
    ) -> None:
        if not checked:
            check_missing(plan, values)
        self.plan = plan
        self.sched = Schedule(plan, values, versions, counter)
        self.counter = counter
        self.events = dispatcher if dispatcher is not None and dispatcher.active else None
        self.cache = cache
        self.max_iterations = max_iterations
        self.run_id = run_id
        #: parent of this run's node events: None at top level, the GraphNode's span inside
        self.parent_span = parent_span
        #: parent of this run's own events (a map item's run: the map span)
        self.run_parent: str | None = None
        self.path = path
        self.graph_name = graph_name
        self.handlers = handlers or {}
        self.iterations = 0
        self.span: str | None = None
        self.t0 = 0.0
        self.paused: Any = None
        self.workflow_id: str | None = None
        #: the RunHandle of an ``iter()`` call, which answers interrupts live
        self.handle: Any = None
        #: where supersteps are saved (AsyncRunner with a checkpointer and workflow_id)
        self.persist: Any = None
        #: replayable supersteps of a DAG (None: schedule live)
        static = plan.static and not persist
        self.levels = levels_for(plan, frozenset(values)) if static else None
        if self.levels is None:
            self.sched.start(initial)

    def restore(self, state: Checkpoint, pending: Mapping[str, set[str]]) -> None:
        """Take execution records, gate decisions and answers from a checkpoint.

        Called right after construction for a persisted run; afterwards the run is
        scheduled live (records must be kept for saving), never replayed.
        """
        sched = self.sched
        index = self.plan.index
        nodes = self.plan.nodes
        for name, consumed in state.records.items():
            i = index.get(name)
            if i is not None:
                sched.records[i] = tuple(consumed.get(n, -1) for n in nodes[i].check)
        for gate, target in state.decisions.items():
            i = index.get(gate)
            if i is not None:
                sched.decisions[i] = END_DECISION if target == "END" else index.get(target)
        for name, version in state.answered.items():
            i = index.get(name)
            if i is not None:
                sched.answered[i] = version
        for target, gates in pending.items():
            t = index.get(target)
            if t is not None:
                sched.pending[t] = {index[g] for g in gates if g in index}
        self.levels = None
        sched.start()

    check_missing = staticmethod(check_missing)

    @classmethod
    def top(
        cls,
        plan: Plan,
        inputs: Mapping[str, Any],
        *,
        dispatcher: EventDispatcher | None,
        cache: Cache | None,
        max_iterations: int | None,
        run_id: str,
        parent_span: str | None = None,
        handlers: Mapping[str, Any] | None = None,
        checked: bool = False,
        initial: frozenset[int] | None = None,
        state: Checkpoint | None = None,
    ) -> Run:
        """A top-level run from user inputs (bound values underneath, inputs win).

        ``state`` is a workflow's checkpoint: its values lie between the bound values and
        the inputs, and inputs get versions newer than anything in it.
        """
        values = dict(plan.bound)
        versions = dict.fromkeys(values, 0)
        counter = VersionCounter()
        if state is not None:
            values.update(state.values)
            versions.update(state.versions)
            counter.at_least(state.max_version)
        for key, value in inputs.items():
            values[key] = value
            versions[key] = next(counter)
        return cls(
            plan,
            values,
            versions,
            counter=counter,
            dispatcher=dispatcher,
            cache=cache,
            max_iterations=max_iterations,
            run_id=run_id,
            parent_span=None,
            path="",
            graph_name=plan.name,
            handlers=handlers,
            checked=checked,
            initial=initial,
            persist=state is not None,
        )._parented(parent_span)

    def _parented(self, run_parent: str | None) -> Run:
        self.run_parent = run_parent
        return self

    def child(
        self,
        plan: Plan,
        task: Task,
        values: dict[str, Any],
        versions: dict[str, int],
        dispatcher: EventDispatcher | None,
        cache: Cache | None,
    ) -> Run:
        """The run of a nested graph inside node ``task`` (same run id, same versions)."""
        for key, value in plan.bound.items():
            if key not in values:
                values[key] = value
                versions[key] = 0
        return Run(
            plan,
            values,
            versions,
            counter=self.counter,
            dispatcher=dispatcher,
            cache=cache,
            max_iterations=self.max_iterations,
            run_id=self.run_id,
            parent_span=task.span,
            path=self.node_path(task.np) + "/",
            graph_name=self.graph_name,
            handlers=self.handlers,
        )._inherit(self)

    def _inherit(self, parent: Run) -> Run:
        self.workflow_id = parent.workflow_id
        self.handle = parent.handle
        return self

    # ------------------------------------------------------------------ run events
    def start_event(
        self,
        session_id: str | None,
        runner: str,
        inputs: Mapping[str, Any],
        item_index: int | None = None,
        workflow_id: str | None = None,
    ) -> None:
        """Emit RunStartEvent (top-level runs and map items only)."""
        self.t0 = _perf()
        if self.events is not None:
            self.span = new_span_id()
            self.events.emit(
                RunStartEvent(
                    self.run_id,
                    self.span,
                    self.run_parent,
                    session_id,
                    dict(inputs),
                    _now(),
                    graph_name=self.graph_name,
                    runner=runner,
                    workflow_id=workflow_id,
                    item_index=item_index,
                )
            )

    def end_event(
        self, outputs: dict[str, Any], status: RunStatus, error: BaseException | None = None
    ) -> None:
        """Emit RunEndEvent."""
        if self.events is not None and self.span is not None:
            self.events.emit(
                RunEndEvent(
                    self.run_id,
                    self.span,
                    self.run_parent,
                    outputs,
                    (_perf() - self.t0) * 1000.0,
                    self.iterations,
                    _now(),
                    status=status,
                    error=error,
                )
            )

    def select(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The selected outputs that have values."""
        values = self.sched.values
        return {n: values[n] for n in names if n in values}

    def produced(self) -> dict[str, Any]:
        """Every produced value of this run (a nested graph's outputs)."""
        values = self.sched.values
        return {n: values[n] for n in self.plan.graph.outputs if n in values}

    # ------------------------------------------------------------------ supersteps
    def count_iteration(self, ready: Sequence[NodePlan]) -> None:
        """Count one superstep; raise InfiniteLoopError past ``max_iterations``."""
        self.iterations += 1
        if self.max_iterations is not None and self.iterations > self.max_iterations:
            self.iterations -= 1
            label = f"graph '{self.plan.name}'" if self.plan.name else "the graph"
            raise InfiniteLoopError(
                f"{label} did not finish within max_iterations={self.max_iterations} "
                f"supersteps; still ready: {', '.join(np.name for np in ready)}.\n\n"
                f"How to fix: check the gate or the values that keep the cycle turning, or "
                f"raise max_iterations."
            )

    def task(self, np: NodePlan) -> Task:
        """A task for ``np`` with its inputs read from the current values."""
        sched = self.sched
        values = sched.values
        kwargs = {param: values[name] for name, param in np.req}
        if np.opt:
            for name, param in np.opt:
                if name in values:
                    kwargs[param] = values[name]
        get_version = sched.versions.get
        return Task(np, kwargs, tuple([get_version(name, -1) for name in np.check]))

    def next_batch(self) -> list[Task] | None:
        """The next superstep's tasks, or None when the run is over."""
        sched = self.sched
        cands = sched.candidates
        if not cands or self.paused is not None:
            return None
        ready = sched.ready()
        nodes = sched.nodes
        if self.max_iterations is None:
            self.iterations += 1
        else:
            self.count_iteration([nodes[i] for i in ready])
        if len(ready) > 1:
            self._check_conflicts(ready)
        task = self.task
        return [task(nodes[i]) for i in ready]

    def _check_conflicts(self, ready: list[int]) -> None:
        nodes = self.sched.nodes
        seen: dict[str, NodePlan] = {}
        for i in ready:
            for out in nodes[i].outputs:
                other = seen.get(out)
                if other is not None:
                    np = nodes[i]
                    raise ConflictError(
                        f"Nodes '{self.node_path(other)}' and '{self.node_path(np)}' are both "
                        f"ready in one superstep and both produce '{out}'.\n\n"
                        f"They were made ready by their inputs: {other.name}"
                        f"({', '.join(other.node.inputs)}) and {np.name}"
                        f"({', '.join(np.node.inputs)}).\n\n"
                        f"How to fix: order them with a data dependency, or put them on "
                        f"different branches of one gate."
                    )
                seen[out] = nodes[i]

    # ------------------------------------------------------------------ node events
