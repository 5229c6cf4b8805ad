"""Progress of long commands: a live bar on a terminal, plain dated lines in a log.

A rich progress bar redraws one line in place; written to a file or a pipe (``nohup``, CI, a
batch queue's log) it shows nothing until the command ends. :class:`LineProgress` has the
same calls (``add_task``, ``update``, ``advance``, ``stop``) and prints a line when a task
starts, when its description changes, at every tenth of its total and when it completes,
each with the time elapsed, so a 30-minute fit read from its log says where it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    shown_tenth: int = -1
    """The last tenth of ``total`` a line was printed for (-1: none yet)."""


@dataclass
class LineProgress:
    """Progress as plain lines: ``[  12 s] ABC-SMC population 3/8, epsilon 0.26: 3/8`` (same calls as rich's)."""

    console: Console
    steps: int = 10
    """Lines per task between start and end (one at each ``1/steps`` of its total), 1 to 100."""
    _tasks: dict[int, _Task] = field(default_factory=dict)
    _t0: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 100:
            raise ValueError(f"steps {self.steps!r}: allowed 1 to 100")

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _line(self, task: _Task) -> None:
        done = f"{task.completed:.0f}/{task.total:.0f}" if task.total else f"{task.completed:.0f}"
        self.console.print(f"[{time.monotonic() - self._t0:6.0f} s] {escape(task.description)}: {done}",
                           soft_wrap=True, highlight=False)

    def _maybe_print(self, task: _Task, force: bool = False) -> None:
        tenth = int(self.steps * task.completed / task.total) if task.total else 0
        if force or tenth > task.shown_tenth:
            task.shown_tenth = max(tenth, task.shown_tenth)
            self._line(task)

    def add_task(self, description: str, total: float | None = 100.0, **_: Any) -> int:
        """Start a task; print its first line."""
        tid = len(self._tasks)
        self._tasks[tid] = task = _Task(description, total)
        self._maybe_print(task, force=True)
        return tid

    def update(self, task_id: int, *, completed: float | None = None, advance: float | None = None,
               description: str | None = None, total: float | None = None, **_: Any) -> None:
        """Set progress; print a line at a new description, a new tenth or completion."""
        task = self._tasks[task_id]
        renamed = description is not None and description != task.description
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = float(completed)
        if advance is not None:
            task.completed += float(advance)
        self._maybe_print(task, force=renamed)

    def advance(self, task_id: int, advance: float = 1.0) -> None:
        """Add ``advance`` to a task's progress."""
        self.update(task_id, advance=advance)

    def stop(self) -> None:
        """Nothing to take down (lines stay printed)."""


def progress_bar(console: Console) -> Any:
    """The progress every long command shows: a rich bar on a terminal, :class:`LineProgress` otherwise."""
    if not console.is_terminal:
        return LineProgress(console)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False,
    )
