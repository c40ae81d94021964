"""graphflow.instrument(): one call traces (and counts) every runner built without processors."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from _exporters_support import closed_port, file_spans
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

import graphflow
from graphflow import Graph, SyncRunner
from graphflow.events import EventProcessor, get_default_processors, set_default_processors
from graphflow.exporters import Instrumentation, instrument
from graphflow.processors import OpenTelemetryProcessor, PrometheusProcessor


def _get(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


def _otlp_exporter(handle: Instrumentation) -> object:
    (pipeline,) = handle.span_processors
    return pipeline.span_exporter.inner  # type: ignore[attr-defined]


def test_runner_without_processors_is_traced_into_the_file(graph: Graph, tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    handle = instrument(file=spans_file)

    assert SyncRunner().run(graph, {"x": 2}) == {"doubled": 4}
    assert handle.force_flush()

    spans = file_spans(spans_file)
    assert sorted(s["name"] for s in spans) == ["node double", "run demo"]
    assert {s["resource"]["service.name"] for s in spans} == {"graphflow"}
    by_name = {s["name"]: s for s in spans}
    assert by_name["node double"]["parentSpanId"] == by_name["run demo"]["spanId"]


def test_metrics_are_served_on_loopback_with_exemplars_in_openmetrics(
    graph: Graph, tmp_path: Path, registry: CollectorRegistry
) -> None:
    handle = instrument(metrics_port=0, registry=registry, file=tmp_path / "s.jsonl")
    assert handle.metrics_url is not None
    assert handle.metrics_url.startswith("http://127.0.0.1:")
    assert handle.registry is registry

    SyncRunner().run(graph, {"x": 1})

    kind, text = _get(handle.metrics_url, "application/openmetrics-text")
    assert kind.startswith("application/openmetrics-text")
    run_buckets = [
        line
        for line in text.splitlines()
        if line.startswith("graphflow_run_duration_seconds_bucket{") and 'graph="demo"' in line
    ]
    assert run_buckets, text
    assert any("# {" in line and "trace_id=" in line for line in run_buckets), run_buckets

    kind, text = _get(handle.metrics_url)  # the classic format has no exemplars
    assert kind.startswith("text/plain")
    assert "graphflow_node_duration_seconds_count" in text
    assert "trace_id=" not in text


def test_shutdown_is_idempotent_and_undoes_everything(
    graph: Graph, registry: CollectorRegistry
) -> None:
    handle = instrument(metrics_port=0, registry=registry)
    assert get_default_processors() == handle.processors
    assert [type(p) for p in handle.processors] == [OpenTelemetryProcessor, PrometheusProcessor]
    url = handle.metrics_url
    assert url is not None

    handle.shutdown()
    handle.shutdown()

    assert handle.closed
    assert get_default_processors() == ()
    assert not handle.force_flush()
    with pytest.raises(OSError):
        _get(url)
    assert SyncRunner().run(graph, {"x": 1}) == {"doubled": 2}  # untraced, unaffected


def test_shutdown_keeps_default_processors_added_by_others() -> None:
    handle = instrument()
    other = EventProcessor()
    set_default_processors([*get_default_processors(), other])

    handle.shutdown()

    assert get_default_processors() == (other,)


def test_a_second_call_shuts_the_first_down(registry: CollectorRegistry) -> None:
    first = instrument(metrics_port=0, registry=registry)
    second = instrument()

    assert first.closed
    assert not second.closed
    assert get_default_processors() == second.processors
    assert first.metrics_url is not None
    with pytest.raises(OSError):
        _get(first.metrics_url)


def test_no_otlp_pipeline_without_an_endpoint() -> None:
    assert instrument().span_processors == ()


def test_service_name_and_otlp_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret")

    handle = instrument()

    attributes = handle.tracer_provider.resource.attributes
    assert attributes["service.name"] == "billing"
    assert attributes["deployment.environment"] == "test"
    exporter = _otlp_exporter(handle)
    assert isinstance(exporter, GrpcExporter)
    assert exporter._endpoint == f"127.0.0.1:{port}"
    assert ("api-key", "secret") in exporter._headers


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")

    handle = instrument("explicit", otlp_endpoint="http://127.0.0.1:4318", protocol="http/protobuf")

    assert handle.tracer_provider.resource.attributes["service.name"] == "explicit"
    exporter = _otlp_exporter(handle)
    assert isinstance(exporter, HttpExporter)
    assert exporter._endpoint == "http://127.0.0.1:4318/v1/traces"


def test_traces_endpoint_and_protocol_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/custom/traces")

    exporter = _otlp_exporter(instrument())

    assert isinstance(exporter, HttpExporter)
    assert exporter._endpoint == "http://127.0.0.1:9/custom/traces"


def test_sets_the_global_provider_only_when_none_is_set(graph: Graph, tmp_path: Path) -> None:
    handle = instrument(file=tmp_path / "spans.jsonl")
    assert handle.sets_global_provider
    assert trace.get_tracer_provider() is handle.tracer_provider

    # A run inside the application's span (a web request) is its child.
    with trace.get_tracer("app").start_as_current_span("request") as request:
        SyncRunner().run(graph, {"x": 1})
    handle.force_flush()
    spans = {s["name"]: s for s in file_spans(tmp_path / "spans.jsonl")}
    assert spans["run demo"]["parentSpanId"] == f"{request.get_span_context().span_id:016x}"
    assert spans["request"]["traceId"] == spans["run demo"]["traceId"]

    handle.shutdown()
    second = instrument()  # the global one is taken now (by the first handle's provider)
    assert not second.sets_global_provider


def test_leaves_an_existing_global_provider_alone() -> None:
    existing = TracerProvider()
    trace.set_tracer_provider(existing)

    handle = instrument()

    assert not handle.sets_global_provider
    assert trace.get_tracer_provider() is existing


def test_graphflow_instrument_is_the_lazy_reexport() -> None:
    assert graphflow.instrument is instrument
    assert graphflow.instrument.__module__ == "graphflow"
    probe = (
        "import json, sys, graphflow\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('graphflow.exporters'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []


def test_importing_the_submodule_does_not_shadow_the_function() -> None:
    importlib.import_module("graphflow.exporters.instrument")
    from graphflow.exporters import instrument as again

    assert callable(again)
    assert again is instrument


def test_shutdown_runs_at_exit(tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    script = tmp_path / "app.py"
    script.write_text(
        "import sys\n"
        "from graphflow import Graph, SyncRunner, instrument, node\n"
        "instrument(file=sys.argv[1])\n"
        "double = node(lambda x: 2 * x, output_name='y', name='double')\n"
        "SyncRunner().run(Graph([double], name='demo'), {'x': 1})\n",  # no shutdown()
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    subprocess.run([sys.executable, str(script), str(spans_file)], check=True, timeout=60, env=env)

    assert sorted(s["name"] for s in file_spans(spans_file)) == ["node double", "run demo"]
