"""``instrument()``: the one call that makes an application's graphflow runs observable.

It builds an SDK tracer provider and its export pipelines, the OpenTelemetry (and, with
metrics, the Prometheus) processor, installs them as the default processors of every runner
built with ``event_processors=None``, and returns an :class:`Instrumentation` handle whose
``shutdown()`` undoes it (also run at interpreter exit).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from os import PathLike
from typing import TYPE_CHECKING, Any

from graphflow._optional import require
from graphflow.events import (
    EventProcessor,
    get_default_processors,
    set_default_processors,
)

from .metrics_http import MetricsServer, serve_metrics
from .otlp import batch_processor, otlp_span_exporter

if TYPE_CHECKING:
    from types import TracebackType

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry


__all__ = ["Instrumentation", "instrument"]

logger = logging.getLogger("graphflow")

DEFAULT_SERVICE_NAME = "graphflow"
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

# Re-entrant: instrument() holds it while shutting the previous handle down.
_lock = threading.RLock()
_current: Instrumentation | None = None


class Instrumentation:
    """What :func:`instrument` set up; ``shutdown()`` flushes and stops all of it.

    Attributes:
        tracer_provider: the SDK ``TracerProvider`` the spans go to.
        processors: the graphflow processors installed as defaults (OpenTelemetry first,
            then Prometheus when metrics are on).
        registry: the Prometheus registry the metrics go to, or ``None`` without metrics.
        metrics_url: where the metrics are served, or ``None``.
        span_processors: the SDK span processors added to the provider (export pipelines).
        sets_global_provider: whether this call set the global OpenTelemetry provider.

    Example:
        >>> handle = graphflow.instrument("billing", metrics_port=9464)
        >>> SyncRunner().run(graph, inputs)  # traced and counted
        >>> handle.shutdown()
    """

    def __init__(
        self,
        tracer_provider: TracerProvider,
        processors: tuple[EventProcessor, ...],
        registry: CollectorRegistry | None,
        server: MetricsServer | None,
        span_processors: tuple[Any, ...],
        sets_global_provider: bool,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.processors = processors
        self.registry = registry
        self.metrics_url = server.url if server is not None else None
        self.span_processors = span_processors
        self.sets_global_provider = sets_global_provider
        self._server = server
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Instrumentation(processors={[type(p).__name__ for p in self.processors]}, "
            f"metrics_url={self.metrics_url!r}, closed={self._closed})"
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` was called."""
        return self._closed

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export every finished span now; False if a pipeline failed or timed out.

        Each export is bounded by its exporter's timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``,
        10 s by default), so an unreachable collector makes this slow, never stuck.
        """
        if self._closed:
            return False
        try:
            return bool(self.tracer_provider.force_flush(timeout_millis))
        except Exception:
            logger.warning("graphflow telemetry flush failed", exc_info=True)
            return False

    def shutdown(self, timeout_millis: int = 30000) -> None:
        """Stop everything :func:`instrument` started; idempotent, never raises.

        In order: our processors leave the defaults (others set since stay), they are shut
        down (open spans end), the provider flushes and shuts down its pipelines, the
        metrics server stops. A global provider this call set stays set (OpenTelemetry
        cannot unset it) but exports nothing more.
        """
        global _current
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with _lock:
            if _current is self:
                _current = None
        atexit.unregister(self.shutdown)
        ours = {id(p) for p in self.processors}
        defaults = get_default_processors()
        if any(id(p) in ours for p in defaults):
            set_default_processors(p for p in defaults if id(p) not in ours)
        steps: list[tuple[str, Any]] = [(type(p).__name__, p.shutdown) for p in self.processors]
        steps.append(("tracer provider", self.tracer_provider.shutdown))
        if self._server is not None:
            steps.append(("metrics server", self._server.close))
        for what, step in steps:
            try:
                step()
            except Exception:
                logger.warning("graphflow telemetry shutdown: %s failed", what, exc_info=True)

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()


def _resource(service_name: str | None) -> Resource:
    """The SDK resource: env (``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SERVICE_NAME``) merged in."""
    resources = require("opentelemetry.sdk.resources", "otel", "graphflow.instrument")
    if service_name is not None:
        resource: Resource = resources.Resource.create({resources.SERVICE_NAME: service_name})
        return resource
    resource = resources.Resource.create()
    if not resources.OTELResourceDetector().detect().attributes.get(resources.SERVICE_NAME):
        # No name from the environment: ours, not the SDK's "unknown_service:python".
        resource = resource.merge(
            resources.Resource({resources.SERVICE_NAME: DEFAULT_SERVICE_NAME})
        )
    return resource


def _claim_global_provider(provider: TracerProvider) -> bool:
    """Make ``provider`` the global one if nothing real is set yet; return whether it did."""
    from opentelemetry import trace

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    trace.set_tracer_provider(provider)
    return trace.get_tracer_provider() is provider


def instrument(
    service_name: str | None = None,
    *,
    otlp_endpoint: str | None = None,
    protocol: str | None = None,
    metrics_port: int | None = None,
    console: bool = False,
    file: str | PathLike[str] | None = None,
    registry: CollectorRegistry | None = None,
) -> Instrumentation:
    """Trace (and optionally count) every graphflow run of this process.

    Spans go to an SDK ``TracerProvider`` of its own, through these pipelines:

    - OTLP, batched (bounded queue, losses counted), when ``otlp_endpoint`` is given or
      ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; headers,
      timeout, TLS and (for ``protocol=None``) the protocol also come from the standard
      ``OTEL_EXPORTER_OTLP_*`` variables;
    - the console (``console=True``), one span at a time;
    - an OTLP/JSON lines file (``file=``, see ``FileSpanExporter``), batched.

    Settings: an explicit argument wins, else the environment, else the default. So
    ``service.name`` is ``service_name`` when given, else ``OTEL_SERVICE_NAME`` (or
    ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``), else ``"graphflow"``; the other
    ``OTEL_RESOURCE_ATTRIBUTES`` are kept.

    The provider also becomes the global OpenTelemetry provider when none is set yet, so
    spans of other libraries inside nodes (HTTP clients, drivers) export with ours; an
    existing global provider (set by the application or ``opentelemetry-instrument``) is left
    alone. Metrics (a ``PrometheusProcessor`` with exemplars pointing at our spans) are on
    when ``metrics_port`` or ``registry`` is given; ``metrics_port`` also serves them on
    ``http://127.0.0.1:{metrics_port}/metrics`` (0: a free port; see ``metrics_url``). Use
    ``serve_metrics(addr="0.0.0.0")`` yourself to expose them beyond this machine.

    The processors **replace** the default processors (``graphflow.events``; under
    ``opentelemetry-instrument`` that includes ``GraphflowInstrumentor``'s, so spans are not
    made twice). Calling
    ``instrument()`` again first shuts the previous handle down (logged), so the last call
    wins. Shutdown also runs at interpreter exit.

    Args:
        service_name: the ``service.name`` resource attribute (default ``"graphflow"``).
        otlp_endpoint: the OTLP collector (see ``otlp_span_exporter``).
        protocol: ``"grpc"`` or ``"http/protobuf"``; default ``OTEL_EXPORTER_OTLP_PROTOCOL``
            (or its ``_TRACES_`` form), else ``"grpc"``.
        metrics_port: serve Prometheus metrics on this loopback port.
        console: also print each span to stdout.
        file: also append spans to this file as OTLP/JSON lines.
        registry: the Prometheus registry (default: ``prometheus_client``'s global one).

    Returns:
        The :class:`Instrumentation` handle.

    Raises:
        MissingDependencyError: the ``otel`` extra (or, for metrics, ``prometheus``) is missing.
        GraphConfigError: an unknown protocol.
        OSError: the metrics port cannot be bound (nothing is left installed).

    Example:
        >>> import graphflow
        >>> handle = graphflow.instrument("billing", otlp_endpoint="http://127.0.0.1:4317")
        >>> graphflow.SyncRunner().run(graph, {"x": 1})  # exported to the collector
        >>> handle.shutdown()
    """
    global _current
    with _lock:  # one instrument() at a time: the last call wins, none is lost
        if _current is not None:
            logger.info("graphflow.instrument() called again: shutting the previous one down")
            _current.shutdown()
        handle = _build(
            service_name, otlp_endpoint, protocol, metrics_port, console, file, registry
        )
        _current = handle
        set_default_processors(handle.processors)
        atexit.register(handle.shutdown)
        return handle


def _build(
    service_name: str | None,
    otlp_endpoint: str | None,
    protocol: str | None,
    metrics_port: int | None,
    console: bool,
    file: str | PathLike[str] | None,
    registry: CollectorRegistry | None,
) -> Instrumentation:
    require("opentelemetry.sdk.trace", "otel", "graphflow.instrument")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    from graphflow.processors import OpenTelemetryProcessor, PrometheusProcessor

    from .file import FileSpanExporter

    provider = TracerProvider(resource=_resource(service_name), shutdown_on_exit=False)
    server: MetricsServer | None = None
    try:
        pipelines: list[Any] = []
        if otlp_endpoint is not None or any(os.environ.get(v) for v in _ENDPOINT_VARIABLES):
            exporter = otlp_span_exporter(otlp_endpoint, protocol=protocol)
            pipelines.append(batch_processor(exporter, name="otlp"))
        if console:
            pipelines.append(SimpleSpanProcessor(ConsoleSpanExporter()))
        if file is not None:
            pipelines.append(batch_processor(FileSpanExporter(file), name="file"))
        for pipeline in pipelines:
            provider.add_span_processor(pipeline)

        otel = OpenTelemetryProcessor(provider)
        processors: list[EventProcessor] = [otel]
        if metrics_port is not None or registry is not None:
            prom = PrometheusProcessor(registry, exemplars_from=otel)
            processors.append(prom)
            registry = prom.registry
            if metrics_port is not None:
                server = serve_metrics(metrics_port, registry=registry)
    except BaseException:
        provider.shutdown()
        raise
    return Instrumentation(
        provider,
        tuple(processors),
        registry,
        server,
        tuple(pipelines),
        _claim_global_provider(provider),
    )


def current_instrumentation() -> Instrumentation | None:
    """The handle of the last :func:`instrument` call, unless it was shut down."""
    return _current
