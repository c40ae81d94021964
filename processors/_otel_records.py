"""The records behind OpenTelemetryProcessor: open spans, the current-span scope, times.

Private to :mod:`graphflow.processors.otel`; needs ``opentelemetry-api`` only for typing.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["Open", "version"]


def version() -> str:
    """graphflow's installed version, for the tracer's instrumentation scope."""
    try:
        return metadata.version("graphflow-runtime")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


class Open:
    """One open span and what its end needs to know.

    ``parent``: the enclosing record (run, subgraph or map) a failure propagates to; ``run``:
    a node's run record; ``graph``: the top-level graph's name; ``children``: a run's open
    node spans by event span id (ended with the run if left open); ``chunks``: streamed
    chunks so far; ``errors``: exceptions already recorded in this subtree (record once);
    ``context``: an OpenTelemetry context holding ``span``, made once for its children
    and for its node body; ``interrupt``: an interrupt node's span (``graphflow.node.cached``
    is set at its end only).

    A node's record is also the scope that makes its span current while the body runs:
    entering attaches ``context`` through ``context_api`` (``opentelemetry.context``, handed
    over by the processor), exiting detaches it (a plain pair: ``use_span`` costs several
    times more). The runner enters and exits it in the task that runs the body, so
    the detach always matches its attach.
    """

    __slots__ = (
        "children",
        "chunks",
        "context",
        "context_api",
        "errors",
        "graph",
        "interrupt",
        "parent",
        "run",
        "span",
        "token",
    )

    def __init__(
        self, span: Span, parent: Open | None, run: Open | None, graph: str | None
    ) -> None:
        self.span = span
        self.parent = parent
        self.run = run
        self.graph = graph
        self.children: dict[str, Open] | None = None
        self.chunks = 0
        self.errors: list[BaseException] | None = None
        self.context: Context | None = None
        self.interrupt = False
        self.token: Any = None
        self.context_api: Any = None  # opentelemetry.context, set by node_scope

    def __enter__(self) -> Open:
        self.token = self.context_api.attach(self.context)
        return self

    def __exit__(self, *exc: object) -> None:
        self.context_api.detach(self.token)
