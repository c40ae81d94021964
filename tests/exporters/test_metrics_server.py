"""serve_metrics(): a loopback /metrics endpoint that stops cleanly."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from graphflow.exporters import MetricsServer, serve_metrics


def _fetch(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


def test_serves_the_registry_on_loopback(registry: CollectorRegistry) -> None:
    Counter("demo_things", "Things.", registry=registry).inc(3)
    with serve_metrics(0, registry=registry) as server:
        assert isinstance(server, MetricsServer)
        assert server.addr == "127.0.0.1"
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        kind, text = _fetch(server.url)
        assert kind.startswith("text/plain")
        assert "demo_things_total 3.0" in text


def test_negotiates_openmetrics(registry: CollectorRegistry) -> None:
    Counter("demo_things", "Things.", registry=registry).inc()
    with serve_metrics(0, registry=registry) as server:
        kind, text = _fetch(server.url, "application/openmetrics-text; version=1.0.0")
    assert kind.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")


def test_close_is_idempotent_and_frees_the_port(registry: CollectorRegistry) -> None:
    server = serve_metrics(0, registry=registry)
    server.close()
    server.close()
    assert server.closed
    with pytest.raises(OSError):
        _fetch(server.url)
    serve_metrics(server.port, registry=registry).close()  # the port can be bound again


def test_a_taken_port_raises(registry: CollectorRegistry) -> None:
    with serve_metrics(0, registry=registry) as server, pytest.raises(OSError):
        serve_metrics(server.port, registry=registry)
