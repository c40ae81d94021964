"""Events, processors and the dispatcher: the contract between runners and telemetry.

This package depends only on :mod:`graphflow.exceptions` and the standard library.
"""

from graphflow.events.defaults import (
    clear_default_processors,
    get_default_processors,
    set_default_processors,
)
from graphflow.events.dispatcher import (
    EventDispatcher,
    processor_error_counts,
    record_telemetry_drop,
    reset_processor_error_counts,
    reset_telemetry_drop_counts,
    telemetry_drop_counts,
)
from graphflow.events.processor import AsyncEventProcessor, EventProcessor, TypedEventProcessor
from graphflow.events.types import (
    EVENT_TYPES,
    CacheHitEvent,
    Event,
    InterruptEvent,
    MapEndEvent,
    MapStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    StreamingChunkEvent,
)

__all__ = [
    "EVENT_TYPES",
    "AsyncEventProcessor",
    "CacheHitEvent",
    "Event",
    "EventDispatcher",
    "EventProcessor",
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
    "TypedEventProcessor",
    "clear_default_processors",
    "get_default_processors",
    "processor_error_counts",
    "record_telemetry_drop",
    "reset_processor_error_counts",
    "reset_telemetry_drop_counts",
    "set_default_processors",
    "telemetry_drop_counts",
]
