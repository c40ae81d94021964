"""Context: node spans are current inside node bodies; runs join ambient spans; no crossing.

The autouse guard in conftest.py fails any test here that logs "Failed to detach context".
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from graphflow import AsyncRunner, Graph, SyncRunner, node
from graphflow.testing import CapturedTraces, SpanView


def _child_named(view: SpanView, name: str) -> SpanView:
    found = [c for c in view.children if c.name == name]
    assert len(found) == 1, f"{view.name} has children {[c.name for c in view.children]}"
    return found[0]


# ------------------------------------------------------------------------------------ node_scope
def test_span_made_in_a_sync_node_body_is_a_child_of_the_node_span(traced: Any) -> None:
    tracer = traced.captured.tracer

    @node(output_name="y")
    def call_api(x: int) -> int:
        with tracer.start_as_current_span("GET /api"):
            return x + 1

    traced.run(Graph([call_api], name="api"), {"x": 1})
    traced.captured.assert_tree("run api\n└── node call_api\n    └── GET /api")
    traced.check_invariants()


def test_span_made_in_an_async_node_body_is_a_child_of_the_node_span(
    captured: CapturedTraces,
) -> None:
    tracer = captured.tracer

    @node(output_name="y")
    async def call_api(x: int) -> int:
        with tracer.start_as_current_span("GET /api"):
            await asyncio.sleep(0)
            return x + 1

    asyncio.run(AsyncRunner(event_processors=captured.processors).run(Graph([call_api]), {"x": 1}))
    captured.assert_tree("run\n└── node call_api\n    └── GET /api")


def test_concurrent_async_nodes_each_own_their_inner_spans(captured: CapturedTraces) -> None:
    tracer = captured.tracer

    def worker(name: str) -> Any:
        @node(output_name=f"out_{name}", name=name)
        async def work(x: int) -> str:
            for step in range(3):
                with tracer.start_as_current_span(f"{name} step") as span:
                    span.set_attribute("step", step)
                    await asyncio.sleep(random.random() / 500)
            return name

        return work

    graph = Graph([worker("a"), worker("b"), worker("c")], name="par")
    runner = AsyncRunner(event_processors=captured.processors)

    async def main() -> None:
        await asyncio.gather(*(runner.run(graph, {"x": i}) for i in range(10)))

    asyncio.run(main())
    for view in captured.all(role="node"):
        assert [c.name for c in view.children] == [f"{view.name[5:]} step"] * 3
    assert len(captured.all(role="run")) == 10
    captured.assert_all_ended()
    captured.assert_no_orphans()


def test_spans_made_in_generator_node_bodies_nest_under_the_node(traced: Any) -> None:
    tracer = traced.captured.tracer

    @node(output_name="text")
    def speak(x: int) -> Any:
        for part in ("a", "b"):
            with tracer.start_as_current_span("token"):
                yield part

    traced.run(Graph([speak], name="gen"), {"x": 1})
    traced.captured.assert_tree("run gen\n└── node speak\n    ├── token\n    └── token")


def test_spans_made_in_async_generator_bodies_nest_under_the_node(
    captured: CapturedTraces,
) -> None:
    tracer = captured.tracer

    @node(output_name="text")
    async def speak(x: int) -> Any:
        for part in ("a", "b", "c"):
            with tracer.start_as_current_span("token"):
                await asyncio.sleep(0)
                yield part

    @node(output_name="other")
    async def sibling(x: int) -> int:
        with tracer.start_as_current_span("side"):
            await asyncio.sleep(0)
            return x

    runner = AsyncRunner(event_processors=captured.processors)
    asyncio.run(runner.run(Graph([speak, sibling], name="gen"), {"x": 1}))
    captured.assert_tree(
        """
        run gen
        ├── node speak
        │   ├── token
        │   ├── token
        │   └── token
        └── node sibling
            └── side
        """
    )


def test_node_span_is_current_in_a_sync_graph_nested_in_an_async_runner(
    captured: CapturedTraces,
) -> None:
    tracer = captured.tracer

    @node(output_name="y")
    def in_thread(x: int) -> int:
        with tracer.start_as_current_span("work"):
            return x

    inner = Graph([in_thread], name="inner").as_node(runner=SyncRunner())
    runner = AsyncRunner(event_processors=captured.processors)
    asyncio.run(runner.run(Graph([inner], name="outer"), {"x": 1}))
    captured.assert_tree("run outer\n└── node inner\n    └── node in_thread\n        └── work")


def test_node_span_is_current_in_an_async_graph_nested_in_a_sync_runner(
    captured: CapturedTraces,
) -> None:
    tracer = captured.tracer

    @node(output_name="y")
    async def on_loop(x: int) -> int:
        with tracer.start_as_current_span("work"):
            await asyncio.sleep(0)
            return x

    inner = Graph([on_loop], name="inner").as_node(runner=AsyncRunner())
    SyncRunner(event_processors=captured.processors).run(Graph([inner], name="outer"), {"x": 1})
    captured.assert_tree("run outer\n└── node inner\n    └── node on_loop\n        └── work")


def test_context_after_a_node_is_restored(traced: Any) -> None:
    from opentelemetry import trace

    seen: list[Any] = []

    @node(output_name="y")
    def look(x: int) -> int:
        seen.append(trace.get_current_span())
        return x

    before = trace.get_current_span()
    traced.run(Graph([look]), {"x": 1})
    assert trace.get_current_span() is before
    node_span = traced.captured.one(node="look").span
    assert seen[0].get_span_context().span_id == node_span.context.span_id


# ------------------------------------------------------------------------------------ ambient
def test_run_started_inside_an_active_span_becomes_its_child(traced: Any) -> None:
    with traced.captured.tracer.start_as_current_span("POST /ingest"):
        traced.run(Graph([_double], name="job"), {"x": 1})
    traced.captured.assert_tree("POST /ingest\n└── run job\n    └── node _double")
    traced.check_invariants()


def test_map_started_inside_an_active_span_becomes_its_child(traced: Any) -> None:
    with traced.captured.tracer.start_as_current_span("batch"):
        traced.map(Graph([_double], name="job"), {"x": [1, 2]}, map_over="x")
    traced.captured.assert_tree(
        """
        batch
        └── map job
            ├── run job
            │   └── node _double
            └── run job
                └── node _double
        """
    )


def test_run_started_inside_a_node_nests_under_that_node(traced: Any) -> None:
    inner_runner = SyncRunner(event_processors=traced.captured.processors)

    @node(output_name="y")
    def orchestrate(x: int) -> int:
        return inner_runner.run(Graph([_double], name="child"), {"x": x})["doubled"]

    traced.run(Graph([orchestrate], name="parent"), {"x": 2})
    traced.captured.assert_tree(
        "run parent\n└── node orchestrate\n    └── run child\n        └── node _double"
    )


def test_runs_without_an_ambient_span_are_separate_traces(traced: Any) -> None:
    traced.run(Graph([_double], name="a"), {"x": 1})
    traced.run(Graph([_double], name="a"), {"x": 2})
    runs = traced.captured.all(role="run")
    assert len({r.span.context.trace_id for r in runs}) == 2
    assert all(r.span.parent is None for r in runs)


@node(output_name="doubled")
def _double(x: int) -> int:
    return x * 2


# ------------------------------------------------------------------------------------ load
RUNS = 1000  # the telemetry issue's load: 1,000 concurrent async runs


def test_1000_concurrent_async_runs_are_1000_complete_separate_trees(
    captured: CapturedTraces,
) -> None:
    tracer = captured.tracer

    @node(output_name="text")
    async def fetch(i: int) -> str:
        await asyncio.sleep(random.random() / 200)
        return f"doc{i}"

    @node(output_name="n")
    async def embed(text: str, i: int) -> int:
        with tracer.start_as_current_span("model call") as span:
            span.set_attribute("i", i)
            await asyncio.sleep(random.random() / 200)
        return len(text)

    @node(output_name="tag")
    def tag(i: int) -> str:
        return f"t{i}"

    inner = Graph([embed], name="analyze").as_node()
    graph = Graph([fetch, inner, tag], name="load")
    runner = AsyncRunner(event_processors=captured.processors)

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(runner.run(graph, {"i": i}, session_id=f"s{i}") for i in range(RUNS))
        )

    results = asyncio.run(main())
    assert [r.outputs["tag"] for r in results] == [f"t{i}" for i in range(RUNS)]
    captured.assert_all_ended()
    captured.assert_no_orphans()
    roots = captured.roots()
    assert len(roots) == RUNS
    assert len({r.span.context.trace_id for r in roots}) == RUNS
    for root in roots:
        assert root.role == "run"
        i = int(root.attributes["graphflow.session.id"][1:])
        assert sorted(c.name for c in root.children) == ["node analyze", "node fetch", "node tag"]
        analyze = _child_named(root, "node analyze")
        call = _child_named(_child_named(analyze, "node embed"), "model call")
        assert call.attributes["i"] == i
        run_id = root.attributes["graphflow.run.id"]
        for view in (analyze, *analyze.children, *root.children):
            assert view.attributes["graphflow.run.id"] == run_id
            assert view.span.context.trace_id == root.span.context.trace_id
    assert captured.otel._spans == {}  # nothing left open inside the processor
    assert captured.otel._runs == {}
