"""Telemetry of DaftRunner: one trace (map -> item runs -> nodes) and metrics, on the driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("daft")

from daft_graphs import pipeline

from graphflow import DaftRunner, Graph, SyncRunner, node
from graphflow.events import EventProcessor
from graphflow.testing import capture_traces

HERE = Path(__file__).resolve().parent


def test_map_trace_is_map_then_item_runs_then_nodes_in_one_trace() -> None:
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        frame = runner.map(pipeline(), {"x": [1, 2], "offset": 1}, map_over="x")
        frame.collect()
        captured.assert_tree(
            """
            map pipeline  role=map graphflow.map.size=2 graphflow.run.status=completed
            ├── run pipeline  graphflow.runner=daft graphflow.map.item_index=0
            │   ├── node double
            │   ├── node shift
            │   └── node label
            └── run pipeline  graphflow.runner=daft graphflow.map.item_index=1
                ├── node double
                ├── node shift
                └── node label
            """
        )
        map_span = captured.one(role="map")
        runs = captured.all(role="run")
        nodes = captured.all(role="node")
        assert all(r.parent == map_span for r in runs)
        assert all(n.parent in runs for n in nodes)
        assert len({v.span.context.trace_id for v in [map_span, *runs, *nodes]}) == 1
        assert len({r.attributes["graphflow.run.id"] for r in runs}) == 2
        captured.assert_all_ended()
        captured.assert_no_orphans()


def test_map_span_covers_the_execution_not_the_call() -> None:
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        frame = runner.map(pipeline(), {"x": [1]}, map_over="x")
        assert captured.spans == ()  # map() scheduled nothing and emitted nothing
        time.sleep(0.05)
        before = time.time_ns()
        frame.to_pydict()
        map_span = captured.one(role="map").span
        assert map_span.start_time is not None and map_span.start_time >= before
        assert len(captured.all(role="run")) == 1
        frame.to_pydict()  # materialised once: reading it again runs nothing
        assert len(captured.all(role="map")) == 1


def test_a_map_inside_an_ambient_span_is_its_child() -> None:
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        with captured.tracer.start_as_current_span("request"):
            runner.map(pipeline(), {"x": [1]}, map_over="x").collect()
        request = captured.one(name="request")
        assert captured.one(role="map").parent == request


def test_run_is_one_run_span_with_its_nodes() -> None:
    with capture_traces() as captured:
        DaftRunner(event_processors=captured.processors).run(pipeline(), {"x": 3})
        captured.assert_tree(
            """
            run pipeline  graphflow.runner=daft
            ├── node double
            ├── node shift
            └── node label
            """
        )


def test_metrics_count_map_items_and_node_durations() -> None:
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        runner.map(pipeline(), {"x": [1, 2, 3]}, map_over="x").collect()
        assert captured.metric(
            "graphflow_map_items_total", graph="pipeline", status="completed"
        ) == pytest.approx(3.0)
        assert captured.metric(
            "graphflow_node_duration_seconds_count",
            graph="pipeline",
            node="label",
            status="success",
        ) == pytest.approx(3.0)
        assert captured.metric(
            "graphflow_run_duration_seconds_count",
            graph="pipeline",
            runner="daft",
            status="completed",
        ) == pytest.approx(3.0)


class _Names(EventProcessor):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.flushes = 0

    def on_event(self, event: object) -> None:
        self.names.append(type(event).__name__)

    def force_flush(self) -> None:
        self.flushes += 1


def test_events_match_the_sync_runners_and_flush_once_per_map() -> None:
    @node(output_name="y")
    def inc(x: int) -> int:
        return x + 1

    graph = Graph([inc], name="inc")
    daft_names, sync_names = _Names(), _Names()
    DaftRunner(event_processors=[daft_names]).map(graph, {"x": [1, 2]}, map_over="x").collect()
    SyncRunner(event_processors=[sync_names]).map(graph, {"x": [1, 2]}, map_over="x")
    assert daft_names.names == sync_names.names
    assert daft_names.flushes == 1


def test_unobserved_runs_build_no_events_column() -> None:
    frame = DaftRunner().map(pipeline(), {"x": [1]}, map_over="x")
    assert "__graphflow_events__" not in frame.column_names
    assert frame.collect().column_names == ["x", "label"]


_WORKER_SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["DAFT_ANALYTICS_ENABLED"] = "0"
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from graphflow import DaftRunner, Graph, node
    from graphflow.testing import capture_traces

    worker_exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(worker_exporter))
    trace.set_tracer_provider(provider)  # the "worker" SDK (here: the same process)

    @node(output_name="y")
    def fetch(x: int) -> int:
        with trace.get_tracer("user").start_as_current_span("http get"):
            return x

    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        runner.map(Graph([fetch], name="g"), {"x": [1, 2, 3]}, map_over="x").collect()
        map_ctx = captured.one(role="map").span.context
    spans = {s.name: s for s in worker_exporter.get_finished_spans()}
    batch = spans["batch g"]
    user = spans["http get"]
    print(json.dumps({
        "map": [map_ctx.trace_id, map_ctx.span_id],
        "batch": [batch.context.trace_id, batch.parent.span_id],
        "rows": batch.attributes["graphflow.daft.batch_rows"],
        "user": [user.context.trace_id, user.parent.span_id, batch.context.span_id],
    }))
    """
)


def test_workers_join_the_map_trace_through_the_traceparent() -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    done = subprocess.run(
        [sys.executable, "-c", _WORKER_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    trace_id, map_span_id = found["map"]
    assert found["batch"] == [trace_id, map_span_id]  # batch span: child of the map span
    assert found["rows"] == 3
    user_trace, user_parent, batch_span_id = found["user"]
    assert user_trace == trace_id and user_parent == batch_span_id
