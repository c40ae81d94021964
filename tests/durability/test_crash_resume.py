"""A worker process killed mid-run (SIGKILL) loses nothing that was saved; a new process
takes over the dead worker's claim and resumes after the last saved superstep.

The worker runs a chain s1 -> ... -> s6; each node appends its name to ``log``. Unless
``GF_RELEASE=1``, s4 writes ``reached`` and then blocks opening a FIFO that no one ever
writes to (no sleeps): the test waits for ``reached``, checks that a second process is
refused while the worker lives, kills the worker, and resumes in a new process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from graphflow.checkpointers import SqliteCheckpointer, Step, Workflow, WorkflowStatus

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 60.0

WORKER = """
import asyncio, json, os, sys
from pathlib import Path

from graphflow import AsyncRunner, Graph, node
from graphflow.checkpointers import SqliteCheckpointer, WorkflowBusyError

HERE = Path(sys.argv[1])


def log(name):
    with open(HERE / "log", "a") as f:
        f.write(name + "\\n")
        f.flush()
        os.fsync(f.fileno())


@node(output_name="v1")
def s1(start: str) -> str:
    log("s1")
    return start + "1"


@node(output_name="v2")
def s2(v1: str) -> str:
    log("s2")
    return v1 + "2"


@node(output_name="v3")
def s3(v2: str) -> str:
    log("s3")
    return v2 + "3"


@node(output_name="v4")
def s4(v3: str) -> str:
    log("s4")
    if os.environ.get("GF_RELEASE") != "1":
        (HERE / "reached").write_text("reached")
        with open(HERE / "fifo") as fifo:  # no writer ever comes: blocks until killed
            fifo.read()
    return v3 + "4"


@node(output_name="v5")
def s5(v4: str) -> str:
    log("s5")
    return v4 + "5"


@node(output_name="v6")
def s6(v5: str) -> str:
    log("s6")
    return v5 + "6"


chain = Graph([s1, s2, s3, s4, s5, s6], name="chain")


async def main():
    cp = SqliteCheckpointer(HERE / "wf.db")
    try:
        result = await AsyncRunner(checkpointer=cp).run(
            chain, json.loads(sys.argv[2]), workflow_id="crash"
        )
    except WorkflowBusyError as exc:
        print(json.dumps({"busy": exc.workflow_id, "owner": exc.owner}))
        return 3
    finally:
        await cp.close()
    print(json.dumps({"status": result.status.value, "outputs": result.outputs}))
    return 0


sys.exit(asyncio.run(main()))
"""


def _env(release: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("GF_RELEASE", None)
    if release:
        env["GF_RELEASE"] = "1"
    return env


def _log(tmp_path: Path) -> list[str]:
    path = tmp_path / "log"
    return path.read_text().split() if path.exists() else []


async def _inspect(db: Path) -> tuple[Workflow | None, list[Step]]:
    cp = SqliteCheckpointer(db)
    try:
        return await cp.get_workflow("crash"), await cp.get_history("crash")
    finally:
        await cp.close()


def _wait_until_reached(proc: subprocess.Popen[str], tmp_path: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not (tmp_path / "reached").exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"worker exited early ({proc.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"worker did not reach s4 within {DEADLINE_S} s")
        time.sleep(0.01)


def test_killed_worker_resumes_in_a_new_process(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    db = tmp_path / "wf.db"

    worker = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), json.dumps({"start": "0"})],
        env=_env(release=False),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_reached(worker, tmp_path)

        # while the worker lives, another process is refused (and runs nothing)
        refused = subprocess.run(
            [sys.executable, str(script), str(tmp_path), "{}"],
            env=_env(release=True),
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )
        assert refused.returncode == 3, refused.stderr
        busy = json.loads(refused.stdout)
        assert busy["busy"] == "crash"
        assert busy["owner"].startswith(f"{socket.gethostname()}:{worker.pid}:")
        assert _log(tmp_path) == ["s1", "s2", "s3", "s4"]

        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=DEADLINE_S)  # reap it: a zombie still looks alive
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == -signal.SIGKILL

    # every superstep finished before the kill is saved; the dead worker still holds it
    workflow, history = asyncio.run(_inspect(db))
    assert workflow is not None
    assert workflow.status == WorkflowStatus.RUNNING
    assert workflow.owner is not None
    assert workflow.owner.startswith(f"{socket.gethostname()}:{worker.pid}:")
    assert [s.kind for s in history] == ["inputs", "superstep", "superstep", "superstep"]
    assert [[r.node for r in s.results] for s in history[1:]] == [["s1"], ["s2"], ["s3"]]
    assert [s.values for s in history] == [
        {"start": "0"},
        {"v1": "01"},
        {"v2": "012"},
        {"v3": "0123"},
    ]
    assert len({s.run_id for s in history}) == 1
    dead_run = history[0].run_id

    # a new process resumes with the same workflow_id and nothing new
    resumed = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "{}"],
        env=_env(release=True),
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"status": "completed", "outputs": {"v6": "0123456"}}

    ran = Counter(_log(tmp_path))
    assert ran == Counter(s1=1, s2=1, s3=1, s4=2, s5=1, s6=1)
    assert _log(tmp_path) == ["s1", "s2", "s3", "s4", "s4", "s5", "s6"]

    workflow, after = asyncio.run(_inspect(db))
    assert workflow is not None
    assert workflow.status == WorkflowStatus.SUCCESS
    assert workflow.owner is None  # the dead worker's claim was taken over, then released
    assert after[: len(history)] == history  # nothing saved before the kill was lost
    new_steps = after[len(history) :]
    assert [[r.node for r in s.results] for s in new_steps] == [["s4"], ["s5"], ["s6"]]
    assert all(s.run_id != dead_run for s in new_steps)
    assert [s.index for s in after] == list(range(len(after)))
