"""Exporter wiring that sends graphflow telemetry out of the process (OTLP, console, JSONL).

Every name but ``instrument``/``Instrumentation`` is loaded on first access, and none of them
imports the OpenTelemetry SDK or ``prometheus_client`` before it is used, so
``import graphflow.exporters`` stays cheap; each needs its extra (``otel``, ``prometheus``)
only when used.

Example:
    >>> from graphflow.exporters import FileSpanExporter
    >>> exporter = FileSpanExporter("out/spans.jsonl")  # one OTLP/JSON request per line
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphflow._optional import lazy_exports

# Eager on purpose (it imports no optional package): binding the function here, once, keeps
# `graphflow.exporters.instrument` the function even after something imports the submodule
# of the same name (the import system sets that attribute only when it first loads it).
from graphflow.exporters.instrument import Instrumentation, instrument

if TYPE_CHECKING:
    from graphflow.exporters.file import FileSpanExporter, encode_otlp_json
    from graphflow.exporters.instrumentor import GraphflowInstrumentor
    from graphflow.exporters.metrics_http import MetricsServer, serve_metrics
    from graphflow.exporters.otlp import (
        CountingSpanExporter,
        batch_processor,
        otlp_drop_counts,
        otlp_span_exporter,
    )

__all__ = [
    "CountingSpanExporter",
    "FileSpanExporter",
    "GraphflowInstrumentor",
    "Instrumentation",
    "MetricsServer",
    "batch_processor",
    "encode_otlp_json",
    "instrument",
    "otlp_drop_counts",
    "otlp_span_exporter",
    "serve_metrics",
]

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "CountingSpanExporter": "graphflow.exporters.otlp",
    "FileSpanExporter": "graphflow.exporters.file",
    "GraphflowInstrumentor": "graphflow.exporters.instrumentor",
    "MetricsServer": "graphflow.exporters.metrics_http",
    "batch_processor": "graphflow.exporters.otlp",
    "encode_otlp_json": "graphflow.exporters.file",
    "otlp_drop_counts": "graphflow.exporters.otlp",
    "otlp_span_exporter": "graphflow.exporters.otlp",
    "serve_metrics": "graphflow.exporters.metrics_http",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
