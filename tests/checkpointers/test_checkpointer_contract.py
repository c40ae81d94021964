"""The contract every checkpointer keeps: run once per checkpointer (see conftest.py)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from graphflow.checkpointers import (
    ANY_PARENT,
    Checkpoint,
    Checkpointer,
    CheckpointError,
    PickleSerializer,
    SerializationError,
    Step,
    StepResult,
    WorkflowBusyError,
    WorkflowStatus,
    make_owner,
)
from graphflow.exceptions import GraphflowError


def inputs(values: dict[str, Any], versions: dict[str, int], wf: str = "w") -> Step:
    return Step(wf, -1, "run-1", "inputs", 0, values, versions)


def superstep(n: int, *results: StepResult, versions: dict[str, int], wf: str = "w") -> Step:
    values = {name: v for r in results for name, v in r.outputs.items() if name in versions}
    return Step(wf, -1, "run-1", "superstep", n, values, versions, tuple(results))


# -- workflows ----------------------------------------------------------------------------


async def test_create_workflow_starts_pending_and_returns_the_existing_one(
    checkpointer: Checkpointer,
) -> None:
    created = await checkpointer.create_workflow("w", graph_name="chat")
    assert (created.id, created.status, created.graph_name) == ("w", WorkflowStatus.PENDING, "chat")
    assert created.parent_id is None and created.owner is None
    await checkpointer.update_workflow_status("w", WorkflowStatus.RUNNING)
    again = await checkpointer.create_workflow("w", graph_name="other")
    assert (again.status, again.graph_name) == (WorkflowStatus.RUNNING, "chat")
    assert await checkpointer.get_workflow("w") == again


async def test_unknown_workflow_reads_as_empty(checkpointer: Checkpointer) -> None:
    assert await checkpointer.get_workflow("nope") is None
    assert await checkpointer.get_history("nope") == []
    assert await checkpointer.get_state("nope") == {}
    assert await checkpointer.get_checkpoint("nope") == Checkpoint()


async def test_status_moves_through_pause_resume_success_and_error(
    checkpointer: Checkpointer,
) -> None:
    created = await checkpointer.create_workflow("w")
    seen = [created]
    for status in ("running", "pending", "running", "success", "running", "error"):
        await checkpointer.update_workflow_status("w", WorkflowStatus(status))
        current = await checkpointer.get_workflow("w")
        assert current is not None and current.status == status
        seen.append(current)
    assert [w.created_at for w in seen] == [created.created_at] * len(seen)
    assert [w.updated_at for w in seen] == sorted(w.updated_at for w in seen)


async def test_status_of_an_unknown_workflow_cannot_be_set(checkpointer: Checkpointer) -> None:
    with pytest.raises(CheckpointError, match=r"(?s)No workflow 'ghost'.*create_workflow"):
        await checkpointer.update_workflow_status("ghost", WorkflowStatus.RUNNING)


async def test_list_workflows_in_creation_order_filtered_by_status_and_parent(
    checkpointer: Checkpointer,
) -> None:
    for wf in ("b", "a", "c"):
        await checkpointer.create_workflow(wf)
    await checkpointer.create_workflow("a/inner", parent_id="a", graph_name="inner")
    await checkpointer.update_workflow_status("c", WorkflowStatus.SUCCESS)

    def ids(found: list[Any]) -> list[str]:
        return [w.id for w in found]

    assert ids(await checkpointer.list_workflows()) == ["b", "a", "c", "a/inner"]
    assert ids(await checkpointer.list_workflows(parent_id=ANY_PARENT)) == [
        "b",
        "a",
        "c",
        "a/inner",
    ]
    assert ids(await checkpointer.list_workflows(status=WorkflowStatus.SUCCESS)) == ["c"]
    assert ids(await checkpointer.list_workflows(parent_id=None)) == ["b", "a", "c"]
    assert ids(await checkpointer.list_workflows(parent_id="a")) == ["a/inner"]
    pending_children = await checkpointer.list_workflows(
        status=WorkflowStatus.PENDING, parent_id="a"
    )
    assert ids(pending_children) == ["a/inner"]
    assert await checkpointer.list_workflows(parent_id="b") == []


async def test_child_workflows_keep_their_own_steps(checkpointer: Checkpointer) -> None:
    await checkpointer.create_workflow("parent")
    child = await checkpointer.create_workflow("parent/review", parent_id="parent")
    assert child.parent_id == "parent"
    await checkpointer.save_step(inputs({"x": 1}, {"x": 1}, wf="parent"))
    await checkpointer.save_step(inputs({"draft": "hi"}, {"draft": 2}, wf="parent/review"))
    assert await checkpointer.get_state("parent") == {"x": 1}
    assert await checkpointer.get_state("parent/review") == {"draft": "hi"}


@pytest.mark.parametrize("bad", ["", None, 3])
async def test_workflow_id_must_be_a_non_empty_string(checkpointer: Checkpointer, bad: Any) -> None:
    with pytest.raises(CheckpointError, match="workflow_id must be a non-empty str"):
        await checkpointer.create_workflow(bad)
    with pytest.raises(CheckpointError, match="workflow_id must be a non-empty str"):
        await checkpointer.save_step(inputs({"x": 1}, {"x": 1}, wf=bad))


# -- steps --------------------------------------------------------------------------------


async def test_save_step_assigns_increasing_indices_and_creates_the_workflow(
    checkpointer: Checkpointer,
) -> None:
    saved = [await checkpointer.save_step(inputs({"x": i}, {"x": i + 1})) for i in range(4)]
    assert [s.index for s in saved] == [0, 1, 2, 3]
    assert [s.values for s in saved] == [{"x": i} for i in range(4)]
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None and workflow.status == WorkflowStatus.PENDING
    assert [s.index for s in await checkpointer.get_history("w")] == [0, 1, 2, 3]


async def test_an_explicit_index_must_be_the_next_one(checkpointer: Checkpointer) -> None:
    first = Step("w", 0, "run-1", "inputs", 0, {"x": 1}, {"x": 1})
    assert (await checkpointer.save_step(first)).index == 0
    with pytest.raises(CheckpointError, match=r"(?s)next index is 1.*index=-1"):
        await checkpointer.save_step(first)
    assert len(await checkpointer.get_history("w")) == 1


async def test_concurrent_saves_get_distinct_indices(checkpointer: Checkpointer) -> None:
    saved = await asyncio.gather(
        *(checkpointer.save_step(inputs({"x": i}, {"x": i + 1})) for i in range(20))
    )
    assert sorted(s.index for s in saved) == list(range(20))
    history = await checkpointer.get_history("w")
    assert [s.index for s in history] == list(range(20))
    by_index = {s.index: s.values for s in saved}
    assert [s.values for s in history] == [by_index[i] for i in range(20)]


async def test_history_round_trips_every_field_in_index_order(checkpointer: Checkpointer) -> None:
    gate = StepResult("route", {}, {"n": 3}, decision="END", duration_ms=1.5)
    answer = StepResult("ask", {"reply": "yes"}, {"question": 2}, answered=4, cached=True)
    steps = [
        Step(
            "w",
            -1,
            "run-1",
            "inputs",
            0,
            {"n": 1, "nested": {"a": [1, 2.5, None]}},
            {"n": 1, "nested": 2},
            created_at=10.0,
        ),
        Step(
            "w", -1, "run-1", "superstep", 1, {"reply": "yes"}, {"reply": 5}, (gate, answer), 11.0
        ),
    ]
    for step in steps:
        await checkpointer.save_step(step)
    history = await checkpointer.get_history("w")
    assert history == [
        Step(
            "w",
            0,
            "run-1",
            "inputs",
            0,
            {"n": 1, "nested": {"a": [1, 2.5, None]}},
            {"n": 1, "nested": 2},
            created_at=10.0,
        ),
        Step("w", 1, "run-1", "superstep", 1, {"reply": "yes"}, {"reply": 5}, (gate, answer), 11.0),
    ]


@pytest.mark.parametrize("kind", ["result", "nonsense"])
async def test_a_malformed_step_is_refused(checkpointer: Checkpointer, kind: str) -> None:
    with pytest.raises(CheckpointError, match="kind must be 'inputs' or 'superstep'"):
        await checkpointer.save_step(Step("w", -1, "run-1", kind, 0, {}, {}))
    text_version: dict[str, Any] = {"x": "1"}  # a str where a version (int) belongs
    with pytest.raises(CheckpointError, match="versions must be int"):
        await checkpointer.save_step(Step("w", -1, "run-1", "inputs", 0, {"x": 1}, text_version))
    assert await checkpointer.get_history("w") == []


# -- the fold -----------------------------------------------------------------------------


async def test_checkpoint_folds_values_records_decisions_answers_and_inputs(
    checkpointer: Checkpointer,
) -> None:
    await checkpointer.save_step(
        inputs({"messages": ["hi"], "limit": 3}, {"messages": 1, "limit": 2})
    )
    await checkpointer.save_step(
        superstep(
            1,
            StepResult("reply", {"messages": ["hi", "hello"]}, {"messages": 1}),
            StepResult("route", {}, {"messages": 1}, decision="reply"),
            versions={"messages": 3},
        )
    )
    await checkpointer.save_step(
        superstep(
            2,
            StepResult("ask", {"answer": "ok"}, {"messages": 3}, answered=4),
            StepResult("route", {}, {"messages": 3}, decision="END"),
            versions={"answer": 5},
        )
    )
    await checkpointer.save_step(Step("w", -1, "run-2", "inputs", 0, {"limit": 5}, {"limit": 6}))

    cp = await checkpointer.get_checkpoint("w")
    assert cp.values == {"messages": ["hi", "hello"], "limit": 5, "answer": "ok"}
    assert cp.versions == {"messages": 3, "limit": 6, "answer": 5}
    assert cp.records == {
        "reply": {"messages": 1},
        "route": {"messages": 3},
        "ask": {"messages": 3},
    }
    assert cp.decisions == {"route": "END"}
    assert cp.answered == {"ask": 4}
    assert cp.inputs == {"messages": ["hi"], "limit": 5}
    assert (cp.max_version, cp.steps) == (6, 4)
    assert await checkpointer.get_state("w") == cp.values


async def test_reads_return_fresh_copies(checkpointer: Checkpointer) -> None:
    given = {"messages": ["hi"]}
    await checkpointer.save_step(inputs(given, {"messages": 1}))
    given["messages"].append("changed after save")
    state = await checkpointer.get_state("w")
    assert state == {"messages": ["hi"]}
    state["messages"].append("changed after read")
    history = await checkpointer.get_history("w")
    history[0].values["messages"].clear()
    assert await checkpointer.get_state("w") == {"messages": ["hi"]}


# -- serialization ------------------------------------------------------------------------


class Opaque:
    pass


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ({1, 2}, r"set is not JSON-serializable"),
        (Opaque(), r"test_checkpointer_contract\.Opaque is not JSON-serializable"),
        ((1, 2), r"tuple is not JSON-serializable"),
        ({"ok": [1, {"deep": b"raw"}]}, r"bytes \(at value\['ok'\]\[1\]\['deep'\]\) is not"),
        ({1: "a"}, r"key of type int \(1\); JSON keys must be str"),
    ],
    ids=["set", "object", "tuple", "nested-bytes", "int-key"],
)
async def test_unserializable_output_names_node_and_output_and_saves_nothing(
    checkpointer: Checkpointer, value: Any, what: str
) -> None:
    await checkpointer.save_step(inputs({"x": 1}, {"x": 1}))
    before = await checkpointer.get_history("w")
    bad = superstep(
        1,
        StepResult("fine", {"y": 2}, {"x": 1}),
        StepResult("make", {"z": 1, "thing": value}, {"x": 1}),
        versions={"y": 2, "thing": 3},
    )
    with pytest.raises(SerializationError, match=what) as caught:
        await checkpointer.save_step(bad)
    err = caught.value
    assert (err.node, err.output, err.workflow_id) == ("make", "thing", "w")
    assert isinstance(err, TypeError) and isinstance(err, GraphflowError)
    message = str(err)
    assert "Cannot save output 'thing' of node 'make' in workflow 'w'" in message
    assert "How to fix:" in message and "PickleSerializer()" in message
    assert await checkpointer.get_history("w") == before


async def test_unserializable_input_says_it_was_given_as_input(checkpointer: Checkpointer) -> None:
    with pytest.raises(SerializationError) as caught:
        await checkpointer.save_step(inputs({"ok": 1, "when": Opaque()}, {"ok": 1, "when": 2}))
    assert (caught.value.node, caught.value.output) == (None, "when")
    assert "Cannot save input 'when' of workflow 'w'" in str(caught.value)
    assert "given as an input of run 'run-1'" in str(caught.value)
    assert await checkpointer.get_history("w") == []


async def test_pickle_serializer_stores_python_values(make_checkpointer: Any) -> None:
    async with make_checkpointer(serializer=PickleSerializer()) as cp:
        value = {"point": (1, 2), "tags": {"a"}, 3: b"raw"}
        await cp.save_step(inputs({"v": value}, {"v": 1}))
        assert await cp.get_state("w") == {"v": value}


# -- claims -------------------------------------------------------------------------------


async def test_one_owner_at_a_time(checkpointer: Checkpointer) -> None:
    first, second = make_owner(), make_owner()
    await checkpointer.acquire("w", first)
    await checkpointer.acquire("w", first)  # the holder may claim again
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None and workflow.owner == first

    with pytest.raises(WorkflowBusyError) as caught:
        await checkpointer.acquire("w", second)
    err = caught.value
    assert (err.workflow_id, err.owner) == ("w", first)
    assert isinstance(err, GraphflowError)
    assert "'w' is already being run" in str(err) and first in str(err)
    assert "How to fix:" in str(err)

    await checkpointer.release("w", second)  # not the holder: nothing happens
    await checkpointer.acquire("other", second)  # other workflows are free
    await checkpointer.release("w", first)
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None and workflow.owner is None
    await checkpointer.acquire("w", second)
    await checkpointer.release("never-created", second)


async def test_a_dead_owner_on_this_host_is_taken_over(
    checkpointer: Checkpointer, dead_owner: str
) -> None:
    await checkpointer.acquire("w", dead_owner)
    owner = make_owner()
    await checkpointer.acquire("w", owner)
    workflow = await checkpointer.get_workflow("w")
    assert workflow is not None and workflow.owner == owner


@pytest.mark.parametrize(
    "held",
    ["elsewhere.example:1:abc", f"{socket.gethostname()}:1:abc", "not-an-owner-id"],
    ids=["other-host", "live-pid-1", "unparsable"],
)
async def test_an_owner_not_known_to_be_dead_is_never_taken_over(
    checkpointer: Checkpointer, held: str
) -> None:
    await checkpointer.acquire("w", held)
    with pytest.raises(WorkflowBusyError):
        await checkpointer.acquire("w", make_owner())
    await checkpointer.release("w", held)  # the documented way to free it by hand
    await checkpointer.acquire("w", make_owner())


# -- lifecycle ----------------------------------------------------------------------------


async def test_close_is_idempotent_and_a_closed_checkpointer_reopens(
    make_checkpointer: Any,
) -> None:
    cp = make_checkpointer()
    await cp.save_step(inputs({"x": 1}, {"x": 1}))  # no initialize(): opened on first use
    await cp.initialize()
    await cp.initialize()
    await cp.close()
    await cp.close()
    assert await cp.get_state("w") == {"x": 1}
    await cp.close()


async def test_async_with_opens_and_closes(make_checkpointer: Any) -> None:
    cp = make_checkpointer()
    async with cp as opened:
        assert opened is cp
        await cp.create_workflow("w")
    async with cp:
        assert [w.id for w in await cp.list_workflows()] == ["w"]


def test_usable_from_several_event_loops(make_checkpointer: Any) -> None:
    cp = make_checkpointer()
    asyncio.run(cp.save_step(inputs({"x": 1}, {"x": 1})))
    asyncio.run(cp.save_step(inputs({"x": 2}, {"x": 2})))
    assert asyncio.run(cp.get_state("w")) == {"x": 2}
    asyncio.run(cp.close())
