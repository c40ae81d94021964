"""SqliteCheckpointer on a real file: persistence, processes, crashes, foreign files."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from graphflow.checkpointers import (
    CheckpointError,
    CorruptCheckpointError,
    JsonSerializer,
    PickleSerializer,
    SqliteCheckpointer,
    Step,
    StepResult,
    WorkflowBusyError,
    WorkflowStatus,
    make_owner,
)

# Saves steps forever, printing each index once its save_step has returned.
WRITER = """
import asyncio, sys
from graphflow.checkpointers import SqliteCheckpointer, Step, StepResult

async def main():
    cp = SqliteCheckpointer(sys.argv[1])
    for i in range(1_000_000):
        payload = {"n": i, "blob": "x" * 2000}
        done = (StepResult("count", {"payload": payload}, {"payload": i}),)
        saved = Step("w", -1, "run", "superstep", i, {"payload": payload}, {"payload": i + 1}, done)
        await cp.save_step(saved)
        print(i, flush=True)

asyncio.run(main())
"""

# Claims a workflow, prints its owner id, then waits for a line on stdin.
HOLDER = """
import asyncio, sys
from graphflow.checkpointers import SqliteCheckpointer, make_owner

async def main():
    owner = make_owner()
    async with SqliteCheckpointer(sys.argv[1]) as cp:
        await cp.acquire("w", owner)
        print(owner, flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await cp.release("w", owner)

asyncio.run(main())
"""


def step(i: int, wf: str = "w") -> Step:
    return Step(wf, -1, "run", "inputs", 0, {"i": i}, {"i": i + 1})


async def test_everything_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    owner = make_owner()
    async with SqliteCheckpointer(path) as cp:
        await cp.create_workflow("w", graph_name="chat")
        await cp.create_workflow("w/inner", parent_id="w")
        await cp.save_step(step(1))
        await cp.save_step(
            Step(
                "w",
                -1,
                "run",
                "superstep",
                1,
                {"y": 2},
                {"y": 3},
                (StepResult("f", {"y": 2}, {"i": 2}, decision="g"),),
            )
        )
        await cp.update_workflow_status("w", WorkflowStatus.SUCCESS)
        await cp.acquire("w/inner", owner)
        written = (await cp.list_workflows(), await cp.get_history("w"))

    reopened = SqliteCheckpointer(path)
    assert (await reopened.list_workflows(), await reopened.get_history("w")) == written
    workflow = await reopened.get_workflow("w")
    assert workflow is not None and (workflow.status, workflow.graph_name) == ("success", "chat")
    inner = await reopened.get_workflow("w/inner")
    assert inner is not None and (inner.parent_id, inner.owner) == ("w", owner)
    assert (await reopened.get_checkpoint("w")).records == {"f": {"i": 2}}
    await reopened.close()


async def test_creates_parent_folders_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "cp.db"
    async with SqliteCheckpointer(path) as cp:
        await cp.save_step(step(1))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


async def test_steps_written_by_another_process_are_read(tmp_path: Path, python: Any) -> None:
    path = tmp_path / "cp.db"
    async with SqliteCheckpointer(path) as cp:
        await cp.save_step(step(0))
        python.run(
            "import asyncio, sys\n"
            "from graphflow.checkpointers import SqliteCheckpointer, Step\n"
            "async def main():\n"
            "    async with SqliteCheckpointer(sys.argv[1]) as cp:\n"
            "        assert await cp.get_state('w') == {'i': 0}\n"
            "        for i in (1, 2):\n"
            "            s = Step('w', -1, 'r', 'inputs', 0, {'i': i}, {'i': i + 1})\n"
            "            await cp.save_step(s)\n"
            "asyncio.run(main())\n",
            str(path),
        )
        assert [s.values for s in await cp.get_history("w")] == [{"i": 0}, {"i": 1}, {"i": 2}]
        await cp.save_step(step(3))
        assert [s.index for s in await cp.get_history("w")] == [0, 1, 2, 3]


async def test_a_claim_is_refused_across_processes_until_its_process_dies(
    tmp_path: Path, python: Any
) -> None:
    path = tmp_path / "cp.db"
    holder = python.start(HOLDER, str(path))
    try:
        held = holder.stdout.readline().strip()
        assert held, holder.stderr.read()
        async with SqliteCheckpointer(path) as cp:
            with pytest.raises(WorkflowBusyError) as caught:
                await cp.acquire("w", make_owner())
            assert caught.value.owner == held
            assert f"process {holder.pid}" in str(caught.value)

            holder.kill()  # SIGKILL: it never releases its claim
            holder.wait(timeout=60)
            mine = make_owner()
            await cp.acquire("w", mine)
            workflow = await cp.get_workflow("w")
            assert workflow is not None and workflow.owner == mine
    finally:
        holder.kill()
        holder.communicate(timeout=60)


async def test_sigkill_mid_loop_leaves_every_committed_step_intact(
    tmp_path: Path, python: Any
) -> None:
    path = tmp_path / "cp.db"
    writer = python.start(WRITER, str(path))
    try:
        last = -1
        while last < 40:
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            last = int(line)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    finally:
        writer.kill()
        writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL

    async with SqliteCheckpointer(path) as cp:
        history = await cp.get_history("w")
    assert len(history) >= last + 1
    for i, saved in enumerate(history):
        payload = {"n": i, "blob": "x" * 2000}
        assert (saved.index, saved.values, saved.versions) == (
            i,
            {"payload": payload},
            {"payload": i + 1},
        )
        assert saved.results == (StepResult("count", {"payload": payload}, {"payload": i}),)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


async def test_a_file_that_is_not_sqlite_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    garbage = os.urandom(4096)
    path.write_bytes(garbage)
    cp = SqliteCheckpointer(path)
    with pytest.raises(CorruptCheckpointError) as caught:
        await cp.get_history("w")
    message = str(caught.value)
    assert str(path) in message and "not a graphflow checkpoint database" in message
    assert "How to fix:" in message and caught.value.path == path
    with pytest.raises(CorruptCheckpointError):
        await cp.initialize()
    await cp.close()
    assert path.read_bytes() == garbage


async def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(CorruptCheckpointError) as caught:
        await SqliteCheckpointer(path).initialize()
    message = str(caught.value)
    assert str(path) in message and "not a graphflow checkpoint database" in message
    assert "it has tables: orders, users" in message and "How to fix:" in message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


async def test_a_database_from_a_newer_graphflow_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    async with SqliteCheckpointer(path) as cp:
        await cp.create_workflow("w")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(CorruptCheckpointError, match=r"(?s)newer graphflow.*schema 99.*upgrade"):
        await SqliteCheckpointer(path).initialize()


async def test_two_instances_on_one_new_file_share_one_schema(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    first, second = SqliteCheckpointer(path), SqliteCheckpointer(path)
    await first.save_step(step(0))
    await second.save_step(step(1))
    assert [s.values for s in await first.get_history("w")] == [{"i": 0}, {"i": 1}]
    await first.close()
    await second.close()


async def test_reading_with_another_serializer_than_the_writer_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    async with SqliteCheckpointer(path, serializer=PickleSerializer()) as cp:
        await cp.save_step(Step("w", -1, "r", "inputs", 0, {"t": (1, 2)}, {"t": 1}))
    async with SqliteCheckpointer(path, serializer=JsonSerializer()) as cp:
        with pytest.raises(
            CheckpointError, match=r"(?s)Cannot read value 't' of step 0.*PickleSerializer"
        ):
            await cp.get_history("w")


async def test_an_unopenable_path_gives_a_checkpoint_error(tmp_path: Path) -> None:
    cp = SqliteCheckpointer(tmp_path)  # a folder, not a file
    with pytest.raises(CheckpointError, match=str(tmp_path)):
        await cp.initialize()


async def test_a_lock_held_too_long_by_another_connection_gives_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graphflow.checkpointers._sqlite_db.BUSY_TIMEOUT_S", 0.05)
    path = tmp_path / "cp.db"
    async with SqliteCheckpointer(path) as cp:
        await cp.save_step(step(0))
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(CheckpointError, match=r"(?s)stayed locked.*How to fix:"):
                await cp.save_step(step(1))
            other.execute("ROLLBACK")
        finally:
            other.close()
        await cp.save_step(step(2))
        assert [s.values for s in await cp.get_history("w")] == [{"i": 0}, {"i": 2}]
