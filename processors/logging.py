"""``LoggingProcessor``: graphflow events as standard-library log records.

One line per run start and end, map start and end and interrupt (INFO), per node end and route
decision (DEBUG), and per node error (ERROR, type and message only: the exception reaches the
caller anyway, with its traceback, so logging it again would only repeat it). Every record
carries the event's ids in ``extra`` under the ``graphflow_*`` keys of
:mod:`graphflow.processors._names`, for structured log handlers.
"""

from __future__ import annotations

import logging
from typing import Any

from graphflow.events import (
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    TypedEventProcessor,
)

from . import _names as n

__all__ = ["LoggingProcessor"]


def _ids(event: Any, **fields: Any) -> dict[str, Any]:
    extra = {
        n.LOG_RUN_ID: event.run_id,
        n.LOG_SPAN_ID: event.span_id,
        n.LOG_PARENT_SPAN_ID: event.parent_span_id,
    }
    extra.update(fields)
    return extra


class LoggingProcessor(TypedEventProcessor):
    """Logs runs, nodes, errors, route decisions, interrupts and ``map`` calls.

    Levels: run start/end (with status and duration), map start/end and interrupts at INFO;
    node ends and route decisions at DEBUG; node errors at ERROR with ``"{Type}: {message}"``
    and no traceback. Records carry ``extra`` fields such as
    ``graphflow_run_id``, ``graphflow_span_id``, ``graphflow_graph`` and ``graphflow_node``.
    The graph's name is remembered from the run's start, so run end lines name it too.

    Args:
        logger: where to log; defaults to the ``graphflow`` logger.

    Example:
        >>> from graphflow import Graph, SyncRunner, node
        >>> runner = SyncRunner(event_processors=[LoggingProcessor()])
        >>> runner.run(Graph([node(lambda x: x, output_name="y", name="f")]), {"x": 1})
        {'y': 1}
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger(n.LOGGER_NAME)
        # run_id -> graph name, so end lines can name the graph; dict ops are atomic.
        self._graphs: dict[str, str | None] = {}

    def on_run_start(self, event: RunStartEvent) -> None:
        self._graphs[event.run_id] = event.graph_name
        if not self.logger.isEnabledFor(logging.INFO):
            return
        item = "" if event.item_index is None else f" item {event.item_index}"
        self.logger.info(
            "run %s%s started (%s runner)",
            _graph(event.graph_name),
            item,
            event.runner,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: event.graph_name,
                    n.LOG_WORKFLOW_ID: event.workflow_id,
                    n.LOG_SESSION_ID: event.session_id,
                    n.LOG_ITEM_INDEX: event.item_index,
                },
            ),
        )

    def on_run_end(self, event: RunEndEvent) -> None:
        graph = self._graphs.pop(event.run_id, None)
        if not self.logger.isEnabledFor(logging.INFO):
            return
        status = RunStatus(event.status)
        reason = "" if event.error is None else f" ({_describe(event.error)})"
        self.logger.info(
            "run %s %s in %.1f ms%s",
            _graph(graph),
            status.value,
            event.duration_ms,
            reason,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: graph,
                    n.LOG_STATUS: status.value,
                    n.LOG_DURATION_MS: event.duration_ms,
                    n.LOG_ERROR_TYPE: None if event.error is None else _type(event.error),
                },
            ),
        )

    def on_node_end(self, event: NodeEndEvent) -> None:
        if not self.logger.isEnabledFor(logging.DEBUG):
            return
        self.logger.debug(
            "node %s %s in %.1f ms",
            event.node_path or event.node_name,
            "cached" if event.cached else "done",
            event.duration_ms,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: self._graphs.get(event.run_id),
                    n.LOG_NODE: event.node_name,
                    n.LOG_NODE_PATH: event.node_path,
                    n.LOG_STATUS: "cached" if event.cached else "success",
                    n.LOG_DURATION_MS: event.duration_ms,
                },
            ),
        )

    def on_node_error(self, event: NodeErrorEvent) -> None:
        self.logger.error(
            "node %s failed: %s",
            event.node_path or event.node_name,
            _describe(event.error, event.error_type),
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: self._graphs.get(event.run_id),
                    n.LOG_NODE: event.node_name,
                    n.LOG_NODE_PATH: event.node_path,
                    n.LOG_STATUS: "error",
                    n.LOG_ERROR_TYPE: event.error_type,
                },
            ),
        )

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        if not self.logger.isEnabledFor(logging.DEBUG):
            return
        self.logger.debug(
            "gate %s chose %s",
            event.node_path or event.gate_name,
            event.decision,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: self._graphs.get(event.run_id),
                    n.LOG_NODE: event.gate_name,
                    n.LOG_NODE_PATH: event.node_path,
                    n.LOG_TARGET: event.decision,
                },
            ),
        )

    def on_interrupt(self, event: InterruptEvent) -> None:
        self.logger.info(
            "interrupt %s waits for %r (workflow %s)",
            event.node_path or event.interrupt_name,
            event.response_param,
            event.workflow_id,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: self._graphs.get(event.run_id),
                    n.LOG_NODE: event.interrupt_name,
                    n.LOG_NODE_PATH: event.node_path,
                    n.LOG_WORKFLOW_ID: event.workflow_id,
                },
            ),
        )

    def on_map_start(self, event: MapStartEvent) -> None:
        self._graphs[event.run_id] = event.graph_name
        self.logger.info(
            "map %s started with %d items",
            _graph(event.graph_name),
            event.size,
            extra=_ids(event, **{n.LOG_GRAPH: event.graph_name, n.LOG_MAP_SIZE: event.size}),
        )

    def on_map_end(self, event: MapEndEvent) -> None:
        graph = self._graphs.pop(event.run_id, None)
        status = RunStatus(event.status)
        self.logger.info(
            "map %s %s in %.1f ms",
            _graph(graph),
            status.value,
            event.duration_ms,
            extra=_ids(
                event,
                **{
                    n.LOG_GRAPH: graph,
                    n.LOG_STATUS: status.value,
                    n.LOG_DURATION_MS: event.duration_ms,
                },
            ),
        )


def _graph(name: str | None) -> str:
    return repr(name) if name else "(unnamed graph)"


def _type(error: BaseException) -> str:
    return type(error).__qualname__


def _describe(error: BaseException, error_type: str | None = None) -> str:
    message = str(error)
    kind = error_type or _type(error)
    return f"{kind}: {message}" if message else kind
