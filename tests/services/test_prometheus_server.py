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

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from prometheus_client import CollectorRegistry, start_http_server

from graphflow import Graph, MemoryCache, SyncRunner, node, route
from graphflow.processors import OpenTelemetryProcessor, PrometheusProcessor
from tests._services import metrics_port, prometheus_url

pytestmark = pytest.mark.service

DEADLINE = 30.0  # seconds; Prometheus scrapes every second


class Prometheus:
    """The few calls of Prometheus's HTTP API this test needs."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"GET {url}: HTTP {e.code} {e.read()[:500]!r}") from e
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant vector: ``[{"metric": {...}, "value": [ts, "1"]}, ...]``."""
        data = self._get("/api/v1/query", query=promql)
        assert data["resultType"] == "vector", data
        return data["result"]  # type: ignore[no-any-return]

    def value(self, promql: str) -> float | None:
        """The one value of an instant query (None when it returns nothing)."""
        result = self.query(promql)
        assert len(result) <= 1, f"{promql} returned {len(result)} series: {result}"
        return float(result[0]["value"][1]) if result else None

    def exemplars(self, promql: str, start: float, end: float) -> list[dict[str, Any]]:
        data = self._get("/api/v1/query_exemplars", query=promql, start=str(start), end=str(end))
        return data  # type: ignore[no-any-return]

    def wait(self, what: str, check: Callable[[], Any], deadline: float = DEADLINE) -> Any:
        """Poll ``check`` until it returns something truthy, or fail after ``deadline`` s."""
        stop = time.monotonic() + deadline
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > stop:
                targets = self._get("/api/v1/targets")["activeTargets"]
                health = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets]
                raise AssertionError(
                    f"Prometheus at {self.base}: {what} not seen within {deadline:g}s "
                    f"(scrape targets: {health}; ci/prometheus.yml must scrape the port "
                    f"{metrics_port()} this test serves)"
                )
            time.sleep(0.25)


@pytest.fixture
def prom() -> Prometheus:
    """The Prometheus server of GRAPHFLOW_PROMETHEUS_URL (skips, or fails in CI, without)."""
    return Prometheus(prometheus_url())


@pytest.fixture
def served_registry(prom: Prometheus) -> Iterator[CollectorRegistry]:
    """A private registry served on 127.0.0.1:GRAPHFLOW_METRICS_PORT for the test's length."""
    registry = CollectorRegistry()
    try:
        server, thread = start_http_server(metrics_port(), addr="127.0.0.1", registry=registry)
    except OSError as e:
        pytest.fail(f"cannot serve metrics on 127.0.0.1:{metrics_port()}: {e}")
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
    prom: Prometheus, served_registry: CollectorRegistry
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
    prom.wait(f"the second round of graph {flow}", lambda: prom.value(node_count) == 24.0)
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
