"""The worker side of DaftRunner: one fused UDF that runs the whole graph for each row.

A Daft plan gets ONE UDF projection per graph, whatever its size (the engine notes: one
``with_column`` UDF per node crashes Daft's native executor near 180 chained nodes, see
docs/daft.md). The UDF is a ``daft.cls`` whose batch method runs each row of the batch
through graphflow's own engine: a :class:`~graphflow.runners._engine.Run` driven by the
sync driver's static replay (``SyncRunner._drive``) or, when the graph has async nodes, by
the async driver (``AsyncRunner._drive``) with the batch's rows awaited concurrently. It
returns one struct with a field per output (unnested into columns by the plan), plus the
row's recorded events when the map is observed (replayed by the driver, see
``_daft_frame.py``).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from graphflow.events import (
    Event,
    EventDispatcher,
    EventProcessor,
    NodeStartEvent,
    RunStartEvent,
    RunStatus,
)
from graphflow.graph import Graph
from graphflow.runners._aio import LIMIT, all_or_first_error, set_limit
from graphflow.runners._daft_support import (
    CacheRef,
    ColumnType,
    Shared,
    batch_scope,
    check_outputs,
)
from graphflow.runners._engine import Run
from graphflow.runners._plan import Plan, plan_for
from graphflow.runners._sched import VersionCounter

if TYPE_CHECKING:
    from graphflow.runners.async_ import AsyncRunner
    from graphflow.runners.sync import SyncRunner

__all__ = [
    "EVENTS",
    "INDEX",
    "IN_WORKER",
    "Job",
    "attached_events",
    "restore_event",
    "worker_columns",
]

#: hidden columns: the item index given to the UDF, the recorded events it returns
INDEX = "__graphflow_item__"
EVENTS = "__graphflow_events__"
_ATTACHED = "_graphflow_daft_events"

#: rows per UDF call: bounds a batch's Python temporaries, so memory stays flat as maps grow;
#: an async batch's rows are awaited concurrently, so it also bounds the rows in flight
SYNC_BATCH_ROWS = 8192
ASYNC_BATCH_ROWS = 4096

#: set while a DaftRunner UDF runs rows: nested DaftRunner graphs then run inline
IN_WORKER: ContextVar[bool] = ContextVar("graphflow_daft_worker", default=False)


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything a worker needs to run rows; pickled once per plan, not per row.

    ``mode``: ``"map"`` (each row is a map item: a run under the map span), ``"run"`` (one
    top-level run) or ``"child"`` (a nested graph's run inside a parent's GraphNode).
    """

    graph: Graph
    names: tuple[str, ...]
    params: tuple[str, ...]
    broadcast: dict[str, Any]
    types: dict[str, ColumnType]
    is_async: bool
    cache: CacheRef | None = None
    observed: bool = False
    mode: str = "map"
    session_id: str | None = None
    max_iterations: int | None = None
    max_concurrency: int | None = None
    parent_span: str | None = None
    run_id: str = ""
    path: str = ""
    graph_name: str | None = None
    traceparent: str | None = None
    driver_pid: int = dataclasses.field(default_factory=os.getpid)


class _Broadcast:
    """Stands for a broadcast input inside a shipped event (restored by the driver)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Broadcast, (self.name,))


class _Recorder(EventProcessor):
    """Keeps one row's events; off the driver's process they are made compact to ship."""

    __slots__ = ("broadcast", "events", "remote")

    def __init__(self, broadcast: dict[str, Any], remote: bool) -> None:
        self.events: list[Event] = []
        self.broadcast = broadcast
        self.remote = remote

    def on_event(self, event: Event) -> None:
        if self.remote:
            if isinstance(event, RunStartEvent):  # inputs = broadcast + row: the driver has them
                event = dataclasses.replace(event, inputs={})
            elif isinstance(event, NodeStartEvent):
                event = dataclasses.replace(event, inputs=self._compact(event.inputs))
        self.events.append(event)

    def _compact(self, inputs: dict[str, Any]) -> dict[str, Any]:
        shared = self.broadcast
        return {
            k: _Broadcast(k) if k in shared and shared[k] is v else v for k, v in inputs.items()
        }


def restore_event(event: Event, broadcast: dict[str, Any], row: dict[str, Any]) -> Event:
    """Undo :class:`_Recorder`'s compaction on the driver (a no-op for local events)."""
    if isinstance(event, RunStartEvent) and not event.inputs and (broadcast or row):
        return dataclasses.replace(event, inputs={**broadcast, **row})
    if isinstance(event, NodeStartEvent) and any(
        isinstance(v, _Broadcast) for v in event.inputs.values()
    ):
        inputs = {
            k: broadcast.get(v.name) if isinstance(v, _Broadcast) else v
            for k, v in event.inputs.items()
        }
        return dataclasses.replace(event, inputs=inputs)
    return event


def _attach(exc: BaseException, events: list[Event], first: bool = False) -> None:
    """Carry a failed batch's events on its exception (Daft raises it on the driver)."""
    try:
        held: list[Event] = exc.__dict__.setdefault(_ATTACHED, [])
    except AttributeError:  # an exception type without __dict__
        return
    if first:
        held[:0] = events
    else:
        held.extend(events)


def attached_events(exc: BaseException) -> list[Event]:
    """The events a failed batch attached to ``exc`` (see :func:`_attach`)."""
    found = getattr(exc, "__dict__", {}).get(_ATTACHED)
    return list(found) if found else []


def _note(exc: BaseException, job: Job, index: int) -> None:
    if isinstance(exc, Exception) and job.mode == "map":
        where = f" of graph '{job.graph_name}'" if job.graph_name else ""
        exc.add_note(f"graphflow: DaftRunner map item {index}{where}")


class _Rows:
    """Runs rows of one job with the shared engine; one per Daft UDF instance."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.plan: Plan = plan_for(job.graph)
        self.cache = job.cache.get() if job.cache is not None else None
        self.remote = os.getpid() != job.driver_pid
        self.node_of = {o: n.name for n in self.plan.nodes for o in n.outputs}
        self.typed = {n: t for n, t in job.types.items() if t.kind is not None}
        self.dtype = _struct(job)

    def new_run(self, index: int, values: dict[str, Any]) -> tuple[Run, _Recorder | None]:
        job = self.job
        recorder = None
        dispatcher = None
        if job.observed:
            recorder = _Recorder(job.broadcast, self.remote)
            dispatcher = EventDispatcher((recorder,))
        if job.mode == "child":
            run = Run(
                self.plan,
                dict(values),
                dict.fromkeys(values, 0),
                counter=VersionCounter(),
                dispatcher=dispatcher,
                cache=self.cache,
                max_iterations=job.max_iterations,
                run_id=job.run_id,
                parent_span=job.parent_span,
                path=job.path,
                graph_name=job.graph_name,
                checked=True,
            )
            return run, recorder
        run = Run.top(
            self.plan,
            values,
            dispatcher=dispatcher,
            cache=self.cache,
            max_iterations=job.max_iterations,
            run_id=uuid.uuid4().hex if job.observed else "",
            parent_span=job.parent_span,
            checked=True,
        )
        run.start_event(
            job.session_id, "daft", values, item_index=index if job.mode == "map" else None
        )
        return run, recorder

    def outcome(self, run: Run, index: int) -> dict[str, Any]:
        """The row's values, one per name (checked against their typed columns)."""
        out = run.produced() if self.job.mode == "child" else run.select(self.job.names)
        row = {name: out.get(name) for name in self.job.names}
        if self.typed:
            check_outputs(self.typed, row, self.node_of, index)
        return row

    def failed(self, run: Run, exc: BaseException, index: int) -> None:
        if self.job.mode != "child":
            run.end_event({}, RunStatus.ERROR, exc)
        _note(exc, self.job, index)

    def finished(self, run: Run, recorder: _Recorder | None, row: dict[str, Any]) -> None:
        if self.job.mode != "child":
            run.end_event(dict(row), RunStatus.COMPLETED)
        if recorder is not None:
            row[EVENTS] = recorder.events

    def series(self, rows: list[dict[str, Any]]) -> Any:
        from daft import Series

        return Series.from_pylist(rows, dtype=self.dtype)


class SyncRows(_Rows):
    """Rows of a graph without async nodes, run one after another by the sync driver."""

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        from graphflow.runners.sync import SyncRunner

        self.driver: SyncRunner = SyncRunner()

    def batch(self, index: Any, *columns: Any) -> Any:
        job = self.job
        indexes: list[int] = index.to_pylist()
        cols = [c.to_pylist() for c in columns]
        values = dict(job.broadcast)
        rows: list[dict[str, Any]] = []
        token = IN_WORKER.set(True)
        try:
            with batch_scope(job.traceparent, job.graph_name, len(indexes), self.remote):
                for n, item in enumerate(indexes):
                    for param, col in zip(job.params, cols, strict=True):
                        values[param] = col[n]
                    rows.append(self.row(item, values))
        except BaseException as exc:
            if job.observed:
                _attach(exc, [e for r in rows for e in r[EVENTS]], first=True)
            raise
        finally:
            IN_WORKER.reset(token)
        return self.series(rows)

    def row(self, index: int, values: dict[str, Any]) -> dict[str, Any]:
        run, recorder = self.new_run(index, values)
        try:
            self.driver._drive(run)
            row = self.outcome(run, index)
        except BaseException as exc:
            self.failed(run, exc, index)
            if recorder is not None:
                _attach(exc, recorder.events)
            raise
        self.finished(run, recorder, row)
        return row


class AsyncRows(_Rows):
    """Rows of a graph with async nodes: the batch's rows run concurrently on one loop."""

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        from graphflow.runners.async_ import AsyncRunner

        self.driver: AsyncRunner = AsyncRunner()

    async def batch(self, index: Any, *columns: Any) -> Any:
        job = self.job
        indexes: list[int] = index.to_pylist()
        cols = [c.to_pylist() for c in columns]
        runs = []
        for n, item in enumerate(indexes):
            values = dict(job.broadcast)
            for param, col in zip(job.params, cols, strict=True):
                values[param] = col[n]
            runs.append(self.new_run(item, values))
        limit = set_limit(job.max_concurrency)
        token = IN_WORKER.set(True)
        try:
            with batch_scope(job.traceparent, job.graph_name, len(indexes), self.remote):
                rows = await all_or_first_error(
                    [
                        self.row(item, run, rec)
                        for item, (run, rec) in zip(indexes, runs, strict=True)
                    ]
                )
        except BaseException as exc:
            for _, recorder in runs:  # every row's events: done, failed and cancelled ones
                if recorder is not None:
                    _attach(exc, recorder.events)
            raise
        finally:
            IN_WORKER.reset(token)
            LIMIT.reset(limit)
        return self.series(rows)

    async def row(self, index: int, run: Run, recorder: _Recorder | None) -> dict[str, Any]:
        try:
            await self.driver._drive(run)
            row = self.outcome(run, index)
        except BaseException as exc:
            self.failed(run, exc, index)  # the batch attaches the events of every row
            raise
        self.finished(run, recorder, row)
        return row


def _struct(job: Job) -> Any:
    from daft import DataType

    fields = {name: job.types[name].dtype() for name in job.names}
    if job.observed:
        fields[EVENTS] = DataType.python()
    return DataType.struct(fields)


def worker_columns(job: Job) -> Any:
    """The fused UDF applied to the index and mapped columns: a struct expression."""
    import daft

    dtype = _struct(job)
    label = f"graphflow {job.graph_name}" if job.graph_name else "graphflow"
    args = (daft.col(INDEX), *(daft.col(p) for p in job.params))
    if job.is_async:

        @daft.cls(use_process=False, name_override=label)
        class AsyncGraphRows:
            def __init__(self, shared: Shared) -> None:
                self.rows = AsyncRows(shared.value)

            @daft.method.batch(return_dtype=dtype, batch_size=ASYNC_BATCH_ROWS)
            async def __call__(self, index: Any, *columns: Any) -> Any:
                return await self.rows.batch(index, *columns)

        return AsyncGraphRows(Shared(job))(*args)

    @daft.cls(use_process=False, name_override=label)
    class GraphRows:
        def __init__(self, shared: Shared) -> None:
            self.rows = SyncRows(shared.value)

        @daft.method.batch(return_dtype=dtype, batch_size=SYNC_BATCH_ROWS)
        def __call__(self, index: Any, *columns: Any) -> Any:
            return self.rows.batch(index, *columns)

    return GraphRows(Shared(job))(*args)
