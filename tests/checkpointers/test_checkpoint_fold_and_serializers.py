"""Checkpoint.fold and the serializers, without any storage."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import pytest

from graphflow.checkpointers import (
    Checkpoint,
    CheckpointError,
    CorruptCheckpointError,
    JsonSerializer,
    PickleSerializer,
    SerializationError,
    Serializer,
    Step,
    StepResult,
    WorkflowBusyError,
    WorkflowStatus,
)
from graphflow.exceptions import GraphflowError


def test_fold_of_nothing_is_empty() -> None:
    assert Checkpoint.fold([]) == Checkpoint(
        values={}, versions={}, records={}, decisions={}, answered={}, inputs={}, max_version=0
    )


def test_fold_later_steps_win_and_inputs_only_come_from_input_steps() -> None:
    steps = [
        Step("w", 0, "r1", "inputs", 0, {"x": 1, "seed": [0]}, {"x": 1, "seed": 2}),
        Step(
            "w", 1, "r1", "superstep", 1, {"seed": [0, 1]}, {"seed": 3},
            (StepResult("grow", {"seed": [0, 1]}, {"seed": 2, "x": 1}),),
        ),
        Step(
            "w", 2, "r1", "superstep", 2, {"seed": [0, 1, 2]}, {"seed": 4},
            (
                StepResult("grow", {"seed": [0, 1, 2]}, {"seed": 3, "x": 1}),
                StepResult("gate", {}, {"seed": 3}, decision="grow"),
            ),
        ),
        Step(
            "w", 3, "r1", "superstep", 3, {}, {},
            (StepResult("gate", {}, {"seed": 4}, decision="END"),),
        ),
        Step("w", 4, "r2", "inputs", 0, {"x": 7}, {"x": 5}),
    ]  # fmt: skip
    cp = Checkpoint.fold(steps)
    assert cp.values == {"x": 7, "seed": [0, 1, 2]}
    assert cp.versions == {"x": 5, "seed": 4}
    assert cp.records == {"grow": {"seed": 3, "x": 1}, "gate": {"seed": 4}}
    assert cp.decisions == {"gate": "END"}
    assert cp.inputs == {"x": 7, "seed": [0]}
    assert (cp.max_version, cp.steps) == (5, 5)


def test_fold_counts_answer_and_consumed_versions_in_max_version() -> None:
    step = Step(
        "w", 0, "r", "superstep", 1, {}, {},
        (StepResult("ask", {}, {"q": 7}, answered=9), StepResult("other", {}, {"q": 3})),
    )  # fmt: skip
    cp = Checkpoint.fold([step])
    assert cp.answered == {"ask": 9}
    assert cp.max_version == 9
    assert "ask" not in cp.decisions


def test_workflow_status_values_are_the_documented_strings() -> None:
    assert [s.value for s in WorkflowStatus] == ["pending", "running", "success", "error"]
    assert WorkflowStatus("success") == "success"


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -3, 2.5, math.inf, "héllo", [], {}, {"a": [1, {"b": None}], "c": "d"}],
)
def test_json_round_trips_plain_values(value: Any) -> None:
    s = JsonSerializer()
    assert s.loads(s.dumps(value)) == value
    assert type(s.loads(s.dumps(value))) is type(value)


def test_json_nan_round_trips() -> None:
    s = JsonSerializer()
    assert math.isnan(s.loads(s.dumps(math.nan)))


class Colour(str):
    pass


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2), "tuple is not JSON-serializable"),
        ([1, (2,)], r"tuple \(at value\[1\]\) is not JSON-serializable"),
        ({"k": {2: "x"}}, r"value\['k'\] has a key of type int"),
        (Colour("red"), "Colour is not JSON-serializable"),
        (b"raw", "bytes is not JSON-serializable"),
    ],
)
def test_json_refuses_values_that_would_come_back_changed(value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        JsonSerializer().dumps(value)


def test_json_refuses_a_value_that_contains_itself() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(TypeError, match="circular reference"):
        JsonSerializer().dumps(loop)
    shared = [1]
    assert JsonSerializer().loads(JsonSerializer().dumps([shared, shared])) == [[1], [1]]


def test_pickle_round_trips_python_values() -> None:
    s = PickleSerializer()
    value = {"t": (1, 2), "s": frozenset({"a"}), 1: b"x"}
    assert s.loads(s.dumps(value)) == value


def test_both_serializers_meet_the_protocol() -> None:
    assert isinstance(JsonSerializer(), Serializer)
    assert isinstance(PickleSerializer(), Serializer)


@pytest.mark.parametrize(
    "error",
    [
        SerializationError("m", workflow_id="w", node="n", output="o"),
        CorruptCheckpointError("m", path=Path("cp.db")),
        WorkflowBusyError("m", workflow_id="w", owner="h:1:t"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling_with_their_fields(error: CheckpointError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == "m"
    assert vars(copy) == vars(error)
    assert isinstance(copy, GraphflowError)
