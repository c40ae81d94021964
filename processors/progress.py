"""``ProgressProcessor``: a terminal progress bar per ``map`` call and a spinner for long runs.

Built on ``rich.progress`` (the ``progress`` extra), imported when the first processor is
built. In a terminal it draws one live display shared by every ``map`` call and run it is
following; elsewhere (a pipe, a file, CI logs) it writes nothing unless ``force=True``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphflow._optional import require
from graphflow.events import (
    MapEndEvent,
    MapStartEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
    TypedEventProcessor,
)

from . import _names as n

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress, TaskID

__all__ = ["ProgressProcessor"]

logger = logging.getLogger(n.LOGGER_NAME)

# Task fields: ``delay``, seconds before a run's spinner is drawn; ``count``, "done/total" for
# a map and "" for a run.


@dataclass(slots=True)
class _Map:
    task: TaskID
    done: int
    size: int


def _new_progress(console: Console) -> Progress:
    """A ``rich`` Progress that hides run spinners until their run has lasted their delay."""
    require("rich.progress", "progress", "ProgressProcessor")
    from rich.progress import BarColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    class _Progress(RichProgress):
        def get_renderables(self) -> Iterable[RenderableType]:
            yield self.make_tasks_table(t for t in self.tasks if _shown(t))

    def _shown(task: Task) -> bool:
        return task.total is not None or (task.elapsed or 0.0) >= task.fields.get("delay", 0.0)

    return _Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        console=console,
        # A library must not swap sys.stdout/sys.stderr under the application's threads.
        redirect_stdout=False,
        redirect_stderr=False,
    )


class ProgressProcessor(TypedEventProcessor):
    """Shows a progress bar per ``map`` call and a spinner naming the running node of a run.

    A ``map`` call of at least ``min_items`` items gets a bar whose total is the number of
    items; it advances as each item's run ends and stays on screen, final, when the call ends.
    A top-level run gets a spinner with the name of the node that started last, drawn once the
    run has lasted ``run_delay`` seconds and removed when it ends. Nothing at all is written
    when the console is not a terminal, unless ``force=True``. The live display stops when
    nothing is left to show, and on :meth:`shutdown`. Thread-safe.

    Args:
        console: the ``rich.console.Console`` to draw on; defaults to one on standard error.
        min_items: the smallest ``map`` call that gets a bar.
        run_delay: seconds a run must last before its spinner is drawn.
        force: draw even when the console is not a terminal.

    Raises:
        MissingDependencyError: ``rich`` is not installed (extra ``progress``).

    Example:
        >>> from graphflow import Graph, SyncRunner, node
        >>> runner = SyncRunner(event_processors=[ProgressProcessor(min_items=10)])
        >>> double = node(lambda x: 2 * x, output_name="y", name="double")
        >>> len(runner.map(Graph([double], name="demo"), {"x": list(range(20))}, map_over="x"))
        20
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        min_items: int = 1,
        run_delay: float = 1.0,
        force: bool = False,
    ) -> None:
        require("rich", "progress", "ProgressProcessor")
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self.min_items = min_items
        self.run_delay = run_delay
        self.enabled = force or console.is_terminal
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._maps: dict[str, _Map] = {}  # map span_id -> its bar
        self._items: dict[str, str] = {}  # item run_id -> map span_id
        self._runs: dict[str, TaskID] = {}  # top-level run_id -> its spinner

    # ------------------------------------------------------------------ maps
    def on_map_start(self, event: MapStartEvent) -> None:
        if not self.enabled or event.size < self.min_items:
            return
        with self._lock:
            progress = self._display()
            if progress is None:
                return
            task = progress.add_task(
                f"map {event.graph_name}" if event.graph_name else "map",
                total=event.size,
                count=f"0/{event.size}",
            )
            self._maps[event.span_id] = _Map(task, 0, event.size)

    def on_map_end(self, event: MapEndEvent) -> None:
        if not self.enabled:
            return
        with self._lock:
            bar = self._maps.pop(event.span_id, None)
            if bar is None or self._progress is None:
                return
            progress = self._progress
            progress.stop_task(bar.task)
            if self._maps or self._runs:
                progress.remove_task(bar.task)
            else:
                self._stop()  # the last frame keeps the finished bar on screen

    # ------------------------------------------------------------------ runs
    def on_run_start(self, event: RunStartEvent) -> None:
        if not self.enabled:
            return
        with self._lock:
            parent = event.parent_span_id
            if parent is not None and parent in self._maps:
                self._items[event.run_id] = parent
                return
            if parent is not None or event.item_index is not None:
                return  # an item of a map without a bar, or a run inside another span
            progress = self._display()
            if progress is None:
                return
            label = f"run {event.graph_name}" if event.graph_name else "run"
            task = progress.add_task(label, total=None, delay=self.run_delay, count="")
            self._runs[event.run_id] = task

    def on_node_start(self, event: NodeStartEvent) -> None:
        if not self.enabled:
            return
        with self._lock:
            task = self._runs.get(event.run_id)
            if task is not None and self._progress is not None:
                self._progress.update(task, description=event.node_path or event.node_name)

    def on_run_end(self, event: RunEndEvent) -> None:
        if not self.enabled:
            return
        with self._lock:
            progress = self._progress
            map_span = self._items.pop(event.run_id, None)
            if map_span is not None:
                bar = self._maps.get(map_span)
                if bar is not None and progress is not None:
                    bar.done += 1
                    progress.update(bar.task, advance=1, count=f"{bar.done}/{bar.size}")
                return
            task = self._runs.pop(event.run_id, None)
            if task is None or progress is None:
                return
            progress.remove_task(task)
            if not self._maps and not self._runs:
                self._stop()

    # ------------------------------------------------------------------ lifecycle
    def shutdown(self) -> None:
        """Stop the live display and forget every bar and spinner."""
        with self._lock:
            self._stop()

    def _display(self) -> Progress | None:
        """The running live display, started on first use (lock held)."""
        if self._progress is None:
            progress = _new_progress(self.console)
            try:
                progress.start()
            except Exception:
                # e.g. a terminal that cannot be drawn on: give up quietly, the run goes on.
                logger.debug("ProgressProcessor could not start its display", exc_info=True)
                self.enabled = False
                return None
            self._progress = progress
        return self._progress

    def _stop(self) -> None:
        """Stop the live display and forget everything it showed (lock held)."""
        progress, self._progress = self._progress, None
        self._maps.clear()
        self._items.clear()
        self._runs.clear()
        if progress is not None:
            progress.stop()

    def __repr__(self) -> str:
        return f"ProgressProcessor(min_items={self.min_items}, enabled={self.enabled})"
