"""Calibration against an observed series: quick point fits (scipy) and ABC-SMC posteriors (pyabc).

Both fit dotted scenario parameters (for example ``organisations.p`` and
``organisations.q``) so that one model output, read at the observed months,
matches an observed series. The model is called only through :func:`sim.api.run`.

* :func:`point_fit` minimises the root-mean-square error averaged over a fixed set
  of seeds that every candidate shares (common random numbers), so the loss is a
  deterministic function of the parameters and candidates differ only by their
  parameters. Default optimiser: ``scipy.optimize.differential_evolution`` (robust
  to the step-like loss surface of a discrete model); ``"nelder-mead"`` for speed.
* :func:`abc_smc` draws a posterior with pyabc's ABC-SMC (uniform priors on the
  bounds, Euclidean distance of the series, adaptive epsilon). Its history lives in
  an SQLite database, so a fit can be inspected with pyabc's tools and resumed:
  calling it again on the same database continues the stored run up to
  ``generations`` populations. Every simulation draws a fresh seed (as ABC needs), derived
  from the root seed, the generation and the candidate's number, so a fit is reproducible
  whatever the number of worker processes (:mod:`sim.explore.abc_sampler`).

The target is a CSV with a ``month`` column and a value column (the output's name,
or ``value``), for example cumulative adopters per month of a diffusion study.
With ``share=True`` the model output is divided by its denominator (organisations
for ``orgs_*``/``sites_*``, places for ``places_*``, people for ``people_*``), so it
can be compared with an observed share of adopters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Bounds = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Target:
    """An observed series: ``values`` at ``months`` [months since the start of the run]."""

    months: np.ndarray
    values: np.ndarray


def load_target(path: str | Path, output: str, share: bool = False) -> Target:
    """Read a target CSV: a ``month`` column and a ``<output>`` (or ``value``) column.

    ``month``: months since the start of the run, a number >= 0, each once; the value: a finite
    number the output can take (:func:`sim.validation.observed.figure_value`; with ``share``, a
    share from 0 to 1). Rows whose value cell is empty are skipped (a file may hold several
    outputs with gaps). ValueError naming the file, row and field for a missing file or column,
    a row with more or fewer fields than the header, a cell that is not a number or out of range,
    a repeated month, or no figure at all.
    """
    from sim.validation.observed import check_fields, figure_value

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    check_fields(path, label="")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise ValueError(f"{path}: cannot be read as CSV ({err})") from None
    col = output if output in df.columns else "value"
    if "month" not in df.columns or col not in df.columns:
        raise ValueError(f"{path}: needs columns 'month' and '{output}' (or 'value'); has {list(df.columns)}")
    bounds = (0.0, 1.0) if share else None
    what = f"{output} as a share" if share else output
    months: list[float] = []
    values: list[float] = []
    seen: dict[float, int] = {}
    for i, (m_cell, v_cell) in enumerate(zip(df["month"], df[col], strict=True)):
        where = f"{path}: row {i + 2}"  # the header is line 1
        if not str(v_cell).strip():
            continue
        try:
            m = float(m_cell)
        except ValueError:
            m = math.nan
        if not (math.isfinite(m) and m >= 0):
            raise ValueError(f"{where}: field month {m_cell!r} is not a month of the run; allowed: a number 0 or more "
                             "[months since the start]")
        v = figure_value(where, col, v_cell, output, bounds, what)
        if m in seen:
            raise ValueError(f"{where}: field month {m_cell} repeats row {seen[m]}; one figure per month")
        seen[m] = i + 2
        months.append(m)
        values.append(v)
    if not months:
        raise ValueError(f"{path}: no figures in column '{col}' (needs at least one row with a value)")
    order = np.argsort(months, kind="stable")
    return Target(np.asarray(months, float)[order], np.asarray(values, float)[order])


@dataclass(frozen=True)
class ScenarioSimulator:
    """``simulator(theta, seed) -> series``: ``output`` of the scenario with ``theta`` set, at ``months``.

    Picklable (a dataclass, not a closure), so it runs in worker processes.
    """

    base: dict[str, Any]
    output: str
    months: tuple[float, ...]
    steps: int | None = None
    share: bool = False

    def __call__(self, theta: dict[str, float], seed: int) -> np.ndarray:
        """Run once and return the output interpolated at ``months``."""
        from sim.api import run
        from sim.scenario import apply_overrides, scenario_from_dict

        sc = scenario_from_dict(apply_overrides(self.base, {k: float(v) for k, v in theta.items()}), "<calibrate>")
        steps = self.steps if self.steps is not None else max(1, math.ceil(max(self.months) / sc.run.dt))
        res = run(sc, seed=seed, steps=steps)
        y = res.model[self.output].to_numpy(float)
        if self.share:
            denom = {"orgs": res.n_organisations, "sites": res.n_organisations, "places": res.n_places,
                     "people": res.n_people}.get(self.output.split("_")[0])
            if not denom:
                raise ValueError(f"share=True: no denominator known for {self.output!r}")
            y = y / denom
        return np.interp(np.asarray(self.months), res.model["month"].to_numpy(float), y)


Simulator = Callable[[dict[str, float], int], np.ndarray]


@dataclass(frozen=True)
class _Loss:
    """Mean over shared seeds of the RMSE between simulation and target (inf if a run fails)."""

    simulator: Simulator
    names: tuple[str, ...]
    target: np.ndarray
    seeds: tuple[int, ...]

    def __call__(self, x: np.ndarray) -> float:
        theta = dict(zip(self.names, map(float, x), strict=True))
        try:
            errs = [float(np.sqrt(np.mean((self.simulator(theta, s) - self.target) ** 2))) for s in self.seeds]
        except Exception:  # noqa: BLE001 - an invalid candidate is a bad candidate
            return math.inf
        v = float(np.mean(errs))
        return v if math.isfinite(v) else math.inf


@dataclass
class PointFit:
    """Best parameters, their loss (mean RMSE over ``seeds``), evaluations used and the optimiser's message."""

    theta: dict[str, float]
    loss: float
    evaluations: int
    seeds: list[int]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data."""
        return {"theta": self.theta, "loss": self.loss, "evaluations": self.evaluations, "seeds": self.seeds,
                "message": self.message}


def point_fit(
    simulator: Simulator,
    bounds: Bounds,
    target: Target | np.ndarray,
    *,
    seeds: Sequence[int] | int = 5,
    root_seed: int = 0,
    method: str = "differential_evolution",
    maxiter: int = 20,
    popsize: int = 8,
    map_fn: Callable[..., Any] | None = None,
) -> PointFit:
    """Fit ``bounds``' parameters by minimising the shared-seed loss.

    ``seeds``: the seeds every candidate runs with, or how many to spawn from
    ``root_seed``. ``maxiter``/``popsize``: optimiser budget (differential evolution
    evaluates about ``popsize * len(bounds) * (maxiter + 1) * len(seeds)`` runs).
    ``map_fn``: a map-like callable (e.g. ``executor.map``) to evaluate candidates in parallel.
    """
    from scipy import optimize

    from sim.explore.design import replicate_seeds

    seed_list = list(replicate_seeds(root_seed, seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    y = target.values if isinstance(target, Target) else np.asarray(target, float)
    names = tuple(bounds)
    loss = _Loss(simulator, names, y, tuple(seed_list))
    b = [tuple(map(float, bounds[n])) for n in names]
    if method == "differential_evolution":
        res = optimize.differential_evolution(
            loss, b, maxiter=maxiter, popsize=popsize, seed=root_seed % 2**32, polish=False, tol=1e-6,
            init="sobol" if popsize * len(b) >= 4 else "latinhypercube",
            workers=map_fn if map_fn is not None else 1, updating="deferred" if map_fn is not None else "immediate",
        )
    elif method == "nelder-mead":
        x0 = np.array([(lo + hi) / 2 for lo, hi in b])
        res = optimize.minimize(loss, x0, method="Nelder-Mead", bounds=b, options={"maxfev": maxiter * 10})
    else:
        raise ValueError(f"unknown method {method!r}; use 'differential_evolution' or 'nelder-mead'")
    theta = dict(zip(names, map(float, res.x), strict=True))
    return PointFit(theta, float(res.fun), int(res.nfev), seed_list, str(res.message))


# --------------------------------------------------------------------------- ABC-SMC


def _key(name: str) -> str:
    return name.replace(".", "__")


@dataclass(frozen=True)
class _AbcModel:
    """pyabc model: parameters (keys with ``__`` for dots) -> {"y": series, "seed": [seed]}, a fresh seed per call.

    The seed is kept with the summary (never compared: the distances read ``"y"`` only, the
    adaptive one the observed summary's keys), so every accepted particle's run can be rerun,
    and continued, exactly (:func:`accepted_seeds`).
    """

    simulator: Simulator
    names: tuple[str, ...]

    def __call__(self, par: dict[str, float]) -> dict[str, np.ndarray]:
        seed = int(np.random.randint(0, 2**31 - 1))  # OrderedSampler seeds numpy per candidate
        try:
            y = self.simulator({n: float(par[_key(n)]) for n in self.names}, seed)
        except Exception:  # noqa: BLE001 - an invalid proposal gets an impossible series
            y = np.full(1, np.inf)
        return {"y": y, "seed": np.array([seed], dtype=np.int64)}


def accepted_seeds(db: str | Path, history_id: int, posterior: pd.DataFrame, t: int | None = None) -> list[int | None]:
    """The seed of the run with which each row of ``posterior`` (:attr:`AbcResult.posterior`) was accepted.

    A particle of population ``t`` (default: the last) is a parameter set *and* a run that came
    within that population's epsilon of the target; rerunning the simulator with both gives that
    run again (common random numbers: a longer run shares its first months). ``None`` for a row
    whose particle has no recorded seed (a history written before seeds were kept).
    """
    import pyabc

    names = [c for c in posterior.columns if c != "weight"]
    hist = pyabc.History(f"sqlite:///{Path(db).resolve()}", _id=history_id)
    by_theta: dict[tuple[float, ...], int] = {}
    for particle in hist.get_population(hist.max_t if t is None else t).particles:
        seed = particle.sum_stat.get("seed")
        if seed is not None:
            by_theta[tuple(float(particle.parameter[_key(n)]) for n in names)] = int(np.asarray(seed).ravel()[0])
    return [by_theta.get(tuple(float(v) for v in row)) for row in posterior[names].itertuples(index=False)]


def rmse_distance(x: dict[str, np.ndarray], x0: dict[str, np.ndarray]) -> float:
    """Root-mean-square difference of two pyabc summaries ``{"y": array}`` [units of y, >= 0].

    ``inf`` if the shapes differ or the simulated summary ``x`` is not finite (a failed run is
    never accepted). The plain distance of :func:`abc_smc`.
    """
    a, b = np.asarray(x["y"], float), np.asarray(x0["y"], float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return math.inf
    return float(np.sqrt(np.mean((a - b) ** 2)))


def effective_sample_size(weights: np.ndarray | pd.Series) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of weighted particles [particles], 1 to their number.

    A posterior whose weight sits on a few particles (ABC-SMC in many dimensions with few
    particles) has a small one; its quantiles, and a band drawn from it, then rest on those few.
    """
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if np.sum(w**2) > 0 else 0.0


@dataclass
class AbcResult:
    """An ABC-SMC run: its database, history id, populations done and the posterior (by default the last population).

    ``t``: the population ``posterior`` and ``epsilons`` end at (0-based; ``populations - 1`` unless
    chosen with :func:`at_population`).
    """

    db: Path
    history_id: int
    populations: int
    posterior: pd.DataFrame = field(repr=False)
    epsilons: list[float] = field(default_factory=list)
    t: int = -1

    def __post_init__(self) -> None:
        if self.t < 0:
            self.t = self.populations - 1

    def summary(self) -> pd.DataFrame:
        """Weighted posterior mean, sd and 95 % interval of every parameter."""
        w = self.posterior["weight"].to_numpy(float)
        w = w / w.sum()
        rows = []
        for c in self.posterior.columns.drop("weight"):
            x = self.posterior[c].to_numpy(float)
            order = np.argsort(x)
            cw = np.cumsum(w[order])
            mean = float(np.sum(w * x))
            rows.append({"parameter": c, "mean": mean, "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                         "q025": float(x[order][np.searchsorted(cw, 0.025)]),
                         "q975": float(x[order][min(len(x) - 1, np.searchsorted(cw, 0.975))])})
        return pd.DataFrame(rows)


def abc_smc(
    simulator: Simulator,
    bounds: Bounds,
    target: Target | np.ndarray,
    db: str | Path,
    *,
    population_size: int = 100,
    generations: int = 6,
    min_epsilon: float = 0.0,
    workers: int = 1,
    seed: int = 0,
    distance: str = "rmse",
) -> AbcResult:
    """Run (or resume) ABC-SMC with uniform priors on ``bounds``; the history is kept in SQLite ``db``.

    ``distance``: ``"rmse"`` (root-mean-square difference of the series, every point weighted
    alike) or ``"adaptive"`` (pyabc's ``AdaptivePNormDistance``, p = 2: each point divided by
    the median absolute deviation of its simulated values in the last population, refitted every
    generation, Prangle 2017; a point the model cannot pin down, being noisy, weighs less, and a
    point whose simulations never vary is ignored). Epsilons of the two are on different scales.

    If ``db`` already holds a run, it is loaded and continued until it has
    ``generations`` populations (nothing is run if it already has). ``min_epsilon``:
    stop once the acceptance threshold (RMSE) falls to it. ``workers``: processes that simulate
    candidates (1: this process). Sampling is :class:`sim.explore.abc_sampler.OrderedSampler`:
    candidate ``k`` of generation ``t`` simulates with a seed derived from ``(seed, t, k)`` alone and
    particles are accepted in candidate order, so the same ``seed`` gives the same history and
    posterior, to the byte, whatever ``workers``; a resumed run continues with the ``seed`` of the
    call that resumes it (the stored generations are not redrawn). Requires the optional ``pyabc`` package.
    """
    try:
        import pyabc
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise RuntimeError("ABC-SMC needs pyabc: pip install 'sim[explore]'") from err
    import logging

    from sim.explore.abc_sampler import OrderedSampler

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    np.random.seed(seed % 2**32)
    db = Path(db).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    names = tuple(bounds)
    prior = pyabc.Distribution(**{_key(n): pyabc.RV("uniform", float(lo), float(hi) - float(lo))
                                  for n, (lo, hi) in bounds.items()})
    if distance not in ("rmse", "adaptive"):
        raise ValueError(f"distance {distance!r}: allowed 'rmse' or 'adaptive'")
    dist = (pyabc.distance.AdaptivePNormDistance(p=2, scale_function=pyabc.distance.mad)
            if distance == "adaptive" else rmse_distance)
    sampler = OrderedSampler(workers=max(1, workers), seed=seed)
    abc = pyabc.ABCSMC(_AbcModel(simulator, names), prior, dist, population_size=population_size,
                       sampler=sampler)
    y = target.values if isinstance(target, Target) else np.asarray(target, float)
    url = f"sqlite:///{db}"
    done, rate = 0, None
    if db.exists():
        hist = pyabc.History(url)
        hid = hist.id if hist.id is not None else 1
        done = (hist.max_t + 1) if hist.max_t is not None and hist.max_t >= 0 else 0
        if done:  # the last acceptance rate sizes the first batch of the next generation (speed only)
            pops = hist.get_all_populations()
            samples = float(pops.loc[pops["t"] == hist.max_t, "samples"].iloc[0])
            rate = float(hist.get_nr_particles_per_population()[hist.max_t]) / samples if samples else None
    sampler.acceptance_rate = rate if rate and 0 < rate <= 1 else None
    if done:
        abc.load(url, hid, observed_sum_stat={"y": y})
    else:
        abc.new(url, {"y": y}, meta_info={"parameters": list(names)})
    hist = abc.history
    if generations > done:
        hist = abc.run(max_nr_populations=generations - done, minimum_epsilon=min_epsilon)
    pops = hist.get_all_populations()
    eps = [float(e) for e in pops.loc[pops["t"] >= 0, "epsilon"]]
    return AbcResult(db, int(hist.id), int(hist.max_t) + 1, _posterior_at(hist, names, int(hist.max_t)), eps)


def _posterior_at(hist: Any, names: Sequence[str], t: int) -> pd.DataFrame:
    """Population ``t`` of pyabc history ``hist`` as a table: one column per parameter and ``weight``."""
    df, w = hist.get_distribution(m=0, t=t)
    post = df.rename(columns={_key(n): n for n in names})[list(names)].reset_index(drop=True)
    post["weight"] = np.asarray(w, float)
    return post


def population_ess(result: AbcResult) -> list[float]:
    """Kish's effective sample size of every population of ``result``'s run [particles], population 0 first.

    Population 0 is the prior sample (equal weights: its size); read from the database once, when
    a population is to be chosen (:func:`last_population_with_ess`).
    """
    import pyabc

    hist = pyabc.History(f"sqlite:///{Path(result.db).resolve()}", _id=result.history_id)
    return [effective_sample_size(hist.get_distribution(m=0, t=t)[1]) for t in range(result.populations)]


def at_population(result: AbcResult, t: int) -> AbcResult:
    """``result`` with population ``t`` (0-based, at most the last) as its posterior, epsilons up to it.

    The populations after ``t`` stay in the database.
    """
    import pyabc

    if not 0 <= t < result.populations:
        raise ValueError(f"population {t}: allowed 0 to {result.populations - 1}")
    hist = pyabc.History(f"sqlite:///{Path(result.db).resolve()}", _id=result.history_id)
    names = [c for c in result.posterior.columns if c != "weight"]
    return AbcResult(result.db, result.history_id, result.populations, _posterior_at(hist, names, t),
                     result.epsilons[: t + 1], t)


def last_population_with_ess(ess: Sequence[float], population_size: int, min_share: float) -> int:
    """The last population (0-based) whose effective sample size is at least ``min_share * population_size``.

    ``ess``: Kish's effective sample size per population [particles]; ``min_share`` in [0, 1]
    (0: the last population). Population 0 is the prior sample with equal weights (ESS = its
    size), so some population always qualifies when ``ess`` starts with one. The guard against an
    ABC-SMC posterior that has collapsed onto a few particles: each generation shrinks epsilon,
    but once the weight sits on a handful of particles the posterior, and any band drawn from it,
    is those few parameter sets' chance, narrower than the figures allow (docs/cases.md, Bostad först).
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_ess {min_share!r}: allowed 0 to 1 (a share of the population size)")
    if not ess:
        raise ValueError("no population to choose from")
    ok = [t for t, e in enumerate(ess) if e >= min_share * population_size - 1e-9]
    return ok[-1] if ok else 0


def plot_posterior(result: AbcResult, path: Path, truth: dict[str, float] | None = None) -> None:
    """Weighted marginal histograms of the last population."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in result.posterior.columns if c != "weight"]
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3), squeeze=False)
    for ax, c in zip(axes[0], cols, strict=True):
        ax.hist(result.posterior[c], bins=20, weights=result.posterior["weight"], color="tab:blue", alpha=0.7)
        if truth and c in truth:
            ax.axvline(truth[c], color="black", ls="--", label="point fit")
            ax.legend(fontsize=8)
        ax.set_title(c, fontsize=10)
    fig.suptitle(f"ABC-SMC posterior, population {result.populations}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically."""
    from sim.explore.store import atomic_write

    atomic_write(path, json.dumps(data, indent=2, default=str).encode())
