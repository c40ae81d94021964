"""LoggingProcessor: one line per run, node end, error, route, interrupt and map call."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from graphflow import END, AsyncRunner, Graph, InterruptNode, ifelse, node
from graphflow.processors import LoggingProcessor


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="z")
def broken(y: int) -> int:
    raise ValueError("bad input")


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "graphflow"]


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in records(caplog) if r.levelno == level]


def test_run_start_and_end_at_info_node_end_at_debug(
    drive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="graphflow")
    drive.run(drive.runner([LoggingProcessor()]), Graph([double], name="pipe"), {"x": 1})
    info = lines(caplog, logging.INFO)
    assert info[0] == f"run 'pipe' started ({drive.kind} runner)"
    assert info[1].startswith("run 'pipe' completed in ")
    assert info[1].endswith(" ms")
    assert len(info) == 2
    debug = lines(caplog, logging.DEBUG)
    assert len(debug) == 1
    assert debug[0].startswith("node double done in ")


def test_records_carry_ids_for_structured_handlers(
    drive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="graphflow")
    runner = drive.runner([LoggingProcessor()])
    drive.run(runner, Graph([double], name="pipe"), {"x": 1}, session_id="s1")
    start, node_end, end = records(caplog)
    assert start.graphflow_run_id == end.graphflow_run_id == node_end.graphflow_run_id  # type: ignore[attr-defined]
    assert start.graphflow_span_id == end.graphflow_span_id  # type: ignore[attr-defined]
    assert start.graphflow_session_id == "s1"  # type: ignore[attr-defined]
    assert start.graphflow_graph == end.graphflow_graph == "pipe"  # type: ignore[attr-defined]
    assert end.graphflow_status == "completed"  # type: ignore[attr-defined]
    assert end.graphflow_duration_ms > 0  # type: ignore[attr-defined]
    assert node_end.graphflow_node == "double"  # type: ignore[attr-defined]
    assert node_end.graphflow_status == "success"  # type: ignore[attr-defined]


def test_node_error_logs_type_and_message_without_traceback(
    drive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="graphflow")
    with pytest.raises(ValueError):
        drive.run(drive.runner([LoggingProcessor()]), Graph([double, broken]), {"x": 1})
    errors = [r for r in records(caplog) if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].getMessage() == "node broken failed: ValueError: bad input"
    assert errors[0].exc_info is None
    assert errors[0].graphflow_error_type == "ValueError"  # type: ignore[attr-defined]
    end = lines(caplog, logging.INFO)[-1]
    assert end.startswith("run (unnamed graph) error in ")
    assert end.endswith("(ValueError: bad input)")


def test_route_decisions_at_debug(drive: Any, caplog: pytest.LogCaptureFixture) -> None:
    @ifelse(when_true="double", when_false=END)
    def gate(x: int) -> bool:
        return x > 0

    caplog.set_level(logging.DEBUG, logger="graphflow")
    runner = drive.runner([LoggingProcessor()])
    drive.run(runner, Graph([gate, double]), {"x": 1})
    drive.run(runner, Graph([gate, double]), {"x": -1})
    debug = lines(caplog, logging.DEBUG)
    assert "gate gate chose double" in debug
    assert "gate gate chose END" in debug


def test_map_start_and_end_at_info(drive: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="graphflow")
    runner = drive.runner([LoggingProcessor()])
    drive.map(runner, Graph([double], name="m"), {"x": [1, 2]}, map_over="x")
    info = lines(caplog, logging.INFO)
    assert info[0] == "map 'm' started with 2 items"
    assert info[-1].startswith("map 'm' completed in ")
    assert sum(line.startswith("run 'm' item ") for line in info) == 2


def test_interrupt_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="graphflow")
    ask = InterruptNode("approve", input_param="y", response_param="decision")
    graph = Graph([double, ask], name="review")
    runner = AsyncRunner(event_processors=[LoggingProcessor()])
    asyncio.run(runner.run(graph, {"x": 1}, workflow_id="wf-1"))
    info = lines(caplog, logging.INFO)
    assert "interrupt approve waits for 'decision' (workflow wf-1)" in info
    assert info[-1].startswith("run 'review' paused in ")


def test_nothing_is_formatted_when_the_level_is_off(
    drive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="graphflow")
    drive.run(drive.runner([LoggingProcessor()]), Graph([double], name="pipe"), {"x": 1})
    assert records(caplog) == []


def test_a_given_logger_is_used(drive: Any, caplog: pytest.LogCaptureFixture) -> None:
    mine = logging.getLogger("myapp.workflows")
    caplog.set_level(logging.INFO, logger="myapp.workflows")
    drive.run(drive.runner([LoggingProcessor(mine)]), Graph([double], name="pipe"), {"x": 1})
    names = {r.name for r in caplog.records if r.getMessage().startswith("run 'pipe'")}
    assert names == {"myapp.workflows"}
