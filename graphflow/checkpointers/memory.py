"""A checkpointer that keeps workflows in memory, for tests and single-process use."""

from __future__ import annotations

import dataclasses
import threading
import time

from graphflow.checkpointers._codec import EncodedStep, decode_step, encode_step
from graphflow.checkpointers.base import (
    ANY_PARENT,
    Checkpointer,
    _AnyParent,
    check_claim,
    check_owner,
    check_workflow_id,
    workflow_not_found,
)
from graphflow.checkpointers.errors import CheckpointError
from graphflow.checkpointers.serializers import Serializer
from graphflow.checkpointers.types import Step, Workflow, WorkflowStatus

__all__ = ["MemoryCheckpointer"]


class MemoryCheckpointer(Checkpointer):
    """Workflows kept in this process's memory; gone when the object is.

    Values are serialized on save, like :class:`SqliteCheckpointer` does, so a value that
    one cannot store fails here too, and every read returns fresh copies. Safe to share
    between threads and event loops.

    Args:
        serializer: turns values into bytes; :class:`JsonSerializer` by default.

    Example:
        >>> import asyncio
        >>> cp = MemoryCheckpointer()
        >>> asyncio.run(cp.create_workflow("chat")).status
        <WorkflowStatus.PENDING: 'pending'>
    """

    def __init__(self, *, serializer: Serializer | None = None) -> None:
        super().__init__(serializer=serializer)
        self._lock = threading.Lock()
        self._workflows: dict[str, Workflow] = {}
        self._steps: dict[str, list[EncodedStep]] = {}

    def __repr__(self) -> str:
        return f"MemoryCheckpointer(serializer={self.serializer!r})"

    async def initialize(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to release: the workflows stay until the object is gone."""

    def _create(
        self, workflow_id: str, parent_id: str | None = None, graph_name: str | None = None
    ) -> Workflow:
        # Call with the lock held.
        existing = self._workflows.get(workflow_id)
        if existing is not None:
            return existing
        now = time.time()
        created = Workflow(workflow_id, WorkflowStatus.PENDING, now, now, parent_id, graph_name)
        self._workflows[workflow_id] = created
        self._steps[workflow_id] = []
        return created

    def _touch(self, workflow: Workflow) -> None:
        # Call with the lock held. updated_at never goes back, even if the clock does.
        updated_at = max(time.time(), workflow.updated_at)
        self._workflows[workflow.id] = dataclasses.replace(workflow, updated_at=updated_at)

    async def create_workflow(
        self, workflow_id: str, *, parent_id: str | None = None, graph_name: str | None = None
    ) -> Workflow:
        check_workflow_id(workflow_id)
        with self._lock:
            return self._create(workflow_id, parent_id, graph_name)

    async def get_workflow(self, workflow_id: str) -> Workflow | None:
        with self._lock:
            return self._workflows.get(workflow_id)

    async def list_workflows(
        self,
        *,
        status: WorkflowStatus | None = None,
        parent_id: str | _AnyParent | None = ANY_PARENT,
    ) -> list[Workflow]:
        with self._lock:
            found = list(self._workflows.values())
        return [
            w
            for w in found
            if (status is None or w.status == status)
            and (parent_id is ANY_PARENT or w.parent_id == parent_id)
        ]

    async def update_workflow_status(self, workflow_id: str, status: WorkflowStatus) -> None:
        status = WorkflowStatus(status)
        with self._lock:
            current = self._workflows.get(workflow_id)
            if current is None:
                raise workflow_not_found(workflow_id)
            self._touch(dataclasses.replace(current, status=status))

    async def save_step(self, step: Step) -> Step:
        encoded = encode_step(step, self.serializer)  # raises before anything is stored
        with self._lock:
            self._create(step.workflow_id)
            steps = self._steps[step.workflow_id]
            index = len(steps)
            if step.index not in (-1, index):
                raise CheckpointError(
                    f"Cannot save step {step.index} of workflow {step.workflow_id!r}: the "
                    f"next index is {index} (another writer saved steps in between?).\n\n"
                    "How to fix: pass index=-1 to append the step at the end."
                )
            steps.append(dataclasses.replace(encoded, index=index))
            self._touch(self._workflows[step.workflow_id])
        return dataclasses.replace(step, index=index)

    async def get_history(self, workflow_id: str) -> list[Step]:
        with self._lock:
            stored = list(self._steps.get(workflow_id, ()))
        return [decode_step(s, self.serializer) for s in stored]

    async def acquire(self, workflow_id: str, owner: str) -> None:
        check_workflow_id(workflow_id)
        check_owner(owner)
        with self._lock:
            current = self._create(workflow_id)
            check_claim(workflow_id, current.owner, owner)
            if current.owner != owner:
                self._touch(dataclasses.replace(current, owner=owner))

    async def release(self, workflow_id: str, owner: str) -> None:
        with self._lock:
            current = self._workflows.get(workflow_id)
            if current is not None and current.owner == owner:
                self._touch(dataclasses.replace(current, owner=None))
