"""The ``sim`` command line. Thin: parsing, progress and printing only; the work is elsewhere.

Commands are registered by the modules in ``_COMMAND_MODULES``: each has a
``register(app: typer.Typer) -> None`` that adds its commands.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim.scenario import ScenarioError, list_presets, load_scenario

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Simulate how a social innovation spreads and scales.")
console = Console(stderr=True)

_COMMAND_MODULES: tuple[str, ...] = ("sim.explore.cli", "sim.validation.commands", "sim.ui.commands", "sim.perf.cli")
"""Modules that add commands (``register(app)``)."""


def fail(message: str, code: int = 2) -> None:
    """Print an error and exit with ``code``."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)


def load_or_exit(scenario: str | None, overrides: list[str] | None):  # noqa: ANN201
    """Load a scenario, or exit 2 with a message naming file, field and range."""
    try:
        return load_scenario(scenario, overrides or [])
    except ScenarioError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False, markup=False)
        raise typer.Exit(2) from None


def progress_bar() -> Progress:
    """The progress bar every long command shows."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False,
    )


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
) -> None:
    """Run one scenario and write its tables."""
    from sim.api import build_model, result_of

    sc = load_or_exit(scenario, set_)
    if steps is not None and not 1 <= steps <= 100_000:
        fail(f"--steps: allowed range [1, 100000]; got {steps}")
    if seed is not None and seed < 0:
        fail(f"--seed: allowed range [0, 2**63 - 1]; got {seed}")
    try:
        model = build_model(sc, seed, collect_places=places_series, collect_organisations=orgs_series)
    except ScenarioError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    n = sc.run.steps if steps is None else steps
    console.print(
        f"[bold]{sc.name}[/]: {model.places.n} places, {model.orgs.n} organisations, "
        f"{model.people.n:,} target-group members; seed {model.seed}; {n} steps of {sc.run.dt:g} month(s)"
    )
    with progress_bar() as bar:
        task = bar.add_task("simulating", total=n)
        for _ in range(n):
            model.step()
            bar.advance(task)
    result = result_of(model)
    result.write(out)
    print_summary(result.summary())
    console.print(f"wrote {out}/model.parquet, organisations.parquet, places.parquet, manifest.json")
    if report:
        from sim.report import write_run_report

        console.print(f"wrote {write_run_report(out)} and report.png")


@app.command("report")
def report_cmd(
    folder: Annotated[Path, typer.Argument(help="A folder written by `sim run`.")],
) -> None:
    """Make report.png and report.html from the tables of a finished run."""
    from sim.report import write_run_report

    if not (folder / "model.parquet").exists():
        fail(f"{folder}: no model.parquet here (expected a folder written by `sim run`)")
    console.print(f"wrote {write_run_report(folder)}")


def print_summary(summary: dict[str, float]) -> None:
    """Print headline figures as a table."""
    t = Table(title="Summary", show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in summary.items():
        if isinstance(v, float):
            txt = "-" if v != v else (f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}")
        else:
            txt = f"{v:,}"
        t.add_row(k, txt)
    Console().print(t)


@app.command("presets")
def presets_cmd() -> None:
    """List the built-in scenario presets."""
    for name in list_presets():
        sc = load_or_exit(name, None)
        typer.echo(f"{name:28s} {sc.description.splitlines()[0] if sc.description else ''}")


for _mod in _COMMAND_MODULES:
    importlib.import_module(_mod).register(app)


def main() -> None:
    """Entry point of the ``sim`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
