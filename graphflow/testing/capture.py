"""capture_traces(): a private tracer provider and metrics registry, and what they recorded.

Nothing global is touched: the provider, its in-memory exporter and the Prometheus registry
belong to the capture, so tests can run in parallel and never see each other's spans.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Tracer

from graphflow.events import EventProcessor
from graphflow.processors._names import ATTR_NODE_NAME, ATTR_SPAN_ROLE
from graphflow.processors.otel import OpenTelemetryProcessor
from graphflow.testing.tree import SpanEventData, SpanTree, assert_tree, format_tree

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["CapturedTraces", "SpanView", "capture_traces", "tree_from_spans"]


class _Tracker(SpanProcessor):
    """Records every span start and end (and the start order, which breaks time ties)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order = itertools.count()
        self.started: dict[int, tuple[int, str]] = {}
        self.ended: set[int] = set()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started[span.context.span_id] = (next(self._order), span.name)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended.add(span.context.span_id)

    def clear(self) -> None:
        with self._lock:
            self.started.clear()
            self.ended.clear()


class SpanView:
    """One finished span, linked to its parent and children (in start order).

    Attributes:
        name: the span name, e.g. ``"node embed"``.
        attributes: the span attributes.
        status: ``"UNSET"``, ``"OK"`` or ``"ERROR"``.
        status_description: the status description, if any.
        events: the span events (name and attributes).
        parent: the parent's view, or None for a root (or a span whose parent was not
            captured, such as an ambient span of another provider).
        children: the child views, in start order.
        span: the SDK ``ReadableSpan``.
    """

    def __init__(self, span: ReadableSpan) -> None:
        self.span = span
        self.name: str = span.name
        self.attributes: dict[str, Any] = dict(span.attributes or {})
        self.status: str = span.status.status_code.name
        self.status_description: str | None = span.status.description
        self.events: list[SpanEventData] = [
            SpanEventData(name=e.name, attributes=dict(e.attributes or {})) for e in span.events
        ]
        self.parent: SpanView | None = None
        self.children: list[SpanView] = []

    @property
    def role(self) -> str | None:
        """The ``graphflow.span.role`` attribute (``run``, ``node``, ``subgraph``, ``map``)."""
        role = self.attributes.get(ATTR_SPAN_ROLE)
        return role if isinstance(role, str) else None

    @property
    def event_names(self) -> list[str]:
        """The names of the span events, in order."""
        return [e["name"] for e in self.events]

    def tree(self) -> SpanTree:
        """This span and its descendants as plain data."""
        return SpanTree(
            name=self.name,
            role=self.role,
            attributes=dict(self.attributes),
            status=self.status,
            status_description=self.status_description,
            events=[
                SpanEventData(name=e["name"], attributes=dict(e["attributes"])) for e in self.events
            ],
            children=[c.tree() for c in self.children],
        )

    def __eq__(self, other: object) -> bool:
        """Views are equal when they show the same span (views are rebuilt on every query)."""
        if not isinstance(other, SpanView):
            return NotImplemented
        mine, theirs = self.span.context, other.span.context
        return (mine.trace_id, mine.span_id) == (theirs.trace_id, theirs.span_id)

    def __hash__(self) -> int:
        return hash((self.span.context.trace_id, self.span.context.span_id))

    def __repr__(self) -> str:
        return f"SpanView({self.name!r}, status={self.status}, children={len(self.children)})"


class CapturedTraces:
    """What :func:`capture_traces` yields: hand ``.processors`` to a runner, then assert.

    Attributes:
        tracer_provider: the private SDK ``TracerProvider`` (SimpleSpanProcessor into an
            ``InMemorySpanExporter``); make your own spans with :attr:`tracer`.
        exporter: the ``InMemorySpanExporter``.
        registry: the private ``prometheus_client.CollectorRegistry`` (None without
            ``prometheus-client``).
        otel: the ``OpenTelemetryProcessor`` on the private provider.
        prometheus: the ``PrometheusProcessor`` on the private registry, when available.
        processors: the processors to pass as ``event_processors``.
    """

    def __init__(self, **otel_options: Any) -> None:
        self._tracker = _Tracker()
        self.exporter = InMemorySpanExporter()
        # always sample: an OTEL_TRACES_SAMPLER in the environment must not thin out tests
        self.tracer_provider = TracerProvider(sampler=ALWAYS_ON)
        self.tracer_provider.add_span_processor(self._tracker)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.registry: CollectorRegistry | None = _registry()
        self.otel = OpenTelemetryProcessor(self.tracer_provider, **otel_options)
        self.prometheus: EventProcessor | None = (
            None if self.registry is None else _prometheus(self.registry, self.otel)
        )
        self.processors: list[EventProcessor] = [self.otel]
        if self.prometheus is not None:
            self.processors.append(self.prometheus)

    @property
    def tracer(self) -> Tracer:
        """A tracer on the private provider, for ambient spans and spans inside nodes."""
        return self.tracer_provider.get_tracer("graphflow.testing")

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        """The finished spans, in the order they ended."""
        return self.exporter.get_finished_spans()

    def clear(self) -> None:
        """Forget every captured span (metrics stay in the registry)."""
        self.exporter.clear()
        self._tracker.clear()

    # ------------------------------------------------------------------ trees
    def _views(self) -> list[SpanView]:
        return _link(self.spans, self._tracker.started)

    def roots(self) -> list[SpanView]:
        """The root views (no captured parent), in start order."""
        return [v for v in self._views() if v.parent is None]

    def tree(self) -> list[SpanTree]:
        """The captured forest as plain data: roots and children in start order."""
        return [v.tree() for v in self.roots()]

    def format_tree(self, attributes: tuple[str, ...] = (), *, events: bool = False) -> str:
        """The captured forest drawn with ``├──``/``└──`` (see :func:`format_tree`)."""
        return format_tree(self.tree(), attributes, events=events)

    def assert_tree(self, expected: str) -> None:
        """Assert the captured forest matches the outline (see :func:`assert_tree`)."""
        assert_tree(self.tree(), expected)

    # ------------------------------------------------------------------ finding spans
    def all(
        self,
        *,
        name: str | None = None,
        node: str | None = None,
        role: str | None = None,
        status: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> list[SpanView]:
        """Every finished span matching all the given criteria, in start order.

        Args:
            name: the span name (``"run pipeline"``).
            node: the ``graphflow.node.name`` attribute.
            role: the ``graphflow.span.role`` attribute.
            status: ``"UNSET"``, ``"OK"`` or ``"ERROR"``.
            attributes: attribute values that must all be equal.
        """
        wanted = dict(attributes or {})
        if node is not None:
            wanted[ATTR_NODE_NAME] = node
        if role is not None:
            wanted[ATTR_SPAN_ROLE] = role
        return [
            v
            for v in self._views()
            if (name is None or v.name == name)
            and (status is None or v.status == status.upper())
            and all(k in v.attributes and v.attributes[k] == want for k, want in wanted.items())
        ]

    def one(
        self,
        *,
        name: str | None = None,
        node: str | None = None,
        role: str | None = None,
        status: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> SpanView:
        """The one finished span matching the criteria (see :meth:`all`).

        Raises:
            AssertionError: no span, or more than one, matches.
        """
        found = self.all(name=name, node=node, role=role, status=status, attributes=attributes)
        if len(found) != 1:
            criteria = {
                k: v
                for k, v in dict(
                    name=name, node=node, role=role, status=status, attributes=attributes
                ).items()
                if v is not None
            }
            raise AssertionError(
                f"expected exactly one span matching {criteria}, found {len(found)}: "
                f"{[v.name for v in found]}\n\ncaptured:\n{self.format_tree()}"
            )
        return found[0]

    # ------------------------------------------------------------------ invariants
    def assert_no_orphans(self) -> None:
        """Assert every span's parent was captured, except one shared ambient root parent.

        Raises:
            AssertionError: spans point at more than one parent that was not captured.
        """
        spans = self.spans
        ids = {s.context.span_id for s in spans}
        orphans: dict[int, list[str]] = {}
        for s in spans:
            if s.parent is not None and s.parent.span_id not in ids:
                orphans.setdefault(s.parent.span_id, []).append(s.name)
        if len(orphans) > 1:
            listed = "\n".join(
                f"  parent {pid:016x}: {', '.join(names)}" for pid, names in orphans.items()
            )
            raise AssertionError(
                f"{len(orphans)} parents are missing from the captured spans (at most one "
                f"ambient root parent is allowed):\n{listed}"
            )

    def assert_all_ended(self) -> None:
        """Assert every span that was started has ended.

        Raises:
            AssertionError: some spans never ended (listed by name).
        """
        tracker = self._tracker
        with tracker._lock:
            open_spans = [
                name for sid, (_, name) in tracker.started.items() if sid not in tracker.ended
            ]
        if open_spans:
            raise AssertionError(f"{len(open_spans)} span(s) never ended: {open_spans}")

    # ------------------------------------------------------------------ metrics
    def metric(self, name: str, **labels: str) -> float | None:
        """A sample value from the private registry (None when there is no such sample).

        Example:
            >>> captured.metric("graphflow_node_duration_seconds_count", graph="g", node="a",
            ...                 status="success")
            1.0
        """
        if self.registry is None:
            raise AssertionError("metric() needs prometheus-client: pip install prometheus-client")
        return self.registry.get_sample_value(name, labels)

    def close(self) -> None:
        """Shut the processors down (ending any open span), then the provider."""
        for processor in self.processors:
            processor.shutdown()
        self.tracer_provider.shutdown()


def _link(
    spans: Sequence[ReadableSpan], started: Mapping[int, tuple[int, str]] | None = None
) -> list[SpanView]:
    """Views of ``spans`` in start order (ties broken by ``started`` order), linked up."""
    order_of = started or {}
    order = sorted(
        spans, key=lambda s: (s.start_time or 0, order_of.get(s.context.span_id, (0, ""))[0])
    )
    views = [SpanView(s) for s in order]
    by_id = {v.span.context.span_id: v for v in views}
    for view in views:
        parent = view.span.parent
        owner = by_id.get(parent.span_id) if parent is not None else None
        if owner is not None:
            view.parent = owner
            owner.children.append(view)
    return views


def tree_from_spans(spans: Sequence[ReadableSpan]) -> list[SpanTree]:
    """Finished SDK spans (from any exporter) as a plain-data forest, in start order.

    Example:
        >>> print(format_tree(tree_from_spans(memory_exporter.get_finished_spans())))
        run pipeline
        └── node fetch
    """
    return [v.tree() for v in _link(spans) if v.parent is None]


def _registry() -> CollectorRegistry | None:
    """A fresh private registry, or None without prometheus-client."""
    try:
        from prometheus_client import CollectorRegistry
    except ImportError:
        return None
    return CollectorRegistry()


def _prometheus(registry: CollectorRegistry, otel: OpenTelemetryProcessor) -> EventProcessor | None:
    """A PrometheusProcessor on ``registry`` (exemplars from ``otel``'s spans), or None."""
    try:
        from graphflow.processors import PrometheusProcessor
    except ImportError:
        return None
    try:
        processor: EventProcessor = PrometheusProcessor(registry, exemplars_from=otel)
    except TypeError:  # a PrometheusProcessor without exemplar support
        processor = PrometheusProcessor(registry)
    except ImportError:  # prometheus-client missing
        return None
    return processor


@contextmanager
def capture_traces(**otel_options: Any) -> Iterator[CapturedTraces]:
    """Capture the spans and metrics of the runs given ``captured.processors``.

    Args:
        **otel_options: keyword options for the ``OpenTelemetryProcessor``
            (``capture_values``, ``max_value_length``, ``set_ok_status``).

    Example:
        >>> with capture_traces() as captured:
        ...     SyncRunner(event_processors=captured.processors).run(graph, {"x": 1})
        >>> captured.assert_tree('''
        ... run pipeline
        ... └── node double
        ... ''')
    """
    captured = CapturedTraces(**otel_options)
    try:
        yield captured
    finally:
        captured.close()
