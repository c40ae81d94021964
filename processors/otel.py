"""OpenTelemetryProcessor: graphflow events projected into OpenTelemetry spans.

One span per run (``run {graph}``), node execution (``node {node}``; a GraphNode and its inner
run are one ``subgraph`` span) and ``map()`` call (``map {graph}``), named and attributed as
``spec/telemetry.md`` says, with every name from :mod:`graphflow.processors._names`.

Parents always come from the events' ids, never from the current span, so concurrent runs
never cross: one lock guards two tables, event ``span_id`` -> open span (removed when it ends)
and ``run_id`` -> run span (the parent of top-level nodes). Only a run or map with no parent
id takes the ambient span as parent (a web request's span, a test span, an outer node).
Needs ``opentelemetry-api`` only, imported when the processor is built; with no SDK
configured every span is a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from graphflow._optional import require
from graphflow.events import Event, EventProcessor, RunStatus
from graphflow.events import types as ev
from graphflow.exceptions import GraphConfigError
from graphflow.processors import _names as n
from graphflow.processors._otel_records import Open, version
from graphflow.processors._values import describe_error, error_type_name, render_value

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanContext, Tracer, TracerProvider

__all__ = ["OpenTelemetryProcessor"]

_SCOPE = "graphflow"
_SHUTDOWN = "shutdown"


def _nanos(timestamp: float) -> int:
    """An event's ``time.time()`` timestamp as OpenTelemetry's integer nanoseconds."""
    return int(timestamp * 1e9)


class OpenTelemetryProcessor(EventProcessor):
    """Turn graphflow events into OpenTelemetry spans (``spec/telemetry.md``).

    Args:
        tracer_provider: the provider to get the tracer from; ``None`` uses the global one
            (late-bound: a provider set after this processor is built is still used). The
            processor never sets a global provider.
        capture_values: record node inputs and outputs as ``graphflow.node.inputs`` /
            ``graphflow.node.outputs`` (JSON, else ``repr``). Off by default: values may be
            large or sensitive.
        max_value_length: the longest captured value, in characters, marker included.
        set_ok_status: set status OK on success (default: leave it UNSET, as the
            OpenTelemetry guidance for instrumentation libraries says).

    Raises:
        GraphConfigError: ``max_value_length`` is not a positive int.
        MissingDependencyError: ``opentelemetry-api`` is not installed.

    ``force_flush()`` does nothing: spans leave this processor as they end and batching is
    the provider's span processors' job (flush the provider itself when you own it).
    ``shutdown()`` ends every open span (status ERROR, description ``"shutdown"``) and makes
    the processor ignore later events.

    Example:
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> provider = TracerProvider()
        >>> runner = SyncRunner(event_processors=[OpenTelemetryProcessor(provider)])
        >>> runner.run(graph, {"x": 1})  # one "run" span with a "node" span per node
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        *,
        capture_values: bool = False,
        max_value_length: int = 4096,
        set_ok_status: bool = False,
    ) -> None:
        if (
            isinstance(max_value_length, bool)
            or not isinstance(max_value_length, int)
            or max_value_length < 1
        ):
            raise GraphConfigError(
                f"max_value_length must be a positive int, got {max_value_length!r}.\n\n"
                "How to fix: OpenTelemetryProcessor(capture_values=True, max_value_length=4096)."
            )
        require("opentelemetry.trace", "otel", "OpenTelemetryProcessor")  # names the extra
        from opentelemetry import trace
        from opentelemetry.trace.status import Status, StatusCode

        self._tracer: Tracer
        if tracer_provider is None:
            self._tracer = trace.get_tracer(_SCOPE, version())
        else:
            self._tracer = tracer_provider.get_tracer(_SCOPE, version())
        self._in_context: Callable[[Span], Context] = trace.set_span_in_context
        from opentelemetry import context as context_api

        self._context_api = context_api
        self._internal = trace.SpanKind.INTERNAL
        self._status = Status
        self._error = StatusCode.ERROR
        self._ok = Status(StatusCode.OK) if set_ok_status else None
        self._capture = capture_values
        self._max_length = max_value_length
        self._lock = threading.Lock()
        #: open spans by event span id (runs, nodes, maps)
        self._spans: dict[str, Open] = {}
        #: open run spans by run id
        self._runs: dict[str, Open] = {}
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"OpenTelemetryProcessor(capture_values={self._capture}, "
            f"open_spans={len(self._spans)}, closed={self._closed})"
        )

    # ------------------------------------------------------------------ EventProcessor
    def on_event(self, event: Event) -> None:
        """Start, annotate or end the span ``event`` belongs to."""
        if self._closed:
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def node_scope(self, event: ev.NodeStartEvent) -> AbstractContextManager[Any] | None:
        """Make the node's span current while its body runs (spans made inside nest under it)."""
        if self._closed:
            return None
        rec = self._spans.get(event.span_id)  # one dict read: atomic, no lock needed
        if rec is None:
            return None
        if rec.context is None:
            rec.context = self._in_context(rec.span)
        rec.context_api = self._context_api
        return rec  # entering attaches rec.context; exiting detaches it

    def span_context_for(self, event_span_id: str) -> SpanContext | None:
        """The context of the open span for an event ``span_id`` (None once it has ended).

        Lets other processors point at this processor's spans, e.g. Prometheus exemplars.
        """
        rec = self._spans.get(event_span_id)  # one dict read: atomic, no lock needed
        return None if rec is None else rec.span.get_span_context()

    def force_flush(self) -> None:
        """Nothing to flush: finished spans are already with the provider's processors."""

    def shutdown(self) -> None:
        """End every open span (status ERROR, ``"shutdown"``); ignore events from now on."""
        with self._lock:
            self._closed = True
            left = list(self._spans.values())
            self._spans.clear()
            self._runs.clear()
        for rec in reversed(left):  # innermost first
            rec.span.set_status(self._status(self._error, _SHUTDOWN))
            rec.span.end()

    # ------------------------------------------------------------------ helpers
    def _start(
        self, name: str, parent: Open | None, attributes: dict[str, Any], timestamp: float
    ) -> Span:
        """Start a span under ``parent``'s span, or under the ambient context when None.

        Spans start and end at their events' timestamps, so events replayed later (a Daft
        map's workers, a queued async processor) still give the times things happened.
        """
        context = None
        if parent is not None:
            context = parent.context
            if context is None:  # made once per parent (a run has many children)
                context = parent.context = self._in_context(parent.span)
        return self._tracer.start_span(
            name,
            context=context,
            kind=self._internal,
            attributes=attributes,
            start_time=_nanos(timestamp),
        )

    def _keep(self, span_id: str, rec: Open, run_id: str | None = None) -> None:
        """Register an open span (and a run's, by run id); end it at once if shut down."""
        with self._lock:
            if not self._closed:
                self._spans[span_id] = rec
                if run_id is not None:
                    self._runs[run_id] = rec
                elif rec.run is not None and rec.run.children is not None:
                    rec.run.children[span_id] = rec
                return
        # shutdown() ran while this span was being started: it would never end otherwise
        rec.span.set_status(self._status(self._error, _SHUTDOWN))
        rec.span.end()

    def _pop(self, span_id: str) -> Open | None:
        with self._lock:
            rec = self._spans.pop(span_id, None)
            if rec is not None and rec.run is not None and rec.run.children is not None:
                rec.run.children.pop(span_id, None)
        return rec

    def _fail(self, rec: Open, exc: BaseException | None) -> None:
        """Mark ``rec`` failed by ``exc``; record the exception only where it was first seen."""
        span = rec.span
        if exc is None:
            span.set_status(self._status(self._error))
            return
        span.set_attribute(n.ATTR_ERROR_TYPE, error_type_name(exc))
        seen = rec.errors
        if seen is None or not any(e is exc for e in seen):
            span.record_exception(exc)
        span.set_status(self._status(self._error, describe_error(exc)))
        parent = rec.parent
        if parent is not None:
            with self._lock:
                if parent.errors is None:
                    parent.errors = [exc]
                else:
                    parent.errors.append(exc)

    def _end_with(
        self, rec: Open, status: RunStatus, error: BaseException | None, timestamp: float
    ) -> None:
        """End a run or map span with its ``graphflow.run.status`` and span status."""
        rec.span.set_attribute(n.ATTR_RUN_STATUS, str(status))
        if status is RunStatus.ERROR:
            self._fail(rec, error)
        elif status is RunStatus.COMPLETED and self._ok is not None:
            rec.span.set_status(self._ok)
        rec.span.end(end_time=_nanos(timestamp))

    # ------------------------------------------------------------------ runs and maps
    def _on_run_start(self, event: ev.RunStartEvent) -> None:
        parent = None if event.parent_span_id is None else self._spans.get(event.parent_span_id)
        graph = event.graph_name
        attributes: dict[str, Any] = {
            n.ATTR_SPAN_ROLE: n.ROLE_RUN,
            n.ATTR_RUN_ID: event.run_id,
            n.ATTR_EVENT_SPAN_ID: event.span_id,
        }
        for key, value in (
            (n.ATTR_GRAPH_NAME, graph),
            (n.ATTR_RUNNER, event.runner),
            (n.ATTR_WORKFLOW_ID, event.workflow_id),
            (n.ATTR_SESSION_ID, event.session_id),
            (n.ATTR_MAP_ITEM_INDEX, event.item_index),
        ):
            if value is not None:
                attributes[key] = value
        name = f"{n.SPAN_RUN} {graph}" if graph else n.SPAN_RUN
        rec = Open(self._start(name, parent, attributes, event.timestamp), parent, None, graph)
        rec.children = {}
        self._keep(event.span_id, rec, event.run_id)

    def _on_run_end(self, event: ev.RunEndEvent) -> None:
        with self._lock:
            rec = self._spans.pop(event.span_id, None)
            if rec is None:
                return
            if self._runs.get(event.run_id) is rec:
                del self._runs[event.run_id]
            left = list(rec.children.values()) if rec.children else []
            for key in rec.children or ():
                self._spans.pop(key, None)
            rec.children = None
        for child in reversed(left):  # e.g. the interrupt a paused run stopped at
            child.span.end(end_time=_nanos(event.timestamp))
        rec.span.set_attribute(n.ATTR_RUN_ITERATIONS, event.iterations)
        self._end_with(rec, event.status, event.error, event.timestamp)

    def _on_map_start(self, event: ev.MapStartEvent) -> None:
        parent = None if event.parent_span_id is None else self._spans.get(event.parent_span_id)
        graph = event.graph_name
        attributes: dict[str, Any] = {
            n.ATTR_SPAN_ROLE: n.ROLE_MAP,
            n.ATTR_RUN_ID: event.run_id,
            n.ATTR_EVENT_SPAN_ID: event.span_id,
            n.ATTR_MAP_SIZE: event.size,
        }
        if graph is not None:
            attributes[n.ATTR_GRAPH_NAME] = graph
        name = f"{n.SPAN_MAP} {graph}" if graph else n.SPAN_MAP
        rec = Open(self._start(name, parent, attributes, event.timestamp), parent, None, graph)
        self._keep(event.span_id, rec)

    def _on_map_end(self, event: ev.MapEndEvent) -> None:
        rec = self._pop(event.span_id)
        if rec is None:
            return
        # the first failed item's error describes the map (recorded on that item already)
        self._end_with(rec, event.status, rec.errors[0] if rec.errors else None, event.timestamp)

    # ------------------------------------------------------------------ nodes
    def _on_node_start(self, event: ev.NodeStartEvent) -> None:
        run = self._runs.get(event.run_id)
        parent = run
        if event.parent_span_id is not None:
            found = self._spans.get(event.parent_span_id)
            # A node's parent is its run or an enclosing subgraph of the same run; anything
            # else (a map item's nodes carry the map's span id) falls back to the run span.
            if found is not None and (run is None or found is run or found.run is run):
                parent = found
        graph = run.graph if run is not None else None
        kind = event.node_kind
        attributes: dict[str, Any] = {
            n.ATTR_SPAN_ROLE: n.ROLE_SUBGRAPH if kind == n.NODE_KIND_GRAPH else n.ROLE_NODE,
            n.ATTR_RUN_ID: event.run_id,
            n.ATTR_EVENT_SPAN_ID: event.span_id,
            n.ATTR_NODE_NAME: event.node_name,
            n.ATTR_NODE_KIND: kind,
        }
        if graph is not None:
            attributes[n.ATTR_GRAPH_NAME] = graph
        interrupt = kind == n.NODE_KIND_INTERRUPT
        if not interrupt:
            # Known false until a cache hit says otherwise: set now, with the others, so the
            # SDK cleans one attribute mapping per span (an interrupt that pauses has none).
            attributes[n.ATTR_NODE_CACHED] = False
        if self._capture:
            attributes[n.ATTR_NODE_INPUTS] = render_value(event.inputs, self._max_length)
        span = self._start(f"{n.SPAN_NODE} {event.node_name}", parent, attributes, event.timestamp)
        rec = Open(span, parent, run, graph)
        rec.interrupt = interrupt
        self._keep(event.span_id, rec)

    def _on_node_end(self, event: ev.NodeEndEvent) -> None:
        rec = self._pop(event.span_id)
        if rec is None:
            return
        span = rec.span
        if event.cached or rec.interrupt or rec.chunks or self._capture:
            attributes: dict[str, Any] = {n.ATTR_NODE_CACHED: event.cached}
            if rec.chunks:
                attributes[n.ATTR_STREAM_CHUNKS] = rec.chunks
            if self._capture:
                attributes[n.ATTR_NODE_OUTPUTS] = render_value(event.outputs, self._max_length)
            span.set_attributes(attributes)
        if self._ok is not None:
            span.set_status(self._ok)
        span.end(end_time=_nanos(event.timestamp))

    def _on_node_error(self, event: ev.NodeErrorEvent) -> None:
        rec = self._pop(event.span_id)
        if rec is None:
            return
        if rec.chunks:
            rec.span.set_attribute(n.ATTR_STREAM_CHUNKS, rec.chunks)
        self._fail(rec, event.error)
        rec.span.end(end_time=_nanos(event.timestamp))

    def _on_cache_hit(self, event: ev.CacheHitEvent) -> None:
        rec = self._spans.get(event.span_id)
        if rec is not None:
            rec.span.add_event(n.EVENT_CACHE_HIT)

    def _on_streaming_chunk(self, event: ev.StreamingChunkEvent) -> None:
        rec = self._spans.get(event.span_id)
        if rec is None:
            return
        rec.chunks += 1  # one node's chunks come from the one task running it
        if event.chunk_index == 0:
            rec.span.add_event(n.EVENT_STREAM_FIRST_CHUNK)

    def _on_route_decision(self, event: ev.RouteDecisionEvent) -> None:
        rec = self._spans.get(event.span_id)
        if rec is not None:
            target = {n.ATTR_ROUTE_TARGET: event.decision}
            rec.span.add_event(n.EVENT_ROUTE_DECISION, target)
            rec.span.set_attributes(target)  # also on the span: searchable in trace UIs

    def _on_interrupt(self, event: ev.InterruptEvent) -> None:
        rec = self._spans.get(event.span_id)
        if rec is not None:
            rec.span.add_event(
                n.EVENT_INTERRUPT, {n.ATTR_INTERRUPT_RESPONSE_PARAM: event.response_param}
            )


_HANDLERS: dict[type, Callable[[OpenTelemetryProcessor, Any], None]] = {
    ev.RunStartEvent: OpenTelemetryProcessor._on_run_start,
    ev.RunEndEvent: OpenTelemetryProcessor._on_run_end,
    ev.MapStartEvent: OpenTelemetryProcessor._on_map_start,
    ev.MapEndEvent: OpenTelemetryProcessor._on_map_end,
    ev.NodeStartEvent: OpenTelemetryProcessor._on_node_start,
    ev.NodeEndEvent: OpenTelemetryProcessor._on_node_end,
    ev.NodeErrorEvent: OpenTelemetryProcessor._on_node_error,
    ev.CacheHitEvent: OpenTelemetryProcessor._on_cache_hit,
    ev.StreamingChunkEvent: OpenTelemetryProcessor._on_streaming_chunk,
    ev.RouteDecisionEvent: OpenTelemetryProcessor._on_route_decision,
    ev.InterruptEvent: OpenTelemetryProcessor._on_interrupt,
}
"""Event type -> handler; plain functions (no bound methods, no per-event lookups by name)."""
