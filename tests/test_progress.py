"""Progress in a log: long commands print dated lines when stderr is not a terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from sim.progress import LineProgress, progress_bar

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\[\s*\d+ s\] (?P<what>.+): (?P<done>\d+)(/(?P<total>\d+))?$")


def _lines(buf: io.StringIO) -> list[re.Match[str]]:
    out = []
    for text in buf.getvalue().splitlines():
        m = LINE.match(text)
        assert m, f"not a progress line: {text!r}"
        out.append(m)
    return out


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False, color_system=None), buf


def test_a_task_prints_its_start_every_tenth_and_its_end_only() -> None:
    con, buf = _console()
    with LineProgress(con) as bar:
        t = bar.add_task("simulating", total=1000)
        for _ in range(1000):
            bar.advance(t)
    lines = _lines(buf)
    assert [int(m["done"]) for m in lines] == [0, *range(100, 1001, 100)]
    assert all(m["total"] == "1000" and m["what"] == "simulating" for m in lines)


def test_a_new_description_prints_a_line_and_unchanged_progress_does_not() -> None:
    con, buf = _console()
    bar = LineProgress(con, steps=4)
    t = bar.add_task("ABC-SMC population 1/3", total=3)
    bar.update(t, completed=0)  # nothing new
    bar.update(t, completed=1, description="ABC-SMC population 1/3, epsilon 0.5")
    bar.update(t, completed=1, description="ABC-SMC population 1/3, epsilon 0.5")  # nothing new
    bar.update(t, completed=2, description="ABC-SMC population 2/3, epsilon 0.3")
    u = bar.add_task("runs")  # default total 100
    bar.update(u, completed=10)  # under a quarter: no line
    bar.update(u, completed=30)
    lines = _lines(buf)
    assert [(m["what"], m["done"]) for m in lines] == [
        ("ABC-SMC population 1/3", "0"), ("ABC-SMC population 1/3, epsilon 0.5", "1"),
        ("ABC-SMC population 2/3, epsilon 0.3", "2"), ("runs", "0"), ("runs", "30")]


def test_bad_steps_refused() -> None:
    con, _ = _console()
    with pytest.raises(ValueError, match="steps 0: allowed 1 to 100"):
        LineProgress(con, steps=0)


def test_a_terminal_gets_the_live_bar_and_a_file_the_lines() -> None:
    from rich.progress import Progress

    assert isinstance(progress_bar(Console(file=io.StringIO(), force_terminal=True)), Progress)
    assert isinstance(progress_bar(Console(file=io.StringIO(), force_terminal=False)), LineProgress)


def test_sim_run_into_a_log_says_where_it_is(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        r = subprocess.run([sys.executable, "-m", "sim", "run", "teaching", "--steps", "20", "--out", "o",
                            "--no-report"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log, env=env,
                           timeout=300, check=False)
    text = (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert r.returncode == 0, text
    done = [int(m["done"]) for line in text.splitlines() if (m := LINE.match(line)) and m["what"] == "simulating"]
    assert done == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], text
    assert "\x1b[" not in text  # no terminal control codes in a log
