"""DaftRunner: DAG graphs as Daft DataFrames, locally or on a Ray cluster.

This module imports without ``daft``; constructing a DaftRunner needs the ``daft`` extra.
How it works (one fused UDF per graph, events replayed on the driver) is in
``_daft_rows.py`` and ``_daft_frame.py``; the reasons are in docs/daft.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from graphflow._optional import require
from graphflow.cache import Cache
from graphflow.events import EventProcessor
from graphflow.exceptions import GraphConfigError, InputError
from graphflow.graph import Graph
from graphflow.runners._daft_frame import Execution
from graphflow.runners._daft_rows import IN_WORKER, INDEX, Job
from graphflow.runners._daft_support import (
    PYTHON,
    CacheRef,
    check_cache_picklable,
    column_type,
    output_types,
)
from graphflow.runners._engine import Run
from graphflow.runners._inputs import check_inputs, resolve_select
from graphflow.runners._mapcall import MapCall
from graphflow.runners._setup import check_processors, dispatcher_for, prepare_graph
from graphflow.runners.base import BaseRunner, RunnerCapabilities

if TYPE_CHECKING:
    import daft

__all__ = ["DaftRunner"]

_CAPS = RunnerCapabilities(
    supports_cycles=False,
    supports_gates=False,
    supports_interrupts=False,
    supports_async_nodes=True,
    supports_streaming=False,
    supports_distributed=True,
    returns_coroutine=False,
)


def _needs_async(graph: Graph) -> bool:
    """Whether a row must be driven by the async driver (async nodes, inline nesting)."""
    return graph.has_async_nodes or any(
        _needs_async(gn.graph) for gn in graph.nested_graphs if gn.explicit_runner is None
    )


def _check_concurrency(max_concurrency: object) -> None:
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise GraphConfigError(
            f"max_concurrency must be a positive int or None, got {max_concurrency!r}.\n\n"
            f"How to fix: max_concurrency=8, or None for no limit."
        )


class DaftRunner(BaseRunner):
    """Run DAG graphs on Daft (https://www.getdaft.io): local by default, Ray when configured.

    ``map()`` returns a lazy ``daft.DataFrame`` with one row per item: the mapped inputs and
    the selected outputs as columns (typed from the nodes' return annotations when they are
    ``int``, ``float``, ``str``, ``bool``, ``bytes`` or lists of them; Python objects
    otherwise). The whole graph runs as ONE fused Daft UDF per row, on graphflow's own
    engine; async nodes are awaited with the batch's rows running concurrently. Call
    ``daft.set_runner_ray()`` first to run on a Ray cluster.

    DAGs only: cycles, gates and interrupts raise ``IncompatibleRunnerError``.

    Args:
        cache: cache backend for nodes built with ``cache=True``. A ``MemoryCache`` is per
            worker process (the runner's own object on Daft's native runner); a
            ``DiskCache`` is shared by every worker that sees its directory.
        event_processors: processors that receive the run's events (replayed on the
            driver when the DataFrame is materialised); ``None`` uses the defaults.

    Raises:
        MissingDependencyError: (an ImportError) when ``daft`` is not installed.

    Example:
        >>> runner = DaftRunner()
        >>> df = runner.map(graph, {"x": [1, 2, 3]}, map_over="x")
        >>> df.to_pydict()
        {'x': [1, 2, 3], 'doubled': [2, 4, 6]}
    """

    runner_kind = "daft"

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> None:
        require("daft", "daft", "DaftRunner")
        if cache is not None:
            check_cache_picklable(cache)
        self._cache = cache
        self._processors = check_processors(event_processors, "DaftRunner")

    def __repr__(self) -> str:
        return f"DaftRunner(cache={self._cache!r})"

    @property
    def capabilities(self) -> RunnerCapabilities:
        """DAGs with sync or async nodes, distributed; no cycles, gates or interrupts."""
        return _CAPS

    def _job(self, graph: Graph, names: tuple[str, ...], **fields: Any) -> Job:
        ref = CacheRef(self._cache) if self._cache is not None else None
        return Job(graph, names, is_async=_needs_async(graph), cache=ref, **fields)

    def run(  # type: ignore[override]  # seed: BaseRunner.run takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        max_concurrency: int | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> dict[str, Any]:
        """Run one item on Daft (a one-row DataFrame) and return its selected outputs.

        Raises:
            GraphConfigError, IncompatibleRunnerError, InputError, MissingInputError; a
            node's own exception (its original type) when it raises.
        """
        plan = prepare_graph(self, graph)
        check_inputs(plan, inputs)
        names = resolve_select(plan, select)
        _check_concurrency(max_concurrency)
        Run.check_missing(plan, {**plan.bound, **inputs})
        dispatcher = dispatcher_for(self, event_processors, async_mode=False)
        job = self._job(
            graph,
            names,
            params=(),
            broadcast=dict(inputs),
            types=output_types(graph, names),
            observed=dispatcher is not None,
            mode="run",
            session_id=session_id,
            max_iterations=max_iterations,
            max_concurrency=max_concurrency,
            graph_name=plan.name,
        )
        return Execution(job, {INDEX: [0]}, {}, dispatcher).first_row()

    def map(  # type: ignore[override]  # seed: BaseRunner.map takes **kwargs; runners narrow them
        self,
        graph: Graph,
        inputs: dict[str, Any],
        *,
        map_over: str | list[str],
        map_mode: Literal["zip", "product"] = "zip",
        select: list[str] | None = None,
        session_id: str | None = None,
        max_iterations: int | None = None,
        max_concurrency: int | None = None,
        event_processors: Sequence[EventProcessor] | None = None,
    ) -> daft.DataFrame:
        """Run ``graph`` once per item of the ``map_over`` inputs, as a lazy DataFrame.

        Everything is checked here, before any work is scheduled; the graph runs when the
        DataFrame is materialised (``collect()``, ``to_pydict()``, ``iter_rows()`` ...).
        ``max_concurrency`` bounds the node executions in flight per Daft batch.

        Raises:
            GraphConfigError: the graph has interrupts. IncompatibleRunnerError: cycles or
            gates. InputError: bad ``map_over``, zip lists of different lengths, a mapped
            input that is also selected. Materialising raises a node's own exception.
        """
        call = MapCall(
            self, graph, inputs, map_over, map_mode, select, event_processors, async_mode=False
        )
        plan, params, items, names = call.plan, call.params, call.items, call.names
        _check_concurrency(max_concurrency)
        clash = [p for p in params if p in names]
        if clash:
            raise InputError(
                f"'{clash[0]}' is both mapped over and selected; DataFrame columns must be "
                f"unique.\n\nHow to fix: select only outputs the graph produces."
            )
        broadcast = {k: v for k, v in inputs.items() if k not in params}
        columns: dict[str, Sequence[Any]] = {INDEX: range(len(items))}
        for j, param in enumerate(params):
            columns[param] = [item[j] for item in items]
        types = {p: column_type(columns[p]) for p in params}
        types[INDEX] = column_type([0])
        dispatcher = call.dispatcher
        job = self._job(
            graph,
            names,
            params=params,
            broadcast=broadcast,
            types=output_types(graph, names),
            observed=dispatcher is not None,
            mode="map",
            session_id=session_id,
            max_iterations=max_iterations,
            max_concurrency=max_concurrency,
            graph_name=plan.name,
        )
        frame: daft.DataFrame = Execution(job, columns, types, dispatcher).lazy()
        return frame

    # ------------------------------------------------------------------ nesting
    def _drive_child(self, child: Run) -> None:
        """Run a nested graph's run for its one item (the DIRECT and THREAD_POOL strategies).

        From a Sync or Async parent it is a one-row Daft query whose node events are
        replayed into the parent's processors under the GraphNode's span. Inside a
        DaftRunner UDF (a Daft graph nested in a Daft graph) it runs inline on the engine.
        """
        graph = child.plan.graph
        if IN_WORKER.get():
            if _needs_async(graph):
                from graphflow.runners.async_ import AsyncRunner
                from graphflow.runners.sync import run_coroutine_blocking

                run_coroutine_blocking(AsyncRunner()._drive(child))
            else:
                from graphflow.runners.sync import SyncRunner

                SyncRunner()._drive(child)
            return
        outputs = graph.outputs
        cache = child.cache  # the explicit runner's, else the parent's (child_runs)
        job = Job(
            graph,
            outputs,
            params=(),
            broadcast=dict(child.sched.values),
            types=dict.fromkeys(outputs, PYTHON),
            is_async=_needs_async(graph),
            cache=CacheRef(cache) if cache is not None else None,
            observed=child.events is not None,
            mode="child",
            max_iterations=child.max_iterations,
            parent_span=child.parent_span,
            run_id=child.run_id,
            path=child.path,
            graph_name=child.graph_name,
            driver_pid=os.getpid(),
        )
        row = Execution(job, {INDEX: [0]}, {}, child.events, flush=False).first_row()
        child.sched.values.update(row)
