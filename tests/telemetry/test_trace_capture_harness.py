"""graphflow.testing: the fixture, tree outlines, span lookups, invariants and metrics."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from graphflow import Graph, SyncRunner, node
from graphflow.testing import CapturedTraces, SpanTree, assert_tree, format_tree


@node(output_name="text")
def fetch(url: str) -> str:
    return f"<{url}>"


@node(output_name="n")
def measure(text: str) -> int:
    return len(text)


def _run(captured: CapturedTraces, name: str = "pipeline") -> None:
    SyncRunner(event_processors=captured.processors).run(
        Graph([fetch, Graph([measure], name="inner").as_node()], name=name), {"url": "u"}
    )


def test_graphflow_traces_fixture_captures_a_run(graphflow_traces: CapturedTraces) -> None:
    _run(graphflow_traces)
    graphflow_traces.assert_tree(
        """
        run pipeline
        ├── node fetch
        └── node inner
            └── node measure
        """
    )
    assert len(graphflow_traces.spans) == 4


def test_tree_is_plain_nested_data(captured: CapturedTraces) -> None:
    _run(captured)
    (root,) = captured.tree()
    assert root["name"] == "run pipeline"
    assert root["role"] == "run"
    assert root["status"] == "UNSET"
    assert root["attributes"]["graphflow.graph.name"] == "pipeline"
    assert [c["name"] for c in root["children"]] == ["node fetch", "node inner"]
    assert root["children"][1]["children"][0]["name"] == "node measure"
    assert set(root) == {
        "name",
        "role",
        "attributes",
        "status",
        "status_description",
        "events",
        "children",
    }


def test_outline_accepts_drawings_and_plain_indentation(captured: CapturedTraces) -> None:
    _run(captured)
    captured.assert_tree("run pipeline\n  node fetch\n  node inner\n    node measure")
    captured.assert_tree("run pipeline\n    node fetch\n    node inner\n        node measure")
    captured.assert_tree(
        """
        run pipeline
        │
        ├── node inner  role=subgraph 'graphflow.node.kind'=graph
        │   └── node measure
        └── node fetch  graphflow.node.cached=false
        """  # siblings match in any order
    )


def test_format_tree_output_is_a_valid_outline(captured: CapturedTraces) -> None:
    _run(captured)
    drawing = captured.format_tree(("graphflow.node.kind",))
    assert drawing.splitlines() == [
        "run pipeline",
        "├── node fetch  graphflow.node.kind=function",
        "└── node inner  graphflow.node.kind=graph",
        "    └── node measure  graphflow.node.kind=function",
    ]
    captured.assert_tree(drawing)


def test_mismatch_shows_expected_and_actual_side_by_side(captured: CapturedTraces) -> None:
    _run(captured)
    with pytest.raises(AssertionError) as info:
        captured.assert_tree(
            """
            run pipeline
            ├── node fetch
            └── node inner
                └── node embed
            """
        )
    message = str(info.value)
    assert "missing ['node embed']" in message
    assert "unexpected ['node measure']" in message
    lines = message.splitlines()
    header = next(line for line in lines if line.startswith("expected"))
    assert header.split("│")[1].strip() == "actual"
    assert any("└── node embed" in line and "└── node measure" in line for line in lines)
    assert any(line.count("run pipeline") == 2 for line in lines)


def test_mismatched_attribute_is_named_and_shown(captured: CapturedTraces) -> None:
    _run(captured)
    with pytest.raises(AssertionError) as info:
        captured.assert_tree("run pipeline\n  node fetch  graphflow.node.cached=true\n  node inner")
    message = str(info.value)
    assert "graphflow.node.cached: expected 'true', got 'false'" in message
    assert "node fetch  graphflow.node.cached=false" in message  # the actual side shows it
    with pytest.raises(AssertionError, match="status: expected 'error', got 'UNSET'"):
        captured.assert_tree("run pipeline  status=error\n  node fetch\n  node inner")


def test_outline_syntax_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="put the span name first"):
        assert_tree([], "run a  k=v trailing")


def test_assert_tree_works_on_any_plain_tree() -> None:
    leaf = SpanTree(
        name="node a",
        role="node",
        attributes={"n": 3},
        status="ERROR",
        status_description="boom",
        events=[{"name": "exception", "attributes": {}}],
        children=[],
    )
    root = SpanTree(
        name="run g",
        role="run",
        attributes={},
        status="UNSET",
        status_description=None,
        events=[],
        children=[leaf],
    )
    assert format_tree([root], ["n"], events=True) == (
        "run g\n└── node a  n=3 status=ERROR event=exception"
    )
    assert_tree([root], "run g\n└── node a  n=3 status=ERROR event=exception role=node")
    with pytest.raises(AssertionError, match=r"event 'graphflow\.cache\.hit' missing"):
        assert_tree([root], "run g\n└── node a  event=graphflow.cache.hit")


def test_one_and_all_find_spans_with_parents_and_children(captured: CapturedTraces) -> None:
    _run(captured)
    _run(captured, name="second")
    measure_span = captured.one(node="measure", attributes={"graphflow.graph.name": "second"})
    assert measure_span.name == "node measure"
    assert measure_span.parent is not None
    assert measure_span.parent.name == "node inner"
    assert measure_span.parent.parent is not None
    assert measure_span.parent.parent.name == "run second"
    assert measure_span.children == []
    run = captured.one(name="run pipeline")
    assert [c.name for c in run.children] == ["node fetch", "node inner"]
    assert len(captured.all(role="node")) == 4
    assert len(captured.all(role="subgraph")) == 2
    assert captured.all(status="error") == []
    with pytest.raises(AssertionError, match="found 2"):
        captured.one(node="fetch")
    with pytest.raises(AssertionError, match="found 0"):
        captured.one(node="nothing")


def test_assert_no_orphans_allows_one_ambient_parent_only(captured: CapturedTraces) -> None:
    tracer = captured.tracer

    def external(span_id: int) -> Any:
        context = SpanContext(
            trace_id=0xABC, span_id=span_id, is_remote=True, trace_flags=TraceFlags(1)
        )
        return trace.set_span_in_context(NonRecordingSpan(context))

    tracer.start_span("child of request", context=external(1)).end()
    tracer.start_span("also child of request", context=external(1)).end()
    captured.assert_no_orphans()
    tracer.start_span("child of something else", context=external(2)).end()
    with pytest.raises(AssertionError, match="2 parents are missing"):
        captured.assert_no_orphans()


def test_assert_all_ended_names_open_spans(captured: CapturedTraces) -> None:
    captured.tracer.start_span("done").end()
    captured.assert_all_ended()
    left_open = captured.tracer.start_span("left open")
    with pytest.raises(AssertionError, match="left open"):
        captured.assert_all_ended()
    left_open.end()
    captured.assert_all_ended()


def test_clear_forgets_captured_spans(captured: CapturedTraces) -> None:
    _run(captured)
    captured.clear()
    assert captured.spans == ()
    assert captured.tree() == []


def test_metrics_are_read_from_the_private_registry(captured: CapturedTraces) -> None:
    assert captured.prometheus is not None, "PrometheusProcessor should be in .processors"
    _run(captured)
    count = captured.metric(
        "graphflow_node_duration_seconds_count", graph="pipeline", node="fetch", status="success"
    )
    assert count == 1.0
    assert captured.metric("graphflow_run_duration_seconds_count", graph="nothing") is None


def test_importing_graphflow_testing_loads_no_opentelemetry() -> None:
    probe = (
        "import sys, graphflow.testing, graphflow.testing.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'prometheus'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
