"""Checkpointers that persist run state so a paused, failed or crashed run can resume.

A checkpointer stores each workflow as an ordered list of steps (the inputs of a run
call, then the results of each superstep); the fold of those steps, a
:class:`Checkpoint`, is what a resumed run starts from. Two ship:
:class:`MemoryCheckpointer` (in memory) and :class:`SqliteCheckpointer` (an SQLite file,
shared safely by processes). Values are stored as JSON by default
(:class:`JsonSerializer`); :class:`PickleSerializer` stores anything, for trusted files.

Example:
    >>> import asyncio
    >>> from graphflow.checkpointers import MemoryCheckpointer, Step, StepResult
    >>> async def main() -> dict[str, int]:
    ...     async with MemoryCheckpointer() as cp:
    ...         await cp.save_step(Step("w", -1, "run-1", "inputs", 0, {"x": 1}, {"x": 1}))
    ...         done = (StepResult("double", {"y": 2}, consumed={"x": 1}),)
    ...         await cp.save_step(Step("w", -1, "run-1", "superstep", 1, {"y": 2}, {"y": 2}, done))
    ...         return (await cp.get_checkpoint("w")).records
    >>> asyncio.run(main())
    {'double': {'x': 1}}
"""

from graphflow.checkpointers.base import ANY_PARENT, Checkpointer, make_owner
from graphflow.checkpointers.errors import (
    CheckpointError,
    CorruptCheckpointError,
    SerializationError,
    WorkflowBusyError,
)
from graphflow.checkpointers.memory import MemoryCheckpointer
from graphflow.checkpointers.serializers import JsonSerializer, PickleSerializer, Serializer
from graphflow.checkpointers.sqlite import SqliteCheckpointer
from graphflow.checkpointers.types import Checkpoint, Step, StepResult, Workflow, WorkflowStatus

__all__ = [
    "ANY_PARENT",
    "Checkpoint",
    "CheckpointError",
    "Checkpointer",
    "CorruptCheckpointError",
    "JsonSerializer",
    "MemoryCheckpointer",
    "PickleSerializer",
    "SerializationError",
    "Serializer",
    "SqliteCheckpointer",
    "Step",
    "StepResult",
    "Workflow",
    "WorkflowBusyError",
    "WorkflowStatus",
    "make_owner",
]
