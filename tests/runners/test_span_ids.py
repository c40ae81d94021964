"""Event span ids: 16 lowercase hex digits, unique, and not shared by a forked child."""

from __future__ import annotations

import multiprocessing
import re
import sys

import pytest

from graphflow import Graph, SyncRunner, node
from graphflow.runners._ids import new_span_id
from graphflow.testing import capture_traces


def test_span_ids_are_16_hex_digits_and_unique() -> None:
    ids = [new_span_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def _child_ids(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([new_span_id() for _ in range(100)])


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    child = context.Process(target=_child_ids, args=(queue,))
    child.start()
    theirs = queue.get(timeout=60)
    child.join(timeout=60)
    ours = [new_span_id() for _ in range(100)]
    assert not set(ours) & set(theirs)


def test_events_of_a_run_carry_distinct_span_ids() -> None:
    @node(output_name="y")
    def inc(x: int) -> int:
        return x + 1

    with capture_traces() as captured:
        runner = SyncRunner(event_processors=captured.processors)
        for i in range(50):
            runner.run(Graph([inc]), {"x": i})
        ids = [s.attributes["graphflow.event.span_id"] for s in captured.all()]
    assert len(ids) == 100
    assert len(set(ids)) == 100
