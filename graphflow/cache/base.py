"""The cache interface and the key function shared by every cache backend."""

from __future__ import annotations

import abc
import hashlib
import pickle
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

__all__ = ["Cache", "cache_key"]

# Changing how keys are built must change this tag, so old entries become misses.
_KEY_FORMAT = "graphflow-cache-key/1"
_by_name = itemgetter(0)


class Cache(abc.ABC):
    """Where a runner keeps the outputs of nodes built with ``cache=True``.

    Implementations must be safe to call from several threads. A backend that
    cannot store or read a value reports a miss; it never raises into a run.

    Example:
        >>> class DictCache(Cache):
        ...     def __init__(self) -> None:
        ...         self.data: dict[str, Any] = {}
        ...     def get(self, key: str) -> tuple[bool, Any]:
        ...         return (key in self.data, self.data.get(key))
        ...     def set(self, key: str, value: Any) -> None:
        ...         self.data[key] = value
        >>> DictCache().get("k")
        (False, None)
    """

    @abc.abstractmethod
    def get(self, key: str) -> tuple[bool, Any]:
        """Look a key up.

        Args:
            key: a key made by :func:`cache_key`.

        Returns:
            ``(True, value)`` on a hit, ``(False, None)`` on a miss. A stored
            ``None`` is a hit: ``(True, None)``.
        """

    @abc.abstractmethod
    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, replacing any previous value.

        Args:
            key: a key made by :func:`cache_key`.
            value: the node's output. A backend that cannot store it skips it.
        """


def cache_key(definition_hash: str, inputs: Mapping[str, Any]) -> str | None:
    """Build the cache key of one node call.

    The key is the SHA-256 hex digest of the pickle (protocol 5) of the node's
    definition hash and its input values, sorted by input name (so the order
    inputs were given in does not matter).

    Keys are stable across processes for values whose pickle is deterministic:
    ints, floats, strs, bytes, tuples, lists, and dicts built in the same
    insertion order. Values whose pickle varies between processes give a miss
    there, never a wrong hit: a ``set`` or ``frozenset`` of strings iterates in
    an order that depends on hash randomization (``PYTHONHASHSEED``), and a
    dict built in another insertion order pickles differently. Values that
    pickle alike are treated as equal, so a type whose pickle drops part of its
    state can share a key with a different value of that type.

    Args:
        definition_hash: the node's ``definition_hash``.
        inputs: the node's input values, by input name.

    Returns:
        A 64-character hex string, or ``None`` when the inputs cannot be pickled
        (a lambda, a lock, an object whose pickling raises): the caller treats
        ``None`` as a miss, never as an error.

    Example:
        >>> cache_key("abc", {"x": 1, "y": 2}) == cache_key("abc", {"y": 2, "x": 1})
        True
        >>> cache_key("abc", {"f": lambda: 1}) is None
        True
    """
    try:
        items = sorted(inputs.items(), key=_by_name)
        data = pickle.dumps((_KEY_FORMAT, definition_hash, items), protocol=5)
    except Exception:  # any failure to pickle (or to sort names) is a miss, by contract
        return None
    return hashlib.sha256(data).hexdigest()
