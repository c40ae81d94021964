"""Fixtures for the processor tests: a fresh registry, and one way to drive either runner."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from graphflow import AsyncRunner, Cache, EventProcessor, Graph, SyncRunner
from graphflow.events import reset_processor_error_counts


class Drive:
    """Runs graphs on a SyncRunner or an AsyncRunner; ``kind`` is ``"sync"`` or ``"async"``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def runner(self, processors: Sequence[EventProcessor], *, cache: Cache | None = None) -> Any:
        cls = SyncRunner if self.kind == "sync" else AsyncRunner
        return cls(cache=cache, event_processors=processors)

    def run(self, runner: Any, graph: Graph, inputs: dict[str, Any], **kw: Any) -> Any:
        """The run's outputs (sync) or its RunResult (async)."""
        if self.kind == "sync":
            return runner.run(graph, inputs, **kw)
        return asyncio.run(runner.run(graph, inputs, **kw))

    def map(self, runner: Any, graph: Graph, inputs: dict[str, Any], **kw: Any) -> Any:
        if self.kind == "sync":
            return runner.map(graph, inputs, **kw)
        return asyncio.run(runner.map(graph, inputs, **kw))


@pytest.fixture(params=["sync", "async"])
def drive(request: pytest.FixtureRequest) -> Drive:
    """A Drive for each runner kind."""
    return Drive(request.param)


@pytest.fixture
def registry() -> CollectorRegistry:
    """A private Prometheus registry."""
    return CollectorRegistry()


@pytest.fixture
def clean_error_counts() -> Any:
    """Processor error counts are process-wide: start and end the test with none."""
    reset_processor_error_counts()
    yield
    reset_processor_error_counts()
