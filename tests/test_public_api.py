"""The public API is a contract: ``graphflow.__all__`` is pinned here, name by name.

Adding or removing a public name is a deliberate change to this list (and to the docs).
"""

from __future__ import annotations

import inspect

import pytest

import graphflow

EXPECTED = sorted(
    [
        # graph model
        "Graph",
        "GraphNode",
        "FunctionNode",
        "InterruptNode",
        "RouteNode",
        "IfElseNode",
        "node",
        "route",
        "ifelse",
        "END",
        "InputSpec",
        # runners
        "SyncRunner",
        "AsyncRunner",
        "DaftRunner",
        "BaseRunner",
        "RunnerCapabilities",
        "ExecutionStrategy",
        "get_execution_strategy",
        "validate_runner_compatibility",
        "validate_map_compatible",
        "RunResult",
        "RunStatus",
        "PauseInfo",
        "PauseReason",
        "RunHandle",
        # caches
        "Cache",
        "MemoryCache",
        "DiskCache",
        # events
        "Event",
        "EventProcessor",
        "AsyncEventProcessor",
        "TypedEventProcessor",
        "RunStartEvent",
        "RunEndEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "NodeErrorEvent",
        "StreamingChunkEvent",
        "CacheHitEvent",
        "RouteDecisionEvent",
        "InterruptEvent",
        "MapStartEvent",
        "MapEndEvent",
        # telemetry (a lazy re-export of graphflow.exporters.instrument)
        "instrument",
        # exceptions
        "GraphflowError",
        "GraphConfigError",
        "ConflictError",
        "MissingInputError",
        "InfiniteLoopError",
        "IncompatibleRunnerError",
        "InputError",
        "ExecutionError",
        "NodeOutputError",
        "RouteError",
        "RunHandleError",
        "ImmutableGraphError",
        "MissingDependencyError",
        # metadata
        "__version__",
    ]
)

# Names that are not classes or functions defined by graphflow, so their __module__ is not
# rewritten: END is a sentinel value, Event is a type alias (a Union), __version__ is a str.
NOT_REWRITTEN = {"END", "Event", "__version__"}


def test_all_matches_the_pinned_list() -> None:
    assert sorted(graphflow.__all__) == EXPECTED


def test_all_has_no_duplicates() -> None:
    assert len(graphflow.__all__) == len(set(graphflow.__all__))


def test_every_public_name_resolves() -> None:
    missing = [name for name in graphflow.__all__ if not hasattr(graphflow, name)]
    assert missing == []


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - NOT_REWRITTEN))
def test_public_objects_report_the_graphflow_module(name: str) -> None:
    obj = getattr(graphflow, name)
    assert inspect.isclass(obj) or inspect.isfunction(obj), f"{name} is {type(obj).__name__}"
    assert obj.__module__ == "graphflow", (
        f"graphflow.{name}.__module__ is {obj.__module__!r}; graphflow/__init__.py must "
        "rewrite it so tracebacks and reprs show the public path"
    )


def test_version_is_a_string() -> None:
    assert isinstance(graphflow.__version__, str)
    assert graphflow.__version__


def test_checkpointers_are_importable() -> None:
    from graphflow.checkpointers import (
        Checkpointer,
        MemoryCheckpointer,
        SqliteCheckpointer,
    )

    assert all(inspect.isclass(c) for c in (Checkpointer, MemoryCheckpointer, SqliteCheckpointer))
