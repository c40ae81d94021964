"""Span trees of successful runs, on both runners: names, nesting, roles and attributes."""

from __future__ import annotations

import asyncio
from typing import Any

from graphflow import END, AsyncRunner, Graph, MemoryCache, SyncRunner, ifelse, node, route


@node(output_name="text")
def fetch(url: str) -> str:
    return f"<{url}>"


@node(output_name="chunks")
def split(text: str) -> list[str]:
    return [text[:2], text[2:]]


@node(output_name="vectors")
def embed(chunks: list[str]) -> list[int]:
    return [len(c) for c in chunks]


@node(output_name="score")
def score(vectors: list[int]) -> int:
    return sum(vectors)


def test_dag_is_one_run_span_with_one_span_per_node(traced: Any) -> None:
    graph = Graph([fetch, split, embed, score], name="pipeline")
    assert traced.run(graph, {"url": "a"}) == {"score": 3}
    traced.captured.assert_tree(
        """
        run pipeline  role=run graphflow.graph.name=pipeline
        ├── node fetch  role=node graphflow.node.kind=function graphflow.node.cached=false
        ├── node split
        ├── node embed
        └── node score
        """
    )
    run = traced.captured.one(role="run")
    assert run.attributes["graphflow.runner"] == traced.kind
    assert run.attributes["graphflow.run.status"] == "completed"
    assert run.attributes["graphflow.run.iterations"] == 4
    assert run.status == "UNSET"
    assert run.parent is None
    fetch_span = traced.captured.one(node="fetch")
    assert fetch_span.parent is not None and fetch_span.parent.name == "run pipeline"
    assert fetch_span.attributes["graphflow.run.id"] == run.attributes["graphflow.run.id"]
    assert fetch_span.attributes["graphflow.graph.name"] == "pipeline"
    assert len(fetch_span.attributes["graphflow.event.span_id"]) == 16
    assert {s.span.kind.name for s in traced.captured.all()} == {"INTERNAL"}
    traced.check_invariants()


def test_unnamed_graph_run_span_is_just_run(traced: Any) -> None:
    traced.run(Graph([fetch]), {"url": "a"})
    traced.captured.assert_tree("run\n  node fetch")
    assert "graphflow.graph.name" not in traced.captured.one(name="run").attributes


def test_fan_out_nodes_are_siblings_under_the_run(traced: Any) -> None:
    @node(output_name="left")
    def branch_a(text: str) -> str:
        return text + "a"

    @node(output_name="right")
    def branch_b(text: str) -> str:
        return text + "b"

    @node(output_name="joined")
    def join(left: str, right: str) -> str:
        return left + right

    traced.run(Graph([fetch, branch_a, branch_b, join], name="fan"), {"url": "u"})
    traced.captured.assert_tree(
        """
        run fan
        ├── node fetch
        ├── node branch_a
        ├── node branch_b
        └── node join
        """
    )
    traced.check_invariants()


def test_route_gate_records_its_decision(traced: Any) -> None:
    @route(targets=["publish", "review"])
    def gate(score: int) -> str:
        return "publish" if score > 2 else "review"

    @node(output_name="done")
    def publish(score: int) -> str:
        return "published"

    @node(output_name="held")
    def review(score: int) -> str:
        return "held"

    graph = Graph([gate, publish, review], name="gated")
    assert traced.run(graph, {"score": 3}) == {"done": "published"}
    traced.captured.assert_tree(
        """
        run gated
        ├── node gate  graphflow.node.kind=route graphflow.route.target=publish
        └── node publish
        """
    )
    gate_span = traced.captured.one(node="gate")
    assert gate_span.events == [
        {"name": "graphflow.route.decision", "attributes": {"graphflow.route.target": "publish"}}
    ]


def test_ifelse_gate_to_end_records_end(traced: Any) -> None:
    @ifelse(when_true="fetch", when_false=END)
    def wanted(flag: bool) -> bool:
        return flag

    traced.run(Graph([wanted, fetch], name="maybe"), {"flag": False, "url": "u"})
    traced.captured.assert_tree(
        "run maybe\n└── node wanted  graphflow.node.kind=ifelse graphflow.route.target=END"
    )


def test_gated_cycle_has_one_span_per_pass(traced: Any) -> None:
    @node(output_name="count")
    def step(count: int) -> int:
        return count + 1

    @route(targets=["step", END])
    def again(count: int) -> Any:
        return "step" if count < 3 else END

    graph = Graph([step, again], name="loop")
    assert traced.run(graph, {"count": 0}) == {"count": 3}
    traced.captured.assert_tree(
        """
        run loop
        ├── node step
        ├── node again  graphflow.route.target=step
        ├── node step
        ├── node again  graphflow.route.target=step
        ├── node step
        └── node again  graphflow.route.target=END
        """
    )
    steps = traced.captured.all(node="step")
    assert len({s.attributes["graphflow.event.span_id"] for s in steps}) == 3
    traced.check_invariants()


def test_nested_graph_is_one_subgraph_span_holding_its_nodes(traced: Any) -> None:
    analyze = Graph([embed, score], name="analyze")
    graph = Graph([fetch, split, analyze.as_node()], name="pipeline")
    traced.run(graph, {"url": "ab"})
    traced.captured.assert_tree(
        """
        run pipeline
        ├── node fetch
        ├── node split
        └── node analyze  role=subgraph graphflow.node.kind=graph
            ├── node embed  role=node graphflow.graph.name=pipeline
            └── node score
        """
    )
    assert len(traced.captured.all(role="subgraph")) == 1
    traced.check_invariants()


def test_graph_nested_two_levels_deep(traced: Any) -> None:
    level2 = Graph([score], name="level2")
    level1 = Graph([embed, level2.as_node()], name="level1")
    traced.run(Graph([split, level1.as_node()], name="top"), {"text": "abcd"})
    traced.captured.assert_tree(
        """
        run top
        ├── node split
        └── node level1  role=subgraph
            ├── node embed
            └── node level2  role=subgraph
                └── node score
        """
    )


def test_mapped_graph_node_has_one_subgraph_span(traced: Any) -> None:
    inner = Graph([fetch], name="one").as_node(name="each").map_over("url")
    traced.run(Graph([inner], name="outer"), {"url": ["a", "b"]})
    traced.captured.assert_tree(
        """
        run outer
        └── node each  role=subgraph
            ├── node fetch
            └── node fetch
        """
    )


def test_async_graph_nested_in_a_sync_runner_stays_one_tree(captured: Any) -> None:
    @node(output_name="vectors")
    async def embed_async(chunks: list[str]) -> list[int]:
        await asyncio.sleep(0)
        return [len(c) for c in chunks]

    inner = Graph([embed_async, score], name="analyze").as_node(runner=AsyncRunner())
    runner = SyncRunner(event_processors=captured.processors)
    assert runner.run(Graph([split, inner], name="mixed"), {"text": "abc"})["score"] == 3
    captured.assert_tree(
        """
        run mixed  graphflow.runner=sync
        ├── node split
        └── node analyze  role=subgraph
            ├── node embed_async
            └── node score
        """
    )
    captured.assert_all_ended()
    captured.assert_no_orphans()


def test_sync_graph_nested_in_an_async_runner_stays_one_tree(captured: Any) -> None:
    inner = Graph([embed, score], name="analyze").as_node(runner=SyncRunner())
    runner = AsyncRunner(event_processors=captured.processors)
    result = asyncio.run(runner.run(Graph([split, inner], name="mixed"), {"text": "abc"}))
    assert result.outputs["score"] == 3
    captured.assert_tree(
        """
        run mixed  graphflow.runner=async
        ├── node split
        └── node analyze
            ├── node embed
            └── node score
        """
    )


def test_map_is_a_map_span_over_item_runs(traced: Any) -> None:
    graph = Graph([fetch, split], name="docs")
    traced.map(graph, {"url": ["a", "b", "c"]}, map_over="url")
    traced.captured.assert_tree(
        """
        map docs  role=map graphflow.map.size=3 graphflow.run.status=completed
        ├── run docs  graphflow.map.item_index=0
        │   ├── node fetch
        │   └── node split
        ├── run docs  graphflow.map.item_index=1
        │   ├── node fetch
        │   └── node split
        └── run docs  graphflow.map.item_index=2
            ├── node fetch
            └── node split
        """
    )
    runs = traced.captured.all(role="run")
    assert len({r.attributes["graphflow.run.id"] for r in runs}) == 3
    map_span = traced.captured.one(role="map")
    assert all(r.parent == map_span for r in runs)
    traced.check_invariants()


def test_cache_hit_marks_the_node_cached_with_an_event(traced: Any) -> None:
    @node(output_name="vectors", cache=True)
    def cached_embed(chunks: list[str]) -> list[int]:
        return [len(c) for c in chunks]

    runner = traced.make(cache=MemoryCache())
    graph = Graph([split, cached_embed], name="rag")
    traced.run(graph, {"text": "abcd"}, runner=runner)
    traced.run(graph, {"text": "abcd"}, runner=runner)
    traced.captured.assert_tree(
        """
        run rag
        ├── node split  graphflow.node.cached=false
        └── node cached_embed  graphflow.node.cached=false
        run rag
        ├── node split
        └── node cached_embed  graphflow.node.cached=true event=graphflow.cache.hit
        """
    )
    hit = traced.captured.one(node="cached_embed", attributes={"graphflow.node.cached": True})
    assert hit.event_names == ["graphflow.cache.hit"]


def test_session_and_workflow_ids_are_run_attributes(captured: Any) -> None:
    runner = AsyncRunner(event_processors=captured.processors)
    graph = Graph([fetch], name="g")
    asyncio.run(runner.run(graph, {"url": "a"}, session_id="s1", workflow_id="wf-1"))
    run = captured.one(role="run")
    assert run.attributes["graphflow.session.id"] == "s1"
    assert run.attributes["graphflow.workflow.id"] == "wf-1"
