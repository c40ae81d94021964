"""Imports point one way (STYLE.md section 3, docs/architecture.md).

Every ``.py`` file under ``graphflow/``, ``processors/`` and ``exporters/`` is parsed with
``ast``; every import counts: top level, inside functions, under ``if TYPE_CHECKING``, relative
imports (resolved), and ``importlib.import_module`` / ``__import__`` / ``require`` calls with a
literal module name. A new module must be placed in ``LAYERS`` before this test passes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Module prefix -> graphflow-internal import prefixes it may use. A prefix covers the module
# itself and everything below it. The root package is handled by ROOT_* below.
LAYERS: dict[str, tuple[str, ...]] = {
    "graphflow.exceptions": (),
    "graphflow._optional": ("graphflow.exceptions",),
    "graphflow.graph": ("graphflow.exceptions", "graphflow._optional", "graphflow.graph"),
    "graphflow.events": ("graphflow.exceptions", "graphflow.events"),
    "graphflow.cache": ("graphflow.exceptions", "graphflow._optional", "graphflow.cache"),
    "graphflow.checkpointers": (
        "graphflow.exceptions",
        "graphflow._optional",
        "graphflow.events",
        "graphflow.checkpointers",
    ),
    "graphflow.runners": (
        "graphflow.exceptions",
        "graphflow._optional",
        "graphflow.graph",
        "graphflow.events",
        "graphflow.cache",
        "graphflow.checkpointers",
        "graphflow.runners",
    ),
    "graphflow.processors": (
        "graphflow.exceptions",
        "graphflow._optional",
        "graphflow.events",
        "graphflow.processors",
    ),
    "graphflow.exporters": (
        "graphflow.exceptions",
        "graphflow._optional",
        "graphflow.events",
        "graphflow.processors",
        "graphflow.exporters",
    ),
    # Only imported by the pytest plugin and by users' tests: it hands out processors.
    "graphflow.testing": ("graphflow",),
}

# graphflow/__init__.py (the module "graphflow" exactly) may import anything in graphflow except
# the telemetry trees; the one exception is the lazy `graphflow.instrument` re-export: a
# function-local import of graphflow.exporters in `instrument` or a module-level `__getattr__`.
ROOT = "graphflow"
ROOT_FORBIDDEN = ("graphflow.processors", "graphflow.exporters")
ROOT_LAZY_EXCEPTIONS = {"graphflow.exporters": ("instrument", "__getattr__")}

# Optional third-party dependencies (extras): never imported at module top level outside
# TYPE_CHECKING, so `import graphflow` works without them and stays cheap.
OPTIONAL_DEPENDENCIES = (
    "daft",
    "pyarrow",  # comes with daft
    "ray",  # daft[ray]
    "opentelemetry",  # API and SDK: both are the `otel` extra
    "prometheus_client",
    "rich",
    "aiosqlite",
)
OPTIONAL_EXEMPT = ("graphflow._optional", "graphflow.testing")

REPO = Path(__file__).resolve().parent.parent
TREES = {
    "graphflow": "graphflow",
    "processors": "graphflow.processors",
    "exporters": "graphflow.exporters",
}
DYNAMIC_IMPORTERS = {"import_module", "__import__", "require"}


@dataclass(frozen=True)
class Import:
    line: int
    target: str
    functions: tuple[str, ...]  # enclosing function names, outermost first
    type_checking: bool  # under `if TYPE_CHECKING:`


@dataclass(frozen=True)
class SourceModule:
    name: str
    path: Path
    is_package: bool

    @property
    def where(self) -> str:
        return self.path.relative_to(REPO).as_posix()


def _covers(prefix: str, name: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def discover() -> list[SourceModule]:
    modules = []
    for folder, package in TREES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules.append(SourceModule(".".join([package, *parts]), path, is_package))
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = known
        self.functions: list[str] = []
        self.type_checking = 0
        self.found: list[Import] = []

    def _add(self, line: int, target: str) -> None:
        self.found.append(Import(line, target, tuple(self.functions), self.type_checking > 0))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.type_checking += 1
        for statement in node.body:
            self.visit(statement)
        self.type_checking -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node.lineno, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            self._add(node.lineno, candidate if candidate in self.known else base)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0] if node.args else None
        if name in DYNAMIC_IMPORTERS and isinstance(first, ast.Constant):
            self._add(node.lineno, str(first.value))
        self.generic_visit(node)


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> list[Import]:
    collector = _Collector(module, is_package, known)
    collector.visit(ast.parse(source))
    return collector.found


def _all_imports() -> Iterator[tuple[SourceModule, Import]]:
    modules = discover()
    known = {m.name for m in modules}
    for module in modules:
        source = module.path.read_text(encoding="utf-8")
        for found in imports_of(source, module.name, module.is_package, known):
            yield module, found


def _layer_of(name: str) -> str | None:
    matches = [prefix for prefix in LAYERS if _covers(prefix, name)]
    return max(matches, key=len) if matches else None


def _root_allows(found: Import) -> bool:
    for forbidden in ROOT_FORBIDDEN:
        if _covers(forbidden, found.target):
            places = ROOT_LAZY_EXCEPTIONS.get(forbidden, ())
            return bool(found.functions) and found.functions[0] in places
    return True


def test_every_module_is_placed_in_a_layer() -> None:
    unplaced = [
        f"{m.where}: module {m.name} is not in LAYERS (tests/test_import_layers.py)"
        for m in discover()
        if m.name != ROOT and _layer_of(m.name) is None
    ]
    assert unplaced == [], "\n" + "\n".join(unplaced)


def test_imports_follow_the_layer_rule() -> None:
    violations = []
    for module, found in _all_imports():
        if not _covers(ROOT, found.target):
            continue  # stdlib or third party
        if module.name == ROOT:
            if not _root_allows(found):
                violations.append(
                    f"{module.where}:{found.line} imports {found.target} (allowed: anything but "
                    f"{', '.join(ROOT_FORBIDDEN)}, except graphflow.exporters lazily in "
                    "instrument() or module-level __getattr__)"
                )
            continue
        layer = _layer_of(module.name)
        if layer is None:
            continue  # reported by test_every_module_is_placed_in_a_layer
        allowed = LAYERS[layer]
        if not any(_covers(prefix, found.target) for prefix in allowed):
            violations.append(
                f"{module.where}:{found.line} imports {found.target} "
                f"(allowed: {', '.join(allowed) or 'nothing in graphflow'})"
            )
    assert violations == [], "\n" + "\n".join(violations)


def test_optional_dependencies_are_imported_lazily() -> None:
    violations = [
        f"{module.where}:{found.line} imports {found.target} at module level: import it inside "
        "the function that needs it (via graphflow._optional.require), or under TYPE_CHECKING"
        for module, found in _all_imports()
        if not any(_covers(exempt, module.name) for exempt in OPTIONAL_EXEMPT)
        and not found.functions
        and not found.type_checking
        and any(_covers(dep, found.target) for dep in OPTIONAL_DEPENDENCIES)
    ]
    assert violations == [], "\n" + "\n".join(violations)


# The checker itself, on small sources.

KNOWN = {"graphflow", "graphflow.runners", "graphflow.runners.sync", "graphflow.exporters"}


@pytest.mark.parametrize(
    ("source", "module", "is_package", "target"),
    [
        ("from . import sync", "graphflow.runners", True, "graphflow.runners.sync"),
        ("from .sync import run", "graphflow.runners.base", False, "graphflow.runners.sync"),
        ("from ..events import types", "graphflow.runners.sync", False, "graphflow.events"),
        ("from graphflow import Graph", "graphflow.runners.sync", False, "graphflow"),
        ("import graphflow.exporters as e", "graphflow", True, "graphflow.exporters"),
        ("x = importlib.import_module('daft')", "graphflow", True, "daft"),
    ],
)
def test_checker_resolves_imports(source: str, module: str, is_package: bool, target: str) -> None:
    assert [i.target for i in imports_of(source, module, is_package, KNOWN)] == [target]


def test_checker_sees_hidden_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import rich\n"
        "def instrument():\n    from graphflow.exporters import instrument as real\n"
    )
    found = imports_of(source, "graphflow", True, KNOWN)
    assert [(i.target, i.functions, i.type_checking) for i in found] == [
        ("typing", (), False),
        ("rich", (), True),
        ("graphflow.exporters", ("instrument",), False),
    ]
    assert _root_allows(found[2])
    assert not _root_allows(Import(1, "graphflow.exporters", ("helper",), False))
    assert not _root_allows(Import(1, "graphflow.processors", ("instrument",), False))
