"""The ``sim forecast`` command (registered by :mod:`sim.cli`); the work is in :mod:`sim.validation.forecast`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

    from sim.params import Scenario


def model_columns(n_interventions: int = 0) -> frozenset[str]:
    """Numeric columns of ``model.parquet`` (a one-step run of a one-place scenario: milliseconds).

    With ``n_interventions`` > 0 (the scenario has ``[[interventions]]``) also the columns the
    interventions add: ``agreements``, ``agreements_declined``, ``intervention_cost_sek_<i>``.
    """
    from sim.api import run
    from sim.scenario import scenario_from_dict

    tiny = scenario_from_dict(
        {"places": {"n": 1, "population_mean": 200.0}, "organisations": {"base_per_place": 2, "initial_adopters": 1}},
        source="<model columns>",
    )
    from sim.results import intervention_columns

    cols = set(run(tiny, seed=0, steps=1).model.columns) - {"step", "month", "date"}
    return frozenset(cols | set(intervention_columns(n_interventions)))


def scenario_limits(sc: Scenario) -> dict[str, tuple[int, str]]:
    """The largest value of each place and county count in ``sc``'s world (:func:`sim.results.count_limits`).

    The world is built, not run: well under a second for Sweden.
    """
    from sim.api import build_model
    from sim.results import count_limits

    return count_limits(build_model(sc).state)


def fit_key(base: dict, observed: pd.DataFrame, bounds: dict[str, tuple[float, float]], *, seed: int,
            population: int, distance: str, fit_until: str | None) -> str:
    """A fingerprint of everything the fit depends on (sha256, hex), to resume an interrupted fit.

    ``base``: the scenario data with ``--set`` applied; its ``[calibration]`` table and the
    fitted fields are left out (writing the posterior medians into a preset does not change
    the fit). Not in it: ``--generations`` (a resumed fit continues to the number asked),
    ``--until``, ``--draws``, ``--workers`` (results do not depend on them).
    """
    import copy
    import hashlib
    import json

    from sim.api import code_fingerprint

    data = copy.deepcopy(base)
    data.pop("calibration", None)
    for dotted in bounds:
        section, _, name = dotted.partition(".")
        if isinstance(data.get(section), dict):
            data[section].pop(name, None)
    figures = observed[["date", "output", "value", "check_only"]].astype(str).to_dict("records")
    blob = {"scenario": data, "observed": figures, "bounds": {k: list(v) for k, v in sorted(bounds.items())},
            "seed": seed, "population": population, "distance": distance, "fit_until": fit_until,
            "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def checkpoint_path(out: Path, key: str) -> Path:
    """Where the ABC-SMC history of a fit into ``out`` is kept while it runs: a hidden sibling of ``out``.

    It stays if the command is interrupted (or fails after the fit) and is picked up by the next
    run with the same :func:`fit_key`; a finished forecast moves it into ``out/abc.db``.
    """
    return out.parent / f".{out.name}.forecast-{key[:16]}.abc.db"


def _stored_populations(db: Path) -> int:
    """Populations stored in a pyabc history (0 if it holds none or cannot be read)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            t = con.execute("SELECT MAX(t) FROM populations").fetchone()[0]
    except sqlite3.Error:
        return 0
    return int(t) + 1 if t is not None and t >= 0 else 0


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to the command line."""

    @app.command("forecast")
    def forecast_cmd(
        scenario: Annotated[str, typer.Argument(help="Scenario file or preset (needs run.start).")],
        observed: Annotated[Path, typer.Option("--observed", help=(
            "CSV with columns date,output,value,source (and optionally fit: yes or no; no = checked against "
            "the band, not fitted)."))],
        out: Annotated[Path, typer.Option("--out", help="Folder for forecast.csv/png, posterior.csv, forecast.json.")],
        param: Annotated[
            list[str] | None,
            typer.Option("--param", help="dotted.name=LOW:HIGH (repeatable; a table entry such as "
                         "value.site_cost_sek.project too); default: the scenario's [calibration] table."),
        ] = None,
        until: Annotated[
            str | None, typer.Option("--until", help="Last month of the forecast YYYY-MM (default: end of the run).")
        ] = None,
        fit_until: Annotated[
            str | None, typer.Option("--fit-until", help="Fit only figures up to YYYY-MM; check the later ones.")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", min=0, max=2**31 - 1, help="Root seed of fit and forecast.")] = 0,
        population: Annotated[
            int | None, typer.Option("--population", min=10, help="ABC-SMC particles (default: [calibration] table, else 60).")
        ] = None,
        generations: Annotated[
            int | None, typer.Option("--generations", min=1, help="ABC-SMC populations (default: [calibration] table, else 4).")
        ] = None,
        draws: Annotated[
            int | None, typer.Option("--draws", min=10, help="Predictive runs (default: [calibration] table, else 100).")
        ] = None,
        distance: Annotated[
            str | None, typer.Option("--distance", help="ABC distance: rmse or adaptive (default: [calibration] table).")
        ] = None,
        min_ess: Annotated[
            float | None, typer.Option("--min-ess", help=(
                "0 to 1: the posterior is the last ABC-SMC population whose effective sample size is at least this "
                "share of --population (default: [calibration] table, else 0: the last population)."))
        ] = None,
        band: Annotated[str, typer.Option("--band", help=(
            "conditioned (default: every predictive path passes through the fitted figures, the forecast of what "
            "comes next) or fresh (paths from the start: the check that the model can produce the figures)."))
        ] = "conditioned",
        replicate_check: Annotated[bool, typer.Option("--replicate-check", help=(
            "Also run the posterior's parameters from the start with fresh seeds and check every observed figure "
            "against their band (replicate.csv; a test a fitted figure can fail)."))] = False,
        workers: Annotated[int, typer.Option("--workers", min=1, help="Processes (results do not depend on how many).")] = 2,
        set_: Annotated[list[str] | None, typer.Option("--set", help="Fixed override dotted.key=value.")] = None,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier --out whole.")] = False,
    ) -> None:
        """Fit parameters to observed figures (ABC-SMC) and forecast with a posterior-predictive 90 % band."""
        from sim.cli import begin_output_or_exit, check_out_or_exit, console, fail, load_or_exit, progress_bar
        from sim.dates import ALLOWED, date_of, month_index, parse_year_month
        from sim.outdir import commit_output, discard_output
        from sim.params import numeric_field_is_int
        from sim.scenario import apply_overrides, read_scenario_data, resolve_scenario_path
        from sim.validation.forecast import BANDS, CLOSEST_SHARE, LOW_ESS_SHARE, forecast, forecast_title, write_forecast
        from sim.validation.observed import ForecastError, load_observed, parse_param

        sc = load_or_exit(scenario, set_)
        source = resolve_scenario_path(scenario)
        if sc.run.start is None:
            fail(f"{source}: field run.start is not set; a forecast needs the calendar month of model month 0 ({ALLOWED}): "
                 "set it in the scenario or add --set run.start=YYYY-MM")
        start = sc.run.start
        try:
            bounds = dict(parse_param(p) for p in param) if param else {
                k: (float(v[0]), float(v[1])) for k, v in sc.calibration.params.items()}
            obs = load_observed(observed, start, model_columns(len(sc.interventions)), scenario_limits(sc))
            for opt, val in (("--until", until), ("--fit-until", fit_until)):
                if val is not None:
                    try:
                        parse_year_month(val)
                    except ValueError as err:
                        raise ForecastError(f"{opt} {val!r}: {err}") from None
        except ForecastError as err:
            fail(str(err))
        if not bounds:
            fail(f"{source}: nothing to fit: give --param dotted.name=LOW:HIGH or a [calibration] params table")
        last = max(obs["date"])
        until = until or max(last, date_of(sc.run.steps - 1, start) or last)
        if month_index(until, last) < 0:
            fail(f"--until {until} is before the last observed figure ({last} in {observed}); allowed: {last} or later")
        if fit_until is not None and month_index(fit_until, start) < 0:
            fail(f"--fit-until {fit_until} is before run.start {start}")
        check_out_or_exit(out, overwrite)
        cal = sc.calibration
        population, generations, draws = population or cal.population, generations or cal.generations, draws or cal.draws
        distance = distance or cal.distance
        if distance not in ("rmse", "adaptive"):
            fail(f"--distance {distance!r}: allowed rmse or adaptive")
        min_ess = cal.min_ess if min_ess is None else min_ess
        if not 0.0 <= min_ess <= 1.0:
            fail(f"--min-ess {min_ess:g}: allowed 0 to 1 (a share of the population size)")
        if band not in BANDS:
            fail(f"--band {band!r}: allowed {' or '.join(BANDS)}")
        base = apply_overrides(read_scenario_data(source)[0], set_ or [])
        int_fields = tuple(k for k in bounds if numeric_field_is_int(k))
        key = fit_key(base, obs, bounds, seed=seed, population=population, distance=distance, fit_until=fit_until)
        ckpt = checkpoint_path(out, key)
        for old in out.parent.glob(f".{out.name}.forecast-*.abc.db"):
            if old != ckpt:  # an interrupted fit of other inputs: superseded
                old.unlink(missing_ok=True)
        tmp = begin_output_or_exit(out, overwrite)
        checked_only = obs["check_only"].tolist() if "check_only" in obs.columns else [False] * len(obs)
        later = [fit_until is not None and month_index(d, fit_until) > 0 for d in obs["date"]]
        n_checked = sum(checked_only)
        n_held = sum(h and not c for h, c in zip(later, checked_only, strict=True))
        n_fit = len(obs) - n_checked - n_held
        aside = [f"{n} {what}" for n, what in ((n_held, "held out"), (n_checked, "checked only")) if n]
        checked = f" ({', '.join(aside)})" if aside else ""
        console.print(f"forecast {sc.name}: fitting {list(bounds)} to {n_fit} figures{checked} "
                      f"(ABC-SMC {population} x {generations}), then {draws} predictive "
                      f"{'paths through the fitted figures' if band == 'conditioned' else 'runs from the start'} to {until}")
        stored = _stored_populations(ckpt) if ckpt.exists() else 0
        if stored > generations:  # more populations than asked: the posterior would be another one
            ckpt.unlink()
        elif stored:
            console.print(f"resuming the interrupted fit: {stored} of {generations} populations in {ckpt}")
        elif ckpt.exists():
            ckpt.unlink()  # interrupted before its first population: nothing to resume
        try:
            with progress_bar() as bar:
                tasks: dict[str, int] = {}

                def progress(phase: str, done: int, total: int) -> None:
                    key = "populations" if phase.startswith("ABC-SMC population") else phase
                    if key not in tasks:
                        tasks[key] = bar.add_task(phase, total=total)
                    bar.update(tasks[key], completed=done, description=phase)

                fc = forecast(base, obs, bounds, until, ckpt, start=start, population=population,
                              generations=generations, draws=draws, workers=workers, seed=seed, fit_until=fit_until,
                              int_fields=int_fields, progress=progress, distance=distance, band=band,
                              replicate_check=replicate_check, min_ess=min_ess)
            from sim.interventions import markers

            marks = markers(sc)
            manifest = {"command": "forecast", "scenario": str(source), "observed": str(observed),
                        "parameters": list(bounds), "until": until, "fit_until": fit_until, "seed": seed,
                        "population": population, "generations": generations, "draws": draws, "distance": distance,
                        "band": band, "replicate_check": replicate_check, **({"min_ess": min_ess} if min_ess else {})}
            write_forecast(fc, tmp, forecast_title(sc.name), manifest, marks)
            shutil.copyfile(ckpt, tmp / "abc.db")
        except ForecastError as err:
            discard_output(tmp)
            fail(str(err))
        except BaseException:
            discard_output(tmp)
            raise
        commit_output(tmp, out, overwrite)
        ckpt.unlink(missing_ok=True)
        cov = fc.observed
        console.print(f"wrote {out}/forecast.csv, forecast.png, posterior.csv, forecast.json "
                      f"({int(cov['covered'].sum())} of {len(cov)} observed figures inside the 90 % band; "
                      f"{fc.summary['seconds']} s)")
        for name, q in fc.summary["parameters"].items():
            console.print(f"  {name}: median {q['q50']:.4g}, 90 % interval [{q['q05']:.4g}, {q['q95']:.4g}]")
        for _, o in cov[~cov["fitted"].to_numpy(bool)].iterrows():  # held out (after --fit-until) or checked only
            why = "checked, not fitted" if bool(o["check_only"]) else "held out"
            width = (o["hi90"] - o["lo90"]) / o["median"] if o["median"] > 0 else float("inf")
            console.print(f"  {why}: {o['date']} {o['output']} {o['value']:g}: band {o['lo90']:.4g}-{o['hi90']:.4g} "
                          f"(median {o['median']:.4g}, width {width:.2f} x the median), "
                          f"{'inside' if bool(o['covered']) else 'OUTSIDE'}")
        rc = fc.summary.get("replicate_check")
        if rc:
            miss = [f"{o['date']} {o['output']} {o['value']:g} (band {o['replicate_lo90']:.4g}-{o['replicate_hi90']:.4g})"
                    for _, o in cov.iterrows() if not bool(o["replicate_covered"])]
            console.print(f"  replicate check (fresh paths from the start): {rc['covered']} of {rc['figures']} observed "
                          f"figures inside their 90 % band" + (f"; outside: {', '.join(miss)}" if miss else ""))
        pred = fc.summary["predictive"]
        if pred["conditioned"]:
            console.print(f"  predictive paths through the fitted figures: {pred['screening_runs']} runs tried for "
                          f"{draws} paths (tolerance {pred['tolerance']:.3g}, the largest distance the fit accepted)"
                          + (f"; {pred['recorded_taken']} found none in {pred['max_tries']} fresh tries and continue "
                             "the run their particle was accepted with" if pred.get("recorded_taken") else ""))
            if pred["closest_taken"] > CLOSEST_SHARE * draws:
                console.print(f"warning: {pred['closest_taken']} of {draws} draws found no path through the figures in "
                              f"{pred['max_tries']} tries and took their closest: the band is looser than the fit")
        ess, size = fc.summary["effective_sample_size"], fc.summary["population_size"]
        run = fc.summary.get("populations_run", fc.summary["populations"])
        if fc.summary["populations"] < run:
            console.print(f"  posterior: population {fc.summary['populations']} of {run} (effective sample size "
                          f"{ess:.1f} of {size}; the later ones fell under --min-ess {min_ess:g}: "
                          + ", ".join(f"{e:.1f}" for e in fc.summary["effective_sample_sizes"][fc.summary["populations"]:])
                          + ")")
        if ess < LOW_ESS_SHARE * size:
            console.print(f"warning: the posterior rests on few particles (effective sample size {ess:.1f} of {size}): "
                          "its intervals and the band are rough; raise --population (or calibration.population), "
                          f"or keep an earlier population with --min-ess {LOW_ESS_SHARE:g}")
