"""Repo-wide pytest hooks: under GRAPHFLOW_REQUIRE_SERVICES=1 (CI) any skip fails the session.

See tests/_services.py for the policy; xfail results are not skips and do not count.
"""

from __future__ import annotations

import pytest

from tests._services import REQUIRE_SERVICES_ENV, services_required

_skipped: list[str] = []


def _record(report: pytest.CollectReport | pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _record(report)  # e.g. a module-level pytest.importorskip


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _record(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if services_required() and _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if services_required() and _skipped:
        terminalreporter.section(f"{REQUIRE_SERVICES_ENV}=1: skips fail the run", red=True)
        for nodeid in _skipped:
            terminalreporter.line(f"SKIPPED (not allowed here) {nodeid}", red=True)
