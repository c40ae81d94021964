"""Fixtures for the exporter suite: process-wide telemetry state reset around every test.

``instrument()`` touches process-wide state on purpose (default processors, the global
OpenTelemetry provider, drop counts); each test starts and ends with none of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from _exporters_support import BlackHole, double
from opentelemetry import trace
from opentelemetry.util._once import Once
from prometheus_client import CollectorRegistry

from graphflow import Graph
from graphflow.events import clear_default_processors, reset_processor_error_counts
from graphflow.exporters.instrument import current_instrumentation
from graphflow.exporters.otlp import reset_otlp_drop_counts


@pytest.fixture
def graph() -> Graph:
    """A one-node graph named ``demo``: spans ``run demo`` > ``node double``."""
    return Graph([double], name="demo")


@pytest.fixture(autouse=True)
def _clean_telemetry_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    # A fresh, unset global tracer provider (OpenTelemetry sets it once per process).
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    clear_default_processors()
    reset_otlp_drop_counts()
    reset_processor_error_counts()
    yield
    handle = current_instrumentation()
    if handle is not None:
        handle.shutdown()
    from graphflow.exporters import GraphflowInstrumentor

    if GraphflowInstrumentor().is_instrumented_by_opentelemetry:
        GraphflowInstrumentor().uninstrument()
    clear_default_processors()
    reset_otlp_drop_counts()
    reset_processor_error_counts()


@pytest.fixture
def registry() -> CollectorRegistry:
    """A private Prometheus registry."""
    return CollectorRegistry()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    server = BlackHole()
    yield server
    server.close()
