"""Checks of what a run is given: input names, missing inputs, ``select``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphflow.exceptions import InputError, MissingInputError, did_you_mean
from graphflow.runners._plan import Plan

__all__ = ["check_inputs", "check_missing", "resolve_select"]


def check_inputs(plan: Plan, inputs: Mapping[str, Any]) -> None:
    """Reject unknown input names (with a hint) and non-mapping inputs."""
    if not isinstance(inputs, Mapping):
        raise InputError(
            f"inputs must be a dict of name -> value, got {type(inputs).__name__}.\n\n"
            f"How to fix: runner.run(graph, {{'x': 1}})."
        )
    for key in inputs:
        if key not in plan.accepts:
            label = f"graph '{plan.name}'" if plan.name else "the graph"
            raise InputError(
                f"Unknown input '{key}' for {label}.{did_you_mean(str(key), plan.accepts)}\n\n"
                f"Inputs it takes: {', '.join(sorted(plan.graph.inputs.all)) or '(none)'}.\n\n"
                f"How to fix: remove it or correct its name."
            )


def resolve_select(plan: Plan, select: Any) -> tuple[str, ...]:
    """The names a run returns: ``select``, or the leaf outputs (all outputs for a cycle)."""
    if select is None:
        return plan.default_select
    if isinstance(select, str):
        select = [select]
    names = tuple(select)
    for name in names:
        if name not in plan.outputs:
            label = f"graph '{plan.name}'" if plan.name else "the graph"
            raise InputError(
                f"select names '{name}', which {label} does not produce."
                f"{did_you_mean(str(name), plan.outputs)}\n\n"
                f"Outputs: {', '.join(plan.graph.outputs) or '(none)'}."
            )
    return names


def _skipped(plan: Plan, node: str, values: Mapping[str, Any]) -> bool:
    """A node whose every output is given runs never (core.md: a value supplied for a
    non-seed output skips its producer), so its own inputs are not needed."""
    np = plan.nodes[plan.index[node]]
    return bool(np.outputs) and not np.seed_out and all(o in values for o in np.outputs)


def _missing(plan: Plan, values: Mapping[str, Any]) -> MissingInputError | None:
    missing = [
        n
        for n in plan.required
        if n not in values and not all(_skipped(plan, c, values) for c in plan.needed_by[n])
    ]
    needed = {n: plan.needed_by.get(n, []) for n in missing}
    unseeded = []
    for comp, seeds, fed in plan.cycles:
        if seeds and not fed and not any(s in values for s in seeds):
            unseeded.append((comp, seeds))
    if not missing and not unseeded:
        return None
    label = f"graph '{plan.name}'" if plan.name else "the graph"
    lines = [f"  - '{n}' (needed by {', '.join(needed[n])})" for n in missing]
    for comp, seeds in unseeded:
        lines.append(
            f"  - one of {', '.join(repr(s) for s in seeds)} to start the cycle {' -> '.join(comp)}"
        )
        missing.extend(s for s in seeds if s not in missing)
    return MissingInputError(
        f"Missing inputs for {label}:\n" + "\n".join(lines) + "\n\nHow to fix: pass them in "
        "inputs={...}, or give them defaults with graph.bind(name=value).",
        missing,
        needed,
    )


def check_missing(plan: Plan, values: Mapping[str, Any]) -> None:
    """Raise MissingInputError for every missing required input and unseeded cycle."""
    error = _missing(plan, values)
    if error is not None:
        raise error
