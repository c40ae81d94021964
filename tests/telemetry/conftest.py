"""Shared fixtures for the telemetry suite: traced runners of both kinds, and log guards."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from graphflow import Cache, EventProcessor
from graphflow.events import processor_error_counts, reset_processor_error_counts
from graphflow.testing import CapturedTraces, capture_traces
from tests._harness import Harness

# Log lines that mean a context or span was mishandled; none may ever appear.
FORBIDDEN_LOGS = ("Failed to detach context", "Calling end() on an ended span")


class Traced(Harness):
    """A runner kind ("sync" or "async") wired to a private trace capture.

    ``run``/``map`` return plain outputs whichever the kind; ``captured`` holds the spans.
    """

    def __init__(self, kind: str, captured: CapturedTraces) -> None:
        super().__init__(kind)
        self.captured = captured

    def make(
        self,
        *,
        cache: Cache | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> Any:
        return super().make(
            cache=cache, event_processors=event_processors or self.captured.processors
        )

    def check_invariants(self) -> None:
        """Every span ended once, and every parent is in the capture."""
        self.captured.assert_all_ended()
        self.captured.assert_no_orphans()


@pytest.fixture
def captured() -> Iterator[CapturedTraces]:
    """A fresh capture (private provider and registry)."""
    with capture_traces() as capture:
        yield capture


@pytest.fixture(params=["sync", "async"])
def traced(request: pytest.FixtureRequest, captured: CapturedTraces) -> Traced:
    """A Traced harness for each runner kind."""
    return Traced(request.param, captured)


@pytest.fixture(autouse=True)
def _no_telemetry_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail any test whose processors raised, or that logged a context/span misuse."""
    caplog.set_level(logging.WARNING)
    reset_processor_error_counts()
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    bad = [r.getMessage() for r in records if r.getMessage().startswith(FORBIDDEN_LOGS)]
    assert bad == [], f"forbidden log lines: {bad}"
    assert processor_error_counts() == {}, "a processor raised (see the log)"
