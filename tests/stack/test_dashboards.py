"""The Grafana dashboards in ``dashboards/``: well formed, on the contract, and showing data.

Static checks (no service): every dashboard parses, has a uid, a title and panels; every query
(panel targets, template variables, and the Jaeger data source's trace-to-metrics queries)
names only the metrics of ``processors/_names.py`` and only their labels; every data source
uid is one that ``compose/grafana/provisioning`` provisions; the latency panels have exemplars.

The real check (needs Prometheus, see ``tests/_services.py``): a private registry is served on
``127.0.0.1:GRAPHFLOW_METRICS_PORT`` (the port ``ci/prometheus.yml`` scrapes), a workload
that moves every metric runs through ``SyncRunner`` and ``AsyncRunner`` in two rounds (so
rates and quantiles have an increase to show), and once Prometheus has scraped it, every
dashboard query is evaluated through ``/api/v1/query`` with the template variables set to the
workload's values, as Grafana would send it. A query that returns no data, or only NaN,
fails the test; so does a template variable that does not list the workload's values and an
exemplar-enabled query without exemplars pointing at the workload's traces.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from _stack_support import (
    BUILTIN_VARIABLES,
    LABEL_VALUES,
    analyse,
    datasource_ref,
    every_query,
    exposed_series,
    load_dashboards,
    load_datasources,
    panels,
    render,
    targets,
    variable_query,
    variables,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from prometheus_client import CollectorRegistry

from graphflow import (
    AsyncRunner,
    Graph,
    InterruptNode,
    MemoryCache,
    RunStatus,
    SyncRunner,
    node,
    route,
)
from graphflow.processors import OpenTelemetryProcessor, PrometheusProcessor
from graphflow.processors import _names as names
from tests._prometheus import PrometheusAPI
from tests._prometheus import served_registry as serve_registry
from tests._services import prometheus_url

EXPECTED_DASHBOARDS = {"graphflow-overview.json", "graphflow-node.json"}

#: Grafana's own data source (the built-in annotations), allowed besides the provisioned ones.
GRAFANA_DATASOURCE = {"type": "grafana", "uid": "-- Grafana --"}
SCRAPE_DEADLINE = 60.0  # seconds; CI's Prometheus scrapes every second

DASHBOARD_FILES = load_dashboards()

# --- static checks ------------------------------------------------------------------------------


def test_the_dashboards_are_there_and_well_formed() -> None:
    assert set(DASHBOARD_FILES) >= EXPECTED_DASHBOARDS
    uids = [d["uid"] for d in DASHBOARD_FILES.values()]
    assert len(set(uids)) == len(uids), f"duplicate dashboard uids {uids}"
    for file, dashboard in DASHBOARD_FILES.items():
        assert dashboard.get("uid") and dashboard.get("title"), file
        assert isinstance(dashboard.get("schemaVersion"), int), file
        assert dashboard["schemaVersion"] >= 36, (
            f"{file}: schemaVersion {dashboard['schemaVersion']}"
        )
        assert "id" not in dashboard or dashboard["id"] is None, f"{file}: provisioned: no id"
        ids = [p["id"] for p in panels(dashboard)]
        assert len(set(ids)) == len(ids), f"{file}: duplicate panel ids"
        shown = [p for p in panels(dashboard) if p["type"] != "row"]
        assert shown, f"{file} has no panels"
        for panel in shown:
            where = f"{file}: panel {panel.get('title')!r}"
            assert panel.get("title"), where
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, where
            refs = [t["refId"] for t in panel.get("targets", [])]
            assert refs and len(set(refs)) == len(refs), f"{where}: targets {refs}"
            assert all(t.get("expr", "").strip() for t in panel["targets"]), where


def test_queries_use_only_the_metrics_and_labels_of_names_py() -> None:
    problems = [
        f"{file}: {where}: {problem}\n    {expr}"
        for file, where, expr in every_query(DASHBOARD_FILES)
        for problem in analyse(expr).problems
    ]
    assert not problems, "\n".join(problems)


def test_the_trace_to_metrics_queries_use_only_contract_metrics() -> None:
    [jaeger] = [s for s in load_datasources() if s["type"] == "jaeger"]
    for query in jaeger["jsonData"]["tracesToMetrics"]["queries"]:
        expr = query["query"].replace("$__tags", 'graph="g"')  # Grafana fills in span tags
        facts = analyse(expr)
        assert not facts.problems, (query, facts.problems)
        assert facts.metrics, query


def test_the_analyser_rejects_what_it_should() -> None:
    """The checks above are only as good as this parser: it must see these mistakes."""
    bad = {
        "rate(graphflow_run_duration_seconds[5m])": "not a metric",  # no _count: not a series
        "sum(rate(graphflow_node_duration_seconds_created[5m]))": "not a metric",
        "graphflow_runs_activ": "not a metric",
        "up": "not a metric",
        'graphflow_runs_active{node="x"}': "has no label",
        "sum by (node) (graphflow_runs_active)": "grouping by labels",
        "histogram_quantil(0.5, graphflow_node_duration_seconds_bucket)": "unknown PromQL",
    }
    for expr, problem in bad.items():
        found = analyse(expr).problems
        assert any(problem in p for p in found), (expr, found)
    good = (
        "histogram_quantile(0.95, sum by (le) (rate(graphflow_node_duration_seconds_bucket"
        '{graph="$graph",node=~"$node"}[$__rate_interval])))',
        'sum(rate(graphflow_cache_lookups_total{result="hit"}[1m])) or vector(0)',
    )
    for expr in good:
        assert analyse(expr).problems == [], expr


def test_every_contract_metric_is_on_a_dashboard() -> None:
    used = {
        exposed_series()[m][0]
        for _, _, expr in every_query(DASHBOARD_FILES)
        for m in analyse(expr).metrics
    }
    assert used == set(names.METRIC_LABELS), sorted(set(names.METRIC_LABELS) - used)


def test_datasources_are_the_provisioned_ones() -> None:
    prometheus = datasource_ref("prometheus")
    for file, dashboard in DASHBOARD_FILES.items():
        for panel in panels(dashboard):
            if panel["type"] == "row":
                continue
            where = f"{file}: panel {panel['title']!r}"
            assert panel["datasource"] == prometheus, where
            for target in panel["targets"]:
                assert target["datasource"] == prometheus, f"{where} {target['refId']}"
        for variable in variables(dashboard):
            assert variable["datasource"] == prometheus, f"{file}: variable {variable['name']}"
        for annotation in dashboard.get("annotations", {}).get("list", []):
            assert annotation["datasource"] in (prometheus, GRAFANA_DATASOURCE), file


def test_variables_are_defined_and_the_node_dashboard_drills_down() -> None:
    for file, where, expr in every_query(DASHBOARD_FILES):
        defined = {v["name"] for v in variables(DASHBOARD_FILES[file])} | set(BUILTIN_VARIABLES)
        missing = analyse(expr).variables - defined
        assert not missing, f"{file}: {where} uses undefined variables {sorted(missing)}"
    node_dashboard = DASHBOARD_FILES["graphflow-node.json"]
    by_name = {v["name"]: v for v in variables(node_dashboard)}
    assert variable_query(by_name["graph"]) == (
        f"label_values({names.METRIC_NODE_DURATION}_count, {names.LABEL_GRAPH})"
    )
    node_query = LABEL_VALUES.match(variable_query(by_name["node"]))
    assert node_query is not None
    assert "$graph" in node_query.group("selector")
    assert node_query.group("label") == names.LABEL_NODE


def test_latency_panels_are_quantiles_with_exemplars() -> None:
    overview = DASHBOARD_FILES["graphflow-overview.json"]
    quantiles: dict[str, set[str]] = {}
    for file, dashboard in DASHBOARD_FILES.items():
        for panel, target in targets(dashboard):
            expr = target["expr"]
            charted = panel["type"] in ("timeseries", "heatmap")  # a bar gauge shows no exemplars
            if charted and ("histogram_quantile(" in expr or target.get("format") == "heatmap"):
                assert target.get("exemplar") is True, f"{file}: {panel['title']}: exemplars off"
            match = re.match(r"histogram_quantile\((0\.\d+), .*?(graphflow_\w+)_bucket", expr)
            if dashboard is overview and match:
                quantiles.setdefault(match.group(2), set()).add(match.group(1))
    for metric in (names.METRIC_RUN_DURATION, names.METRIC_NODE_DURATION):
        assert quantiles.get(metric) == {"0.5", "0.95", "0.99"}, (metric, quantiles)


def test_links_point_at_existing_dashboards_and_variables() -> None:
    by_uid = {d["uid"]: d for d in DASHBOARD_FILES.values()}
    text = json.dumps(list(DASHBOARD_FILES.values()))
    for uid, query in re.findall(r"/d/([\w-]+)[^?\"]*\??([^\"]*)", text):
        assert uid in by_uid, f"link to unknown dashboard {uid}"
        defined = {v["name"] for v in variables(by_uid[uid])}
        for name in re.findall(r"var-(\w+)=", query):
            assert name in defined, f"link sets unknown variable {name} of {uid}"


# --- the real check: every query against a real Prometheus after a real workload ---------------


@pytest.fixture
def prometheus() -> PrometheusAPI:
    return PrometheusAPI(prometheus_url())  # skips locally, fails in CI, without a server


@pytest.fixture
def served_registry(prometheus: PrometheusAPI) -> Iterator[CollectorRegistry]:
    """A private registry on 127.0.0.1:GRAPHFLOW_METRICS_PORT for the test's length."""
    with serve_registry() as registry:
        yield registry


@node(output_name="doubled")
def prepare(x: int) -> int:
    if x < 0:
        raise ValueError(f"cannot take {x}")
    return x * 2


@node(output_name="score", cache=True)
def score(doubled: int) -> int:
    return doubled + 1


@route(targets=["accept", "approve"])
def triage(score: int) -> str:
    return "accept" if score % 4 == 1 else "approve"  # x even: accept; x odd: ask a human


@node(output_name="accepted")
def accept(score: int) -> str:
    return f"accepted {score}"


approve = InterruptNode("approve", input_param="score", response_param="decision")


@node(output_name="published")
def publish(score: int, decision: str) -> str:
    return f"{score}: {decision}"


@node(output_name="y")
def step_one(x: int) -> int:
    return x + 1


@node(output_name="z")
def step_two(y: int) -> int:
    return y * 3


PIPELINE_NODES = {"prepare", "score", "triage", "accept", "approve", "publish"}


class Workload:
    """Runs that move every graphflow metric, on graphs named uniquely for this test.

    - ``pipeline`` (AsyncRunner): successes, a cache miss then hit (``cached``), both route
      targets, an interrupt that pauses the run and one answered by a handler, an error;
    - ``batch`` (SyncRunner): a run and a ``map`` of three items;
    - ``overflow`` (SyncRunner, a processor keeping one value per label): its second node's
      label folds into ``_OTHER``, counted in ``graphflow_telemetry_dropped_total``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.graphs = [f"pipeline_{suffix}", f"batch_{suffix}", f"overflow_{suffix}"]
        self.pipeline_name = self.graphs[0]
        self.pipeline = Graph(
            [prepare, score, triage, accept, approve, publish], name=self.pipeline_name
        )
        self.batch = Graph([step_one, step_two], name=self.graphs[1])
        self.overflow = Graph([step_one, step_two], name=self.graphs[2])
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(sampler=ALWAYS_ON)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        otel = OpenTelemetryProcessor(self.provider)
        metrics = PrometheusProcessor(registry, exemplars_from=otel)
        self.async_runner = AsyncRunner(cache=MemoryCache(), event_processors=[otel, metrics])
        self.sync_runner = SyncRunner(event_processors=[otel, metrics])
        folding = PrometheusProcessor(registry, max_label_values=1)
        self.folding_runner = SyncRunner(event_processors=[folding])
        self.rounds = 0

    def run_round(self) -> None:
        even, odd = 2 * self.rounds + 2, 2 * self.rounds + 3  # new cache keys every round
        self.rounds += 1

        async def pipeline() -> None:
            run = self.async_runner.run
            assert (await run(self.pipeline, {"x": even})).status == RunStatus.COMPLETED
            assert (await run(self.pipeline, {"x": even})).status == RunStatus.COMPLETED  # hit
            assert (await run(self.pipeline, {"x": odd})).status == RunStatus.PAUSED
            answered = await run(
                self.pipeline, {"x": odd}, interrupt_handlers={"approve": lambda _: "ok"}
            )
            assert answered.status == RunStatus.COMPLETED, answered
            with pytest.raises(ValueError, match="cannot take -1"):
                await run(self.pipeline, {"x": -1})

        asyncio.run(pipeline())
        assert self.sync_runner.run(self.batch, {"x": even}) == {"z": 3 * (even + 1)}
        results = self.sync_runner.map(self.batch, {"x": [1, 2, 3]}, map_over="x")
        assert results == [{"z": 6}, {"z": 9}, {"z": 12}]
        assert self.folding_runner.run(self.overflow, {"x": odd}) == {"z": 3 * (odd + 1)}

    def trace_ids(self) -> set[str]:
        return {f"{s.context.trace_id:032x}" for s in self.exporter.get_finished_spans()}


def local_totals(registry: CollectorRegistry) -> dict[str, float]:
    """What Prometheus must have scraped: a few totals of the served registry, as PromQL."""
    wanted = {
        f"{names.METRIC_RUN_DURATION}_count",
        f"{names.METRIC_NODE_DURATION}_count",
        names.METRIC_TELEMETRY_DROPPED,
    }
    totals: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name in wanted:
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    assert set(totals) == wanted, totals
    return totals


@pytest.fixture
def workload(served_registry: CollectorRegistry) -> Iterator[Workload]:
    made = Workload(served_registry)
    try:
        yield made
    finally:
        made.provider.shutdown()


def has_data(result: list[dict[str, Any]]) -> bool:
    """Whether an instant vector has a real number in it (NaN is "no data" on a chart)."""
    return any(math.isfinite(float(r["value"][1])) for r in result)


@pytest.mark.service
def test_every_dashboard_query_returns_data_from_a_real_prometheus(
    prometheus: PrometheusAPI, served_registry: CollectorRegistry, workload: Workload
) -> None:
    started = time.time()

    # Two rounds, each scraped before the next: every counter and bucket the dashboards read
    # then has at least two samples and an increase within the 1m windows.
    for _ in range(2):
        workload.run_round()
        totals = local_totals(served_registry)

        def scraped(totals: dict[str, float] = totals) -> bool:
            return all(prometheus.total(m) == v for m, v in totals.items())

        prometheus.wait(
            f"round {workload.rounds} of the workload ({totals})", scraped, SCRAPE_DEADLINE
        )

    graph_values = {
        "graphflow-overview.json": {"graph": "(" + "|".join(workload.graphs) + ")"},
        # node: "All" (its allValue), as the dashboard opens; single nodes are checked below.
        "graphflow-node.json": {"graph": workload.pipeline_name, "node": ".*"},
    }
    assert set(graph_values) == set(DASHBOARD_FILES), "a new dashboard needs its values here"

    empty: list[str] = []
    evaluated = 0
    for file, dashboard in DASHBOARD_FILES.items():
        values = {**BUILTIN_VARIABLES, **graph_values[file]}
        for panel, target in targets(dashboard):
            promql = render(target["expr"], values)
            evaluated += 1
            if not has_data(prometheus.query(promql)):
                empty.append(f"{file}: {panel['title']!r} {target['refId']}: {promql}")
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
    assert evaluated >= 30

    # Each query of the node dashboard shows data for at least one single node too (a gate's
    # panels for the gate, the interrupt's for the interrupt, ...).
    node_dashboard = DASHBOARD_FILES["graphflow-node.json"]
    per_node: dict[str, set[str]] = {}
    for node_name in sorted(PIPELINE_NODES):
        values = {**BUILTIN_VARIABLES, "graph": workload.pipeline_name, "node": node_name}
        for panel, target in targets(node_dashboard):
            key = f"{panel['title']!r} {target['refId']}"
            per_node.setdefault(key, set())
            if has_data(prometheus.query(render(target["expr"], values))):
                per_node[key].add(node_name)
    assert all(per_node.values()), {k: v for k, v in per_node.items() if not v}
    assert per_node["'In progress by node' A"] == PIPELINE_NODES

    # Template variables list the workload's values.
    for file, dashboard in DASHBOARD_FILES.items():
        values = {**BUILTIN_VARIABLES, **graph_values[file]}
        for variable in variables(dashboard):
            match = LABEL_VALUES.match(variable_query(variable))
            assert match, variable
            selector = render(match.group("selector"), values)
            listed = set(prometheus.label_values(match.group("label"), selector, started - 60))
            if variable["name"] == "node":
                assert listed == PIPELINE_NODES, (file, selector, listed)
            else:
                assert listed >= set(workload.graphs), (file, variable["name"], listed)

    # Exemplar-enabled queries have exemplars, and they point at the workload's traces.
    trace_ids = workload.trace_ids()
    without: list[str] = []
    for file, dashboard in DASHBOARD_FILES.items():
        values = {**BUILTIN_VARIABLES, **graph_values[file]}
        for panel, target in targets(dashboard):
            if not target.get("exemplar"):
                continue
            promql = render(target["expr"], values)
            series = prometheus.exemplars(promql, started - 60)
            found = {
                e["labels"].get(names.EXEMPLAR_TRACE_ID) for s in series for e in s["exemplars"]
            }
            if not found & trace_ids:
                without.append(f"{file}: {panel['title']!r} {target['refId']}: {promql}")
            assert found <= trace_ids, (promql, found - trace_ids)
    assert not without, "exemplar-enabled queries without exemplars:\n" + "\n".join(without)
