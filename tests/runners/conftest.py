"""Shared fixtures: one suite, parametrized over SyncRunner and AsyncRunner."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import EventProcessor
from tests._harness import Harness


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
