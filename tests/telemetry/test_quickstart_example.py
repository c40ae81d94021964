"""examples/quickstart.py runs offline, prints trace trees and writes an OTLP/JSON span file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_runs_and_writes_spans() -> None:
    done = subprocess.run(
        [sys.executable, "examples/quickstart.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== SyncRunner" in out
    assert "== AsyncRunner" in out
    assert "│   ├── node embed  event=graphflow.cache.hit" in out
    assert "graphflow.route.target=review" in out
    assert "spans written to out/quickstart.spans.jsonl" in out
    lines = (REPO / "out" / "quickstart.spans.jsonl").read_text(encoding="utf-8").splitlines()
    spans = [
        span
        for line in lines
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    names = {span["name"] for span in spans}
    assert {"run pipeline", "map pipeline", "node analyze", "node embed"} <= names
