"""An in-process LRU cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from graphflow.cache.base import Cache
from graphflow.exceptions import GraphConfigError

__all__ = ["MemoryCache"]


class MemoryCache(Cache):
    """A thread-safe, least-recently-used cache kept in memory.

    Values are stored as they are (not copied or pickled), so a hit returns the
    very object that was stored: don't mutate cached outputs.

    Args:
        max_size: the most entries kept; past it the least recently used entry
            is dropped. ``None`` (the default) keeps every entry.

    Raises:
        GraphConfigError: ``max_size`` is not a positive int or ``None``.

    Example:
        >>> cache = MemoryCache(max_size=2)
        >>> cache.set("a", 1)
        >>> cache.get("a")
        (True, 1)
        >>> cache.get("missing")
        (False, None)
    """

    def __init__(self, max_size: int | None = None) -> None:
        # bool is an int subclass; MemoryCache(max_size=True) is a mistake, not size 1.
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1
        ):
            raise GraphConfigError(
                f"MemoryCache(max_size={max_size!r}): max_size must be a positive int or None. "
                "How to fix: pass the number of entries to keep (for example max_size=1000), "
                "or max_size=None for no limit."
            )
        self._max_size = max_size
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def max_size(self) -> int | None:
        """The most entries kept, or ``None`` for no limit."""
        return self._max_size

    def get(self, key: str) -> tuple[bool, Any]:
        """Look a key up and mark it as the most recently used.

        Args:
            key: the entry's key.

        Returns:
            ``(True, value)`` on a hit, ``(False, None)`` on a miss.
        """
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                return (False, None)
            self._data.move_to_end(key)
            return (True, value)

    def set(self, key: str, value: Any) -> None:
        """Store a value, then drop the least recently used entries past ``max_size``.

        Args:
            key: the entry's key.
            value: the value, stored as is.
        """
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if self._max_size is not None:
                while len(self._data) > self._max_size:
                    self._data.popitem(last=False)

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __repr__(self) -> str:
        return f"MemoryCache(max_size={self._max_size!r})"
