"""A node that raises fails the collect with its own exception type, naming item and node."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("daft")

from daft_graphs import NodeFailed, failing

from graphflow import DaftRunner, Graph, NodeOutputError, node
from graphflow.testing import capture_traces


def _notes(exc: BaseException) -> list[str]:
    return list(getattr(exc, "__notes__", []))


@pytest.mark.parametrize("how", ["collect", "to_pydict", "iter_rows", "to_arrow"])
def test_the_original_exception_type_reaches_the_caller(how: str) -> None:
    frame = DaftRunner().map(failing(), {"x": [1, 2, 3]}, map_over="x")
    with pytest.raises(NodeFailed) as info:
        result = getattr(frame, how)()
        if how == "iter_rows":
            list(result)
    assert type(info.value) is NodeFailed
    assert str(info.value) == "x=2 is not allowed"
    notes = _notes(info.value)
    assert "graphflow: raised in node 'check' of graph 'failing'" in notes
    assert "graphflow: DaftRunner map item 1 of graph 'failing'" in notes


def test_an_async_node_error_keeps_its_type_and_cancels_the_batch() -> None:
    @node(output_name="y")
    async def flaky(x: int) -> int:
        await asyncio.sleep(0.001 * x)
        if x == 3:
            raise KeyError(f"no {x}")
        return x

    frame = DaftRunner().map(Graph([flaky], name="flaky"), {"x": [1, 2, 3, 4]}, map_over="x")
    with pytest.raises(KeyError) as info:
        frame.collect()
    assert "graphflow: DaftRunner map item 2 of graph 'flaky'" in _notes(info.value)
    assert any("node 'flaky'" in n for n in _notes(info.value))


def test_run_raises_the_nodes_exception() -> None:
    with pytest.raises(NodeFailed) as info:
        DaftRunner().run(failing(), {"x": 2})
    assert any("node 'check'" in n for n in _notes(info.value))


def test_a_value_that_does_not_fit_its_annotation_is_an_error_not_a_coercion() -> None:
    @node(output_name="y")
    def lies(x: int) -> int:
        return x / 2  # type: ignore[return-value]  # a float, annotated int on purpose

    frame = DaftRunner().map(Graph([lies]), {"x": [2, 3]}, map_over="x")
    with pytest.raises(NodeOutputError) as info:
        frame.to_pydict()
    message = str(info.value)
    assert "'lies'" in message
    assert "annotated int" in message
    assert "item 0" in message


def test_a_failed_map_is_an_error_span_with_the_failing_items_run() -> None:
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        with pytest.raises(NodeFailed):
            runner.map(failing(), {"x": [1, 2, 3]}, map_over="x").collect()
        map_span = captured.one(role="map")
        assert map_span.status == "ERROR"
        assert map_span.attributes["graphflow.run.status"] == "error"
        failed = captured.one(role="node", status="ERROR")
        assert failed.attributes["error.type"].endswith("NodeFailed")
        assert failed.parent is not None and failed.parent.parent == map_span
        assert captured.metric(
            "graphflow_map_items_total", graph="failing", status="error"
        ) == pytest.approx(1.0)
        captured.assert_all_ended()
        captured.assert_no_orphans()
