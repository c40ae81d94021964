"""Node caching inside runs, on both runners: hits, misses, events, persistence."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from graphflow import CacheHitEvent, DiskCache, Graph, MemoryCache, NodeEndEvent, node


def _cached_node(calls: list[Any]) -> Any:
    @node(output_name="y", cache=True)
    def slow_square(x: Any) -> Any:
        calls.append(x)
        return x * x if isinstance(x, int) else "done"

    return slow_square


def test_second_run_with_same_inputs_is_a_cache_hit(harness: Any) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    runner = harness.make(cache=MemoryCache())
    assert harness.run(graph, {"x": 3}, runner=runner) == {"y": 9}
    assert harness.run(graph, {"x": 3}, runner=runner) == {"y": 9}
    assert calls == [3]
    assert harness.run(graph, {"x": 4}, runner=runner) == {"y": 16}
    assert calls == [3, 4]


def test_cache_hit_emits_cache_hit_and_cached_node_end(harness: Any, recorder: Any) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    runner = harness.make(cache=MemoryCache(), event_processors=[recorder])
    harness.run(graph, {"x": 5}, runner=runner)
    first_ends = [e for e in recorder.events if isinstance(e, NodeEndEvent)]
    assert [e.cached for e in first_ends] == [False]
    assert not any(isinstance(e, CacheHitEvent) for e in recorder.events)
    recorder.events.clear()
    harness.run(graph, {"x": 5}, runner=runner)
    assert recorder.names() == [
        "RunStartEvent",
        "NodeStartEvent:slow_square",
        "CacheHitEvent:slow_square",
        "NodeEndEvent:slow_square",
        "RunEndEvent",
    ]
    hits = [e for e in recorder.events if isinstance(e, CacheHitEvent)]
    ends = [e for e in recorder.events if isinstance(e, NodeEndEvent)]
    assert len(hits) == 1
    assert hits[0].node_name == "slow_square"
    assert [e.cached for e in ends] == [True]
    assert ends[0].outputs == {"y": 25}
    assert hits[0].span_id == ends[0].span_id
    assert calls == [5]


def test_unpicklable_input_is_a_miss_not_an_error(harness: Any) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    runner = harness.make(cache=MemoryCache())
    lock = threading.Lock()
    assert harness.run(graph, {"x": lock}, runner=runner) == {"y": "done"}
    assert harness.run(graph, {"x": lock}, runner=runner) == {"y": "done"}
    assert calls == [lock, lock]


def test_lambda_input_is_a_miss_not_an_error(harness: Any) -> None:
    calls: list[Any] = []

    @node(output_name="y", cache=True)
    def apply(f: Any, x: int) -> int:
        calls.append(x)
        return f(x)

    graph = Graph([apply])
    runner = harness.make(cache=MemoryCache())
    fn = lambda v: v + 1  # noqa: E731
    assert harness.run(graph, {"f": fn, "x": 1}, runner=runner) == {"y": 2}
    assert harness.run(graph, {"f": fn, "x": 1}, runner=runner) == {"y": 2}
    assert calls == [1, 1]


def test_unpicklable_output_does_not_break_the_run(harness: Any) -> None:
    calls: list[int] = []

    @node(output_name="y", cache=True)
    def make_lock(x: int) -> Any:
        calls.append(x)
        return threading.Lock()

    runner = harness.make(cache=MemoryCache())
    assert "y" in harness.run(Graph([make_lock]), {"x": 1}, runner=runner)


def test_disk_cache_is_shared_by_two_runner_instances(harness: Any, tmp_path: Path) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    with DiskCache(tmp_path / "cache") as cache:
        assert harness.run(graph, {"x": 7}, runner=harness.make(cache=cache)) == {"y": 49}
    with DiskCache(tmp_path / "cache") as cache:
        assert harness.run(graph, {"x": 7}, runner=harness.make(cache=cache)) == {"y": 49}
    assert calls == [7]


def test_unpicklable_output_on_disk_cache_does_not_break_the_run(
    harness: Any, tmp_path: Path
) -> None:
    calls: list[int] = []

    @node(output_name="y", cache=True)
    def make_lock(x: int) -> Any:
        calls.append(x)
        return threading.Lock()

    with DiskCache(tmp_path / "cache") as cache:
        runner = harness.make(cache=cache)
        assert "y" in harness.run(Graph([make_lock]), {"x": 1}, runner=runner)
        assert "y" in harness.run(Graph([make_lock]), {"x": 1}, runner=runner)
    assert calls == [1, 1]


def test_nodes_without_cache_true_are_never_cached(harness: Any, recorder: Any) -> None:
    calls: list[int] = []

    @node(output_name="y")
    def plain(x: int) -> int:
        calls.append(x)
        return x + 1

    graph = Graph([plain])
    runner = harness.make(cache=MemoryCache(), event_processors=[recorder])
    harness.run(graph, {"x": 1}, runner=runner)
    harness.run(graph, {"x": 1}, runner=runner)
    assert calls == [1, 1]
    assert not any(isinstance(e, CacheHitEvent) for e in recorder.events)
    assert all(not e.cached for e in recorder.events if isinstance(e, NodeEndEvent))


def test_cache_true_without_a_cache_backend_always_runs(harness: Any) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    runner = harness.make()
    harness.run(graph, {"x": 2}, runner=runner)
    harness.run(graph, {"x": 2}, runner=runner)
    assert calls == [2, 2]


def test_cache_is_used_inside_map_items(harness: Any) -> None:
    calls: list[Any] = []
    graph = Graph([_cached_node(calls)])
    runner = harness.make(cache=MemoryCache())
    out = harness.map(graph, {"x": [1, 2, 1, 2]}, map_over="x", runner=runner)
    assert out == [{"y": 1}, {"y": 4}, {"y": 1}, {"y": 4}]
    assert sorted(set(calls)) == [1, 2]
    before = len(calls)  # AsyncRunner's items run concurrently: repeats may all miss
    assert harness.map(graph, {"x": [2, 1]}, map_over="x", runner=runner) == [
        {"y": 4},
        {"y": 1},
    ]
    assert len(calls) == before


def test_cache_key_depends_on_the_node_definition(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="y", cache=True)
    def first(x: int) -> int:
        calls.append("first")
        return x + 1

    @node(output_name="y", cache=True)
    def second(x: int) -> int:
        calls.append("second")
        return x + 2

    runner = harness.make(cache=MemoryCache())
    assert harness.run(Graph([first]), {"x": 1}, runner=runner) == {"y": 2}
    assert harness.run(Graph([second]), {"x": 1}, runner=runner) == {"y": 3}
    assert calls == ["first", "second"]
