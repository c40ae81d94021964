"""What goes wrong with persistence, and how it is reported: values that cannot be saved,
overlapping runs of one workflow, a corrupt database, a node that raises, and runs that
are not persisted at all."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from graphflow import AsyncRunner, Graph, GraphflowError, RunStatus, node
from graphflow.checkpointers import (
    Checkpointer,
    CheckpointError,
    CorruptCheckpointError,
    PickleSerializer,
    SerializationError,
    SqliteCheckpointer,
    WorkflowBusyError,
    WorkflowStatus,
)

Factory = Callable[..., Checkpointer]  # the make_checkpointer fixture
TIMEOUT = 10.0


def make_tagger(calls: Counter[str]) -> Graph:
    """double -> tag, where tag returns a set (not JSON)."""

    @node(output_name="doubled")
    def double(x: int) -> int:
        calls["double"] += 1
        return x * 2

    @node(output_name="tags")
    def tag(doubled: int) -> set[int]:
        calls["tag"] += 1
        return {doubled, doubled + 1}

    return Graph([double, tag], name="tagger")


async def test_unserializable_output_fails_the_run_naming_node_and_output(
    checkpointer: Checkpointer,
) -> None:
    calls: Counter[str] = Counter()
    runner = AsyncRunner(checkpointer=checkpointer)
    with pytest.raises(SerializationError) as info:
        await runner.run(make_tagger(calls), {"x": 1}, workflow_id="w")
    err = info.value
    assert isinstance(err, GraphflowError)
    assert isinstance(err, TypeError)
    assert (err.workflow_id, err.node, err.output) == ("w", "tag", "tags")
    assert "'tag'" in str(err) and "'tags'" in str(err) and "set" in str(err)
    assert "PickleSerializer" in str(err)  # says how to fix it

    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None
    assert workflow.status == WorkflowStatus.ERROR
    assert workflow.owner is None
    # the steps before are saved; nothing of the failed step is
    history = await checkpointer.get_history("w")
    assert [[r.node for r in s.results] for s in history] == [[], ["double"]]
    assert "tags" not in await checkpointer.get_state("w")


async def test_pickle_serializer_accepts_a_set(make_checkpointer: Factory) -> None:
    calls: Counter[str] = Counter()
    graph = make_tagger(calls)
    cp = make_checkpointer(serializer=PickleSerializer())
    result = await AsyncRunner(checkpointer=cp).run(graph, {"x": 1}, workflow_id="w")
    assert result.status == RunStatus.COMPLETED
    assert result["tags"] == {2, 3}
    assert (await cp.get_state("w"))["tags"] == {2, 3}
    workflow = await cp.get_workflow("w")
    assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS
    again = await AsyncRunner(checkpointer=cp).run(graph, {}, workflow_id="w")
    assert again["tags"] == {2, 3}
    assert calls == Counter(double=1, tag=1)


def make_gated(started: asyncio.Event, release: asyncio.Event) -> Graph:
    @node(output_name="y")
    async def held(x: int) -> int:
        started.set()
        await release.wait()
        return x * 10

    return Graph([held], name="gated")


async def test_concurrent_runs_of_one_workflow_are_refused(make_checkpointer: Factory) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    graph = make_gated(started, release)
    cp_a = make_checkpointer()
    run_a = asyncio.create_task(
        AsyncRunner(checkpointer=cp_a).run(graph, {"x": 1}, workflow_id="w")
    )
    try:
        await asyncio.wait_for(started.wait(), TIMEOUT)
        history_before = await cp_a.get_history("w")

        cp_b = make_checkpointer()  # another runner, another object on the same store
        with pytest.raises(WorkflowBusyError) as info:
            await asyncio.wait_for(
                AsyncRunner(checkpointer=cp_b).run(graph, {"x": 2}, workflow_id="w"), TIMEOUT
            )
        err = info.value
        assert isinstance(err, GraphflowError)
        assert err.workflow_id == "w"
        assert "'w'" in str(err)
        # B changed nothing: A still holds the workflow, B saved no inputs
        workflow = await cp_b.get_workflow("w")
        assert workflow is not None
        assert workflow.status == WorkflowStatus.RUNNING
        assert workflow.owner == err.owner
        assert await cp_b.get_history("w") == history_before

        # another workflow id is not blocked
        other = await asyncio.wait_for(
            AsyncRunner(checkpointer=cp_b).run(
                Graph([node(lambda x: x + 1, output_name="z", name="inc")]),
                {"x": 1},
                workflow_id="other",
            ),
            TIMEOUT,
        )
        assert other.status == RunStatus.COMPLETED
    finally:
        release.set()
    result_a = await asyncio.wait_for(run_a, TIMEOUT)
    assert result_a.status == RunStatus.COMPLETED
    assert result_a["y"] == 10

    # after A finished, B can run
    result_b = await asyncio.wait_for(
        AsyncRunner(checkpointer=make_checkpointer()).run(graph, {"x": 2}, workflow_id="w"),
        TIMEOUT,
    )
    assert result_b.status == RunStatus.COMPLETED
    assert result_b["y"] == 20


async def test_node_error_propagates_and_marks_the_workflow_error(
    checkpointer: Checkpointer,
) -> None:
    calls: Counter[str] = Counter()

    @node(output_name="prepared")
    def prepare(x: int) -> int:
        calls["prepare"] += 1
        return x + 1

    @node(output_name="y")
    def divide(prepared: int, by: int) -> float:
        calls["divide"] += 1
        return prepared / by

    graph = Graph([prepare, divide], name="divider")
    runner = AsyncRunner(checkpointer=checkpointer)
    with pytest.raises(ZeroDivisionError):  # the node's own exception, unchanged
        await runner.run(graph, {"x": 1, "by": 0}, workflow_id="w")
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None
    assert workflow.status == WorkflowStatus.ERROR
    assert workflow.owner is None

    # fix the input and resume: the work saved before the error is not redone
    result = await runner.run(graph, {"by": 2}, workflow_id="w")
    assert result.status == RunStatus.COMPLETED
    assert result["y"] == 1.0
    assert calls == Counter(prepare=1, divide=2)
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS


def make_counter(calls: Counter[str]) -> Graph:
    @node(output_name="y")
    def inc(x: int) -> int:
        calls["inc"] += 1
        return x + 1

    return Graph([inc], name="counter")


async def test_garbage_database_file_gives_corrupt_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "wf.db"
    garbage = b"this is not an sqlite database\n" * 200
    path.write_bytes(garbage)
    calls: Counter[str] = Counter()
    cp = SqliteCheckpointer(path)
    try:
        with pytest.raises(CorruptCheckpointError) as info:
            await AsyncRunner(checkpointer=cp).run(make_counter(calls), {"x": 1}, workflow_id="w")
    finally:
        await cp.close()
    assert not isinstance(info.value, sqlite3.Error)
    assert isinstance(info.value, CheckpointError)
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert calls == Counter()  # nothing ran
    assert path.read_bytes() == garbage  # the file is left alone


async def test_foreign_sqlite_database_gives_corrupt_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    calls: Counter[str] = Counter()
    cp = SqliteCheckpointer(path)
    try:
        with pytest.raises(CorruptCheckpointError, match="users"):
            await AsyncRunner(checkpointer=cp).run(make_counter(calls), {"x": 1}, workflow_id="w")
    finally:
        await cp.close()
    assert calls == Counter()


async def test_truncated_database_gives_corrupt_checkpoint_error(tmp_path: Path) -> None:
    path = tmp_path / "wf.db"
    cp = SqliteCheckpointer(path)
    calls: Counter[str] = Counter()
    await AsyncRunner(checkpointer=cp).run(make_counter(calls), {"x": 1}, workflow_id="w")
    await cp.close()
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * (len(data) - 100))  # keep the header only
    cp = SqliteCheckpointer(path)
    try:
        with pytest.raises(CorruptCheckpointError):
            await AsyncRunner(checkpointer=cp).run(make_counter(calls), {"x": 2}, workflow_id="w")
    finally:
        await cp.close()


async def test_workflow_id_without_checkpointer_persists_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    calls: Counter[str] = Counter()
    graph = make_counter(calls)
    runner = AsyncRunner()
    first = await runner.run(graph, {"x": 1}, workflow_id="w")
    assert first.status == RunStatus.COMPLETED
    assert first.workflow_id == "w"  # echoed
    assert first["y"] == 2
    # nothing was kept: a second call with no inputs has nothing to resume from
    with pytest.raises(GraphflowError):
        await runner.run(graph, {}, workflow_id="w")
    assert list(tmp_path.iterdir()) == []  # no file written either
    assert calls == Counter(inc=1)


async def test_checkpointer_without_workflow_id_persists_nothing(
    checkpointer: Checkpointer,
) -> None:
    calls: Counter[str] = Counter()
    result = await AsyncRunner(checkpointer=checkpointer).run(make_counter(calls), {"x": 1})
    assert result.status == RunStatus.COMPLETED
    assert result.workflow_id is None
    assert await checkpointer.list_workflows() == []
