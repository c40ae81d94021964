"""Answering interrupts without pausing (handlers), and streaming with iter()/respond(),
with a checkpointer: what gets saved, and what a later run() resumes from."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from graphflow import (
    AsyncRunner,
    Graph,
    InterruptEvent,
    InterruptNode,
    NodeEndEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStatus,
    StreamingChunkEvent,
    node,
)
from graphflow.checkpointers import Checkpointer, WorkflowStatus

Factory = Callable[..., Checkpointer]  # the make_checkpointer fixture
TIMEOUT = 10.0
TOKENS = ["a ", "post ", "about ", "cats"]
DRAFT = "".join(TOKENS)


def make_nested_flow(calls: Counter[str]) -> Graph:
    """write -> review (score, approve) -> publish, all plain functions."""

    @node(output_name="draft")
    def write(topic: str) -> str:
        calls["write"] += 1
        return f"a post about {topic}"

    @node(output_name="score")
    def score(draft: str) -> int:
        calls["score"] += 1
        return len(draft)

    approve = InterruptNode("approve", input_param="draft", response_param="decision")

    @node(output_name="published")
    def publish(draft: str, score: int, decision: str) -> str:
        calls["publish"] += 1
        return f"{draft} ({score}) [{decision}]"

    review = Graph([score, approve], name="review")
    return Graph([write, review.as_node(), publish], name="flow")


def make_streaming_flow(calls: Counter[str]) -> Graph:
    """write streams tokens -> approve -> publish streams its words."""

    @node(output_name="draft")
    async def write(topic: str) -> AsyncIterator[str]:
        calls["write"] += 1
        for token in ["a ", "post ", "about ", topic]:
            await asyncio.sleep(0)
            yield token

    approve = InterruptNode("approve", input_param="draft", response_param="decision")

    @node(output_name="published")
    async def publish(draft: str, decision: str) -> AsyncIterator[str]:
        calls["publish"] += 1
        for word in [draft, " ", f"[{decision}]"]:
            await asyncio.sleep(0)
            yield word

    return Graph([write, approve, publish], name="streaming")


async def _async_handler(value: Any) -> str:
    await asyncio.sleep(0)
    return f"async-ok:{value}"


def _sync_handler(value: Any) -> str:
    return f"sync-ok:{value}"


@pytest.mark.parametrize("handler", [_async_handler, _sync_handler], ids=["async", "sync"])
async def test_interrupt_handlers_complete_the_run(
    checkpointer: Checkpointer, handler: Callable[[Any], Any]
) -> None:
    calls: Counter[str] = Counter()
    seen: list[Any] = []

    async def spy(value: Any) -> Any:
        seen.append(value)
        answer = handler(value)
        return await answer if asyncio.iscoroutine(answer) else answer

    flow = make_nested_flow(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    result = await runner.run(
        flow, {"topic": "cats"}, workflow_id="wf", interrupt_handlers={"approve": handler}
    )
    kind = "async" if handler is _async_handler else "sync"
    assert result.status == RunStatus.COMPLETED
    assert result.pause is None
    assert result["published"] == f"a post about cats (17) [{kind}-ok:a post about cats]"
    assert calls == Counter(write=1, score=1, publish=1)
    for wid in ("wf", "wf/review"):
        workflow = await checkpointer.get_workflow(wid)
        assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS, wid
    checkpoint = await checkpointer.get_checkpoint("wf/review")
    assert "approve" in checkpoint.answered  # the answer passed on is saved

    # the answered interrupt does not ask again on a later run with nothing new
    again = await runner.run(flow, {}, workflow_id="wf", interrupt_handlers={"approve": spy})
    assert again.status == RunStatus.COMPLETED
    assert seen == []
    assert calls == Counter(write=1, score=1, publish=1)


def make_flat_flow(calls: Counter[str]) -> Graph:
    """The same flow with the review's nodes inlined (no nested graph)."""
    nested = make_nested_flow(calls)
    review = nested.nodes["review"].graph  # type: ignore[attr-defined]  # a GraphNode
    return Graph(
        [nested.nodes["write"], *review.nodes.values(), nested.nodes["publish"]], name="flat"
    )


@pytest.mark.parametrize("make", [make_flat_flow, make_nested_flow], ids=["flat", "nested"])
async def test_handler_is_asked_again_about_a_new_draft(
    checkpointer: Checkpointer, make: Callable[[Counter[str]], Graph]
) -> None:
    # core.md: an interrupt "asks again each time its input changes".
    calls: Counter[str] = Counter()
    seen: list[Any] = []

    def handler(value: Any) -> str:
        seen.append(value)
        return "ok"

    flow = make(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(
        flow, {"topic": "cats"}, workflow_id="wf", interrupt_handlers={"approve": handler}
    )
    result = await runner.run(
        flow, {"topic": "dogs"}, workflow_id="wf", interrupt_handlers={"approve": handler}
    )
    assert seen == ["a post about cats", "a post about dogs"]
    assert result["published"] == "a post about dogs (17) [ok]"


async def test_iter_streams_tokens_and_answers_mid_stream(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    runner = AsyncRunner(checkpointer=checkpointer)
    events: list[Any] = []
    async with asyncio.timeout(TIMEOUT):
        async with runner.iter(
            make_streaming_flow(calls), {"topic": "cats"}, workflow_id="s"
        ) as run:
            async for event in run:
                events.append(event)
                if isinstance(event, InterruptEvent):
                    run.respond(event.response_param, "ok")
    result = run.result
    assert result.status == RunStatus.COMPLETED
    assert result.workflow_id == "s"
    assert result["published"] == f"{DRAFT} [ok]"
    assert calls == Counter(write=1, publish=1)

    chunks = [e for e in events if isinstance(e, StreamingChunkEvent) and e.node_name == "write"]
    assert [c.chunk for c in chunks] == TOKENS
    assert [c.chunk_index for c in chunks] == list(range(len(TOKENS)))
    (ask,) = [e for e in events if isinstance(e, InterruptEvent)]
    assert (ask.workflow_id, ask.interrupt_name, ask.response_param) == ("s", "approve", "decision")
    assert ask.value == DRAFT  # the joined value of the streamed tokens
    write_end = next(e for e in events if isinstance(e, NodeEndEvent) and e.node_name == "write")
    publish_chunks = [
        e for e in events if isinstance(e, StreamingChunkEvent) and e.node_name == "publish"
    ]
    assert [c.chunk for c in publish_chunks] == [DRAFT, " ", "[ok]"]
    order = [events.index(e) for e in (*chunks, write_end, ask, *publish_chunks)]
    assert order == sorted(order)  # tokens, write ends, the question, then the stream goes on
    assert isinstance(events[-1], RunEndEvent)
    assert events[-1].status == RunStatus.COMPLETED

    workflow = await checkpointer.get_workflow("s")
    assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS
    assert (await checkpointer.get_state("s"))["draft"] == DRAFT


async def test_iter_nested_interrupt_answered_with_respond(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    runner = AsyncRunner(checkpointer=checkpointer)
    asked = []
    async with asyncio.timeout(TIMEOUT):
        async with runner.iter(make_nested_flow(calls), {"topic": "cats"}, workflow_id="wf") as run:
            async for event in run:
                if isinstance(event, InterruptEvent):
                    asked.append((event.interrupt_name, event.workflow_id, event.value))
                    run.respond(event.response_param, "ok")
    assert run.result.status == RunStatus.COMPLETED
    assert run.result["published"] == "a post about cats (17) [ok]"
    assert len(asked) == 1
    assert asked[0][1:] == ("wf", "a post about cats")
    for wid in ("wf", "wf/review"):
        workflow = await checkpointer.get_workflow(wid)
        assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS, wid


async def test_iter_without_respond_pauses_and_run_resumes(make_checkpointer: Factory) -> None:
    calls: Counter[str] = Counter()
    flow = make_streaming_flow(calls)
    cp = make_checkpointer()
    events: list[Any] = []
    async with asyncio.timeout(TIMEOUT):
        async with AsyncRunner(checkpointer=cp).iter(
            flow, {"topic": "cats"}, workflow_id="s"
        ) as run:
            async for event in run:
                events.append(event)  # sees the InterruptEvent, moves on without answering
    assert any(isinstance(e, InterruptEvent) for e in events)
    paused = run.result
    assert paused.status == RunStatus.PAUSED
    assert paused.pause is not None
    assert (paused.pause.node, paused.pause.value) == ("approve", DRAFT)
    assert isinstance(events[-1], RunEndEvent) and events[-1].status == RunStatus.PAUSED
    workflow = await cp.get_workflow("s")
    assert workflow is not None
    assert workflow.status == WorkflowStatus.PENDING
    assert workflow.owner is None

    resumed = await AsyncRunner(checkpointer=make_checkpointer()).run(
        flow, {paused.pause.response_param: "later"}, workflow_id="s"
    )
    assert resumed.status == RunStatus.COMPLETED
    assert resumed["published"] == f"{DRAFT} [later]"
    assert calls == Counter(write=1, publish=1)  # the stream was not produced twice


def make_blocking(release: asyncio.Event, calls: Counter[str]) -> Graph:
    @node(output_name="prepared")
    def prepare(x: int) -> int:
        calls["prepare"] += 1
        return x + 1

    @node(output_name="y")
    async def wait_for_release(prepared: int) -> int:
        calls["wait_for_release"] += 1
        await release.wait()
        return prepared * 10

    return Graph([prepare, wait_for_release], name="blocking")


async def test_leaving_iter_early_cancels_the_run_and_frees_the_workflow(
    checkpointer: Checkpointer,
) -> None:
    calls: Counter[str] = Counter()
    release = asyncio.Event()
    graph = make_blocking(release, calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    before = asyncio.all_tasks()
    async with asyncio.timeout(TIMEOUT):
        async with runner.iter(graph, {"x": 1}, workflow_id="b") as run:
            async for event in run:
                if isinstance(event, NodeStartEvent) and event.node_name == "wait_for_release":
                    break
    assert asyncio.all_tasks() - before == set()  # the run's task is gone, nothing leaked
    assert calls == Counter(prepare=1, wait_for_release=1)
    workflow = await checkpointer.get_workflow("b")
    assert workflow is not None
    assert workflow.status == WorkflowStatus.ERROR  # what the implementation records
    assert workflow.owner is None  # the claim is released
    # the superstep finished before the cancel is saved
    saved = [r.node for s in await checkpointer.get_history("b") for r in s.results]
    assert saved == ["prepare"]

    release.set()
    result = await asyncio.wait_for(runner.run(graph, {}, workflow_id="b"), TIMEOUT)
    assert result.status == RunStatus.COMPLETED
    assert result["y"] == 20
    assert calls == Counter(prepare=1, wait_for_release=2)  # resumed after `prepare`


async def test_an_error_inside_the_iter_block_cancels_the_run(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    release = asyncio.Event()
    graph = make_blocking(release, calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    before = asyncio.all_tasks()

    class Stop(Exception):
        pass

    with pytest.raises(Stop):
        async with asyncio.timeout(TIMEOUT):
            async with runner.iter(graph, {"x": 1}, workflow_id="b") as run:
                async for event in run:
                    if isinstance(event, NodeStartEvent) and event.node_name == "wait_for_release":
                        raise Stop
    assert asyncio.all_tasks() - before == set()
    workflow = await checkpointer.get_workflow("b")
    assert workflow is not None
    assert workflow.status == WorkflowStatus.ERROR
    assert workflow.owner is None
    release.set()
    result = await asyncio.wait_for(runner.run(graph, {"x": 1}, workflow_id="b"), TIMEOUT)
    assert result.status == RunStatus.COMPLETED
