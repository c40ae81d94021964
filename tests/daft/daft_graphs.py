"""Graphs shared by the DaftRunner tests (a plain module: Ray workers import it by name)."""

from __future__ import annotations

import asyncio
import os

from graphflow import Graph, node


class NodeFailed(Exception):
    """What the failing node raises (a user exception type, not a graphflow one)."""


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="shifted")
def shift(doubled: int, offset: int = 0) -> int:
    return doubled + offset


@node(output_name="label")
async def label(shifted: int) -> str:
    await asyncio.sleep(0.001)
    return f"item-{shifted}"


@node(output_name="checked")
def check(x: int) -> int:
    if x == 2:
        raise NodeFailed(f"x={x} is not allowed")
    return x


def pipeline() -> Graph:
    """double -> shift -> label (async): the same graph on every runner."""
    return Graph([double, shift, label], name="pipeline")


def failing() -> Graph:
    return Graph([check], name="failing")


@node(output_name="pid", cache=True)
def worker_pid(x: int) -> int:
    """The process that ran the node (cached: a hit returns the first run's pid)."""
    return os.getpid() + 0 * x


def whereami() -> Graph:
    return Graph([worker_pid], name="whereami")
