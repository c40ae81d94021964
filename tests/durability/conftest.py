"""Shared fixtures for the durability suite: one store per test, memory or SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from graphflow.checkpointers import (
    Checkpointer,
    MemoryCheckpointer,
    Serializer,
    SqliteCheckpointer,
)

Factory = Callable[..., Checkpointer]


@pytest.fixture(params=["memory", "sqlite"])
async def make_checkpointer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Factory]:
    """Builds checkpointers over one store (for SQLite: new objects on one file ``wf.db``,
    like separate processes of one deployment). Every object made is closed afterwards."""
    kind: str = request.param
    shared = MemoryCheckpointer()
    made: list[Checkpointer] = []

    def make(*, serializer: Serializer | None = None) -> Checkpointer:
        cp: Checkpointer
        if kind == "sqlite":
            cp = SqliteCheckpointer(tmp_path / "wf.db", serializer=serializer)
        else:
            cp = shared if serializer is None else MemoryCheckpointer(serializer=serializer)
        made.append(cp)
        return cp

    yield make
    for cp in made:
        await cp.close()


@pytest.fixture
def checkpointer(make_checkpointer: Factory) -> Checkpointer:
    """One checkpointer of the parametrized kind."""
    return make_checkpointer()
