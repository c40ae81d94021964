"""FileSpanExporter: spans appended to a file, one OTLP/JSON export request per line.

Each line is an ``ExportTraceServiceRequest`` in the OTLP/JSON encoding
(``{"resourceSpans": [...]}``: lowerCamelCase keys, 64-bit integers as strings, enums as
integers, trace and span ids as lowercase hex): the OpenTelemetry "file exporter" JSON-lines
format, which the Collector's ``otlpjsonfile`` receiver and Jaeger UI's JSON upload (releases
since mid-2024) read; each line is also a valid OTLP/HTTP JSON body. Spans are encoded with
``opentelemetry-exporter-otlp-proto-common`` (part of the ``otel`` extra), the encoder the OTLP
exporters use, so the files carry exactly what an OTLP exporter would send.

The SDK is an optional dependency and this package may not import it at module level, so the
:class:`FileSpanExporter` class (a real ``SpanExporter`` subclass) is built on first access.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphflow._optional import require

from ._lazy import sdk_subclass

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["FileSpanExporter", "encode_otlp_json"]

logger = logging.getLogger("graphflow")

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(item: dict[str, Any]) -> None:
    """Replace the protobuf-JSON base64 ids of a span or link with OTLP/JSON hex ids."""
    for key in _ID_KEYS:
        value = item.get(key)
        if isinstance(value, str):
            item[key] = base64.b64decode(value).hex()


def encode_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """Encode finished SDK spans as one OTLP/JSON ``ExportTraceServiceRequest`` dict.

    Raises:
        MissingDependencyError: ``opentelemetry-exporter-otlp-proto-common`` is not installed.

    Example:
        >>> request = encode_otlp_json(exporter.get_finished_spans())
        >>> request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"]
        '5fb397be34d26b51'
    """
    require("opentelemetry.exporter.otlp.proto.common", "otel", "FileSpanExporter")
    from google.protobuf.json_format import (  # type: ignore[import-untyped]  # no stubs in dev
        MessageToDict,
    )
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    request: dict[str, Any] = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in request.get("resourceSpans", ()):
        for scope_spans in resource_spans.get("scopeSpans", ()):
            for span in scope_spans.get("spans", ()):
                _hex_ids(span)
                for link in span.get("links", ()):
                    _hex_ids(link)
    return request


class _FileSpanExporterImpl:
    """Append each export batch to ``path`` as one line of OTLP/JSON.

    Args:
        path: the file; created (with its parent folders) if missing, appended to otherwise.

    Thread-safe: concurrent exports write whole lines. ``shutdown()`` closes the file; later
    exports return ``FAILURE``. An export that cannot encode or write logs the error and
    returns ``FAILURE`` instead of raising.

    Raises:
        MissingDependencyError: the ``otel`` extra is not installed.
        OSError: the file cannot be opened.

    Example:
        >>> provider = TracerProvider()
        >>> provider.add_span_processor(
        ...     SimpleSpanProcessor(FileSpanExporter("out/quickstart.spans.jsonl"))
        ... )
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        require("opentelemetry.sdk.trace.export", "otel", "FileSpanExporter")
        require("opentelemetry.exporter.otlp.proto.common", "otel", "FileSpanExporter")
        from opentelemetry.sdk.trace.export import SpanExportResult

        self._result = SpanExportResult
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"FileSpanExporter({str(self.path)!r})"

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the batch as one line; ``SUCCESS``, or ``FAILURE`` (logged) on any error."""
        if self._closed:
            return self._result.FAILURE
        if not spans:
            return self._result.SUCCESS
        try:
            line = json.dumps(encode_otlp_json(spans), separators=(",", ":"), ensure_ascii=False)
            with self._lock:
                if self._closed:
                    return self._result.FAILURE
                self._file.write(line + "\n")
                self._file.flush()
        except Exception:
            logger.exception(
                "FileSpanExporter could not write %d span(s) to %s", len(spans), self.path
            )
            return self._result.FAILURE
        return self._result.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the file (every export already flushes its line)."""
        with self._lock:
            if not self._closed:
                self._file.flush()
        return True

    def shutdown(self) -> None:
        """Close the file; idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._file.close()


if TYPE_CHECKING:

    class FileSpanExporter(_FileSpanExporterImpl, SpanExporter):
        """An SDK ``SpanExporter`` writing OTLP/JSON lines (see ``_FileSpanExporterImpl``)."""


def __getattr__(name: str) -> Any:
    if name == "FileSpanExporter":
        cls = globals()[name] = sdk_subclass(  # later lookups skip __getattr__
            name, _FileSpanExporterImpl, "opentelemetry.sdk.trace.export", "SpanExporter", __name__
        )
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
