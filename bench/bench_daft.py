#!/usr/bin/env python
"""DaftRunner throughput and peak memory, beside SyncRunner/AsyncRunner maps of the same graphs.

Workloads:
  cpu  3-node chain of trivial integer nodes (``x+1``, ``*2``, ``-3``) mapped over N items
       (default 100,000): plain loop (floor), ``SyncRunner.map``, ``DaftRunner.map(...)
       .to_pydict()``. Metric: µs per node-row = wall time / (N x 3); the Daft overhead per
       node-row is (Daft - plain loop) / (N x 3).
  io   ``prep -> fetch -> post`` where ``fetch`` waits ~10 ms (``await asyncio.sleep(0.01)``;
       ``time.sleep(0.01)`` in the SyncRunner variant, which cannot await) mapped over M items
       (default 2,000): ``SyncRunner.map``, ``AsyncRunner.map``, ``DaftRunner.map``.
       Metric: items/s and the speed-up over ``SyncRunner.map``.
  mem  the cpu workload on DaftRunner at growing N: peak RSS growth over the process's
       baseline (after imports and a warm-up map), from ``resource.getrusage``.

Every cell runs in a fresh subprocess (Daft keeps thread pools and caches per process), after
a warm-up map of 100 items; results are checked against the plain computation before timing
counts. Targets (issue): io DaftRunner >= 20x SyncRunner.map; cpu Daft overhead <= 10 µs per
node-row; peak memory growing sub-linearly with N.

Usage:  python bench/bench_daft.py [--items 100000] [--io-items 2000] [--mem 10000,30000,...]
                                   [--json out.json]
        python bench/bench_daft.py --cell cpu-daft --n 1000     (one cell, prints JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DAFT_ANALYTICS_ENABLED", "0")
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")

from graphflow import AsyncRunner, DaftRunner, Graph, SyncRunner, node


# ---------------------------------------------------------------------------------- workloads
@node(output_name="a")
def inc(x: int) -> int:
    return x + 1


@node(output_name="b")
def dbl(a: int) -> int:
    return a * 2


@node(output_name="c")
def dec(b: int) -> int:
    return b - 3


def cpu_graph() -> Graph:
    return Graph([inc, dbl, dec], name="cpu")


@node(output_name="query")
def prep(x: int) -> str:
    return f"q{x}"


@node(output_name="answer")
async def fetch(query: str) -> str:
    await asyncio.sleep(0.01)  # an I/O call (HTTP, database) of ~10 ms
    return query.upper()


@node(output_name="answer")
def fetch_blocking(query: str) -> str:
    time.sleep(0.01)
    return query.upper()


@node(output_name="size")
def post(answer: str) -> int:
    return len(answer)


def io_graph(blocking: bool = False) -> Graph:
    return Graph([prep, fetch_blocking if blocking else fetch, post], name="io")


def expected_cpu(n: int) -> list[int]:
    return [(x + 1) * 2 - 3 for x in range(n)]


def expected_io(n: int) -> list[int]:
    return [len(f"Q{x}") for x in range(n)]


# ---------------------------------------------------------------------------------- cells
def _cpu_plain(n: int) -> list[int]:
    f, g, h = inc.func, dbl.func, dec.func
    return [h(g(f(x))) for x in range(n)]


def _cpu_sync(n: int) -> list[int]:
    return [r["c"] for r in SyncRunner().map(cpu_graph(), {"x": list(range(n))}, map_over="x")]


def _cpu_daft(n: int) -> list[int]:
    frame = DaftRunner().map(cpu_graph(), {"x": list(range(n))}, map_over="x")
    return list(frame.to_pydict()["c"])


def _io_sync(n: int) -> list[int]:
    graph = io_graph(blocking=True)
    return [r["size"] for r in SyncRunner().map(graph, {"x": list(range(n))}, map_over="x")]


def _io_async(n: int) -> list[int]:
    results = asyncio.run(AsyncRunner().map(io_graph(), {"x": list(range(n))}, map_over="x"))
    return [r["size"] for r in results]


def _io_daft(n: int) -> list[int]:
    frame = DaftRunner().map(io_graph(), {"x": list(range(n))}, map_over="x")
    return list(frame.to_pydict()["size"])


CELLS: dict[str, tuple[Callable[[int], list[int]], Callable[[int], list[int]]]] = {
    "cpu-plain": (_cpu_plain, expected_cpu),
    "cpu-sync": (_cpu_sync, expected_cpu),
    "cpu-daft": (_cpu_daft, expected_cpu),
    "io-sync": (_io_sync, expected_io),
    "io-async": (_io_async, expected_io),
    "io-daft": (_io_daft, expected_io),
}


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def run_cell(name: str, n: int) -> dict[str, Any]:
    """Warm up, then time one call of cell ``name`` over ``n`` items (in this process)."""
    call, expected = CELLS[name]
    warm = min(n, 100)
    if call(warm) != expected(warm):
        raise AssertionError(f"{name}: wrong results on the warm-up")
    base = _peak_rss_kib()
    start = time.perf_counter()
    got = call(n)
    seconds = time.perf_counter() - start
    peak = _peak_rss_kib()
    if got != expected(n):
        raise AssertionError(f"{name}: wrong results")
    return {
        "cell": name,
        "n": n,
        "seconds": seconds,
        "base_rss_mib": base / 1024,
        "peak_rss_mib": peak / 1024,
        "growth_mib": (peak - base) / 1024,
    }


def in_subprocess(name: str, n: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--cell", name, "--n", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} n={n} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--io-items", type=int, default=2_000)
    parser.add_argument("--mem", default="10000,30000,100000,300000")
    parser.add_argument("--json")
    parser.add_argument("--cell", choices=sorted(CELLS))
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(run_cell(args.cell, args.n)))
        return

    n, m = args.items, args.io_items
    cells = {name: in_subprocess(name, n) for name in ("cpu-plain", "cpu-sync", "cpu-daft")}
    cells.update({name: in_subprocess(name, m) for name in ("io-sync", "io-async", "io-daft")})
    memory = [in_subprocess("cpu-daft", int(k)) for k in args.mem.split(",")]

    plain = cells["cpu-plain"]["seconds"]
    print(f"# DaftRunner benchmark ({platform.python_version()}, {os.cpu_count()} CPUs)\n")
    print(f"cpu: 3-node chain over {n:,} items (µs per node-row; items/s)")
    for name in ("cpu-plain", "cpu-sync", "cpu-daft"):
        s = cells[name]["seconds"]
        print(f"  {name:10} {s:8.3f} s  {s / (3 * n) * 1e6:7.2f} µs/node-row  {n / s:>12,.0f}/s")
    daft_over = (cells["cpu-daft"]["seconds"] - plain) / (3 * n) * 1e6
    print(f"  DaftRunner overhead over the plain loop: {daft_over:.2f} µs per node-row")
    print(f"\nio: prep -> fetch (10 ms) -> post over {m:,} items")
    sync_s = cells["io-sync"]["seconds"]
    for name in ("io-sync", "io-async", "io-daft"):
        s = cells[name]["seconds"]
        print(f"  {name:10} {s:8.3f} s  {m / s:>10,.0f} items/s  {sync_s / s:7.1f}x SyncRunner")
    print("\nmem: DaftRunner cpu workload, peak RSS growth over the warmed-up baseline")
    for cell in memory:
        print(
            f"  N={cell['n']:>9,}  {cell['seconds']:7.3f} s  growth {cell['growth_mib']:8.1f} MiB"
            f"  (baseline {cell['base_rss_mib']:.0f} MiB, peak {cell['peak_rss_mib']:.0f} MiB)"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "date": datetime.datetime.now(datetime.UTC).isoformat(),
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "cells": cells,
                    "memory": memory,
                },
                out,
                indent=2,
            )


if __name__ == "__main__":
    main()
