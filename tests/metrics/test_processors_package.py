"""graphflow.processors: a lazy door; importing it loads no optional dependency."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import graphflow.processors as processors
from graphflow import EventProcessor

PUBLIC = ["LoggingProcessor", "OpenTelemetryProcessor", "ProgressProcessor", "PrometheusProcessor"]


def test_all_lists_the_processors() -> None:
    assert sorted(processors.__all__) == PUBLIC
    assert set(PUBLIC) <= set(dir(processors))


@pytest.mark.parametrize("name", PUBLIC)
def test_each_processor_resolves_to_an_event_processor(name: str) -> None:
    cls = getattr(processors, name)
    assert issubclass(cls, EventProcessor)
    assert cls.__module__ == "graphflow.processors"


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchProcessor"):
        _ = processors.NoSuchProcessor  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_optional_dependency() -> None:
    probe = (
        "import json, sys\n"
        "import graphflow.processors\n"
        "optional = ('opentelemetry', 'prometheus_client', 'rich')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in optional)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_logging_processor_needs_no_optional_dependency() -> None:
    probe = (
        "import json, sys\n"
        "from graphflow.processors import LoggingProcessor\n"
        "LoggingProcessor()\n"
        "optional = ('opentelemetry', 'prometheus_client', 'rich')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in optional)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
