"""What AsyncRunner.run returns: RunResult, with PauseInfo when a run pauses."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from graphflow.events import RunStatus

__all__ = ["PauseInfo", "PauseReason", "RunResult", "RunStatus"]


class PauseReason(enum.StrEnum):
    """Why a run paused."""

    HUMAN_INPUT = "human_input"


@dataclass
class PauseInfo:
    """Pause details (only present when ``RunResult.status == PAUSED``).

    Attributes:
        reason: why the run paused (``HUMAN_INPUT``).
        node: path of the interrupt that paused (``review/approve`` inside nested graphs).
        response_param: the input name to give the answer under when resuming.
        value: the value to show the human.
    """

    reason: PauseReason
    node: str
    response_param: str
    value: Any


@dataclass
class RunResult:
    """The outcome of ``AsyncRunner.run``.

    ``result["x"]`` is ``result.outputs["x"]``.

    Example:
        >>> result = await AsyncRunner().run(graph, {"x": 1})
        >>> result.status, result["doubled"]
        (<RunStatus.COMPLETED: 'completed'>, 2)
    """

    outputs: dict[str, Any]
    status: RunStatus
    workflow_id: str | None
    run_id: str
    pause: PauseInfo | None = None

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.outputs
