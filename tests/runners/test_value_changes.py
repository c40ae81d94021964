"""Values change only when they differ: equal results do not re-run consumers (both runners)."""

from __future__ import annotations

from typing import Any

import pytest

from graphflow import END, Graph, node, route

#: bounds every looping run, so a regression fails instead of hanging
GUARD = 500


def _bucket_loop(calls: list[Any], box: type) -> Graph:
    @node(output_name="i")
    def step(i: int) -> int:
        return i + 1

    @route(targets=["step", END])
    def loop(i: int) -> Any:
        return "step" if i < 4 else END

    @node(output_name="b")
    def bucket(i: int) -> Any:
        return box(i // 2)

    @node
    def log(b: Any) -> None:
        calls.append(b.value)

    return Graph([step, loop, bucket, log])


class _Box:
    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Box) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


class _RaisingBox(_Box):
    def __eq__(self, other: object) -> bool:
        raise TypeError("cannot compare")


class _NonBoolBox(_Box):
    def __eq__(self, other: object) -> Any:
        return ["truthy but not a bool"]


def test_an_equal_new_value_does_not_rerun_its_consumers(harness: Any) -> None:
    calls: list[int] = []
    harness.run(_bucket_loop(calls, _Box), {"i": 0}, select=["i"], max_iterations=GUARD)
    assert calls == [0, 1, 2]


@pytest.mark.parametrize("box", [_RaisingBox, _NonBoolBox])
def test_a_comparison_that_raises_or_is_not_bool_counts_as_a_change(
    harness: Any, box: type
) -> None:
    calls: list[int] = []
    harness.run(_bucket_loop(calls, box), {"i": 0}, select=["i"], max_iterations=GUARD)
    # bucket yields 0, 1, 1, 2 for i = 1..4; each counts as a change, so log runs each time
    assert calls == [0, 1, 1, 2]
