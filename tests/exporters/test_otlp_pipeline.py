"""OTLP exporter construction, and the counting wrappers that make every lost span visible."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

from graphflow.exceptions import GraphConfigError
from graphflow.exporters import (
    CountingSpanExporter,
    batch_processor,
    otlp_drop_counts,
    otlp_span_exporter,
)
from graphflow.exporters.otlp import record_drop
from graphflow.processors import PrometheusProcessor


class Recording(SpanExporter):
    """Records exported spans; can fail, raise, or block until released."""

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.result = result
        self.raises = False
        self.gate: threading.Event | None = None
        self.exported: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.gate is not None:
            self.gate.wait(30)
        if self.raises:
            raise RuntimeError("collector exploded")
        self.exported.extend(spans)
        return self.result

    def shutdown(self) -> None:
        raise RuntimeError("cannot shut down")


def _spans(count: int) -> list[ReadableSpan]:
    tracer = TracerProvider().get_tracer("test")
    spans = []
    for i in range(count):
        span = tracer.start_span(f"s{i}")
        span.end()
        spans.append(span)  # type: ignore[arg-type]
    return spans


def test_grpc_is_the_default_protocol() -> None:
    assert isinstance(otlp_span_exporter("http://127.0.0.1:4317"), GrpcExporter)


def test_http_endpoint_gets_the_traces_path_when_bare() -> None:
    bare = otlp_span_exporter("http://127.0.0.1:4318", protocol="http/protobuf")
    full = otlp_span_exporter("http://127.0.0.1:4318/x/v1/traces", protocol="http/protobuf")
    assert isinstance(bare, HttpExporter)
    assert bare._endpoint == "http://127.0.0.1:4318/v1/traces"
    assert full._endpoint == "http://127.0.0.1:4318/x/v1/traces"  # type: ignore[attr-defined]


def test_protocol_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    assert isinstance(otlp_span_exporter(), HttpExporter)


def test_explicit_headers_and_timeout_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "from=env")
    exporter = otlp_span_exporter("http://127.0.0.1:4317", headers={"k": "v"}, timeout=3)
    assert exporter._headers == (("k", "v"),)  # type: ignore[attr-defined]
    assert exporter._timeout == 3  # type: ignore[attr-defined]


def test_unknown_protocol_is_a_config_error() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        otlp_span_exporter(protocol="http/json")


def test_failed_exports_count_their_spans() -> None:
    exporter = CountingSpanExporter(Recording(SpanExportResult.FAILURE))
    assert exporter.export(_spans(3)) is SpanExportResult.FAILURE
    assert otlp_drop_counts() == {("otlp", "export_failed"): 3}


def test_an_exporter_that_raises_is_logged_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Recording()
    inner.raises = True
    exporter = CountingSpanExporter(inner, name="file")
    with caplog.at_level(logging.WARNING, logger="graphflow"):
        for _ in range(3):
            assert exporter.export(_spans(2)) is SpanExportResult.FAILURE
        exporter.shutdown()  # the inner one raises: logged, swallowed
    assert otlp_drop_counts() == {("file", "export_failed"): 6}
    raised = [r for r in caplog.records if "raised" in r.getMessage()]
    assert len(raised) == 1


def test_successful_exports_count_nothing() -> None:
    exporter = CountingSpanExporter(Recording())
    assert exporter.export(_spans(2)) is SpanExportResult.SUCCESS
    assert otlp_drop_counts() == {}


def test_batch_processor_wraps_once_and_caps_the_batch_size() -> None:
    counting = CountingSpanExporter(Recording())
    processor = batch_processor(counting, max_queue_size=8, max_export_batch_size=512)
    try:
        assert processor.span_exporter is counting
        assert processor._batch_processor._max_export_batch_size == 8  # type: ignore[attr-defined]
    finally:
        processor.shutdown()


def test_evicted_spans_are_counted_and_the_rest_exported() -> None:
    inner = Recording()
    inner.gate = threading.Event()  # the first export blocks: the queue fills up
    processor = batch_processor(inner, max_queue_size=8, schedule_delay_millis=10)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    sizes = []
    for i in range(200):
        tracer.start_span(f"s{i}").end()
        sizes.append(processor.queue_size)  # type: ignore[attr-defined]
    inner.gate.set()
    assert processor.force_flush()

    dropped = otlp_drop_counts().get(("otlp", "queue_full"), 0)
    assert dropped > 0
    assert dropped + len(inner.exported) == 200  # every span exported or counted
    assert max(sizes) <= 8
    provider.shutdown()


def test_spans_ended_after_shutdown_are_counted() -> None:
    processor = batch_processor(Recording(), max_queue_size=8)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    span = provider.get_tracer("test").start_span("late")
    processor.shutdown()
    span.end()
    assert otlp_drop_counts() == {("otlp", "shutdown"): 1}


def test_drops_reach_every_prometheus_registry(registry: CollectorRegistry) -> None:
    record_drop("otlp", "queue_full", 2)
    PrometheusProcessor(registry)
    record_drop("otlp", "queue_full", 3)

    labels = {"processor": "otlp", "reason": "queue_full"}
    assert registry.get_sample_value("graphflow_telemetry_dropped_total", labels) == 5.0
    assert otlp_drop_counts() == {("otlp", "queue_full"): 5}
