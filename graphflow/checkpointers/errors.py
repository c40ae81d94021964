"""The exceptions checkpointers raise.

Every one derives from :class:`~graphflow.exceptions.GraphflowError`::

    GraphflowError
    └── CheckpointError                    a checkpointer could not read or write a workflow
        ├── SerializationError (TypeError) a value cannot be serialized: names node and output
        ├── CorruptCheckpointError         the database file is corrupt or not graphflow's
        └── WorkflowBusyError              another live run holds the workflow

Messages say what happened, why, and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

from graphflow.exceptions import GraphflowError

__all__ = [
    "CheckpointError",
    "CorruptCheckpointError",
    "SerializationError",
    "WorkflowBusyError",
]


class CheckpointError(GraphflowError):
    """A checkpointer could not read or write a workflow."""


class SerializationError(CheckpointError, TypeError):
    """A value given to ``save_step`` cannot be serialized; nothing of the step was written.

    Attributes:
        workflow_id: the workflow the step belongs to.
        node: the node that produced the value, or ``None`` for a value given as input.
        output: the name of the value.
    """

    # Keyword defaults keep the exception picklable (pickle rebuilds it from the message,
    # then restores the attributes), so it can cross process boundaries.
    def __init__(
        self, message: str, *, workflow_id: str = "", node: str | None = None, output: str = ""
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.node = node
        self.output = output


class CorruptCheckpointError(CheckpointError):
    """The checkpoint database is not a graphflow database, or it is corrupt.

    Attributes:
        path: the database file.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path if path is not None else Path()


class WorkflowBusyError(CheckpointError):
    """Another live run holds the workflow: two runs of one ``workflow_id`` cannot overlap.

    Attributes:
        workflow_id: the workflow asked for.
        owner: who holds it, as ``"host:pid:token"``.
    """

    def __init__(self, message: str, *, workflow_id: str = "", owner: str = "") -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.owner = owner
