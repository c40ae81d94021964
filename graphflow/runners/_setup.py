"""What every runner does before a run: check the graph, compile it, pick processors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphflow.events import EventDispatcher, EventProcessor, get_default_processors
from graphflow.exceptions import GraphConfigError
from graphflow.graph import Graph
from graphflow.runners._plan import Plan, plan_for
from graphflow.runners.base import validate_runner_compatibility

if TYPE_CHECKING:
    from graphflow.runners.base import BaseRunner

__all__ = ["check_processors", "dispatcher_for", "prepare_graph"]


def check_processors(
    processors: Sequence[EventProcessor] | None, where: str
) -> tuple[EventProcessor, ...] | None:
    """Validate an ``event_processors`` argument early (None stays None: use defaults)."""
    if processors is None:
        return None
    if isinstance(processors, EventProcessor) or not isinstance(processors, Sequence):
        raise GraphConfigError(
            f"{where}: event_processors must be a list of processors, got "
            f"{type(processors).__name__}.\n\nHow to fix: event_processors=[MyProcessor()]."
        )
    for p in processors:
        if not isinstance(p, EventProcessor):
            raise GraphConfigError(
                f"{where}: {p!r} is not an EventProcessor.\n\n"
                f"How to fix: subclass graphflow.EventProcessor (or TypedEventProcessor)."
            )
    return tuple(processors)


def prepare_graph(runner: BaseRunner, graph: object) -> Plan:
    """Check that ``graph`` is a Graph this runner can run; return its compiled plan."""
    if not isinstance(graph, Graph):
        raise GraphConfigError(
            f"{type(runner).__name__} needs a Graph, got {type(graph).__name__}.\n\n"
            f"How to fix: runner.run(Graph([...]), inputs)."
        )
    key = ("compatible", type(runner))
    cache = graph._runtime_cache
    if key not in cache:
        validate_runner_compatibility(graph, runner)
        cache[key] = True
    return plan_for(graph)


def dispatcher_for(
    runner: BaseRunner, extra: Sequence[EventProcessor] | None, async_mode: bool
) -> EventDispatcher | None:
    """The run's dispatcher: runner (or default) processors, then per-run ones; None if none."""
    base: Any = runner._processors
    if base is None:
        base = get_default_processors()
    more = check_processors(extra, f"{type(runner).__name__}.run") if extra else ()
    if not base and not more:
        return None
    return EventDispatcher((*base, *(more or ())), async_mode=async_mode)
