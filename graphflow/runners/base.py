"""What every runner shares: capabilities, compatibility checks and nesting strategies."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from graphflow.exceptions import IncompatibleRunnerError
from graphflow.graph import Graph, validate_map_compatible

if TYPE_CHECKING:
    from graphflow.cache import Cache
    from graphflow.events import EventProcessor

__all__ = [
    "BaseRunner",
    "ExecutionStrategy",
    "RunnerCapabilities",
    "get_execution_strategy",
    "validate_map_compatible",
    "validate_runner_compatibility",
]

_FEATURES = (
    ("has_async_nodes", "supports_async_nodes", "async nodes", "AsyncRunner"),
    ("has_cycles", "supports_cycles", "cycles", "SyncRunner or AsyncRunner"),
    ("has_gates", "supports_gates", "gates (@route/@ifelse)", "SyncRunner or AsyncRunner"),
    ("has_interrupts", "supports_interrupts", "interrupts", "AsyncRunner"),
)


@dataclass
class RunnerCapabilities:
    """What a runner supports; runners reject graphs that need more."""

    supports_cycles: bool = True
    supports_gates: bool = True
    supports_interrupts: bool = False
    supports_async_nodes: bool = False
    supports_streaming: bool = False
    supports_distributed: bool = False
    returns_coroutine: bool = False

    def validate_graph(self, graph: Graph) -> None:
        """Raise IncompatibleRunnerError if the graph's own features are unsupported."""
        _check(graph, self, "this runner")


def _check(graph: Graph, caps: RunnerCapabilities, runner_name: str) -> None:
    label = f"Graph '{graph.name}'" if graph.name else "The graph"
    for has, supports, feature, instead in _FEATURES:
        if getattr(graph, has) and not getattr(caps, supports):
            raise IncompatibleRunnerError(
                f"{label} has {feature}, but {runner_name} doesn't support {feature}.\n\n"
                f"How to fix: run it with {instead}, or nest the part that needs it with "
                f"graph.as_node(runner=...)."
            )


def validate_runner_compatibility(graph: Graph, runner: BaseRunner) -> None:
    """Check that ``runner`` (and the runners of nested graphs) can run ``graph``.

    Nested graphs use their explicit runner, else inherit ``runner``.

    Raises:
        IncompatibleRunnerError: naming the feature and the runner to use instead.
    """
    _check(graph, runner.capabilities, type(runner).__name__)
    for nested in graph.nested_graphs:
        validate_runner_compatibility(nested.graph, nested.explicit_runner or runner)


class ExecutionStrategy(enum.Enum):
    """How a parent runner calls a nested graph's runner."""

    AWAIT = "await"
    THREAD_POOL = "thread_pool"
    ASYNCIO_RUN = "asyncio_run"
    DIRECT = "direct"


def get_execution_strategy(parent: BaseRunner, nested: BaseRunner) -> ExecutionStrategy:
    """Pick how ``parent`` calls ``nested`` from whether each returns coroutines."""
    match (parent.capabilities.returns_coroutine, nested.capabilities.returns_coroutine):
        case (True, True):
            return ExecutionStrategy.AWAIT
        case (True, False):
            return ExecutionStrategy.THREAD_POOL
        case (False, True):
            return ExecutionStrategy.ASYNCIO_RUN
        case _:
            return ExecutionStrategy.DIRECT


class BaseRunner(ABC):
    """Abstract base for all runners."""

    #: "sync", "async" or "daft" (telemetry's ``graphflow.runner``)
    runner_kind: str = ""
    _cache: Cache | None = None
    _processors: tuple[EventProcessor, ...] | None = None

    @property
    @abstractmethod
    def capabilities(self) -> RunnerCapabilities:
        """Declare what this runner supports."""

    @abstractmethod
    def run(self, graph: Graph, inputs: dict[str, Any], **kwargs: Any) -> Any:
        """Execute graph. Return type varies by runner."""

    @abstractmethod
    def map(
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        map_over: str | list[str],
        map_mode: Literal["zip", "product"] = "zip",
        **kwargs: Any,
    ) -> Any:
        """Batch execution. Return type varies by runner."""

    def check_graph(self, graph: Graph) -> None:
        """Validate ``graph`` for this runner (used by ``as_node(runner=...)``)."""
        validate_runner_compatibility(graph, self)
