"""AsyncRunner interrupts: pause, answers up front, handlers, nesting, iter() and respond()."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphflow import (
    END,
    AsyncRunner,
    Graph,
    GraphConfigError,
    InterruptEvent,
    InterruptNode,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    PauseInfo,
    PauseReason,
    RunHandleError,
    RunStatus,
    node,
    route,
)

TIMEOUT = 10.0
#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


def _approval_graph(name: str | None = None) -> Graph:
    @node(output_name="draft")
    def write(topic: str) -> str:
        return f"draft about {topic}"

    @node(output_name="published")
    def publish(draft: str, decision: str) -> str:
        return f"{draft}: {decision}"

    ask = InterruptNode("approve", input_param="draft", response_param="decision")
    return Graph([write, ask, publish], name=name)


async def test_interrupt_pauses_the_run_with_pause_info(recorder: Any) -> None:
    runner = AsyncRunner(event_processors=[recorder])
    result = await runner.run(_approval_graph(), {"topic": "cats"})
    assert result.status == RunStatus.PAUSED
    assert result.pause == PauseInfo(
        reason=PauseReason.HUMAN_INPUT,
        node="approve",
        response_param="decision",
        value="draft about cats",
    )
    assert "published" not in result.outputs
    assert recorder.flushes >= 1
    names = recorder.names()
    assert "InterruptEvent" in names
    assert names[-1] == "RunEndEvent"
    assert recorder.events[-1].status == RunStatus.PAUSED
    assert "NodeEndEvent:approve" not in names
    # a pausing interrupt emits its start and the InterruptEvent, and no end event
    at = names.index("NodeStartEvent:approve")
    assert names[at + 1] == "InterruptEvent"


async def test_interrupt_answer_given_up_front_completes() -> None:
    result = await AsyncRunner().run(_approval_graph(), {"topic": "cats", "decision": "yes"})
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "draft about cats: yes"


async def test_sync_interrupt_handler_completes_the_run() -> None:
    seen: list[Any] = []

    def handler(value: Any) -> str:
        seen.append(value)
        return "ok"

    result = await AsyncRunner().run(
        _approval_graph(), {"topic": "dogs"}, interrupt_handlers={"approve": handler}
    )
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "draft about dogs: ok"
    assert seen == ["draft about dogs"]


async def test_async_interrupt_handler_completes_the_run() -> None:
    async def handler(value: Any) -> str:
        await asyncio.sleep(0)
        return value.upper()

    result = await AsyncRunner().run(
        _approval_graph(), {"topic": "owls"}, interrupt_handlers={"approve": handler}
    )
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "draft about owls: DRAFT ABOUT OWLS"


async def test_unknown_interrupt_handler_name_raises() -> None:
    with pytest.raises(GraphConfigError) as info:
        await AsyncRunner().run(
            _approval_graph(), {"topic": "x"}, interrupt_handlers={"aprove": lambda v: v}
        )
    assert "aprove" in str(info.value)


async def test_nested_interrupt_pause_names_the_outer_inner_path() -> None:
    outer = Graph([_approval_graph("inner").as_node(name="review")])
    result = await AsyncRunner().run(outer, {"topic": "t"})
    assert result.status == RunStatus.PAUSED
    assert result.pause is not None
    assert result.pause.node == "review/approve"
    assert result.pause.response_param == "decision"
    resumed = await AsyncRunner().run(outer, {"topic": "t", "decision": "fine"})
    assert resumed.status == RunStatus.COMPLETED
    assert resumed["published"] == "draft about t: fine"


async def test_iter_streams_events_and_respond_answers_the_interrupt() -> None:
    seen: list[str] = []
    async with AsyncRunner().iter(_approval_graph(), {"topic": "bees"}) as handle:
        async for event in handle:
            seen.append(type(event).__name__)
            if isinstance(event, InterruptEvent):
                assert event.value == "draft about bees"
                assert event.response_param == "decision"
                handle.respond(event.response_param, "approved")
    result = handle.result
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "draft about bees: approved"
    assert seen[0] == "RunStartEvent"
    assert seen[-1] == "RunEndEvent"
    assert "InterruptEvent" in seen


async def test_iter_without_respond_pauses() -> None:
    async with AsyncRunner().iter(_approval_graph(), {"topic": "bees"}) as handle:
        async for _event in handle:
            pass
    assert handle.result.status == RunStatus.PAUSED
    assert handle.result.pause is not None
    assert handle.result.pause.node == "approve"


async def test_respond_with_nothing_pending_raises() -> None:
    async with AsyncRunner().iter(_approval_graph(), {"topic": "bees"}) as handle:
        with pytest.raises(RunHandleError) as info:
            handle.respond("decision", "too early")
        assert isinstance(info.value, RuntimeError)
        async for _event in handle:
            pass


async def test_result_before_the_end_raises_runtime_error() -> None:
    async with AsyncRunner().iter(_approval_graph(), {"topic": "bees"}) as handle:
        with pytest.raises(RuntimeError):
            _ = handle.result
        async for _event in handle:
            pass
    assert handle.result.status == RunStatus.PAUSED


async def test_interrupt_in_a_loop_asks_again_each_time_its_input_changes() -> None:
    seen: list[str] = []

    @node(output_name="n")
    def bump(n: int) -> int:
        return n + 1

    @node(output_name="draft")
    def write(n: int) -> str:
        return f"d{n}"

    @route(targets=["bump", END])
    def done(verdict: str) -> Any:
        return END if verdict == "ok" else "bump"

    def handler(value: str) -> str:
        seen.append(value)
        return "ok" if value == "d3" else f"no-{value}"

    review = InterruptNode("review", input_param="draft", response_param="verdict")
    graph = Graph([bump, write, review, done])
    result = await asyncio.wait_for(
        AsyncRunner().run(
            graph, {"n": 0}, interrupt_handlers={"review": handler}, max_iterations=GUARD
        ),
        TIMEOUT,
    )
    assert result.status == RunStatus.COMPLETED
    assert seen == ["d1", "d2", "d3"]


async def test_run_start_and_interrupt_events_carry_the_workflow_id(recorder: Any) -> None:
    runner = AsyncRunner(event_processors=[recorder])
    await runner.run(_approval_graph(), {"topic": "t"}, workflow_id="wf-9")
    await runner.run(_approval_graph(), {"topic": "t"})
    starts = [e for e in recorder.events if type(e).__name__ == "RunStartEvent"]
    asks = [e for e in recorder.events if isinstance(e, InterruptEvent)]
    assert [e.workflow_id for e in starts] == ["wf-9", None]
    assert [e.workflow_id for e in asks] == ["wf-9", None]
    assert asks[0].interrupt_name == "approve"


async def test_pause_without_processors_builds_no_events(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(self: Any, *args: Any, **kwargs: Any) -> None:
        pytest.fail(f"{type(self).__name__} was built although nobody listens")

    for cls in (InterruptEvent, NodeStartEvent, NodeEndEvent, NodeErrorEvent):
        monkeypatch.setattr(cls, "__init__", forbidden)
    result = await AsyncRunner().run(_approval_graph(), {"topic": "t"})
    assert result.status == RunStatus.PAUSED
