"""DaftRunner on a local Ray cluster: same results, one trace, original errors (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("daft")
pytest.importorskip("ray")

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_the_same_graph_runs_on_ray_with_the_same_results_and_trace() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PYTHONPATH": str(HERE), "HOME": home}
        done = subprocess.run(
            [sys.executable, str(HERE / "ray_job.py")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["daft"]["label"] == [row["label"] for row in out["async"]]
    assert out["daft"]["x"] == [1, 2, 3, 4]
    assert out["runs_under_map"] and out["nodes_under_runs"]
    assert out["trace_ids"] == 1
    assert out["tree"].startswith("map pipeline\n├── run pipeline  graphflow.runner=daft")
    assert out["tree"].count("node label") == 4
    assert out["items_metric"] == 4.0
    assert out["error"][0] == "NodeFailed"  # the original type, not Ray's wrapper
    assert "graphflow: DaftRunner map item 1 of graph 'failing'" in out["error"][1]
    assert out["driver_pid"] not in out["worker_pids"]  # rows ran in Ray worker processes
    assert out["cached_pids"] == out["worker_pids"]  # the DiskCache was shared
    assert out["cached"] == [True, True]
