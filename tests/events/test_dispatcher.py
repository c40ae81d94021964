"""EventDispatcher: order, dedup, isolation, strict mode, async queueing, threads, defaults."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from graphflow.events import (
    AsyncEventProcessor,
    CacheHitEvent,
    Event,
    EventDispatcher,
    EventProcessor,
    NodeStartEvent,
    clear_default_processors,
    get_default_processors,
    processor_error_counts,
    reset_processor_error_counts,
    set_default_processors,
)
from graphflow.exceptions import GraphConfigError


def hit(i: int = 0) -> CacheHitEvent:
    return CacheHitEvent("r", f"s{i}", None, f"n{i}", float(i))


class Recorder(EventProcessor):
    def __init__(self, log: list[tuple[str, Event]] | None = None, name: str = "rec") -> None:
        self.log: list[tuple[str, Event]] = [] if log is None else log
        self.name = name
        self.flushes = 0

    def on_event(self, event: Event) -> None:
        self.log.append((self.name, event))

    def force_flush(self) -> None:
        self.flushes += 1


class Boom(EventProcessor):
    def on_event(self, event: Event) -> None:
        raise RuntimeError("processor bug")

    def force_flush(self) -> None:
        raise RuntimeError("flush bug")


class AsyncRecorder(AsyncEventProcessor):
    def __init__(self, log: list[tuple[str, Event]], name: str = "async") -> None:
        self.log = log
        self.name = name
        self.flushes = 0

    async def on_event_async(self, event: Event) -> None:
        await asyncio.sleep(0)
        self.log.append((self.name, event))

    async def force_flush_async(self) -> None:
        self.flushes += 1


class SyncOnlyAsync(AsyncEventProcessor):
    """Overrides only the sync methods: called synchronously even in async mode."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.flushes = 0

    def on_event(self, event: Event) -> None:
        self.seen.append(event)

    def force_flush(self) -> None:
        self.flushes += 1


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    reset_processor_error_counts()
    yield
    reset_processor_error_counts()


def test_empty_dispatcher_is_inactive() -> None:
    dispatcher = EventDispatcher()
    assert dispatcher.active is False
    assert dispatcher.processors == ()
    assert dispatcher.has_async is False
    assert not dispatcher.pending
    dispatcher.emit(hit())
    dispatcher.force_flush()


def test_emit_calls_processors_in_registration_order() -> None:
    log: list[tuple[str, Event]] = []
    dispatcher = EventDispatcher([Recorder(log, "a"), Recorder(log, "b"), Recorder(log, "c")])
    assert dispatcher.active
    dispatcher.emit(hit(1))
    dispatcher.emit(hit(2))
    assert log == [
        ("a", hit(1)),
        ("b", hit(1)),
        ("c", hit(1)),
        ("a", hit(2)),
        ("b", hit(2)),
        ("c", hit(2)),
    ]


def test_duplicate_processors_are_dropped_by_identity_keeping_order() -> None:
    a, b = Recorder(name="a"), Recorder(name="b")
    dispatcher = EventDispatcher([a, b, a, b, a])
    assert dispatcher.processors == (a, b)
    dispatcher.emit(hit())
    assert len(a.log) == 1


def test_non_processor_is_rejected_with_a_fix_hint() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        EventDispatcher([object()])  # type: ignore[list-item]  # the misuse under test


def test_raising_processor_is_isolated_logged_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before, after = Recorder(name="before"), Recorder(name="after")
    boom = Boom()
    dispatcher = EventDispatcher([before, boom, after])
    with caplog.at_level(logging.DEBUG, logger="graphflow"):
        dispatcher.emit(hit(1))
        dispatcher.emit(hit(2))
        dispatcher.force_flush()
    assert [e for _, e in before.log] == [hit(1), hit(2)]
    assert [e for _, e in after.log] == [hit(1), hit(2)]
    assert before.flushes == after.flushes == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "Boom" in errors[0].getMessage()
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 2
    assert processor_error_counts() == {"Boom": 3}


def test_each_processor_is_logged_in_full_once_across_dispatchers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    boom = Boom()
    with caplog.at_level(logging.ERROR, logger="graphflow"):
        EventDispatcher([boom]).emit(hit())
        EventDispatcher([boom]).emit(hit())
        EventDispatcher([Boom()]).emit(hit())
    assert len(caplog.records) == 2
    assert processor_error_counts() == {"Boom": 3}


def test_reset_processor_error_counts() -> None:
    EventDispatcher([Boom()]).emit(hit())
    assert processor_error_counts() == {"Boom": 1}
    reset_processor_error_counts()
    assert processor_error_counts() == {}


def test_strict_dispatcher_reraises() -> None:
    dispatcher = EventDispatcher([Boom()], strict=True)
    with pytest.raises(RuntimeError, match="processor bug"):
        dispatcher.emit(hit())
    with pytest.raises(RuntimeError, match="flush bug"):
        dispatcher.force_flush()
    assert processor_error_counts() == {"Boom": 2}


def test_base_exceptions_are_not_swallowed() -> None:
    class Interrupting(EventProcessor):
        def on_event(self, event: Event) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EventDispatcher([Interrupting()]).emit(hit())


def test_async_mode_queues_async_processors_and_drain_delivers_in_order() -> None:
    log: list[tuple[str, Event]] = []
    sync = Recorder(log, "sync")
    first, second = AsyncRecorder(log, "first"), AsyncRecorder(log, "second")
    dispatcher = EventDispatcher([first, sync, second], async_mode=True)
    assert dispatcher.has_async

    async def main() -> None:
        dispatcher.emit(hit(1))
        dispatcher.emit(hit(2))
        assert log == [("sync", hit(1)), ("sync", hit(2))]
        assert list(dispatcher.pending) == [
            (first, hit(1)),
            (second, hit(1)),
            (first, hit(2)),
            (second, hit(2)),
        ]
        await dispatcher.drain()
        assert not dispatcher.pending

    asyncio.run(main())
    assert log[2:] == [("first", hit(1)), ("second", hit(1)), ("first", hit(2)), ("second", hit(2))]


def test_concurrent_drains_keep_emission_order() -> None:
    log: list[tuple[str, Event]] = []
    dispatcher = EventDispatcher([AsyncRecorder(log)], async_mode=True)

    async def main() -> None:
        for i in range(20):
            dispatcher.emit(hit(i))
        await asyncio.gather(*(dispatcher.drain() for _ in range(5)))

    asyncio.run(main())
    assert [e for _, e in log] == [hit(i) for i in range(20)]


def test_sync_mode_calls_async_processors_through_their_private_loop() -> None:
    log: list[tuple[str, Event]] = []
    processor = AsyncRecorder(log)
    dispatcher = EventDispatcher([processor])
    dispatcher.emit(hit())
    dispatcher.force_flush()
    assert not dispatcher.pending
    assert log == [("async", hit())]
    assert processor.flushes == 1
    processor.shutdown()


def test_async_mode_calls_sync_overrides_of_async_processors_directly() -> None:
    processor = SyncOnlyAsync()
    dispatcher = EventDispatcher([processor], async_mode=True)

    async def main() -> None:
        dispatcher.emit(hit())
        assert not dispatcher.pending
        await dispatcher.force_flush_async()

    asyncio.run(main())
    assert processor.seen == [hit()]
    assert processor.flushes == 1


def test_force_flush_async_drains_first_then_flushes_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[tuple[str, Event]] = []
    sync, async_ = Recorder(log, "sync"), AsyncRecorder(log)

    class FailingAsync(AsyncRecorder):
        async def on_event_async(self, event: Event) -> None:
            raise RuntimeError("async bug")

        async def force_flush_async(self) -> None:
            raise RuntimeError("async flush bug")

    dispatcher = EventDispatcher([FailingAsync(log), sync, async_, Boom()], async_mode=True)

    async def main() -> None:
        dispatcher.emit(hit())
        await dispatcher.force_flush_async()

    with caplog.at_level(logging.ERROR, logger="graphflow"):
        asyncio.run(main())
    assert log == [("sync", hit()), ("async", hit())]
    assert (sync.flushes, async_.flushes) == (1, 1)
    assert processor_error_counts() == {
        "test_force_flush_async_drains_first_then_flushes_all.<locals>.FailingAsync": 2,
        "Boom": 2,
    }
    assert len(caplog.records) == 2


def test_strict_drain_reraises() -> None:
    class FailingAsync(AsyncEventProcessor):
        async def on_event_async(self, event: Event) -> None:
            raise RuntimeError("async bug")

    dispatcher = EventDispatcher([FailingAsync()], async_mode=True, strict=True)

    async def main() -> None:
        dispatcher.emit(hit())
        await dispatcher.drain()

    with pytest.raises(RuntimeError, match="async bug"):
        asyncio.run(main())


def test_extended_appends_new_processors_and_shares_pending() -> None:
    log: list[tuple[str, Event]] = []
    a, b, c = Recorder(log, "a"), Recorder(log, "b"), AsyncRecorder(log, "c")
    base = EventDispatcher([a, c], async_mode=True, strict=True)
    assert base.extended([a, c]) is base
    combined = base.extended([b, a])
    assert combined.processors == (a, c, b)
    assert (combined.async_mode, combined.strict) == (True, True)
    assert combined.pending is base.pending

    async def main() -> None:
        combined.emit(hit(1))
        base.emit(hit(2))
        await base.drain()

    asyncio.run(main())
    assert log == [("a", hit(1)), ("b", hit(1)), ("a", hit(2)), ("c", hit(1)), ("c", hit(2))]


def test_emit_from_many_threads() -> None:
    lock = threading.Lock()
    counts: dict[str, int] = {}

    class Counting(EventProcessor):
        def on_event(self, event: Event) -> None:
            with lock:
                counts[event.span_id] = counts.get(event.span_id, 0) + 1

    log: list[tuple[str, Event]] = []
    async_ = AsyncRecorder(log)
    dispatcher = EventDispatcher([Counting(), Boom(), async_], async_mode=True)
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(200):
            dispatcher.emit_threadsafe(CacheHitEvent("r", f"{t}-{i}", None, "n", 0.0))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counts) == 1600 and set(counts.values()) == {1}
    assert processor_error_counts() == {"Boom": 1600}
    assert len(dispatcher.pending) == 1600
    asyncio.run(dispatcher.drain())
    assert len(log) == 1600
    for t in range(8):  # each thread's events stay in its order
        mine = [e.span_id for _, e in log if e.span_id.startswith(f"{t}-")]
        assert mine == [f"{t}-{i}" for i in range(200)]


def test_default_processors_roundtrip() -> None:
    a, b = Recorder(), Recorder()
    assert get_default_processors() == ()
    try:
        set_default_processors([a, b, a])
        assert get_default_processors() == (a, b)
        with pytest.raises(GraphConfigError):
            set_default_processors(["nope"])  # type: ignore[list-item]  # misuse under test
        assert get_default_processors() == (a, b)
    finally:
        clear_default_processors()
    assert get_default_processors() == ()


# ------------------------------------------------------------------------------------ node_scope
class _Scoped(EventProcessor):
    """A processor whose node_scope records enter/exit, optionally failing one of them."""

    def __init__(self, log: list[str], name: str, fail: str = "") -> None:
        self.log, self.name, self.fail = log, name, fail

    def on_event(self, event: Event) -> None:
        pass

    def node_scope(self, event: NodeStartEvent) -> Any:
        processor = self

        class Scope:
            def __enter__(self) -> None:
                processor.log.append(f"enter {processor.name}")
                if processor.fail == "enter":
                    raise RuntimeError("enter bug")

            def __exit__(self, *exc: object) -> None:
                processor.log.append(f"exit {processor.name}")
                if processor.fail == "exit":
                    raise RuntimeError("exit bug")

        return Scope()


def _start() -> NodeStartEvent:
    return NodeStartEvent("r", "s", None, "n", {}, 0.0)


def test_scopes_exit_innermost_first() -> None:
    log: list[str] = []
    dispatcher = EventDispatcher([_Scoped(log, "a"), _Scoped(log, "b")])
    scope = dispatcher.open_scope(_start())
    assert scope is not None
    scope.close()
    assert log == ["enter a", "enter b", "exit b", "exit a"]


@pytest.mark.parametrize("fail", ["enter", "exit"])
@pytest.mark.parametrize("count", [1, 2])
def test_a_failing_scope_is_logged_and_counted_and_the_others_still_run(
    fail: str, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []
    processors = [_Scoped(log, "bad", fail)] + [_Scoped(log, "ok")] * (count - 1)
    dispatcher = EventDispatcher(processors)
    with caplog.at_level(logging.ERROR, logger="graphflow"):
        scope = dispatcher.open_scope(_start())
        if scope is not None:
            scope.close()
    assert processor_error_counts() == {"_Scoped": 1}
    assert "node_scope" in caplog.records[0].getMessage()
    if count == 2:
        assert "enter ok" in log and "exit ok" in log


def test_strict_scope_failure_reraises_after_exiting_what_was_entered() -> None:
    log: list[str] = []
    dispatcher = EventDispatcher([_Scoped(log, "a"), _Scoped(log, "b", "enter")], strict=True)
    with pytest.raises(RuntimeError, match="enter bug"):
        dispatcher.open_scope(_start())
    assert log == ["enter a", "enter b", "exit a"]
