"""Exporter wiring that sends graphflow telemetry out of the process (OTLP, console, JSONL).

Every name is loaded on first access, so ``import graphflow.exporters`` imports no
OpenTelemetry SDK; each needs the ``otel`` extra only when used.

Example:
    >>> from graphflow.exporters import FileSpanExporter
    >>> exporter = FileSpanExporter("out/spans.jsonl")  # one OTLP/JSON request per line
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphflow.exporters.file import FileSpanExporter, encode_otlp_json

__all__ = ["FileSpanExporter", "encode_otlp_json"]

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "FileSpanExporter": "graphflow.exporters.file",
    "encode_otlp_json": "graphflow.exporters.file",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
