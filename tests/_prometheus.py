"""Helpers for tests that talk to a real Prometheus server (see tests/_services.py).

``PrometheusAPI`` wraps the few calls of Prometheus's HTTP API the tests need, and
``served_registry()`` serves a private registry on 127.0.0.1:GRAPHFLOW_METRICS_PORT, the
port CI's Prometheus scrapes (ci/prometheus.yml).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from tests._services import metrics_port


class PrometheusAPI:
    """The few calls of Prometheus's HTTP API the tests need."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """``data`` of a successful API response (an AssertionError otherwise)."""
        url = f"{self.base}{path}?{urllib.parse.urlencode(list(params))}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"GET {url}: HTTP {e.code} {e.read()[:500]!r}") from e
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant vector: ``[{"metric": {...}, "value": [ts, "1"]}, ...]``."""
        data = self.get("/api/v1/query", [("query", promql)])
        assert data["resultType"] == "vector", (promql, data)
        return data["result"]  # type: ignore[no-any-return]

    def value(self, promql: str) -> float | None:
        """The one value of an instant query (None when it returns nothing)."""
        result = self.query(promql)
        assert len(result) <= 1, f"{promql} returned {len(result)} series: {result}"
        return float(result[0]["value"][1]) if result else None

    def total(self, promql: str) -> float | None:
        """``sum(promql)`` (None when there is no series)."""
        return self.value(f"sum({promql})")

    def label_values(self, label: str, selector: str, start: float) -> list[str]:
        params = [("match[]", selector), ("start", str(start)), ("end", str(time.time()))]
        return self.get(f"/api/v1/label/{label}/values", params)  # type: ignore[no-any-return]

    def exemplars(self, promql: str, start: float, end: float | None = None) -> list[Any]:
        end = time.time() if end is None else end
        params = [("query", promql), ("start", str(start)), ("end", str(end))]
        return self.get("/api/v1/query_exemplars", params)  # type: ignore[no-any-return]

    def wait(self, what: str, check: Callable[[], Any], deadline: float) -> Any:
        """Poll ``check`` until it returns something truthy, or fail after ``deadline`` s."""
        stop = time.monotonic() + deadline
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > stop:
                targets = self.get("/api/v1/targets")["activeTargets"]
                health = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets]
                raise AssertionError(
                    f"Prometheus at {self.base}: {what} not seen within {deadline:g}s "
                    f"(scrape targets: {health}; ci/prometheus.yml must scrape the port "
                    f"{metrics_port()} the test serves)"
                )
            time.sleep(0.25)


@contextmanager
def served_registry() -> Iterator[CollectorRegistry]:
    """A private registry served on 127.0.0.1:GRAPHFLOW_METRICS_PORT while in the block."""
    registry = CollectorRegistry()
    try:
        server, thread = start_http_server(metrics_port(), addr="127.0.0.1", registry=registry)
    except OSError as e:
        pytest.fail(f"cannot serve metrics on 127.0.0.1:{metrics_port()}: {e}")
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
