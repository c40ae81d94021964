"""GraphNode: a whole graph used as one node of another graph."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from graphflow.exceptions import GraphConfigError, did_you_mean
from graphflow.graph._util import check_identifier
from graphflow.graph.nodes import BaseNode

if TYPE_CHECKING:
    from graphflow.graph.graph import Graph

__all__ = ["GraphNode"]


class _CheckingRunner(Protocol):
    def check_graph(self, graph: Graph) -> None: ...


class GraphNode(BaseNode):
    """A nested graph. Made by ``graph.as_node(name=None, runner=None)``.

    Its inputs are the inner graph's inputs plus the response params of interrupts inside
    it; its outputs are all inner outputs under the same names (renamable with
    ``with_inputs`` / ``with_outputs``). ``map_over(*params)`` returns a copy that runs the
    inner graph once per item and outputs lists.

    Example:
        >>> inner = Graph([embed, retrieve], name="rag")
        >>> outer = Graph([fetch, inner.as_node()])
    """

    kind: ClassVar[str] = "graph"

    def __init__(self, graph: Graph, name: str | None = None, runner: Any = None) -> None:
        label = name if name is not None else graph.name
        if label is None:
            raise GraphConfigError(
                "as_node() needs a name: the graph has none.\n\n"
                "How to fix: Graph([...], name='rag').as_node() or graph.as_node(name='rag')."
            )
        self.graph = graph
        self.name = check_identifier(label, "node")
        spec = graph.inputs
        answers = graph.interrupt_responses
        self.inputs = tuple(dict.fromkeys((*spec.required, *spec.optional, *spec.seeds, *answers)))
        self.optional_inputs = frozenset((*spec.optional, *spec.seeds, *answers))
        self.answer_inputs = frozenset(answers)
        self.outputs = graph.outputs
        #: outer input name -> inner name; outer output name -> inner name
        self.inner_input: dict[str, str] = {n: n for n in self.inputs}
        self.inner_output: dict[str, str] = {n: n for n in self.outputs}
        self.is_async = False
        self.map_params: tuple[str, ...] = ()
        self.map_mode: Literal["zip", "product"] = "zip"
        self.explicit_runner = runner
        if runner is not None:
            check = getattr(runner, "check_graph", None)
            if check is None:
                raise GraphConfigError(
                    f"as_node(runner=...) of '{self.name}' got {runner!r}, which is not a "
                    f"graphflow runner.\n\nHow to fix: pass SyncRunner(), AsyncRunner() or "
                    f"DaftRunner()."
                )
            check(graph)

    @property
    def definition_hash(self) -> str:
        spec = f"graph|{self.graph.definition_hash}|{self.map_params}|{self.map_mode}"
        return hashlib.sha256(spec.encode()).hexdigest()

    @property
    def is_mapped(self) -> bool:
        """True for a copy made by :meth:`map_over`."""
        return bool(self.map_params)

    def _rename_inputs(self, renames: dict[str, str]) -> None:
        self.inner_input = {renames.get(o, o): i for o, i in self.inner_input.items()}
        self.map_params = tuple(renames.get(n, n) for n in self.map_params)
        super()._rename_inputs(renames)

    def _rename_outputs(self, renames: dict[str, str]) -> None:
        self.inner_output = {renames.get(o, o): i for o, i in self.inner_output.items()}
        super()._rename_outputs(renames)

    def input_type(self, name: str) -> Any:
        inner = self.inner_input.get(name)
        if inner is None or self.is_mapped:
            return None
        for n in self.graph.nodes.values():
            if inner in n.inputs:
                t = n.input_type(inner)
                if t is not None:
                    return t
        return None

    def output_type(self, name: str) -> Any:
        inner = self.inner_output.get(name)
        if inner is None:
            return None
        for n in self.graph.nodes.values():
            if inner in n.outputs:
                t = n.output_type(inner)
                return None if t is None else (list[t] if self.is_mapped else t)  # type: ignore[valid-type]  # runtime generic alias
        return None

    def map_over(self, *params: str, mode: Literal["zip", "product"] = "zip") -> GraphNode:
        """Return a copy that runs the inner graph once per item of ``params``.

        Args:
            *params: input names whose values are lists to iterate.
            mode: ``"zip"`` (items in parallel, equal lengths) or ``"product"``.

        Raises:
            GraphConfigError: unknown params, a bad mode, or a graph with interrupts.
        """
        if not params:
            raise GraphConfigError(
                f"map_over() of '{self.name}' needs at least one input name.\n\n"
                f"How to fix: {self.name}.map_over('items')."
            )
        for p in params:
            if not isinstance(p, str):
                raise GraphConfigError(
                    f"map_over() of '{self.name}' takes input names (str), got "
                    f"{type(p).__name__} {p!r}.\n\nHow to fix: pass names as separate "
                    f"arguments: {self.name}.map_over('a', 'b')."
                )
            if p not in self.inputs:
                raise GraphConfigError(
                    f"map_over() of '{self.name}': '{p}' is not one of its inputs."
                    f"{did_you_mean(p, self.inputs)}\n\nInputs: {', '.join(self.inputs)}."
                    f"\n\nHow to fix: map over one of the inputs listed."
                )
        if mode not in ("zip", "product"):
            raise GraphConfigError(
                f"map_over() mode must be 'zip' or 'product', got {mode!r}.\n\n"
                f"How to fix: mode='zip' (items side by side) or mode='product' (every "
                f"combination)."
            )
        from graphflow.graph.validation import validate_map_compatible

        validate_map_compatible(self.graph, f"GraphNode '{self.name}' uses map_over")
        clone = copy.copy(self)
        clone.map_params = tuple(dict.fromkeys(params))
        clone.map_mode = mode
        return clone
