"""Event processors that turn graphflow events into spans, metrics, log lines and progress bars.

Every processor is loaded on first access, so ``import graphflow.processors`` imports neither
OpenTelemetry, ``prometheus_client`` nor ``rich``; each processor needs its extra only when
built (``otel``, ``prometheus``, ``progress``).

Example:
    >>> from graphflow.processors import LoggingProcessor
    >>> LoggingProcessor().logger.name
    'graphflow'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphflow._optional import lazy_exports

if TYPE_CHECKING:
    from graphflow.processors.logging import LoggingProcessor
    from graphflow.processors.otel import OpenTelemetryProcessor
    from graphflow.processors.progress import ProgressProcessor
    from graphflow.processors.prometheus import PrometheusProcessor

__all__ = [
    "LoggingProcessor",
    "OpenTelemetryProcessor",
    "ProgressProcessor",
    "PrometheusProcessor",
]

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "LoggingProcessor": "graphflow.processors.logging",
    "OpenTelemetryProcessor": "graphflow.processors.otel",
    "ProgressProcessor": "graphflow.processors.progress",
    "PrometheusProcessor": "graphflow.processors.prometheus",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY, relabel=True)
