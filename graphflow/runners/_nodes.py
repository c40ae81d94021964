"""One node execution: its events, cache lookups, outputs, gate decisions and errors.

Mixed into :class:`~graphflow.runners._engine.Run`; drivers call these around the node's
own function call, so sync and async runners share every step but the call itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from graphflow.cache import Cache, cache_key
from graphflow.events import (
    CacheHitEvent,
    EventDispatcher,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    StreamingChunkEvent,
)
from graphflow.exceptions import NodeOutputError
from graphflow.graph import END
from graphflow.runners._ids import new_span_id
from graphflow.runners._plan import GATE, GRAPH, NodePlan, Plan
from graphflow.runners._sched import END_DECISION, Schedule
from graphflow.runners.result import PauseInfo, PauseReason

__all__ = ["NodeSteps", "Task", "add_node_note"]

_perf = time.perf_counter
_now = time.time
_NOTE = "graphflow: raised in node "


class Task:
    """One node execution inside a superstep."""

    __slots__ = (
        "decision",
        "inputs",
        "kwargs",
        "np",
        "outputs",
        "paused",
        "rec",
        "span",
        "start",
        "t0",
        "versions",
    )

    def __init__(self, np: NodePlan, kwargs: dict[str, Any], rec: tuple[int, ...]) -> None:
        self.np = np
        self.kwargs = kwargs
        self.rec = rec
        self.inputs = kwargs
        self.span: str | None = None
        self.t0 = 0.0
        self.outputs: tuple[tuple[str, Any], ...] = ()
        self.decision: int | None = None
        self.paused = False
        self.start: NodeStartEvent | None = None
        #: versions of outputs decided elsewhere (a nested graph's), by output name
        self.versions: dict[str, int] | None = None


def add_node_note(exc: BaseException, path: str, graph: str | None) -> None:
    """Name the failing node on the exception, once (the innermost node wins)."""
    notes = getattr(exc, "__notes__", ())
    if not any(n.startswith(_NOTE) for n in notes):
        where = f" of graph '{graph}'" if graph else ""
        exc.add_note(f"{_NOTE}'{path}'{where}")


class NodeSteps:
    """The per-node steps of a run (see module docstring)."""

    plan: Plan
    sched: Schedule
    events: EventDispatcher | None
    cache: Cache | None
    run_id: str
    parent_span: str | None
    path: str
    graph_name: str | None
    handlers: Mapping[str, Any]
    paused: PauseInfo | None
    workflow_id: str | None

    def node_path(self, np: NodePlan) -> str:
        """``outer/inner`` path of a node of this run."""
        return self.path + np.name

    def open_scope(self, task: Task) -> Any:
        """Enter the processors' ``node_scope`` for the node body (None when there is none)."""
        if self.events is None or task.start is None or not self.events.scoped:
            return None
        return self.events.open_scope(task.start)

    def inputs_of(self, task: Task) -> dict[str, Any]:
        """The task's inputs keyed by input name (not parameter name)."""
        np = task.np
        if np.identity:
            return task.kwargs
        by_param = task.kwargs
        named = {name: by_param[param] for name, param in np.req}
        named.update({name: by_param[param] for name, param in np.opt if param in by_param})
        return named

    def begin(self, task: Task) -> bool:
        """Emit NodeStartEvent and look up the cache. Returns True on a cache hit."""
        np = task.np
        cacheable = np.cache and self.cache is not None
        task.t0 = _perf()
        if self.events is not None:  # the traced hot path: calls inlined where it is cheap
            task.span = new_span_id()
            task.start = NodeStartEvent(
                self.run_id,
                task.span,
                self.parent_span,
                np.name,
                task.kwargs if np.identity else self.inputs_of(task),
                _now(),
                np.kind,
                cacheable,
                self.path + np.name,
            )
            self.events.emit(task.start)
        if not cacheable:
            return False
        key = cache_key(np.node.definition_hash, self.inputs_of(task))
        if key is None:
            return False
        assert self.cache is not None
        hit, value = self.cache.get(key)
        if not hit:
            return False
        if self.events is not None and task.span is not None:
            self.events.emit(
                CacheHitEvent(
                    self.run_id,
                    task.span,
                    self.parent_span,
                    np.name,
                    _now(),
                    node_path=self.node_path(np),
                )
            )
        self.finish(task, value, cached=True)
        return True

    def chunk(self, task: Task, chunk: Any, index: int) -> None:
        """Emit one StreamingChunkEvent."""
        if self.events is not None and task.span is not None:
            self.events.emit(
                StreamingChunkEvent(
                    self.run_id,
                    task.span,
                    self.parent_span,
                    task.np.name,
                    chunk,
                    index,
                    _now(),
                    node_path=self.node_path(task.np),
                )
            )

    def collect(self, task: Task, iterator: Any) -> Any:
        """Drain a sync generator node, emitting a StreamingChunkEvent per chunk."""
        chunks: list[Any] = []
        for chunk in iterator:
            self.chunk(task, chunk, len(chunks))
            chunks.append(chunk)
        return self.joined(chunks)

    @staticmethod
    def joined(chunks: list[Any]) -> Any:
        """A generator's value: its chunks joined when all are str, else the list."""
        if all(isinstance(c, str) for c in chunks):
            return "".join(chunks)
        return chunks

    # ------------------------------------------------------------------ interrupts
    def fresh_answer(self, task: Task) -> tuple[bool, Any]:
        """An answer the interrupt has not passed on yet, if the state holds one."""
        sched = self.sched
        resp = task.np.outputs[0]
        if resp not in sched.values:
            return False, None
        last = sched.answered.get(task.np.idx)
        if last is not None and sched.versions.get(resp, 0) == last:
            return False, None
        return True, sched.values[resp]

    def handler_for(self, task: Task) -> Any:
        """The ``interrupt_handlers`` entry for this interrupt (by path, then name)."""
        handlers = self.handlers
        return handlers.get(self.node_path(task.np)) or handlers.get(task.np.name)

    def interrupt_value(self, task: Task) -> Any:
        """The value an interrupt shows the human (its one input)."""
        return task.kwargs[task.np.req[0][1]]

    def ask(self, task: Task) -> None:
        """Emit the InterruptEvent of an interrupt that has no answer."""
        np = task.np
        if self.events is not None and task.span is not None:
            self.events.emit(
                InterruptEvent(
                    self.run_id,
                    task.span,
                    self.parent_span,
                    self.workflow_id,
                    np.name,
                    self.interrupt_value(task),
                    np.outputs[0],
                    _now(),
                    node_path=self.node_path(np),
                )
            )

    def pause(self, task: Task) -> None:
        """Pause at this interrupt: it does not run (no record); the run stops."""
        task.paused = True
        if self.paused is None:
            np = task.np
            self.paused = PauseInfo(
                PauseReason.HUMAN_INPUT,
                self.node_path(np),
                np.outputs[0],
                self.interrupt_value(task),
            )

    # ------------------------------------------------------------------ node results
    def finish(self, task: Task, raw: Any, cached: bool = False) -> None:
        """Turn a node's return value into outputs (or a decision) and emit its end."""
        np = task.np
        outs = np.outputs
        if np.code == GATE:
            target = np.node.decide(raw)  # type: ignore[attr-defined]  # GATE => GateNode
            decision = END_DECISION if target is END else self.plan.index[target]
            task.decision = decision
            if self.events is not None and task.span is not None:
                self.events.emit(
                    RouteDecisionEvent(
                        self.run_id,
                        task.span,
                        self.parent_span,
                        np.name,
                        str(target),
                        _now(),
                        node_path=self.node_path(np),
                    )
                )
        elif np.code == GRAPH:
            task.outputs = tuple((o, raw[i]) for o, i in np.out_map if i in raw)
        elif len(outs) == 1:
            task.outputs = ((outs[0], raw),)
        elif outs:
            task.outputs = self._unpack(np, raw)
        if not cached and np.cache and self.cache is not None:
            key = cache_key(np.node.definition_hash, self.inputs_of(task))
            if key is not None:
                self.cache.set(key, raw)
        if self.events is not None and task.span is not None:
            self.events.emit(
                NodeEndEvent(
                    self.run_id,
                    task.span,
                    self.parent_span,
                    np.name,
                    dict(task.outputs),
                    (_perf() - task.t0) * 1000.0,
                    cached,
                    _now(),
                    self.path + np.name,
                )
            )

    def _unpack(self, np: NodePlan, raw: Any) -> tuple[tuple[str, Any], ...]:
        outs = np.outputs
        try:
            values = tuple(raw)
        except TypeError:
            values = None
        if values is None or len(values) != len(outs):
            got = f"{len(values)} values" if values is not None else type(raw).__name__
            raise NodeOutputError(
                f"Node '{self.node_path(np)}' declares {len(outs)} outputs "
                f"({', '.join(outs)}) but returned {got}.\n\n"
                f"How to fix: return a tuple of {len(outs)} values, or change output_name."
            )
        return tuple(zip(outs, values, strict=True))

    def failed(self, task: Task, exc: BaseException) -> None:
        """Emit NodeErrorEvent and name the node on the exception."""
        np = task.np
        if self.events is not None:
            if task.span is None:
                task.span = new_span_id()
            self.events.emit(
                NodeErrorEvent(
                    self.run_id,
                    task.span,
                    self.parent_span,
                    np.name,
                    exc,  # type: ignore[arg-type]  # the seed types it Exception; cancellations too
                    type(exc).__name__,
                    _now(),
                    node_path=self.node_path(np),
                )
            )
        if isinstance(exc, Exception):
            add_node_note(exc, self.node_path(np), self.graph_name)
