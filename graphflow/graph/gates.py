"""Gates: nodes that produce no data and decide which of their targets may run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Final

from graphflow.exceptions import GraphConfigError, RouteError, did_you_mean
from graphflow.graph._util import check_identifier
from graphflow.graph.nodes import BaseNode, FunctionNode

__all__ = ["END", "GateNode", "IfElseNode", "RouteNode", "ifelse", "route"]


class _End:
    """The ``END`` sentinel: a gate that returns it stops its path."""

    _instance: ClassVar[_End | None] = None

    def __new__(cls) -> _End:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "END"

    def __str__(self) -> str:
        return "END"

    def __reduce__(self) -> str:
        return "END"


END: Final = _End()

Target = str | _End | BaseNode


def _target_name(target: object, gate: str) -> str | _End:
    if target is END or target == "END":
        return END
    if isinstance(target, BaseNode):
        return target.name
    if isinstance(target, str):
        return check_identifier(target, "gate target", gate)
    raise GraphConfigError(
        f"Gate '{gate}' has target {target!r} of type {type(target).__name__}.\n\n"
        f"How to fix: name targets by node name (a str), a node object, or END."
    )


class GateNode(FunctionNode):
    """Base of gates: a function whose result picks targets; it has no outputs."""

    targets: tuple[str | _End, ...]

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(func, None, name=name, rename_inputs=rename_inputs)
        if self.is_generator:
            raise GraphConfigError(
                f"Gate '{self.name}' is a generator; a gate must return its decision.\n\n"
                f"How to fix: return the target name instead of yielding."
            )

    @property
    def node_targets(self) -> tuple[str, ...]:
        """Targets that are nodes (END left out)."""
        return tuple(t for t in self.targets if isinstance(t, str))

    def with_outputs(self, mapping: Any = None, /, **renames: str) -> GateNode:
        raise GraphConfigError(
            f"Gate '{self.name}' has no outputs to rename: gates only decide which targets "
            f"run.\n\nHow to fix: rename the outputs of the nodes the gate targets instead."
        )

    def decide(self, result: Any) -> str | _End:
        """Turn the function's result into a target name or END (raises RouteError)."""
        raise NotImplementedError


class RouteNode(GateNode):
    """A gate whose function returns one target name, ``END``, or ``None`` (the fallback).

    Example:
        >>> @route(targets=["retry", END])
        ... def check(score: float) -> str:
        ...     return END if score > 0.8 else "retry"
    """

    kind: ClassVar[str] = "route"

    def __init__(
        self,
        func: Callable[..., Any],
        targets: Sequence[Target],
        fallback: Target | None = None,
        *,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(func, name=name, rename_inputs=rename_inputs)
        if isinstance(targets, str | BaseNode) or not isinstance(targets, Sequence):
            raise GraphConfigError(
                f"route() of '{self.name}' needs a list of targets, got {targets!r}.\n\n"
                f"How to fix: @route(targets=['a', 'b', END])."
            )
        if not targets:
            raise GraphConfigError(
                f"Gate '{self.name}' has no targets.\n\nHow to fix: list at least one target."
            )
        names = tuple(dict.fromkeys(_target_name(t, self.name) for t in targets))
        self.fallback = None if fallback is None else _target_name(fallback, self.name)
        if self.fallback is not None and self.fallback not in names:
            names = (*names, self.fallback)
        self.targets = names

    def decide(self, result: Any) -> str | _End:
        if result is None:
            return END if self.fallback is None else self.fallback
        if result is END or result == "END":
            return END
        if isinstance(result, BaseNode):
            result = result.name
        if isinstance(result, str) and result in self.targets:
            return result
        options = [str(t) for t in self.targets]
        hint = did_you_mean(result, options) if isinstance(result, str) else ""
        raise RouteError(
            f"Gate '{self.name}' returned {result!r}, which is not one of its targets."
            f"{hint}\n\nValid targets: {', '.join(options)} (or None for "
            f"{'the fallback' if self.fallback is not None else 'END'}).\n\n"
            f"How to fix: return one of the targets, or add it to @route(targets=[...])."
        )


class IfElseNode(GateNode):
    """A gate whose function returns a bool: ``when_true`` or ``when_false`` may run.

    Example:
        >>> @ifelse(when_true="publish", when_false=END)
        ... def approved(review: str) -> bool:
        ...     return review == "ok"
    """

    kind: ClassVar[str] = "ifelse"

    def __init__(
        self,
        func: Callable[..., Any],
        when_true: Target,
        when_false: Target,
        *,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(func, name=name, rename_inputs=rename_inputs)
        self.when_true = _target_name(when_true, self.name)
        self.when_false = _target_name(when_false, self.name)
        self.targets = tuple(dict.fromkeys((self.when_true, self.when_false)))

    def decide(self, result: Any) -> str | _End:
        if result is True:
            return self.when_true
        if result is False:
            return self.when_false
        raise RouteError(
            f"Gate '{self.name}' (an @ifelse) returned {result!r}, which is not a bool.\n\n"
            f"How to fix: return True (-> {self.when_true}) or False (-> {self.when_false})."
        )


def route(
    targets: Sequence[Target],
    fallback: Target | None = None,
    *,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], RouteNode]:
    """Decorate a function returning a target name (or END / None) into a :class:`RouteNode`."""

    def wrap(func: Callable[..., Any]) -> RouteNode:
        return RouteNode(func, targets, fallback, name=name, rename_inputs=rename_inputs)

    return wrap


def ifelse(
    when_true: Target,
    when_false: Target,
    *,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], IfElseNode]:
    """Decorate a function returning a bool into an :class:`IfElseNode`."""

    def wrap(func: Callable[..., Any]) -> IfElseNode:
        return IfElseNode(func, when_true, when_false, name=name, rename_inputs=rename_inputs)

    return wrap
