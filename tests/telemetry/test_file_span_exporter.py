"""FileSpanExporter: one OTLP/JSON export request per line, appended, thread-safe."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from graphflow import Graph, SyncRunner, node
from graphflow.exporters import FileSpanExporter
from graphflow.processors import OpenTelemetryProcessor

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")


@node(output_name="text")
def fetch(url: str) -> str:
    return f"<{url}>"


@node(output_name="n")
def measure(text: str) -> int:
    if text == "<bad>":
        raise ValueError("bad text")
    return len(text)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _spans(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        span
        for request in requests
        for resource in request["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def _traced_run(exporter: Any, inputs: dict[str, Any], batch: bool = False) -> None:
    provider = TracerProvider(sampler=ALWAYS_ON)
    span_processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(span_processor)
    runner = SyncRunner(event_processors=[OpenTelemetryProcessor(provider)])
    try:
        runner.run(Graph([fetch, measure], name="doc"), inputs)
    finally:
        provider.shutdown()


def test_each_export_is_one_otlp_json_line(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    _traced_run(FileSpanExporter(path), {"url": "abc"})
    requests = _lines(path)
    assert len(requests) == 3  # SimpleSpanProcessor: one export per span
    for request in requests:
        assert set(request) == {"resourceSpans"}
        resource = request["resourceSpans"][0]
        keys = {a["key"] for a in resource["resource"]["attributes"]}
        assert "service.name" in keys
        assert resource["scopeSpans"][0]["scope"]["name"] == "graphflow"
    spans = {s["name"]: s for s in _spans(requests)}
    assert set(spans) == {"run doc", "node fetch", "node measure"}
    run, fetch_span = spans["run doc"], spans["node fetch"]
    assert HEX32.fullmatch(run["traceId"])
    assert HEX16.fullmatch(run["spanId"])
    assert "parentSpanId" not in run
    assert fetch_span["parentSpanId"] == run["spanId"]
    assert fetch_span["traceId"] == run["traceId"]
    assert fetch_span["kind"] == 1  # SPAN_KIND_INTERNAL, as an integer
    assert isinstance(fetch_span["startTimeUnixNano"], str)
    assert int(fetch_span["endTimeUnixNano"]) >= int(fetch_span["startTimeUnixNano"])
    attributes = {a["key"]: a["value"] for a in fetch_span["attributes"]}
    assert attributes["graphflow.span.role"] == {"stringValue": "node"}
    assert attributes["graphflow.node.cached"] == {"boolValue": False}
    assert attributes["graphflow.run.id"]["stringValue"]
    run_attributes = {a["key"]: a["value"] for a in run["attributes"]}
    assert run_attributes["graphflow.run.iterations"] == {"intValue": "2"}


def test_errors_carry_status_code_and_exception_event(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    with pytest.raises(ValueError):
        _traced_run(FileSpanExporter(path), {"url": "bad"}, batch=True)
    requests = _lines(path)
    assert len(requests) == 1  # one batch, one line
    spans = {s["name"]: s for s in _spans(requests)}
    failing = spans["node measure"]
    assert failing["status"] == {"code": 2, "message": "ValueError: bad text"}
    events = failing["events"]
    assert [e["name"] for e in events] == ["exception"]
    assert isinstance(events[0]["timeUnixNano"], str)
    assert spans["run doc"]["status"]["code"] == 2
    parents = {s["parentSpanId"] for s in spans.values() if "parentSpanId" in s}
    assert parents == {spans["run doc"]["spanId"]}


def test_exports_append_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "spans.jsonl"
    _traced_run(FileSpanExporter(path), {"url": "a"}, batch=True)
    _traced_run(FileSpanExporter(path), {"url": "b"}, batch=True)
    requests = _lines(path)
    assert len(requests) == 2
    assert len({s["traceId"] for s in _spans(requests)}) == 2


def test_it_is_an_sdk_span_exporter_with_results(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path / "spans.jsonl")
    assert isinstance(exporter, SpanExporter)
    assert type(exporter).__name__ == "FileSpanExporter"
    assert exporter.export([]) is SpanExportResult.SUCCESS
    assert exporter.force_flush() is True
    exporter.shutdown()
    exporter.shutdown()  # idempotent
    assert exporter.export([]) is SpanExportResult.FAILURE
    assert "spans.jsonl" in repr(exporter)


def test_concurrent_exports_write_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    exporter = FileSpanExporter(path)
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("load")

    def work(k: int) -> None:
        for i in range(50):
            with tracer.start_as_current_span(f"span {k}", attributes={"i": i, "pad": "x" * 500}):
                pass

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    provider.shutdown()
    assert len(_spans(_lines(path))) == 400


def test_importing_the_exporters_package_loads_no_sdk() -> None:
    probe = (
        "import sys, graphflow.exporters, graphflow.exporters.file\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
