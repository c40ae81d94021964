"""The checkpointer interface, and the claim rules every checkpointer shares."""

from __future__ import annotations

import abc
import enum
import os
import secrets
import socket
from types import TracebackType
from typing import Any, Final, Self

from graphflow.checkpointers.errors import CheckpointError, WorkflowBusyError
from graphflow.checkpointers.serializers import JsonSerializer, Serializer
from graphflow.checkpointers.types import Checkpoint, Step, Workflow, WorkflowStatus

__all__ = ["ANY_PARENT", "Checkpointer", "make_owner", "owner_is_stale"]


class _AnyParent(enum.Enum):
    ANY = "any"

    def __repr__(self) -> str:
        return "ANY_PARENT"


#: ``list_workflows(parent_id=ANY_PARENT)`` (the default): do not filter by parent.
ANY_PARENT: Final = _AnyParent.ANY


def make_owner() -> str:
    """A new owner id for one run: ``"host:pid:token"``.

    Example:
        >>> host, pid, token = make_owner().rsplit(":", 2)
        >>> int(pid) == os.getpid()
        True
    """
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


def owner_is_stale(owner: str) -> bool:
    """Whether ``owner`` is a run whose process is known to be gone.

    Only a claim made on this host, by another process that no longer exists, is stale.
    Claims from other hosts, from this process, or in another format are never stale:
    graphflow cannot tell they are dead. (A recycled pid makes a dead claim look live;
    it is then refused, never taken over wrongly.)
    """
    host_pid, _, _token = owner.rpartition(":")
    host, _, pid_text = host_pid.rpartition(":")
    if host != socket.gethostname() or os.name == "nt":
        return False  # on Windows os.kill(pid, 0) would terminate the process
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0 or pid == os.getpid():
        return False  # os.kill(0, ...) would signal our own process group
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # e.g. PermissionError: it exists, under another user
    return False


def check_claim(workflow_id: str, held: str | None, owner: str) -> None:
    """Allow ``owner`` to claim a workflow held by ``held``, or raise WorkflowBusyError."""
    if held is None or held == owner or owner_is_stale(held):
        return
    host_pid, _, _token = held.rpartition(":")
    host, _, pid = host_pid.rpartition(":")
    who = f"process {pid} on host {host!r} (owner {held!r})" if host else f"owner {held!r}"
    raise WorkflowBusyError(
        f"Workflow {workflow_id!r} is already being run by {who}: two runs "
        "of one workflow_id cannot overlap.\n\n"
        "How to fix: wait for that run to finish, or use another workflow_id. If that run is "
        "dead but graphflow cannot tell (it ran on another host), free the workflow with "
        f"`await checkpointer.release({workflow_id!r}, {held!r})`.",
        workflow_id=workflow_id,
        owner=held,
    )


def check_workflow_id(workflow_id: object) -> str:
    """Return ``workflow_id`` if it is a non-empty str, else raise CheckpointError."""
    if not isinstance(workflow_id, str) or not workflow_id:
        raise CheckpointError(
            f"workflow_id must be a non-empty str, got {workflow_id!r}.\n\n"
            "How to fix: pass a name for the workflow, for example workflow_id='chat-42'."
        )
    return workflow_id


def check_owner(owner: object) -> str:
    """Return ``owner`` if it is a non-empty str, else raise CheckpointError."""
    if not isinstance(owner, str) or not owner:
        raise CheckpointError(
            f"owner must be a non-empty str, got {owner!r}.\n\n"
            "How to fix: pass graphflow.checkpointers.make_owner() (host:pid:token)."
        )
    return owner


def workflow_not_found(workflow_id: str) -> CheckpointError:
    return CheckpointError(
        f"No workflow {workflow_id!r} in this checkpointer.\n\n"
        "How to fix: create it first with `await checkpointer.create_workflow(workflow_id)`, "
        "or check the id (list_workflows() shows every workflow)."
    )


class Checkpointer(abc.ABC):
    """Where runs save their steps, so a paused, failed or crashed run can resume.

    Every method is async. A workflow is the ordered list of steps saved under one
    ``workflow_id``; its state is the fold of those steps (:meth:`get_checkpoint`).
    Values are serialized when saved (JSON by default), so what comes back is always a
    fresh copy. Checkpointers can be used as ``async with checkpointer: ...``, which calls
    :meth:`initialize` and :meth:`close`.

    Args:
        serializer: turns values into bytes; :class:`JsonSerializer` by default.

    Example:
        >>> import asyncio
        >>> from graphflow.checkpointers import MemoryCheckpointer, Step
        >>> async def main() -> dict[str, Any]:
        ...     async with MemoryCheckpointer() as cp:
        ...         await cp.create_workflow("chat")
        ...         await cp.save_step(Step("chat", -1, "run-1", "inputs", 0, {"x": 1}, {"x": 1}))
        ...         return await cp.get_state("chat")
        >>> asyncio.run(main())
        {'x': 1}
    """

    def __init__(self, *, serializer: Serializer | None = None) -> None:
        self._serializer: Serializer = serializer if serializer is not None else JsonSerializer()

    @property
    def serializer(self) -> Serializer:
        """How values are turned into bytes."""
        return self._serializer

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def initialize(self) -> None:
        """Open storage. Idempotent; every other method calls it when needed.

        Raises:
            CorruptCheckpointError: the storage is corrupt or not a graphflow database.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Release storage. Idempotent; a later call opens it again."""

    @abc.abstractmethod
    async def create_workflow(
        self, workflow_id: str, *, parent_id: str | None = None, graph_name: str | None = None
    ) -> Workflow:
        """Create a workflow in status ``PENDING``, or return the existing one unchanged.

        Args:
            workflow_id: the workflow's id (a nested graph's is ``"parent/name"``).
            parent_id: the enclosing workflow, for a nested graph.
            graph_name: the graph it runs.
        """

    @abc.abstractmethod
    async def get_workflow(self, workflow_id: str) -> Workflow | None:
        """The workflow, or ``None`` when there is none with that id."""

    @abc.abstractmethod
    async def list_workflows(
        self,
        *,
        status: WorkflowStatus | None = None,
        parent_id: str | _AnyParent | None = ANY_PARENT,
    ) -> list[Workflow]:
        """Workflows in creation order.

        Args:
            status: only workflows in this status.
            parent_id: only the children of this workflow; ``None`` for top-level
                workflows only; :data:`ANY_PARENT` (the default) for all.
        """

    @abc.abstractmethod
    async def update_workflow_status(self, workflow_id: str, status: WorkflowStatus) -> None:
        """Set a workflow's status (any transition is allowed).

        Raises:
            CheckpointError: there is no such workflow.
        """

    @abc.abstractmethod
    async def save_step(self, step: Step) -> Step:
        """Append a step, in one transaction. Creates the workflow when it does not exist.

        Every value is serialized before anything is written, so a failed save leaves
        the workflow unchanged.

        Args:
            step: the step; ``index=-1`` appends it at the end. An explicit index must be
                the next one.

        Returns:
            The step as saved, with its index.

        Raises:
            SerializationError: a value cannot be serialized; names the node and output.
            CheckpointError: the index is not the next one, or the step is malformed.
        """

    @abc.abstractmethod
    async def get_history(self, workflow_id: str) -> list[Step]:
        """Every step of a workflow, by index (empty for an unknown workflow)."""

    @abc.abstractmethod
    async def acquire(self, workflow_id: str, owner: str) -> None:
        """Claim a workflow for one run (creating it when needed).

        Claiming again with the same owner is allowed. A claim held by a process of this
        host that no longer exists (a killed worker) is taken over.

        Args:
            workflow_id: the workflow.
            owner: the run, as ``"host:pid:token"`` (see :func:`make_owner`).

        Raises:
            WorkflowBusyError: another live run holds it; names the workflow and the owner.
        """

    @abc.abstractmethod
    async def release(self, workflow_id: str, owner: str) -> None:
        """Give up a claim. Does nothing unless ``owner`` holds the workflow."""

    async def get_checkpoint(self, workflow_id: str) -> Checkpoint:
        """The fold of the workflow's steps (empty for an unknown workflow)."""
        return Checkpoint.fold(await self.get_history(workflow_id))

    async def get_state(self, workflow_id: str) -> dict[str, Any]:
        """The latest value of every name in the workflow (empty for an unknown workflow)."""
        return (await self.get_checkpoint(workflow_id)).values
