"""The exceptions graphflow raises.

Every exception graphflow raises for misuse or a failed check derives from
:class:`GraphflowError`. Where the seed API names a built-in type, the graphflow
exception also subclasses it, so ``except ValueError`` keeps working::

    GraphflowError
    ├── GraphConfigError (ValueError)      a graph or node is built wrong (raised at build time)
    │   └── ImmutableGraphError (AttributeError)  an attribute of a built Graph was assigned
    ├── IncompatibleRunnerError            a runner cannot run a graph's features
    ├── InputError (ValueError)            run()/map() got inputs it cannot use
    │   └── MissingInputError              required inputs (or cycle seeds) were not given
    ├── ExecutionError                     a run could not go on
    │   ├── ConflictError                  two ready nodes produce one name in one superstep
    │   ├── InfiniteLoopError              more supersteps than max_iterations
    │   ├── NodeOutputError                a node returned the wrong number of outputs
    │   └── RouteError                     a gate returned a target it does not have
    ├── RunHandleError (RuntimeError)      a RunHandle was used out of order
    └── MissingDependencyError (ImportError)  an optional extra is not installed

Messages say what happened, why, and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConflictError",
    "ExecutionError",
    "GraphConfigError",
    "GraphflowError",
    "ImmutableGraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputError",
    "MissingDependencyError",
    "MissingInputError",
    "NodeOutputError",
    "RouteError",
    "RunHandleError",
    "did_you_mean",
]


class GraphflowError(Exception):
    """Root of every exception graphflow raises on purpose."""


class GraphConfigError(GraphflowError, ValueError):
    """A graph, node or runner option is built wrong. Raised as early as possible."""


class ImmutableGraphError(GraphConfigError, AttributeError):
    """An attribute of a built Graph was assigned: graphs are immutable."""


class IncompatibleRunnerError(GraphflowError):
    """The runner does not support a feature the graph uses (cycles, gates, ...)."""


class InputError(GraphflowError, ValueError):
    """The inputs given to ``run()`` or ``map()`` cannot be used."""


class MissingInputError(InputError):
    """Required inputs, or a seed for each cycle, were not given.

    Attributes:
        missing: every missing name.
        needed_by: for each missing name, the nodes that consume it.
    """

    def __init__(
        self,
        message: str,
        missing: Iterable[str] = (),
        needed_by: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.missing = tuple(missing)
        self.needed_by = dict(needed_by or {})


class ExecutionError(GraphflowError):
    """A run could not go on for a reason of graphflow's own (not a node's exception)."""


class ConflictError(ExecutionError):
    """Two nodes ready in one superstep would produce the same name."""


class InfiniteLoopError(ExecutionError):
    """The run took more supersteps than ``max_iterations``."""


class NodeOutputError(ExecutionError):
    """A node with several output names returned the wrong number of values."""


class RouteError(ExecutionError):
    """A gate returned a decision that is not one of its targets."""


class RunHandleError(GraphflowError, RuntimeError):
    """A ``RunHandle`` was used out of order (result read too early, respond with nothing asked)."""


class MissingDependencyError(GraphflowError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or ``""`` when none is close."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
