"""Runners: execute graphs (SyncRunner, AsyncRunner, DaftRunner) on one scheduling core."""

from graphflow.runners.async_ import AsyncRunner
from graphflow.runners.base import (
    BaseRunner,
    ExecutionStrategy,
    RunnerCapabilities,
    get_execution_strategy,
    validate_map_compatible,
    validate_runner_compatibility,
)
from graphflow.runners.daft import DaftRunner
from graphflow.runners.handle import RunHandle
from graphflow.runners.result import PauseInfo, PauseReason, RunResult, RunStatus
from graphflow.runners.sync import SyncRunner

__all__ = [
    "AsyncRunner",
    "BaseRunner",
    "DaftRunner",
    "ExecutionStrategy",
    "PauseInfo",
    "PauseReason",
    "RunHandle",
    "RunResult",
    "RunStatus",
    "RunnerCapabilities",
    "SyncRunner",
    "get_execution_strategy",
    "validate_map_compatible",
    "validate_runner_compatibility",
]
