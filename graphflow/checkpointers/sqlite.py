"""A checkpointer on an SQLite file: durable, shared safely by several processes.

It uses the standard library's ``sqlite3`` (no extra to install): each call runs in a
worker thread through :func:`asyncio.to_thread`, so the event loop never waits on disk,
and one lock serializes the calls on the object's single connection.

Durability: the file is in WAL mode with ``synchronous=FULL``, so every committed step is
on disk before ``save_step`` returns and survives a crash of the process (or the machine;
``NORMAL`` would lose the last steps on a power cut). A step is one transaction: a crash
loses at most the step being written, never part of one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from graphflow.checkpointers._codec import EncodedStep, decode_step, encode_step
from graphflow.checkpointers._sqlite_db import (
    STEP_COLUMNS,
    WORKFLOW_COLUMNS,
    open_database,
    row_to_workflow,
    sqlite_error,
    write_transaction,
)
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

__all__ = ["SqliteCheckpointer"]

_T = TypeVar("_T")


class SqliteCheckpointer(Checkpointer):
    """Workflows in an SQLite file that survives crashes and is shared by processes.

    The file and its parent folders are created when first used. Every method opens the
    database lazily, so :meth:`initialize` is optional (it checks the file early).

    Args:
        path: the database file.
        serializer: turns values into bytes; :class:`JsonSerializer` by default.

    Raises:
        CorruptCheckpointError: (from any method) the file is not SQLite, is corrupt, or
            holds another application's tables.

    Example:
        >>> import asyncio, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "runs" / "checkpoints.db"
        >>> async def main() -> list[str]:
        ...     async with SqliteCheckpointer(path) as cp:
        ...         await cp.create_workflow("chat")
        ...         return [w.id for w in await cp.list_workflows()]
        >>> asyncio.run(main())
        ['chat']
    """

    def __init__(self, path: str | os.PathLike[str], *, serializer: Serializer | None = None):
        super().__init__(serializer=serializer)
        self._path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SqliteCheckpointer({str(self._path)!r}, serializer={self.serializer!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _locked(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = open_database(self._path)
                return work(self._conn)
            except sqlite3.Error as exc:
                raise sqlite_error(self._path, exc) from exc

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        # Off the event loop. A cancelled caller does not stop the thread: a started
        # transaction still commits or rolls back as a whole.
        return await asyncio.to_thread(self._locked, work)

    # -- the interface ----------------------------------------------------------------------

    async def initialize(self) -> None:
        await self._run(lambda conn: None)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()

        await asyncio.to_thread(close)

    @staticmethod
    def _insert_workflow(
        conn: sqlite3.Connection,
        workflow_id: str,
        parent_id: str | None = None,
        graph_name: str | None = None,
    ) -> None:
        now = time.time()
        conn.execute(
            "INSERT OR IGNORE INTO workflows (id, status, created_at, updated_at, parent_id, "
            "graph_name) VALUES (?, ?, ?, ?, ?, ?)",
            (workflow_id, WorkflowStatus.PENDING.value, now, now, parent_id, graph_name),
        )

    @staticmethod
    def _select_workflow(conn: sqlite3.Connection, workflow_id: str) -> Workflow | None:
        row = conn.execute(
            f"SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = ?", (workflow_id,)
        ).fetchone()
        return None if row is None else row_to_workflow(row)

    @staticmethod
    def _touch(
        conn: sqlite3.Connection, workflow_id: str, column: str | None = None, value: Any = None
    ) -> int:
        # Sets one column (a name from this module, never user input) and updated_at,
        # which never goes back, even if the clock does. Returns the rows changed.
        sets = f"{column} = ?, " if column else ""
        cursor = conn.execute(
            f"UPDATE workflows SET {sets}updated_at = MAX(updated_at, ?) WHERE id = ?",
            (*([value] if column else []), time.time(), workflow_id),
        )
        return cursor.rowcount

    async def create_workflow(
        self, workflow_id: str, *, parent_id: str | None = None, graph_name: str | None = None
    ) -> Workflow:
        check_workflow_id(workflow_id)

        def work(conn: sqlite3.Connection) -> Workflow:
            with write_transaction(conn):
                self._insert_workflow(conn, workflow_id, parent_id, graph_name)
                created = self._select_workflow(conn, workflow_id)
            assert created is not None  # inserted or already there, in this transaction
            return created

        return await self._run(work)

    async def get_workflow(self, workflow_id: str) -> Workflow | None:
        return await self._run(lambda conn: self._select_workflow(conn, workflow_id))

    async def list_workflows(
        self,
        *,
        status: WorkflowStatus | None = None,
        parent_id: str | _AnyParent | None = ANY_PARENT,
    ) -> list[Workflow]:
        where, args = ["1"], []
        if status is not None:
            where.append("status = ?")
            args.append(WorkflowStatus(status).value)
        if parent_id is None:
            where.append("parent_id IS NULL")
        elif parent_id is not ANY_PARENT:
            where.append("parent_id = ?")
            args.append(parent_id)
        query = f"SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE {' AND '.join(where)}"
        rows = await self._run(
            lambda conn: conn.execute(f"{query} ORDER BY rowid", args).fetchall()
        )
        return [row_to_workflow(r) for r in rows]

    async def update_workflow_status(self, workflow_id: str, status: WorkflowStatus) -> None:
        value = WorkflowStatus(status).value

        def work(conn: sqlite3.Connection) -> int:
            with write_transaction(conn):
                return self._touch(conn, workflow_id, "status", value)

        if await self._run(work) == 0:
            raise workflow_not_found(workflow_id)

    async def save_step(self, step: Step) -> Step:
        serializer = self.serializer

        def work(conn: sqlite3.Connection) -> int:
            encoded = encode_step(step, serializer)  # raises before anything is written
            with write_transaction(conn):
                self._insert_workflow(conn, step.workflow_id)
                (index,) = conn.execute(
                    "SELECT COALESCE(MAX(idx), -1) + 1 FROM steps WHERE workflow_id = ?",
                    (step.workflow_id,),
                ).fetchone()
                if step.index not in (-1, index):
                    raise CheckpointError(
                        f"Cannot save step {step.index} of workflow {step.workflow_id!r}: the "
                        f"next index is {index} (another writer saved steps in between?).\n\n"
                        "How to fix: pass index=-1 to append the step at the end."
                    )
                conn.execute(
                    f"INSERT INTO steps ({STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        encoded.workflow_id,
                        index,
                        encoded.run_id,
                        encoded.kind,
                        encoded.superstep,
                        encoded.created_at,
                        encoded.meta,
                        encoded.data,
                    ),
                )
                self._touch(conn, step.workflow_id)
            return int(index)

        index = await self._run(work)
        return dataclasses.replace(step, index=index)

    async def get_history(self, workflow_id: str) -> list[Step]:
        serializer = self.serializer

        def work(conn: sqlite3.Connection) -> list[Step]:
            rows = conn.execute(
                f"SELECT {STEP_COLUMNS} FROM steps WHERE workflow_id = ? ORDER BY idx",
                (workflow_id,),
            ).fetchall()
            # Decoding is CPU work: do it here, off the event loop, too.
            return [decode_step(EncodedStep(*row), serializer) for row in rows]

        return await self._run(work)

    async def acquire(self, workflow_id: str, owner: str) -> None:
        check_workflow_id(workflow_id)
        check_owner(owner)

        def work(conn: sqlite3.Connection) -> None:
            # One IMMEDIATE transaction: no other process can claim between read and write.
            with write_transaction(conn):
                self._insert_workflow(conn, workflow_id)
                (held,) = conn.execute(
                    "SELECT owner FROM workflows WHERE id = ?", (workflow_id,)
                ).fetchone()
                check_claim(workflow_id, held, owner)
                if held != owner:
                    self._touch(conn, workflow_id, "owner", owner)

        await self._run(work)

    async def release(self, workflow_id: str, owner: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.execute(
                    "UPDATE workflows SET owner = NULL, updated_at = MAX(updated_at, ?) "
                    "WHERE id = ? AND owner = ?",
                    (time.time(), workflow_id, owner),
                )

        await self._run(work)
