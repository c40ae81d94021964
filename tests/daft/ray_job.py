"""Run DaftRunner on a local Ray cluster and print what happened as JSON (a subprocess).

Daft's runner cannot change once chosen in a process, so the Ray test runs this script in
a subprocess. Ray workers import the graph functions from ``daft_graphs`` (PYTHONPATH).
Ray listens on 127.0.0.1 only, so this also runs in a loopback-only network namespace.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from typing import Any


def main() -> None:
    for key, value in {
        "DAFT_ANALYTICS_ENABLED": "0",
        "DAFT_PROGRESS_BAR": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",
    }.items():
        os.environ.setdefault(key, value)
    import daft
    import ray
    from daft_graphs import NodeFailed, failing, pipeline, whereami

    from graphflow import AsyncRunner, DaftRunner, DiskCache
    from graphflow.testing import capture_traces

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=512 * 1024**2,
        _node_ip_address="127.0.0.1",
    )
    daft.set_runner_ray()
    out: dict[str, Any] = {"driver_pid": os.getpid()}
    inputs = {"x": [1, 2, 3, 4], "offset": 10}
    out["async"] = asyncio.run(AsyncRunner().map(pipeline(), inputs, map_over="x"))
    with capture_traces() as captured:
        runner = DaftRunner(event_processors=captured.processors)
        out["daft"] = runner.map(pipeline(), inputs, map_over="x").to_pydict()
        out["tree"] = captured.format_tree(("graphflow.runner", "graphflow.map.item_index"))
        map_span = captured.one(role="map")
        runs = captured.all(role="run")
        out["runs_under_map"] = all(r.parent == map_span for r in runs)
        out["nodes_under_runs"] = all(n.parent in runs for n in captured.all(role="node"))
        out["trace_ids"] = len({s.context.trace_id for s in captured.spans})
        captured.assert_no_orphans()
        captured.assert_all_ended()
        out["items_metric"] = captured.metric(
            "graphflow_map_items_total", graph="pipeline", status="completed"
        )
    try:
        DaftRunner().map(failing(), {"x": [1, 2, 3]}, map_over="x").collect()
    except NodeFailed as exc:
        out["error"] = [type(exc).__name__, list(getattr(exc, "__notes__", []))]
    with tempfile.TemporaryDirectory() as path:
        first = DaftRunner(cache=DiskCache(path)).map(whereami(), {"x": [1, 2]}, map_over="x")
        out["worker_pids"] = first.to_pydict()["pid"]
        with capture_traces() as captured:
            again = DaftRunner(cache=DiskCache(path), event_processors=captured.processors)
            out["cached_pids"] = again.map(whereami(), {"x": [1, 2]}, map_over="x").to_pydict()[
                "pid"
            ]
            out["cached"] = [
                n.attributes["graphflow.node.cached"] for n in captured.all(role="node")
            ]
    ray.shutdown()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
