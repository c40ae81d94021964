"""Shared fixtures: one suite, parametrized over SyncRunner and AsyncRunner."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from graphflow import AsyncRunner, Cache, EventProcessor, Graph, SyncRunner


class Harness:
    """Calls a runner the same way whichever kind it is; returns plain dicts.

    ``kind`` is "sync" or "async". ``run`` returns the outputs dict (for AsyncRunner the
    RunResult's outputs; ``last_result`` keeps the RunResult).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.last_result: Any = None

    def make(
        self,
        *,
        cache: Cache | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> Any:
        cls = SyncRunner if self.kind == "sync" else AsyncRunner
        return cls(cache=cache, event_processors=event_processors)

    def run(
        self, graph: Graph, inputs: dict[str, Any], *, runner: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        runner = runner or self.make()
        if self.kind == "sync":
            return runner.run(graph, inputs, **kwargs)  # type: ignore[no-any-return]
        self.last_result = asyncio.run(runner.run(graph, inputs, **kwargs))
        return self.last_result.outputs  # type: ignore[no-any-return]

    def map(
        self, graph: Graph, inputs: dict[str, Any], *, runner: Any = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        runner = runner or self.make()
        if self.kind == "sync":
            return runner.map(graph, inputs, **kwargs)  # type: ignore[no-any-return]
        return asyncio.run(runner.map(graph, inputs, **kwargs))  # type: ignore[no-any-return]


@pytest.fixture(params=["sync", "async"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """A Harness for each runner kind."""
    return Harness(request.param)


class Recorder(EventProcessor):
    """Keeps every event it receives, and counts flushes."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.flushes = 0

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def force_flush(self) -> None:
        self.flushes += 1

    def names(self) -> list[str]:
        """Event class names with node names: ``["RunStartEvent", "NodeStartEvent:f", ...]``."""
        out = []
        for e in self.events:
            label = type(e).__name__
            name = getattr(e, "node_name", None) or getattr(e, "gate_name", None)
            out.append(f"{label}:{name}" if name else label)
        return out


@pytest.fixture
def recorder() -> Recorder:
    """A fresh Recorder."""
    return Recorder()


@pytest.fixture
def make_recorder() -> type[Recorder]:
    """The Recorder class itself, for tests that need several recorders."""
    return Recorder
