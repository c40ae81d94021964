"""The events a run emits: frozen dataclasses forming a span tree.

Every event carries the same envelope:

- ``run_id``: unique per ``run()`` call (each ``map()`` item is a run of its own).
- ``span_id``: unique per run, node execution (each cycle pass, each map item) or map call.
- ``parent_span_id``: the enclosing span; ``None`` for a top-level run and its top-level nodes.
  Nodes inside a nested graph have the GraphNode's ``span_id`` as parent.
- ``timestamp``: Unix time in seconds (``time.time()``).

Fields are the seed's, in the seed's order; fields graphflow adds come after them and have
defaults, so every event can be built from the seed's fields alone. Events name nodes by
string, never by object, so this module depends on nothing else in graphflow.

Example:
    >>> event = NodeEndEvent("r1", "s2", None, "embed", [0.1], 1.5, False, 0.0)
    >>> event.node_path is None
    True
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "EVENT_TYPES",
    "CacheHitEvent",
    "Event",
    "InterruptEvent",
    "MapEndEvent",
    "MapStartEvent",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeStartEvent",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "RunStatus",
    "StreamingChunkEvent",
]


class RunStatus(enum.StrEnum):
    """How a run or a ``map()`` call ended; the same values are used in telemetry."""

    COMPLETED = "completed"
    PAUSED = "paused"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RunStartEvent:
    """A run began. Always the first event of a run; nested graphs emit none of their own.

    For a ``map()`` item, ``parent_span_id`` is the ``MapStartEvent.span_id``.

    Attributes:
        graph_name: the graph's name, if it has one.
        runner: ``"sync"``, ``"async"`` or ``"daft"``.
        workflow_id: the workflow id given to the run, if any.
        item_index: the item's position when the run is one item of a ``map()``.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    session_id: str | None
    inputs: dict[str, Any]
    timestamp: float
    graph_name: str | None = None
    runner: str | None = None
    workflow_id: str | None = None
    item_index: int | None = None


@dataclass(frozen=True, slots=True)
class NodeStartEvent:
    """A node began executing (once per execution: each cycle pass has its own span).

    Attributes:
        node_kind: ``"function"``, ``"route"``, ``"ifelse"``, ``"interrupt"`` or ``"graph"``.
        cacheable: a cache lookup happens; with no ``CacheHitEvent`` before the node's end
            event, the lookup missed.
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    node_name: str
    inputs: dict[str, Any]
    timestamp: float
    node_kind: str = "function"
    cacheable: bool = False
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class NodeEndEvent:
    """A node finished successfully; ``cached`` is true when its outputs came from the cache.

    Attributes:
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    node_name: str
    outputs: Any
    duration_ms: float
    cached: bool
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class StreamingChunkEvent:
    """A streaming node yielded a chunk; emitted between the node's start and end events.

    Attributes:
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    node_name: str
    chunk: str | Any
    chunk_index: int
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class CacheHitEvent:
    """A cacheable node's lookup hit; emitted right after its ``NodeStartEvent``.

    Attributes:
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    node_name: str
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class RouteDecisionEvent:
    """A gate chose a target (a node name, or ``"END"``); emitted before the gate's end event.

    ``span_id`` is the gate's node span.

    Attributes:
        node_path: ``"outer/inner"`` path of the gate inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    gate_name: str
    decision: str
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class NodeErrorEvent:
    """A node raised; replaces the node's end event. ``error_type`` is e.g. ``"ValueError"``.

    Attributes:
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    node_name: str
    error: Exception
    error_type: str
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class InterruptEvent:
    """An interrupt node paused the run to ask for ``value``'s answer.

    Emitted after the node's ``NodeStartEvent``; no end event follows (the run's end closes
    the node span). Resume with ``workflow_id`` (``None`` when none was given) and put the
    answer in ``response_param``.

    Attributes:
        node_path: ``"outer/inner"`` path of the node inside nested graphs.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    workflow_id: str | None
    interrupt_name: str
    value: Any
    response_param: str
    timestamp: float
    node_path: str | None = None


@dataclass(frozen=True, slots=True)
class RunEndEvent:
    """A run ended. Always the last event of a run: on success, on error and on pause.

    ``span_id`` is the run's span (the ``RunStartEvent.span_id``).

    Attributes:
        status: how the run ended.
        error: the exception that ended the run, when ``status`` is ``ERROR``.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    outputs: dict[str, Any]
    duration_ms: float
    iterations: int
    timestamp: float
    status: RunStatus = RunStatus.COMPLETED
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class MapStartEvent:
    """A ``map()`` call began; its items' runs have this ``span_id`` as parent.

    ``run_id`` identifies the map call; each item has its own run id.

    Attributes:
        graph_name: the graph's name, if it has one.
        size: the number of items.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    graph_name: str | None
    size: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class MapEndEvent:
    """A ``map()`` call ended, after the last item's ``RunEndEvent``.

    Attributes:
        duration_ms: wall time of the whole call.
        status: how the call ended, as a whole.
    """

    run_id: str
    span_id: str
    parent_span_id: str | None
    duration_ms: float
    status: RunStatus
    timestamp: float


Event: TypeAlias = (
    RunStartEvent
    | NodeStartEvent
    | NodeEndEvent
    | StreamingChunkEvent
    | CacheHitEvent
    | RouteDecisionEvent
    | NodeErrorEvent
    | InterruptEvent
    | RunEndEvent
    | MapStartEvent
    | MapEndEvent
)
"""Any event a runner emits."""

EVENT_TYPES: tuple[type, ...] = (
    RunStartEvent,
    NodeStartEvent,
    NodeEndEvent,
    StreamingChunkEvent,
    CacheHitEvent,
    RouteDecisionEvent,
    NodeErrorEvent,
    InterruptEvent,
    RunEndEvent,
    MapStartEvent,
    MapEndEvent,
)
"""Every event type, in the order of the ``Event`` union."""


def _slot_init(cls: type) -> Any:
    """The ``__init__`` dataclasses would generate for ``cls``, setting slots directly.

    A frozen dataclass's own ``__init__`` goes through ``object.__setattr__`` per field;
    calling each slot's descriptor is about 40% faster, and events are built per node. Same
    signature, defaults and semantics (instances stay frozen: only ``__setattr__`` is
    blocked). Defaults are immutable values; no event field has a default factory.
    """
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {}
    params, body = [], []
    for f in fields:
        if f.default_factory is not dataclasses.MISSING:  # pragma: no cover - none today
            raise TypeError(f"{cls.__name__}.{f.name}: default factories are not supported")
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    generated = cls.__dict__["__init__"]  # dataclasses' own, for its docs and annotations
    init.__doc__ = generated.__doc__
    init.__annotations__ = dict(generated.__annotations__)
    return init


for _cls in EVENT_TYPES:
    setattr(_cls, "__init__", _slot_init(_cls))  # noqa: B010 - mypy keeps the dataclass view
del _cls
