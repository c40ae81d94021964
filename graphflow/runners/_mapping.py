"""Expanding map inputs into items (zip or product), shared by map() and GraphNode.map_over."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from graphflow.exceptions import InputError, did_you_mean

__all__ = ["map_params", "map_values"]


def map_params(map_over: object, inputs: Mapping[str, Any], mode: object) -> tuple[str, ...]:
    """Validate ``map_over`` and ``map_mode`` against the inputs; return the names."""
    names: tuple[str, ...]
    if isinstance(map_over, str):
        names = (map_over,)
    elif isinstance(map_over, list | tuple) and map_over:
        names = tuple(map_over)
    else:
        raise InputError(
            f"map_over must be an input name or a non-empty list of names, got {map_over!r}."
            f"\n\nHow to fix: runner.map(graph, {{'x': [1, 2, 3]}}, map_over='x')."
        )
    for name in names:
        if not isinstance(name, str):
            raise InputError(f"map_over names must be str, got {type(name).__name__} {name!r}.")
        if name not in inputs:
            raise InputError(
                f"map_over names '{name}', but inputs has no '{name}'."
                f"{did_you_mean(name, inputs)}\n\n"
                f"How to fix: pass the list to iterate: inputs={{'{name}': [...]}}."
            )
    if len(set(names)) != len(names):
        raise InputError(f"map_over names an input more than once: {list(names)}.")
    if mode not in ("zip", "product"):
        raise InputError(f"map_mode must be 'zip' or 'product', got {mode!r}.")
    return names


def map_values(
    names: tuple[str, ...], inputs: Mapping[str, Any], mode: str
) -> list[tuple[Any, ...]]:
    """The per-item value tuples of the mapped names (zip: equal lengths; product)."""
    columns: list[Sequence[Any]] = []
    for name in names:
        value = inputs[name]
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            raise InputError(
                f"map_over input '{name}' must be a list of items, got "
                f"{type(value).__name__}.\n\nHow to fix: pass a list, e.g. "
                f"{{'{name}': [{value!r}]}} for one item."
            )
        columns.append(value if isinstance(value, Sequence) else list(value))
    if mode == "product":
        return list(itertools.product(*columns))
    lengths = {name: len(col) for name, col in zip(names, columns, strict=True)}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"'{n}' has {k}" for n, k in lengths.items())
        raise InputError(
            f"map_mode='zip' needs lists of equal length, but {shown}.\n\n"
            f"How to fix: make the lists the same length, or use map_mode='product' for "
            f"every combination."
        )
    return list(zip(*columns, strict=True))
