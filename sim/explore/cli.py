"""Commands ``sim sweep``, ``sim analyze``, ``sim compare``, ``sim levers``, ``sim calibrate-abc``. Thin: work is in sim.explore.

Exit codes of ``sim sweep`` and ``sim compare``: 0 when every run has a result; 2 for
bad input (an invalid experiment or scenario file, option, ``--out`` or an
unreachable ``--scheduler``), with a message naming the file and field, and nothing
written; 3 when some runs failed (their number is in the message and, for a sweep,
``runs_failed`` in ``manifest.json``; the failures are in ``DIR/failures``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.cli import EXIT_RUNS_FAILED, check_out_or_exit, console, fail, load_or_exit, print_error, progress_bar

_WORKERS = typer.Option("--workers", help="Worker processes of the local process pool (default: CPU count).")
_SCHED = typer.Option("--scheduler", help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.")
_DLOCAL = typer.Option("--dask-local", help="Start a Dask LocalCluster of N single-threaded worker processes.")
_INPROC = typer.Option("--in-process", help="Run every simulation in this process (debugging, profiling).")


def _executor(workers: int | None, scheduler: str | None, dask_local: int | None, in_process: bool):  # noqa: ANN202
    from sim.explore.executors import ExecutorSpec

    chosen = [x for x in (workers is not None, scheduler is not None, dask_local is not None, in_process) if x]
    if len(chosen) > 1:
        fail("choose one of --workers, --scheduler, --dask-local, --in-process")
    for name, v in (("--workers", workers), ("--dask-local", dask_local)):
        if v is not None and not 1 <= v <= 4096:
            fail(f"{name}: must be in [1, 4096]; got {v}")
    if in_process:
        return ExecutorSpec("in-process")
    if scheduler:
        return ExecutorSpec("dask", scheduler=scheduler)
    if dask_local:
        return ExecutorSpec("dask", workers=dask_local)
    return ExecutorSpec("process", workers=workers)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return "NaN"
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


def sweep_cmd(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file (see docs/experiments.md).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created; rerun the command to resume).")],
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHED] = None,
    dask_local: Annotated[int | None, _DLOCAL] = None,
    in_process: Annotated[bool, _INPROC] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Runs per Parquet part [runs].")] = 50,
    flush_seconds: Annotated[float, typer.Option("--flush-seconds", min=0.0, help="Commit at least this often [s].")
                             ] = 10.0,
) -> None:
    """Run an experiment (a design of parameter points x replicates) into a resumable Parquet store."""
    from sim.explore.design import make_design, out_of_range
    from sim.explore.executors import ExecutorError
    from sim.explore.experiment import ExperimentError, load_experiment
    from sim.explore.store import StoreError
    from sim.explore.sweep import sweep

    spec = _executor(workers, scheduler, dask_local, in_process)
    try:
        exp, base = load_experiment(experiment)
    except ExperimentError as err:
        fail(str(err))
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: is a file, not a folder; choose another --out")
    _writable_or_exit(out)
    design = make_design(exp)
    for name, vals in out_of_range(design).items():
        vals = [v.item() if hasattr(v, "item") else v for v in vals]  # NumPy scalars shown plainly
        console.print(f"[yellow]warning:[/] {escape(name)}: values {escape(str(vals)[:200])} are outside the "
                      "scenario's allowed range; those runs will fail and be recorded in failures/", soft_wrap=True)
    console.print(f"[bold]{escape(exp.name)}[/]: {exp.design} design, {design.n} points x {exp.replicates} replicates = "
                  f"{design.n * exp.replicates} runs on {escape(spec.describe())}", soft_wrap=True)
    with progress_bar() as bar:
        task = bar.add_task("runs", total=design.n * exp.replicates)

        def progress(done: int, failed: int, total: int) -> None:
            bar.update(task, completed=done + failed, description=f"runs ({failed} failed)" if failed else "runs")

        try:
            rep = sweep(exp, base, out, spec, batch_size=batch_size, flush_seconds=flush_seconds,
                        progress=progress, experiment_file=experiment)
        except (StoreError, ExperimentError, ExecutorError) as err:
            bar.stop()
            fail(str(err))
    console.print(f"{rep.total} runs: {rep.present_before} already present, {rep.completed} completed, "
                  f"{rep.failed} failed, in {rep.seconds:.1f} s -> {escape(str(out))}/runs")
    if rep.missing:
        print_error(f"{rep.missing} of {rep.total} run(s) failed (runs_failed in {out}/manifest.json); see "
                    f"{out}/failures/ and rerun the same command to retry them")
        raise typer.Exit(EXIT_RUNS_FAILED)


def analyze_cmd(
    sweep_dir: Annotated[Path, typer.Argument(help="Folder written by `sim sweep`.")],
    output: Annotated[list[str] | None, typer.Option("--output", help="Output(s) to analyse (default: all).")] = None,
    censor: Annotated[bool, typer.Option("--censor", help="Replace NaN time_to_* by the run horizon (reported).")
                      ] = False,
    resamples: Annotated[int, typer.Option("--resamples", min=10, help="Bootstrap resamples for CIs.")] = 1000,
    conf: Annotated[float, typer.Option("--conf", min=0.5, max=0.999, help="Confidence level of the CIs.")] = 0.95,
) -> None:
    """Sobol indices (first, total, CIs) or Morris effects (mu*, sigma, CI) of each output of a sweep."""
    from sim.explore.analyze import analyze_sweep
    from sim.explore.store import StoreError

    try:
        res = analyze_sweep(sweep_dir, output, censor=censor, num_resamples=resamples, conf_level=conf)
    except (StoreError, ValueError) as err:
        fail(str(err))
        return
    out = Console()
    cols = {"sobol": ["S1", "S1_conf", "ST", "ST_conf"], "morris": ["mu_star", "mu_star_conf", "sigma", "mu"]}.get(
        res.method, ["point", "n", "mean", "ci_low", "ci_high"])
    if len(res.indices):
        t = Table(title=f"{res.method} ({conf:.0%} CI)", header_style="bold")
        first = ["output", "parameter"] if res.method in ("sobol", "morris") else ["output"]
        for c in first + cols:
            t.add_column(c, justify="left" if c in ("output", "parameter") else "right")
        for _, r in res.indices.iterrows():
            t.add_row(*[_fmt(r[c]) for c in first + cols])
        out.print(t)
    t = Table(title="NaN / missing values per output", header_style="bold")
    for c in ("output", "runs", "nan_runs", "missing_runs", "censored_runs", "status"):
        t.add_column(c)
    for _, r in res.nan_report.iterrows():
        t.add_row(*[_fmt(r[c]) for c in ("output", "runs", "nan_runs", "missing_runs", "censored_runs", "status")])
    out.print(t)
    console.print(f"wrote {res.table_path}" + (f", {res.plot_path}" if res.plot_path else ""))


def compare_cmd(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario files or presets; the first is the reference.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    replicates: Annotated[int, typer.Option("--replicates", min=2, max=100_000, help="Runs per scenario.")] = 10,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Steps (default: each scenario's).")] = None,
    root_seed: Annotated[int, typer.Option("--root-seed", min=0, help="Root seed of the shared seeds.")] = 0,
    output: Annotated[list[str] | None, typer.Option("--output", help="Outputs to compare (repeatable).")] = None,
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHED] = None,
    dask_local: Annotated[int | None, _DLOCAL] = None,
    in_process: Annotated[bool, _INPROC] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an --out holding an earlier result.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Also write report.html (self-contained, for a board).")
                      ] = False,
) -> None:
    """Run scenarios with common random numbers; report differences vs the first with paired CIs."""
    import shlex
    import sys

    from sim.explore.compare import DEFAULT_OUTPUTS, compare
    from sim.explore.executors import ExecutorError
    from sim.explore.experiment import output_names
    from sim.outdir import OutputFolderError
    from sim.report.page import ReportError
    from sim.report.terminal import difference_table

    if len(scenarios) < 2:
        fail("compare needs at least two scenarios")
    for s in scenarios:
        load_or_exit(s, None)
    check_out_or_exit(out, overwrite)
    outputs = list(output or DEFAULT_OUTPUTS)
    bad = [o for o in outputs if o not in output_names()]
    if bad:
        fail(f"--output: unknown output(s) {bad}; known: {sorted(output_names())}")
    spec = _executor(workers, scheduler, dask_local, in_process)
    command = "sim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["compare"] else \
        "sim compare " + " ".join(shlex.quote(s) for s in scenarios) + f" --replicates {replicates} --out {out}"
    with progress_bar() as bar:
        task = bar.add_task("runs", total=len(scenarios) * replicates)

        def progress(done: int, failed: int, total: int) -> None:
            bar.update(task, completed=done, description=f"runs ({failed} failed)" if failed else "runs")

        try:
            res = compare(scenarios, out, replicates, root_seed=root_seed, steps=steps, outputs=outputs, spec=spec,
                          progress=progress, overwrite=overwrite, report=report, command=command)
        except (ExecutorError, OutputFolderError, ReportError) as err:
            bar.stop()
            fail(str(err))
    Console().print(difference_table(res.differences))
    console.print(f"wrote {escape(str(out))}/results.parquet, series.parquet, differences.csv, curves.png"
                  + (", report.html" if report else ""), soft_wrap=True)
    if res.failures:
        print_error(f"{len(res.failures)} of {len(scenarios) * replicates} run(s) failed: see {out}/failures.json")
        raise typer.Exit(EXIT_RUNS_FAILED)


def levers_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder: levers.csv, levers.md, img/*.png.")],
    presets: Annotated[list[str] | None, typer.Argument(
        help="Presets or scenario files (default: teaching, district, sweden-youth-employment).")] = None,
    replicates: Annotated[int | None, typer.Option(
        "--replicates", min=2, max=100_000, help="Runs per setting (default: 10; Sweden preset 5).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Steps (default: each scenario's).")] = None,
    root_seed: Annotated[int, typer.Option("--root-seed", min=0, help="Root seed of the shared seeds.")] = 0,
    lever: Annotated[list[str] | None, typer.Option("--lever", help="Only this lever (dotted key; repeatable).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override for every run: dotted.key=value.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Skip the per-preset lighter overrides (PRESET_RUNS).")] = False,
    docs: Annotated[bool, typer.Option("--docs", help="Also write docs/levers.md and docs/img/levers-*.png.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 if a lever documented for a preset is dead or contradicts there.")] = False,
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHED] = None,
    dask_local: Annotated[int | None, _DLOCAL] = None,
    in_process: Annotated[bool, _INPROC] = False,
) -> None:
    """Run each strategist-facing lever at low / default / high with common random numbers; report its effects."""
    import shlex
    import sys

    from sim.explore.levers import DEFAULT_PRESETS, planned_runs, run_levers, select_levers, write_report
    from sim.scenario import ScenarioError, apply_overrides, parse_override

    names = list(presets or DEFAULT_PRESETS)
    try:
        chosen = select_levers(lever)
        overrides = dict(parse_override(s) for s in (set_ or []))
        apply_overrides({}, overrides)
    except (ValueError, ScenarioError) as err:
        fail(str(err))
        return
    for p in names:
        load_or_exit(p, set_)
    _writable_or_exit(out)
    spec = _executor(workers, scheduler, dask_local, in_process)
    n_runs = planned_runs(names, chosen, replicates)
    console.print(f"[bold]levers[/]: {len(chosen)} levers x (low, high) + default on {', '.join(names)}: "
                  f"{n_runs} runs on {spec.describe()}")
    with progress_bar() as bar:
        task = bar.add_task("runs", total=n_runs)

        def progress(done: int, failed: int, total: int) -> None:
            bar.update(task, completed=done + failed, description=f"runs ({failed} failed)" if failed else "runs")

        try:
            rep = run_levers(names, levers=chosen, replicates=replicates, steps=steps, root_seed=root_seed,
                             overrides=overrides, light=not full, spec=spec, progress=progress)
        except ScenarioError as err:
            bar.stop()
            console.print(f"[bold red]error:[/] {err}", highlight=False, markup=False)
            raise typer.Exit(2) from None
    command = "sim " + " ".join(shlex.quote(a) for a in ["levers", *sys.argv[2:]]) if sys.argv[1:2] == ["levers"] \
        else "sim levers " + " ".join(names) + f" --out {out}"
    written = write_report(rep, out, command=command, docs=docs)
    t = Table(title="documented effects (high - low, paired over replicates)", header_style="bold")
    for c in ("preset", "lever", "output", "expected", "tested", "diff", "se", "verdict"):
        t.add_column(c, justify="left" if c in ("preset", "lever", "output", "verdict") else "right")
    for _, r in rep.documented().iterrows():
        t.add_row(r["preset"], r["lever"], r["output"], f"{r['expected']:+d}", "yes" if r["enforced"] else "no",
                  _fmt(r["diff"]), _fmt(r["se"]), r["verdict"])
    Console().print(t)
    console.print(f"{rep.meta['runs']} runs in {rep.meta['wall_seconds']:.0f} s; wrote "
                  + ", ".join(escape(str(p)) for p in written[:3]) + f" and {len(written) - 3} more")
    if rep.failures:
        console.print(f"[yellow]{len(rep.failures)} run(s) failed[/]: see {out}/failures.json")
        raise typer.Exit(min(len(rep.failures), 125))
    broken = rep.broken()
    if check and len(broken):
        console.print(f"[red]{len(broken)} documented effect(s) not shown[/]: "
                      + ", ".join(f"{r.preset}:{r.lever}->{r.output} ({r.verdict})" for r in broken.itertuples()))
        raise typer.Exit(1)


def _writable_or_exit(out: Path) -> None:
    """Exit 2 before any work when ``--out`` cannot be created or written (:func:`sim.outdir.check_writable`)."""
    from sim.outdir import OutputFolderError, check_writable

    try:
        check_writable(out)
    except OutputFolderError as err:
        fail(str(err))


def _bounds(items: list[str]) -> dict[str, tuple[float, float]]:
    from sim.explore.experiment import _schema_field

    bounds = {}
    for it in items:
        try:
            name, rng = it.split("=", 1)
            lo, hi = (float(x) for x in rng.split(":"))
            _schema_field(name.strip())
        except ValueError as err:
            fail(f"--param {it!r}: expected dotted.name=LOW:HIGH with a scenario parameter ({err})")
        if not lo < hi:
            fail(f"--param {it!r}: LOW must be < HIGH")
        bounds[name.strip()] = (lo, hi)
    return bounds


def calibrate_abc_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file or preset to fit.")],
    target: Annotated[Path, typer.Option("--target", help="CSV with 'month' and the output (or 'value') column.")],
    param: Annotated[list[str], typer.Option("--param", help="dotted.name=LOW:HIGH (repeatable): prior bounds.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for abc.db, point_fit.json, posterior.csv/png.")],
    output: Annotated[str, typer.Option("--output", help="Model output compared with the target.")] = "orgs_adopted",
    share: Annotated[bool, typer.Option("--share", help="Compare the output as a share of its denominator.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Fixed override dotted.key=value.")] = None,
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Shared seeds per point-fit candidate.")] = 5,
    maxiter: Annotated[int, typer.Option("--maxiter", min=1, help="Point fit: optimiser iterations.")] = 15,
    population: Annotated[int, typer.Option("--population", min=10, help="ABC-SMC population size.")] = 100,
    generations: Annotated[int, typer.Option("--generations", min=1, help="ABC-SMC populations in total.")] = 6,
    workers: Annotated[int, typer.Option("--workers", min=1, help="ABC processes (same posterior for any number).")] = 1,
    point_only: Annotated[bool, typer.Option("--point-only", help="Only the quick point fit.")] = False,
    root_seed: Annotated[int, typer.Option("--root-seed", min=0, help="Root seed.")] = 0,
) -> None:
    """Quick point fit (shared seeds) then an ABC-SMC posterior (pyabc, SQLite history, resumable)."""
    import json

    from sim.explore.calibrate import (
        PointFit,
        ScenarioSimulator,
        abc_smc,
        load_target,
        plot_posterior,
        point_fit,
        write_json,
    )
    from sim.explore.experiment import output_names, resolve_experiment_scenario, scenario_data
    from sim.scenario import apply_overrides

    load_or_exit(scenario, set_)
    if output not in output_names():
        fail(f"--output: unknown output {output!r}")
    bounds = _bounds(param)
    _writable_or_exit(out)
    try:
        tgt = load_target(target, output, share=share)
    except (OSError, ValueError) as err:
        fail(f"--target: {err}")
        return
    base = apply_overrides(scenario_data(resolve_experiment_scenario(scenario, None)), set_ or [])
    sim_fn = ScenarioSimulator(base, output, tuple(tgt.months.tolist()), share=share)
    out.mkdir(parents=True, exist_ok=True)
    prev = out / "point_fit.json"
    old = json.loads(prev.read_text()) if prev.exists() else None
    if old and list(old["theta"]) == list(bounds) and point_only is False:
        fit = PointFit(old["theta"], old["loss"], old["evaluations"], old["seeds"], "reused from point_fit.json")
        console.print("reusing the point fit in point_fit.json (delete it to refit)")
    else:
        console.print(f"point fit of {list(bounds)} on {len(tgt.months)} observations ({seeds} shared seeds) ...")
        fit = point_fit(sim_fn, bounds, tgt, seeds=seeds, root_seed=root_seed, maxiter=maxiter)
        write_json(prev, fit.to_dict())
    console.print("point fit: " + ", ".join(f"{k} = {v:.4g}" for k, v in fit.theta.items())
                  + f"; RMSE {fit.loss:.4g} ({fit.evaluations} candidates)")
    if point_only:
        return
    with console.status("ABC-SMC ..."):
        res = abc_smc(sim_fn, bounds, tgt, out / "abc.db", population_size=population, generations=generations,
                      workers=workers, seed=root_seed)
    res.posterior.to_csv(out / "posterior.csv", index=False)
    plot_posterior(res, out / "posterior.png", fit.theta)
    t = Table(title=f"ABC-SMC posterior after {res.populations} populations (epsilon {res.epsilons[-1]:.4g})")
    for c in ("parameter", "mean", "sd", "q025", "q975"):
        t.add_column(c)
    for _, r in res.summary().iterrows():
        t.add_row(*[_fmt(r[c]) for c in ("parameter", "mean", "sd", "q025", "q975")])
    Console().print(t)
    console.print(f"wrote {out}/point_fit.json, abc.db (resume: rerun with more --generations), posterior.csv/png")


def register(app: typer.Typer) -> None:
    """Add the explore commands to the ``sim`` application."""
    app.command("sweep")(sweep_cmd)
    app.command("analyze")(analyze_cmd)
    app.command("compare")(compare_cmd)
    app.command("levers")(levers_cmd)
    app.command("calibrate-abc")(calibrate_abc_cmd)
