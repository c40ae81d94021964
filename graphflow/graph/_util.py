"""Small helpers shared by the graph model: name checks, renames, source hashing."""

from __future__ import annotations

import hashlib
import inspect
import keyword
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graphflow.exceptions import GraphConfigError, did_you_mean

__all__ = [
    "check_identifier",
    "function_hash",
    "normalize_renames",
    "rename_error",
]


def check_identifier(name: object, what: str, owner: str | None = None) -> str:
    """Return ``name`` if it is a usable identifier, else raise :class:`GraphConfigError`."""
    if what == "node" and name == "<lambda>":
        raise GraphConfigError(
            "A lambda has no usable node name ('<lambda>').\n\n"
            "How to fix: pass one: node(lambda x: x + 1, output_name='y', name='add_one')."
        )
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        where = f" of '{owner}'" if owner else ""
        raise GraphConfigError(
            f"Invalid {what} name {name!r}{where}.\n\n"
            f"The problem: {what} names must be Python identifiers (letters, digits, '_', "
            f"not starting with a digit, not a keyword) so they can be passed as keyword "
            f"arguments and joined into node paths with '/'.\n\n"
            f"How to fix: use a name like {_suggest_identifier(name)!r}."
        )
    return name


def _suggest_identifier(name: object) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name)) or "name"
    if text[0].isdigit():
        text = "_" + text
    return text + "_" if keyword.iskeyword(text) else text


def normalize_renames(
    mapping: Mapping[str, str] | None, kwargs: Mapping[str, str], method: str
) -> dict[str, str]:
    """Merge ``.with_x({"old": "new"})`` and ``.with_x(old="new")`` into one dict."""
    merged: dict[str, str] = {}
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            raise GraphConfigError(
                f"{method}() takes a dict of renames or keyword arguments, got "
                f"{type(mapping).__name__}.\n\nHow to fix: {method}(old_name='new_name')."
            )
        merged.update(mapping)
    merged.update(kwargs)
    return merged


def rename_error(
    node_name: str, what: str, unknown: str, current: Iterable[str], history: Iterable[str]
) -> GraphConfigError:
    """Build the error for renaming a name that the node does not have."""
    names = list(current)
    past = list(history)
    applied = f"\nRenames already applied: {', '.join(past)}." if past else ""
    return GraphConfigError(
        f"Node '{node_name}' has no {what} named '{unknown}'.{did_you_mean(unknown, names)}\n\n"
        f"Its current {what}s are: {', '.join(names) or '(none)'}.{applied}\n\n"
        f"How to fix: rename one of the current {what}s."
    )


def function_hash(func: Callable[..., Any]) -> str:
    """Hash a function's source (falling back to its bytecode), stable across processes."""
    target = inspect.unwrap(func)
    try:
        data = inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            data = repr(getattr(target, "__qualname__", target)).encode()
        else:
            data = code.co_code + repr(code.co_consts).encode() + repr(code.co_names).encode()
    return hashlib.sha256(data).hexdigest()
