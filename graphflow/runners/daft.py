"""DaftRunner: DAG graphs as Daft DataFrames, locally or on a Ray cluster.

This module imports without ``daft``; constructing a DaftRunner needs the ``daft`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from graphflow._optional import require
from graphflow.cache import Cache
from graphflow.events import EventProcessor
from graphflow.exceptions import ExecutionError
from graphflow.graph import Graph
from graphflow.runners._setup import check_processors
from graphflow.runners.base import BaseRunner, RunnerCapabilities

__all__ = ["DaftRunner"]

_CAPS = RunnerCapabilities(
    supports_cycles=False,
    supports_gates=False,
    supports_interrupts=False,
    supports_async_nodes=True,
    supports_streaming=False,
    supports_distributed=True,
    returns_coroutine=False,
)

_NOT_YET = (
    "Executing graphs on Daft is not available in this version of graphflow: "
    "DaftRunner validates graphs (capabilities, nesting) but does not run them yet.\n\n"
    "How to fix: run the graph with SyncRunner or AsyncRunner."
)


class DaftRunner(BaseRunner):
    """Run DAG graphs on Daft (https://www.getdaft.io): local by default, Ray when configured.

    DAGs only: cycles, gates and interrupts raise ``IncompatibleRunnerError``.

    Args:
        cache: cache backend (``MemoryCache`` is per worker; ``DiskCache`` is shared when
            its path is shared).
        event_processors: processors that receive the run's events.

    Raises:
        MissingDependencyError: (an ImportError) when ``daft`` is not installed.
    """

    runner_kind = "daft"

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> None:
        require("daft", "daft", "DaftRunner")
        self._cache = cache
        self._processors = check_processors(event_processors, "DaftRunner")

    @property
    def capabilities(self) -> RunnerCapabilities:
        """DAGs with sync or async nodes, distributed; no cycles, gates or interrupts."""
        return _CAPS

    def run(self, graph: Graph, inputs: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Run one item on Daft and return its outputs."""
        self.check_graph(graph)
        raise ExecutionError(_NOT_YET)

    def map(
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        map_over: str | list[str],
        map_mode: Literal["zip", "product"] = "zip",
        **kwargs: Any,
    ) -> Any:
        """Run ``graph`` once per item as a lazy ``daft.DataFrame``."""
        self.check_graph(graph)
        raise ExecutionError(_NOT_YET)

    def _drive_child(self, child: Any) -> None:
        raise ExecutionError(_NOT_YET)
