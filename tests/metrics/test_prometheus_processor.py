"""PrometheusProcessor: every metric and label set of spec/telemetry.md, from real runs."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, Counter

from graphflow import (
    END,
    AsyncRunner,
    EventProcessor,
    Graph,
    GraphConfigError,
    InterruptNode,
    MemoryCache,
    RunStatus,
    ifelse,
    node,
)
from graphflow.processors import PrometheusProcessor

NODE_BUCKETS = "0.001 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300"
RUN_BUCKETS = "0.01 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300 600 1800 3600"


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="z")
def add_one(y: int) -> int:
    return y + 1


@node(output_name="z")
def broken(y: int) -> int:
    raise ValueError("bad")


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def run_count(registry: CollectorRegistry, graph: str, runner: str, status: str) -> float | None:
    labels = {"graph": graph, "runner": runner, "status": status}
    return registry.get_sample_value("graphflow_run_duration_seconds_count", labels)


def node_count(registry: CollectorRegistry, graph: str, name: str, status: str) -> float | None:
    labels = {"graph": graph, "node": name, "status": status}
    return registry.get_sample_value("graphflow_node_duration_seconds_count", labels)


def label_values(registry: CollectorRegistry, sample: str, label: str) -> set[str]:
    return {
        s.labels[label]
        for family in registry.collect()
        for s in family.samples
        if s.name == sample and label in s.labels
    }


def test_completed_run_records_durations_and_leaves_gauges_at_zero(
    drive: Any, registry: CollectorRegistry
) -> None:
    runner = drive.runner([PrometheusProcessor(registry)])
    drive.run(runner, Graph([double, add_one], name="pipe"), {"x": 1})
    assert run_count(registry, "pipe", drive.kind, "completed") == 1
    assert node_count(registry, "pipe", "double", "success") == 1
    assert node_count(registry, "pipe", "add_one", "success") == 1
    run_sum = value(
        registry,
        "graphflow_run_duration_seconds_sum",
        graph="pipe",
        runner=drive.kind,
        status="completed",
    )
    assert run_sum is not None and 0 < run_sum < 10
    assert value(registry, "graphflow_runs_active", graph="pipe", runner=drive.kind) == 0
    assert value(registry, "graphflow_nodes_active", graph="pipe", node="double") == 0
    assert value(registry, "graphflow_nodes_active", graph="pipe", node="add_one") == 0


def test_gauges_count_what_is_in_flight(drive: Any, registry: CollectorRegistry) -> None:
    seen: list[tuple[float | None, float | None]] = []

    @node(output_name="y")
    def look(x: int) -> int:
        runs = value(registry, "graphflow_runs_active", graph="g", runner=drive.kind)
        nodes = value(registry, "graphflow_nodes_active", graph="g", node="look")
        seen.append((runs, nodes))
        return x

    drive.run(drive.runner([PrometheusProcessor(registry)]), Graph([look], name="g"), {"x": 1})
    assert seen == [(1.0, 1.0)]
    assert value(registry, "graphflow_runs_active", graph="g", runner=drive.kind) == 0
    assert value(registry, "graphflow_nodes_active", graph="g", node="look") == 0


def test_failing_node_counts_error_type_and_error_statuses(
    drive: Any, registry: CollectorRegistry
) -> None:
    runner = drive.runner([PrometheusProcessor(registry)])
    with pytest.raises(ValueError):
        drive.run(runner, Graph([double, broken], name="pipe"), {"x": 1})
    errors = value(
        registry,
        "graphflow_node_errors_total",
        graph="pipe",
        node="broken",
        error_type="ValueError",
    )
    assert errors == 1
    assert node_count(registry, "pipe", "broken", "error") == 1
    assert node_count(registry, "pipe", "double", "success") == 1
    assert run_count(registry, "pipe", drive.kind, "error") == 1
    assert run_count(registry, "pipe", drive.kind, "completed") is None
    assert value(registry, "graphflow_runs_active", graph="pipe", runner=drive.kind) == 0
    assert value(registry, "graphflow_nodes_active", graph="pipe", node="broken") == 0


def test_cache_miss_then_hit_and_cached_node_status(
    drive: Any, registry: CollectorRegistry
) -> None:
    @node(output_name="y", cache=True)
    def slow(x: int) -> int:
        return x * 3

    runner = drive.runner([PrometheusProcessor(registry)], cache=MemoryCache())
    graph = Graph([slow], name="cached")
    drive.run(runner, graph, {"x": 2})
    drive.run(runner, graph, {"x": 2})
    lookups = "graphflow_cache_lookups_total"
    assert value(registry, lookups, graph="cached", node="slow", result="miss") == 1
    assert value(registry, lookups, graph="cached", node="slow", result="hit") == 1
    assert node_count(registry, "cached", "slow", "success") == 1
    assert node_count(registry, "cached", "slow", "cached") == 1
    assert value(registry, "graphflow_nodes_active", graph="cached", node="slow") == 0


def test_node_without_cache_makes_no_lookup(drive: Any, registry: CollectorRegistry) -> None:
    drive.run(drive.runner([PrometheusProcessor(registry)]), Graph([double], name="g"), {"x": 1})
    assert label_values(registry, "graphflow_cache_lookups_total", "result") == set()


def test_route_decisions_by_target(drive: Any, registry: CollectorRegistry) -> None:
    @ifelse(when_true="double", when_false=END)
    def gate(x: int) -> bool:
        return x > 0

    runner = drive.runner([PrometheusProcessor(registry)])
    graph = Graph([gate, double], name="routed")
    drive.run(runner, graph, {"x": 1})
    drive.run(runner, graph, {"x": -1})
    drive.run(runner, graph, {"x": 5})
    decisions = "graphflow_route_decisions_total"
    assert value(registry, decisions, graph="routed", node="gate", target="double") == 2
    assert value(registry, decisions, graph="routed", node="gate", target="END") == 1
    assert node_count(registry, "routed", "gate", "success") == 3


async def test_interrupt_pauses_run_and_ends_its_node_with_the_run(
    registry: CollectorRegistry,
) -> None:
    ask = InterruptNode("approve", input_param="y", response_param="decision")

    @node(output_name="done")
    def publish(y: int, decision: str) -> str:
        return f"{y}:{decision}"

    graph = Graph([double, ask, publish], name="review")
    result = await AsyncRunner(event_processors=[PrometheusProcessor(registry)]).run(
        graph, {"x": 1}
    )
    assert result.status == RunStatus.PAUSED
    assert run_count(registry, "review", "async", "paused") == 1
    assert value(registry, "graphflow_interrupts_total", graph="review", node="approve") == 1
    assert value(registry, "graphflow_nodes_active", graph="review", node="approve") == 0
    assert value(registry, "graphflow_runs_active", graph="review", runner="async") == 0
    # A pause is not a node outcome: the interrupt node has no duration sample.
    assert "approve" not in label_values(registry, "graphflow_node_duration_seconds_count", "node")


def test_map_counts_items_and_labels_nodes_with_the_map_graph(
    drive: Any, registry: CollectorRegistry
) -> None:
    runner = drive.runner([PrometheusProcessor(registry)])
    out = drive.map(runner, Graph([double], name="m"), {"x": [1, 2, 3]}, map_over="x")
    assert out == [{"y": 2}, {"y": 4}, {"y": 6}]
    assert value(registry, "graphflow_map_items_total", graph="m", status="completed") == 3
    assert run_count(registry, "m", drive.kind, "completed") == 3
    assert node_count(registry, "m", "double", "success") == 3
    assert value(registry, "graphflow_runs_active", graph="m", runner=drive.kind) == 0


def test_failing_map_item_counts_as_error(drive: Any, registry: CollectorRegistry) -> None:
    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise LookupError("two")
        return x

    runner = drive.runner([PrometheusProcessor(registry)])
    with pytest.raises(LookupError):
        drive.map(runner, Graph([picky], name="m"), {"x": [1, 2, 3]}, map_over="x")
    items = "graphflow_map_items_total"
    assert value(registry, items, graph="m", status="error") == 1
    completed = value(registry, items, graph="m", status="completed")
    # SyncRunner stops at the first failure; AsyncRunner's items run concurrently.
    assert completed == (1 if drive.kind == "sync" else 2)
    assert value(registry, "graphflow_runs_active", graph="m", runner=drive.kind) == 0


def test_plain_runs_are_not_map_items(drive: Any, registry: CollectorRegistry) -> None:
    drive.run(drive.runner([PrometheusProcessor(registry)]), Graph([double], name="g"), {"x": 1})
    assert label_values(registry, "graphflow_map_items_total", "status") == set()


def test_nested_graph_nodes_carry_the_top_level_graph(
    drive: Any, registry: CollectorRegistry
) -> None:
    inner = Graph([double, add_one], name="inner")
    outer = Graph([inner.as_node(name="sub")], name="outer")
    drive.run(drive.runner([PrometheusProcessor(registry)]), outer, {"x": 1})
    for name in ("sub", "double", "add_one"):
        assert node_count(registry, "outer", name, "success") == 1
    assert label_values(registry, "graphflow_node_duration_seconds_count", "graph") == {"outer"}


def test_unnamed_graph_has_an_empty_graph_label(drive: Any, registry: CollectorRegistry) -> None:
    drive.run(drive.runner([PrometheusProcessor(registry)]), Graph([double]), {"x": 1})
    assert run_count(registry, "", drive.kind, "completed") == 1


def _bounds(registry: CollectorRegistry, sample: str) -> list[float]:
    return sorted({float(le) for le in label_values(registry, sample, "le")})


def test_histograms_have_the_contract_buckets(registry: CollectorRegistry) -> None:
    runner = AsyncRunner(event_processors=[PrometheusProcessor(registry)])
    asyncio.run(runner.run(Graph([double], name="g"), {"x": 1}))
    node_bounds = [float(b) for b in NODE_BUCKETS.split()] + [float("inf")]
    run_bounds = [float(b) for b in RUN_BUCKETS.split()] + [float("inf")]
    assert _bounds(registry, "graphflow_node_duration_seconds_bucket") == node_bounds
    assert _bounds(registry, "graphflow_run_duration_seconds_bucket") == run_bounds
    node_labels = {"graph": "g", "node": "double", "status": "success"}
    run_labels = {"graph": "g", "runner": "async", "status": "completed"}
    bucket = "graphflow_node_duration_seconds_bucket"
    # prometheus_client writes `le` in Go float format: "0.001", "1.0", "300.0".
    assert registry.get_sample_value(bucket, {**node_labels, "le": "0.001"}) is not None
    assert registry.get_sample_value(bucket, {**node_labels, "le": "300.0"}) == 1
    assert registry.get_sample_value(bucket, {**node_labels, "le": "+Inf"}) == 1
    run_bucket = "graphflow_run_duration_seconds_bucket"
    assert registry.get_sample_value(run_bucket, {**run_labels, "le": "0.01"}) is not None
    assert registry.get_sample_value(run_bucket, {**run_labels, "le": "3600.0"}) == 1


def test_metric_types_match_the_contract(registry: CollectorRegistry) -> None:
    # Label names are pinned by the exact label sets the other tests read.
    PrometheusProcessor(registry)
    types = {family.name: family.type for family in registry.collect()}
    assert types == {
        "graphflow_run_duration_seconds": "histogram",
        "graphflow_node_duration_seconds": "histogram",
        "graphflow_runs_active": "gauge",
        "graphflow_nodes_active": "gauge",
        "graphflow_node_errors": "counter",
        "graphflow_cache_lookups": "counter",
        "graphflow_route_decisions": "counter",
        "graphflow_interrupts": "counter",
        "graphflow_map_items": "counter",
        "graphflow_telemetry_dropped": "counter",
    }


def test_label_overflow_folds_into_other_and_counts_drops(
    drive: Any, registry: CollectorRegistry
) -> None:
    nodes = [
        node(lambda v: v, output_name=f"v{i + 1}", name=f"step{i}").with_inputs(v=f"v{i}")
        for i in range(4)
    ]
    processor = PrometheusProcessor(registry, max_label_values=2)
    drive.run(drive.runner([processor]), Graph(nodes, name="chain"), {"v0": 1})
    assert node_count(registry, "chain", "step0", "success") == 1
    assert node_count(registry, "chain", "step1", "success") == 1
    assert node_count(registry, "chain", "_OTHER", "success") == 2
    assert label_values(registry, "graphflow_node_duration_seconds_count", "node") == {
        "step0",
        "step1",
        "_OTHER",
    }
    dropped = value(
        registry,
        "graphflow_telemetry_dropped_total",
        processor="PrometheusProcessor",
        reason="label_overflow",
    )
    assert dropped == 2


def test_label_overflow_applies_to_graphs_error_types_and_targets(
    registry: CollectorRegistry,
) -> None:
    processor = PrometheusProcessor(registry, max_label_values=1)
    runner = AsyncRunner(event_processors=[processor])

    @node(output_name="y")
    def fail(x: int) -> int:
        raise (KeyError if x else TypeError)("boom")

    for graph_name, x in (("first", 1), ("second", 0)):
        with pytest.raises((KeyError, TypeError)):
            asyncio.run(runner.run(Graph([fail], name=graph_name), {"x": x}))
    errors = "graphflow_node_errors_total"
    assert value(registry, errors, graph="first", node="fail", error_type="KeyError") == 1
    assert value(registry, errors, graph="_OTHER", node="fail", error_type="_OTHER") == 1


def test_two_processors_on_one_registry_share_the_metrics(
    drive: Any, registry: CollectorRegistry
) -> None:
    first, second = PrometheusProcessor(registry), PrometheusProcessor(registry)
    drive.run(drive.runner([first, second]), Graph([double], name="g"), {"x": 1})
    assert run_count(registry, "g", drive.kind, "completed") == 2
    assert node_count(registry, "g", "double", "success") == 2
    assert value(registry, "graphflow_runs_active", graph="g", runner=drive.kind) == 0


class _AlwaysRaises(EventProcessor):
    def on_event(self, event: Any) -> None:
        raise RuntimeError("processor bug")


@pytest.mark.usefixtures("clean_error_counts")
def test_processor_errors_are_exported_as_dropped_telemetry(
    drive: Any, registry: CollectorRegistry
) -> None:
    runner = drive.runner([_AlwaysRaises(), PrometheusProcessor(registry)])
    assert drive.run(runner, Graph([double], name="g"), {"x": 1}) is not None
    dropped = value(
        registry,
        "graphflow_telemetry_dropped_total",
        processor="_AlwaysRaises",
        reason="processor_error",
    )
    assert dropped == 4  # run start, node start, node end, run end
    assert run_count(registry, "g", drive.kind, "completed") == 1


def test_default_registry_is_used_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = CollectorRegistry()
    monkeypatch.setattr(prometheus_client, "REGISTRY", fresh)
    processor = PrometheusProcessor()
    assert processor.registry is fresh
    PrometheusProcessor()  # a second one shares the metrics
    assert fresh.get_sample_value("graphflow_interrupts_total") is None


def test_max_label_values_below_one_is_rejected(registry: CollectorRegistry) -> None:
    with pytest.raises(GraphConfigError, match="max_label_values"):
        PrometheusProcessor(registry, max_label_values=0)


def test_clash_with_a_foreign_metric_leaves_the_registry_unchanged(
    registry: CollectorRegistry,
) -> None:
    Counter("graphflow_map_items_total", "someone else's", registry=registry)
    before = {family.name for family in registry.collect()}
    with pytest.raises(ValueError, match="graphflow_map_items"):
        PrometheusProcessor(registry)
    assert {family.name for family in registry.collect()} == before


def test_concurrent_runs_are_counted_exactly(registry: CollectorRegistry) -> None:
    from graphflow import SyncRunner

    runner = SyncRunner(event_processors=[PrometheusProcessor(registry)])
    graph = Graph([double, add_one], name="busy")

    def work() -> None:
        for i in range(25):
            runner.run(graph, {"x": i})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert run_count(registry, "busy", "sync", "completed") == 200
    assert node_count(registry, "busy", "add_one", "success") == 200
    assert value(registry, "graphflow_runs_active", graph="busy", runner="sync") == 0
    assert value(registry, "graphflow_nodes_active", graph="busy", node="double") == 0


def test_shutdown_mid_run_takes_open_runs_off_the_gauges(registry: CollectorRegistry) -> None:
    from graphflow import NodeStartEvent, RunStartEvent

    processor = PrometheusProcessor(registry)
    processor.on_event(RunStartEvent("r", "s0", None, None, {}, 0.0, "g", "sync"))
    processor.on_event(NodeStartEvent("r", "s1", None, "f", {}, 0.0))
    assert value(registry, "graphflow_runs_active", graph="g", runner="sync") == 1
    assert value(registry, "graphflow_nodes_active", graph="g", node="f") == 1
    processor.shutdown()
    assert value(registry, "graphflow_runs_active", graph="g", runner="sync") == 0
    assert value(registry, "graphflow_nodes_active", graph="g", node="f") == 0
