"""ProgressProcessor: a bar per map call, a spinner for long runs, silence off a terminal."""

from __future__ import annotations

import io
import time
from typing import Any

from rich.console import Console

from graphflow import Graph, MapStartEvent, node
from graphflow.processors import ProgressProcessor


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="y")
def slow(x: int) -> int:
    time.sleep(0.3)  # long enough for the display to refresh while the node runs
    return x


SHOW_CURSOR = "\x1b[?25h"


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100), out


def test_map_bar_renders_and_reaches_the_total(drive: Any) -> None:
    console, out = terminal()
    runner = drive.runner([ProgressProcessor(console)])
    drive.map(runner, Graph([double], name="demo"), {"x": list(range(7))}, map_over="x")
    text = out.getvalue()
    assert "map demo" in text
    assert "━" in text  # the bar
    final = text.rsplit("\r", 1)[-1]  # the last frame, left on screen
    assert "map demo" in final
    assert "7/7" in final


def test_map_smaller_than_min_items_gets_no_bar(drive: Any) -> None:
    console, out = terminal()
    runner = drive.runner([ProgressProcessor(console, min_items=5)])
    drive.map(runner, Graph([double], name="demo"), {"x": [1, 2]}, map_over="x")
    assert "map demo" not in out.getvalue()


def test_long_run_shows_a_spinner_with_the_current_node(drive: Any) -> None:
    console, out = terminal()
    runner = drive.runner([ProgressProcessor(console, run_delay=0.0)])
    drive.run(runner, Graph([slow], name="job"), {"x": 1})
    assert "slow" in out.getvalue()


def test_short_run_draws_no_spinner(drive: Any) -> None:
    console, out = terminal()
    runner = drive.runner([ProgressProcessor(console, run_delay=30.0)])
    drive.run(runner, Graph([double], name="job"), {"x": 1})
    text = out.getvalue()
    assert "double" not in text
    assert "run job" not in text


def test_non_terminal_console_gets_nothing(drive: Any) -> None:
    out = io.StringIO()
    processor = ProgressProcessor(Console(file=out), run_delay=0.0)
    assert processor.enabled is False
    runner = drive.runner([processor])
    drive.map(runner, Graph([double], name="demo"), {"x": [1, 2, 3]}, map_over="x")
    drive.run(runner, Graph([slow], name="job"), {"x": 1})
    processor.shutdown()
    assert out.getvalue() == ""


def test_force_draws_on_a_non_terminal_console(drive: Any) -> None:
    out = io.StringIO()
    runner = drive.runner([ProgressProcessor(Console(file=out), force=True)])
    drive.map(runner, Graph([double], name="demo"), {"x": [1, 2, 3]}, map_over="x")
    assert "3/3" in out.getvalue()


def test_shutdown_stops_the_live_display() -> None:
    console, out = terminal()
    processor = ProgressProcessor(console)
    processor.on_event(MapStartEvent("m", "span", None, "demo", 4, time.time()))
    live = out.getvalue()
    assert "0/4" in live
    assert not live.endswith(SHOW_CURSOR)  # still drawing
    processor.shutdown()
    assert out.getvalue().endswith(SHOW_CURSOR)  # the live display gave the cursor back
    processor.shutdown()  # idempotent
    processor.on_event(MapStartEvent("m2", "span2", None, "demo", 4, time.time()))
    processor.shutdown()
