#!/usr/bin/env python
"""Execution-overhead baselines for graph-workflow peers of `graphflow`.

Frameworks (each optional; a missing one is reported as SKIP):
  floor        plain Python loops calling the very same functions
  graphflow    SyncRunner / AsyncRunner / DaftRunner (this project, installed in the venv)
  hypergraph   SyncRunner / AsyncRunner / DaftRunner (source snapshot, pip -e)
  langgraph    StateGraph.compile(): invoke / batch / ainvoke
  pipefunc     Pipeline.run / Pipeline.map(mapspec) / map_async
  hamilton     driver.Builder ... execute / async_driver / OpenTelemetryTracer
  pydantic-graph  GraphBuilder steps (async-only), run_sync / run

Workloads (node bodies are trivial `x + 1`):
  W1 chain : 50-node linear chain, one run
  W2 fan   : 1 source -> 20 parallel nodes -> 1 join (22 node executions)
  W3 map   : 3-node chain mapped over 2,000 items (6,000 node executions)
  W4 async : W1 with `async def` nodes on the framework's async runner
  W5 traced: W1 with OpenTelemetry (SDK TracerProvider + SimpleSpanProcessor
             + InMemorySpanExporter) through the framework's own integration
  W3a      : (extra) W3 with async nodes on the async runner's map/batch

Metric: microseconds per node execution = wall time of one workload run /
number of node executions.  Each cell: warmup runs, then R repetitions
(default 9, >= 7); a repetition times k back-to-back runs, k calibrated so a
repetition lasts >= --min-time seconds; reported median / min / max over the
repetitions.  GC stays enabled (frameworks allocate; disabling it would flatter
them) but gc.collect() runs before each repetition, outside the timer.

Every framework's result is asserted against the expected value before timing.

Usage:  python bench_peers.py [--repeats 9] [--min-time 0.2] [--only hypergraph,floor]
                              [--workloads W1,W3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from time import perf_counter, process_time

os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("HAMILTON_TELEMETRY_ENABLED", "false")
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")
warnings.filterwarnings("ignore")

N_CHAIN = 50
FAN = 20
N_ITEMS = 2000
MAP_LEN = 3
NODES = {
    "W1": N_CHAIN,
    "W2": FAN + 2,
    "W3": MAP_LEN * N_ITEMS,
    "W4": N_CHAIN,
    "W5": N_CHAIN,
    "W3a": MAP_LEN * N_ITEMS,
}
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W3a"]
ITEMS = list(range(N_ITEMS))
EXP_W1 = 1 + N_CHAIN  # x0 = 1
EXP_W2 = sum((1 + 1) + i for i in range(FAN))  # s = x+1 with x=1, p_i = s + i
EXP_W3 = [v + MAP_LEN for v in ITEMS]

def LAST() -> str:
    """Name of the chain's final output (y50 by default; --chain changes it)."""
    return f"y{N_CHAIN}"


HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.environ.get("BENCH_GEN_DIR") or os.path.join(tempfile.gettempdir(), "graphflow-bench-gen")


# --------------------------------------------------------------------------
# Generated source modules: real .py files so inspect.getsource works
# (Hamilton hashes node source) and every framework calls identical bodies.
# --------------------------------------------------------------------------
def _write(name: str, src: str) -> None:
    path = os.path.join(_gen_dir(), name + ".py")
    old = open(path).read() if os.path.exists(path) else None
    if old != src:
        with open(path, "w") as f:
            f.write(src)


def generate_modules() -> None:
    gen = _gen_dir()
    os.makedirs(gen, exist_ok=True)
    for asy in (False, True):
        a = "async " if asy else ""
        sfx = "_async" if asy else ""
        # chain: y1(x0) ... y50(y49); function name == output name
        lines = []
        for i in range(1, N_CHAIN + 1):
            prev = "x0" if i == 1 else f"y{i - 1}"
            lines.append(f"{a}def y{i}({prev}: int) -> int:\n    return {prev} + 1\n")
        lines.append("FUNCS = [" + ", ".join(f"y{i}" for i in range(1, N_CHAIN + 1)) + "]\n")
        _write("gen_chain" + sfx, "\n".join(lines))
        # fan: s(x); p_i(s); join(p0..p19)
        lines = [f"{a}def s(x: int) -> int:\n    return x + 1\n"]
        for i in range(FAN):
            lines.append(f"{a}def p{i}(s: int) -> int:\n    return s + {i}\n")
        params = ", ".join(f"p{i}: int" for i in range(FAN))
        body = " + ".join(f"p{i}" for i in range(FAN))
        lines.append(f"{a}def join({params}) -> int:\n    return {body}\n")
        lines.append("PS = [" + ", ".join(f"p{i}" for i in range(FAN)) + "]\n")
        _write("gen_fan" + sfx, "\n".join(lines))
        # map chain: m1(x), m2(m1), m3(m2)
        lines = []
        for i in range(1, MAP_LEN + 1):
            prev = "x" if i == 1 else f"m{i - 1}"
            lines.append(f"{a}def m{i}({prev}: int) -> int:\n    return {prev} + 1\n")
        lines.append("FUNCS = [" + ", ".join(f"m{i}" for i in range(1, MAP_LEN + 1)) + "]\n")
        _write("gen_map" + sfx, "\n".join(lines))

        # langgraph: state-dict nodes, one distinct key per output
        lines = []
        for i in range(1, N_CHAIN + 1):
            prev = "x0" if i == 1 else f"y{i - 1}"
            lines.append(f"{a}def lg_y{i}(st):\n    return {{'y{i}': st['{prev}'] + 1}}\n")
        lines.append("CHAIN = [" + ", ".join(f"lg_y{i}" for i in range(1, N_CHAIN + 1)) + "]\n")
        # langgraph: single shared key 'v'
        for i in range(1, N_CHAIN + 1):
            lines.append(f"{a}def lg_k{i}(st):\n    return {{'v': st['v'] + 1}}\n")
        lines.append("CHAIN1 = [" + ", ".join(f"lg_k{i}" for i in range(1, N_CHAIN + 1)) + "]\n")
        lines.append(f"{a}def lg_s(st):\n    return {{'s': st['x'] + 1}}\n")
        for i in range(FAN):
            lines.append(f"{a}def lg_p{i}(st):\n    return {{'p{i}': st['s'] + {i}}}\n")
        body = " + ".join(f"st['p{i}']" for i in range(FAN))
        lines.append(f"{a}def lg_join(st):\n    return {{'join': {body}}}\n")
        lines.append("PS = [" + ", ".join(f"lg_p{i}" for i in range(FAN)) + "]\n")
        for i in range(1, MAP_LEN + 1):
            prev = "x" if i == 1 else f"m{i - 1}"
            lines.append(f"{a}def lg_m{i}(st):\n    return {{'m{i}': st['{prev}'] + 1}}\n")
        lines.append("MAP = [" + ", ".join(f"lg_m{i}" for i in range(1, MAP_LEN + 1)) + "]\n")
        _write("gen_lg" + sfx, "\n".join(lines))

    # pydantic-graph steps are async-only: async def f(ctx) -> ctx.inputs + 1
    lines = []
    for i in range(1, N_CHAIN + 1):
        lines.append(f"async def pg_y{i}(ctx) -> int:\n    return ctx.inputs + 1\n")
    lines.append("CHAIN = [" + ", ".join(f"pg_y{i}" for i in range(1, N_CHAIN + 1)) + "]\n")
    lines.append("async def pg_s(ctx) -> int:\n    return ctx.inputs + 1\n")
    for i in range(FAN):
        lines.append(f"async def pg_p{i}(ctx) -> int:\n    return ctx.inputs + {i}\n")
    lines.append("PS = [" + ", ".join(f"pg_p{i}" for i in range(FAN)) + "]\n")
    for i in range(1, MAP_LEN + 1):
        lines.append(f"async def pg_m{i}(ctx) -> int:\n    return ctx.inputs + 1\n")
    lines.append("MAP = [" + ", ".join(f"pg_m{i}" for i in range(1, MAP_LEN + 1)) + "]\n")
    _write("gen_pg", "\n".join(lines))

    # hamilton native fan-out (Parallelizable / Collect) for W3
    src = (
        "from hamilton.htypes import Collect, Parallelizable\n\n"
        "def item(xs: list) -> Parallelizable[int]:\n    for v in xs:\n        yield v\n\n"
        "def m1(item: int) -> int:\n    return item + 1\n\n"
        "def m2(m1: int) -> int:\n    return m1 + 1\n\n"
        "def m3(m2: int) -> int:\n    return m2 + 1\n\n"
        "def out(m3: Collect[int]) -> list:\n    return list(m3)\n"
    )
    _write("gen_ham_par", src)
    if gen not in sys.path:
        sys.path.insert(0, gen)


# --------------------------------------------------------------------------
# Timing harness
# --------------------------------------------------------------------------
class Skip(Exception):
    """Workload not applicable to this framework (reason in message)."""


def _stats(wall: list[float], cpu: list[float], k: int) -> dict:
    return {
        "median": statistics.median(wall),
        "min": min(wall),
        "max": max(wall),
        "cpu_median": statistics.median(cpu),
        "k": k,
        "reps": len(wall),
        "samples": wall,
        "cpu_samples": cpu,
    }


def _plan(dt: float, cfg) -> tuple[int, int]:
    """(k runs per repetition, repetitions) from the duration of one run."""
    if dt >= cfg.min_time:
        k = 1
    else:
        k = max(1, min(200_000, int(cfg.min_time / max(dt, 1e-7))))
    reps = cfg.repeats if dt < 1.0 else max(7, min(cfg.repeats, cfg.repeats_slow))
    return k, reps


def measure_sync(fn, n_nodes, check, cfg, reset=None) -> dict:
    for _ in range(max(1, cfg.warmup)):
        t0 = perf_counter()
        r = fn()
        dt = perf_counter() - t0
    check(r)
    k, reps = _plan(dt, cfg)
    wall, cpu = [], []
    for _ in range(reps):
        if reset:
            reset()
        gc.collect()
        c0, t0 = process_time(), perf_counter()
        for _ in range(k):
            fn()
        t1, c1 = perf_counter(), process_time()
        wall.append((t1 - t0) / k / n_nodes * 1e6)
        cpu.append((c1 - c0) / k / n_nodes * 1e6)
    return _stats(wall, cpu, k)


def measure_async(afn, n_nodes, check, cfg, reset=None) -> dict:
    async def body():
        for _ in range(max(1, cfg.warmup)):
            t0 = perf_counter()
            r = await afn()
            dt = perf_counter() - t0
        check(r)
        k, reps = _plan(dt, cfg)
        wall, cpu = [], []
        for _ in range(reps):
            if reset:
                reset()
            gc.collect()
            c0, t0 = process_time(), perf_counter()
            for _ in range(k):
                await afn()
            t1, c1 = perf_counter(), process_time()
            wall.append((t1 - t0) / k / n_nodes * 1e6)
            cpu.append((c1 - c0) / k / n_nodes * 1e6)
        return _stats(wall, cpu, k)

    return asyncio.run(body())


def measure_paired(plain, traced, n_nodes, check, cfg, otel) -> dict:
    """W5: interleave untraced/traced repetitions so the overhead is a paired difference."""
    for _ in range(max(1, cfg.warmup)):
        check(plain())
        t0 = perf_counter()
        r = traced()
        dt = perf_counter() - t0
    check(r)
    k, reps = _plan(dt, cfg)
    w_plain, w_traced, c_plain, c_traced = [], [], [], []
    for _ in range(reps):
        for fn, w, c in ((plain, w_plain, c_plain), (traced, w_traced, c_traced)):
            otel.reset()
            gc.collect()
            c0, t0 = process_time(), perf_counter()
            for _ in range(k):
                fn()
            t1, c1 = perf_counter(), process_time()
            w.append((t1 - t0) / k / n_nodes * 1e6)
            c.append((c1 - c0) / k / n_nodes * 1e6)
    st = _stats(w_traced, c_traced, k)
    diffs = [t - p for t, p in zip(w_traced, w_plain)]
    st["paired_plain"] = _stats(w_plain, c_plain, k)
    st["overhead_median"] = statistics.median(diffs)
    st["overhead_min"] = min(diffs)
    st["overhead_max"] = max(diffs)
    st["spans"] = otel.count_spans(traced)
    return st


def eq(expected):
    def check(got):
        assert got == expected, f"wrong result: expected {expected!r:.80}, got {got!r:.80}"

    return check


# --------------------------------------------------------------------------
# OpenTelemetry (shared by all W5 cells)
# --------------------------------------------------------------------------
class Otel:
    def __init__(self):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def reset(self):
        self.exporter.clear()

    def count_spans(self, run_once) -> int:
        self.exporter.clear()
        run_once()
        n = len(self.exporter.get_finished_spans())
        self.exporter.clear()
        return n


# --------------------------------------------------------------------------
# Framework adapters: each returns {workload: callable(cfg, otel) -> result dict}
# A result dict is the stats dict, optionally with "spans" and "note".
# --------------------------------------------------------------------------
def fw_floor():
    import gen_chain
    import gen_chain_async
    import gen_fan
    import gen_map
    import gen_map_async

    chain = gen_chain.FUNCS
    achain = gen_chain_async.FUNCS
    m1, m2, m3 = gen_map.FUNCS
    am1, am2, am3 = gen_map_async.FUNCS

    def w1():
        v = 1
        for f in chain:
            v = f(v)
        return v

    def w2():
        s = gen_fan.s(1)
        return gen_fan.join(*[p(s) for p in gen_fan.PS])

    def w3():
        return [m3(m2(m1(x))) for x in ITEMS]

    async def w4():
        v = 1
        for f in achain:
            v = await f(v)
        return v

    async def w3a():
        async def one(x):
            return await am3(await am2(await am1(x)))

        return list(await asyncio.gather(*[one(x) for x in ITEMS]))

    def w5(cfg, otel):
        tracer = otel.provider.get_tracer("floor")
        names = [f.__name__ for f in chain]

        def run():
            with tracer.start_as_current_span("run"):
                v = 1
                for name, f in zip(names, chain):
                    with tracer.start_as_current_span(name):
                        v = f(v)
                return v

        st = measure_paired(w1, run, NODES["W5"], eq(EXP_W1), cfg, otel)
        st["note"] = "manual start_as_current_span per call + 1 root span"
        return st

    return {
        "W1": lambda cfg, otel: measure_sync(w1, NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(w2, NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: measure_sync(w3, NODES["W3"], eq(EXP_W3), cfg),
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
        "W5": w5,
        "W3a": lambda cfg, otel: measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg),
    }


# ---------------------------------------------------------------- hypergraph
def _hg_graphs(asy: bool):
    from hypergraph import Graph, node

    sfx = "_async" if asy else ""
    gen_chain = importlib.import_module("gen_chain" + sfx)
    gen_fan = importlib.import_module("gen_fan" + sfx)
    gen_map = importlib.import_module("gen_map" + sfx)
    g1 = Graph([node(f, output_name=f.__name__) for f in gen_chain.FUNCS], name="chain")
    fan_fns = [gen_fan.s, *gen_fan.PS, gen_fan.join]
    g2 = Graph([node(f, output_name=f.__name__) for f in fan_fns], name="fan")
    g3 = Graph([node(f, output_name=f.__name__) for f in gen_map.FUNCS], name="map3")
    return g1, g2, g3


def fw_hypergraph_sync():
    from hypergraph import SyncRunner

    g1, g2, g3 = _hg_graphs(False)
    r = SyncRunner()

    def w5(cfg, otel):
        from hypergraph.events.otel import OpenTelemetryProcessor

        proc = OpenTelemetryProcessor(tracer_provider=otel.provider)

        def run():
            return r.run(g1, {"x0": 1}, event_processors=[proc])[LAST()]

        st = measure_paired(lambda: r.run(g1, {"x0": 1})[LAST()], run, NODES["W5"], eq(EXP_W1), cfg, otel)
        st["note"] = "hypergraph.events.otel.OpenTelemetryProcessor(tracer_provider=...) via event_processors"
        return st

    return {
        "W1": lambda cfg, otel: measure_sync(lambda: r.run(g1, {"x0": 1})[LAST()], NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(lambda: r.run(g2, {"x": 1})["join"], NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: measure_sync(
            lambda: r.map(g3, {"x": ITEMS}, map_over="x")["m3"], NODES["W3"], eq(EXP_W3), cfg
        ),
        "W5": w5,
    }


def fw_hypergraph_async():
    from hypergraph import AsyncRunner

    g1, g2, g3 = _hg_graphs(True)
    r = AsyncRunner()

    async def w4():
        return (await r.run(g1, {"x0": 1}))[LAST()]

    async def w3a():
        return (await r.map(g3, {"x": ITEMS}, map_over="x"))["m3"]

    return {
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
        "W3a": lambda cfg, otel: measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg),
    }


def _no_failing_import(factory, note):
    """Same runner, but `from hypercache import ...` (attempted on every node execution when the
    optional hypercache package is absent) fails from sys.modules instead of scanning sys.path."""

    def wrapped():
        had = "hypercache" in sys.modules
        if not had:
            sys.modules["hypercache"] = None
        cells = factory()

        def wrap(f):
            def run(cfg, otel):
                rec = f(cfg, otel)
                rec["note"] = (rec.get("note", "") + "; " if rec.get("note") else "") + note
                return rec

            return run

        out = {w: wrap(f) for w, f in cells.items()}
        if not had:
            out["__teardown__"] = lambda: sys.modules.pop("hypercache", None)
        return out

    return wrapped


def fw_hypergraph_daft():
    from hypergraph.runners.daft import DaftRunner

    g1, g2, g3 = _hg_graphs(False)
    ag1, _, ag3 = _hg_graphs(True)
    r = DaftRunner()
    return {
        "W1": lambda cfg, otel: measure_sync(lambda: r.run(g1, {"x0": 1})[LAST()], NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(lambda: r.run(g2, {"x": 1})["join"], NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: measure_sync(
            lambda: r.map(g3, {"x": ITEMS}, map_over="x")["m3"], NODES["W3"], eq(EXP_W3), cfg
        ),
        # DaftRunner.run is synchronous; async nodes are executed by Daft's async UDF support.
        "W4": lambda cfg, otel: dict(
            measure_sync(lambda: r.run(ag1, {"x0": 1})[LAST()], NODES["W4"], eq(EXP_W1), cfg),
            note="sync .run() with async def nodes (Daft async UDFs)",
        ),
        "W3a": lambda cfg, otel: dict(
            measure_sync(lambda: r.map(ag3, {"x": ITEMS}, map_over="x")["m3"], NODES["W3a"], eq(EXP_W3), cfg),
            note="sync .map() with async def nodes",
        ),
    }


# ----------------------------------------------------------------- graphflow
def _gf_graphs(asy: bool):
    from graphflow import Graph, node

    sfx = "_async" if asy else ""
    gen_chain = importlib.import_module("gen_chain" + sfx)
    gen_fan = importlib.import_module("gen_fan" + sfx)
    gen_map = importlib.import_module("gen_map" + sfx)
    g1 = Graph([node(f, output_name=f.__name__) for f in gen_chain.FUNCS], name="chain")
    fan_fns = [gen_fan.s, *gen_fan.PS, gen_fan.join]
    g2 = Graph([node(f, output_name=f.__name__) for f in fan_fns], name="fan")
    g3 = Graph([node(f, output_name=f.__name__) for f in gen_map.FUNCS], name="map3")
    return g1, g2, g3


def fw_graphflow_sync():
    from graphflow import SyncRunner

    g1, g2, g3 = _gf_graphs(False)
    r = SyncRunner()

    def w5(cfg, otel):
        try:
            from graphflow.processors import OpenTelemetryProcessor
        except ImportError as e:
            raise Skip(f"ImportError: {e}") from e

        traced = SyncRunner(event_processors=[OpenTelemetryProcessor(tracer_provider=otel.provider)])

        def run():
            return traced.run(g1, {"x0": 1})[LAST()]

        st = measure_paired(lambda: r.run(g1, {"x0": 1})[LAST()], run, NODES["W5"], eq(EXP_W1), cfg, otel)
        st["note"] = "graphflow.processors.OpenTelemetryProcessor(tracer_provider=...)"
        return st

    return {
        "W1": lambda cfg, otel: measure_sync(lambda: r.run(g1, {"x0": 1})[LAST()], NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(lambda: r.run(g2, {"x": 1})["join"], NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: measure_sync(
            lambda: [d["m3"] for d in r.map(g3, {"x": ITEMS}, map_over="x")], NODES["W3"], eq(EXP_W3), cfg
        ),
        "W5": w5,
    }


def fw_graphflow_async():
    from graphflow import AsyncRunner

    g1, g2, g3 = _gf_graphs(True)
    r = AsyncRunner()

    async def w4():
        return (await r.run(g1, {"x0": 1}))[LAST()]

    async def w3a():
        return [d["m3"] for d in await r.map(g3, {"x": ITEMS}, map_over="x")]

    return {
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
        "W3a": lambda cfg, otel: measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg),
    }


def fw_graphflow_daft():
    from graphflow import DaftRunner, ExecutionError

    _, _, g3 = _gf_graphs(False)
    _, _, ag3 = _gf_graphs(True)
    try:
        r = DaftRunner()
    except ImportError as e:  # MissingDependencyError: the daft extra is not installed
        reason = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        return {w: (lambda cfg, otel, reason=reason: _skip(reason)) for w in ("W3", "W3a")}

    def w3(g):
        def run():
            out = r.map(g, {"x": ITEMS}, map_over="x")
            if hasattr(out, "to_pydict"):  # a Daft DataFrame
                return out.to_pydict()["m3"]
            return [d["m3"] for d in out]  # a list of dicts, like SyncRunner.map

        return run

    def cell(g, n, note=None):
        def go(cfg, otel):
            try:
                rec = measure_sync(w3(g), NODES[n], eq(EXP_W3), cfg)
            except ExecutionError as e:  # DaftRunner validates but does not execute yet
                raise Skip(f"ExecutionError: {str(e).splitlines()[0]}") from e
            return dict(rec, note=note) if note else rec

        return go

    return {
        "W3": cell(g3, "W3"),
        "W3a": cell(ag3, "W3a", "sync .map() with async def nodes"),
    }


def _skip(reason: str):
    raise Skip(reason)

# ----------------------------------------------------------------- langgraph
def _lg_build(asy: bool):
    from typing_extensions import TypedDict

    from langgraph.graph import END, START, StateGraph

    mod = importlib.import_module("gen_lg" + ("_async" if asy else ""))

    def chain_graph(fns, keys):
        S = TypedDict("S", {k: int for k in keys}, total=False)
        b = StateGraph(S)
        names = []
        for f in fns:
            name = "n_" + f.__name__
            b.add_node(name, f)
            names.append(name)
        b.add_edge(START, names[0])
        for a_, b_ in zip(names, names[1:]):
            b.add_edge(a_, b_)
        b.add_edge(names[-1], END)
        return b.compile()

    g1 = chain_graph(mod.CHAIN, ["x0"] + [f"y{i}" for i in range(1, N_CHAIN + 1)])
    g1k = chain_graph(mod.CHAIN1, ["v"])
    g3 = chain_graph(mod.MAP, ["x"] + [f"m{i}" for i in range(1, MAP_LEN + 1)])

    S2 = TypedDict("S2", {k: int for k in ["x", "s", "join"] + [f"p{i}" for i in range(FAN)]}, total=False)
    b = StateGraph(S2)
    b.add_node("n_s", mod.lg_s)
    pnames = []
    for f in mod.PS:
        b.add_node("n_" + f.__name__, f)
        pnames.append("n_" + f.__name__)
    b.add_node("n_join", mod.lg_join)
    b.add_edge(START, "n_s")
    for p in pnames:
        b.add_edge("n_s", p)
    b.add_edge(pnames, "n_join")  # waits for all 20 branches
    b.add_edge("n_join", END)
    g2 = b.compile()
    return g1, g1k, g2, g3


def fw_langgraph():
    g1, g1k, g2, g3 = _lg_build(False)
    inputs = [{"x": v} for v in ITEMS]
    return {
        "W1": lambda cfg, otel: measure_sync(lambda: g1.invoke({"x0": 1})[LAST()], NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(lambda: g2.invoke({"x": 1})["join"], NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: dict(
            measure_sync(lambda: [o["m3"] for o in g3.batch(inputs)], NODES["W3"], eq(EXP_W3), cfg),
            note="CompiledStateGraph.batch(2000 inputs) (thread pool, default max_concurrency)",
        ),
        "W5": lambda cfg, otel: (_ for _ in ()).throw(
            Skip("no native OpenTelemetry integration (tracing goes to LangSmith callbacks)")
        ),
    }


def fw_langgraph_async():
    ag1, ag1k, ag2, ag3 = _lg_build(True)
    inputs = [{"x": v} for v in ITEMS]

    async def w4():
        return (await ag1.ainvoke({"x0": 1}))[LAST()]

    async def w3a():
        return [o["m3"] for o in await ag3.abatch(inputs)]

    return {
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
        "W3a": lambda cfg, otel: dict(
            measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg), note="abatch(2000 inputs)"
        ),
    }


def fw_langgraph_1key():
    g1, g1k, _, g3 = _lg_build(False)
    ag1, ag1k, _, _ = _lg_build(True)

    async def w4():
        return (await ag1k.ainvoke({"v": 1}))["v"]

    return {
        "W1": lambda cfg, otel: measure_sync(lambda: g1k.invoke({"v": 1})["v"], NODES["W1"], eq(EXP_W1), cfg),
        "W3": lambda cfg, otel: dict(
            measure_sync(lambda: [g3.invoke({"x": v})["m3"] for v in ITEMS], NODES["W3"], eq(EXP_W3), cfg),
            note="plain loop of .invoke() (no batch)",
        ),
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
    }


# ------------------------------------------------------------------ pipefunc
def fw_pipefunc():
    from pipefunc import PipeFunc, Pipeline

    import gen_chain
    import gen_fan
    import gen_map

    p1 = Pipeline([PipeFunc(f, output_name=f.__name__) for f in gen_chain.FUNCS])
    p2 = Pipeline([PipeFunc(f, output_name=f.__name__) for f in [gen_fan.s, *gen_fan.PS, gen_fan.join]])
    specs = ["x[i] -> m1[i]", "m1[i] -> m2[i]", "m2[i] -> m3[i]"]
    p3 = Pipeline([PipeFunc(f, output_name=f.__name__, mapspec=s) for f, s in zip(gen_map.FUNCS, specs)])

    def w3():
        r = p3.map({"x": ITEMS}, parallel=False, storage="dict", show_progress=False)
        return [int(v) for v in r["m3"].output]

    return {
        "W1": lambda cfg, otel: measure_sync(lambda: p1.run(LAST(), kwargs={"x0": 1}), NODES["W1"], eq(EXP_W1), cfg),
        "W2": lambda cfg, otel: measure_sync(lambda: p2.run("join", kwargs={"x": 1}), NODES["W2"], eq(EXP_W2), cfg),
        "W3": lambda cfg, otel: dict(
            measure_sync(w3, NODES["W3"], eq(EXP_W3), cfg),
            note="Pipeline.map(mapspec 'x[i] -> m1[i]'..., parallel=False, storage='dict')",
        ),
        "W4": lambda cfg, otel: (_ for _ in ()).throw(
            Skip("async def nodes unsupported: map_async ships coroutines to an executor un-awaited")
        ),
        "W5": lambda cfg, otel: (_ for _ in ()).throw(Skip("no OpenTelemetry integration")),
    }


def fw_pipefunc_async():
    """map_async is pipefunc's async API: sync node bodies run in an executor."""
    from concurrent.futures import ThreadPoolExecutor

    from pipefunc import PipeFunc, Pipeline

    import gen_chain
    import gen_map

    ex = ThreadPoolExecutor(max_workers=2)
    p1 = Pipeline([PipeFunc(f, output_name=f.__name__) for f in gen_chain.FUNCS])
    specs = ["x[i] -> m1[i]", "m1[i] -> m2[i]", "m2[i] -> m3[i]"]
    p3 = Pipeline([PipeFunc(f, output_name=f.__name__, mapspec=s) for f, s in zip(gen_map.FUNCS, specs)])

    async def w4():
        am = p1.map_async({"x0": 1}, executor=ex, storage="dict", show_progress=False, display_widgets=False)
        return (await am.task)[LAST()].output

    async def w3a():
        am = p3.map_async({"x": ITEMS}, executor=ex, storage="dict", show_progress=False, display_widgets=False)
        return [int(v) for v in (await am.task)["m3"].output]

    note = "map_async(executor=ThreadPoolExecutor(2)); SYNC node bodies (async def unsupported)"
    return {
        "W4": lambda cfg, otel: dict(measure_async(w4, NODES["W4"], eq(EXP_W1), cfg), note=note),
        "W3a": lambda cfg, otel: dict(measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg), note=note),
    }


# ------------------------------------------------------------------ hamilton
def fw_hamilton():
    from hamilton import base, driver

    import gen_chain
    import gen_fan
    import gen_map

    def build(mod, *adapters):
        return driver.Builder().with_modules(mod).with_adapters(base.DictResult(), *adapters).build()

    d1, d2, d3 = build(gen_chain), build(gen_fan), build(gen_map)

    def w5(cfg, otel):
        from hamilton.plugins.h_opentelemetry import OpenTelemetryTracer

        dt = build(gen_chain, OpenTelemetryTracer(tracer=otel.provider.get_tracer("hamilton")))

        def run():
            return dt.execute([LAST()], inputs={"x0": 1})[LAST()]

        st = measure_paired(lambda: d1.execute([LAST()], inputs={"x0": 1})[LAST()], run, NODES["W5"], eq(EXP_W1), cfg, otel)
        st["note"] = "hamilton.plugins.h_opentelemetry.OpenTelemetryTracer adapter"
        return st

    return {
        "W1": lambda cfg, otel: measure_sync(
            lambda: d1.execute([LAST()], inputs={"x0": 1})[LAST()], NODES["W1"], eq(EXP_W1), cfg
        ),
        "W2": lambda cfg, otel: measure_sync(
            lambda: d2.execute(["join"], inputs={"x": 1})["join"], NODES["W2"], eq(EXP_W2), cfg
        ),
        "W3": lambda cfg, otel: dict(
            measure_sync(
                lambda: [d3.execute(["m3"], inputs={"x": v})["m3"] for v in ITEMS], NODES["W3"], eq(EXP_W3), cfg
            ),
            note="loop of Driver.execute (no map API)",
        ),
        "W5": w5,
    }


def fw_hamilton_async():
    from hamilton import async_driver

    import gen_chain_async
    import gen_map_async

    holder = {}

    async def get(mod):
        if mod.__name__ not in holder:
            holder[mod.__name__] = await async_driver.Builder().with_modules(mod).build()
        return holder[mod.__name__]

    async def w4():
        d = await get(gen_chain_async)
        return (await d.execute([LAST()], inputs={"x0": 1}))[LAST()]

    async def w3a():
        d = await get(gen_map_async)
        outs = await asyncio.gather(*[d.execute(["m3"], inputs={"x": v}) for v in ITEMS])
        return [o["m3"] for o in outs]

    def run4(cfg, otel):
        holder.clear()
        return measure_async(w4, NODES["W4"], eq(EXP_W1), cfg)

    def run3a(cfg, otel):
        holder.clear()
        return dict(measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg), note="asyncio.gather of AsyncDriver.execute")

    return {"W4": run4, "W3a": run3a}


def fw_hamilton_parallel():
    from hamilton import base, driver
    from hamilton.execution import executors

    import gen_ham_par

    d = (
        driver.Builder()
        .enable_dynamic_execution(allow_experimental_mode=True)
        .with_modules(gen_ham_par)
        .with_local_executor(executors.SynchronousLocalTaskExecutor())
        .with_adapters(base.DictResult())
        .build()
    )
    return {
        "W3": lambda cfg, otel: dict(
            measure_sync(lambda: d.execute(["out"], inputs={"xs": ITEMS})["out"], NODES["W3"], eq(EXP_W3), cfg),
            note="Parallelizable[]/Collect[] dynamic execution, SynchronousLocalTaskExecutor",
        ),
    }


# ------------------------------------------------------------ pydantic-graph
def fw_pydantic_graph():
    from pydantic_graph import GraphBuilder, reduce_list_append, reduce_sum

    import gen_pg

    def chain(fns, name):
        g = GraphBuilder(name=name, input_type=int, output_type=int)
        steps = [g.step(f, node_id=f.__name__) for f in fns]
        g.add_edge(g.start_node, steps[0])
        for a_, b_ in zip(steps, steps[1:]):
            g.add_edge(a_, b_)
        g.add_edge(steps[-1], g.end_node)
        return g.build()

    g1 = chain(gen_pg.CHAIN, "chain")

    g = GraphBuilder(name="fan", input_type=int, output_type=int)
    s = g.step(gen_pg.pg_s, node_id="s")
    ps = [g.step(f, node_id=f.__name__) for f in gen_pg.PS]
    j = g.join(reduce_sum, initial=0, node_id="join")
    g.add_edge(g.start_node, s)
    g.add(g.edge_from(s).to(*ps))
    g.add(g.edge_from(*ps).to(j))
    g.add_edge(j, g.end_node)
    g2 = g.build()

    g = GraphBuilder(name="map3", input_type=list, output_type=list)
    ms = [g.step(f, node_id=f.__name__) for f in gen_pg.MAP]
    j3 = g.join(reduce_list_append, initial_factory=list, node_id="collect")
    g.add_mapping_edge(g.start_node, ms[0])
    for a_, b_ in zip(ms, ms[1:]):
        g.add_edge(a_, b_)
    g.add_edge(ms[-1], j3)
    g.add_edge(j3, g.end_node)
    g3 = g.build()

    async def w4():
        return await g1.run(inputs=1)

    async def w3a():
        return sorted(await g3.run(inputs=ITEMS))

    return {
        "W1": lambda cfg, otel: dict(
            measure_sync(lambda: g1.run_sync(inputs=1), NODES["W1"], eq(EXP_W1), cfg),
            note="run_sync(); steps must be async def",
        ),
        "W2": lambda cfg, otel: dict(
            measure_sync(lambda: g2.run_sync(inputs=1), NODES["W2"], eq(EXP_W2), cfg),
            note="broadcast edge + join(reduce_sum)",
        ),
        "W3": lambda cfg, otel: dict(
            measure_sync(lambda: sorted(g3.run_sync(inputs=ITEMS)), NODES["W3"], eq(EXP_W3), cfg),
            note="add_mapping_edge + join(reduce_list_append), run_sync",
        ),
        "W4": lambda cfg, otel: measure_async(w4, NODES["W4"], eq(EXP_W1), cfg),
        "W5": lambda cfg, otel: (_ for _ in ()).throw(
            Skip("instrumentation is logfire-based (logfire_api no-op unless logfire is installed/configured)")
        ),
        "W3a": lambda cfg, otel: dict(measure_async(w3a, NODES["W3a"], eq(EXP_W3), cfg), note="await run()"),
    }


FRAMEWORKS = [
    ("floor (plain Python)", fw_floor),
    ("graphflow SyncRunner", fw_graphflow_sync),
    ("graphflow AsyncRunner", fw_graphflow_async),
    ("graphflow DaftRunner", fw_graphflow_daft),
    ("hypergraph SyncRunner", fw_hypergraph_sync),
    ("hypergraph AsyncRunner", fw_hypergraph_async),
    ("hypergraph DaftRunner", fw_hypergraph_daft),
    ("hypergraph SyncRunner [no failing import]",
     _no_failing_import(fw_hypergraph_sync, "sys.modules['hypercache']=None (diagnostic)")),
    ("hypergraph AsyncRunner [no failing import]",
     _no_failing_import(fw_hypergraph_async, "sys.modules['hypercache']=None (diagnostic)")),
    ("langgraph", fw_langgraph),
    ("langgraph async", fw_langgraph_async),
    ("langgraph 1-key state", fw_langgraph_1key),
    ("pipefunc", fw_pipefunc),
    ("pipefunc map_async", fw_pipefunc_async),
    ("hamilton", fw_hamilton),
    ("hamilton AsyncDriver", fw_hamilton_async),
    ("hamilton Parallelizable", fw_hamilton_parallel),
    ("pydantic-graph", fw_pydantic_graph),
]


def set_chain(n: int) -> None:
    global N_CHAIN, EXP_W1
    N_CHAIN = n
    EXP_W1 = 1 + n
    for w in ("W1", "W4", "W5"):
        NODES[w] = n
    os.environ["BENCH_CHAIN"] = str(n)


def _gen_dir() -> str:
    n = int(os.environ.get("BENCH_CHAIN", "50"))
    return GEN if n == 50 else GEN + f"_chain{n}"


def summarize(paths: list[str]) -> None:
    """Merge repeated runs: per cell, median of the per-run medians and the spread of the per-run medians;
    ratios vs floor are computed within each run (same process) and then the median across runs is taken."""
    runs = [json.load(open(p)) for p in paths]
    names = []
    for r in runs:
        for n in r["results"]:
            if n not in names:
                names.append(n)
    floor_name = "floor (plain Python)"
    print(f"runs: {len(runs)} ({', '.join(os.path.basename(p) for p in paths)})\n")
    print("| framework | " + " | ".join(WORKLOADS) + " |")
    print("|---|" + "---|" * len(WORKLOADS))
    for n in names:
        cells = []
        for w in WORKLOADS:
            meds, ratios, skip = [], [], None
            for r in runs:
                rec = r["results"].get(n, {}).get(w)
                fl = r["results"].get(floor_name, {}).get(w)
                if rec and "median" in rec:
                    meds.append(rec["median"])
                    if fl and "median" in fl:
                        ratios.append(rec["median"] / fl["median"])
                elif rec:
                    skip = "SKIP" if "skip" in rec else "ERROR"
            if meds:
                m = statistics.median(meds)
                spread = f" [{fmt(min(meds))}-{fmt(max(meds))}]" if len(meds) > 1 else ""
                rr = statistics.median(ratios) if ratios else None
                ratio = (f" ({rr:.1f}x)" if rr < 10 else f" ({rr:,.0f}x)") if rr and n != floor_name else ""
                cells.append(f"**{fmt(m)}**{spread}{ratio}")
            else:
                cells.append(skip or "-")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print("\nCPU-time us/node (process_time, all threads), median of per-run medians:\n")
    print("| framework | " + " | ".join(WORKLOADS) + " |")
    print("|---|" + "---|" * len(WORKLOADS))
    for n in names:
        cells = []
        for w in WORKLOADS:
            meds = [r["results"].get(n, {}).get(w, {}).get("cpu_median") for r in runs]
            meds = [m for m in meds if m is not None]
            cells.append(fmt(statistics.median(meds)) if meds else "-")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print("\nW5 tracing overhead (paired, us/node), per run; spans per traced run:\n")
    print("| framework | overhead per run | median | W5-W1 (separate cells) | spans |")
    print("|---|---|---|---|---|")
    for n in names:
        ov, sep, spans = [], [], set()
        for r in runs:
            row = r["results"].get(n, {})
            w5, w1 = row.get("W5"), row.get("W1")
            if w5 and "overhead_median" in w5:
                ov.append(w5["overhead_median"])
                spans.add(w5.get("spans"))
                if w1 and "median" in w1:
                    sep.append(w5["median"] - w1["median"])
        if ov:
            print(f"| {n} | {', '.join(fmt(x) for x in ov)} | **{fmt(statistics.median(ov))}** | "
                  f"{', '.join(fmt(x) for x in sep)} | {', '.join(str(x) for x in spans)} |")


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in [
        "graphflow-runtime",
        "hypergraph-ai",
        "langgraph",
        "langchain-core",
        "pipefunc",
        "apache-hamilton",
        "pydantic-graph",
        "daft",
        "opentelemetry-sdk",
        "networkx",
    ]:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    try:
        with open("/proc/cpuinfo") as f:
            out["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        pass
    out["nproc"] = os.cpu_count()
    return out


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------
def fmt(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def print_tables(results: dict, out=sys.stdout) -> None:
    floor = results.get("floor (plain Python)", {})
    cols = WORKLOADS
    w0 = max(len(r) for r in results) + 1

    def cell(rec):
        if rec is None:
            return "-"
        if "skip" in rec:
            return "SKIP"
        if "error" in rec:
            return "ERROR"
        return f"{fmt(rec['median'])} [{fmt(rec['min'])}-{fmt(rec['max'])}]"

    print("\nus per node execution: median [min-max] over repetitions", file=out)
    print("W1 chain50 | W2 fan20 | W3 map3x2000 | W4 async chain50 | W5 W1+OTel | W3a async map", file=out)
    head = "framework".ljust(w0) + "".join(c.rjust(24) for c in cols)
    print(head, file=out)
    for name, row in results.items():
        print(name.ljust(w0) + "".join(cell(row.get(c)).rjust(24) for c in cols), file=out)

    print("\nCPU us per node execution (process_time, all threads): median over repetitions", file=out)
    print("framework".ljust(w0) + "".join(c.rjust(12) for c in cols), file=out)
    for name, row in results.items():
        cells = [fmt(row[c]["cpu_median"]) if row.get(c) and "median" in row[c] else cell(row.get(c)) for c in cols]
        print(name.ljust(w0) + "".join(x.rjust(12) for x in cells), file=out)

    print("\nratio vs plain-Python floor, same process (median / floor median); W5 ratio vs floor W5 (raw OTel spans)", file=out)
    print("framework".ljust(w0) + "".join(c.rjust(12) for c in cols), file=out)
    for name, row in results.items():
        cells = []
        for c in cols:
            rec, f = row.get(c), floor.get(c)
            if rec and "median" in rec and f and "median" in f:
                cells.append(f"{rec['median'] / f['median']:.1f}x")
            else:
                cells.append(cell(rec) if rec and "median" not in rec else "-")
        print(name.ljust(w0) + "".join(x.rjust(12) for x in cells), file=out)

    print("\ntracing overhead, us/node: paired = median over repetitions of (traced - untraced) timed back to back"
          " in the same cell; also W5 median - W1 median (separate cells); spans per traced run", file=out)
    for name, row in results.items():
        w1, w5 = row.get("W1"), row.get("W5")
        if w5 and "overhead_median" in w5:
            sep = f"{fmt(w5['median'] - w1['median'])}" if w1 and "median" in w1 else "-"
            print(
                f"  {name.ljust(w0)} paired +{fmt(w5['overhead_median'])} [{fmt(w5['overhead_min'])}-"
                f"{fmt(w5['overhead_max'])}]   W5-W1 {sep}   spans={w5.get('spans')}"
                f"   untraced-in-cell {fmt(w5['paired_plain']['median'])}",
                file=out,
            )

    print("\nCPU time / wall time per cell (process_time, all threads; >1 = extra threads busy, <1 = waiting"
          " or descheduled by other load)", file=out)
    print("framework".ljust(w0) + "".join(c.rjust(12) for c in cols), file=out)
    for name, row in results.items():
        cells = []
        for c in cols:
            rec = row.get(c)
            cells.append(f"{rec['cpu_median'] / rec['median']:.2f}" if rec and "median" in rec else "-")
        print(name.ljust(w0) + "".join(x.rjust(12) for x in cells), file=out)

    skips = [(n, c, r.get("skip") or r.get("error")) for n, row in results.items() for c, r in row.items()
             if r and ("skip" in r or "error" in r)]
    if skips:
        print("\nskipped / failed cells:", file=out)
        for n, c, why in skips:
            print(f"  {n} {c}: {why}", file=out)
    notes = [(n, c, r["note"]) for n, row in results.items() for c, r in row.items() if r and r.get("note")]
    if notes:
        print("\nnotes:", file=out)
        for n, c, why in notes:
            print(f"  {n} {c}: {why}", file=out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--repeats-slow", type=int, default=7, help="repetitions for cells whose single run takes >= 1 s")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition (k runs are batched)")
    ap.add_argument("--only", default="", help="comma list of substrings of framework names")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--json", default="", help="write raw results here")
    ap.add_argument("--chain", type=int, default=N_CHAIN, help="chain length for W1/W4/W5 (scaling probe)")
    ap.add_argument("--summarize", nargs="+", default=None, metavar="JSON",
                    help="no benchmarking: merge result files of repeated runs into markdown tables")
    cfg = ap.parse_args()
    if cfg.summarize:
        summarize(cfg.summarize)
        return
    if cfg.chain != N_CHAIN:
        set_chain(cfg.chain)
    if cfg.repeats < 7:
        print(f"note: --repeats {cfg.repeats} < 7 (debug run)", file=sys.stderr)
    wanted = [w.strip() for w in cfg.workloads.split(",") if w.strip()]
    only = [s.strip() for s in cfg.only.split(",") if s.strip()]

    generate_modules()
    otel = Otel()
    vers = versions()
    print("versions:", json.dumps(vers), flush=True)
    results: dict[str, dict] = {}
    t_start = time.time()
    for name, factory in FRAMEWORKS:
        if only and not any(s in name for s in only) and not name.startswith("floor"):
            continue
        row: dict[str, dict] = {}
        results[name] = row
        try:
            t0 = perf_counter()
            cells = factory()
            build_s = perf_counter() - t0
        except Exception as e:  # framework missing or broken
            print(f"[{name}] unavailable: {type(e).__name__}: {e}", flush=True)
            for w in wanted:
                row[w] = {"skip": f"unavailable: {type(e).__name__}: {e}"}
            continue
        teardown = cells.pop("__teardown__", None)
        for w in wanted:
            if w not in cells:
                continue
            try:
                rec = cells[w](cfg, otel)
                rec["build_s"] = build_s
                row[w] = rec
                print(
                    f"[{name}] {w}: {fmt(rec['median'])} us/node (min {fmt(rec['min'])}, max {fmt(rec['max'])},"
                    f" k={rec['k']}, reps={rec['reps']}, cpu {fmt(rec['cpu_median'])})"
                    + (f" spans={rec['spans']} overhead +{fmt(rec['overhead_median'])}" if "spans" in rec else ""),
                    flush=True,
                )
            except Skip as e:
                row[w] = {"skip": str(e)}
                print(f"[{name}] {w}: SKIP ({e})", flush=True)
            except Exception as e:
                row[w] = {"error": f"{type(e).__name__}: {e}"}
                print(f"[{name}] {w}: ERROR {type(e).__name__}: {e}", flush=True)
                traceback.print_exc()
        if teardown:
            teardown()
    print(f"\ntotal wall time {time.time() - t_start:.0f}s; repeats={cfg.repeats} min_time={cfg.min_time}s "
          f"warmup={cfg.warmup}")
    print_tables(results)
    if cfg.json:
        with open(cfg.json, "w") as f:
            json.dump({"versions": vers, "config": vars(cfg), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
