"""DaftRunner helpers with no Daft plan in them: caches on workers, column types, traceparent.

Everything here is imported by the driver and by Daft workers (local threads, subprocesses or
Ray workers). ``daft``, ``pyarrow`` and ``opentelemetry`` are optional and imported inside
functions only.
"""

from __future__ import annotations

import os
import threading
import typing
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from graphflow.cache import Cache, DiskCache, MemoryCache
from graphflow.exceptions import GraphConfigError, NodeOutputError
from graphflow.graph import Graph
from graphflow.graph.nodes import FunctionNode

__all__ = [
    "ATTR_BATCH_ROWS",
    "PYTHON",
    "CacheRef",
    "ColumnType",
    "Shared",
    "batch_scope",
    "check_cache_picklable",
    "check_outputs",
    "column_type",
    "output_types",
    "traceparent_of",
]

#: attribute of the worker-side batch span (rows in the Daft batch)
ATTR_BATCH_ROWS = "graphflow.daft.batch_rows"

# ------------------------------------------------------------------ caches on workers
_LOCAL: dict[str, Cache] = {}
_LOCAL_LOCK = threading.Lock()
#: the caches handed to DaftRunners in this process, by id (a ref unpickled here finds them)
_ORIGINALS: weakref.WeakValueDictionary[int, Cache] = weakref.WeakValueDictionary()


class CacheRef:
    """A picklable handle on the runner's cache, resolved where the UDF runs.

    In the driver's own process (Daft's native runner runs UDFs in threads) it is the
    runner's cache object itself. In another process (Ray workers, Daft subprocesses) a
    ``DiskCache`` is reopened from its path (shared when the path is shared), a
    ``MemoryCache`` becomes one empty cache per worker process (with the same ``max_size``),
    and any other cache is pickled as is (it must be picklable).
    """

    __slots__ = ("_cache", "_kind", "_pid", "_spec")

    def __init__(self, cache: Cache) -> None:
        self._cache: Cache | None = cache
        self._spec: Any
        self._kind: str
        self._pid = os.getpid()
        _ORIGINALS[id(cache)] = cache
        if isinstance(cache, DiskCache):
            self._kind, self._spec = "disk", cache.path
        elif isinstance(cache, MemoryCache):
            self._kind, self._spec = "memory", (cache.max_size, id(cache), self._pid)
        else:
            self._kind, self._spec = "other", cache

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._kind, self._spec, self._pid, id(self._cache)))

    def get(self) -> Cache:
        """The cache to use in this process."""
        assert self._cache is not None
        return self._cache


def _rebuild(kind: str, spec: Any, pid: int, ident: int) -> CacheRef:
    ref = CacheRef.__new__(CacheRef)
    ref._kind, ref._spec, ref._pid = kind, spec, pid
    if pid == os.getpid():
        original = _ORIGINALS.get(ident)
        if original is not None:
            ref._cache = original
            return ref
    key = f"{kind}:{spec!r}" if kind != "other" else f"other:{pid}:{ident}"
    with _LOCAL_LOCK:
        cache = _LOCAL.get(key)
        if cache is None:
            if kind == "disk":
                cache = DiskCache(spec)
            elif kind == "memory":
                cache = MemoryCache(spec[0])
            else:
                cache = spec
            _LOCAL[key] = cache
    ref._cache = cache
    return ref


# ------------------------------------------------------------------ what workers receive
_SHARED: weakref.WeakValueDictionary[int, Shared] = weakref.WeakValueDictionary()


class Shared:
    """A picklable handle on what the UDF needs (graph, broadcast inputs, cache).

    Daft pickles a UDF's arguments when the plan is built (a check) and again to ship them to
    Ray workers, while its native runner calls the UDF with the original objects. This handle
    pickles its value once (with Daft's cloudpickle) and reuses the bytes; a value that cannot
    be pickled (a lock, a client holding a socket) is kept by reference instead, so it works
    in the driver's process, and a worker in another process that receives it raises an
    error saying what could not be sent.
    """

    __slots__ = ("__weakref__", "_blob", "_error", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._blob: bytes | None = None
        self._error: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        if self._blob is None and self._error is None:
            from daft import pickle

            try:
                self._blob = pickle.dumps(self.value)
            except Exception as exc:
                self._error = f"{type(exc).__name__}: {exc}"
        if self._blob is not None:
            return (_from_blob, (self._blob,))
        _SHARED[id(self)] = self
        return (_from_driver, (id(self), os.getpid(), self._error))


def _from_blob(blob: bytes) -> Shared:
    from daft import pickle

    return Shared(pickle.loads(blob))


def _from_driver(ident: int, pid: int, error: str) -> Shared:
    found = _SHARED.get(ident) if pid == os.getpid() else None
    if found is None:
        raise GraphConfigError(
            f"DaftRunner could not send the graph and its inputs to a worker process: they "
            f"cannot be pickled ({error}).\n\nHow to fix: pass picklable inputs (create "
            f"clients and connections inside a node, e.g. a cached one), or run on Daft's "
            f"native runner, which runs UDFs in this process."
        )
    return found


def check_cache_picklable(cache: Cache) -> None:
    """Fail early when a custom cache could not reach Daft workers."""
    if isinstance(cache, DiskCache | MemoryCache):
        return
    import pickle

    try:
        pickle.dumps(cache)
    except Exception as exc:
        raise GraphConfigError(
            f"DaftRunner needs a cache it can send to Daft workers, but "
            f"{type(cache).__name__} cannot be pickled ({exc}).\n\nHow to fix: use DiskCache "
            f"(shared through its directory) or MemoryCache (one per worker), or make the "
            f"cache picklable."
        ) from exc


# ------------------------------------------------------------------ column types
class ColumnType:
    """How one column is stored: a Daft type for plain values, else Python objects.

    Only types that round-trip exactly are typed (``int``, ``float``, ``str``, ``bool``,
    ``bytes`` and lists of them); Daft would silently coerce anything else (``2.5`` stored
    in an ``Int64`` column comes back as ``2``), so values are checked before storing.
    """

    __slots__ = ("item", "kind", "listed")

    def __init__(self, kind: type | None, listed: bool = False) -> None:
        self.kind = kind  # None: Python objects
        self.listed = listed

    def dtype(self) -> Any:
        from daft import DataType

        if self.kind is None:
            return DataType.python()
        base = DataType._infer(self.kind)
        return DataType.list(base) if self.listed else base

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is stored unchanged (None is a null of any type)."""
        kind = self.kind
        if kind is None or value is None:
            return True
        if not self.listed:
            return _fits(kind, value)
        return type(value) is list and all(v is None or _fits(kind, v) for v in value)

    def __repr__(self) -> str:
        if self.kind is None:
            return "Python"
        return f"list[{self.kind.__name__}]" if self.listed else self.kind.__name__


_SCALARS = (int, float, str, bool, bytes)
_INT64 = (-(2**63), 2**63 - 1)


def _fits(kind: type, value: Any) -> bool:
    if type(value) is not kind:
        return False
    return kind is not int or (isinstance(value, int) and _INT64[0] <= value <= _INT64[1])


PYTHON = ColumnType(None)


def _from_hint(hint: Any) -> ColumnType:
    if hint in _SCALARS:
        return ColumnType(hint)
    if typing.get_origin(hint) is list:
        args = typing.get_args(hint)
        if len(args) == 1 and args[0] in _SCALARS:
            return ColumnType(args[0], listed=True)
    return PYTHON


def output_types(graph: Graph, names: Sequence[str]) -> dict[str, ColumnType]:
    """Column types of ``names`` from the producing nodes' return annotations."""
    found: dict[str, ColumnType] = {}
    for node in graph.structure.nodes.values():
        if not isinstance(node, FunctionNode) or node.is_generator or not node.outputs:
            continue
        try:
            hint = typing.get_type_hints(node.func).get("return")
        except Exception:  # unresolvable forward references: store Python objects
            continue
        outs = node.outputs
        if len(outs) == 1:
            found[outs[0]] = _from_hint(hint)
        elif typing.get_origin(hint) is tuple:
            args = typing.get_args(hint)
            if len(args) == len(outs) and Ellipsis not in args:
                found.update(zip(outs, map(_from_hint, args), strict=True))
    return {name: found.get(name, PYTHON) for name in names}


def column_type(values: Sequence[Any]) -> ColumnType:
    """The column type of mapped input values: typed only if every value fits exactly."""
    kinds = {type(v) for v in values if v is not None}
    if len(kinds) != 1:
        return PYTHON
    kind = kinds.pop()
    if kind in _SCALARS:
        col = ColumnType(kind)
        if kind is int and not all(_fits(int, v) for v in values if v is not None):
            return PYTHON
        return col
    return PYTHON


def check_outputs(
    types: Mapping[str, ColumnType], row: Mapping[str, Any], node_of: Mapping[str, str], item: int
) -> None:
    """Raise NodeOutputError when a value would not survive its typed column."""
    for name, col in types.items():
        value = row.get(name)
        if col.kind is not None and not col.accepts(value):
            raise NodeOutputError(
                f"Output '{name}' of node '{node_of.get(name, '?')}' is annotated {col!r}, but "
                f"item {item} returned {type(value).__name__} {value!r:.80}. DaftRunner stores "
                f"annotated outputs in typed Daft columns and does not convert values.\n\n"
                f"How to fix: correct the return annotation, or annotate it Any to store "
                f"Python objects."
            )


# ------------------------------------------------------------------ trace context
def traceparent_of(processors: Sequence[Any], span_id: str | None) -> str | None:
    """The W3C traceparent of the span an event ``span_id`` opened, else of the ambient span.

    Processors that map event span ids to OpenTelemetry spans expose ``span_context_for``
    (graphflow's OpenTelemetryProcessor does); the runner only reads it, duck-typed.
    """
    if span_id is not None:
        for processor in processors:
            lookup = getattr(processor, "span_context_for", None)
            if lookup is None:
                continue
            try:
                ctx = lookup(span_id)
            except Exception:
                continue
            if ctx is not None and getattr(ctx, "is_valid", False):
                return _format(ctx)
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    ctx = trace.get_current_span().get_span_context()
    return _format(ctx) if ctx.is_valid else None


def _format(ctx: Any) -> str:
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


@contextmanager
def batch_scope(
    traceparent: str | None, graph_name: str | None, rows: int, flush: bool
) -> Iterator[None]:
    """Join the map's trace on a worker for one batch: a ``batch`` span, current meanwhile.

    With an OpenTelemetry SDK configured in the worker process, a span ``batch {graph}``
    (attribute ``graphflow.daft.batch_rows``) is made a child of ``traceparent`` and is the
    current span while the batch's rows run, so spans made inside node bodies join the
    trace; the worker's provider is flushed when the batch ends (``flush``, set off the
    driver's process). Without an SDK, the remote parent itself is made current.
    """
    if traceparent is None:
        yield
        return
    try:
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError:
        yield
        return
    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    name = f"batch {graph_name}" if graph_name else "batch"
    attributes: dict[str, Any] = {ATTR_BATCH_ROWS: rows, "graphflow.runner": "daft"}
    if graph_name:
        attributes["graphflow.graph.name"] = graph_name
    span = trace.get_tracer("graphflow.daft").start_span(
        name, context=parent, kind=trace.SpanKind.INTERNAL, attributes=attributes
    )
    recording = span.is_recording()
    token = context.attach(trace.set_span_in_context(span, parent) if recording else parent)
    try:
        yield
    finally:
        context.detach(token)
        span.end()
        if recording and flush:
            provider_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
            if provider_flush is not None:
                provider_flush(5000)
