"""Shared fixtures: one contract suite, parametrized over every checkpointer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from graphflow.checkpointers import Checkpointer, MemoryCheckpointer, Serializer, SqliteCheckpointer

REPO_ROOT = Path(__file__).resolve().parents[2]

Factory = Callable[..., Checkpointer]


@pytest.fixture(params=["memory", "sqlite"])
def make_checkpointer(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Builds the checkpointer under test; every call on one test shares one store
    (for SQLite: one file), like instances of one deployment."""
    kind: str = request.param
    shared = MemoryCheckpointer()

    def make(*, serializer: Serializer | None = None) -> Checkpointer:
        if kind == "sqlite":
            return SqliteCheckpointer(tmp_path / "cp.db", serializer=serializer)
        return shared if serializer is None else MemoryCheckpointer(serializer=serializer)

    return make


@pytest.fixture
async def checkpointer(make_checkpointer: Factory) -> AsyncIterator[Checkpointer]:
    cp = make_checkpointer()
    await cp.initialize()
    yield cp
    await cp.close()


class Python:
    """Runs code in new interpreters that import this checkout's graphflow."""

    def __init__(self) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(self, code: str, *args: str) -> str:
        """Run ``code`` to the end; return its stdout (raises if it fails)."""
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, code: str, *args: str) -> subprocess.Popen[str]:
        """Start ``code``, with pipes for stdin and stdout; the caller must stop it."""
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def python() -> Iterator[Python]:
    yield Python()


@pytest.fixture
def dead_owner(python: Python) -> str:
    """An owner id of this host whose process has exited (and been reaped)."""
    pid = int(python.run("import os; print(os.getpid())"))
    return f"{socket.gethostname()}:{pid}:0123456789abcdef"
