"""InterruptNode: a point where the run asks a human (or a handler) for an answer."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from graphflow.exceptions import GraphConfigError
from graphflow.graph._util import check_identifier
from graphflow.graph.nodes import BaseNode

__all__ = ["InterruptNode"]


class InterruptNode(BaseNode):
    """Pause the run for an answer (AsyncRunner only).

    Its only input is ``input_param`` (the value shown to the human) and its only output is
    ``response_param``. When it runs without a fresh answer, the run pauses with
    ``PauseInfo(node=<path>, response_param=..., value=<input>)``; an answer given as an
    input, by an ``interrupt_handlers`` entry, or by ``RunHandle.respond`` becomes its output.

    Example:
        >>> approve = InterruptNode("approve", input_param="draft", response_param="decision")
    """

    kind: ClassVar[str] = "interrupt"

    def __init__(self, name: str, input_param: str, response_param: str) -> None:
        self.name = check_identifier(name, "node")
        check_identifier(input_param, "input", self.name)
        check_identifier(response_param, "output", self.name)
        if input_param == response_param:
            raise GraphConfigError(
                f"InterruptNode '{name}' uses '{input_param}' as both input and response.\n\n"
                f"How to fix: give the answer its own name, e.g. "
                f"response_param='{input_param}_answer'."
            )
        self.inputs = (input_param,)
        self.outputs = (response_param,)
        self.optional_inputs = frozenset()

    @property
    def input_param(self) -> str:
        """The input whose value is shown to the human."""
        return self.inputs[0]

    @property
    def response_param(self) -> str:
        """The name under which the answer is given and passed on."""
        return self.outputs[0]

    @property
    def definition_hash(self) -> str:
        spec = f"interrupt|{self.inputs[0]}|{self.outputs[0]}"
        return hashlib.sha256(spec.encode()).hexdigest()
