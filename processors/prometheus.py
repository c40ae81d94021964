"""``PrometheusProcessor``: graphflow events projected into Prometheus metrics.

Metrics are computed from events only, never from spans, so they stay exact when traces are
sampled. Names, labels and buckets come from :mod:`graphflow.processors._names`
(``spec/telemetry.md``, "Metrics"). ``prometheus_client`` is imported when the first processor
is built, never at import time.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphflow._optional import require
from graphflow.events import (
    CacheHitEvent,
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    TypedEventProcessor,
    processor_error_counts,
    telemetry_drop_counts,
)
from graphflow.exceptions import GraphConfigError

from . import _names as n

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client.metrics_core import Metric

    from .otel import OpenTelemetryProcessor

__all__ = ["PrometheusProcessor"]

_Exemplar = dict[str, str]


class _DroppedCollector:
    """The one source of ``graphflow_telemetry_dropped_total`` in a registry.

    A metric name cannot come from both a ``Counter`` and a custom collector, so this collector
    reports both the label overflows (counted in ``counts``) and the errors processors raised
    (``graphflow.events.processor_error_counts()``, process-wide, keyed by class name).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, processor: str, reason: str) -> None:
        with self.lock:
            key = (processor, reason)
            self.counts[key] = self.counts.get(key, 0) + 1

    def describe(self) -> Iterator[Metric]:
        # Lets the registry detect a clash with another collector of the same name.
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        with self.lock:
            counts = dict(self.counts)
        for name, count in processor_error_counts().items():
            key = (name, n.DROP_REASON_PROCESSOR_ERROR)
            counts[key] = counts.get(key, 0) + count
        for key, count in telemetry_drop_counts().items():  # exporters' drops
            counts[key] = counts.get(key, 0) + count
        for (processor, reason), count in sorted(counts.items()):
            family.add_metric([processor, reason], float(count))
        yield family

    @staticmethod
    def _family() -> Any:
        core = require("prometheus_client.metrics_core", "prometheus", "PrometheusProcessor")
        return core.CounterMetricFamily(
            n.METRIC_TELEMETRY_DROPPED,
            "Telemetry that graphflow dropped (label overflow, processor errors), by reason.",
            labels=n.METRIC_LABELS[n.METRIC_TELEMETRY_DROPPED],
        )


class _Metrics:
    """The metrics of one registry, shared by every processor that uses that registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        prom = require("prometheus_client", "prometheus", "PrometheusProcessor")

        def make(kind: Any, name: str, doc: str, **options: Any) -> Any:
            # registry=None: built unregistered, then registered together below.
            return kind(name, doc, labelnames=n.METRIC_LABELS[name], registry=None, **options)

        # livesum: in multiprocess mode the gauges add up the live processes' values.
        live = {"multiprocess_mode": "livesum"}
        self.run_duration: Histogram = make(
            prom.Histogram,
            n.METRIC_RUN_DURATION,
            "Wall time of graphflow runs, by graph, runner and status.",
            buckets=n.RUN_DURATION_BUCKETS,
            unit="seconds",
        )
        self.node_duration: Histogram = make(
            prom.Histogram,
            n.METRIC_NODE_DURATION,
            "Wall time of graphflow node executions, by graph, node and status.",
            buckets=n.NODE_DURATION_BUCKETS,
            unit="seconds",
        )
        self.runs_active: Gauge = make(
            prom.Gauge, n.METRIC_RUNS_ACTIVE, "graphflow runs in progress.", **live
        )
        self.nodes_active: Gauge = make(
            prom.Gauge,
            n.METRIC_NODES_ACTIVE,
            "graphflow node executions in progress (a paused interrupt: until its run ends).",
            **live,
        )
        self.node_errors: Counter = make(
            prom.Counter, n.METRIC_NODE_ERRORS, "Exceptions raised by graphflow nodes, by type."
        )
        self.cache_lookups: Counter = make(
            prom.Counter, n.METRIC_CACHE_LOOKUPS, "Cache lookups of graphflow nodes, by result."
        )
        self.route_decisions: Counter = make(
            prom.Counter, n.METRIC_ROUTE_DECISIONS, "Targets chosen by graphflow gates."
        )
        self.interrupts: Counter = make(
            prom.Counter, n.METRIC_INTERRUPTS, "Runs paused by graphflow interrupt nodes."
        )
        self.map_items: Counter = make(
            prom.Counter, n.METRIC_MAP_ITEMS, "Item runs of graphflow map() calls, by status."
        )
        self.dropped = _DroppedCollector()
        collectors = list(vars(self).values())  # every attribute set above, in order
        # All or nothing: a clash with a metric registered elsewhere leaves the registry as it
        # was (prometheus_client raises ValueError naming the duplicated series).
        done: list[Any] = []
        try:
            for collector in collectors:
                registry.register(collector)
                done.append(collector)
        except Exception:
            for collector in done:
                registry.unregister(collector)
            raise


_metrics_lock = threading.Lock()
_metrics_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _Metrics] = (
    weakref.WeakKeyDictionary()
)


def _metrics_for(registry: CollectorRegistry) -> _Metrics:
    with _metrics_lock:
        metrics = _metrics_by_registry.get(registry)
        if metrics is None:
            metrics = _metrics_by_registry[registry] = _Metrics(registry)
        return metrics


def _exemplar(ctx: SpanContext | None) -> _Exemplar | None:
    """``{trace_id, span_id}`` of a sampled span context; None otherwise, never raises."""
    try:
        if ctx is None or not ctx.is_valid or not ctx.trace_flags.sampled:
            return None
        return {
            n.EXEMPLAR_TRACE_ID: f"{ctx.trace_id:032x}",
            n.EXEMPLAR_SPAN_ID: f"{ctx.span_id:016x}",
        }
    except Exception:  # a foreign span source returned something else: no exemplar
        return None


def _current_span_context() -> SpanContext | None:
    # No import: when nothing imported OpenTelemetry, no span can be recording.
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    ctx: SpanContext = span.get_span_context()
    return ctx


@dataclass(slots=True)
class _Run:
    graph: str
    runner: str
    is_item: bool
    ctx: SpanContext | None
    nodes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Node:
    run_id: str
    graph: str
    node: str
    started: float
    cacheable: bool
    ctx: SpanContext | None
    hit: bool = False


class PrometheusProcessor(TypedEventProcessor):
    """Counts runs, nodes, errors, cache lookups, route decisions, interrupts and map items.

    Every metric of ``spec/telemetry.md`` ("Metrics") is updated from events. ``graph`` is the
    graph of the top-level run (or ``map`` call), also for nodes inside nested graphs; an
    unnamed graph has ``graph=""``. Processors on one registry share its metrics, so two of
    them on the same runner count everything twice, and there is no duplicate-registration
    error. Nothing is registered at import time.

    Duration histograms carry OpenMetrics exemplars ``{trace_id, span_id}`` of the matching
    span: asked of ``exemplars_from`` (an ``OpenTelemetryProcessor``) with
    ``span_context_for(event_span_id)``, else taken from the current span if one is recording.
    Scrape with the OpenMetrics format to see them.

    ``graphflow_telemetry_dropped_total`` counts every label value folded into ``_OTHER``
    (``reason="label_overflow"``) and, for every processor class, the exceptions it raised into
    the dispatcher (``reason="processor_error"``, from
    ``graphflow.events.processor_error_counts()``).

    Multiprocess (gunicorn and the like): set ``PROMETHEUS_MULTIPROC_DIR`` before
    ``prometheus_client`` is imported, build the processors on the default registry
    (``registry=None``), and serve a fresh ``CollectorRegistry`` to which you add
    ``prometheus_client.multiprocess.MultiProcessCollector(registry)``. Histograms and counters
    are then summed over processes and the active gauges use ``livesum``. The dropped-telemetry
    counter is a custom collector and stays per process: it is not in the merged view.

    Thread-safe; one processor may serve many runners and concurrent runs.

    Args:
        registry: the ``prometheus_client.CollectorRegistry``; ``None`` for the default one.
        max_label_values: distinct values kept per label (``graph``, ``node``, ``error_type``,
            ``target``) by this processor; later values are reported as ``_OTHER``.
        exemplars_from: the processor whose spans the exemplars point to.

    Raises:
        GraphConfigError: ``max_label_values`` is below 1.
        MissingDependencyError: ``prometheus_client`` is not installed (extra ``prometheus``).
        ValueError: the registry already has a metric of one of these names from elsewhere.

    Example:
        >>> from prometheus_client import CollectorRegistry
        >>> from graphflow import Graph, SyncRunner, node
        >>> registry = CollectorRegistry()
        >>> runner = SyncRunner(event_processors=[PrometheusProcessor(registry)])
        >>> graph = Graph([node(lambda x: x, output_name="y", name="f")], name="demo")
        >>> _ = runner.run(graph, {"x": 1})
        >>> registry.get_sample_value(
        ...     "graphflow_run_duration_seconds_count",
        ...     {"graph": "demo", "runner": "sync", "status": "completed"},
        ... )
        1.0
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        max_label_values: int = 200,
        exemplars_from: OpenTelemetryProcessor | None = None,
    ) -> None:
        if max_label_values < 1:
            raise GraphConfigError(
                f"max_label_values must be at least 1; got {max_label_values}.\n\n"
                "How to fix: pass a positive bound, e.g. PrometheusProcessor(max_label_values=200)."
            )
        if registry is None:
            registry = require("prometheus_client", "prometheus", "PrometheusProcessor").REGISTRY
        self.registry: CollectorRegistry = registry
        self.max_label_values = max_label_values
        self.exemplars_from = exemplars_from
        self._metrics = _metrics_for(registry)
        self._lock = threading.Lock()
        self._seen: dict[str, set[str]] = {}
        self._maps: dict[str, str] = {}  # map span_id -> graph label
        self._runs: dict[str, _Run] = {}  # run_id -> run
        self._nodes: dict[str, _Node] = {}  # node span_id -> node

    # ------------------------------------------------------------------ runs and maps
    def on_map_start(self, event: MapStartEvent) -> None:
        with self._lock:
            self._maps[event.span_id] = self._label(n.LABEL_GRAPH, event.graph_name or "")

    def on_map_end(self, event: MapEndEvent) -> None:
        with self._lock:
            self._maps.pop(event.span_id, None)

    def on_run_start(self, event: RunStartEvent) -> None:
        ctx = self._span_context(event.span_id)
        runner = event.runner or ""
        with self._lock:
            graph = self._maps.get(event.parent_span_id or "")
            if graph is None:
                graph = self._label(n.LABEL_GRAPH, event.graph_name or "")
            run = _Run(graph, runner, event.item_index is not None, ctx)
            self._runs[event.run_id] = run
        self._metrics.runs_active.labels(graph, runner).inc()

    def on_run_end(self, event: RunEndEvent) -> None:
        with self._lock:
            run = self._runs.pop(event.run_id, None)
            # A paused interrupt has no end event: its node ends with its run.
            left = [self._nodes.pop(s) for s in run.nodes if s in self._nodes] if run else []
        if run is None:
            return  # this processor did not see the run start (added mid-run)
        for node in left:
            self._metrics.nodes_active.labels(node.graph, node.node).dec()
        self._metrics.runs_active.labels(run.graph, run.runner).dec()
        ctx = run.ctx or self._span_context(event.span_id)
        status = str(event.status)
        self._metrics.run_duration.labels(run.graph, run.runner, status).observe(
            max(event.duration_ms, 0.0) / 1000.0, exemplar=_exemplar(ctx)
        )
        if run.is_item:
            self._metrics.map_items.labels(run.graph, status).inc()

    # ------------------------------------------------------------------ nodes
    def on_node_start(self, event: NodeStartEvent) -> None:
        ctx = self._span_context(event.span_id)
        with self._lock:
            run = self._runs.get(event.run_id)
            graph = run.graph if run else ""
            name = self._label(n.LABEL_NODE, event.node_name)
            self._nodes[event.span_id] = _Node(
                event.run_id, graph, name, event.timestamp, event.cacheable, ctx
            )
            if run is not None:
                run.nodes.add(event.span_id)
        self._metrics.nodes_active.labels(graph, name).inc()

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        with self._lock:
            node = self._nodes.get(event.span_id)
            if node is not None:
                node.hit = True
        if node is not None:
            self._metrics.cache_lookups.labels(node.graph, node.node, n.CACHE_HIT).inc()

    def on_node_end(self, event: NodeEndEvent) -> None:
        node = self._end_node(event.span_id)
        if node is None:
            return
        status = n.NODE_STATUS_CACHED if event.cached else n.NODE_STATUS_SUCCESS
        self._observe_node(node, event.span_id, status, event.duration_ms / 1000.0)

    def on_node_error(self, event: NodeErrorEvent) -> None:
        node = self._end_node(event.span_id)
        if node is None:
            return
        with self._lock:
            error_type = self._label(n.LABEL_ERROR_TYPE, event.error_type)
        self._metrics.node_errors.labels(node.graph, node.node, error_type).inc()
        self._observe_node(node, event.span_id, n.NODE_STATUS_ERROR, event.timestamp - node.started)

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        with self._lock:
            graph, gate = self._node_labels(event.run_id, event.span_id, event.gate_name)
            target = self._label(n.LABEL_TARGET, event.decision)
        self._metrics.route_decisions.labels(graph, gate, target).inc()

    def on_interrupt(self, event: InterruptEvent) -> None:
        with self._lock:
            graph, name = self._node_labels(event.run_id, event.span_id, event.interrupt_name)
        self._metrics.interrupts.labels(graph, name).inc()

    def shutdown(self) -> None:
        """Forget the runs still open, taking them (and their nodes) off the active gauges.

        The shared metrics stay registered: other processors on the registry may use them.
        """
        with self._lock:
            runs, self._runs = self._runs, {}
            nodes, self._nodes = self._nodes, {}
            self._maps.clear()
        for node in nodes.values():
            self._metrics.nodes_active.labels(node.graph, node.node).dec()
        for run in runs.values():
            self._metrics.runs_active.labels(run.graph, run.runner).dec()

    # ------------------------------------------------------------------ helpers
    def _end_node(self, span_id: str) -> _Node | None:
        with self._lock:
            node = self._nodes.pop(span_id, None)
            if node is not None:
                run = self._runs.get(node.run_id)
                if run is not None:
                    run.nodes.discard(span_id)
        if node is not None:
            self._metrics.nodes_active.labels(node.graph, node.node).dec()
            if node.cacheable and not node.hit:
                self._metrics.cache_lookups.labels(node.graph, node.node, n.CACHE_MISS).inc()
        return node

    def _observe_node(self, node: _Node, span_id: str, status: str, seconds: float) -> None:
        ctx = node.ctx or self._span_context(span_id)
        self._metrics.node_duration.labels(node.graph, node.node, status).observe(
            max(seconds, 0.0), exemplar=_exemplar(ctx)
        )

    def _node_labels(self, run_id: str, span_id: str, name: str) -> tuple[str, str]:
        """``(graph, node)`` labels of an event inside a node's span (lock held)."""
        node = self._nodes.get(span_id)
        if node is not None:
            return node.graph, node.node
        run = self._runs.get(run_id)
        return (run.graph if run else ""), self._label(n.LABEL_NODE, name)

    def _label(self, label: str, value: str) -> str:
        """``value``, or ``_OTHER`` once ``label`` has its maximum of values (lock held)."""
        seen = self._seen.setdefault(label, set())
        if value in seen:
            return value
        if len(seen) < self.max_label_values:
            seen.add(value)
            return value
        self._metrics.dropped.add(type(self).__qualname__, n.DROP_REASON_LABEL_OVERFLOW)
        return n.LABEL_OVERFLOW_VALUE

    def _span_context(self, span_id: str) -> SpanContext | None:
        """The OpenTelemetry span context for an event span, for exemplars; never raises."""
        try:
            source = self.exemplars_from
            lookup = getattr(source, "span_context_for", None) if source is not None else None
            if lookup is not None:
                ctx: SpanContext | None = lookup(span_id)
                return ctx
            return _current_span_context()
        except Exception:
            return None
