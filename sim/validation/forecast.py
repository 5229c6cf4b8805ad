"""Forecasts that say how sure they are: fit a scenario to observed figures (ABC-SMC), then a posterior-predictive band.

``sim forecast SCENARIO --observed FILE.csv --out DIR`` (:func:`forecast`):

1. **Observed figures** (:func:`sim.validation.observed.load_observed`): a CSV with columns ``date,output,value,source``;
   ``date`` a calendar month ``"YYYY-MM"`` not before the scenario's ``run.start``, ``output``
   a column of ``model.parquet`` (:mod:`sim.results`, e.g. ``places_reached``, ``orgs_adopted``),
   ``value`` a number, ``source`` free text (where the figure comes from). A figure dated
   ``2018-04`` is compared with the model at the *end* of April 2018, model month
   ``month_index("2018-04", start) + 1`` (a figure "by April 2018" counts what happened in April).
   An optional column ``fit`` (``yes``, the default, or ``no``) marks a figure that is only
   checked: it gets a band and a verdict but no say in the fit (a figure the model should
   reproduce with no parameter of its own, e.g. the county councils beside the municipalities).
2. **Fit** (likelihood-free): ABC-SMC with pyabc (:func:`sim.explore.calibrate.abc_smc`), uniform
   priors on the ranges given (``--param key=lo:hi`` or the scenario's ``[calibration]`` table),
   a fresh seed per simulation (derived from ``--seed``, the generation and the candidate's number,
   :mod:`sim.explore.abc_sampler`: the same seed gives the same ``posterior.csv`` and ``forecast.csv``,
   to the byte, whatever ``--workers``),
   distance = root-mean-square over the observed points of the
   difference of ``sqrt(simulated / scale)`` and ``sqrt(observed / scale)`` (:func:`stabilise`),
   where ``scale`` is the largest observed value of that output (so outputs of different size
   weigh alike, and small early counts as much as large late ones, relative to their noise).
   A share that is undefined in a run (``share_meeting_criteria`` with no running site) counts as 0.
   With ``distance = "adaptive"`` (``[calibration]`` or ``--distance``) each figure's difference is
   further divided by the median absolute deviation of its simulated values in the last population
   (pyabc's ``AdaptivePNormDistance``, refitted every generation): a figure the model cannot pin down
   (a share of a handful of sites) weighs less than a count it reproduces closely.
   The threshold epsilon adapts (median of the previous
   population's distances); the last population is the posterior (with ``--min-ess SHARE`` or
   ``calibration.min_ess``: the last one whose effective sample size is at least that share of the
   population, so a posterior collapsed onto a few particles is not used). It is an approximation whose
   width includes the final epsilon: with few particles it is wider, not narrower, than the exact
   posterior (see the coverage test in ``tests/test_forecast.py``).
3. **Posterior predictive, conditioned on the figures** (:func:`conditioned_predictive`):
   ``draws`` parameter sets drawn from the weighted posterior; for each, fresh seeds (never one
   used in the fit) are tried until a run passes through the fitted figures as closely as the
   fit's own accepted runs did (:func:`fit_tolerance`; a draw that finds none in ``MAX_TRIES`` takes the
   run its particle was accepted with, whose seed the fit keeps), and that run is continued up to
   ``--until``; per calendar month and output the median and the 5 % and 95 % quantiles:
   ``forecast.csv`` (``date,output,median,lo90,hi90``). So the band holds parameter
   uncertainty and the model's own chance *after* the last fitted figure, not the chance the
   figures have already ruled out: at a fitted figure the band is about the fit's tolerance
   wide, and a check-only or held-out figure is predicted from where the path stood.

4. **Replicate check** (``--replicate-check``, optional): the same parameter draws run from the start
   with fresh seeds, free to miss the figures; every observed figure is checked against their band
   (``replicate_*`` columns in ``forecast.json``'s observed rows, ``replicate.csv``, the hatched band
   in ``forecast.png``). A path through the figures holds them by construction, so whether the model
   can produce the figures at all is this check's question, not the forecast's (``--band fresh``
   makes the fresh paths the forecast itself).

Written whole or not at all (:mod:`sim.outdir`): ``forecast.csv``, ``forecast.png`` (band, median,
observed points), ``posterior.csv`` (the posterior population with weights), ``forecast.json`` (posterior
summary, epsilons, simulations, the fit to every observed point), ``manifest.json``, ``abc.db``
(and ``replicate.csv`` with the replicate check).
Observations after ``fit_until`` are kept out of the fit and only checked against the band
(the honesty check of a forecast: predict later figures from earlier ones).
The command keeps the ABC-SMC history beside ``--out`` while it fits
(:func:`sim.validation.forecast_command.checkpoint_path`), so an interrupted forecast resumes.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.dates import date_of, month_index
from sim.explore.calibrate import effective_sample_size, rmse_distance
from sim.results import share_or_zero
from sim.validation.observed import ForecastError

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called as the fit and the predictive runs advance."""


_RUNS: Any = None
"""Shared counter of fit simulations (a ``multiprocessing.Value``; the ABC sampler's forked workers inherit it)."""


# --------------------------------------------------------------------------- simulator


def stabilise(values: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The scale on which ABC compares figures: ``sign(y) * sqrt(|y| / scale)`` [-].

    Counts (sites, places, people) vary with a spread that grows like the square root of
    their size (Poisson: variance = mean), so on the square-root scale every figure has about
    the same noise and a small early figure (2 funds in 2010) weighs as much, relative to its
    own noise, as a large later one (64 in 2015); on the linear scale divided by the largest
    figure, a miss of 2 against 9 would count no more than 6 against 64. Dividing by
    ``scale`` (the largest observed value of the output) makes outputs of different units
    comparable; the sign keeps the transform monotone for outputs that can be negative.
    """
    v = np.asarray(values, float)
    return np.sign(v) * np.sqrt(np.abs(v) / np.asarray(scales, float))


@dataclass(frozen=True)
class CaseSimulator:
    """One run of the scenario with ``theta`` set; picklable, so it runs in worker processes.

    ``__call__`` returns the scaled values at the observed points (for ABC);
    :meth:`trajectory` the outputs at the end of every calendar month up to ``steps``.
    """

    base: dict[str, Any]
    outputs: tuple[str, ...]
    """Output of each observed point."""
    months: tuple[float, ...]
    """Model month of each observed point [months]."""
    scales: tuple[float, ...]
    """Divisor of each observed point (largest observed value of its output) [output units]."""
    int_fields: tuple[str, ...] = ()
    """Fitted fields that are integers (rounded before they are set)."""

    def _run(self, theta: dict[str, float], seed: int, months: float) -> pd.DataFrame:
        from sim.api import run
        from sim.scenario import apply_overrides, scenario_from_dict

        values = {k: (int(round(v)) if k in self.int_fields else float(v)) for k, v in theta.items()}
        sc = scenario_from_dict(apply_overrides(self.base, values), "<forecast>")
        return run(sc, seed=int(seed), steps=max(1, math.ceil(months / sc.run.dt - 1e-9))).model

    def __call__(self, theta: dict[str, float], seed: int) -> np.ndarray:
        """Simulated values at the observed points on the fit's scale (:func:`stabilise`)."""
        model = self._run(theta, seed, max(self.months))
        if _RUNS is not None:
            with _RUNS.get_lock():
                _RUNS.value += 1
        t = model["month"].to_numpy(float)
        sim = [np.interp(m, t, _column(model, o)) for o, m in zip(self.outputs, self.months, strict=True)]
        return stabilise(np.asarray(sim), np.asarray(self.scales))

    def trajectory(self, theta: dict[str, float], seed: int, months: float) -> np.ndarray:
        """Each distinct output at the end of months 1..``months``: array (outputs, months)."""
        model = self._run(theta, seed, months)
        t = model["month"].to_numpy(float)
        grid = np.arange(1, int(months) + 1, dtype=float)
        return np.vstack([np.interp(grid, t, _column(model, o)) for o in dict.fromkeys(self.outputs)])


def _column(model: pd.DataFrame, output: str) -> np.ndarray:
    """An output's values per step; NaN (a share of nothing: no running site, no member finished yet) counts as 0."""
    return share_or_zero(model[output].to_numpy(float))


@dataclass(frozen=True)
class _Trajectory:
    sim: CaseSimulator
    months: float

    def __call__(self, job: tuple[dict[str, float], int]) -> np.ndarray:
        return self.sim.trajectory(job[0], job[1], self.months)


# --------------------------------------------------------------------------- forecast


@dataclass
class Forecast:
    """A finished forecast: band, posterior, fit diagnostics (see :func:`forecast`)."""

    band: pd.DataFrame
    """``date,output,median,lo90,hi90`` per calendar month from ``run.start`` to ``until``."""
    posterior: pd.DataFrame
    """The last ABC population: one column per parameter and ``weight``."""
    observed: pd.DataFrame
    """The observed figures with ``month``, ``check_only`` (the CSV's ``fit = no``), ``fitted`` (used in the fit),
    ``median``, ``lo90``, ``hi90``, ``covered``."""
    summary: dict[str, Any]
    replicate: pd.DataFrame | None = None
    """With ``replicate_check``: the band of fresh paths from the start (``date,output,median,lo90,hi90``), the
    replicate check the observed figures' ``replicate_*`` columns come from; else None."""


BAND_FIELDS: tuple[str, ...] = ("median", "lo90", "hi90", "covered")
"""A figure's band in forecast.json's ``observed`` rows (the replicate check's carry the prefix ``replicate_``)."""


def replicate_band(row: dict[str, Any]) -> dict[str, Any]:
    """The replicate check of one figure of a stored forecast (a row of forecast.json's ``observed``).

    ``median``, ``lo90``, ``hi90`` [units of the output] and ``covered`` of fresh paths from the
    start (``sim forecast --replicate-check``): the band a new run of the scenario, which starts
    from the start too, is judged by. :class:`ForecastError` for a forecast written without the check.
    """
    if "replicate_lo90" not in row:
        raise ForecastError(f"figure {row.get('date')} {row.get('output')}: the forecast was written without "
                            "--replicate-check; rerun it with the check")
    return {k: row[f"replicate_{k}"] for k in BAND_FIELDS}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (pyabc's and the pool's workers) [s]."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


LOW_ESS_SHARE = 0.2
"""Below this share of the population, ``sim forecast`` warns that the posterior rests on few particles
(and ``--min-ess`` / ``calibration.min_ess`` can keep the last population above a share instead)."""


def _quantiles(post: pd.DataFrame) -> dict[str, dict[str, float]]:
    w = post["weight"].to_numpy(float)
    w = w / w.sum()
    out = {}
    for c in post.columns.drop("weight"):
        x = post[c].to_numpy(float)
        order = np.argsort(x)
        cw = np.cumsum(w[order])
        q = {f"q{int(p * 100):02d}": float(x[order][min(len(x) - 1, np.searchsorted(cw, p))]) for p in (0.05, 0.5, 0.95)}
        mean = float(np.sum(w * x))
        out[c] = {"mean": mean, "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))), **q}
    return out


BANDS: tuple[str, ...] = ("conditioned", "fresh")
"""Kinds of predictive band (``--band``): see :func:`forecast`."""


def fresh_predictive(
    pred_sim: CaseSimulator,
    post: pd.DataFrame,
    *,
    draws: int,
    horizon: float,
    seed: int,
    workers: int = 1,
    progress: Progress | None = None,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Posterior-predictive paths from the start: ``draws`` parameter sets from the weighted posterior, fresh seeds.

    The replicate check (could the model, with the parameters the figures allow, produce them?):
    unlike :func:`conditioned_predictive` a path need not pass through the figures, so the band
    at a fitted figure is a test the fit can fail, and it is wider after them.
    """
    rng = np.random.default_rng([seed, 20261201])
    thetas = _posterior_draws(post, draws, rng)
    seeds = rng.integers(2**31, 2**62, size=draws)  # ABC's seeds are below 2**31: never reused
    jobs = [(t, int(s)) for t, s in zip(thetas, seeds, strict=True)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            return _paths(pred_sim, horizon, jobs, ex, workers, progress), {"conditioned": False}
    return _paths(pred_sim, horizon, jobs, None, workers, progress), {"conditioned": False}


def _posterior_rows(post: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` row numbers of the weighted posterior, drawn with replacement."""
    w = post["weight"].to_numpy(float)
    return rng.choice(len(post), size=draws, p=w / w.sum())


def _theta(post: pd.DataFrame, i: int) -> dict[str, float]:
    return {n: float(post.iloc[i][n]) for n in post.columns if n != "weight"}


def _posterior_draws(post: pd.DataFrame, draws: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """``draws`` parameter sets drawn from the weighted posterior (with replacement)."""
    return [_theta(post, i) for i in _posterior_rows(post, draws, rng)]


def _paths(pred_sim: CaseSimulator, horizon: float, jobs: list[tuple[dict[str, float], int]],
           ex: ProcessPoolExecutor | None, workers: int, progress: Progress | None) -> list[np.ndarray]:
    """The trajectory of every ``(theta, seed)`` job up to ``horizon``, in job order (in ``ex`` if given)."""
    fn = _Trajectory(pred_sim, horizon)
    trajs: list[np.ndarray] = []
    for tr in (ex.map(fn, jobs, chunksize=max(1, len(jobs) // (4 * workers))) if ex else map(fn, jobs)):
        trajs.append(tr)
        if progress and len(trajs) % 10 == 0:
            progress("posterior predictive runs", len(trajs), len(jobs))
    return trajs


MAX_TRIES = 40
"""Fresh paths tried per predictive draw before it continues its particle's own fit run (:func:`conditioned_predictive`)."""

CLOSEST_SHARE = 0.05
"""Above this share of draws taking their closest path (only when the fit kept no seeds), ``sim forecast`` warns that
the band is looser than the fit."""


def fit_tolerance(db: str | Path, history_id: int, target: np.ndarray, t: int | None = None) -> float:
    """The largest RMSE (on the fit's scale, :func:`stabilise`) of ABC population ``t``'s runs to ``target`` (default: the last).

    Every particle of the posterior was accepted with a simulation at most this far from the
    fitted figures, whatever the ABC distance (plain or adaptive), so a predictive path held to
    it reproduces the figures as closely as the fit's own accepted runs did [-].
    """
    import pyabc

    hist = pyabc.History(f"sqlite:///{db}", _id=history_id)
    _, stats = hist.get_weighted_sum_stats(t=hist.max_t if t is None else t)
    y = {"y": np.asarray(target, float)}
    d = [e for e in (rmse_distance(x, y) for x in stats) if math.isfinite(e)]
    if not d:
        raise ForecastError("the last ABC population holds no finite simulation of the fitted figures")
    return max(d)


def conditioned_predictive(
    fit_sim: CaseSimulator,
    pred_sim: CaseSimulator,
    post: pd.DataFrame,
    target: np.ndarray,
    tol: float,
    *,
    draws: int,
    horizon: float,
    seed: int,
    workers: int = 1,
    progress: Progress | None = None,
    recorded: list[int | None] | None = None,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Posterior-predictive paths that went through the fitted figures: ``(trajectories, summary)``.

    A forecast of what comes next is conditioned on what happened: not only on the parameters
    the figures allow (the posterior) but on the path having passed through them. Draw ``i``
    takes a parameter set from the weighted posterior, then tries fresh seeds (its own stream,
    never a seed of the fit) until a run's fitted figures lie within ``tol`` (RMSE on the fit's
    scale, :func:`fit_tolerance`) of ``target``; that run, continued to ``horizon`` with the same
    seed (a run's first months do not depend on how long it runs), is the draw's path. So each
    draw is a sample of ABC's joint posterior of parameters and path, whose continuation is the
    forecast; fresh runs from the posterior's parameters alone would forget where the early
    figures put the path and give a band as wide as the model's chance over the whole span
    (wider than the truth needs: a branching spread's early luck compounds).

    A draw whose parameters rarely pass (an unlikely path the fit happened to accept) finds
    none in ``MAX_TRIES`` fresh seeds; it then continues its particle's own accepted fit run,
    ``recorded[row]`` (:func:`sim.explore.calibrate.accepted_seeds`): that run is itself a draw of
    the path given the parameters and passing, the very distribution the fresh tries sample, so
    the band stays exact (counted in ``summary["recorded_taken"]``). Only without a recorded seed
    does a draw take its closest try (``summary["closest_taken"]``, a band looser than the fit).
    Rounds run try ``r`` of every draw still open, so the result does not depend on ``workers``.
    """
    rows = _posterior_rows(post, draws, np.random.default_rng([seed, 20261201]))
    thetas = [_theta(post, int(i)) for i in rows]
    seeds = np.random.default_rng([seed, 20261202]).integers(2**31, 2**62, size=(draws, MAX_TRIES))  # ABC: < 2**31
    y = np.asarray(target, float)  # the fit's own distance (sim.explore.calibrate): RMSE, inf if not finite
    chosen: dict[int, int] = {}
    best: dict[int, tuple[float, int]] = {}
    tried = 0
    ex = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        for r in range(MAX_TRIES):
            open_ = [i for i in range(draws) if i not in chosen]
            if not open_:
                break
            jobs = [(thetas[i], int(seeds[i, r])) for i in open_]
            stats = (ex.map(_Screen(fit_sim), jobs, chunksize=max(1, len(jobs) // (4 * workers))) if ex
                     else map(_Screen(fit_sim), jobs))
            for i, x in zip(open_, stats, strict=True):
                tried += 1
                d = rmse_distance({"y": x}, {"y": y})
                if d <= tol:
                    chosen[i] = r
                elif d < best.get(i, (math.inf, 0))[0]:
                    best[i] = (d, r)
            if progress:
                progress("predictive paths through the fitted figures", len(chosen), draws)
        seed_of = {i: int(seeds[i, r]) for i, r in chosen.items()}
        own = [i for i in range(draws) if i not in chosen and recorded and recorded[rows[i]] is not None]
        for i in own:
            seed_of[i] = int(recorded[rows[i]])  # type: ignore[index, arg-type]
        closest = [i for i in range(draws) if i not in seed_of]
        for i in closest:
            seed_of[i] = int(seeds[i, best.get(i, (math.inf, 0))[1]])
        trajs = _paths(pred_sim, horizon, [(thetas[i], seed_of[i]) for i in range(draws)], ex, workers, progress)
    finally:
        if ex is not None:
            ex.shutdown()
    summary = {"conditioned": True, "tolerance": round(tol, 6), "screening_runs": tried,
               "acceptance": round((draws - len(own) - len(closest)) / tried, 3) if tried else None,
               "recorded_taken": len(own), "closest_taken": len(closest), "max_tries": MAX_TRIES}
    return trajs, summary


@dataclass(frozen=True)
class _Screen:
    sim: CaseSimulator

    def __call__(self, job: tuple[dict[str, float], int]) -> np.ndarray:
        try:
            return self.sim(job[0], job[1])
        except Exception:  # noqa: BLE001 - a run that fails cannot pass through the figures
            return np.full(len(self.sim.months), np.inf)


def forecast(
    base: dict[str, Any],
    observed: pd.DataFrame,
    bounds: dict[str, tuple[float, float]],
    until: str,
    db: str | Path,
    *,
    start: str,
    population: int = 60,
    generations: int = 4,
    draws: int = 100,
    workers: int = 1,
    seed: int = 0,
    fit_until: str | None = None,
    int_fields: tuple[str, ...] = (),
    progress: Progress | None = None,
    distance: str = "rmse",
    band: str = "conditioned",
    replicate_check: bool = False,
    min_ess: float = 0.0,
) -> Forecast:
    """Fit ``bounds`` to ``observed`` (from :func:`sim.validation.observed.load_observed`) by ABC-SMC and forecast to ``until``.

    ``base``: the scenario as a dict (``extends`` resolved); ``start``: its ``run.start``.
    ``population``/``generations``: ABC-SMC budget (about ``population * (1 + 2 * (generations - 1))``
    runs up to the last observed month); ``draws``: posterior-predictive runs up to ``until``.
    ``fit_until``: fit only figures dated up to this month (the rest are checked, not fitted);
    figures with ``check_only`` are never fitted.
    ``workers``: processes. ``seed``: root seed of the fit and of the predictive seeds.
    ``distance``: ``"rmse"`` or ``"adaptive"`` (:func:`sim.explore.calibrate.abc_smc`); the adaptive
    distance refits its weights each generation, so its generations run in one call (resuming an
    interrupted fit continues it, refitting the weights from the last population).
    ``band``: ``"conditioned"`` (each predictive path passes through the fitted figures,
    :func:`conditioned_predictive`: the forecast of what comes next) or ``"fresh"`` (parameters from
    the posterior, any path: the replicate check of whether the model can produce the figures at
    all, :func:`fresh_predictive`).
    ``min_ess``: in [0, 1]; the posterior is the last population whose effective sample size is at
    least this share of ``population`` (:func:`sim.explore.calibrate.last_population_with_ess`; 0:
    the last population). Later generations shrink epsilon, but a posterior collapsed onto a few
    particles gives a band that is those few parameter sets' chance (overconfident); the summary's
    ``effective_sample_sizes`` lists every population's, ``populations`` the ones up to the posterior.
    ``replicate_check``: also check every observed figure against fresh paths from the start (the
    posterior predictive check, a test a fitted figure can fail; a conditioned band holds its fitted
    figures by construction): columns ``replicate_median``, ``replicate_lo90``, ``replicate_hi90``,
    ``replicate_covered`` of ``observed`` and :attr:`Forecast.replicate` (with ``band = "fresh"`` the
    band's own paths, no extra runs).
    """
    if band not in BANDS:
        raise ForecastError(f"--band {band!r}: allowed {' or '.join(BANDS)}")
    if not 0.0 <= min_ess <= 1.0:
        raise ForecastError(f"--min-ess {min_ess!r}: allowed 0 to 1 (a share of the population size)")
    from sim.explore.calibrate import abc_smc, at_population, last_population_with_ess, population_ess

    t0 = time.time()
    cpu0 = _cpu_seconds()
    obs = observed.copy()
    if "check_only" not in obs.columns:
        obs["check_only"] = False
    in_time = [True] * len(obs) if fit_until is None else [month_index(d, fit_until) <= 0 for d in obs["date"]]
    obs["fitted"] = np.asarray(in_time, bool) & ~obs["check_only"].to_numpy(bool)
    fit = obs[obs["fitted"]]
    if fit.empty:
        raise ForecastError(f"--fit-until {fit_until}: no figure to fit is dated at or before it")
    scales = {o: max(1.0, float(fit.loc[fit["output"] == o, "value"].abs().max())) for o in fit["output"].unique()}
    sim = CaseSimulator(base, tuple(fit["output"]), tuple(fit["month"].astype(float)),
                        tuple(scales[o] for o in fit["output"]), tuple(int_fields))
    target = stabilise(np.asarray(fit["value"], float), np.asarray(sim.scales))
    res = None
    global _RUNS
    _RUNS = multiprocessing.Value("l", 0)
    done = threading.Event()
    expected = int(population * (1.5 + 2 * (generations - 1)))  # calibration sample, then about 2 runs per particle

    def poll() -> None:
        while not done.wait(1.0):
            if progress:
                progress("ABC-SMC simulations (estimated total)", int(_RUNS.value), max(expected, int(_RUNS.value)))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        steps = range(1, generations + 1) if distance == "rmse" else (generations,)
        for g in steps:  # rmse: one population per call (abc_smc resumes its database)
            res = abc_smc(sim, bounds, target, db, population_size=population, generations=g, workers=workers,
                          seed=seed + g, distance=distance)
            if progress:
                progress(f"ABC-SMC population {g}/{generations}, epsilon {res.epsilons[-1]:.3g}", g, generations)
    finally:
        done.set()
        poller.join()
    fit_runs = int(_RUNS.value)
    _RUNS = None
    assert res is not None
    ess = population_ess(res) if min_ess > 0 else []
    chosen_t = last_population_with_ess(ess, population, min_ess) if ess else res.t
    if chosen_t != res.t:
        res = at_population(res, chosen_t)
        if progress:
            progress(f"posterior: population {chosen_t + 1} of {res.populations} (the last with effective sample size "
                     f"at least {min_ess:g} x {population})", chosen_t + 1, res.populations)
    post = res.posterior
    horizon = float(month_index(until, start) + 1)
    outputs = list(dict.fromkeys(obs["output"]))
    pred_sim = CaseSimulator(base, tuple(outputs), (horizon,), (1.0,), tuple(int_fields))
    if band == "conditioned":
        tol = fit_tolerance(res.db, res.history_id, target, res.t)
        from sim.explore.calibrate import accepted_seeds

        trajs, pred = conditioned_predictive(sim, pred_sim, post, target, tol, draws=draws, horizon=horizon,
                                             seed=seed, workers=workers, progress=progress,
                                             recorded=accepted_seeds(res.db, res.history_id, post, res.t))
        fresh = (fresh_predictive(pred_sim, post, draws=draws, horizon=horizon, seed=seed, workers=workers,
                                  progress=progress)[0] if replicate_check else None)
    else:
        trajs, pred = fresh_predictive(pred_sim, post, draws=draws, horizon=horizon, seed=seed, workers=workers,
                                       progress=progress)
        fresh = trajs if replicate_check else None
    dates = [date_of(m - 1, start) for m in range(1, int(horizon) + 1)]
    table = _band_at_figures(trajs, outputs, dates, obs, "")
    replicate = None if fresh is None else _band_at_figures(fresh, outputs, dates, obs, "replicate_")
    summary = {
        "parameters": _quantiles(post),
        "bounds": {k: list(v) for k, v in bounds.items()},
        "populations": res.t + 1,
        "population_size": population,
        "epsilons": res.epsilons,
        "effective_sample_size": round(effective_sample_size(post["weight"]), 2),
        **({} if min_ess == 0 else {
            "min_ess": min_ess, "populations_run": res.populations,
            "effective_sample_sizes": [round(e, 2) for e in ess]}),
        "distance": ("RMSE of sqrt(simulated / scale) - sqrt(observed / scale), scale = largest observed value of "
                     "the output" + ("" if distance == "rmse" else "; each figure weighted by 1 / MAD of its simulated "
                                     "values in the last population (pyabc AdaptivePNormDistance, p = 2)")),
        "draws": draws,
        "predictive": pred,
        "replicate_check": None if replicate is None else {
            "draws": draws, "figures": len(obs), "covered": int(obs["replicate_covered"].sum())},
        "fit_simulations": fit_runs,
        "seed": seed,
        "start": start,
        "until": until,
        "fit_until": fit_until,
        "observed": obs.drop(columns=["month"]).to_dict(orient="records"),
        "seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(_cpu_seconds() - cpu0, 1),
    }
    return Forecast(table, post, obs, summary, replicate)


def _band_at_figures(trajs: list[np.ndarray], outputs: list[str], dates: list[str], obs: pd.DataFrame,
                     prefix: str) -> pd.DataFrame:
    """The band of ``trajs`` (draws of outputs x months) per month and output.

    Sets ``obs``' ``{prefix}median``, ``{prefix}lo90``, ``{prefix}hi90`` and ``{prefix}covered`` (the
    figure inside the band) at every figure.
    """
    arr = np.stack(trajs)  # draws x outputs x months
    lo, med, hi = np.quantile(arr, [0.05, 0.5, 0.95], axis=0)
    table = pd.DataFrame([{"date": d, "output": o, "median": med[j, k], "lo90": lo[j, k], "hi90": hi[j, k]}
                          for j, o in enumerate(outputs) for k, d in enumerate(dates)])
    k_of = {d: k for k, d in enumerate(dates)}
    for col, a in (("median", med), ("lo90", lo), ("hi90", hi)):
        obs[prefix + col] = [a[outputs.index(o), k_of[d]] for o, d in zip(obs["output"], obs["date"], strict=True)]
    obs[prefix + "covered"] = (obs["value"] >= obs[prefix + "lo90"]) & (obs["value"] <= obs[prefix + "hi90"])
    return table


def plot_forecast(fc: Forecast, path: Path, title: str, markers: list[Any] | None = None) -> None:
    """One panel per output: 90 % band, median, observed points (filled: fitted; open: held out or checked only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(fc.band["output"]))
    fig, axes = plt.subplots(len(outputs), 1, figsize=(7.5, 3.2 * len(outputs)), squeeze=False)
    for ax, o in zip(axes[:, 0], outputs, strict=True):
        b = fc.band[fc.band["output"] == o]
        x = pd.PeriodIndex(b["date"], freq="M").to_timestamp(how="end")
        if fc.replicate is not None and fc.summary.get("predictive", {}).get("conditioned"):
            r = fc.replicate[fc.replicate["output"] == o]
            ax.fill_between(x, r["lo90"], r["hi90"], facecolor="none", edgecolor="tab:gray", hatch="///", lw=0,
                            alpha=0.6, label="90 % band, fresh paths (replicate check)")
        through = fc.summary.get("predictive", {}).get("conditioned")
        ax.fill_between(x, b["lo90"], b["hi90"], color="tab:blue", alpha=0.25,
                        label="90 % band, paths through the fitted figures" if through else "90 % band")
        ax.plot(x, b["median"], color="tab:blue", label="median")
        ob = fc.observed[fc.observed["output"] == o]
        ox = pd.PeriodIndex(ob["date"], freq="M").to_timestamp(how="end")
        fitted = ob["fitted"].to_numpy(bool)
        ax.scatter(ox[fitted], ob["value"][fitted], color="black", zorder=3, label="observed (fitted)")
        if (~fitted).any():
            ax.scatter(ox[~fitted], ob["value"][~fitted], facecolors="white", edgecolors="black", zorder=3,
                       label="observed (not fitted)")
        for mk in markers or []:
            if getattr(mk, "date", None):
                ax.axvline(pd.Period(mk.date, freq="M").to_timestamp(), color="tab:red", ls=":", lw=1)
                ax.annotate(mk.label, (pd.Period(mk.date, freq="M").to_timestamp(), ax.get_ylim()[1]),
                            fontsize=7, color="tab:red", rotation=90, va="top")
        ax.set_ylabel(o)
        ax.legend(fontsize=8, loc="best")
    axes[0, 0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def forecast_title(name: str) -> str:
    """The title ``sim forecast`` gives the plot of scenario ``name`` (also used to redraw a stored one)."""
    return f"{name}: posterior-predictive forecast (median, 90 % band)"


def write_forecast(fc: Forecast, folder: Path, title: str, manifest: dict[str, Any], markers: list[Any] | None = None) -> None:
    """Write ``forecast.csv``, ``forecast.png``, ``posterior.csv``, ``forecast.json``, ``manifest.json`` into ``folder``.

    With a replicate check (:attr:`Forecast.replicate`) also ``replicate.csv`` (its band, the same columns).
    """
    fc.band.to_csv(folder / "forecast.csv", index=False, float_format="%.6g")
    if fc.replicate is not None:
        fc.replicate.to_csv(folder / "replicate.csv", index=False, float_format="%.6g")
    fc.posterior.to_csv(folder / "posterior.csv", index=False)
    plot_forecast(fc, folder / "forecast.png", title, markers)
    (folder / "forecast.json").write_text(json.dumps(fc.summary, indent=2, default=str) + "\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def read_forecast(folder: str | Path) -> Forecast:
    """A forecast folder written by :func:`write_forecast` (``sim forecast --out``), read back.

    ``band``, ``posterior`` and ``replicate`` (None without ``replicate.csv``) from their CSVs,
    ``summary`` from ``forecast.json`` and ``observed`` from its ``observed`` rows (without
    ``month``). Writing it again gives the same CSV and JSON files; used to redraw a stored
    forecast's plot without refitting (``python -m sim.validation.cases --replot``).
    """
    folder = Path(folder)
    need = [folder / n for n in ("forecast.csv", "posterior.csv", "forecast.json")]
    missing = [p.name for p in need if not p.exists()]
    if missing:
        raise ForecastError(f"{folder}: not a stored forecast (missing {', '.join(missing)})")
    summary = json.loads((folder / "forecast.json").read_text(encoding="utf-8"))
    band = pd.read_csv(folder / "forecast.csv", dtype={"date": str, "output": str})
    rep = folder / "replicate.csv"
    replicate = pd.read_csv(rep, dtype={"date": str, "output": str}) if rep.exists() else None
    return Forecast(band, pd.read_csv(folder / "posterior.csv"), pd.DataFrame(summary["observed"]), summary, replicate)
