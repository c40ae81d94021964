"""Trace trees as plain data: drawing them and matching them against an expected outline.

A tree is a list of root :class:`SpanTree` dicts (name, role, attributes, status, events,
children), so the same functions serve spans captured in memory and traces fetched from a
trace store. An outline is indented text, drawn or plain::

    run pipeline
    ├── node fetch
    └── node rag  status=ERROR
        └── node embed  graphflow.node.cached=true event=graphflow.cache.hit

Each line is a span name, optionally followed by ``key=value`` checks: an attribute (``true``
/ ``false`` for booleans), or one of the pseudo keys ``status`` (``UNSET``, ``OK``,
``ERROR``), ``role`` (the ``graphflow.span.role``) and ``event`` (the span has an event of that
name). Quote values with spaces (``key='a b'``). Indentation is any consistent width (the
drawing is 4 columns, plain text 2 or 4 spaces). Ids and times are never compared, and
siblings match in any order, because concurrent nodes start in any order.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, TypedDict

__all__ = ["SpanEventData", "SpanTree", "assert_tree", "format_tree", "format_value"]

_PREFIX = re.compile(r"[\s│├└─|`+\-]*")
_KEY = re.compile(r"[A-Za-z_][\w.\-]*")
_ROLE_ATTRIBUTE = "graphflow.span.role"


class SpanEventData(TypedDict):
    """One span event: its name and attributes."""

    name: str
    attributes: dict[str, Any]


class SpanTree(TypedDict):
    """One span with its children, as plain data (children in start order)."""

    name: str
    role: str | None
    attributes: dict[str, Any]
    status: str
    status_description: str | None
    events: list[SpanEventData]
    children: list[SpanTree]


def format_value(value: Any) -> str:
    """An attribute value as outlines write it: ``true``/``false``, numbers, quoted text.

    Example:
        >>> format_value(True), format_value(3), format_value("a b")
        ('true', '3', "'a b'")
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return shlex.quote(",".join(format_value(v) for v in value))
    text = str(value)
    return shlex.quote(text) if text == "" or any(c.isspace() or c in "'\"" for c in text) else text


# ---------------------------------------------------------------------------------- drawing
def _line(span: SpanTree, attributes: Sequence[str], events: bool) -> str:
    parts = [span["name"]]
    checks = [
        f"{key}={format_value(span['attributes'][key])}"
        for key in attributes
        if key in span["attributes"]
    ]
    if span["status"] != "UNSET":
        checks.append(f"status={span['status']}")
    if events:
        checks.extend(f"event={e['name']}" for e in span["events"])
    if checks:
        parts.append(" ".join(checks))
    return "  ".join(parts)


def _draw(
    spans: Sequence[SpanTree], attributes: Sequence[str], events: bool, lines: list[str]
) -> None:
    def walk(span: SpanTree, prefix: str, last: bool, root: bool) -> None:
        connector = "" if root else ("└── " if last else "├── ")
        lines.append(prefix + connector + _line(span, attributes, events))
        below = prefix if root else prefix + ("    " if last else "│   ")
        kids = span["children"]
        for i, child in enumerate(kids):
            walk(child, below, i == len(kids) - 1, False)

    for span in spans:
        walk(span, "", True, True)


def format_tree(
    tree: Sequence[SpanTree], attributes: Iterable[str] = (), *, events: bool = False
) -> str:
    """Draw a trace tree with ``├──``/``└──`` connectors, one span per line.

    Each line shows the span name, the listed ``attributes`` the span has, ``status=...``
    unless UNSET, and (with ``events=True``) ``event=...`` per span event; the output is a
    valid outline for :func:`assert_tree`.

    Example:
        >>> leaf = SpanTree(name="node a", role="node", attributes={}, status="UNSET",
        ...                 status_description=None, events=[], children=[])
        >>> root = SpanTree(name="run g", role="run", attributes={}, status="UNSET",
        ...                 status_description=None, events=[], children=[leaf])
        >>> print(format_tree([root]))
        run g
        └── node a
    """
    lines: list[str] = []
    _draw(tree, tuple(attributes), events, lines)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- outlines
@dataclass
class _Expected:
    name: str
    checks: list[tuple[str, str]]
    children: list[_Expected] = field(default_factory=list)


def _parse_line(content: str, number: int) -> _Expected:
    try:
        tokens = shlex.split(content)
    except ValueError:
        tokens = content.split()
    name: list[str] = []
    checks: list[tuple[str, str]] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep and _KEY.fullmatch(key):
            checks.append((key, value))
        elif checks:
            raise ValueError(
                f"outline line {number}: {token!r} follows the key=value checks; put the span "
                f"name first, then the checks: {content!r}"
            )
        else:
            name.append(token)
    if not name:
        raise ValueError(f"outline line {number} has no span name: {content!r}")
    return _Expected(" ".join(name), checks)


def _parse(text: str) -> list[_Expected]:
    roots: list[_Expected] = []
    stack: list[tuple[int, _Expected]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        column = _PREFIX.match(line).end()  # type: ignore[union-attr]  # [...]* always matches
        content = line[column:]
        if not content:
            continue  # blank, or a bare "│" continuation line
        node = _parse_line(content, number)
        while stack and stack[-1][0] >= column:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((column, node))
    return roots


def _outline(expected: Sequence[_Expected]) -> list[str]:
    as_tree = [_as_tree(e) for e in expected]
    lines: list[str] = []
    _draw(as_tree, (), False, lines)
    return lines


def _as_tree(e: _Expected) -> SpanTree:
    checks = "  " + " ".join(f"{k}={format_value(v)}" for k, v in e.checks) if e.checks else ""
    return SpanTree(
        name=e.name + checks,
        role=None,
        attributes={},
        status="UNSET",
        status_description=None,
        events=[],
        children=[_as_tree(c) for c in e.children],
    )


# ---------------------------------------------------------------------------------- matching
def _actual_text(span: SpanTree, key: str) -> str | None:
    if key == "status":
        return span["status"]
    if key == "role":
        return span["role"]
    attributes = span["attributes"]
    if key not in attributes:
        return None
    value = attributes[key]
    return value if isinstance(value, str) else format_value(value)


def _check_fails(e: _Expected, span: SpanTree) -> list[str]:
    failed = []
    for key, want in e.checks:
        if key == "event":
            names = [ev["name"] for ev in span["events"]]
            if want not in names:
                failed.append(f"event {want!r} missing (events: {', '.join(names) or 'none'})")
            continue
        got = _actual_text(span, key)
        ok = got is not None and (got.upper() == want.upper() if key == "status" else got == want)
        if not ok:
            failed.append(f"{key}: expected {want!r}, got {got!r}")
    return failed


class _Matcher:
    """Order-insensitive tree matching (bipartite matching per level, memoized)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], bool] = {}

    def one(self, e: _Expected, span: SpanTree) -> bool:
        key = (id(e), id(span))
        found = self._memo.get(key)
        if found is None:
            found = (
                e.name == span["name"]
                and not _check_fails(e, span)
                and self.many(e.children, span["children"])
            )
            self._memo[key] = found
        return found

    def many(self, expected: Sequence[_Expected], spans: Sequence[SpanTree]) -> bool:
        if len(expected) != len(spans):
            return False
        options = [[j for j, s in enumerate(spans) if self.one(e, s)] for e in expected]
        owner = [-1] * len(spans)

        def augment(i: int, seen: set[int]) -> bool:
            for j in options[i]:
                if j not in seen:
                    seen.add(j)
                    if owner[j] == -1 or augment(owner[j], seen):
                        owner[j] = i
                        return True
            return False

        return all(augment(i, set()) for i in range(len(expected)))


def _explain(expected: Sequence[_Expected], spans: Sequence[SpanTree], where: str) -> str:
    """A human hint at the first difference (by names, then checks, then depth)."""
    want = sorted(e.name for e in expected)
    got = sorted(s["name"] for s in spans)
    if want != got:
        missing = [n for n in want if want.count(n) > got.count(n)]
        extra = [n for n in got if got.count(n) > want.count(n)]
        parts = []
        if missing:
            parts.append(f"missing {sorted(set(missing))}")
        if extra:
            parts.append(f"unexpected {sorted(set(extra))}")
        return f"{where}: expected {len(want)} span(s), got {len(got)}; {'; '.join(parts)}"
    pool = list(spans)
    for e in expected:
        candidates = [s for s in pool if s["name"] == e.name]
        best = min(candidates, key=lambda s: len(_check_fails(e, s)))
        pool.remove(best)
        fails = _check_fails(e, best)
        if fails:
            return f"{where} > {e.name!r}: {'; '.join(fails)}"
        if not _Matcher().many(e.children, best["children"]):
            return _explain(e.children, best["children"], f"{where} > {e.name!r}")
    return f"{where}: spans match only in another arrangement"


def _side_by_side(left: list[str], right: list[str]) -> str:
    width = max([len("expected"), *(len(line) for line in left)])
    rows = [f"{'expected'.ljust(width)}  │ actual", f"{'─' * width}──┼{'─' * 8}"]
    for a, b in zip_longest(left, right, fillvalue=""):
        rows.append(f"{a.ljust(width)}  │ {b}".rstrip())
    return "\n".join(rows)


def assert_tree(tree: Sequence[SpanTree], expected: str) -> None:
    """Assert that ``tree`` has exactly the shape, names and checks of the outline.

    Raises:
        AssertionError: on a mismatch, with the expected and actual trees side by side
            (the actual one showing the attributes the outline checks).
        ValueError: the outline cannot be parsed.

    Example:
        >>> assert_tree(captured.tree(), '''
        ... run pipeline
        ... └── node embed  graphflow.node.cached=true
        ... ''')
    """
    roots = _parse(expected)
    if _Matcher().many(roots, tree):
        return
    keys: list[str] = []

    def collect(items: Sequence[_Expected]) -> None:
        for e in items:
            for key, _ in e.checks:
                shown = _ROLE_ATTRIBUTE if key == "role" else key
                if key not in ("status", "event") and shown not in keys:
                    keys.append(shown)
            collect(e.children)

    collect(roots)
    wants_events = "event=" in expected
    actual = format_tree(tree, keys, events=wants_events).splitlines()
    hint = _explain(roots, tree, "roots")
    raise AssertionError(f"trace tree mismatch: {hint}\n\n{_side_by_side(_outline(roots), actual)}")
