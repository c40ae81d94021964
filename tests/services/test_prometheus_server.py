"""graphflow metrics scraped by a real Prometheus server, and queried back through its API.

``.ci/integration.sh`` starts Prometheus with ``ci/prometheus.yml``: it scrapes
``127.0.0.1:GRAPHFLOW_METRICS_PORT`` every second, with exemplar storage on. This test serves
a private registry there with ``prometheus_client.start_http_server``, runs real graphs
through a ``PrometheusProcessor`` (successes, an error, cache hits, route decisions, a map),
then asks Prometheus what it scraped: series, counters, a latency quantile, and exemplars that
point at the trace of the OpenTelemetry processor the metrics were recorded with.

Every query is filtered on this test's own ``graph`` labels, so data left in a long-running
local Prometheus by earlier runs cannot make it pass.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from prometheus_client import CollectorRegistry

from graphflow import Graph, MemoryCache, SyncRunner, node, route
from graphflow.processors import OpenTelemetryProcessor, PrometheusProcessor
from tests._prometheus import PrometheusAPI
from tests._prometheus import served_registry as serve_registry
from tests._services import prometheus_url

pytestmark = pytest.mark.service

DEADLINE = 30.0  # seconds; Prometheus scrapes every second


@pytest.fixture
def prom() -> PrometheusAPI:
    """The Prometheus server of GRAPHFLOW_PROMETHEUS_URL (skips, or fails in CI, without)."""
    return PrometheusAPI(prometheus_url())


@pytest.fixture
def served_registry(prom: PrometheusAPI) -> Iterator[CollectorRegistry]:
    """A private registry served on 127.0.0.1:GRAPHFLOW_METRICS_PORT for the test's length."""
    with serve_registry() as registry:
        yield registry


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="slow", cache=True)
def expensive(doubled: int) -> int:
    return doubled + 1


@route(targets=["small", "large"])
def size(slow: int) -> str:
    return "small" if slow < 10 else "large"


@node(output_name="label")
def small(slow: int) -> str:
    return "small"


@node(output_name="label")
def large(slow: int) -> str:
    return "large"


@node(output_name="never")
def broken(x: int) -> int:
    raise ValueError(f"cannot take {x}")


def test_prometheus_scrapes_graphflow_metrics(
    prom: PrometheusAPI, served_registry: CollectorRegistry
) -> None:
    suffix = uuid.uuid4().hex[:8]
    flow, failing, mapped = f"flow_{suffix}", f"failing_{suffix}", f"mapped_{suffix}"
    graph = Graph([double, expensive, size, small, large], name=flow)
    failing_graph = Graph([broken], name=failing)
    mapped_graph = Graph([double], name=mapped)

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel = OpenTelemetryProcessor(provider)
    metrics = PrometheusProcessor(served_registry, exemplars_from=otel)
    runner = SyncRunner(cache=MemoryCache(), event_processors=[otel, metrics])
    started = time.time()

    # Round 1: successes (x=1 twice: the second is a cache hit), a route decision each run,
    # an error, and a map of three items.
    for x in (1, 1, 7):
        runner.run(graph, {"x": x})
    with pytest.raises(ValueError, match="cannot take 3"):
        runner.run(failing_graph, {"x": 3})
    assert runner.map(mapped_graph, {"x": [1, 2, 3]}, map_over="x") == [
        {"doubled": 2},
        {"doubled": 4},
        {"doubled": 6},
    ]

    # 3 runs x 4 nodes (double, expensive, size, then small or large)
    node_count = f'sum(graphflow_node_duration_seconds_count{{graph="{flow}"}})'
    prom.wait(
        f"graphflow_runs_active and graphflow_node_duration_seconds_count for graph {flow}",
        lambda: (
            prom.query(f'graphflow_runs_active{{graph="{flow}"}}')
            and prom.value(node_count) == 12.0
        ),
        DEADLINE,
    )
    assert prom.value(f'graphflow_runs_active{{graph="{flow}",runner="sync"}}') == 0.0
    assert prom.value(f'sum(graphflow_node_errors_total{{graph="{failing}"}})') == 1.0
    assert (
        prom.value(
            f'graphflow_node_errors_total{{graph="{failing}",node="broken",error_type="ValueError"}}'
        )
        == 1.0
    )
    hits = f'graphflow_cache_lookups_total{{graph="{flow}",node="expensive",result="hit"}}'
    misses = f'graphflow_cache_lookups_total{{graph="{flow}",node="expensive",result="miss"}}'
    assert prom.value(hits) == 1.0
    assert prom.value(misses) == 2.0
    routes = {
        r["metric"]["target"]: float(r["value"][1])
        for r in prom.query(f'graphflow_route_decisions_total{{graph="{flow}",node="size"}}')
    }
    assert routes == {"small": 2.0, "large": 1.0}
    assert prom.value(f'graphflow_map_items_total{{graph="{mapped}",status="completed"}}') == 3.0
    assert (
        prom.value(f'graphflow_run_duration_seconds_count{{graph="{failing}",status="error"}}')
        == 1.0
    )

    # Round 2, after Prometheus has a first sample: more runs, so rate() sees an increase and
    # the quantile is a number (with every bucket flat, histogram_quantile answers NaN).
    for x in (2, 3, 4):
        runner.run(graph, {"x": x})
    prom.wait(f"the second round of graph {flow}", lambda: prom.value(node_count) == 24.0, DEADLINE)
    p95_flow = prom.value(
        "histogram_quantile(0.95, sum by (le) "
        f'(rate(graphflow_node_duration_seconds_bucket{{graph="{flow}"}}[1m])))'
    )
    assert p95_flow is not None and math.isfinite(p95_flow) and 0.0 <= p95_flow <= 300.0
    p95_all = prom.value(
        "histogram_quantile(0.95, sum by (le) (rate(graphflow_node_duration_seconds_bucket[1m])))"
    )
    assert p95_all is not None and math.isfinite(p95_all)

    # Exemplars: scraped over OpenMetrics (Prometheus negotiates it), pointing at our spans.
    trace_ids = {f"{s.context.trace_id:032x}" for s in exporter.get_finished_spans()}
    span_ids = {f"{s.context.span_id:016x}" for s in exporter.get_finished_spans()}
    series = prom.wait(
        f"exemplars of graph {flow}",
        lambda: prom.exemplars(
            f'graphflow_node_duration_seconds_bucket{{graph="{flow}"}}', started - 60, time.time()
        ),
        DEADLINE,
    )
    found = [e["labels"] for s in series for e in s["exemplars"]]
    assert found, series
    for labels in found:
        assert labels["trace_id"] in trace_ids, labels
        assert labels["span_id"] in span_ids, labels
    run_exemplars = prom.exemplars(
        f'graphflow_run_duration_seconds_bucket{{graph="{flow}"}}', started - 60, time.time()
    )
    assert {e["labels"]["trace_id"] for s in run_exemplars for e in s["exemplars"]} <= trace_ids
    provider.shutdown()
