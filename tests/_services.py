"""The service-skip policy: tests that need a real external service.

Locally, a test whose service (a Prometheus server, an OTLP backend, ...) is not running is
skipped. In CI, ``.ci/run`` starts the services (``.ci/integration.sh``, inside a loopback-only
network namespace), exports where they listen, and exports ``GRAPHFLOW_REQUIRE_SERVICES=1``:
the same test then fails, and the root ``conftest.py`` also fails the session if any test was
skipped for any other reason, so a green CI run means every test really ran.

Where the services are comes from the environment, one helper each:

==========================  ============================  =====================================
helper                      variable                      CI value
==========================  ============================  =====================================
:func:`prometheus_url`      ``GRAPHFLOW_PROMETHEUS_URL``  ``http://127.0.0.1:9090``
:func:`phoenix_url`         ``GRAPHFLOW_PHOENIX_URL``     ``http://127.0.0.1:6006``
:func:`otlp_grpc_endpoint`  ``GRAPHFLOW_OTLP_GRPC``       ``127.0.0.1:4317`` (Phoenix)
:func:`metrics_port`        ``GRAPHFLOW_METRICS_PORT``    ``9464`` (``ci/prometheus.yml``)
==========================  ============================  =====================================

The first three call :func:`require_service` when their variable is unset or nothing answers
there, so a test just asks for what it needs::

    from tests._services import prometheus_url

    def test_metrics_are_scraped() -> None:
        base = prometheus_url()  # skips locally, fails in CI, when there is no server
        ...

To run these tests locally, start the services as ``.ci/integration.sh`` does and export the
same variables.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from typing import NoReturn

import pytest

__all__ = [
    "METRICS_PORT_ENV",
    "OTLP_GRPC_ENV",
    "PHOENIX_URL_ENV",
    "PROMETHEUS_URL_ENV",
    "REQUIRE_SERVICES_ENV",
    "metrics_port",
    "otlp_grpc_endpoint",
    "phoenix_url",
    "prometheus_url",
    "require_service",
    "services_required",
]

REQUIRE_SERVICES_ENV = "GRAPHFLOW_REQUIRE_SERVICES"
PROMETHEUS_URL_ENV = "GRAPHFLOW_PROMETHEUS_URL"
PHOENIX_URL_ENV = "GRAPHFLOW_PHOENIX_URL"
OTLP_GRPC_ENV = "GRAPHFLOW_OTLP_GRPC"
METRICS_PORT_ENV = "GRAPHFLOW_METRICS_PORT"

#: The port ci/prometheus.yml scrapes when GRAPHFLOW_METRICS_PORT is not set.
DEFAULT_METRICS_PORT = 9464

_HINT = "(CI starts one; see .ci/run and .ci/integration.sh)"


def services_required() -> bool:
    """Return whether missing services (and any skip) must fail the run, as in CI."""
    return os.environ.get(REQUIRE_SERVICES_ENV) == "1"


def require_service(name: str, reason: str) -> NoReturn:
    """Stop the current test because the service ``name`` is not available.

    Args:
        name: the service, e.g. ``"prometheus"``.
        reason: why it is unavailable, e.g. ``"nothing listens on 127.0.0.1:9090"``.

    Raises:
        pytest.skip.Exception: normally.
        pytest.fail.Exception: when ``GRAPHFLOW_REQUIRE_SERVICES=1`` (CI).
    """
    message = f"service {name!r} is not available: {reason}"
    if services_required():
        pytest.fail(f"{message} ({REQUIRE_SERVICES_ENV}=1: .ci/run must start it)")
    pytest.skip(message)


def _answers(url: str, timeout: float = 3.0) -> str | None:
    """None when ``url`` answers 2xx, else why not (for the skip/fail message)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if 200 <= response.status < 300:
                return None
            return f"{url} answered HTTP {response.status}"
    except urllib.error.HTTPError as e:
        return f"{url} answered HTTP {e.code}"
    except OSError as e:  # refused, timed out, unresolvable
        return f"{url} did not answer ({e})"


def _service_url(name: str, label: str, env: str, health_path: str) -> str:
    base = os.environ.get(env, "").strip().rstrip("/")
    if not base:
        require_service(name, f"no {label}: set {env} {_HINT}")
    problem = _answers(base + health_path)
    if problem is not None:
        require_service(name, f"{env}={base} is set but the {label} is not ready: {problem}")
    return base


def prometheus_url() -> str:
    """The base URL of a ready Prometheus server (``GRAPHFLOW_PROMETHEUS_URL``).

    Skips the test (fails it in CI) when the variable is unset or ``/-/ready`` does not answer.
    """
    return _service_url("prometheus", "Prometheus server", PROMETHEUS_URL_ENV, "/-/ready")


def phoenix_url() -> str:
    """The base URL of a ready Arize Phoenix server (``GRAPHFLOW_PHOENIX_URL``).

    Phoenix is the OTLP trace backend of CI: it receives OTLP over gRPC and over HTTP
    (``{phoenix_url}/v1/traces``) and answers a REST API for the stored spans. Skips the test
    (fails it in CI) when the variable is unset or ``/healthz`` does not answer.
    """
    return _service_url("phoenix", "Phoenix server", PHOENIX_URL_ENV, "/healthz")


def otlp_grpc_endpoint() -> str:
    """The ``host:port`` of an OTLP/gRPC receiver (``GRAPHFLOW_OTLP_GRPC``), e.g. Phoenix's.

    Skips the test (fails it in CI) when the variable is unset. The receiver is not probed
    here (a gRPC port does not answer HTTP): pair it with :func:`phoenix_url`, which checks
    the server behind it.
    """
    endpoint = os.environ.get(OTLP_GRPC_ENV, "").strip()
    if not endpoint:
        require_service("otlp-grpc", f"no OTLP/gRPC receiver: set {OTLP_GRPC_ENV} {_HINT}")
    return endpoint


def metrics_port() -> int:
    """The port tests serve Prometheus metrics on (``GRAPHFLOW_METRICS_PORT``, default 9464).

    It must be the port the Prometheus server scrapes (``ci/prometheus.yml``).

    Raises:
        ValueError: the variable is set but is not a port number.
    """
    raw = os.environ.get(METRICS_PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_METRICS_PORT
    port = int(raw)
    if not 0 < port < 65536:
        raise ValueError(f"{METRICS_PORT_ENV}={raw!r} is not a TCP port")
    return port
