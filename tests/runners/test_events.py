"""Events of runs and maps on both runners: order, span tree, fields, processors, streaming."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from graphflow import (
    END,
    AsyncEventProcessor,
    AsyncRunner,
    CacheHitEvent,
    EventProcessor,
    Graph,
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    MemoryCache,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    StreamingChunkEvent,
    ifelse,
    node,
    route,
)

ALL_EVENT_TYPES = (
    RunStartEvent,
    RunEndEvent,
    NodeStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    StreamingChunkEvent,
    CacheHitEvent,
    RouteDecisionEvent,
    InterruptEvent,
    MapStartEvent,
    MapEndEvent,
)

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


@node(output_name="y")
def double(x: int) -> int:
    return x * 2


@node(output_name="z")
def add_one(y: int) -> int:
    return y + 1


def _run(harness: Any, recorder: Any, graph: Graph, inputs: dict[str, Any], **kw: Any) -> Any:
    return harness.run(graph, inputs, runner=harness.make(event_processors=[recorder]), **kw)


def _of(recorder: Any, cls: type) -> list[Any]:
    return [e for e in recorder.events if isinstance(e, cls)]


def test_small_dag_event_order(harness: Any, recorder: Any) -> None:
    _run(harness, recorder, Graph([double, add_one], name="pipe"), {"x": 1})
    assert recorder.names() == [
        "RunStartEvent",
        "NodeStartEvent:double",
        "NodeEndEvent:double",
        "NodeStartEvent:add_one",
        "NodeEndEvent:add_one",
        "RunEndEvent",
    ]
    end = recorder.events[-1]
    assert end.status == RunStatus.COMPLETED
    assert end.error is None
    assert end.outputs == {"z": 3}
    node_end = _of(recorder, NodeEndEvent)[0]
    assert node_end.outputs == {"y": 2}
    assert node_end.cached is False


def test_gate_events_are_start_decision_end(harness: Any, recorder: Any) -> None:
    @route(targets=["double", END])
    def gate(x: int) -> str:
        return "double"

    _run(harness, recorder, Graph([gate, double]), {"x": 1})
    assert recorder.names() == [
        "RunStartEvent",
        "NodeStartEvent:gate",
        "RouteDecisionEvent:gate",
        "NodeEndEvent:gate",
        "NodeStartEvent:double",
        "NodeEndEvent:double",
        "RunEndEvent",
    ]


def test_route_decision_is_the_target_name_or_end(harness: Any, recorder: Any) -> None:
    @ifelse(when_true="double", when_false=END)
    def gate(x: int) -> bool:
        return x > 0

    graph = Graph([gate, double])
    _run(harness, recorder, graph, {"x": 1})
    _run(harness, recorder, graph, {"x": -1})
    decisions = [e.decision for e in _of(recorder, RouteDecisionEvent)]
    assert decisions == ["double", "END"]


def test_failing_node_emits_node_error_then_run_end_with_error(harness: Any, recorder: Any) -> None:
    error = ValueError("bad")

    @node(output_name="z")
    def broken(y: int) -> int:
        raise error

    with pytest.raises(ValueError):
        _run(harness, recorder, Graph([double, broken]), {"x": 1})
    assert recorder.names()[-3:] == [
        "NodeStartEvent:broken",
        "NodeErrorEvent:broken",
        "RunEndEvent",
    ]
    assert recorder.names()[0] == "RunStartEvent"
    node_error = _of(recorder, NodeErrorEvent)[0]
    assert node_error.error is error
    assert node_error.error_type == "ValueError"
    end = recorder.events[-1]
    assert end.status == RunStatus.ERROR
    assert end.error is error
    assert recorder.flushes == 1


def test_top_level_node_events_have_no_parent_and_share_the_run_id(
    harness: Any, recorder: Any
) -> None:
    _run(harness, recorder, Graph([double, add_one]), {"x": 1})
    start = recorder.events[0]
    assert start.parent_span_id is None
    for event in recorder.events:
        assert event.run_id == start.run_id
    for event in recorder.events[1:-1]:
        assert event.parent_span_id is None
    spans = [e.span_id for e in _of(recorder, NodeStartEvent)]
    assert len(set(spans)) == 2
    assert start.span_id not in spans
    assert recorder.events[-1].span_id == start.span_id


def test_nested_graph_events_hang_under_the_graph_node_span(harness: Any, recorder: Any) -> None:
    inner = Graph([double, add_one], name="inner")

    @node(output_name="w")
    def finish(z: int) -> int:
        return z * 10

    outer = Graph([inner.as_node(name="sub"), finish], name="outer")
    _run(harness, recorder, outer, {"x": 1})
    assert len(_of(recorder, RunStartEvent)) == 1
    assert len(_of(recorder, RunEndEvent)) == 1
    run_id = recorder.events[0].run_id
    assert all(e.run_id == run_id for e in recorder.events)
    starts = {e.node_name: e for e in _of(recorder, NodeStartEvent)}
    assert set(starts) == {"sub", "double", "add_one", "finish"}
    assert starts["sub"].parent_span_id is None
    assert starts["finish"].parent_span_id is None
    sub_span = starts["sub"].span_id
    for event in recorder.events:
        if getattr(event, "node_name", None) in ("double", "add_one"):
            assert event.parent_span_id == sub_span
    assert recorder.names().index("NodeEndEvent:add_one") < recorder.names().index(
        "NodeEndEvent:sub"
    )


def test_each_cycle_pass_has_its_own_span(harness: Any, recorder: Any) -> None:
    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    @route(targets=["increment", END])
    def check(count: int) -> Any:
        return "increment" if count < 3 else END

    _run(harness, recorder, Graph([increment, check]), {"count": 0}, max_iterations=GUARD)
    starts = _of(recorder, NodeStartEvent)
    increments = [e for e in starts if e.node_name == "increment"]
    assert len(increments) == 3
    spans = [e.span_id for e in starts]
    assert len(set(spans)) == len(spans)
    ends = {e.span_id for e in _of(recorder, NodeEndEvent)}
    assert ends == set(spans)


def test_run_start_event_fields(harness: Any, recorder: Any) -> None:
    _run(harness, recorder, Graph([double], name="doubler"), {"x": 4}, session_id="sess")
    start = recorder.events[0]
    assert isinstance(start, RunStartEvent)
    assert start.graph_name == "doubler"
    assert start.runner == harness.kind
    assert start.item_index is None
    assert start.session_id == "sess"
    assert start.inputs == {"x": 4}
    assert start.parent_span_id is None


def test_node_start_event_kind_and_cacheable(harness: Any, recorder: Any) -> None:
    @node(output_name="c", cache=True)
    def cached(x: int) -> int:
        return x

    @route(targets=["cached", END])
    def router(x: int) -> str:
        return "cached"

    @ifelse(when_true="nested", when_false=END)
    def choose(c: int) -> bool:
        return True

    nested = Graph([add_one.with_inputs(y="c")], name="nested").as_node()
    runner = harness.make(cache=MemoryCache(), event_processors=[recorder])
    harness.run(Graph([router, cached, choose, nested]), {"x": 1}, runner=runner)
    starts = {e.node_name: e for e in _of(recorder, NodeStartEvent)}
    assert starts["router"].node_kind == "route"
    assert starts["choose"].node_kind == "ifelse"
    assert starts["nested"].node_kind == "graph"
    assert starts["cached"].node_kind == "function"
    assert starts["add_one"].node_kind == "function"
    assert starts["cached"].cacheable is True
    assert starts["add_one"].cacheable is False
    assert starts["router"].cacheable is False


def test_map_events_wrap_item_runs(harness: Any, recorder: Any) -> None:
    runner = harness.make(event_processors=[recorder])
    harness.map(Graph([double], name="m"), {"x": [1, 2, 3]}, map_over="x", runner=runner)
    assert isinstance(recorder.events[0], MapStartEvent)
    assert isinstance(recorder.events[-1], MapEndEvent)
    map_start, map_end = recorder.events[0], recorder.events[-1]
    assert map_start.size == 3
    assert map_start.graph_name == "m"
    assert map_end.status == RunStatus.COMPLETED
    assert map_end.span_id == map_start.span_id
    starts = _of(recorder, RunStartEvent)
    assert sorted(s.item_index for s in starts) == [0, 1, 2]
    assert all(s.parent_span_id == map_start.span_id for s in starts)
    assert len({s.run_id for s in starts}) == 3
    assert len({s.span_id for s in starts}) == 3
    assert len(_of(recorder, RunEndEvent)) == 3
    assert recorder.flushes == 1


def test_failing_map_ends_with_error_status(harness: Any, recorder: Any) -> None:
    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    runner = harness.make(event_processors=[recorder])
    with pytest.raises(ValueError):
        harness.map(Graph([picky]), {"x": [1, 2, 3]}, map_over="x", runner=runner)
    assert isinstance(recorder.events[-1], MapEndEvent)
    assert recorder.events[-1].status == RunStatus.ERROR
    assert recorder.flushes == 1


class _Log(EventProcessor):
    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name = name
        self.log = log

    def on_event(self, event: Any) -> None:
        self.log.append((self.name, type(event).__name__))


def test_processors_are_called_in_registration_order_run_ones_last(harness: Any) -> None:
    log: list[tuple[str, str]] = []
    runner = harness.make(event_processors=[_Log("a", log), _Log("b", log)])
    harness.run(Graph([double]), {"x": 1}, runner=runner, event_processors=[_Log("c", log)])
    assert len(log) == 3 * 4
    for i in range(0, len(log), 3):
        chunk = log[i : i + 3]
        assert [name for name, _ in chunk] == ["a", "b", "c"]
        assert len({kind for _, kind in chunk}) == 1


class _Broken(EventProcessor):
    def __init__(self) -> None:
        self.calls = 0

    def on_event(self, event: Any) -> None:
        self.calls += 1
        raise RuntimeError("processor bug")

    def force_flush(self) -> None:
        raise RuntimeError("flush bug")


def test_a_raising_processor_never_changes_the_run(
    harness: Any, recorder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _Broken()
    runner = harness.make(event_processors=[broken, recorder])
    with caplog.at_level(logging.DEBUG, logger="graphflow"):
        out = harness.run(Graph([double, add_one]), {"x": 1}, runner=runner)
    assert out == {"z": 3}
    assert len(recorder.events) == 6
    assert broken.calls == 6
    assert recorder.flushes == 1
    records = [r for r in caplog.records if r.name.startswith("graphflow")]
    assert any("_Broken" in r.getMessage() for r in records)


def test_force_flush_once_per_run_and_once_per_map(harness: Any, recorder: Any) -> None:
    runner = harness.make(event_processors=[recorder])
    harness.run(Graph([double]), {"x": 1}, runner=runner)
    assert recorder.flushes == 1
    harness.run(Graph([double]), {"x": 1}, runner=runner)
    assert recorder.flushes == 2
    harness.map(Graph([double]), {"x": [1, 2, 3, 4]}, map_over="x", runner=runner)
    assert recorder.flushes == 3


def test_no_processors_means_no_event_objects(
    harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(self: Any, *args: Any, **kwargs: Any) -> None:
        pytest.fail(f"{type(self).__name__} was built although nobody listens")

    for cls in ALL_EVENT_TYPES:
        monkeypatch.setattr(cls, "__init__", forbidden)

    @node(output_name="s")
    def stream(z: int) -> Any:
        yield "a"
        yield "b"

    @route(targets=["double", END])
    def gate(x: int) -> str:
        return "double"

    @node(output_name="w", cache=True)
    def cached(s: str) -> str:
        return s * 2

    nested = Graph([cached], name="nested").as_node()
    graph = Graph([gate, double, add_one, stream, nested])
    runner = harness.make(cache=MemoryCache())
    for _ in range(2):  # the second pass hits the cache
        assert harness.run(graph, {"x": 1}, runner=runner) == {"w": "abab"}
    out = harness.map(graph, {"x": [1, 2]}, map_over="x", runner=runner)
    assert out == [{"w": "abab"}, {"w": "abab"}]


def test_nested_failure_ends_every_started_node_with_an_error(harness: Any, recorder: Any) -> None:
    error = OSError("disk")

    @node(output_name="z")
    def broken(y: int) -> int:
        raise error

    inner = Graph([double, broken], name="inner")
    with pytest.raises(OSError):
        _run(harness, recorder, Graph([inner.as_node(name="sub")]), {"x": 1})
    starts = {e.span_id: e.node_name for e in _of(recorder, NodeStartEvent)}
    ends = {e.span_id: e for e in recorder.events if isinstance(e, NodeEndEvent | NodeErrorEvent)}
    assert set(starts) == set(ends)
    errors = [e.node_name for e in _of(recorder, NodeErrorEvent)]
    assert errors == ["broken", "sub"]
    assert all(e.error is error for e in _of(recorder, NodeErrorEvent))
    assert recorder.names()[-1] == "RunEndEvent"
    assert recorder.events[-1].status == RunStatus.ERROR


class _AsyncRecorder(AsyncEventProcessor):
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.flushes = 0

    async def on_event_async(self, event: Any) -> None:
        await asyncio.sleep(0)
        self.events.append(event)

    async def force_flush_async(self) -> None:
        self.flushes += 1


def test_async_runner_awaits_async_processors(recorder: Any) -> None:
    proc = _AsyncRecorder()
    runner = AsyncRunner(event_processors=[proc, recorder])
    asyncio.run(runner.run(Graph([double, add_one]), {"x": 1}))
    assert [type(e) for e in proc.events] == [type(e) for e in recorder.events]
    assert len(proc.events) == 6
    assert proc.flushes == 1


def test_map_item_nodes_are_top_level_nodes_of_their_item_run(harness: Any, recorder: Any) -> None:
    @node(output_name="y")
    def double(x: int) -> int:
        return x * 2

    harness.map(
        Graph([double]),
        {"x": [1, 2]},
        map_over="x",
        runner=harness.make(event_processors=[recorder]),
    )
    starts = [e for e in recorder.events if isinstance(e, NodeStartEvent)]
    assert len(starts) == 2
    assert all(e.parent_span_id is None for e in starts)
    runs = {e.run_id for e in recorder.events if isinstance(e, RunStartEvent)}
    assert {e.run_id for e in starts} == runs
