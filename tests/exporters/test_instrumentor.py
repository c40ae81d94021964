"""GraphflowInstrumentor: tracing under ``opentelemetry-instrument``, with no code change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graphflow import Graph, SyncRunner
from graphflow.events import EventProcessor, get_default_processors, set_default_processors
from graphflow.exporters import GraphflowInstrumentor
from graphflow.processors import OpenTelemetryProcessor

APP = """
from opentelemetry import trace
from graphflow import Graph, SyncRunner, node

@node(output_name="y")
def double(x: int) -> int:
    return 2 * x

graph = Graph([double], name="demo")
print("RESULT", SyncRunner().run(graph, {"x": 21}), flush=True)
with trace.get_tracer("app").start_as_current_span("request"):
    SyncRunner().run(graph, {"x": 1})
"""


def _console_spans(output: str) -> list[dict[str, Any]]:
    """The JSON objects ConsoleSpanExporter printed, skipping any other line."""
    decoder = json.JSONDecoder()
    spans, position = [], 0
    while (start := output.find("{", position)) != -1:
        try:
            span, position = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        if isinstance(span, dict) and "context" in span:
            spans.append(span)
    return spans


def test_the_entry_point_loads_the_instrumentor() -> None:
    (entry,) = [
        e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "graphflow"
    ]
    assert entry.load() is GraphflowInstrumentor
    assert GraphflowInstrumentor().instrumentation_dependencies() == ()


def test_instrument_adds_a_default_tracing_processor_and_uninstrument_removes_it(
    graph: Graph,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    other = EventProcessor()
    set_default_processors([other])

    GraphflowInstrumentor().instrument(tracer_provider=provider)
    installed = GraphflowInstrumentor().processor
    assert isinstance(installed, OpenTelemetryProcessor)
    assert get_default_processors() == (other, installed)
    SyncRunner().run(graph, {"x": 1})

    GraphflowInstrumentor().uninstrument()
    assert get_default_processors() == (other,)
    SyncRunner().run(graph, {"x": 2})

    assert sorted(s.name for s in exporter.get_finished_spans()) == ["node double", "run demo"]


def test_opentelemetry_instrument_traces_an_unchanged_app(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    command = Path(sys.executable).parent / "opentelemetry-instrument"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [
            str(command),
            "--traces_exporter",
            "console",
            "--metrics_exporter",
            "none",
            "--logs_exporter",
            "none",
            sys.executable,
            "app.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "RESULT {'y': 42}" in done.stdout
    spans = _console_spans(done.stdout)
    names = sorted(s["name"] for s in spans)
    assert names == ["node double", "node double", "request", "run demo", "run demo"], names

    # The run started inside the application's span is its child; the other is a root.
    request = next(s for s in spans if s["name"] == "request")
    runs = [s for s in spans if s["name"] == "run demo"]
    assert sorted(str(r["parent_id"]) for r in runs) == sorted(
        ["None", request["context"]["span_id"]]
    )
    for run in runs:
        (child,) = [s for s in spans if s.get("parent_id") == run["context"]["span_id"]]
        assert child["name"] == "node double"
        assert child["attributes"]["graphflow.span.role"] == "node"
