"""graphflow: plain Python functions wired into graphs, run sync, async or on Daft, traced.

This module is the one public door: every public name is listed in ``__all__``.

Example:
    >>> from graphflow import Graph, SyncRunner, node
    >>> @node(output_name="doubled")
    ... def double(x: int) -> int:
    ...     return x * 2
    >>> SyncRunner().run(Graph([double]), {"x": 3})
    {'doubled': 6}
"""

from __future__ import annotations

import inspect
from typing import Any

from graphflow.cache import Cache, DiskCache, MemoryCache
from graphflow.events import (
    AsyncEventProcessor,
    CacheHitEvent,
    Event,
    EventProcessor,
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    StreamingChunkEvent,
    TypedEventProcessor,
)
from graphflow.exceptions import (
    ConflictError,
    ExecutionError,
    GraphConfigError,
    GraphflowError,
    ImmutableGraphError,
    IncompatibleRunnerError,
    InfiniteLoopError,
    InputError,
    MissingDependencyError,
    MissingInputError,
    NodeOutputError,
    RouteError,
    RunHandleError,
)
from graphflow.graph import (
    END,
    FunctionNode,
    Graph,
    GraphNode,
    IfElseNode,
    InputSpec,
    InterruptNode,
    RouteNode,
    ifelse,
    node,
    route,
)
from graphflow.runners import (
    AsyncRunner,
    BaseRunner,
    DaftRunner,
    ExecutionStrategy,
    PauseInfo,
    PauseReason,
    RunHandle,
    RunnerCapabilities,
    RunResult,
    SyncRunner,
    get_execution_strategy,
    validate_map_compatible,
    validate_runner_compatibility,
)

__version__ = "0.1.0"

__all__ = [
    "END",
    "AsyncEventProcessor",
    "AsyncRunner",
    "BaseRunner",
    "Cache",
    "CacheHitEvent",
    "ConflictError",
    "DaftRunner",
    "DiskCache",
    "Event",
    "EventProcessor",
    "ExecutionError",
    "ExecutionStrategy",
    "FunctionNode",
    "Graph",
    "GraphConfigError",
    "GraphNode",
    "GraphflowError",
    "IfElseNode",
    "ImmutableGraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputError",
    "InputSpec",
    "InterruptEvent",
    "InterruptNode",
    "MapEndEvent",
    "MapStartEvent",
    "MemoryCache",
    "MissingDependencyError",
    "MissingInputError",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeOutputError",
    "NodeStartEvent",
    "PauseInfo",
    "PauseReason",
    "RouteDecisionEvent",
    "RouteError",
    "RouteNode",
    "RunEndEvent",
    "RunHandle",
    "RunHandleError",
    "RunResult",
    "RunStartEvent",
    "RunStatus",
    "RunnerCapabilities",
    "StreamingChunkEvent",
    "SyncRunner",
    "TypedEventProcessor",
    "__version__",
    "get_execution_strategy",
    "ifelse",
    "instrument",
    "node",
    "route",
    "validate_map_compatible",
    "validate_runner_compatibility",
]

# Tracebacks and reprs show the public path (graphflow.SyncRunner), not private modules.
for _name in __all__:
    _obj: Any = globals().get(_name)  # None for the lazy `instrument` (see __getattr__)
    if isinstance(_obj, type) or inspect.isfunction(_obj):
        _obj.__module__ = "graphflow"
del _name, _obj


def __getattr__(name: str) -> Any:
    # `graphflow.instrument` is loaded on first use: the one place the core reaches the
    # exporters (STYLE.md section 3), so `import graphflow` imports no telemetry package.
    if name == "instrument":
        from graphflow.exporters import instrument

        instrument.__module__ = "graphflow"
        globals()[name] = instrument  # later lookups skip __getattr__
        return instrument
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
