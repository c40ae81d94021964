"""OTLP span export with counted losses: the exporter, a counting wrapper, a bounded batcher.

Telemetry is lossy by design (a full queue, a collector that is down), but never silently:
every span lost on the way out is counted by reason, ``(processor, reason)``:

- ``export_failed``: the exporter returned ``FAILURE`` or raised (its spans are gone);
- ``queue_full``: the bounded batch queue was full and the SDK evicted a span;
- ``shutdown``: a span ended after its batch processor was shut down.

Counts are process-wide (:func:`otlp_drop_counts`, kept by
``graphflow.events.record_telemetry_drop``); every ``PrometheusProcessor`` reports them as
``graphflow_telemetry_dropped_total{processor="otlp", reason=...}``. The SDK is
imported lazily (``CountingSpanExporter`` is built on first access, like ``FileSpanExporter``).
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphflow._optional import require
from graphflow.events import (
    record_telemetry_drop,
    reset_telemetry_drop_counts,
    telemetry_drop_counts,
)
from graphflow.exceptions import GraphConfigError

from ._lazy import sdk_subclass

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

__all__ = [
    "DROP_REASON_EXPORT_FAILED",
    "DROP_REASON_QUEUE_FULL",
    "DROP_REASON_SHUTDOWN",
    "CountingSpanExporter",
    "batch_processor",
    "otlp_drop_counts",
    "otlp_span_exporter",
    "reset_otlp_drop_counts",
]

logger = logging.getLogger("graphflow")

DROP_REASON_EXPORT_FAILED = "export_failed"
DROP_REASON_QUEUE_FULL = "queue_full"
DROP_REASON_SHUTDOWN = "shutdown"

PROTOCOLS = ("grpc", "http/protobuf")
_EXPORTER_MODULES = {
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
}
_TRACES_PATH = "/v1/traces"

# --------------------------------------------------------------------------- drop accounting


def record_drop(processor: str, reason: str, count: int = 1) -> None:
    """Count ``count`` spans lost by ``processor`` (a label, e.g. ``"otlp"``); never raises.

    Goes to ``graphflow.events.record_telemetry_drop``, which every ``PrometheusProcessor``
    reports as ``graphflow_telemetry_dropped_total``.
    """
    record_telemetry_drop(processor, reason, count)


def otlp_drop_counts() -> dict[tuple[str, str], int]:
    """Spans lost on the way out since start (or reset), by ``(processor, reason)``."""
    return telemetry_drop_counts()


def reset_otlp_drop_counts() -> None:
    """Forget every counted drop. For tests."""
    reset_telemetry_drop_counts()


# --------------------------------------------------------------------------- exporters


def _protocol(protocol: str | None) -> str:
    chosen = (
        protocol
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    if chosen not in PROTOCOLS:
        raise GraphConfigError(
            f"Unsupported OTLP protocol {chosen!r} (valid: {', '.join(PROTOCOLS)}).\n\n"
            "How to fix: pass protocol='grpc' (port 4317) or protocol='http/protobuf' (port "
            "4318), or set OTEL_EXPORTER_OTLP_PROTOCOL to one of them."
        )
    return chosen


def otlp_span_exporter(
    endpoint: str | None = None,
    *,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> SpanExporter:
    """Build the SDK's OTLP span exporter (``opentelemetry-exporter-otlp``).

    Every ``None`` argument is left to the SDK exporter, which reads the standard variables
    (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._HEADERS``,
    ``..._TIMEOUT``, ``..._INSECURE``, ``..._COMPRESSION``, certificates); an explicit argument
    wins over the environment.

    Args:
        endpoint: gRPC: ``http://host:4317`` (plaintext) or ``https://host:4317``. HTTP: the
            traces URL; a bare ``http://host:4318`` gets ``/v1/traces`` appended.
        protocol: ``"grpc"`` or ``"http/protobuf"``; ``None`` reads
            ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``, else gRPC.
        headers: sent with every export (e.g. an API key).
        timeout: seconds one export may take, retries included (SDK default 10).

    Raises:
        GraphConfigError: an unknown protocol.
        MissingDependencyError: the ``otel`` extra is not installed.

    Example:
        >>> exporter = otlp_span_exporter("http://127.0.0.1:4317", timeout=5)
    """
    chosen = _protocol(protocol)
    if chosen != "grpc" and endpoint is not None and urlsplit(endpoint).path in ("", "/"):
        endpoint = endpoint.rstrip("/") + _TRACES_PATH
    module = require(_EXPORTER_MODULES[chosen], "otel", f"OTLP span export ({chosen})")
    header_dict = dict(headers) if headers is not None else None
    exporter: SpanExporter = module.OTLPSpanExporter(
        endpoint=endpoint, headers=header_dict, timeout=timeout
    )
    return exporter


class _CountingSpanExporterImpl:
    """Wrap a span exporter: count the spans of failed exports as drops, never raise.

    Args:
        inner: the exporter doing the work (OTLP, file, console...).
        name: the ``processor`` label of its drops (``"otlp"``).

    A failed export (``FAILURE`` or an exception, logged in full the first time, at debug
    level after that) counts its spans with ``reason="export_failed"`` and returns
    ``FAILURE``. ``shutdown()`` and ``force_flush()`` are passed on and never raise.

    Example:
        >>> exporter = CountingSpanExporter(otlp_span_exporter("http://127.0.0.1:4317"))
        >>> provider.add_span_processor(BatchSpanProcessor(exporter))
    """

    def __init__(self, inner: SpanExporter, *, name: str = "otlp") -> None:
        require("opentelemetry.sdk.trace.export", "otel", "CountingSpanExporter")
        from opentelemetry.sdk.trace.export import SpanExportResult

        self._result = SpanExportResult
        self.inner = inner
        self.name = name
        self._logged = False

    def __repr__(self) -> str:
        return f"CountingSpanExporter({self.inner!r}, name={self.name!r})"

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export through ``inner``; on failure count ``len(spans)`` drops."""
        try:
            result = self.inner.export(spans)
        except Exception:
            if not self._logged:
                self._logged = True
                logger.exception(
                    "Span exporter %r raised; its spans are dropped and counted. Later errors "
                    "are logged at debug level.",
                    self.inner,
                )
            else:
                logger.debug("Span exporter %r raised", self.inner, exc_info=True)
            result = self._result.FAILURE
        if result is not self._result.SUCCESS:
            record_drop(self.name, DROP_REASON_EXPORT_FAILED, len(spans))
            return self._result.FAILURE
        return result

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush ``inner``; False if it fails."""
        try:
            return bool(self.inner.force_flush(timeout_millis))
        except Exception:
            logger.debug("Span exporter %r failed to flush", self.inner, exc_info=True)
            return False

    def shutdown(self) -> None:
        """Shut ``inner`` down; errors are logged, never raised."""
        try:
            self.inner.shutdown()
        except Exception:
            logger.warning("Span exporter %r failed to shut down", self.inner, exc_info=True)


if TYPE_CHECKING:

    class CountingSpanExporter(_CountingSpanExporterImpl, SpanExporter):
        """An SDK ``SpanExporter`` counting failed exports (see ``_CountingSpanExporterImpl``)."""


def _counting_exporter_class() -> type[Any]:
    return sdk_subclass(
        "CountingSpanExporter",
        _CountingSpanExporterImpl,
        "opentelemetry.sdk.trace.export",
        "SpanExporter",
        __name__,
    )


def __getattr__(name: str) -> Any:
    if name == "CountingSpanExporter":
        cls = globals()[name] = _counting_exporter_class()  # later lookups skip __getattr__
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- batching


class _CountingDeque(collections.deque[Any]):
    """The SDK batcher's queue, counting the spans ``appendleft`` evicts when it is full.

    Locked against ``pop`` (the export thread), so a batch taken at that very moment cannot
    make a span count as dropped when it was not: exact, unlike the SDK's own check.
    """

    def __init__(self, items: Iterable[Any], maxlen: int | None, name: str) -> None:
        super().__init__(items, maxlen)
        self._lock = threading.Lock()
        self._name = name
        if hasattr(os, "register_at_fork"):  # a lock another thread held at fork stays held
            os.register_at_fork(after_in_child=functools.partial(_new_lock, weakref.ref(self)))

    def appendleft(self, item: Any) -> None:
        with self._lock:
            evicted = len(self) == self.maxlen
            super().appendleft(item)
        if evicted:
            record_drop(self._name, DROP_REASON_QUEUE_FULL)

    # override: deque.pop takes no index, unlike MutableSequence.pop (typeshed ignores it too).
    def pop(self) -> Any:  # type: ignore[override]
        with self._lock:
            return super().pop()


def _new_lock(ref: weakref.ref[_CountingDeque]) -> None:
    queue = ref()
    if queue is not None:
        queue._lock = threading.Lock()


@functools.cache
def _batch_class() -> type[Any]:
    require("opentelemetry.sdk.trace.export", "otel", "batch_processor")
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    class CountingBatchSpanProcessor(BatchSpanProcessor):
        """The SDK ``BatchSpanProcessor`` with the spans it drops counted."""

        def __init__(self, exporter: SpanExporter, name: str, **options: Any) -> None:
            super().__init__(exporter, **options)
            self.name = name
            self.max_queue_size: int = options["max_queue_size"]
            self._closed = False
            # SDK 1.45 keeps ended spans in a bounded deque that evicts the oldest when full
            # (logged, not counted): swap in one that counts, if the layout is still that.
            batcher = getattr(self, "_batch_processor", None)
            queue = getattr(batcher, "_queue", None)
            if batcher is not None and isinstance(queue, collections.deque):
                batcher._queue = _CountingDeque(queue, queue.maxlen, name)
            else:
                logger.warning("Unknown BatchSpanProcessor layout: queue_full drops not counted")

        @property
        def queue_size(self) -> int:
            """Spans waiting in the queue now (never above ``max_queue_size``)."""
            return len(getattr(getattr(self, "_batch_processor", None), "_queue", ()))

        def on_end(self, span: ReadableSpan) -> None:
            if self._closed and span.context and span.context.trace_flags.sampled:
                record_drop(self.name, DROP_REASON_SHUTDOWN)  # the SDK ignores it (logged)
            super().on_end(span)

        def shutdown(self) -> None:
            self._closed = True
            super().shutdown()  # type: ignore[no-untyped-call]  # unannotated in the SDK

    return CountingBatchSpanProcessor


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


def batch_processor(
    exporter: SpanExporter,
    *,
    max_queue_size: int | None = None,
    max_export_batch_size: int | None = None,
    schedule_delay_millis: float | None = None,
    export_timeout_millis: float | None = None,
    name: str = "otlp",
) -> BatchSpanProcessor:
    """A bounded SDK ``BatchSpanProcessor`` whose every lost span is counted.

    ``exporter`` is wrapped in :class:`CountingSpanExporter` (unless it already is one), so
    failed exports count as ``export_failed``; spans evicted from the full queue count as
    ``queue_full``. Memory stays bounded by ``max_queue_size`` spans; ``on_end`` never blocks.

    A ``None`` argument takes the standard variable (``OTEL_BSP_MAX_QUEUE_SIZE``,
    ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, ``OTEL_BSP_SCHEDULE_DELAY``, ``OTEL_BSP_EXPORT_TIMEOUT``),
    else the SDK default (2048, 512, 5000 ms, 30000 ms).

    Args:
        exporter: where batches go.
        max_queue_size: spans kept waiting at most; beyond it the oldest is dropped.
        max_export_batch_size: spans per export (capped at ``max_queue_size``).
        schedule_delay_millis: the longest a span waits before its batch is exported.
        export_timeout_millis: passed to the SDK, which (1.45) does not enforce it: bound an
            export with the exporter's own timeout (``otlp_span_exporter(timeout=...)`` or
            ``OTEL_EXPORTER_OTLP_TIMEOUT``).
        name: the ``processor`` label of the drops.

    Raises:
        ValueError: a non-positive size or delay (from the SDK).

    Example:
        >>> provider.add_span_processor(batch_processor(otlp_span_exporter(), max_queue_size=512))
    """
    counting_class = _counting_exporter_class()
    if not isinstance(exporter, counting_class):
        exporter = counting_class(exporter, name=name)
    if max_queue_size is None:
        max_queue_size = _env_int("OTEL_BSP_MAX_QUEUE_SIZE", 2048)
    if max_export_batch_size is None:
        max_export_batch_size = _env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)
    processor: BatchSpanProcessor = _batch_class()(
        exporter,
        name,
        max_queue_size=max_queue_size,
        max_export_batch_size=min(max_export_batch_size, max_queue_size),
        schedule_delay_millis=schedule_delay_millis,
        export_timeout_millis=export_timeout_millis,
    )
    return processor
