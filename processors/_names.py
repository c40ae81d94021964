"""Every public telemetry name from ``spec/telemetry.md``, in one place.

Span names, roles, attribute keys, span-event names, metric names, label names and histogram
buckets are a public contract: dashboards, the compose stack, tests and users' alerts depend
on them. Every processor, exporter and test helper imports them from here; no other module
spells one out.
"""

from __future__ import annotations

from typing import Final

# --- Span names: ``{op} {name}`` (``run`` alone when the graph has no name) ------------------

SPAN_RUN: Final = "run"
SPAN_NODE: Final = "node"
SPAN_MAP: Final = "map"

# --- Span roles (values of ATTR_SPAN_ROLE) -----------------------------------------------------

ROLE_RUN: Final = "run"
ROLE_NODE: Final = "node"
ROLE_SUBGRAPH: Final = "subgraph"
ROLE_MAP: Final = "map"

# --- Span attributes, set at start ---------------------------------------------------------------

ATTR_SPAN_ROLE: Final = "graphflow.span.role"
ATTR_RUN_ID: Final = "graphflow.run.id"
ATTR_GRAPH_NAME: Final = "graphflow.graph.name"
ATTR_EVENT_SPAN_ID: Final = "graphflow.event.span_id"
ATTR_RUNNER: Final = "graphflow.runner"
ATTR_NODE_NAME: Final = "graphflow.node.name"
ATTR_NODE_KIND: Final = "graphflow.node.kind"
ATTR_WORKFLOW_ID: Final = "graphflow.workflow.id"
ATTR_SESSION_ID: Final = "graphflow.session.id"
ATTR_MAP_SIZE: Final = "graphflow.map.size"
ATTR_MAP_ITEM_INDEX: Final = "graphflow.map.item_index"

# --- Span attributes, set at end -----------------------------------------------------------------

ATTR_NODE_CACHED: Final = "graphflow.node.cached"
ATTR_RUN_STATUS: Final = "graphflow.run.status"
ATTR_RUN_ITERATIONS: Final = "graphflow.run.iterations"
ATTR_STREAM_CHUNKS: Final = "graphflow.stream.chunks"

# --- Value capture (off by default) --------------------------------------------------------------

ATTR_NODE_INPUTS: Final = "graphflow.node.inputs"
ATTR_NODE_OUTPUTS: Final = "graphflow.node.outputs"
TRUNCATED_MARKER: Final = "…[truncated]"

# --- Errors (OpenTelemetry semantic conventions) -------------------------------------------------

ATTR_ERROR_TYPE: Final = "error.type"
EVENT_EXCEPTION: Final = "exception"

# --- Span events and their attributes ------------------------------------------------------------

EVENT_CACHE_HIT: Final = "graphflow.cache.hit"
EVENT_ROUTE_DECISION: Final = "graphflow.route.decision"
ATTR_ROUTE_TARGET: Final = "graphflow.route.target"
EVENT_INTERRUPT: Final = "graphflow.interrupt"
ATTR_INTERRUPT_RESPONSE_PARAM: Final = "graphflow.interrupt.response_param"
EVENT_STREAM_FIRST_CHUNK: Final = "graphflow.stream.first_chunk"

# --- Node kinds (values of ATTR_NODE_KIND) -------------------------------------------------------

NODE_KIND_FUNCTION: Final = "function"
NODE_KIND_ROUTE: Final = "route"
NODE_KIND_IFELSE: Final = "ifelse"
NODE_KIND_INTERRUPT: Final = "interrupt"
NODE_KIND_GRAPH: Final = "graph"

# --- Runners (values of ATTR_RUNNER and LABEL_RUNNER) --------------------------------------------

RUNNER_SYNC: Final = "sync"
RUNNER_ASYNC: Final = "async"
RUNNER_DAFT: Final = "daft"

# --- Run / map statuses (values of ATTR_RUN_STATUS and of the run/map ``status`` label) --------

STATUS_COMPLETED: Final = "completed"
STATUS_ERROR: Final = "error"
STATUS_PAUSED: Final = "paused"

# --- Node outcomes (values of the node ``status`` label) -----------------------------------------

NODE_STATUS_SUCCESS: Final = "success"
NODE_STATUS_ERROR: Final = "error"
NODE_STATUS_CACHED: Final = "cached"

# --- Cache lookup results (values of LABEL_RESULT) -----------------------------------------------

CACHE_HIT: Final = "hit"
CACHE_MISS: Final = "miss"

# --- Prometheus metrics (exposition names; OpenTelemetry instruments use the dotted forms) -----

METRIC_RUN_DURATION: Final = "graphflow_run_duration_seconds"
METRIC_NODE_DURATION: Final = "graphflow_node_duration_seconds"
METRIC_RUNS_ACTIVE: Final = "graphflow_runs_active"
METRIC_NODES_ACTIVE: Final = "graphflow_nodes_active"
METRIC_NODE_ERRORS: Final = "graphflow_node_errors_total"
METRIC_CACHE_LOOKUPS: Final = "graphflow_cache_lookups_total"
METRIC_ROUTE_DECISIONS: Final = "graphflow_route_decisions_total"
METRIC_INTERRUPTS: Final = "graphflow_interrupts_total"
METRIC_MAP_ITEMS: Final = "graphflow_map_items_total"
METRIC_TELEMETRY_DROPPED: Final = "graphflow_telemetry_dropped_total"

# --- Metric labels (only these; never a run id, workflow id, item index or value) -------------

LABEL_GRAPH: Final = "graph"
LABEL_RUNNER: Final = "runner"
LABEL_STATUS: Final = "status"
LABEL_NODE: Final = "node"
LABEL_ERROR_TYPE: Final = "error_type"
LABEL_RESULT: Final = "result"
LABEL_TARGET: Final = "target"
LABEL_PROCESSOR: Final = "processor"
LABEL_REASON: Final = "reason"

#: Value a label takes once it has more than ``max_label_values`` distinct values.
LABEL_OVERFLOW_VALUE: Final = "_OTHER"

#: Label names per metric, in exposition order.
METRIC_LABELS: Final[dict[str, tuple[str, ...]]] = {
    METRIC_RUN_DURATION: (LABEL_GRAPH, LABEL_RUNNER, LABEL_STATUS),
    METRIC_NODE_DURATION: (LABEL_GRAPH, LABEL_NODE, LABEL_STATUS),
    METRIC_RUNS_ACTIVE: (LABEL_GRAPH, LABEL_RUNNER),
    METRIC_NODES_ACTIVE: (LABEL_GRAPH, LABEL_NODE),
    METRIC_NODE_ERRORS: (LABEL_GRAPH, LABEL_NODE, LABEL_ERROR_TYPE),
    METRIC_CACHE_LOOKUPS: (LABEL_GRAPH, LABEL_NODE, LABEL_RESULT),
    METRIC_ROUTE_DECISIONS: (LABEL_GRAPH, LABEL_NODE, LABEL_TARGET),
    METRIC_INTERRUPTS: (LABEL_GRAPH, LABEL_NODE),
    METRIC_MAP_ITEMS: (LABEL_GRAPH, LABEL_STATUS),
    METRIC_TELEMETRY_DROPPED: (LABEL_PROCESSOR, LABEL_REASON),
}

# --- Histogram buckets (seconds) -----------------------------------------------------------------

NODE_DURATION_BUCKETS: Final[tuple[float, ...]] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
RUN_DURATION_BUCKETS: Final[tuple[float, ...]] = (
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    3600.0,
)  # fmt: skip

# --- Exemplar label keys (OpenMetrics) -----------------------------------------------------------

EXEMPLAR_TRACE_ID: Final = "trace_id"
EXEMPLAR_SPAN_ID: Final = "span_id"


def otel_instrument_name(metric: str) -> str:
    """Return the OpenTelemetry instrument name (dotted form) of a Prometheus metric name.

    Example:
        >>> otel_instrument_name("graphflow_node_duration_seconds")
        'graphflow.node.duration'
    """
    name = metric.removesuffix("_total").removesuffix("_seconds")
    return name.replace("_", ".")


# =================================================================================================
# Added by the PrometheusProcessor / LoggingProcessor / ProgressProcessor work: names the spec
# implies but the section above lacked. Kept separate so the owner can fold them in.
# =================================================================================================

# --- Reasons (values of LABEL_REASON on METRIC_TELEMETRY_DROPPED) -------------------------------

#: A label value folded into LABEL_OVERFLOW_VALUE (counted once per folded observation).
DROP_REASON_LABEL_OVERFLOW: Final = "label_overflow"
#: An exception a processor raised into the dispatcher (``processor_error_counts()``).
DROP_REASON_PROCESSOR_ERROR: Final = "processor_error"

# --- Logging ------------------------------------------------------------------------------------

#: Logger used by LoggingProcessor when none is given (the same logger the core uses).
LOGGER_NAME: Final = "graphflow"

#: ``extra=`` keys LoggingProcessor puts on its records, for structured log handlers.
LOG_RUN_ID: Final = "graphflow_run_id"
LOG_SPAN_ID: Final = "graphflow_span_id"
LOG_PARENT_SPAN_ID: Final = "graphflow_parent_span_id"
LOG_GRAPH: Final = "graphflow_graph"
LOG_NODE: Final = "graphflow_node"
LOG_NODE_PATH: Final = "graphflow_node_path"
LOG_STATUS: Final = "graphflow_status"
LOG_DURATION_MS: Final = "graphflow_duration_ms"
LOG_ERROR_TYPE: Final = "graphflow_error_type"
LOG_WORKFLOW_ID: Final = "graphflow_workflow_id"
LOG_SESSION_ID: Final = "graphflow_session_id"
LOG_ITEM_INDEX: Final = "graphflow_item_index"
LOG_TARGET: Final = "graphflow_target"
LOG_MAP_SIZE: Final = "graphflow_map_size"
