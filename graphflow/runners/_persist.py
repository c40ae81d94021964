"""Saving a run's supersteps to a checkpointer, and starting a run from its checkpoint.

Used by AsyncRunner when it has a checkpointer and the call gives a ``workflow_id``.
A workflow's state is the fold of its saved steps; a resumed run restores values,
versions, execution records, gate decisions (with choices not yet used) and answered
interrupts, so the staleness rule decides what runs again (core.md, "Execution").
Nested graphs persist as child workflows named ``parent/name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphflow.checkpointers import (
    Checkpoint,
    Checkpointer,
    Step,
    StepResult,
    WorkflowStatus,
    make_owner,
)
from graphflow.events import RunStatus
from graphflow.runners._plan import GATE, INTERRUPT, Plan
from graphflow.runners._sched import END_DECISION

if TYPE_CHECKING:
    from graphflow.runners._engine import Run
    from graphflow.runners._nodes import Task

__all__ = ["Persistence"]

_STATUS = {
    RunStatus.COMPLETED: WorkflowStatus.SUCCESS,
    RunStatus.PAUSED: WorkflowStatus.PENDING,
    RunStatus.ERROR: WorkflowStatus.ERROR,
}


def _pending(plan: Plan, history: Sequence[Step]) -> dict[str, set[str]]:
    """Gate choices not used yet: a target chosen after its last run."""
    pending: dict[str, set[str]] = {}
    index = plan.index
    for step in history:
        for result in step.results:
            pending.pop(result.node, None)
        for result in step.results:
            i = index.get(result.node)
            if result.decision is None or i is None:
                continue
            for t in plan.nodes[i].targets:
                target = plan.nodes[t].name
                if target == result.decision:
                    pending.setdefault(target, set()).add(result.node)
                else:
                    pending.get(target, set()).discard(result.node)
    return pending


class Persistence:
    """One workflow's link to the checkpointer for the length of one run."""

    def __init__(
        self, checkpointer: Checkpointer, workflow_id: str, plan: Plan, parent_id: str | None = None
    ) -> None:
        self.checkpointer = checkpointer
        self.workflow_id = workflow_id
        self.plan = plan
        self.parent_id = parent_id
        self.owner: str | None = None
        self.state = Checkpoint()
        self.pending: dict[str, set[str]] = {}

    async def open(self, *, claim: bool) -> Checkpoint:
        """Create or load the workflow (claiming it for this run when ``claim``)."""
        cp = self.checkpointer
        await cp.create_workflow(
            self.workflow_id, parent_id=self.parent_id, graph_name=self.plan.name
        )
        if claim:
            owner = make_owner()
            await cp.acquire(self.workflow_id, owner)
            self.owner = owner
        history = await cp.get_history(self.workflow_id)
        self.state = Checkpoint.fold(history)
        self.pending = _pending(self.plan, history)
        await cp.update_workflow_status(self.workflow_id, WorkflowStatus.RUNNING)
        return self.state

    async def save_inputs(self, run: Run, inputs: dict[str, Any]) -> None:
        """Save the values given to this call (and the versions they got)."""
        if not inputs:
            return
        versions = run.sched.versions
        await self.checkpointer.save_step(
            Step(
                self.workflow_id,
                -1,
                run.run_id,
                "inputs",
                0,
                dict(inputs),
                {k: versions[k] for k in inputs},
            )
        )

    async def save_superstep(self, run: Run, batch: Sequence[Task], changed: list[str]) -> None:
        """Save one superstep: each node's outputs, consumed versions and decision."""
        results = []
        sched = run.sched
        for task in batch:
            if task.paused:
                continue
            np = task.np
            decision: str | None = None
            if task.decision is not None:
                decision = (
                    "END" if task.decision == END_DECISION else sched.nodes[task.decision].name
                )
            answered = sched.answered.get(np.idx) if np.code == INTERRUPT else None
            results.append(
                StepResult(
                    np.name,
                    dict(task.outputs) if np.code != GATE else {},
                    dict(zip(np.check, task.rec, strict=True)),
                    decision,
                    answered,
                )
            )
        if not results:
            return
        values = sched.values
        await self.checkpointer.save_step(
            Step(
                self.workflow_id,
                -1,
                run.run_id,
                "superstep",
                run.iterations,
                {n: values[n] for n in changed},
                {n: sched.versions[n] for n in changed},
                tuple(results),
            )
        )

    async def child(self, run: Run, name: str) -> Persistence:
        """Load the child workflow of nested graph ``name`` into its (new) run."""
        child = Persistence(
            self.checkpointer, f"{self.workflow_id}/{name}", run.plan, parent_id=self.workflow_id
        )
        state = await child.open(claim=False)
        sched = run.sched
        for key, value in state.values.items():
            if key not in sched.values:  # values passed in by the parent win
                sched.values[key] = value
                sched.versions[key] = state.versions.get(key, 0)
        sched.counter.at_least(state.max_version)
        run.restore(state, child.pending)
        run.persist = child
        return child

    async def close(self, status: RunStatus) -> None:
        """Record how the run ended and release the claim."""
        cp = self.checkpointer
        await cp.update_workflow_status(self.workflow_id, _STATUS[status])
        if self.owner is not None:
            await cp.release(self.workflow_id, self.owner)
            self.owner = None
