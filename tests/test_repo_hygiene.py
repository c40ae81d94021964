"""Repository rules that keep the package small, complete and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TREES = {
    "graphflow": "graphflow",
    "processors": "graphflow.processors",
    "exporters": "graphflow.exporters",
}
MAX_LINES = 500
OPTIONAL_MODULES = ("opentelemetry", "prometheus_client", "daft", "rich", "aiosqlite")


def _python_files() -> list[Path]:
    return sorted(p for folder in TREES for p in (REPO / folder).rglob("*.py"))


def test_modules_stay_under_the_size_limit() -> None:
    too_long = []
    for path in _python_files():
        with path.open(encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        if lines > MAX_LINES:
            too_long.append(f"{path.relative_to(REPO)}: {lines} lines (split it by concept)")
    assert too_long == [], "\n" + "\n".join(too_long)


def test_pyproject_lists_every_package_on_disk() -> None:
    # A package missing from `packages` is silently left out of the wheel while editable
    # installs still see it (STYLE.md section 3, "Trap").
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = set()
    for folder, package in TREES.items():
        for init in (REPO / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO / folder).parts
            on_disk.add(".".join([package, *parts]))
    assert sorted(on_disk - listed) == [], "on disk, missing from [tool.setuptools] packages"
    assert sorted(listed - on_disk) == [], "listed in [tool.setuptools] packages, no __init__.py"
    mapping = config["tool"]["setuptools"]["package-dir"]
    assert mapping == {"graphflow.processors": "processors", "graphflow.exporters": "exporters"}


def test_package_ships_py_typed() -> None:
    assert (REPO / "graphflow" / "py.typed").is_file()


def test_import_graphflow_loads_no_optional_dependency() -> None:
    probe = (
        "import json, sys\n"
        "import graphflow\n"
        f"optional = {OPTIONAL_MODULES!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in optional)\n"
        "print(json.dumps(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
