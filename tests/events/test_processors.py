"""EventProcessor defaults, TypedEventProcessor dispatch, AsyncEventProcessor from sync code."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from graphflow.events import (
    EVENT_TYPES,
    AsyncEventProcessor,
    CacheHitEvent,
    Event,
    EventProcessor,
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
    TypedEventProcessor,
)

SAMPLES: list[Any] = [
    RunStartEvent("r", "s0", None, None, {}, 0.0),
    NodeStartEvent("r", "s1", None, "n", {}, 0.0),
    NodeEndEvent("r", "s1", None, "n", {}, 1.0, False, 0.0),
    StreamingChunkEvent("r", "s1", None, "n", "tok", 0, 0.0),
    CacheHitEvent("r", "s1", None, "n", 0.0),
    RouteDecisionEvent("r", "s1", None, "gate", "END", 0.0),
    NodeErrorEvent("r", "s1", None, "n", ValueError("x"), "ValueError", 0.0),
    InterruptEvent("r", "s1", None, None, "ask", 1, "answer", 0.0),
    RunEndEvent("r", "s0", None, {}, 1.0, 1, 0.0),
    MapStartEvent("m", "sm", None, None, 2, 0.0),
    MapEndEvent("m", "sm", None, 1.0, RunStatus.COMPLETED, 0.0),
]

HANDLERS = {
    RunStartEvent: "on_run_start",
    NodeStartEvent: "on_node_start",
    NodeEndEvent: "on_node_end",
    StreamingChunkEvent: "on_streaming_chunk",
    CacheHitEvent: "on_cache_hit",
    RouteDecisionEvent: "on_route_decision",
    NodeErrorEvent: "on_node_error",
    InterruptEvent: "on_interrupt",
    RunEndEvent: "on_run_end",
    MapStartEvent: "on_map_start",
    MapEndEvent: "on_map_end",
}


class RecordingTyped(TypedEventProcessor):
    """Defines every handler; records (handler name, event)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_run_start(self, event: RunStartEvent) -> None:
        self.calls.append(("on_run_start", event))

    def on_node_start(self, event: NodeStartEvent) -> None:
        self.calls.append(("on_node_start", event))

    def on_node_end(self, event: NodeEndEvent) -> None:
        self.calls.append(("on_node_end", event))

    def on_streaming_chunk(self, event: StreamingChunkEvent) -> None:
        self.calls.append(("on_streaming_chunk", event))

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        self.calls.append(("on_cache_hit", event))

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        self.calls.append(("on_route_decision", event))

    def on_node_error(self, event: NodeErrorEvent) -> None:
        self.calls.append(("on_node_error", event))

    def on_interrupt(self, event: InterruptEvent) -> None:
        self.calls.append(("on_interrupt", event))

    def on_run_end(self, event: RunEndEvent) -> None:
        self.calls.append(("on_run_end", event))

    def on_map_start(self, event: MapStartEvent) -> None:
        self.calls.append(("on_map_start", event))

    def on_map_end(self, event: MapEndEvent) -> None:
        self.calls.append(("on_map_end", event))


def test_samples_cover_every_event_type() -> None:
    assert [type(e) for e in SAMPLES] == list(EVENT_TYPES)


def test_base_processor_methods_are_no_ops() -> None:
    processor = EventProcessor()
    for event in SAMPLES:
        processor.on_event(event)
    processor.force_flush()
    processor.shutdown()


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_typed_processor_dispatches_each_event_to_its_handler(event: Any) -> None:
    processor = RecordingTyped()
    processor.on_event(event)
    assert processor.calls == [(HANDLERS[type(event)], event)]


def test_typed_processor_ignores_events_without_a_handler() -> None:
    class OnlyEnds(TypedEventProcessor):
        def __init__(self) -> None:
            self.seen: list[Event] = []

        def on_node_end(self, event: NodeEndEvent) -> None:
            self.seen.append(event)

    processor = OnlyEnds()
    for event in SAMPLES:
        processor.on_event(event)
    assert processor.seen == [SAMPLES[2]]


def test_typed_processor_handler_table_is_built_once_per_class() -> None:
    class A(TypedEventProcessor):
        def on_run_start(self, event: RunStartEvent) -> None:
            pass

    class B(A):
        def on_run_end(self, event: RunEndEvent) -> None:
            pass

    assert A._gf_handlers[RunStartEvent] == "on_run_start"
    assert A._gf_handlers[RunEndEvent] is None
    assert B._gf_handlers[RunStartEvent] == "on_run_start"
    assert B._gf_handlers[RunEndEvent] == "on_run_end"
    assert TypedEventProcessor._gf_handlers.get(RunEndEvent) is None


def test_typed_processor_dispatches_subclassed_events_to_the_base_handler() -> None:
    class Seen(TypedEventProcessor):
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def on_cache_hit(self, event: CacheHitEvent) -> None:
            self.seen.append(event)

    class SpecialHit(CacheHitEvent):
        __slots__ = ()

    processor = Seen()
    event = SpecialHit("r", "s", None, "n", 0.0)
    processor.on_event(event)
    processor.on_event(event)
    assert processor.seen == [event, event]


class RecordingAsync(AsyncEventProcessor):
    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.flushes = 0
        self.shut = False
        self.threads: set[int] = set()

    async def on_event_async(self, event: Event) -> None:
        await asyncio.sleep(0)
        self.threads.add(threading.get_ident())
        self.seen.append(event)

    async def force_flush_async(self) -> None:
        self.flushes += 1

    async def shutdown_async(self) -> None:
        self.shut = True


def test_async_processor_runs_its_coroutines_from_sync_code() -> None:
    processor = RecordingAsync()
    for event in SAMPLES:
        processor.on_event(event)
    processor.force_flush()
    assert processor.seen == SAMPLES
    assert processor.flushes == 1
    loop = processor._gf_loop
    assert loop is not None and not loop.is_closed()
    processor.shutdown()
    assert processor.shut
    assert loop.is_closed()
    assert processor._gf_loop is None


def test_async_processor_from_several_threads() -> None:
    processor = RecordingAsync()

    def work() -> None:
        for event in SAMPLES:
            processor.on_event(event)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    processor.shutdown()
    assert len(processor.seen) == 4 * len(SAMPLES)


def test_async_processor_inside_running_loop_warns_once_and_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = RecordingAsync()

    async def main() -> None:
        processor.on_event(SAMPLES[0])
        processor.on_event(SAMPLES[1])
        processor.force_flush()

    with caplog.at_level(logging.WARNING, logger="graphflow"):
        asyncio.run(main())
    assert processor.seen == []
    assert processor.flushes == 0
    warnings = [r for r in caplog.records if r.name == "graphflow"]
    assert len(warnings) == 1
    assert "RecordingAsync.on_event()" in warnings[0].getMessage()
    assert processor._gf_loop is None  # no private loop was created
    processor.shutdown()


def test_async_processor_shutdown_without_use_is_harmless() -> None:
    processor = RecordingAsync()
    processor.shutdown()
    assert processor.shut
