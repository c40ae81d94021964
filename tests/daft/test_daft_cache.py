"""Caches on Daft workers: the runner's MemoryCache locally, DiskCache shared by its path."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("daft")

from graphflow import DaftRunner, DiskCache, Graph, MemoryCache, node
from graphflow.runners._daft_support import CacheRef
from graphflow.testing import capture_traces

CALLS: list[int] = []


@node(output_name="y", cache=True)
def expensive(x: int) -> int:
    CALLS.append(x)
    return x * 10


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_memory_cache_is_the_runners_own_on_the_native_runner() -> None:
    cache = MemoryCache()
    runner = DaftRunner(cache=cache)
    graph = Graph([expensive], name="cached")
    assert runner.map(graph, {"x": [1, 2, 1]}, map_over="x").to_pydict()["y"] == [10, 20, 10]
    assert CALLS == [1, 2]
    assert len(cache) == 2
    with capture_traces() as captured:
        traced = DaftRunner(cache=cache, event_processors=captured.processors)
        assert traced.map(graph, {"x": [2, 1]}, map_over="x").to_pydict()["y"] == [20, 10]
        assert CALLS == [1, 2]
        cached = [n.attributes["graphflow.node.cached"] for n in captured.all(role="node")]
        assert cached == [True, True]
        assert all("graphflow.cache.hit" in n.event_names for n in captured.all(role="node"))


def test_disk_cache_is_shared_with_other_processes_through_its_path(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os
        os.environ["DAFT_ANALYTICS_ENABLED"] = "0"
        from graphflow import DaftRunner, DiskCache, Graph
        from test_daft_cache import expensive
        frame = DaftRunner(cache=DiskCache({str(tmp_path)!r})).map(
            Graph([expensive], name="cached"), {{"x": [7, 8]}}, map_over="x"
        )
        print(frame.to_pydict()["y"])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[70, 80]"
    runner = DaftRunner(cache=DiskCache(tmp_path))
    frame = runner.map(Graph([expensive], name="cached"), {"x": [7, 8]}, map_over="x")
    assert frame.to_pydict()["y"] == [70, 80]
    assert CALLS == []  # both hits: written by the other process


def test_a_cache_handle_resolves_to_the_original_in_this_process() -> None:
    cache = MemoryCache(max_size=5)
    ref = pickle.loads(pickle.dumps(CacheRef(cache)))
    assert ref.get() is cache


def test_a_cache_handle_reopens_a_disk_cache_and_makes_a_memory_cache_elsewhere(
    tmp_path: Path,
) -> None:
    disk = DiskCache(tmp_path)
    disk.set("k", "stored by the driver")
    payload = base64.b64encode(
        pickle.dumps((CacheRef(disk), CacheRef(MemoryCache(max_size=3))))
    ).decode()
    script = textwrap.dedent(
        f"""
        import base64, json, pickle
        disk, memory = pickle.loads(base64.b64decode({payload!r}))
        d, m = disk.get(), memory.get()
        print(json.dumps([type(d).__name__, d.get("k"), type(m).__name__, m.max_size, len(m)]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "DiskCache",
        [True, "stored by the driver"],
        "MemoryCache",
        3,
        0,
    ]


def test_what_cannot_be_pickled_stays_local_and_fails_clearly_elsewhere() -> None:
    import threading

    from graphflow.runners._daft_support import Shared

    lock = threading.Lock()
    shared = Shared({"lock": lock})
    blob = pickle.dumps(shared)
    assert pickle.loads(blob).value["lock"] is lock  # same process: the object itself
    payload = base64.b64encode(blob).decode()
    script = textwrap.dedent(
        f"""
        import base64, pickle
        try:
            pickle.loads(base64.b64decode({payload!r}))
        except Exception as exc:
            print(type(exc).__name__, "|", exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("GraphConfigError | DaftRunner could not send")
    assert "cannot pickle" in done.stdout
