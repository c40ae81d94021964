"""Telemetry faults never change a run: a dead collector, a hung one, processors that raise.

No external service: a closed local port refuses connections, a local socket that reads and
never answers stands in for a hung collector. Time is only checked as generous "does not
hang" deadlines.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _exporters_support import BlackHole, closed_port, file_spans, finishes_within
from prometheus_client import CollectorRegistry

from graphflow import Graph, SyncRunner
from graphflow.events import EventProcessor, processor_error_counts, set_default_processors
from graphflow.exporters import instrument, otlp_drop_counts

PROTOCOLS = ["grpc", "http/protobuf"]
DROPPED = "graphflow_telemetry_dropped_total"


def _dropped(registry: CollectorRegistry, reason: str, processor: str = "otlp") -> float:
    value = registry.get_sample_value(DROPPED, {"processor": processor, "reason": reason})
    return value or 0.0


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports give up after 1 s; batches leave every 50 ms (standard variables)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.usefixtures("short_timeouts")
def test_refused_connections_are_counted_and_leave_the_run_alone(
    protocol: str, graph: Graph, registry: CollectorRegistry
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    handle = instrument(otlp_endpoint=endpoint, protocol=protocol, registry=registry)

    results = [SyncRunner().run(graph, {"x": i}) for i in range(5)]

    assert results == [{"doubled": 2 * i} for i in range(5)]
    assert finishes_within(30, handle.force_flush) is True
    spans = 5 * 2  # a run span and a node span per run
    assert _dropped(registry, "export_failed") == spans
    assert otlp_drop_counts() == {("otlp", "export_failed"): spans}
    finishes_within(30, handle.shutdown)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_hung_collector_bounds_the_queue_and_counts_what_it_drops(
    protocol: str,
    graph: Graph,
    registry: CollectorRegistry,
    black_hole: BlackHole,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.5")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    endpoint = f"http://127.0.0.1:{black_hole.port}"
    handle = instrument(otlp_endpoint=endpoint, protocol=protocol, registry=registry)
    (pipeline,) = handle.span_processors
    assert pipeline.max_queue_size == 64

    runner = SyncRunner()
    largest_queue = 0
    for i in range(500):
        assert runner.run(graph, {"x": i}) == {"doubled": 2 * i}
        largest_queue = max(largest_queue, pipeline.queue_size)

    assert largest_queue <= 64  # memory stays bounded
    finishes_within(30, handle.force_flush)
    queue_full = _dropped(registry, "queue_full")
    export_failed = _dropped(registry, "export_failed")
    assert queue_full > 0
    # Nothing reached the hung collector: every one of the 1000 spans is counted once.
    assert queue_full + export_failed == 500 * 2
    finishes_within(30, handle.shutdown)


class Boom(EventProcessor):
    def on_event(self, event: object) -> None:
        raise RuntimeError("boom")

    def force_flush(self) -> None:
        raise RuntimeError("boom")


class Bang(Boom):
    pass


def test_processors_raising_in_every_call_are_logged_once_and_counted(
    graph: Graph,
    registry: CollectorRegistry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handle = instrument(registry=registry, file=tmp_path / "spans.jsonl")
    set_default_processors([Boom(), *handle.processors, Bang()])

    with caplog.at_level(logging.DEBUG, logger="graphflow"):
        results = [SyncRunner().run(graph, {"x": i}) for i in range(3)]

    assert results == [{"doubled": 2 * i} for i in range(3)]
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and "raised" in r.getMessage()
    ]
    assert sorted(m.split()[2] for m in logged) == ["Bang", "Boom"]  # once per processor
    errors = processor_error_counts()
    assert errors["Boom"] == errors["Bang"] >= 3 * 4  # run start/end, node start/end
    assert _dropped(registry, "processor_error", "Boom") == errors["Boom"]
    assert _dropped(registry, "processor_error", "Bang") == errors["Bang"]
    # The other processors were not disturbed: every span was still exported.
    handle.force_flush()
    names = [s["name"] for s in file_spans(tmp_path / "spans.jsonl")]
    assert sorted(names) == ["node double"] * 3 + ["run demo"] * 3
