#!/usr/bin/env python
"""Execution overhead of graphflow's runners, beside a plain Python loop calling the same functions.

Workloads (every node body is a trivial ``+ 1``; each node is a distinct generated function):
  (a) sync-chain   50-node chain ``y{i} = f{i}(y{i-1})``, ``SyncRunner().run``
  (b) sync-fan     1 source -> 20 parallel nodes -> 1 join (22 node executions),
                   ``SyncRunner().run``
  (c) sync-map     3-node chain mapped over 2,000 items (6,000 node-items), ``SyncRunner().map``
  (d) async-chain  (a) with ``async def`` nodes, ``await AsyncRunner().run`` (one ``asyncio.run``)
  (e) async-map    (c) with ``async def`` nodes, ``await AsyncRunner().map``

Metric: microseconds per node execution (per node-item for the maps) = wall time of one run /
node executions. Each cell: warm-up, then ``--repeats`` repetitions; a repetition times k
back-to-back runs, k calibrated so it lasts >= ``--min-time`` s. Reported: median [min-max].
Timing uses ``time.perf_counter`` with the garbage collector disabled inside the timer (as
``timeit`` does; ``gc.collect()`` runs before each repetition, outside it). graphflow and floor
repetitions alternate, so both see the same machine load; ratio = graphflow median / floor median.
Every result is checked before it is timed.

Targets: SyncRunner chain <= 5 us/node, SyncRunner map <= 3 us per node-item, AsyncRunner
chain <= 10 us/node.

Usage:  python bench/bench_graphflow.py [--repeats 9] [--min-time 0.2] [--json out.json]
                                        [--only sync-chain,async-map] [--check]
        python bench/bench_graphflow.py --profile sync-chain   (cProfile, top 25 by tottime)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import linecache
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

N_CHAIN = 50
FAN = 20
MAP_LEN = 3
N_ITEMS = 2000
ITEMS = list(range(N_ITEMS))


# ---------------------------------------------------------------------------------------------
# Generated node functions: module source exec'd under a fake filename registered in linecache,
# so each node is a distinct function and inspect.getsource() works (graphflow hashes sources).
# ---------------------------------------------------------------------------------------------
def _exec_module(name: str, src: str) -> dict[str, Any]:
    filename = f"<graphflow-bench-{name}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns: dict[str, Any] = {"__name__": f"graphflow_bench_gen_{name}"}
    exec(compile(src, filename, "exec"), ns)
    return ns


def gen_chain(asy: bool) -> list[Callable[..., Any]]:
    """f1(y0) -> y1, ..., f50(y49) -> y50."""
    a = "async " if asy else ""
    src = "".join(
        f"{a}def f{i}(y{i - 1}):\n    return y{i - 1} + 1\n\n" for i in range(1, N_CHAIN + 1)
    )
    ns = _exec_module("chain" + ("_async" if asy else ""), src)
    return [ns[f"f{i}"] for i in range(1, N_CHAIN + 1)]


def gen_fan() -> tuple[Callable[..., Any], list[Callable[..., Any]], Callable[..., Any]]:
    """s(x) -> s; p{i}(s) -> p{i} (i < 20); join(p0, ..., p19) -> join."""
    src = "def s(x):\n    return x + 1\n\n"
    src += "".join(f"def p{i}(s):\n    return s + {i}\n\n" for i in range(FAN))
    params = ", ".join(f"p{i}" for i in range(FAN))
    src += f"def join({params}):\n    return {' + '.join(f'p{i}' for i in range(FAN))}\n"
    ns = _exec_module("fan", src)
    return ns["s"], [ns[f"p{i}"] for i in range(FAN)], ns["join"]


def gen_map(asy: bool) -> list[Callable[..., Any]]:
    """m1(x) -> m1, m2(m1) -> m2, m3(m2) -> m3."""
    a = "async " if asy else ""
    src = "".join(
        f"{a}def m{i}({'x' if i == 1 else f'm{i - 1}'}):\n"
        f"    return {'x' if i == 1 else f'm{i - 1}'} + 1\n\n"
        for i in range(1, MAP_LEN + 1)
    )
    ns = _exec_module("map" + ("_async" if asy else ""), src)
    return [ns[f"m{i}"] for i in range(1, MAP_LEN + 1)]


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------
@dataclass
class Workload:
    key: str
    label: str
    nodes: int  # node executions per run
    is_async: bool
    graphflow: Callable[[], Any]  # returns a result, or an awaitable of one when is_async
    floor: Callable[[], Any]
    expected: Any
    unit: str = "node"
    target: float | None = None  # us per node execution, graphflow median must be <= this
    floor_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def build_workloads() -> list[Workload]:
    from graphflow import AsyncRunner, Graph, SyncRunner, node

    sync_runner = SyncRunner()
    async_runner = AsyncRunner()
    last = f"y{N_CHAIN}"

    chain = gen_chain(False)
    achain = gen_chain(True)
    g_chain = Graph([node(f, output_name=f"y{i}") for i, f in enumerate(chain, 1)], name="chain")
    g_achain = Graph([node(f, output_name=f"y{i}") for i, f in enumerate(achain, 1)], name="achain")

    s, ps, join = gen_fan()
    g_fan = Graph(
        [node(s, output_name="s")]
        + [node(p, output_name=f"p{i}") for i, p in enumerate(ps)]
        + [node(join, output_name="join")],
        name="fan",
    )

    m = gen_map(False)
    am = gen_map(True)
    g_map = Graph([node(f, output_name=f"m{i}") for i, f in enumerate(m, 1)], name="map3")
    g_amap = Graph([node(f, output_name=f"m{i}") for i, f in enumerate(am, 1)], name="amap3")
    m1, m2, m3 = m
    am1, am2, am3 = am
    out = f"m{MAP_LEN}"

    # -- plain-loop floors: the same functions, called directly
    def floor_chain() -> int:
        v = 1
        for f in chain:
            v = f(v)
        return v

    def floor_fan() -> int:
        sv = s(1)
        return join(*[p(sv) for p in ps])

    def floor_map() -> list[int]:
        return [m3(m2(m1(x))) for x in ITEMS]

    async def floor_achain() -> int:
        v = 1
        for f in achain:
            v = await f(v)
        return v

    async def floor_amap() -> list[int]:
        return [await am3(await am2(await am1(x))) for x in ITEMS]

    # -- graphflow
    def gf_chain() -> int:
        return sync_runner.run(g_chain, {"y0": 1})[last]

    def gf_fan() -> int:
        return sync_runner.run(g_fan, {"x": 1})["join"]

    def gf_map() -> list[int]:
        return [d[out] for d in sync_runner.map(g_map, {"x": ITEMS}, map_over="x")]

    async def gf_achain() -> int:
        return (await async_runner.run(g_achain, {"y0": 1}))[last]

    async def gf_amap() -> list[int]:
        return [d[out] for d in await async_runner.map(g_amap, {"x": ITEMS}, map_over="x")]

    exp_chain = 1 + N_CHAIN
    exp_fan = sum(2 + i for i in range(FAN))
    exp_map = [x + MAP_LEN for x in ITEMS]
    return [
        Workload(
            "sync-chain",
            f"(a) {N_CHAIN}-node chain, SyncRunner.run",
            N_CHAIN,
            False,
            gf_chain,
            floor_chain,
            exp_chain,
            target=5.0,
        ),
        Workload(
            "sync-fan",
            f"(b) {FAN}-way fan-out/fan-in, SyncRunner.run",
            FAN + 2,
            False,
            gf_fan,
            floor_fan,
            exp_fan,
        ),
        Workload(
            "sync-map",
            f"(c) {MAP_LEN}-node graph x {N_ITEMS:,} items, SyncRunner.map",
            MAP_LEN * N_ITEMS,
            False,
            gf_map,
            floor_map,
            exp_map,
            unit="node-item",
            target=3.0,
        ),
        Workload(
            "async-chain",
            f"(d) {N_CHAIN}-node async chain, AsyncRunner.run",
            N_CHAIN,
            True,
            gf_achain,
            floor_achain,
            exp_chain,
            target=10.0,
        ),
        Workload(
            "async-map",
            f"(e) {MAP_LEN}-node async graph x {N_ITEMS:,} items, AsyncRunner.map",
            MAP_LEN * N_ITEMS,
            True,
            gf_amap,
            floor_amap,
            exp_map,
            unit="node-item",
            floor_note="floor awaits the items one after another (no concurrency)",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Timing (sync and async variants of the same steps)
# ---------------------------------------------------------------------------------------------
class Cell:
    """Per-repetition samples (us per node execution) of one callable."""

    def __init__(self, fn: Callable[[], Any], nodes: int) -> None:
        self.fn, self.nodes, self.k, self.samples = fn, nodes, 1, []

    def k_for(self, per_run: float, min_time: float) -> None:
        self.k = max(1, round(min_time / max(per_run, 1e-9)))

    def add(self, seconds: float) -> None:
        self.samples.append(seconds / self.k / self.nodes * 1e6)

    def stats(self) -> dict[str, Any]:
        return {
            "median": statistics.median(self.samples),
            "min": min(self.samples),
            "max": max(self.samples),
            "k": self.k,
            "reps": len(self.samples),
            "samples": self.samples,
        }


def _check(name: str, got: Any, expected: Any) -> None:
    if got != expected:
        raise AssertionError(f"{name}: wrong result: expected {expected!r:.80}, got {got!r:.80}")


def _time_sync(fn: Callable[[], Any], k: int) -> float:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        t0 = perf_counter()
        for _ in range(k):
            fn()
        return perf_counter() - t0
    finally:
        if was:
            gc.enable()


async def _time_async(fn: Callable[[], Awaitable[Any]], k: int) -> float:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        t0 = perf_counter()
        for _ in range(k):
            await fn()
        return perf_counter() - t0
    finally:
        if was:
            gc.enable()


def _calibrate_runs(min_time: float) -> float:
    """Time to spend estimating one run's duration."""
    return max(0.02, min_time / 10)


def measure_sync(w: Workload, cfg: argparse.Namespace) -> tuple[Cell, Cell]:
    cells = (Cell(w.graphflow, w.nodes), Cell(w.floor, w.nodes))
    for name, c in zip(("graphflow", "floor"), cells, strict=True):
        _check(f"{w.key} {name}", c.fn(), w.expected)
        for _ in range(cfg.warmup):
            c.fn()
        n = 1
        while (dt := _time_sync(c.fn, n)) < _calibrate_runs(cfg.min_time):
            n *= 2
        c.k_for(dt / n, cfg.min_time)
    for _ in range(cfg.repeats):
        for c in cells:
            c.add(_time_sync(c.fn, c.k))
    return cells


async def measure_async(w: Workload, cfg: argparse.Namespace) -> tuple[Cell, Cell]:
    cells = (Cell(w.graphflow, w.nodes), Cell(w.floor, w.nodes))
    for name, c in zip(("graphflow", "floor"), cells, strict=True):
        _check(f"{w.key} {name}", await c.fn(), w.expected)
        for _ in range(cfg.warmup):
            await c.fn()
        n = 1
        while (dt := await _time_async(c.fn, n)) < _calibrate_runs(cfg.min_time):
            n *= 2
        c.k_for(dt / n, cfg.min_time)
    for _ in range(cfg.repeats):
        for c in cells:
            c.add(await _time_async(c.fn, c.k))
    return cells


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
def fmt(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    env: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
    }
    try:
        env["graphflow-runtime"] = version("graphflow-runtime")
    except PackageNotFoundError:
        env["graphflow-runtime"] = None
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu"] = next(
                ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    import graphflow

    root = os.path.dirname(os.path.dirname(os.path.abspath(graphflow.__file__)))
    try:
        env["git_head"] = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        env["git_dirty"] = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "graphflow"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        pass
    return env


def profile(w: Workload, cfg: argparse.Namespace, env: dict[str, Any]) -> int:
    """Run one graphflow workload under cProfile; print stats sorted by tottime."""
    import cProfile
    import io
    import pstats

    async def arun(n: int) -> None:
        for _ in range(n):
            await w.graphflow()

    def run(n: int) -> None:
        if w.is_async:
            asyncio.run(arun(n))
        else:
            for _ in range(n):
                w.graphflow()

    got = asyncio.run(w.graphflow()) if w.is_async else w.graphflow()
    _check(w.key, got, w.expected)
    t0 = perf_counter()
    run(cfg.warmup + 1)
    n = max(1, round(cfg.profile_time / ((perf_counter() - t0) / (cfg.warmup + 1))))
    prof = cProfile.Profile()
    t0 = perf_counter()
    prof.enable()
    run(n)
    prof.disable()
    wall = perf_counter() - t0
    dirty = ", ".join(x.split()[-1] for x in env.get("git_dirty", []))
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(cfg.profile_top)
    print(
        f"cProfile of {w.label}: {n} runs x {w.nodes} node executions in {wall:.2f}s under the"
        f" profiler ({wall / n / w.nodes * 1e6:.2f} us/{w.unit} with profiling overhead)\n"
        f"graphflow {env.get('graphflow-runtime')} git {env.get('git_head', '?')}"
        f"{' + uncommitted: ' + dirty if dirty else ''}"
        f"; Python {env['python']}; {env.get('date')}; sorted by tottime, top {cfg.profile_top}"
    )
    print(buf.getvalue().rstrip())
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=9, help="repetitions per cell (median reported)")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs before calibration")
    ap.add_argument("--only", default="", help="comma list of workload keys (default: all)")
    ap.add_argument("--json", default="", help="write results to this file")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    ap.add_argument(
        "--profile",
        metavar="KEY",
        default="",
        help="no timing: run workload KEY under cProfile for --profile-time s and print the top"
        " --profile-top functions by tottime",
    )
    ap.add_argument("--profile-time", type=float, default=3.0, help="seconds of runs to profile")
    ap.add_argument("--profile-top", type=int, default=25, help="functions to print")
    cfg = ap.parse_args()
    if cfg.repeats < 1 or cfg.min_time <= 0:
        ap.error("--repeats must be >= 1 and --min-time > 0")

    t_start = perf_counter()
    env = environment()
    workloads = build_workloads()
    keys = [w.key for w in workloads]
    only = [s.strip() for s in cfg.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in keys]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; choose from {keys}")
    workloads = [w for w in workloads if not only or w.key in only]
    if cfg.profile:
        by_key = {w.key: w for w in build_workloads()}
        if cfg.profile not in by_key:
            ap.error(f"unknown workload {cfg.profile!r}; choose from {keys}")
        return profile(by_key[cfg.profile], cfg, env)
    print(
        f"graphflow {env.get('graphflow-runtime')} (git {env.get('git_head', '?')}"
        f"{', graphflow/ modified' if env.get('git_dirty') else ''}), Python {env['python']}, "
        f"{env['nproc']} cpus; repeats={cfg.repeats} min-time={cfg.min_time}s, "
        "gc off while timing",
        flush=True,
    )

    measured: dict[str, tuple[Cell, Cell]] = {}
    for w in (w for w in workloads if not w.is_async):
        measured[w.key] = measure_sync(w, cfg)
        print(
            f"  {w.key}: graphflow {fmt(measured[w.key][0].stats()['median'])} us/{w.unit}",
            flush=True,
        )

    async def run_async() -> None:  # one event loop for all async cells
        for w in (w for w in workloads if w.is_async):
            measured[w.key] = await measure_async(w, cfg)
            print(
                f"  {w.key}: graphflow {fmt(measured[w.key][0].stats()['median'])} us/{w.unit}",
                flush=True,
            )

    if any(w.is_async for w in workloads):
        asyncio.run(run_async())

    results: dict[str, Any] = {}
    rows = []
    for w in workloads:
        gf, fl = (c.stats() for c in measured[w.key])
        ratio = gf["median"] / fl["median"]
        met = None if w.target is None else gf["median"] <= w.target
        results[w.key] = {
            "label": w.label,
            "node_executions": w.nodes,
            "unit": w.unit,
            "graphflow": gf,
            "floor": fl,
            "ratio": ratio,
            "target_us": w.target,
            "target_met": met,
            **({"floor_note": w.floor_note} if w.floor_note else {}),
        }
        rows.append((w, gf, fl, ratio, met))

    print(f"\nus per node execution (per node-item for maps): median [min-max] of {cfg.repeats}")
    head = f"{'workload':<58}{'graphflow':>24}{'plain loop':>24}{'ratio':>9}  target"
    print(head)
    print("-" * (len(head) + 16))
    for w, gf, fl, ratio, met in rows:
        target = (
            "-"
            if w.target is None
            else (f"<= {w.target:g} us/{w.unit}: {'met' if met else 'NOT MET'}")
        )
        print(
            f"{w.label:<58}"
            f"{fmt(gf['median']) + ' [' + fmt(gf['min']) + '-' + fmt(gf['max']) + ']':>24}"
            f"{fmt(fl['median']) + ' [' + fmt(fl['min']) + '-' + fmt(fl['max']) + ']':>24}"
            f"{fmt(ratio) + 'x':>9}  {target}"
        )
    for w, *_ in rows:
        if w.floor_note:
            print(f"  note {w.key}: {w.floor_note}")

    targets = [(w, gf, met) for w, gf, _, _, met in rows if met is not None]
    if targets:
        print("\ntargets:")
        for w, gf, met in targets:
            print(
                f"  {'MET    ' if met else 'NOT MET'} {w.label}: {fmt(gf['median'])} us/{w.unit}"
                f" (target <= {w.target:g})"
            )
    elapsed = perf_counter() - t_start
    print(f"\ntotal {elapsed:.1f}s")

    if cfg.json:
        os.makedirs(os.path.dirname(os.path.abspath(cfg.json)), exist_ok=True)
        with open(cfg.json, "w") as f:
            json.dump(
                {"environment": env, "config": vars(cfg), "elapsed_s": elapsed, "results": results},
                f,
                indent=1,
            )
        print(f"wrote {cfg.json}")
    return 1 if cfg.check and any(met is False for *_, met in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
