"""The SQLite file under SqliteCheckpointer: schema, opening checks, transactions, errors.

Everything here is synchronous and runs in a worker thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from graphflow.checkpointers.errors import CheckpointError, CorruptCheckpointError
from graphflow.checkpointers.types import Workflow, WorkflowStatus

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "STEP_COLUMNS",
    "WORKFLOW_COLUMNS",
    "open_database",
    "row_to_workflow",
    "sqlite_error",
    "write_transaction",
]

#: Marks the file as graphflow's (PRAGMA application_id, the bytes "GFCP").
APPLICATION_ID: Final = 0x47464350
#: The schema this code reads and writes (PRAGMA user_version).
SCHEMA_VERSION: Final = 1
#: How long a call waits for another process's write lock before failing, in seconds.
BUSY_TIMEOUT_S: Final = 30.0

_SCHEMA = (
    """CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        parent_id TEXT,
        graph_name TEXT,
        owner TEXT
    )""",
    "CREATE INDEX workflows_by_parent ON workflows (parent_id)",
    """CREATE TABLE steps (
        workflow_id TEXT NOT NULL REFERENCES workflows (id),
        idx INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        superstep INTEGER NOT NULL,
        created_at REAL NOT NULL,
        meta TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (workflow_id, idx)
    ) WITHOUT ROWID""",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

WORKFLOW_COLUMNS: Final = "id, status, created_at, updated_at, parent_id, graph_name, owner"
STEP_COLUMNS: Final = "workflow_id, idx, run_id, kind, superstep, created_at, meta, data"


def row_to_workflow(row: tuple[Any, ...]) -> Workflow:
    """Build a Workflow from a row of ``SELECT {WORKFLOW_COLUMNS}``."""
    return Workflow(row[0], WorkflowStatus(row[1]), *row[2:])


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, committed as a whole or not at all.

    IMMEDIATE takes the write lock up front, so a read followed by a write in it never
    fails halfway with SQLITE_BUSY, and other processes wait (busy_timeout) instead.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def sqlite_error(path: Path, exc: sqlite3.Error) -> CheckpointError:
    """Turn an error raised by sqlite3 into one that says what to do."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return CorruptCheckpointError(
            f"{path} is not a graphflow checkpoint database, or it is corrupt (SQLite says: "
            f"{exc}).\n\nHow to fix: give the checkpointer another path (a new database is "
            "created there), or move this file away; graphflow never deletes it for you.",
            path=path,
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return CheckpointError(
            f"{path} stayed locked by another connection for more than {BUSY_TIMEOUT_S:g} s "
            f"(SQLite says: {exc}).\n\nHow to fix: look for a process holding a long "
            "transaction on this file (an open sqlite3 shell, a stuck writer)."
        )
    return CheckpointError(f"SQLite failed on {path}: {exc}")


def _marks(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return app_id, version, [r[0] for r in rows]


def _check_or_create_schema(conn: sqlite3.Connection, path: Path) -> None:
    # Read before writing anything: a foreign file must be left exactly as it was.
    app_id, version, tables = _marks(conn)
    if app_id == 0 and not tables:
        with write_transaction(conn):
            app_id, version, tables = _marks(conn)  # another process may have created it
            if app_id == 0 and not tables:
                # One statement at a time: executescript() would COMMIT our transaction.
                for statement in _SCHEMA:
                    conn.execute(statement)
                return
    if app_id != APPLICATION_ID:
        listed = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise CorruptCheckpointError(
            f"{path} is an SQLite database, but not a graphflow checkpoint database ("
            + (f"it has tables: {listed}" if tables else f"application id {app_id:#x}")
            + ").\n\nHow to fix: give SqliteCheckpointer a file of its own (it is created "
            "at a path that does not exist yet); it does not share a file with other data.",
            path=path,
        )
    if version > SCHEMA_VERSION:
        raise CorruptCheckpointError(
            f"{path} was written by a newer graphflow (checkpoint schema {version}; this "
            f"version reads schema {SCHEMA_VERSION}).\n\nHow to fix: upgrade "
            "graphflow-runtime, or give the checkpointer another file.",
            path=path,
        )
    if version != SCHEMA_VERSION or not {"workflows", "steps"} <= set(tables):
        raise CorruptCheckpointError(
            f"{path} is marked as a graphflow checkpoint database, but its schema is "
            f"incomplete (schema {version}, tables: {', '.join(tables) or 'none'}).\n\n"
            "How to fix: move the file away; a new database is created at its path.",
            path=path,
        )


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating when new) a graphflow checkpoint database.

    WAL lets readers in other processes go on while one writes. ``synchronous=FULL``
    syncs the WAL at every commit, so a saved step survives a power cut too (``NORMAL``
    may lose the last commits then); the cost is one fsync per step.

    Raises:
        CorruptCheckpointError: not SQLite, corrupt, foreign, or from a newer graphflow.
        sqlite3.Error: anything else (the caller translates it with :func:`sqlite_error`).
    """
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        _check_or_create_schema(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn
