"""The driver side of DaftRunner: building the plan, observing its execution, errors.

``DaftRunner.map`` returns a lazy DataFrame whose materialisation is observed: a subclass of
``daft.DataFrame`` routes ``collect()`` (and everything that calls it: ``to_pydict``,
``to_pandas``, ``to_arrow``, ``iter_rows``, ``show``, ``count_rows`` ...) through
:meth:`Execution.collect`, which

1. emits ``MapStartEvent`` and reads the W3C ``traceparent`` of the map span,
2. builds the plan for this execution (source -> ONE fused UDF -> sort -> columns), handing the map
   span id and traceparent to the workers, and collects it,
3. replays the events the workers recorded (a hidden column, dropped from the result) into
   the runner's processors, so spans and metrics are made on the driver with the right
   parents, identically on the native runner and on Ray,
4. emits ``MapEndEvent`` and flushes the processors once.

On failure the UDF's exception reaches the driver: Daft raises a batch or async UDF's
exception itself on the native runner, and Ray wraps it in ``RayTaskError(<type>)``, which is
unwrapped here so the caller gets the original type, with its notes.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Sequence
from typing import Any

from graphflow.events import EventDispatcher, RunStatus
from graphflow.runners._daft_rows import (
    EVENTS,
    INDEX,
    Job,
    attached_events,
    restore_event,
    worker_columns,
)
from graphflow.runners._daft_support import ColumnType, traceparent_of
from graphflow.runners._mapcall import MapSpan

__all__ = ["Execution", "original_error"]


def original_error(exc: BaseException) -> BaseException:
    """The exception a node raised, out of the wrappers Ray and Daft put around it."""
    seen = 0
    while seen < 8:
        seen += 1
        ray_exceptions = sys.modules.get("ray.exceptions")
        if ray_exceptions is not None and isinstance(exc, ray_exceptions.RayTaskError):
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException) and cause is not exc:
                exc = cause
                continue
        if type(exc).__name__ == "UDFException":  # daft.errors.UDFException
            cause = exc.__cause__
            if cause is not None:
                exc = cause
                continue
        break
    return exc


class Execution:
    """One ``map()``/``run()``/nested-graph call: its source rows, job and telemetry.

    Args:
        job: what the workers run (see :class:`~graphflow.runners._daft_rows.Job`).
        columns: the source columns: the item index, then the mapped inputs.
        types: the column types of ``columns`` (Python objects when absent).
        dispatcher: where replayed events go; None when nobody listens.
        flush: flush the processors after the call (not for nested graphs: their run does).
    """

    def __init__(
        self,
        job: Job,
        columns: dict[str, Sequence[Any]],
        types: dict[str, ColumnType],
        dispatcher: EventDispatcher | None,
        *,
        flush: bool = True,
    ) -> None:
        from daft import Series, from_pydict

        self.job = job
        self.columns = columns
        self.size = len(columns[INDEX])
        self.dispatcher = dispatcher
        self.flush = flush
        py = ColumnType(None)
        self.source = from_pydict(
            {
                name: Series.from_pylist(list(values), dtype=types.get(name, py).dtype())
                for name, values in columns.items()
            }
        )

    def frame(self, job: Job) -> Any:
        """The plan: mapped inputs, then the fused UDF's fields unnested into columns.

        A map's rows are sorted back into item order: Daft finishes concurrent async
        batches in any order.
        """
        import daft

        if job.mode != "map":
            return self.source.select(worker_columns(job).unnest())
        keep = [daft.col(p) for p in job.params]
        rows = self.source.select(daft.col(INDEX), *keep, worker_columns(job).unnest())
        return rows.sort(INDEX).exclude(INDEX)

    def lazy(self) -> Any:
        """The DataFrame ``map()`` returns: not executed until something materialises it."""
        frame = frame_class()(self.frame(dataclasses.replace(self.job, observed=False))._builder)
        frame._graphflow_execution = self
        return frame

    # ------------------------------------------------------------------ executing
    def collect(self) -> Any:
        """Execute once; return the collected frame (with the events column if observed)."""
        dispatcher = self.dispatcher
        if dispatcher is None:
            try:
                return self.frame(dataclasses.replace(self.job, observed=False)).collect()
            except BaseException as exc:
                _reraise(exc)
                raise
        job = self.job
        span = None
        if job.mode == "map":
            span = MapSpan(dispatcher, job.graph_name, self.size)
            job = dataclasses.replace(job, parent_span=span.span)
        job = dataclasses.replace(
            job, traceparent=traceparent_of(dispatcher.processors, job.parent_span)
        )
        try:
            try:
                inner = self.frame(job).collect()
            except BaseException as exc:
                original = original_error(exc)
                self._replay(dispatcher, [attached_events(original)])
                _reraise(exc)
                raise
            self._replay(dispatcher, inner.select(EVENTS).to_pydict()[EVENTS])
            if span is not None:
                span.status = RunStatus.COMPLETED
            return inner
        finally:
            if span is not None:
                span.close()
            if self.flush:
                dispatcher.force_flush()

    def collect_visible(self) -> Any:
        """Execute once; return the collected frame with only the user's columns."""
        inner = self.collect()
        if self.dispatcher is None:
            return inner
        return inner.exclude(EVENTS).collect()

    def first_row(self) -> dict[str, Any]:
        """Execute a one-row call (``run()``, a nested graph); return its outputs."""
        data = self.collect().to_pydict()
        return {name: data[name][0] for name in self.job.names}

    def _replay(self, dispatcher: EventDispatcher, rows: Sequence[Any]) -> None:
        broadcast = self.job.broadcast
        params = self.job.params
        columns = self.columns
        for events in rows:
            for event in events or ():
                item = getattr(event, "item_index", None)
                row = (
                    {p: columns[p][item] for p in params}
                    if item is not None and item < self.size
                    else {}
                )
                dispatcher.emit(restore_event(event, broadcast, row))


def _reraise(exc: BaseException) -> None:
    """Raise the node's own exception in place of a Ray or Daft wrapper (else return)."""
    original = original_error(exc)
    if original is not exc:
        raise original


@functools.cache
def frame_class() -> type:
    """``daft.DataFrame`` whose materialisation goes through :meth:`Execution.collect`."""
    import daft

    class GraphflowDataFrame(daft.DataFrame):
        """A lazy DaftRunner map result; materialising it runs the graph, observed.

        Derived frames (``df.where(...)``) are plain Daft frames: they run the graph
        unobserved. Collect this one first to keep telemetry.
        """

        _graphflow_execution: Execution | None = None

        def _materialize_results(self) -> None:
            execution = self._graphflow_execution
            if self._result_cache is not None or execution is None:
                super()._materialize_results()
                return
            done = execution.collect_visible()
            self._result_cache = done._result_cache
            self._metadata = done._metadata

        def iter_rows(self, *args: Any, **kwargs: Any) -> Any:
            self._materialize_results()
            return super().iter_rows(*args, **kwargs)

        def iter_partitions(self, *args: Any, **kwargs: Any) -> Any:
            self._materialize_results()
            return super().iter_partitions(*args, **kwargs)

        def to_arrow_iter(self, *args: Any, **kwargs: Any) -> Any:
            self._materialize_results()
            return super().to_arrow_iter(*args, **kwargs)

        def count_rows(self) -> int:
            self._materialize_results()
            return int(super().count_rows())

        def show(self, *args: Any, **kwargs: Any) -> None:
            self._materialize_results()
            super().show(*args, **kwargs)

    GraphflowDataFrame.__module__ = "graphflow.runners.daft"
    GraphflowDataFrame.__qualname__ = "GraphflowDataFrame"
    return GraphflowDataFrame
