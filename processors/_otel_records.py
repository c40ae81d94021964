"""The records behind OpenTelemetryProcessor: open spans, the current-span scope, times.

Private to :mod:`graphflow.processors.otel`; needs ``opentelemetry-api`` only for typing.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["Current", "Open", "nanos", "version"]


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
    ``context``: an OpenTelemetry context holding ``span``, made once for its children;
    ``interrupt``: an interrupt node's span (``graphflow.node.cached`` is set at its end only).
    """

    __slots__ = (
        "children",
        "chunks",
        "context",
        "errors",
        "graph",
        "interrupt",
        "parent",
        "run",
        "span",
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


def nanos(timestamp: float) -> int:
    """An event's ``time.time()`` timestamp as OpenTelemetry's integer nanoseconds."""
    return int(timestamp * 1e9)


class Current:
    """Makes a span current for one node body: attach on enter, detach on exit.

    A plain attach/detach pair (``use_span`` costs several times more). The runner enters
    and exits it in the task that runs the body, so detach always matches its attach.
    """

    __slots__ = ("_attach", "_context", "_detach", "_token")

    def __init__(self, context: Context, attach: Any, detach: Any) -> None:
        self._context = context
        self._attach = attach
        self._detach = detach
        self._token: Any = None

    def __enter__(self) -> Current:
        self._token = self._attach(self._context)
        return self

    def __exit__(self, *exc: object) -> None:
        self._detach(self._token)
