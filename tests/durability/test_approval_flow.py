"""Approval flows: write -> nested review graph (with an interrupt) -> publish, resumed.

Contract: a nested interrupt pauses with ``PauseInfo.node == "review/approve"``; nested
graphs persist as child workflows ``"<workflow_id>/<graphnode name>"``; resuming with the
answer re-runs nothing that already ran; an answer given up front never pauses; an
interrupt asks again when its input changes (core.md "InterruptNode").
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from graphflow import (
    AsyncRunner,
    Graph,
    InterruptNode,
    PauseInfo,
    PauseReason,
    RunStatus,
    node,
    route,
)
from graphflow.checkpointers import Checkpointer, WorkflowStatus

Factory = Callable[..., Checkpointer]  # the make_checkpointer fixture


def make_flow(calls: Counter[str], seen: dict[str, Any] | None = None) -> Graph:
    """write -> review (score, approve) -> publish; ``seen`` gets workflow statuses
    observed from inside the nodes when it is given (with ``seen["cp"]`` the checkpointer)."""

    @node(output_name="draft")
    async def write(topic: str) -> str:
        calls["write"] += 1
        if seen is not None:
            cp = seen["cp"]
            seen["during_write"] = (await cp.get_workflow("wf")).status
        return f"a post about {topic}"

    @node(output_name="score")
    async def score(draft: str) -> int:
        calls["score"] += 1
        if seen is not None:
            cp = seen["cp"]
            seen["during_score"] = (await cp.get_workflow("wf")).status
            seen["child_during_score"] = (await cp.get_workflow("wf/review")).status
        return len(draft)

    approve = InterruptNode("approve", input_param="draft", response_param="decision")
    review = Graph([score, approve], name="review")

    @node(output_name="published")
    def publish(draft: str, score: int, decision: str) -> str:
        calls["publish"] += 1
        return f"{draft} ({score}) [{decision}]"

    return Graph([write, review.as_node(), publish], name="flow")


async def test_first_run_pauses_inside_the_nested_review(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    result = await AsyncRunner(checkpointer=checkpointer).run(
        make_flow(calls), {"topic": "cats"}, workflow_id="wf", select=["draft", "published"]
    )
    assert result.status == RunStatus.PAUSED
    assert result.workflow_id == "wf"
    assert result.pause == PauseInfo(
        reason=PauseReason.HUMAN_INPUT,
        node="review/approve",
        response_param="decision",
        value="a post about cats",
    )
    assert result.outputs == {"draft": "a post about cats"}  # what ran so far; no publish
    assert calls == Counter(write=1, score=1)

    parent = await checkpointer.get_workflow("wf")
    child = await checkpointer.get_workflow("wf/review")
    assert parent is not None and child is not None
    assert parent.status == WorkflowStatus.PENDING
    assert child.status == WorkflowStatus.PENDING
    assert (parent.parent_id, parent.graph_name, parent.owner) == (None, "flow", None)
    assert (child.parent_id, child.graph_name) == ("wf", "review")
    assert [w.id for w in await checkpointer.list_workflows(parent_id="wf")] == ["wf/review"]
    assert [w.id for w in await checkpointer.list_workflows(parent_id=None)] == ["wf"]
    # the nested graph's work is in the child workflow
    child_nodes = [r.node for s in await checkpointer.get_history("wf/review") for r in s.results]
    assert child_nodes == ["score"]  # a paused interrupt has not run: no record


async def test_resume_with_the_answer_completes_without_rerunning(
    make_checkpointer: Factory,
) -> None:
    calls: Counter[str] = Counter()
    flow = make_flow(calls)
    first = await AsyncRunner(checkpointer=make_checkpointer()).run(
        flow, {"topic": "cats"}, workflow_id="wf"
    )
    assert first.status == RunStatus.PAUSED
    assert first.pause is not None
    answer = {first.pause.response_param: "ok"}
    assert answer == {"decision": "ok"}

    # a new runner and checkpointer object: as if resumed by another process
    cp = make_checkpointer()
    done = await AsyncRunner(checkpointer=cp).run(flow, answer, workflow_id="wf")
    assert done.status == RunStatus.COMPLETED
    assert done.pause is None
    assert done["published"] == "a post about cats (17) [ok]"
    assert calls == Counter(write=1, score=1, publish=1)  # nothing ran twice

    for wid in ("wf", "wf/review"):
        workflow = await cp.get_workflow(wid)
        assert workflow is not None
        assert workflow.status == WorkflowStatus.SUCCESS, wid
        assert workflow.owner is None
    child = await cp.get_workflow("wf/review")
    assert child is not None and child.parent_id == "wf"
    assert (await cp.get_state("wf"))["published"] == "a post about cats (17) [ok]"

    # once answered, it does not pause again, and nothing re-runs
    again = await AsyncRunner(checkpointer=cp).run(flow, {}, workflow_id="wf")
    assert again.status == RunStatus.COMPLETED
    assert again["published"] == "a post about cats (17) [ok]"
    assert calls == Counter(write=1, score=1, publish=1)


async def test_status_is_running_during_a_run_then_pending_then_success(
    checkpointer: Checkpointer,
) -> None:
    calls: Counter[str] = Counter()
    seen: dict[str, Any] = {"cp": checkpointer}
    flow = make_flow(calls, seen)
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(flow, {"topic": "cats"}, workflow_id="wf")
    assert seen["during_write"] == WorkflowStatus.RUNNING
    assert seen["during_score"] == WorkflowStatus.RUNNING
    assert seen["child_during_score"] == WorkflowStatus.RUNNING
    workflow = await checkpointer.get_workflow("wf")
    assert workflow is not None and workflow.status == WorkflowStatus.PENDING
    await runner.run(flow, {"decision": "ok"}, workflow_id="wf")
    workflow = await checkpointer.get_workflow("wf")
    assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS


async def test_answer_given_up_front_never_pauses(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    result = await AsyncRunner(checkpointer=checkpointer).run(
        make_flow(calls), {"topic": "cats", "decision": "ok"}, workflow_id="wf"
    )
    assert result.status == RunStatus.COMPLETED
    assert result.pause is None
    assert result["published"] == "a post about cats (17) [ok]"
    assert calls == Counter(write=1, score=1, publish=1)
    for wid in ("wf", "wf/review"):
        workflow = await checkpointer.get_workflow(wid)
        assert workflow is not None and workflow.status == WorkflowStatus.SUCCESS, wid


def make_revise_loop(calls: Counter[str]) -> Graph:
    """write -> approve -> gate: "no..." routes to revise (which uses the feedback), then
    approve asks again about the new draft; anything else publishes."""

    @node(output_name="draft")
    def write(topic: str) -> str:
        calls["write"] += 1
        return f"draft about {topic}"

    approve = InterruptNode("approve", input_param="draft", response_param="decision")

    @route(targets=["revise", "publish"])
    def gate(decision: str) -> str:
        calls["gate"] += 1
        return "revise" if decision.startswith("no") else "publish"

    @node(output_name="draft")
    def revise(draft: str, decision: str) -> str:
        calls["revise"] += 1
        return f"{draft} +{calls['revise']}"

    @node(output_name="published")
    def publish(draft: str) -> str:
        calls["publish"] += 1
        return f"PUBLISHED {draft}"

    return Graph([write, approve, gate, revise, publish], name="revise_loop")


async def test_interrupt_in_a_loop_asks_again_when_its_input_changes(
    make_checkpointer: Factory,
) -> None:
    calls: Counter[str] = Counter()
    loop = make_revise_loop(calls)
    result = await AsyncRunner(checkpointer=make_checkpointer()).run(
        loop, {"topic": "cats"}, workflow_id="loop"
    )
    asked = []
    for answer in ["no", "no", "ok"]:
        assert result.status == RunStatus.PAUSED, result
        assert result.pause is not None and result.pause.node == "approve"
        asked.append(result.pause.value)
        result = await AsyncRunner(checkpointer=make_checkpointer()).run(
            loop, {"decision": answer}, workflow_id="loop"
        )
    assert asked == ["draft about cats", "draft about cats +1", "draft about cats +1 +2"]
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "PUBLISHED draft about cats +1 +2"
    assert calls["write"] == 1
    assert calls["revise"] == 2
    assert calls["publish"] == 1


def make_single_approval(calls: Counter[str]) -> Graph:
    @node(output_name="draft")
    def write(topic: str) -> str:
        calls["write"] += 1
        return f"draft about {topic}"

    approve = InterruptNode("approve", input_param="draft", response_param="decision")

    @node(output_name="published")
    def publish(draft: str, decision: str) -> str:
        calls["publish"] += 1
        return f"{draft} [{decision}]"

    return Graph([write, approve, publish], name="single")


async def test_an_approval_does_not_carry_over_to_a_new_draft(checkpointer: Checkpointer) -> None:
    # core.md: an interrupt "asks again each time its input changes"; a resumed run
    # "re-runs those [nodes] whose inputs changed". Approving the cats draft must not
    # approve the dogs draft.
    calls: Counter[str] = Counter()
    graph = make_single_approval(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    first = await runner.run(graph, {"topic": "cats"}, workflow_id="w")
    assert first.status == RunStatus.PAUSED
    done = await runner.run(graph, {"decision": "ok"}, workflow_id="w")
    assert done["published"] == "draft about cats [ok]"

    new_topic = await runner.run(graph, {"topic": "dogs"}, workflow_id="w")
    assert new_topic.status == RunStatus.PAUSED, new_topic.outputs
    assert new_topic.pause is not None
    assert new_topic.pause.value == "draft about dogs"


def make_two_approvals(calls: Counter[str]) -> Graph:
    @node(output_name="draft")
    def write(topic: str) -> str:
        calls["write"] += 1
        return f"draft about {topic}"

    legal = InterruptNode("legal", input_param="draft", response_param="legal_ok")
    editor = InterruptNode("editor", input_param="draft", response_param="editor_ok")

    @node(output_name="published")
    def publish(draft: str, legal_ok: str, editor_ok: str) -> str:
        calls["publish"] += 1
        return f"{draft} legal={legal_ok} editor={editor_ok}"

    return Graph([write, legal, editor, publish], name="two_approvals")


async def test_several_interrupts_pause_one_at_a_time(make_checkpointer: Factory) -> None:
    calls: Counter[str] = Counter()
    graph = make_two_approvals(calls)
    result = await AsyncRunner(checkpointer=make_checkpointer()).run(
        graph, {"topic": "cats"}, workflow_id="two"
    )
    answers = {"legal_ok": "yes-legal", "editor_ok": "yes-editor"}
    paused_at = []
    while result.status == RunStatus.PAUSED:
        assert result.pause is not None
        assert result.pause.value == "draft about cats"
        paused_at.append((result.pause.node, result.pause.response_param))
        assert len(paused_at) <= 2, paused_at
        cp = make_checkpointer()
        workflow = await cp.get_workflow("two")
        assert workflow is not None and workflow.status == WorkflowStatus.PENDING
        result = await AsyncRunner(checkpointer=cp).run(
            graph,
            {result.pause.response_param: answers[result.pause.response_param]},
            workflow_id="two",
        )
    assert sorted(paused_at) == [("editor", "editor_ok"), ("legal", "legal_ok")]
    assert result.status == RunStatus.COMPLETED
    assert result["published"] == "draft about cats legal=yes-legal editor=yes-editor"
    assert calls == Counter(write=1, publish=1)


async def test_two_nested_approvals_resume_into_their_own_child_workflows(
    checkpointer: Checkpointer,
) -> None:
    @node(output_name="draft")
    def write(topic: str) -> str:
        return f"draft about {topic}"

    legal = Graph(
        [InterruptNode("approve", input_param="draft", response_param="legal_ok")], name="legal"
    )
    editor = Graph(
        [InterruptNode("approve", input_param="draft", response_param="editor_ok")],
        name="editor",
    )

    @node(output_name="published")
    def publish(draft: str, legal_ok: str, editor_ok: str) -> str:
        return f"{draft} {legal_ok} {editor_ok}"

    graph = Graph([write, legal.as_node(), editor.as_node(), publish], name="nested_two")
    runner = AsyncRunner(checkpointer=checkpointer)
    result = await runner.run(graph, {"topic": "cats"}, workflow_id="n")
    nodes = []
    while result.status == RunStatus.PAUSED:
        assert result.pause is not None
        nodes.append(result.pause.node)
        assert len(nodes) <= 2, nodes
        result = await asyncio.wait_for(
            runner.run(graph, {result.pause.response_param: "y"}, workflow_id="n"), 10
        )
    assert sorted(nodes) == ["editor/approve", "legal/approve"]
    assert result["published"] == "draft about cats y y"
    children = await checkpointer.list_workflows(parent_id="n")
    assert sorted(w.id for w in children) == ["n/editor", "n/legal"]
    # lead's contract: SUCCESS when completed (a PENDING child reads as "waiting for a human")
    assert {w.id: w.status for w in children} == {
        "n/editor": WorkflowStatus.SUCCESS,
        "n/legal": WorkflowStatus.SUCCESS,
    }
