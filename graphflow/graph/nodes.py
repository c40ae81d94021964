"""Nodes: the units a graph wires together by input and output names."""

from __future__ import annotations

import copy
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, overload

from graphflow.exceptions import GraphConfigError
from graphflow.graph._util import (
    check_identifier,
    function_hash,
    normalize_renames,
    rename_error,
)

__all__ = ["BaseNode", "FunctionNode", "node"]

F = TypeVar("F", bound=Callable[..., Any])
N = TypeVar("N", bound="BaseNode")


class BaseNode:
    """What every node has: a name, input names, output names, and renamed copies.

    Nodes are immutable: ``with_name``, ``with_inputs`` and ``with_outputs`` return copies.
    """

    kind: ClassVar[str] = "function"
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    #: Inputs that may be left out (the node has a default for them).
    optional_inputs: frozenset[str]
    #: Inputs that carry answers to interrupts inside a nested graph: they make no edges.
    answer_inputs: frozenset[str] = frozenset()
    is_async: bool = False
    is_generator: bool = False
    cache: bool = False
    _history: tuple[str, ...] = ()

    @property
    def definition_hash(self) -> str:
        """A hash of what the node does, stable across processes."""
        raise NotImplementedError

    def input_type(self, name: str) -> Any:
        """The annotated type of input ``name``, or ``None`` when not annotated."""
        return None

    def output_type(self, name: str) -> Any:
        """The annotated type of output ``name``, or ``None`` when not annotated."""
        return None

    def with_name(self: N, name: str) -> N:
        """Return a copy named ``name``."""
        clone = copy.copy(self)
        clone.name = check_identifier(name, "node")
        clone._history = (*self._history, f"name {self.name!r} -> {name!r}")
        return clone

    def with_inputs(self: N, mapping: Mapping[str, str] | None = None, /, **renames: str) -> N:
        """Return a copy whose inputs are renamed (``old="new"`` or ``{"old": "new"}``)."""
        merged = normalize_renames(mapping, renames, "with_inputs")
        for old in merged:
            if old not in self.inputs:
                raise rename_error(self.name, "input", old, self.inputs, self._history)
        for new in merged.values():
            check_identifier(new, "input", self.name)
        check_distinct(self.name, "input", tuple(merged.get(n, n) for n in self.inputs), merged)
        clone = copy.copy(self)
        clone._rename_inputs(merged)
        clone._history = (*self._history, *(f"input {o!r} -> {n!r}" for o, n in merged.items()))
        return clone

    def with_outputs(self: N, mapping: Mapping[str, str] | None = None, /, **renames: str) -> N:
        """Return a copy whose outputs are renamed (``old="new"`` or ``{"old": "new"}``)."""
        merged = normalize_renames(mapping, renames, "with_outputs")
        for old in merged:
            if old not in self.outputs:
                raise rename_error(self.name, "output", old, self.outputs, self._history)
        for new in merged.values():
            check_identifier(new, "output", self.name)
        check_distinct(self.name, "output", tuple(merged.get(n, n) for n in self.outputs), merged)
        clone = copy.copy(self)
        clone._rename_outputs(merged)
        clone._history = (*self._history, *(f"output {o!r} -> {n!r}" for o, n in merged.items()))
        return clone

    def _rename_inputs(self, renames: dict[str, str]) -> None:
        self.inputs = tuple(renames.get(n, n) for n in self.inputs)
        self.optional_inputs = frozenset(renames.get(n, n) for n in self.optional_inputs)
        self.answer_inputs = frozenset(renames.get(n, n) for n in self.answer_inputs)

    def _rename_outputs(self, renames: dict[str, str]) -> None:
        self.outputs = tuple(renames.get(n, n) for n in self.outputs)

    def __repr__(self) -> str:
        ins = ", ".join(self.inputs)
        outs = ", ".join(self.outputs)
        return f"{type(self).__name__}({self.name!r}, inputs=({ins}), outputs=({outs}))"


class FunctionNode(BaseNode):
    """A plain function wrapped as a node.

    Its inputs are the function's parameters (renamable); a parameter with a default is
    optional. With one output name the return value is stored as is; with several, the
    returned sequence is unpacked. ``def``, ``async def``, generators and async generators
    are accepted; a generator's value is its chunks joined when all are ``str``, else the list.

    Example:
        >>> @node(output_name="doubled")
        ... def double(x: int) -> int:
        ...     return x * 2
        >>> double(3), double.inputs, double.outputs
        (6, ('x',), ('doubled',))
    """

    kind: ClassVar[str] = "function"

    def __init__(
        self,
        func: Callable[..., Any],
        output_name: str | tuple[str, ...] | list[str] | None = None,
        *,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
        cache: bool = False,
    ) -> None:
        if isinstance(func, BaseNode):
            raise GraphConfigError(
                f"{func!r} is already a node.\n\n"
                f"How to fix: use .with_name()/.with_inputs()/.with_outputs() to change it."
            )
        if not callable(func):
            raise GraphConfigError(
                f"A node needs a function, got {type(func).__name__} {func!r}.\n\n"
                f"How to fix: decorate a function: @node(output_name='result')."
            )
        self.func = func
        label = name if name is not None else getattr(func, "__name__", None)
        self.name = check_identifier(label, "node")
        self._params = _parameters(func, self.name)
        self.inputs = tuple(self._params)
        self.optional_inputs = frozenset(
            p.name for p in self._params.values() if p.default is not inspect.Parameter.empty
        )
        #: input name -> parameter name of the function
        self.param_of: dict[str, str] = {n: n for n in self.inputs}
        self.outputs = _output_names(output_name, self.name)
        self.cache = bool(cache)
        target = inspect.unwrap(func)
        self.is_generator = inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(
            target
        )
        self.is_async = inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)
        self._hash: str | None = None
        self._hints: dict[str, Any] | None = None
        functools.update_wrapper(self, func, updated=())
        if rename_inputs:
            merged = normalize_renames(rename_inputs, {}, "rename_inputs")
            for old in merged:
                if old not in self.inputs:
                    raise rename_error(self.name, "input", old, self.inputs, ())
            for new in merged.values():
                check_identifier(new, "input", self.name)
            check_distinct(self.name, "input", tuple(merged.get(n, n) for n in self.inputs), merged)
            self._rename_inputs(merged)
            self._history = tuple(f"input {o!r} -> {n!r}" for o, n in merged.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly."""
        return self.func(*args, **kwargs)

    @property
    def definition_hash(self) -> str:
        """SHA-256 of the function's source, computed once."""
        if self._hash is None:
            self._hash = function_hash(self.func)
        return self._hash

    def _rename_inputs(self, renames: dict[str, str]) -> None:
        self.param_of = {renames.get(i, i): p for i, p in self.param_of.items()}
        super()._rename_inputs(renames)

    def _type_hints(self) -> dict[str, Any]:
        if self._hints is None:
            try:
                self._hints = typing.get_type_hints(inspect.unwrap(self.func))
            except Exception:  # unresolvable forward references: treat as unannotated
                self._hints = {}
        return self._hints

    def input_type(self, name: str) -> Any:
        param = self.param_of.get(name)
        return None if param is None else self._type_hints().get(param)

    def output_type(self, name: str) -> Any:
        if name not in self.outputs or self.is_generator:
            return None
        ret = self._type_hints().get("return")
        if ret is None or len(self.outputs) == 1:
            return ret
        args = typing.get_args(ret)
        if typing.get_origin(ret) is tuple and len(args) == len(self.outputs):
            return args[self.outputs.index(name)]
        return None


def check_distinct(
    node_name: str, what: str, names: tuple[str, ...], renames: dict[str, str]
) -> None:
    """Renames must not map two names onto one (two parameters cannot share an input)."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GraphConfigError(
            f"Renaming {what}s of node '{node_name}' with {renames} would give it the "
            f"{what} name(s) {dupes} twice.\n\nHow to fix: give each {what} its own name."
        )


def _parameters(func: Callable[..., Any], name: str) -> dict[str, inspect.Parameter]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise GraphConfigError(
            f"Cannot read the parameters of node '{name}': {exc}.\n\n"
            f"How to fix: wrap it in a plain `def` with named parameters."
        ) from exc
    params: dict[str, inspect.Parameter] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise GraphConfigError(
                f"Node '{name}' has parameter {p} which cannot be wired by name.\n\n"
                f"The problem: graphflow passes every input as a keyword argument, so "
                f"*args, **kwargs and positional-only parameters cannot receive values.\n\n"
                f"How to fix: give the function named parameters, one per input."
            )
        params[p.name] = p
    return params


def _output_names(output_name: object, node_name: str) -> tuple[str, ...]:
    if output_name is None:
        return ()
    if isinstance(output_name, str):
        return (check_identifier(output_name, "output", node_name),)
    if isinstance(output_name, tuple | list):
        names = tuple(check_identifier(n, "output", node_name) for n in output_name)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise GraphConfigError(
                f"Node '{node_name}' names output(s) {dupes} more than once.\n\n"
                f"How to fix: give each output a distinct name."
            )
        return names
    raise GraphConfigError(
        f"output_name of node '{node_name}' must be a str or a tuple of str, got "
        f"{type(output_name).__name__}.\n\nHow to fix: @node(output_name='result') or "
        f"@node(output_name=('a', 'b'))."
    )


@overload
def node(func: F, /) -> FunctionNode: ...
@overload
def node(
    func: F,
    /,
    *,
    output_name: str | tuple[str, ...] | None = ...,
    name: str | None = ...,
    rename_inputs: Mapping[str, str] | None = ...,
    cache: bool = ...,
) -> FunctionNode: ...
@overload
def node(
    func: None = None,
    /,
    *,
    output_name: str | tuple[str, ...] | None = ...,
    name: str | None = ...,
    rename_inputs: Mapping[str, str] | None = ...,
    cache: bool = ...,
) -> Callable[[Callable[..., Any]], FunctionNode]: ...
def node(
    func: Callable[..., Any] | None = None,
    /,
    *,
    output_name: str | tuple[str, ...] | None = None,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
) -> FunctionNode | Callable[[Callable[..., Any]], FunctionNode]:
    """Wrap a function into a :class:`FunctionNode` (as ``@node`` or ``@node(...)``).

    Args:
        func: the function (when used as ``@node`` or ``node(f, ...)``).
        output_name: one output name, a tuple of names, or ``None`` for no output.
        name: the node's name (default: the function's name).
        rename_inputs: ``{"param": "input_name"}`` renames.
        cache: cache results by input values in the runner's cache.

    Example:
        >>> @node(output_name=("total", "count"))
        ... def stats(xs: list[int]) -> tuple[int, int]:
        ...     return sum(xs), len(xs)
    """

    def wrap(f: Callable[..., Any]) -> FunctionNode:
        return FunctionNode(f, output_name, name=name, rename_inputs=rename_inputs, cache=cache)

    return wrap if func is None else wrap(func)
