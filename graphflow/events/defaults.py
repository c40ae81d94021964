"""Process-wide default processors, used by runners built with ``event_processors=None``.

Runners read the defaults when a run starts, so setting them after building a runner still
applies to its next run. Prefer passing processors to the runner: defaults are global state.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphflow.events.processor import EventProcessor
from graphflow.exceptions import GraphConfigError

__all__ = ["clear_default_processors", "get_default_processors", "set_default_processors"]

_defaults: tuple[EventProcessor, ...] = ()


def set_default_processors(processors: Iterable[EventProcessor]) -> None:
    """Replace the default processors (duplicates, by identity, are dropped).

    Args:
        processors: the processors runners without their own should use.

    Raises:
        GraphConfigError: if an item is not an :class:`EventProcessor`.

    Example:
        >>> from graphflow.events import EventProcessor
        >>> set_default_processors([EventProcessor()])
        >>> len(get_default_processors())
        1
        >>> clear_default_processors()
    """
    global _defaults
    unique: dict[int, EventProcessor] = {}
    for processor in processors:
        if not isinstance(processor, EventProcessor):
            raise GraphConfigError(
                f"Default event processors must be EventProcessor instances; got "
                f"{type(processor).__qualname__}.\n\nHow to fix: subclass "
                "graphflow.EventProcessor (or TypedEventProcessor) and pass an instance."
            )
        unique.setdefault(id(processor), processor)
    _defaults = tuple(unique.values())


def get_default_processors() -> tuple[EventProcessor, ...]:
    """Return the default processors (empty unless set)."""
    return _defaults


def clear_default_processors() -> None:
    """Remove every default processor."""
    global _defaults
    _defaults = ()
