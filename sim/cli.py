"""The ``sim`` command line. Thin: parsing, progress and printing only; the work is elsewhere.

Commands are registered by the modules in ``_COMMAND_MODULES``: each has a
``register(app: typer.Typer) -> None`` that adds its commands.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # imported lazily: ``sim --help`` and a bad file need neither pandas, scipy nor mesa
    from sim.scenario import Scenario

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Simulate how a social innovation spreads and scales.",
    rich_markup_mode=None,  # help texts are plain: units such as "[runs]" and "[calibration]" must show, not be markup
)
console = Console(stderr=True)

_COMMAND_MODULES: tuple[str, ...] = ("sim.explore.cli", "sim.validation.commands", "sim.ui.commands", "sim.perf.cli",
                                     "sim.workshop.cli", "sim.validation.forecast_command")
"""Modules that add commands (``register(app)``); each imports its heavy dependencies inside its commands only."""

EXIT_BAD_INPUT = 2
"""Exit code of every command for bad input (file, field, option or ``--out``); nothing is written."""
EXIT_RUNS_FAILED = 3
"""Exit code of ``sim sweep`` and ``sim compare`` when some runs failed (count in the message and manifest)."""

MAX_MESSAGE_LINES = 30
MAX_LINE_CHARS = 400


def clean_message(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE_LINES` lines of at most :data:`MAX_LINE_CHARS` characters."""
    lines = str(message).splitlines() or [""]
    out = [ln if len(ln) <= MAX_LINE_CHARS else f"{ln[: MAX_LINE_CHARS - 3]}..." for ln in lines[:MAX_MESSAGE_LINES]]
    if len(lines) > MAX_MESSAGE_LINES:
        out.append(f"... ({len(lines) - MAX_MESSAGE_LINES} more lines)")
    return "\n".join(out)


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr: the label styled, the message as plain text (never read as markup)."""
    console.print(f"[bold red]error:[/] {escape(clean_message(message))}", highlight=False, markup=True,
                  soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print an error and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def load_or_exit(scenario: str | None, overrides: list[str] | None, force_size: bool | None = None) -> Scenario:
    """Load a scenario, or exit 2 with a message naming file, field and range."""
    from sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(scenario, overrides or [], force_size=force_size)
    except ScenarioError as err:
        fail(str(err))


def check_out_or_exit(out: Path, overwrite: bool = False, merge: bool = False) -> Path:
    """Refuse an unusable ``--out`` (a file; an earlier result without ``--overwrite``) before any work: exit 2."""
    from sim.outdir import OutputFolderError, check_output_folder

    try:
        return check_output_folder(out, overwrite, merge)
    except OutputFolderError as err:
        fail(str(err))


def begin_output_or_exit(out: Path, overwrite: bool = False, merge: bool = False) -> Path:
    """:func:`sim.outdir.begin_output` (the temporary sibling to write into), or exit 2 for an unusable ``--out``."""
    from sim.outdir import OutputFolderError, begin_output

    try:
        return begin_output(out, overwrite, merge)
    except OutputFolderError as err:
        fail(str(err))


def progress_bar() -> Any:
    """The progress every long command shows on stderr (:func:`sim.progress.progress_bar`).

    A live bar on a terminal; in a log (a file, a pipe), dated lines at every tenth.
    """
    from sim.progress import progress_bar as make

    return make(console)


_OVERWRITE = typer.Option("--overwrite", help="Replace an --out that holds an earlier result (whole).")


@app.command("run")
def run_cmd(
    scenario: Annotated[str | None, typer.Argument(help="Scenario file or preset name (default: the Sweden preset).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Steps to run (default: the scenario's run.steps).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Root random seed (default: the scenario's run.seed).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet tables and manifest.json.")] = Path("out"),
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: dotted.key=value (repeatable).")] = None,
    places_series: Annotated[bool, typer.Option("--places-series", help="Also write a per-step, per-place table.")] = False,
    orgs_series: Annotated[
        bool, typer.Option("--organisations-series", help="Also write a per-step, per-organisation table.")
    ] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Also write report.png and report.html.")] = True,
    overwrite: Annotated[bool, _OVERWRITE] = False,
    force_size: Annotated[
        bool, typer.Option("--force-size", help="Run even if the size estimate exceeds the machine's memory.")
    ] = False,
) -> None:
    """Run one scenario and write its tables (the --out folder appears whole or not at all)."""
    from sim.preflight import check_scenario
    from sim.scenario import ScenarioError, resolve_scenario_path

    sc = load_or_exit(scenario, set_, force_size=force_size or None)
    if steps is not None and not 1 <= steps <= 100_000:
        fail(f"--steps: allowed range [1, 100000]; got {steps}")
    if seed is not None and not 0 <= seed <= 2**63 - 1:
        fail(f"--seed: allowed range [0, 2**63 - 1]; got {seed}")
    check_out_or_exit(out, overwrite)
    source = str(resolve_scenario_path(scenario))
    try:  # with the seed, steps and tables of this run (load_scenario checked the scenario's own seed)
        check_scenario(sc, source, seed=seed, force_size=force_size or None, steps=steps,
                       collect_places=places_series, collect_organisations=orgs_series)
    except ScenarioError as err:
        fail(str(err))
    from sim.api import build_model, result_of
    from sim.outdir import OutputFolderError, output_folder

    try:
        model = build_model(sc, seed, collect_places=places_series, collect_organisations=orgs_series)
    except ScenarioError as err:
        fail(f"{source}: {err}")
    n = sc.run.steps if steps is None else steps
    console.print(
        f"[bold]{escape(sc.name)}[/]: {model.places.n} places, {model.orgs.n} organisations, "
        f"{model.people.n:,} target-group members; seed {model.seed}; {n} steps of {sc.run.dt:g} month(s)",
        soft_wrap=True,
    )
    with progress_bar() as bar:
        task = bar.add_task("simulating", total=n)
        for _ in range(n):
            model.step()
            bar.advance(task)
    result = result_of(model)
    try:
        with output_folder(out, overwrite=overwrite) as tmp:
            result.write_files(tmp)
            if report:
                from sim.report import write_run_report

                write_run_report(tmp)
    except OutputFolderError as err:
        fail(str(err))
    print_summary(result.summary())
    console.print(f"wrote {escape(str(out))}/model.parquet, organisations.parquet, places.parquet, manifest.json"
                  + (", report.html and report.png" if report else ""), soft_wrap=True)


@app.command("report")
def report_cmd(
    folder: Annotated[Path, typer.Argument(help="A folder written by `sim run`, `sim compare` or `sim sweep`.")],
) -> None:
    """Write report.html (and a run's report.png) from the tables of a finished run, comparison or sweep."""
    from sim.report.folders import write_report
    from sim.report.page import ReportError

    try:
        page = write_report(folder)
    except ReportError as err:
        fail(str(err))
    console.print(f"wrote {escape(str(page))}", soft_wrap=True)


def print_summary(summary: dict[str, Any]) -> None:
    """Print headline figures as a table."""
    from rich.table import Table

    t = Table(title="Summary", show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in summary.items():
        if v is None:
            txt = "-"
        elif isinstance(v, str):  # a date
            txt = v
        elif isinstance(v, float):
            txt = "-" if v != v else ("0" if v == 0 else f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}")
        else:
            txt = f"{v:,}"
        t.add_row(k, txt)
    Console().print(t)


@app.command("presets")
def presets_cmd() -> None:
    """List the built-in scenario presets."""
    from sim.scenario import list_presets

    for name in list_presets():
        sc = load_or_exit(name, None)
        typer.echo(f"{name:28s} {sc.description.splitlines()[0] if sc.description else ''}")


for _mod in _COMMAND_MODULES:
    importlib.import_module(_mod).register(app)


def main() -> None:
    """Entry point of the ``sim`` console script.

    Exit codes: 0 done; 1 a validation row failed (``sim validate``) or an unexpected
    error; 2 bad input, nothing written; 3 some runs failed (``sim sweep``, ``sim compare``);
    """
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
