"""The service-skip policy: tests that need a real external service.

Locally, a test whose service (a Prometheus server, an OTLP backend, ...) is not running is
skipped. In CI, ``.ci/run`` exports ``GRAPHFLOW_REQUIRE_SERVICES=1``: the same test then fails,
and the root ``conftest.py`` also fails the session if any test was skipped for any other reason,
so a green CI run means every test really ran.

Example::

    from tests._services import require_service

    def test_metrics_are_scraped(prometheus_url: str | None) -> None:
        if prometheus_url is None:
            require_service("prometheus", "no server on 127.0.0.1:9090")
        ...
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["REQUIRE_SERVICES_ENV", "require_service", "services_required"]

REQUIRE_SERVICES_ENV = "GRAPHFLOW_REQUIRE_SERVICES"


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
