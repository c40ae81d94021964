"""What every runner's ``map()`` does before and around its items, written once.

:class:`MapCall` checks everything before any work is scheduled (interrupts, the graph, the
inputs, ``map_over`` and the lengths, ``select``, missing inputs) and picks the processors.
:class:`MapSpan` emits the ``MapStartEvent`` / ``MapEndEvent`` pair around the items.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphflow.events import EventDispatcher, EventProcessor, MapEndEvent, MapStartEvent, RunStatus
from graphflow.graph import Graph, validate_map_compatible
from graphflow.runners._ids import new_span_id
from graphflow.runners._inputs import check_inputs, check_missing, resolve_select
from graphflow.runners._mapping import map_params, map_values
from graphflow.runners._setup import dispatcher_for, prepare_graph

if TYPE_CHECKING:
    from graphflow.runners.base import BaseRunner

__all__ = ["MapCall", "MapSpan"]


class MapSpan:
    """The map's own events: ``MapStartEvent`` when opened, ``MapEndEvent`` when closed."""

    __slots__ = ("dispatcher", "id", "span", "status", "t0")

    def __init__(self, dispatcher: EventDispatcher, graph_name: str | None, size: int) -> None:
        self.dispatcher = dispatcher
        self.id = uuid.uuid4().hex
        self.span = new_span_id()
        self.status = RunStatus.ERROR  # until the caller says the items completed
        self.t0 = time.perf_counter()
        dispatcher.emit(MapStartEvent(self.id, self.span, None, graph_name, size, time.time()))

    def close(self) -> None:
        """Emit ``MapEndEvent`` with :attr:`status` and the map's duration."""
        duration = (time.perf_counter() - self.t0) * 1000.0
        self.dispatcher.emit(
            MapEndEvent(self.id, self.span, None, duration, self.status, time.time())
        )


class MapCall:
    """A ``map()`` call, checked: plan, mapped names, items, selected names, processors.

    Raises:
        GraphConfigError: the graph has interrupts. IncompatibleRunnerError, InputError
        (bad ``map_over``, zip lists of different lengths), MissingInputError.
    """

    def __init__(
        self,
        runner: BaseRunner,
        graph: Graph,
        inputs: Mapping[str, Any],
        map_over: str | list[str],
        map_mode: str,
        select: Sequence[str] | None,
        event_processors: Sequence[EventProcessor] | None,
        *,
        async_mode: bool,
    ) -> None:
        validate_map_compatible(graph, f"{type(runner).__name__}.map() was called")
        self.plan = prepare_graph(runner, graph)
        check_inputs(self.plan, inputs)
        self.params = map_params(map_over, inputs, map_mode)
        self.items = map_values(self.params, inputs, map_mode)
        self.names = resolve_select(self.plan, select)
        check_missing(self.plan, {**self.plan.bound, **inputs})
        self.dispatcher = dispatcher_for(runner, event_processors, async_mode=async_mode)

    def open_span(self) -> MapSpan | None:
        """Start the map's events (None when nothing listens)."""
        if self.dispatcher is None:
            return None
        return MapSpan(self.dispatcher, self.plan.name, len(self.items))

    def run_id(self) -> str:
        """A run id for an item (empty when nothing listens: nothing would read it)."""
        return uuid.uuid4().hex if self.dispatcher is not None else ""
