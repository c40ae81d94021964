"""What a checkpointer stores: workflows, their steps, and the checkpoint folded from the steps."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "INPUTS",
    "SUPERSTEP",
    "Checkpoint",
    "Step",
    "StepResult",
    "Workflow",
    "WorkflowStatus",
]

#: ``Step.kind`` of the values given to one run call.
INPUTS: Final = "inputs"
#: ``Step.kind`` of the results of one superstep.
SUPERSTEP: Final = "superstep"


class WorkflowStatus(enum.StrEnum):
    """Where a workflow stands.

    ``PENDING``: created, or paused waiting for input. ``RUNNING``: a run is in progress.
    ``SUCCESS``: the last run completed. ``ERROR``: the last run failed.
    """

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True)
class StepResult:
    """What one node execution left behind.

    Attributes:
        node: the node's name within its graph.
        outputs: the values it produced, by name.
        consumed: the version of each input it consumed (its execution record).
        decision: for a gate, the target it chose or ``"END"``.
        answered: for an interrupt, the version of the answer it passed on.
        cached: the outputs came from the cache.
        duration_ms: how long it ran.

    Example:
        >>> StepResult(node="double", outputs={"y": 4}, consumed={"x": 1}).consumed
        {'x': 1}
    """

    node: str
    outputs: dict[str, Any]
    consumed: dict[str, int]
    decision: str | None = None
    answered: int | None = None
    cached: bool = False
    duration_ms: float = 0.0


@dataclass(frozen=True)
class Step:
    """One saved step of a workflow: the inputs of a run call, or the results of a superstep.

    Attributes:
        workflow_id: the workflow it belongs to.
        index: its position in the workflow (0, 1, 2, ...). Pass ``-1`` to let ``save_step``
            assign the next one.
        run_id: the run that saved it.
        kind: ``"inputs"`` (values given to a run call) or ``"superstep"`` (node results).
        superstep: the superstep number within the run.
        values: every name whose value changed in this step, with its new value.
        versions: the version of each of those values.
        results: the node executions of a superstep (empty for inputs).
        created_at: when the step was made (seconds since the epoch).

    Example:
        >>> step = Step("chat", -1, "run-1", "inputs", 0, {"x": 1}, {"x": 1})
        >>> step.values
        {'x': 1}
    """

    workflow_id: str
    index: int
    run_id: str
    kind: str
    superstep: int
    values: dict[str, Any]
    versions: dict[str, int]
    results: tuple[StepResult, ...] = ()
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Workflow:
    """A workflow: the steps saved under one ``workflow_id``, and who runs it.

    Attributes:
        id: the workflow id. A nested graph persists as the child workflow ``"parent/name"``.
        status: where it stands.
        created_at: when it was created (seconds since the epoch).
        updated_at: when its status, steps or owner last changed.
        parent_id: the enclosing workflow of a nested graph's workflow.
        graph_name: the name of the graph it runs.
        owner: the run that holds it now (``"host:pid:token"``), or ``None``.

    Example:
        >>> Workflow("chat", WorkflowStatus.PENDING, 0.0, 0.0).status
        <WorkflowStatus.PENDING: 'pending'>
    """

    id: str
    status: WorkflowStatus
    created_at: float
    updated_at: float
    parent_id: str | None = None
    graph_name: str | None = None
    owner: str | None = None


@dataclass
class Checkpoint:
    """The fold of a workflow's steps: what a resumed run starts from.

    Attributes:
        values: the latest value of every name.
        versions: the latest version of every name.
        records: each node's execution record (the input versions it consumed last time).
        decisions: each gate's last decision.
        answered: each interrupt's last passed-on answer version.
        inputs: the values given as inputs to run calls (later calls win).
        max_version: the highest version seen (``0`` when there is none), so new versions
            can be numbered above it.
        steps: how many steps were folded.

    Example:
        >>> steps = [
        ...     Step("w", 0, "r", "inputs", 0, {"x": 1}, {"x": 1}),
        ...     Step("w", 1, "r", "superstep", 1, {"y": 2}, {"y": 2},
        ...          (StepResult("double", {"y": 2}, {"x": 1}),)),
        ... ]
        >>> cp = Checkpoint.fold(steps)
        >>> cp.values, cp.records, cp.max_version
        ({'x': 1, 'y': 2}, {'double': {'x': 1}}, 2)
    """

    values: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    max_version: int = 0
    steps: int = 0

    @classmethod
    def fold(cls, steps: Iterable[Step]) -> Checkpoint:
        """Fold steps, in the order given (index order), into one checkpoint.

        Later steps win: a value, version, execution record, decision or answer replaces
        the one before it.

        Args:
            steps: a workflow's steps, as ``get_history`` returns them.

        Returns:
            The checkpoint. It shares value objects with ``steps``.
        """
        cp = cls()
        for step in steps:
            cp.steps += 1
            cp.values.update(step.values)
            cp.versions.update(step.versions)
            if step.kind == INPUTS:
                cp.inputs.update(step.values)
            seen = list(step.versions.values())
            for result in step.results:
                cp.records[result.node] = dict(result.consumed)
                seen.extend(result.consumed.values())
                if result.decision is not None:
                    cp.decisions[result.node] = result.decision
                if result.answered is not None:
                    cp.answered[result.node] = result.answered
                    seen.append(result.answered)
            cp.max_version = max([cp.max_version, *seen])
        return cp
