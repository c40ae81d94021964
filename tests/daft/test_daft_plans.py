"""Long and wide graphs: one fused UDF per graph, whatever its size (see docs/daft.md)."""

from __future__ import annotations

import io
from typing import Any

import pytest

daft = pytest.importorskip("daft")

from graphflow import DaftRunner, Graph, SyncRunner, node  # noqa: E402
from graphflow.graph import FunctionNode  # noqa: E402


def _chain(length: int) -> Graph:
    def step(i: int) -> FunctionNode:
        def inc(value: int) -> int:
            return value + 1

        return node(inc, output_name=f"v{i + 1}").with_inputs(value=f"v{i}").with_name(f"n{i}")

    return Graph([step(i) for i in range(length)], name="chain")


def _fan_out(width: int) -> Graph:
    def branch(i: int) -> FunctionNode:
        def times(x: int) -> int:
            return x * i

        return node(times, output_name=f"b{i}").with_name(f"branch{i}")

    branches = [branch(i) for i in range(width)]

    @node(output_name="total")
    def gather(x: int) -> int:
        return x

    return Graph([*branches, gather], name="fan")


def _plan_text(frame: Any) -> str:
    out = io.StringIO()
    frame.explain(show_all=True, file=out)
    return out.getvalue()


def test_a_500_node_chain_runs_as_one_udf() -> None:
    graph = _chain(500)
    frame = DaftRunner().map(graph, {"v0": [0, 10, 20]}, map_over="v0")
    assert frame.to_pydict() == {"v0": [0, 10, 20], "v500": [500, 510, 520]}
    optimized = _plan_text(DaftRunner().map(graph, {"v0": [0]}, map_over="v0"))
    # one UDF operator per plan (and per phase printed: unoptimized has none, optimized and
    # physical plans one each), never one per node
    assert optimized.count("UDF graphflow chain") == 2


def test_a_200_way_fan_out_runs_and_selects_every_branch() -> None:
    graph = _fan_out(200)
    names = [f"b{i}" for i in range(200)]
    frame = DaftRunner().map(graph, {"x": [1, 2]}, map_over="x", select=names)
    data = frame.to_pydict()
    assert len(data) == 201
    assert data["b199"] == [199, 398]
    expected = SyncRunner().map(graph, {"x": [1, 2]}, map_over="x", select=names)
    assert [{n: data[n][i] for n in names} for i in range(2)] == expected


def test_run_of_a_long_chain_is_one_small_plan() -> None:
    assert DaftRunner().run(_chain(300), {"v0": 1}) == {"v300": 301}
