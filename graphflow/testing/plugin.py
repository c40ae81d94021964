"""The graphflow pytest plugin (entry point ``pytest11``): the ``graphflow_traces`` fixture.

pytest loads this module in every session of an environment where graphflow is installed, so
it imports nothing heavy: OpenTelemetry is imported when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from graphflow.testing.capture import CapturedTraces

__all__ = ["graphflow_traces"]


@pytest.fixture
def graphflow_traces() -> Iterator[CapturedTraces]:
    """Spans and metrics of the runs given ``graphflow_traces.processors``, for one test.

    Example:
        >>> def test_pipeline(graphflow_traces):
        ...     SyncRunner(event_processors=graphflow_traces.processors).run(graph, {"x": 1})
        ...     graphflow_traces.assert_tree("run pipeline\\n└── node double")
    """
    from graphflow.testing.capture import capture_traces

    with capture_traces() as captured:
        yield captured
