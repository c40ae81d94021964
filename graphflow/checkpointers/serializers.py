"""How checkpointers turn values into bytes: plain JSON by default, pickle when trusted."""

from __future__ import annotations

import json
import pickle
from typing import Any, Protocol, runtime_checkable

__all__ = ["JsonSerializer", "PickleSerializer", "Serializer"]


@runtime_checkable
class Serializer(Protocol):
    """Turns one value into bytes and back.

    ``dumps`` raises (any exception) for a value it cannot store; the checkpointer turns
    that into a :class:`~graphflow.checkpointers.SerializationError` naming the node and
    the output. ``loads(dumps(v))`` must give a value equal to ``v``.

    Example:
        >>> class Utf8:
        ...     def dumps(self, value: Any) -> bytes:
        ...         return value.encode()
        ...     def loads(self, data: bytes) -> Any:
        ...         return data.decode()
        >>> isinstance(Utf8(), Serializer)
        True
    """

    def dumps(self, value: Any) -> bytes:
        """Serialize ``value``; raise when it cannot be stored."""
        ...

    def loads(self, data: bytes) -> Any:
        """Rebuild a value from what ``dumps`` returned."""
        ...


_SCALARS = (str, int, float, bool, type(None))


def _describe(value: Any) -> str:
    kind = type(value)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _check(value: Any, path: str, active: set[int]) -> None:
    """Raise TypeError unless ``value`` round-trips through JSON unchanged."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is list or kind is dict:
        if id(value) in active:
            raise TypeError(f"{path} contains itself (a circular reference)")
        active.add(id(value))
        if kind is list:
            for i, item in enumerate(value):
                _check(item, f"{path}[{i}]", active)
        else:
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(
                        f"{path} has a key of type {_describe(key)} ({key!r}); "
                        "JSON keys must be str"
                    )
                _check(item, f"{path}[{key!r}]", active)
        active.discard(id(value))
        return
    where = "" if path == "value" else f" (at {path})"
    raise TypeError(f"{_describe(value)}{where} is not JSON-serializable")


class JsonSerializer:
    """Plain JSON: ``str``, ``int``, ``float``, ``bool``, ``None``, and lists and dicts of them.

    Only values that come back exactly as they were are accepted: a tuple (it would come
    back as a list), a dict with non-``str`` keys (they would come back as strings), or a
    subclass of a JSON type (an enum, a numpy float) raises ``TypeError`` naming the
    offending type and where it sits inside the value. The stored data is readable by any
    JSON tool and safe to load from an untrusted database.

    Example:
        >>> s = JsonSerializer()
        >>> s.loads(s.dumps({"messages": ["hi", 1, 2.5, None]}))
        {'messages': ['hi', 1, 2.5, None]}
    """

    def dumps(self, value: Any) -> bytes:
        """Serialize ``value`` as compact UTF-8 JSON.

        Raises:
            TypeError: the value would not come back unchanged from JSON.
        """
        try:
            _check(value, "value", set())
        except RecursionError:
            raise TypeError("the value is nested too deeply to serialize") from None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        """Parse UTF-8 JSON."""
        return json.loads(data)

    def __repr__(self) -> str:
        return "JsonSerializer()"


class PickleSerializer:
    """Pickle (protocol 5): stores almost any Python value.

    Loading a pickle can run arbitrary code, so use this only for databases that nobody
    else can write: a checkpoint database written by an attacker would run their code in
    the process that reads it.

    Example:
        >>> s = PickleSerializer()
        >>> s.loads(s.dumps({"point": (1, 2), "tags": {"a"}}))
        {'point': (1, 2), 'tags': {'a'}}
    """

    def dumps(self, value: Any) -> bytes:
        """Pickle ``value``; raises whatever pickle raises for an unpicklable value."""
        return pickle.dumps(value, protocol=5)

    def loads(self, data: bytes) -> Any:
        """Unpickle: only for data you trust."""
        return pickle.loads(data)

    def __repr__(self) -> str:
        return "PickleSerializer()"
