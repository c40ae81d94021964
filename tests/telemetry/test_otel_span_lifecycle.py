"""Span status and lifecycle: errors, streaming, pauses, cancellation, shutdown, values."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from graphflow import (
    END,
    AsyncRunner,
    Graph,
    GraphConfigError,
    InfiniteLoopError,
    InterruptNode,
    RunStatus,
    SyncRunner,
    node,
    route,
)
from graphflow.processors import OpenTelemetryProcessor
from graphflow.testing import CapturedTraces, capture_traces

MARKER = "…[truncated]"


class BadInputError(ValueError):
    """A user exception with a module-qualified name."""


@node(output_name="text")
def fetch(url: str) -> str:
    return f"<{url}>"


@node(output_name="vectors")
def explode(text: str) -> list[int]:
    raise BadInputError(f"cannot embed {text}")


def _exception_events(captured: CapturedTraces) -> list[tuple[str, dict[str, Any]]]:
    return [
        (view.name, event["attributes"])
        for view in captured.all()
        for event in view.events
        if event["name"] == "exception"
    ]


# ------------------------------------------------------------------------------------ errors
def test_node_error_marks_node_subgraph_and_run_and_records_once(traced: Any) -> None:
    inner = Graph([explode], name="analyze").as_node()
    graph = Graph([fetch, inner], name="pipeline")
    with pytest.raises(BadInputError):
        traced.run(graph, {"url": "u"})
    captured = traced.captured
    captured.assert_tree(
        """
        run pipeline  status=ERROR graphflow.run.status=error
        ├── node fetch  status=UNSET
        └── node analyze  status=ERROR role=subgraph
            └── node explode  status=ERROR
        """
    )
    qualified = f"{BadInputError.__module__}.BadInputError"
    failing = captured.one(node="explode")
    assert failing.status_description == "BadInputError: cannot embed <u>"
    assert failing.attributes["error.type"] == qualified
    for view in (captured.one(node="analyze"), captured.one(role="run")):
        assert view.status_description == "BadInputError: cannot embed <u>"
        assert view.attributes["error.type"] == qualified
    events = _exception_events(captured)
    assert [name for name, _ in events] == ["node explode"]
    assert events[0][1]["exception.type"] == qualified
    assert events[0][1]["exception.message"] == "cannot embed <u>"
    traced.check_invariants()


def test_top_level_node_error_is_recorded_on_the_node_only(traced: Any) -> None:
    with pytest.raises(BadInputError):
        traced.run(Graph([fetch, explode], name="flat"), {"url": "u"})
    assert [name for name, _ in _exception_events(traced.captured)] == ["node explode"]
    assert traced.captured.one(role="run").status == "ERROR"


def test_engine_error_is_recorded_on_the_run(traced: Any) -> None:
    @node(output_name="count")
    def step(count: int) -> int:
        return count + 1

    @route(targets=["step", END])
    def again(count: int) -> str:
        return "step"

    with pytest.raises(InfiniteLoopError):
        traced.run(Graph([step, again], name="forever"), {"count": 0}, max_iterations=4)
    run = traced.captured.one(role="run")
    assert run.status == "ERROR"
    assert run.status_description is not None
    assert run.status_description.startswith("InfiniteLoopError: ")
    assert run.attributes["error.type"] == "graphflow.InfiniteLoopError"  # public __module__
    assert [name for name, _ in _exception_events(traced.captured)] == ["run forever"]
    traced.check_invariants()


def test_failed_map_item_fails_its_run_and_the_map(traced: Any) -> None:
    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise BadInputError("two")
        return x

    with pytest.raises(BadInputError):
        traced.map(Graph([picky], name="items"), {"x": [1, 2]}, map_over="x")
    captured = traced.captured
    map_span = captured.one(role="map")
    assert map_span.status == "ERROR"
    assert map_span.status_description == "BadInputError: two"
    assert map_span.attributes["graphflow.run.status"] == "error"
    failed = captured.one(role="run", status="ERROR")
    assert failed.attributes["graphflow.map.item_index"] == 1
    assert [name for name, _ in _exception_events(captured)] == ["node picky"]
    traced.check_invariants()


def test_keyboard_interrupt_in_a_node_still_ends_every_span(captured: CapturedTraces) -> None:
    @node(output_name="y")
    def stop(x: int) -> int:
        raise KeyboardInterrupt

    inner = Graph([stop], name="inner").as_node()
    with pytest.raises(KeyboardInterrupt):
        SyncRunner(event_processors=captured.processors).run(Graph([inner]), {"x": 1})
    captured.assert_tree(
        "run  status=ERROR\n  node inner  status=ERROR\n    node stop  status=ERROR"
    )
    assert captured.one(node="stop").attributes["error.type"] == "KeyboardInterrupt"
    captured.assert_all_ended()


def test_cancelled_async_run_ends_every_span(captured: CapturedTraces) -> None:
    @node(output_name="y")
    async def slow(x: int) -> int:
        await asyncio.sleep(30)
        return x

    @node(output_name="z")
    async def quick(x: int) -> int:
        return x

    runner = AsyncRunner(event_processors=captured.processors)

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(runner.run(Graph([slow, quick], name="c"), {"x": 1}), 0.05)

    asyncio.run(main())
    captured.assert_all_ended()
    captured.assert_no_orphans()
    assert captured.one(role="run").status == "ERROR"
    assert captured.one(node="slow").status == "ERROR"


# ------------------------------------------------------------------------------------ streaming
def test_streaming_node_has_one_first_chunk_event_and_a_chunk_count(traced: Any) -> None:
    @node(output_name="text")
    def speak(x: int) -> Any:
        yield from ("he", "llo", f" {x}")

    assert traced.run(Graph([speak], name="talk"), {"x": 7}) == {"text": "hello 7"}
    traced.captured.assert_tree(
        "run talk\n└── node speak  graphflow.stream.chunks=3 event=graphflow.stream.first_chunk"
    )
    assert traced.captured.one(node="speak").event_names == ["graphflow.stream.first_chunk"]


def test_async_generator_streaming_on_async_runner(captured: CapturedTraces) -> None:
    @node(output_name="text")
    async def speak(x: int) -> Any:
        for part in ("a", "b", "c", "d"):
            await asyncio.sleep(0)
            yield part

    runner = AsyncRunner(event_processors=captured.processors)
    asyncio.run(runner.run(Graph([speak], name="talk"), {"x": 1}))
    span = captured.one(node="speak")
    assert span.attributes["graphflow.stream.chunks"] == 4
    assert span.event_names == ["graphflow.stream.first_chunk"]


def test_streaming_node_that_fails_keeps_its_chunk_count(traced: Any) -> None:
    @node(output_name="text")
    def stutter(x: int) -> Any:
        yield "a"
        raise BadInputError("cut")

    with pytest.raises(BadInputError):
        traced.run(Graph([stutter]), {"x": 1})
    span = traced.captured.one(node="stutter")
    assert span.attributes["graphflow.stream.chunks"] == 1
    assert span.status == "ERROR"


# ------------------------------------------------------------------------------------ pauses
def _approval_graph() -> Graph:
    @node(output_name="draft")
    def write(topic: str) -> str:
        return f"draft about {topic}"

    @node(output_name="published")
    def publish(draft: str, decision: str) -> str:
        return f"{draft}: {decision}"

    ask = InterruptNode("approve", input_param="draft", response_param="decision")
    return Graph([write, ask, publish], name="review")


def test_paused_run_is_not_an_error_and_ends_the_interrupt_span(captured: CapturedTraces) -> None:
    runner = AsyncRunner(event_processors=captured.processors)
    result = asyncio.run(runner.run(_approval_graph(), {"topic": "cats"}, workflow_id="wf-7"))
    assert result.status == RunStatus.PAUSED
    captured.assert_tree(
        """
        run review  status=UNSET graphflow.run.status=paused graphflow.workflow.id=wf-7
        ├── node write
        └── node approve  status=UNSET graphflow.node.kind=interrupt event=graphflow.interrupt
        """
    )
    interrupt = captured.one(node="approve")
    assert interrupt.events == [
        {
            "name": "graphflow.interrupt",
            "attributes": {"graphflow.interrupt.response_param": "decision"},
        }
    ]
    assert "graphflow.node.cached" not in interrupt.attributes  # no end event: ended by the run
    captured.assert_all_ended()
    captured.assert_no_orphans()


def test_answered_interrupt_and_failed_node_spans_say_not_cached(captured: CapturedTraces) -> None:
    """graphflow.node.cached is on every node span that ran: false unless served by the cache."""
    runner = AsyncRunner(event_processors=captured.processors)
    answered = asyncio.run(
        runner.run(
            _approval_graph(), {"topic": "cats"}, interrupt_handlers={"approve": lambda d: "ok"}
        )
    )
    assert answered.status == RunStatus.COMPLETED
    assert captured.one(node="approve").attributes["graphflow.node.cached"] is False
    with pytest.raises(BadInputError):
        SyncRunner(event_processors=captured.processors).run(Graph([fetch, explode]), {"url": "u"})
    failed = captured.one(node="explode")
    assert failed.status == "ERROR"
    assert failed.attributes["graphflow.node.cached"] is False


def test_pause_inside_a_nested_graph_ends_every_span(captured: CapturedTraces) -> None:
    runner = AsyncRunner(event_processors=captured.processors)
    outer = Graph([_approval_graph().as_node(name="approval")], name="outer")
    result = asyncio.run(runner.run(outer, {"topic": "dogs"}))
    assert result.status == RunStatus.PAUSED
    captured.assert_tree(
        """
        run outer  graphflow.run.status=paused
        └── node approval  role=subgraph
            ├── node write
            └── node approve  event=graphflow.interrupt
        """
    )
    captured.assert_all_ended()


# ------------------------------------------------------------------------------------ shutdown
def test_shutdown_mid_run_ends_open_spans_and_ignores_later_events(traced: Any) -> None:
    captured = traced.captured

    @node(output_name="y")
    def stop_telemetry(x: int) -> int:
        captured.otel.shutdown()
        return x + 1

    @node(output_name="z")
    def after(y: int) -> int:
        return y * 10

    assert traced.run(Graph([stop_telemetry, after], name="cut"), {"x": 1}) == {"z": 20}
    captured.assert_tree(
        """
        run cut  status=ERROR
        └── node stop_telemetry  status=ERROR
        """
    )
    assert captured.one(node="stop_telemetry").status_description == "shutdown"
    traced.check_invariants()


# ------------------------------------------------------------------------------------ values
def test_values_are_off_by_default(traced: Any) -> None:
    traced.run(Graph([fetch]), {"url": "secret"})
    assert "graphflow.node.inputs" not in traced.captured.one(node="fetch").attributes
    assert "graphflow.node.outputs" not in traced.captured.one(node="fetch").attributes


def test_captured_values_are_json_and_truncated_with_the_marker() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque()"

    @node(output_name="out")
    def echo(payload: Any) -> Any:
        return payload

    with capture_traces(capture_values=True, max_value_length=40) as captured:
        runner = SyncRunner(event_processors=captured.processors)
        assert runner.run(Graph([echo]), {"payload": {"k": [1, 2]}}) == {"out": {"k": [1, 2]}}
        runner.run(Graph([echo]), {"payload": "x" * 100})
        runner.run(Graph([echo]), {"payload": Opaque()})
        spans = captured.all(node="echo")
    small, big, opaque = (s.attributes for s in spans)
    assert json.loads(small["graphflow.node.inputs"]) == {"payload": {"k": [1, 2]}}
    assert json.loads(small["graphflow.node.outputs"]) == {"out": {"k": [1, 2]}}
    assert big["graphflow.node.inputs"].endswith(MARKER)
    assert len(big["graphflow.node.inputs"]) == 40
    assert big["graphflow.node.inputs"].startswith('{"payload": "xxx')
    assert opaque["graphflow.node.inputs"] == "{'payload': Opaque()}"


def test_value_capture_never_raises() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    @node(output_name="out")
    def echo(payload: Any) -> Any:
        return payload

    with capture_traces(capture_values=True) as captured:
        out = SyncRunner(event_processors=captured.processors).run(
            Graph([echo]), {"payload": Hostile()}
        )
        assert isinstance(out["out"], Hostile)
        value = captured.one(node="echo").attributes["graphflow.node.inputs"]
    assert value == "<dict object>"


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_max_value_length_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(GraphConfigError):
        OpenTelemetryProcessor(max_value_length=bad)


# ------------------------------------------------------------------------------------ status OK
def test_set_ok_status_marks_successes_ok_and_leaves_errors_error() -> None:
    with capture_traces(set_ok_status=True) as captured:
        runner = SyncRunner(event_processors=captured.processors)
        runner.run(Graph([fetch], name="fine"), {"url": "u"})
        with pytest.raises(BadInputError):
            runner.run(Graph([fetch, explode], name="broken"), {"url": "u"})
        captured.assert_tree(
            """
            run fine  status=OK
            └── node fetch  status=OK
            run broken  status=ERROR
            ├── node fetch  status=OK
            └── node explode  status=ERROR
            """
        )


def test_processor_without_a_provider_uses_the_global_no_op_tracer() -> None:
    processor = OpenTelemetryProcessor()  # no SDK configured globally: spans are no-ops
    out = SyncRunner(event_processors=[processor]).run(Graph([fetch]), {"url": "u"})
    assert out == {"text": "<u>"}
    assert "open_spans=0" in repr(processor)
