"""The README's Python examples run as written, in order, in a fresh directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has no Python examples"
    script = tmp_path / "readme_examples.py"
    script.write_text("import os\nos.makedirs('out', exist_ok=True)\n" + "\n".join(blocks))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "A post about graphs" in done.stdout
    assert (tmp_path / "out" / "spans.jsonl").stat().st_size > 0


def test_readme_opens_with_the_two_setup_commands() -> None:
    text = README.read_text()
    first = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first is not None
    commands = [line for line in first.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("examples/quickstart.py")
    assert commands[1].endswith("-m pytest")


def test_readme_instrument_example_traces_a_runner_built_without_processors(
    tmp_path: Path,
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    script = tmp_path / "readme_examples.py"
    script.write_text("import os\nos.makedirs('out', exist_ok=True)\n" + "\n".join(blocks))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert '"run pipeline"' in (tmp_path / "out" / "instrumented.jsonl").read_text()
