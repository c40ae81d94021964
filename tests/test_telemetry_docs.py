"""docs/telemetry.md lists every public telemetry name, and its harness example works."""

from __future__ import annotations

import re
from pathlib import Path

import graphflow.processors._names as names
from graphflow import Graph, SyncRunner, node

DOC = Path(__file__).resolve().parents[1] / "docs" / "telemetry.md"

# Values that are not names a user looks up (markers, logger keys, label/kind values that the
# doc shows in tables as plain words are still checked below).
_SKIP_PREFIXES = ("LOG_", "LOGGER_")


def test_every_telemetry_name_is_documented() -> None:
    text = DOC.read_text()
    missing = [
        f"{key} = {value!r}"
        for key, value in vars(names).items()
        if key.isupper()
        and isinstance(value, str)
        and not key.startswith(_SKIP_PREFIXES)
        and value not in text
    ]
    assert missing == [], "docs/telemetry.md does not mention:\n" + "\n".join(missing)


def test_the_harness_example_in_the_doc_runs() -> None:
    @node(output_name="doubled")
    def double(x: int) -> int:
        return x * 2

    @node(output_name="result")
    def add_one(doubled: int) -> int:
        return doubled + 1

    graph = Graph([double, add_one], name="pipeline")
    block = re.search(
        r"```python\n(from graphflow.testing import capture_traces.*?)```", DOC.read_text(), re.S
    )
    assert block is not None
    exec(block.group(1), {"graph": graph, "SyncRunner": SyncRunner})
