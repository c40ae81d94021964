"""DaftRunner.map and run: a lazy DataFrame with the same results as the other runners."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

daft = pytest.importorskip("daft")

from daft_graphs import double, pipeline, shift  # noqa: E402

from graphflow import AsyncRunner, DaftRunner, Graph, SyncRunner, node  # noqa: E402


def _rows(frame: Any) -> list[dict[str, Any]]:
    data = frame.to_pydict()
    return [dict(zip(data, values, strict=True)) for values in zip(*data.values(), strict=True)]


def test_map_returns_a_lazy_daft_dataframe_with_inputs_and_outputs_as_columns() -> None:
    frame = DaftRunner().map(pipeline(), {"x": [1, 2, 3], "offset": 10}, map_over="x")
    assert isinstance(frame, daft.DataFrame)
    assert frame.column_names == ["x", "label"]
    assert frame.to_pydict() == {"x": [1, 2, 3], "label": ["item-12", "item-14", "item-16"]}


def test_map_matches_sync_and_async_runners_item_by_item() -> None:
    graph = Graph([double, shift], name="arith")
    inputs = {"x": list(range(20)), "offset": 5}
    expected = SyncRunner().map(graph, inputs, map_over="x")
    assert asyncio.run(AsyncRunner().map(graph, inputs, map_over="x")) == expected
    frame = DaftRunner().map(graph, inputs, map_over="x")
    assert [{"shifted": r["shifted"]} for r in _rows(frame)] == expected


def test_nothing_runs_until_the_dataframe_is_materialised() -> None:
    calls: list[int] = []

    @node(output_name="y")
    def record(x: int) -> int:
        calls.append(x)
        return x

    frame = DaftRunner().map(Graph([record]), {"x": [1, 2]}, map_over="x")
    assert calls == []
    assert frame.to_pydict()["y"] == [1, 2]
    assert calls == [1, 2]


def test_product_mode_is_the_cartesian_product_in_map_over_order() -> None:
    @node(output_name="pair")
    def pair(a: int, b: str) -> str:
        return f"{a}{b}"

    frame = DaftRunner().map(
        Graph([pair]), {"a": [1, 2], "b": ["x", "y"]}, map_over=["a", "b"], map_mode="product"
    )
    assert frame.to_pydict() == {
        "a": [1, 1, 2, 2],
        "b": ["x", "y", "x", "y"],
        "pair": ["1x", "1y", "2x", "2y"],
    }


def test_zip_of_two_lists_and_select_of_several_outputs() -> None:
    graph = Graph([double, shift])
    frame = DaftRunner().map(
        graph,
        {"x": [1, 2], "offset": [10, 20]},
        map_over=["x", "offset"],
        select=["doubled", "shifted"],
    )
    assert frame.to_pydict() == {
        "x": [1, 2],
        "offset": [10, 20],
        "doubled": [2, 4],
        "shifted": [12, 24],
    }


def test_broadcast_inputs_reach_every_row_as_the_same_object() -> None:
    seen: list[int] = []
    config = {"factor": 3}

    @node(output_name="y")
    def scale(x: int, config: dict[str, int]) -> int:
        seen.append(id(config))
        return x * config["factor"]

    frame = DaftRunner().map(Graph([scale]), {"x": [1, 2, 3], "config": config}, map_over="x")
    assert frame.to_pydict()["y"] == [3, 6, 9]
    assert set(seen) == {id(config)}  # native runner: passed once, never copied per row
    assert "config" not in frame.column_names


class Box:
    def __init__(self, v: int) -> None:
        self.v = v


def test_annotated_outputs_are_typed_columns_and_the_rest_python_objects() -> None:
    @node(output_name="n")
    def count(x: int) -> int:
        return x

    @node(output_name=("name", "box"))
    def both(n: int) -> tuple[str, Box]:
        return str(n), Box(n)

    @node(output_name="tags")
    def tags(name: str) -> list[str]:
        return [name, name]

    @node(output_name="anything")
    def anything(n):  # type: ignore[no-untyped-def]  # no annotation on purpose
        return {"n": n}

    frame = DaftRunner().map(
        Graph([count, both, tags, anything]),
        {"x": [1, 2]},
        map_over="x",
        select=["n", "name", "box", "tags", "anything"],
    )
    schema = {f.name: str(f.dtype) for f in frame.schema()}
    assert schema["x"] == "Int64"
    assert schema["n"] == "Int64"
    assert schema["name"] == "String"
    assert schema["tags"] == "List[String]"
    assert schema["box"] == "Python"
    assert schema["anything"] == "Python"
    data = frame.to_pydict()
    assert [b.v for b in data["box"]] == [1, 2]
    assert data["anything"] == [{"n": 1}, {"n": 2}]  # a dict stays a dict (no Map column)


def test_mixed_mapped_values_are_kept_as_python_objects_not_coerced() -> None:
    @node(output_name="kind")
    def kind(x: Any) -> str:
        return type(x).__name__

    frame = DaftRunner().map(Graph([kind]), {"x": [1, 2.5, None, "s"]}, map_over="x")
    assert frame.to_pydict()["kind"] == ["int", "float", "NoneType", "str"]


def test_empty_map_is_an_empty_dataframe_with_the_columns() -> None:
    frame = DaftRunner().map(Graph([double]), {"x": []}, map_over="x")
    assert frame.to_pydict() == {"x": [], "doubled": []}


def test_materialising_methods_all_work_on_the_map_frame() -> None:
    runner = DaftRunner()
    graph = Graph([double])

    def fresh() -> Any:
        return runner.map(graph, {"x": [1, 2, 3]}, map_over="x")

    assert [r["doubled"] for r in fresh().iter_rows()] == [2, 4, 6]
    assert [r["doubled"] for r in fresh()] == [2, 4, 6]
    assert fresh().to_pylist()[0] == {"x": 1, "doubled": 2}
    assert fresh().count_rows() == 3
    assert fresh().to_arrow().num_rows == 3
    assert list(fresh().to_pandas()["doubled"]) == [2, 4, 6]
    collected = fresh().collect()
    assert len(collected) == 3
    fresh().show()
    derived = fresh().where(daft.col("doubled") > 2)
    assert derived.to_pydict() == {"x": [2, 3], "doubled": [4, 6]}


def test_run_returns_one_items_selected_outputs_as_a_dict() -> None:
    runner = DaftRunner()
    assert runner.run(pipeline(), {"x": 4, "offset": 1}) == {"label": "item-9"}
    assert runner.run(Graph([double, shift]), {"x": 4}, select=["doubled", "shifted"]) == {
        "doubled": 8,
        "shifted": 8,
    }


def test_bound_values_and_defaults_apply_like_the_other_runners() -> None:
    graph = Graph([double, shift]).bind(offset=100)
    frame = DaftRunner().map(graph, {"x": [1, 2]}, map_over="x")
    assert frame.to_pydict()["shifted"] == [102, 104]
    assert DaftRunner().run(Graph([double, shift]), {"x": 1}) == {"shifted": 2}


def test_async_nodes_of_a_batch_run_concurrently() -> None:
    @node(output_name="y")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.2)
        return x

    import time

    start = time.perf_counter()
    frame = DaftRunner().map(Graph([slow]), {"x": list(range(50))}, map_over="x")
    assert frame.to_pydict()["y"] == list(range(50))
    assert time.perf_counter() - start < 2.0  # 50 x 0.2 s one after another would be 10 s


def test_max_concurrency_bounds_node_executions_in_flight() -> None:
    active = 0
    peak = 0

    @node(output_name="y")
    async def tracked(x: int) -> int:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return x

    frame = DaftRunner().map(
        Graph([tracked]), {"x": list(range(30))}, map_over="x", max_concurrency=3
    )
    assert frame.to_pydict()["y"] == list(range(30))
    assert 1 <= peak <= 3


def test_rows_keep_item_order_across_many_concurrent_async_batches() -> None:
    @node(output_name="y")
    async def echo(x: int) -> int:
        await asyncio.sleep(0.001 if x % 7 else 0.005)
        return x

    n = 10_000  # several async batches, which Daft finishes out of order
    frame = DaftRunner().map(Graph([echo]), {"x": list(range(n))}, map_over="x")
    data = frame.to_pydict()
    assert data["x"] == list(range(n))
    assert data["y"] == list(range(n))


def test_unpicklable_broadcast_inputs_work_on_the_native_runner() -> None:
    import threading

    @node(output_name="y")
    def guarded(x: int, lock: Any) -> int:
        with lock:
            return x + 1

    inputs = {"x": [1, 2], "lock": threading.Lock()}
    frame = DaftRunner().map(Graph([guarded]), inputs, map_over="x")
    assert frame.to_pydict()["y"] == [2, 3]
