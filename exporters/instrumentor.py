"""``GraphflowInstrumentor``: graphflow tracing under ``opentelemetry-instrument``, no code change.

graphflow registers it as the ``opentelemetry_instrumentor`` entry point ``graphflow``, so

    opentelemetry-instrument --traces_exporter otlp python app.py

configures the SDK (the OpenTelemetry distro does that) and then calls
``GraphflowInstrumentor().instrument()``, which adds an :class:`OpenTelemetryProcessor` on the
global tracer provider to the default processors: every runner built with
``event_processors=None`` is traced, and a run started inside a request's span becomes its
child. Tracing only: metrics stay an application choice (``graphflow.instrument``).
Skip it with ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=graphflow``.

``BaseInstrumentor`` (package ``opentelemetry-instrumentation``) is optional, so the class is
built on first access, like ``FileSpanExporter``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from graphflow.events import EventProcessor, get_default_processors, set_default_processors

from ._lazy import sdk_subclass

if TYPE_CHECKING:
    # The module starts with `# type: ignore`, so mypy sees none of its names (Any).
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )

__all__ = ["GraphflowInstrumentor"]

_lock = threading.Lock()


class _GraphflowInstrumentorImpl:
    """Install (``instrument()``) or remove (``uninstrument()``) the default tracing processor.

    ``instrument(tracer_provider=None, capture_values=False)``: the processor uses the given
    provider, else the global one (late-bound, so a provider set afterwards is used too).
    Like every ``BaseInstrumentor``, it is a singleton and instruments once.

    Attributes:
        processor: the installed processor, or ``None``.

    Example:
        >>> GraphflowInstrumentor().instrument()
        >>> SyncRunner().run(graph, inputs)  # spans on the global tracer provider
        >>> GraphflowInstrumentor().uninstrument()
    """

    processor: EventProcessor | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """Nothing to check: the entry point ships with graphflow itself."""
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        from graphflow.processors import OpenTelemetryProcessor

        processor = OpenTelemetryProcessor(
            kwargs.get("tracer_provider"), capture_values=bool(kwargs.get("capture_values"))
        )
        with _lock:
            self.processor = processor
            set_default_processors((*get_default_processors(), processor))

    def _uninstrument(self, **kwargs: Any) -> None:
        with _lock:
            processor, self.processor = self.processor, None
            if processor is None:
                return
            set_default_processors(p for p in get_default_processors() if p is not processor)
        processor.shutdown()  # ends spans of runs still open


if TYPE_CHECKING:
    # misc: subclassing Any (BaseInstrumentor, see the import above).
    class GraphflowInstrumentor(_GraphflowInstrumentorImpl, BaseInstrumentor):  # type: ignore[misc]
        """The OpenTelemetry instrumentor of graphflow (see ``_GraphflowInstrumentorImpl``)."""


def __getattr__(name: str) -> Any:
    if name == "GraphflowInstrumentor":
        cls = globals()[name] = sdk_subclass(  # later lookups skip __getattr__
            name,
            _GraphflowInstrumentorImpl,
            "opentelemetry.instrumentation.instrumentor",
            "BaseInstrumentor",
            __name__,
        )
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
