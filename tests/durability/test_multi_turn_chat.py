"""A multi-turn chat as a gated cycle, resumed turn after turn from a checkpoint.

Contract (lead's notes + core.md "Execution"): resume = ``run()`` again with the same
``workflow_id`` and only the new values; values given in a call are newer than the
checkpoint (even when equal to it); nodes whose inputs did not change are skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from graphflow import END, AsyncRunner, Graph, RunStatus, node, route
from graphflow.checkpointers import Checkpointer, Step, WorkflowStatus

Factory = Callable[..., Checkpointer]  # the make_checkpointer fixture
FUNCTIONS = ("add_user", "reply", "add_assistant")


def _echo(messages: list[Any]) -> str:
    return f"echo {messages[-1]['content']}"


def make_chat(calls: Counter[str], answer: Callable[[list[Any]], str] = _echo) -> Graph:
    """The lead's chat graph, counting the calls of each node; ``answer`` is the model."""

    @node(output_name="messages")
    def add_user(messages: list[Any], user_input: str) -> list[Any]:
        calls["add_user"] += 1
        return [*messages, {"role": "user", "content": user_input}]

    @node(output_name="response")
    def reply(messages: list[Any]) -> str:
        calls["reply"] += 1
        return answer(messages)

    @node(output_name="messages")
    def add_assistant(messages: list[Any], response: str) -> list[Any]:
        calls["add_assistant"] += 1
        return [*messages, {"role": "assistant", "content": response}]

    @route(targets=["reply", END])
    def next_turn(messages: list[Any]) -> object:
        calls["next_turn"] += 1
        return "reply" if messages[-1]["role"] == "user" else END

    return Graph([add_user, reply, add_assistant, next_turn], name="chat")


def conversation(*texts: str) -> list[dict[str, str]]:
    out = []
    for text in texts:
        out.append({"role": "user", "content": text})
        out.append({"role": "assistant", "content": f"echo {text}"})
    return out


def by_run(history: list[Step]) -> list[list[Step]]:
    """Steps grouped by the run that saved them, in order."""
    runs: list[list[Step]] = []
    for step in history:
        if not runs or runs[-1][0].run_id != step.run_id:
            runs.append([])
        runs[-1].append(step)
    return runs


async def chat_turns(make: Factory, texts: list[str], workflow_id: str = "c") -> list[Counter[str]]:
    """Play one turn per text, each with a new runner and checkpointer object on the store."""
    calls: Counter[str] = Counter()
    chat = make_chat(calls)
    per_turn = []
    for i, text in enumerate(texts):
        inputs: dict[str, Any] = {"user_input": text}
        if i == 0:
            inputs["messages"] = []
        calls.clear()
        result = await AsyncRunner(checkpointer=make()).run(chat, inputs, workflow_id=workflow_id)
        assert result.status == RunStatus.COMPLETED, f"turn {i + 1}: {result}"
        assert result.workflow_id == workflow_id
        assert result.pause is None
        assert result["messages"] == conversation(*texts[: i + 1]), f"turn {i + 1}"
        assert result["response"] == f"echo {text}"
        per_turn.append(Counter(calls))
    return per_turn


async def test_three_turns_each_node_runs_once_per_turn(make_checkpointer: Factory) -> None:
    per_turn = await chat_turns(make_checkpointer, ["hi", "again", "bye"])
    for turn, calls in enumerate(per_turn, start=1):
        assert {name: calls[name] for name in FUNCTIONS} == dict.fromkeys(FUNCTIONS, 1), (
            f"turn {turn}: {dict(calls)}"
        )


async def test_gate_decides_once_on_the_first_turn_twice_on_later_turns(
    make_checkpointer: Factory,
) -> None:
    # Turn 1: `reply` may run before any decision (the gate depends on its output: a loop's
    # first pass), so the gate only decides END. Later turns start with the restored END
    # decision holding `reply` (core.md "Gates hold their targets"): the gate must choose
    # `reply` for the new user message, then END after the answer. Pinned, not a bug.
    per_turn = await chat_turns(make_checkpointer, ["hi", "again", "bye"])
    assert [calls["next_turn"] for calls in per_turn] == [1, 2, 2]


async def test_status_and_state_after_each_turn(make_checkpointer: Factory) -> None:
    calls: Counter[str] = Counter()
    chat = make_chat(calls)
    cp = make_checkpointer()
    runner = AsyncRunner(checkpointer=cp)
    texts = ["hi", "again", "bye"]
    for i, text in enumerate(texts):
        inputs: dict[str, Any] = {"user_input": text} | ({"messages": []} if i == 0 else {})
        await runner.run(chat, inputs, workflow_id="c")
        workflow = await cp.get_workflow("c")
        assert workflow is not None
        assert workflow.status == WorkflowStatus.SUCCESS
        assert workflow.owner is None  # the claim is released after each turn
        assert workflow.parent_id is None
        assert workflow.graph_name == "chat"
        state = await cp.get_state("c")
        assert state["messages"] == conversation(*texts[: i + 1])
        assert state["user_input"] == text
        assert state["response"] == f"echo {text}"
        checkpoint = await cp.get_checkpoint("c")
        assert checkpoint.inputs["user_input"] == text
        assert checkpoint.decisions["next_turn"] == "END"
        assert set(checkpoint.records) == {*FUNCTIONS, "next_turn"}
    assert [w.id for w in await cp.list_workflows()] == ["c"]


async def test_history_has_one_run_per_turn(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    chat = make_chat(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    run_ids = []
    for inputs in (
        {"messages": [], "user_input": "hi"},
        {"user_input": "again"},
        {"user_input": "bye"},
    ):
        run_ids.append((await runner.run(chat, inputs, workflow_id="c")).run_id)

    history = await checkpointer.get_history("c")
    assert [s.index for s in history] == list(range(len(history)))
    assert all(s.workflow_id == "c" for s in history)
    runs = by_run(history)
    assert [r[0].run_id for r in runs] == run_ids

    given = [r[0] for r in runs]
    assert [s.kind for s in given] == ["inputs"] * 3
    assert [s.values for s in given] == [
        {"messages": [], "user_input": "hi"},
        {"user_input": "again"},
        {"user_input": "bye"},
    ]
    for turn, steps in enumerate(runs, start=1):
        assert all(s.kind == "superstep" for s in steps[1:]), f"turn {turn}"
        ran = Counter(r.node for s in steps for r in s.results)
        assert {name: ran[name] for name in FUNCTIONS} == dict.fromkeys(FUNCTIONS, 1)
        decisions = [r.decision for s in steps for r in s.results if r.node == "next_turn"]
        assert decisions == (["END"] if turn == 1 else ["reply", "END"])
    # the last saved value of `messages` is the whole conversation
    saved = [s.values["messages"] for s in history if "messages" in s.values]
    assert saved[-1] == conversation("hi", "again", "bye")


async def test_resume_with_no_new_values_runs_nothing(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    chat = make_chat(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(chat, {"messages": [], "user_input": "hi"}, workflow_id="c")
    steps = len(await checkpointer.get_history("c"))
    calls.clear()
    result = await runner.run(chat, {}, workflow_id="c")
    assert result.status == RunStatus.COMPLETED
    assert result["messages"] == conversation("hi")
    assert calls == Counter()
    assert len(await checkpointer.get_history("c")) == steps


async def test_same_user_text_twice_is_still_a_new_turn(checkpointer: Checkpointer) -> None:
    # "values given in this call are newer than anything in the checkpoint, even when
    # equal to it": repeating the last message is a new turn, not a no-op. (The replies
    # differ here, see the next test for identical replies.)
    calls: Counter[str] = Counter()
    chat = make_chat(calls, answer=lambda messages: f"reply {len(messages)}")
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(chat, {"messages": [], "user_input": "hi"}, workflow_id="c")
    calls.clear()
    result = await runner.run(chat, {"user_input": "hi"}, workflow_id="c")
    assert [m["content"] for m in result["messages"]] == ["hi", "reply 1", "hi", "reply 3"]
    assert {name: calls[name] for name in FUNCTIONS} == dict.fromkeys(FUNCTIONS, 1)


async def test_an_identical_reply_is_an_unchanged_value(checkpointer: Checkpointer) -> None:
    # core.md: a produced value gets a new version only when it differs from the current
    # one. A reply string equal to last turn's is unchanged, so nothing downstream re-runs
    # (add_assistant's other input, messages, is its own output). docs/human-in-the-loop.md
    # states this and the fix below.
    calls: Counter[str] = Counter()
    chat = make_chat(calls, answer=lambda messages: "ok")
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(chat, {"messages": [], "user_input": "hi"}, workflow_id="c")
    result = await runner.run(chat, {"user_input": "thanks"}, workflow_id="c")
    assert [m["content"] for m in result["messages"]] == ["hi", "ok", "thanks"]


async def test_a_reply_that_names_its_turn_is_always_appended(checkpointer: Checkpointer) -> None:
    @node(output_name="messages")
    def add_user(messages: list[dict[str, Any]], user_input: str) -> list[dict[str, Any]]:
        return [*messages, {"role": "user", "content": user_input}]

    @node(output_name="response")
    def reply(messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {"role": "assistant", "content": "ok", "turn": len(messages)}

    @node(output_name="messages")
    def add_assistant(
        messages: list[dict[str, Any]], response: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [*messages, response]

    @route(targets=["reply", END])
    def next_turn(messages: list[dict[str, Any]]) -> object:
        return "reply" if messages[-1]["role"] == "user" else END

    chat = Graph([add_user, reply, add_assistant, next_turn], name="chat")
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(chat, {"messages": [], "user_input": "hi"}, workflow_id="c")
    result = await runner.run(chat, {"user_input": "thanks"}, workflow_id="c")
    assert [m["content"] for m in result["messages"]] == ["hi", "ok", "thanks", "ok"]


async def test_two_conversations_do_not_share_state(checkpointer: Checkpointer) -> None:
    calls: Counter[str] = Counter()
    chat = make_chat(calls)
    runner = AsyncRunner(checkpointer=checkpointer)
    await runner.run(chat, {"messages": [], "user_input": "a1"}, workflow_id="alice")
    await runner.run(chat, {"messages": [], "user_input": "b1"}, workflow_id="bob")
    a = await runner.run(chat, {"user_input": "a2"}, workflow_id="alice")
    b = await runner.run(chat, {"user_input": "b2"}, workflow_id="bob")
    assert a["messages"] == conversation("a1", "a2")
    assert b["messages"] == conversation("b1", "b2")
    assert sorted(w.id for w in await checkpointer.list_workflows()) == ["alice", "bob"]
