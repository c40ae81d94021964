"""Test helpers for graphflow users: in-memory trace capture and trace-tree assertions.

``capture_traces()`` (and the pytest fixture ``graphflow_traces``) give a private tracer
provider and metrics registry; ``assert_tree`` / ``format_tree`` work on any trace tree given
as plain data, such as the trees ``JaegerClient`` (Jaeger's ``/api/v3`` query API) and
``tree_from_otlp_json`` (any OTLP/JSON) build from traces read back from a store. Every helper
but the tree functions is imported on first access (the capture helpers need the ``otel``
extra), so ``import graphflow.testing`` (which pytest does for the plugin) stays cheap.

Example:
    >>> from graphflow.testing import capture_traces
    >>> with capture_traces() as captured:
    ...     SyncRunner(event_processors=captured.processors).run(graph, {"x": 1})
    >>> captured.assert_tree('''
    ... run pipeline
    ... ├── node fetch
    ... └── node embed
    ... ''')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphflow._optional import lazy_exports
from graphflow.testing.tree import SpanEventData, SpanTree, assert_tree, format_tree

if TYPE_CHECKING:
    from graphflow.testing.capture import (
        CapturedTraces,
        SpanView,
        capture_traces,
        tree_from_spans,
    )
    from graphflow.testing.jaeger import JaegerClient, TraceNotFoundError, tree_from_otlp_json

__all__ = [
    "CapturedTraces",
    "JaegerClient",
    "SpanEventData",
    "SpanTree",
    "SpanView",
    "TraceNotFoundError",
    "assert_tree",
    "capture_traces",
    "format_tree",
    "tree_from_otlp_json",
    "tree_from_spans",
]

# Public name -> module that defines it (loaded on first access: it imports the OTel SDK).
_LAZY: dict[str, str] = {
    "CapturedTraces": "graphflow.testing.capture",
    "SpanView": "graphflow.testing.capture",
    "capture_traces": "graphflow.testing.capture",
    "tree_from_spans": "graphflow.testing.capture",
    # standard library only, loaded on first access too (urllib is not free to import)
    "JaegerClient": "graphflow.testing.jaeger",
    "TraceNotFoundError": "graphflow.testing.jaeger",
    "tree_from_otlp_json": "graphflow.testing.jaeger",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
