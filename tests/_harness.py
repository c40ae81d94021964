"""Harness: call SyncRunner and AsyncRunner the same way, for suites parametrized over both."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

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
