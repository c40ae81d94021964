"""The event dataclasses: frozen, buildable from the seed's fields, seed order first."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from graphflow.events import (
    EVENT_TYPES,
    CacheHitEvent,
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    StreamingChunkEvent,
)

ENVELOPE = ["run_id", "span_id", "parent_span_id"]

# The seed's fields, in the seed's order, then graphflow's added fields.
FIELDS: dict[type, tuple[list[str], list[str]]] = {
    RunStartEvent: (
        [*ENVELOPE, "session_id", "inputs", "timestamp"],
        ["graph_name", "runner", "workflow_id", "item_index"],
    ),
    NodeStartEvent: (
        [*ENVELOPE, "node_name", "inputs", "timestamp"],
        ["node_kind", "cacheable", "node_path"],
    ),
    NodeEndEvent: (
        [*ENVELOPE, "node_name", "outputs", "duration_ms", "cached", "timestamp"],
        ["node_path"],
    ),
    StreamingChunkEvent: (
        [*ENVELOPE, "node_name", "chunk", "chunk_index", "timestamp"],
        ["node_path"],
    ),
    CacheHitEvent: ([*ENVELOPE, "node_name", "timestamp"], ["node_path"]),
    RouteDecisionEvent: ([*ENVELOPE, "gate_name", "decision", "timestamp"], ["node_path"]),
    NodeErrorEvent: (
        [*ENVELOPE, "node_name", "error", "error_type", "timestamp"],
        ["node_path"],
    ),
    InterruptEvent: (
        [*ENVELOPE, "workflow_id", "interrupt_name", "value", "response_param", "timestamp"],
        ["node_path"],
    ),
    RunEndEvent: (
        [*ENVELOPE, "outputs", "duration_ms", "iterations", "timestamp"],
        ["status", "error"],
    ),
    MapStartEvent: ([*ENVELOPE, "graph_name", "size", "timestamp"], []),
    MapEndEvent: ([*ENVELOPE, "duration_ms", "status", "timestamp"], []),
}

# One sample value per seed field name, so each event can be built from its seed fields.
SAMPLE: dict[str, Any] = {
    "run_id": "run-1",
    "span_id": "span-1",
    "parent_span_id": None,
    "session_id": None,
    "inputs": {"x": 1},
    "timestamp": 1.0,
    "node_name": "embed",
    "outputs": {"y": 2},
    "duration_ms": 3.0,
    "cached": False,
    "chunk": "tok",
    "chunk_index": 0,
    "gate_name": "decide",
    "decision": "END",
    "error": ValueError("boom"),
    "error_type": "ValueError",
    "workflow_id": "wf-1",
    "interrupt_name": "approve",
    "value": "ok?",
    "response_param": "answer",
    "iterations": 1,
    "graph_name": "g",
    "size": 2,
    "status": RunStatus.COMPLETED,
}


def build(event_type: type) -> Any:
    seed, _ = FIELDS[event_type]
    return event_type(*(SAMPLE[name] for name in seed))


def test_event_types_lists_all_eleven_events_once() -> None:
    assert len(EVENT_TYPES) == 11
    assert set(EVENT_TYPES) == set(FIELDS)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_fields_are_the_seed_fields_in_order_then_added_ones(event_type: type) -> None:
    seed, added = FIELDS[event_type]
    assert [f.name for f in dataclasses.fields(event_type)] == seed + added


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_added_fields_have_defaults_and_seed_fields_do_not(event_type: type) -> None:
    seed, _ = FIELDS[event_type]
    for field in dataclasses.fields(event_type):
        has_default = field.default is not dataclasses.MISSING
        assert has_default == (field.name not in seed), field.name


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_builds_positionally_from_seed_fields_alone(event_type: type) -> None:
    event = build(event_type)
    assert event.run_id == "run-1"
    assert event.timestamp == 1.0


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_is_frozen(event_type: type) -> None:
    event = build(event_type)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.run_id = "other"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_has_slots_and_no_instance_dict(event_type: type) -> None:
    assert not hasattr(build(event_type), "__dict__")


def test_added_field_defaults() -> None:
    run_start = build(RunStartEvent)
    assert (run_start.graph_name, run_start.runner) == (None, None)
    assert (run_start.workflow_id, run_start.item_index) == (None, None)
    node_start = build(NodeStartEvent)
    assert (node_start.node_kind, node_start.cacheable, node_start.node_path) == (
        "function",
        False,
        None,
    )
    run_end = build(RunEndEvent)
    assert run_end.status is RunStatus.COMPLETED
    assert run_end.error is None


def test_interrupt_event_accepts_no_workflow_id() -> None:
    event = InterruptEvent("r", "s", None, None, "approve", "ok?", "answer", 0.0)
    assert event.workflow_id is None


def test_run_status_values_are_strings() -> None:
    assert [s.value for s in RunStatus] == ["completed", "paused", "error"]
    assert isinstance(RunStatus.PAUSED, str)
    assert f"{RunStatus.PAUSED}" == "paused"
    assert str(RunStatus.ERROR) == "error"


def test_events_compare_by_value() -> None:
    assert build(CacheHitEvent) == build(CacheHitEvent)
    assert dataclasses.replace(build(CacheHitEvent), node_path="a/b").node_path == "a/b"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_fast_init_keeps_the_dataclass_signature_keywords_and_pickling(event_type: type) -> None:
    import inspect
    import pickle

    seed, added = FIELDS[event_type]
    params = inspect.signature(event_type).parameters
    assert list(params) == seed + added
    for field in dataclasses.fields(event_type):
        assert params[field.name].default == (
            inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        )
    by_keyword = event_type(**{name: SAMPLE[name] for name in seed})
    assert by_keyword == build(event_type)
    assert repr(pickle.loads(pickle.dumps(by_keyword))) == repr(by_keyword)  # errors: by repr
    with pytest.raises(TypeError, match="missing"):
        event_type(*(SAMPLE[name] for name in seed[:-1]))
    with pytest.raises(TypeError, match="unexpected keyword"):
        event_type(*(SAMPLE[name] for name in seed), not_a_field=1)
    assert event_type.__init__.__qualname__ == f"{event_type.__name__}.__init__"
