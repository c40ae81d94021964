"""Gates, cycles, fixed points, loop limits, conflicts and the no-glitch rule, on both runners."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import (
    END,
    ConflictError,
    Graph,
    GraphflowError,
    InfiniteLoopError,
    NodeStartEvent,
    RouteError,
    RunEndEvent,
    RunStatus,
    ifelse,
    node,
    route,
)

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


def _branches(calls: list[str]) -> tuple[Any, Any]:
    @node(output_name="left_out")
    def left(x: int) -> str:
        calls.append("left")
        return f"L{x}"

    @node(output_name="right_out")
    def right(x: int) -> str:
        calls.append("right")
        return f"R{x}"

    return left, right


def test_route_runs_the_chosen_branch_only(harness: Any) -> None:
    calls: list[str] = []
    left, right = _branches(calls)

    @route(targets=["left", "right"])
    def pick(x: int) -> str:
        return "left" if x > 0 else "right"

    graph = Graph([pick, left, right])
    assert harness.run(graph, {"x": 1}) == {"left_out": "L1"}
    assert calls == ["left"]
    calls.clear()
    assert harness.run(graph, {"x": -1}) == {"right_out": "R-1"}
    assert calls == ["right"]


def test_ifelse_runs_when_true_or_when_false(harness: Any) -> None:
    calls: list[str] = []
    left, right = _branches(calls)

    @ifelse(when_true="left", when_false="right")
    def positive(x: int) -> bool:
        return x > 0

    graph = Graph([left, right, positive])
    assert harness.run(graph, {"x": 2}) == {"left_out": "L2"}
    assert harness.run(graph, {"x": 0}) == {"right_out": "R0"}
    assert calls == ["left", "right"]


def test_end_stops_the_path(harness: Any) -> None:
    calls: list[str] = []
    left, _ = _branches(calls)

    @route(targets=["left", END])
    def maybe(x: int) -> Any:
        return END if x < 0 else "left"

    graph = Graph([maybe, left])
    assert harness.run(graph, {"x": -5}) == {}
    assert calls == []
    assert harness.run(graph, {"x": 5}) == {"left_out": "L5"}


def test_ifelse_target_may_be_end(harness: Any) -> None:
    calls: list[str] = []
    left, _ = _branches(calls)

    @ifelse(when_true="left", when_false=END)
    def go(x: int) -> bool:
        return x > 0

    assert harness.run(Graph([go, left]), {"x": 0}) == {}
    assert calls == []


def test_route_returning_none_uses_the_fallback(harness: Any) -> None:
    calls: list[str] = []
    left, right = _branches(calls)

    @route(targets=["left"], fallback="right")
    def unsure(x: int) -> Any:
        return None

    assert harness.run(Graph([unsure, left, right]), {"x": 3}) == {"right_out": "R3"}
    assert calls == ["right"]


def test_route_returning_none_without_fallback_ends_the_path(harness: Any) -> None:
    calls: list[str] = []
    left, right = _branches(calls)

    @route(targets=["left", "right"])
    def unsure(x: int) -> Any:
        return None

    assert harness.run(Graph([unsure, left, right]), {"x": 3}) == {}
    assert calls == []


def test_route_returning_an_unknown_target_raises_with_did_you_mean(harness: Any) -> None:
    calls: list[str] = []
    left, right = _branches(calls)

    @route(targets=["left", "right"])
    def typo(x: int) -> str:
        return "lefft"

    with pytest.raises(RouteError) as info:
        harness.run(Graph([typo, left, right]), {"x": 3})
    assert isinstance(info.value, GraphflowError)
    assert "lefft" in str(info.value)
    assert "Did you mean 'left'" in str(info.value)
    assert calls == []


def _counter_loop(calls: list[int], always: bool = False) -> Graph:
    @node(output_name="count")
    def increment(count: int) -> int:
        calls.append(count)
        return count + 1

    @route(targets=["increment", END])
    def check(count: int, limit: int) -> Any:
        return "increment" if always or count < limit else END

    return Graph([increment, check], name="counter")


def test_gated_cycle_counts_up_to_the_limit(harness: Any) -> None:
    calls: list[int] = []
    out = harness.run(_counter_loop(calls), {"count": 0, "limit": 5}, max_iterations=GUARD)
    assert out == {"count": 5}
    assert calls == [0, 1, 2, 3, 4]


def test_gateless_cycle_runs_to_a_fixed_point(harness: Any) -> None:
    seen: list[int] = []

    @node(output_name="h")
    def halve(x: int) -> int:
        seen.append(x)
        return x // 2

    @node(output_name="x")
    def at_least_one(h: int) -> int:
        return max(h, 1)

    out = harness.run(Graph([halve, at_least_one]), {"x": 40}, max_iterations=GUARD)
    assert out == {"h": 0, "x": 1}
    assert seen == [40, 20, 10, 5, 2, 1]


def test_fixed_point_cycle_normalizes_text_until_stable(harness: Any) -> None:
    @node(output_name="collapsed")
    def collapse(text: str) -> str:
        return text.replace("  ", " ")

    @node(output_name="text")
    def strip(collapsed: str) -> str:
        return collapsed.strip()

    out = harness.run(
        Graph([collapse, strip]),
        {"text": "  a        b  "},
        select=["text"],
        max_iterations=GUARD,
    )
    assert out == {"text": "a b"}


def test_max_iterations_raises_and_flushes_processors(harness: Any, recorder: Any) -> None:
    calls: list[int] = []
    runner = harness.make(event_processors=[recorder])
    with pytest.raises(InfiniteLoopError) as info:
        harness.run(
            _counter_loop(calls, always=True),
            {"count": 0, "limit": 0},
            runner=runner,
            max_iterations=10,
        )
    assert isinstance(info.value, GraphflowError)
    assert 0 < len(calls) <= 10
    assert recorder.flushes >= 1
    last = recorder.events[-1]
    assert isinstance(last, RunEndEvent)
    assert last.status == RunStatus.ERROR
    assert last.error is info.value


def test_max_iterations_none_means_no_limit(harness: Any) -> None:
    calls: list[int] = []
    out = harness.run(_counter_loop(calls), {"count": 0, "limit": 200}, max_iterations=None)
    assert out == {"count": 200}


def test_multi_turn_loop_runs_the_target_before_any_decision(harness: Any, recorder: Any) -> None:
    @node(output_name="messages")
    def respond(messages: list[str]) -> list[str]:
        return [*messages, f"reply{len(messages)}"]

    @route(targets=["respond", END])
    def more(messages: list[str]) -> Any:
        return "respond" if len(messages) < 4 else END

    runner = harness.make(event_processors=[recorder])
    out = harness.run(
        Graph([more, respond]), {"messages": ["hi"]}, runner=runner, max_iterations=GUARD
    )
    assert out == {"messages": ["hi", "reply1", "reply2", "reply3"]}
    starts = [e.node_name for e in recorder.events if isinstance(e, NodeStartEvent)]
    assert starts == ["respond", "more", "respond", "more", "respond", "more"]


def test_a_target_chosen_again_runs_again_with_unchanged_inputs(harness: Any) -> None:
    work_calls: list[str] = []

    @node(output_name="i")
    def step(i: int) -> int:
        return i + 1

    @route(targets=["step", END])
    def loop(i: int) -> Any:
        return "step" if i < 3 else END

    @ifelse(when_true="work", when_false=END)
    def again(i: int) -> bool:
        return True

    @node
    def work(task: str) -> None:
        work_calls.append(task)

    graph = Graph([step, loop, again, work])
    out = harness.run(graph, {"i": 0, "task": "t"}, select=["i"], max_iterations=GUARD)
    assert out == {"i": 3}
    # again decides "work" once per new value of i (1, 2, 3): work runs once per choice
    assert work_calls == ["t", "t", "t"]


def test_two_ready_producers_of_one_name_raise_conflict_before_running(
    harness: Any,
) -> None:
    calls: list[str] = []

    @node(output_name="draft")
    def writer_a(topic: str) -> str:
        calls.append("writer_a")
        return f"A:{topic}"

    @node(output_name="draft")
    def writer_b(topic: str) -> str:
        calls.append("writer_b")
        return f"B:{topic}"

    @route(targets=["writer_a", "writer_b", END])
    def review(draft: str) -> Any:
        return END

    # Both writers are exclusive targets of one gate that depends on their output, so the
    # graph is valid, and both may run before the first decision: a runtime conflict.
    graph = Graph([writer_a, writer_b, review])
    with pytest.raises(ConflictError) as info:
        harness.run(graph, {"topic": "t"})
    message = str(info.value)
    assert "writer_a" in message
    assert "writer_b" in message
    assert "draft" in message
    assert "topic" in message
    assert calls == []


def test_no_glitches_a_join_runs_once_per_change_on_fresh_values(harness: Any) -> None:
    joined: list[tuple[int, int]] = []
    runs = {"source": 0}

    @node(output_name="v")
    def source(n: int) -> int:
        runs["source"] += 1
        return n * 10

    @node(output_name="p")
    def long_a(v: int) -> int:
        return v + 1

    @node(output_name="p2")
    def long_b(p: int) -> int:
        return p + 100

    @node(output_name="q")
    def short(v: int) -> int:
        return v + 2

    @node(output_name="total")
    def join(p2: int, q: int) -> int:
        joined.append((p2, q))
        return p2 + q

    @node(output_name="n")
    def bump(n: int) -> int:
        return n + 1

    @route(targets=["bump", END])
    def more(total: int) -> Any:
        return "bump" if total < 250 else END

    # listed consumers-first, so graph order alone would run join on stale values
    graph = Graph([join, short, long_b, long_a, source, bump, more])
    out = harness.run(graph, {"n": 1}, select=["total"], max_iterations=GUARD)
    assert out["total"] >= 250
    # every pair comes from one value of v: p2 = v + 101 and q = v + 2
    assert all(p2 - q == 99 for p2, q in joined), joined
    # one join per new v, none on a half-updated diamond
    assert len(joined) == runs["source"] >= 2
    assert len(set(joined)) == len(joined)


def test_unchosen_target_waits_for_the_next_decision(harness: Any) -> None:
    calls: list[str] = []

    @node(output_name="i")
    def step(i: int) -> int:
        return i + 1

    @route(targets=["step", END])
    def loop(i: int) -> Any:
        return "step" if i < 3 else END

    @route(targets=["evens", "odds"])
    def pick(i: int) -> str:
        return "evens" if i % 2 == 0 else "odds"

    @node
    def evens(label: str) -> None:
        calls.append(f"evens:{label}")

    @node
    def odds(label: str) -> None:
        calls.append(f"odds:{label}")

    graph = Graph([step, loop, pick, evens, odds])
    out = harness.run(graph, {"i": 0, "label": "L"}, select=["i"], max_iterations=GUARD)
    assert out == {"i": 3}
    # pick decides on i = 1, 2, 3; each choice runs its target once, the other waits
    assert calls == ["odds:L", "evens:L", "odds:L"]


def test_exclusive_producers_of_one_name_feed_one_consumer(harness: Any) -> None:
    @route(targets=["formal", "casual"])
    def tone(name: str, polite: bool) -> str:
        return "formal" if polite else "casual"

    @node(output_name="greeting")
    def formal(name: str) -> str:
        return f"Good day, {name}"

    @node(output_name="greeting")
    def casual(name: str) -> str:
        return f"hey {name}"

    @node(output_name="loud")
    def shout(greeting: str) -> str:
        return greeting.upper()

    graph = Graph([tone, formal, casual, shout])
    assert harness.run(graph, {"name": "ada", "polite": True}) == {"loud": "GOOD DAY, ADA"}
    assert harness.run(graph, {"name": "ada", "polite": False}) == {"loud": "HEY ADA"}
