"""Sensitivity analysis of a finished sweep: Sobol or Morris indices per output (SALib).

Each design point's output is the mean over its replicates (the replicates share
seeds across points, so that mean has common random numbers). Indices come with
SALib's bootstrap confidence intervals (``conf_level``, default 95 %).

NaN outputs are never dropped silently. For each output the NaN report counts the
runs whose value is NaN (e.g. ``time_to_50pct_places`` when half the places were
never reached) and the runs missing because they failed. An output with any NaN
or missing value at a point is **not analysed** (Sobol and Morris estimators need
every point) and is listed with the reason, unless ``censor=True``: then NaN
``time_to_*`` values are replaced by the run's horizon (steps * dt months), a
right-censored lower bound, and the number censored is reported.

For grid and Latin-hypercube sweeps there are no variance-based indices; the table
is instead each point's mean, standard deviation and 95 % t-interval over replicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.explore.store import atomic_parquet, atomic_write
from sim.explore.sweep import load_sweep


@dataclass
class Analysis:
    """Result of :func:`analyze_sweep`: ``indices`` (long table), ``nan_report``, file paths written."""

    method: str
    indices: pd.DataFrame
    nan_report: pd.DataFrame
    table_path: Path
    plot_path: Path | None


def _horizon(manifest: dict[str, Any]) -> float:
    from sim.scenario import scenario_from_dict

    sc = scenario_from_dict(manifest["scenario"], source="manifest scenario")
    steps = manifest["experiment"].get("steps") or sc.run.steps
    return float(steps) * sc.run.dt


def point_values(
    manifest: dict[str, Any], results: pd.DataFrame, output: str, censor: bool = False
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-point mean of ``output`` over replicates (NaN where any replicate is NaN or missing) and a NaN report."""
    n_points, reps = manifest["n_points"], manifest["experiment"]["replicates"]
    grid = np.full((n_points, reps), np.nan)
    present = np.zeros((n_points, reps), dtype=bool)
    if len(results):
        p = results["point"].to_numpy(int)
        r = results["replicate"].to_numpy(int)
        grid[p, r] = results[output].to_numpy(float)
        present[p, r] = True
    nan_runs = int((present & np.isnan(grid)).sum())
    censored = 0
    if censor and output.startswith("time_to_") and nan_runs:
        fill = present & np.isnan(grid)
        grid[fill] = _horizon(manifest)
        censored = int(fill.sum())
    y = grid.mean(axis=1)
    report = {
        "output": output, "runs": n_points * reps, "missing_runs": int((~present).sum()), "nan_runs": nan_runs,
        "censored_runs": censored, "points_without_value": int(np.isnan(y).sum()),
    }
    return y, report


def analyze_sweep(
    out: str | Path,
    outputs: list[str] | None = None,
    *,
    censor: bool = False,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
    plot: bool = True,
) -> Analysis:
    """Analyse the sweep in ``out``; write ``out/analysis/{indices.csv, nan_report.csv, indices.png}``.

    ``num_resamples`` bootstrap resamples for the CIs; ``conf_level`` in (0, 1).
    """
    out = Path(out)
    manifest, design, results, _failures = load_sweep(out)
    exp = manifest["experiment"]
    outputs = outputs or list(manifest["outputs"])
    params: list[str] = list(manifest["parameters"])
    method = exp["design"]
    rows: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for output in outputs:
        if len(results) and output not in results.columns:
            raise ValueError(f"{output!r} is not an output of this sweep ({manifest['outputs']})")
        y, rep = point_values(manifest, results, output, censor)
        if method in ("sobol", "morris"):
            if rep["points_without_value"]:
                rep["status"] = (
                    f"not analysed: {rep['points_without_value']} of {len(y)} points lack a value "
                    f"({rep['nan_runs']} NaN runs, {rep['missing_runs']} missing/failed runs)"
                )
            elif np.ptp(y) == 0:
                rep["status"] = "not analysed: output constant over the design"
            else:
                rep["status"] = "ok" + (f" ({rep['censored_runs']} NaN runs censored at the horizon)" if rep[
                    "censored_runs"] else "")
                rows += _indices(method, exp, design, params, output, y, num_resamples, conf_level, seed)
        else:
            rep["status"] = "ok (point summaries; no indices for this design)"
            rows += _point_summaries(manifest, results, design, params, output, conf_level)
        reports.append(rep)
    indices = pd.DataFrame(rows)
    nan_report = pd.DataFrame(reports)
    adir = out / "analysis"
    adir.mkdir(exist_ok=True)
    table_path = adir / ("indices.csv" if method in ("sobol", "morris") else "point_summaries.csv")
    atomic_write(table_path, indices.to_csv(index=False).encode())
    atomic_write(adir / "nan_report.csv", nan_report.to_csv(index=False).encode())
    if len(indices):
        atomic_parquet(table_path.with_suffix(".parquet"), indices)
    plot_path = None
    if plot and method in ("sobol", "morris") and len(indices):
        plot_path = adir / "indices.png"
        plot_indices(indices, method, plot_path, conf_level)
    return Analysis(method, indices, nan_report, table_path, plot_path)


def _salib_seed(seed: int) -> int:
    """The seed handed to SALib: ``seed + 1``.

    SALib ignores a falsy seed (``if seed:``), so its bootstrap intervals would change from run to run.
    """
    return int(seed) + 1


def _indices(
    method: str, exp: dict[str, Any], design: pd.DataFrame, params: list[str], output: str, y: np.ndarray,
    num_resamples: int, conf_level: float, seed: int,
) -> list[dict[str, Any]]:
    bounds = [list(map(float, exp["parameters"][p])) for p in params]
    problem = {"num_vars": len(params), "names": params, "bounds": bounds}
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=exp["second_order"], num_resamples=num_resamples,
                            conf_level=conf_level, seed=_salib_seed(seed))
        return [
            {"output": output, "parameter": p, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
             "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]}
            for i, p in enumerate(params)
        ]
    from SALib.analyze import morris

    X = design[[f"raw:{p}" for p in params]].to_numpy(float)
    res = morris.analyze(problem, X, y, num_resamples=num_resamples, conf_level=conf_level,
                         num_levels=exp["levels"], seed=_salib_seed(seed))
    return [
        {"output": output, "parameter": p, "mu": res["mu"][i], "mu_star": res["mu_star"][i],
         "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i]}
        for i, p in enumerate(params)
    ]


def _point_summaries(
    manifest: dict[str, Any], results: pd.DataFrame, design: pd.DataFrame, params: list[str], output: str,
    conf_level: float,
) -> list[dict[str, Any]]:
    rows = []
    groups = dict(tuple(results.groupby("point"))) if len(results) else {}
    for point in range(manifest["n_points"]):
        v = groups[point][output].to_numpy(float) if point in groups else np.array([])
        ok = v[~np.isnan(v)]
        n = len(ok)
        mean = float(ok.mean()) if n else np.nan
        sd = float(ok.std(ddof=1)) if n > 1 else np.nan
        half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"output": output, "point": point, **{p: design.loc[point, p] for p in params},
                     "n": n, "nan_or_missing": manifest["experiment"]["replicates"] - n,
                     "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half})
    return rows


def plot_indices(indices: pd.DataFrame, method: str, path: Path, conf_level: float = 0.95) -> None:
    """A bar chart per output: S1 and ST (Sobol) or mu* and sigma (Morris), with CI error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outs = list(dict.fromkeys(indices["output"]))
    fig, axes = plt.subplots(len(outs), 1, figsize=(7, 2.6 * len(outs)), squeeze=False)
    for ax, o in zip(axes[:, 0], outs, strict=True):
        d = indices[indices["output"] == o]
        x = np.arange(len(d))
        if method == "sobol":
            ax.bar(x - 0.2, d["S1"], 0.4, yerr=d["S1_conf"], capsize=3, label="first order S1")
            ax.bar(x + 0.2, d["ST"], 0.4, yerr=d["ST_conf"], capsize=3, label="total ST")
            ax.set_ylabel("index")
        else:
            ax.bar(x - 0.2, d["mu_star"], 0.4, yerr=d["mu_star_conf"], capsize=3, label="mu*")
            ax.bar(x + 0.2, d["sigma"], 0.4, label="sigma")
            ax.set_ylabel(f"effect on {o}")
        ax.set_xticks(x, d["parameter"], rotation=15, fontsize=8)
        ax.set_title(o, fontsize=10)
        ax.axhline(0, color="grey", lw=0.5)
        ax.legend(fontsize=8)
    fig.suptitle(f"{method.capitalize()} sensitivity; error bars: {conf_level:.0%} bootstrap CI", fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
