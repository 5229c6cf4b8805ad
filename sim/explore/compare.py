"""Compare scenarios side by side with common random numbers.

Replicate ``r`` of every scenario runs with the same seed (spawned from the root
seed), so the paired difference ``y_B,r - y_A,r`` removes the noise the scenarios
share. Each output's mean difference from the *first* scenario gets a paired
t-interval over replicates (``conf_level``, default 95 %) and a paired t-test
p-value. Pairs where either side is NaN or failed are left out and counted
(``n_nan``), never silently.

Files written to ``out``: ``results.parquet``/``.csv`` (final values per scenario
and replicate), ``series.parquet`` (per-step outputs), ``differences.csv``,
``curves.png`` (mean curve per scenario with a band spanning the 10-90 % quantiles
of the replicates), ``scenarios.json`` (each label's scenario as run, for the
report's intervention markers), ``failures.json`` if any run failed,
``manifest.json`` and, with ``report=True``, ``report.html``
(:mod:`sim.report.compare_report`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import __version__
from sim.api import build_model, git_revision
from sim.explore.design import replicate_seeds
from sim.explore.executors import ExecutorSpec, open_executor
from sim.explore.experiment import resolve_experiment_scenario, scenario_data
from sim.explore.runner import RunTask, execute
from sim.explore.store import atomic_parquet, atomic_write
from sim.scenario import Scenario

DEFAULT_OUTPUTS = ("orgs_adopted", "places_reached", "people_benefiting", "value_social", "net_economic")
VALUE_FIGURES = ("intervention_cost_sek", "economic_value_net_sek", "value_per_sek")
"""Summary figures of value per krona, kept per replicate in ``results`` whenever the model reports them."""


@dataclass
class Comparison:
    """Result of :func:`compare`: final values, per-step series, differences and failures."""

    results: pd.DataFrame
    series: pd.DataFrame
    differences: pd.DataFrame
    failures: list[dict[str, Any]]


def paired_difference(a: np.ndarray, b: np.ndarray, conf_level: float = 0.95) -> dict[str, float]:
    """Mean of ``b - a`` over pairs with both values finite, with a paired t-interval and p-value."""
    ok = np.isfinite(a) & np.isfinite(b)
    d = b[ok] - a[ok]
    n = len(d)
    mean = float(d.mean()) if n else np.nan
    sd = float(d.std(ddof=1)) if n > 1 else np.nan
    if n > 1 and sd > 0:
        half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1) * sd / np.sqrt(n))
        p = float(2 * stats.t.sf(abs(mean) / (sd / np.sqrt(n)), n - 1))
    elif n > 1:  # identical differences in every replicate: no sampling uncertainty left
        half, p = 0.0, (1.0 if mean == 0 else 0.0)
    else:
        half, p = np.nan, np.nan
    return {"diff": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd, "n": n,
            "n_nan": int(len(a) - n), "p_value": p}


def run_replicates(
    scenarios: Sequence[tuple[str, Scenario]],
    replicates: int,
    steps: int,
    root_seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Run every ``(name, scenario)`` ``replicates`` times in this process, with the shared seeds of :func:`compare`.

    Replicate ``r`` of every scenario uses seed ``replicate_seeds(root_seed, replicates)[r]``
    (common random numbers). ``on_progress(done, total)`` is called after each run;
    ``cancelled()`` is checked before every step (raises ``InterruptedError``).
    Returns the model tables, one row per scenario, replicate and step, with columns
    ``variant``, ``replicate``, ``seed`` first.
    """
    seeds = replicate_seeds(root_seed, replicates)
    total, done, frames = len(scenarios) * len(seeds), 0, []
    for name, sc in scenarios:
        for r, seed in enumerate(seeds):
            model = build_model(sc, seed)
            for _ in range(steps):
                if cancelled is not None and cancelled():
                    raise InterruptedError("comparison cancelled")
                model.step()
            f = model.collector.model_frame()
            f.insert(0, "seed", seed)
            f.insert(0, "replicate", r)
            f.insert(0, "variant", name)
            frames.append(f)
            done += 1
            if on_progress is not None:
                on_progress(done, total)
    return pd.concat(frames, ignore_index=True)


def compare(
    scenarios: list[str | Path],
    out: str | Path,
    replicates: int = 10,
    *,
    root_seed: int = 0,
    steps: int | None = None,
    outputs: list[str] | tuple[str, ...] = DEFAULT_OUTPUTS,
    spec: ExecutorSpec | None = None,
    conf_level: float = 0.95,
    progress: Callable[[int, int, int], None] | None = None,
    overwrite: bool = False,
    report: bool = False,
    command: str | None = None,
) -> Comparison:
    """Run every scenario ``replicates`` times with shared seeds; write and return the comparison.

    ``scenarios``: paths or preset names (the first is the reference). ``steps``:
    default each scenario's ``run.steps``. The folder ``out`` appears whole or not at
    all (:func:`sim.outdir.output_folder`; ``overwrite`` replaces an earlier result).
    The scenarios as run are kept in ``scenarios.json`` (label -> scenario dict), the
    value-per-krona figures (:data:`VALUE_FIGURES`) in ``results`` when the model has
    them. ``report``: also write ``report.html`` (:mod:`sim.report.compare_report`)
    inside the same folder; ``command`` is the command line shown in its header.
    """
    from datetime import UTC, datetime

    from sim.explore.experiment import output_names
    from sim.outdir import check_output_folder, output_folder

    out = check_output_folder(out, overwrite)
    paths = [resolve_experiment_scenario(str(s), None) for s in scenarios]
    labels = _labels(paths)
    bases = [scenario_data(p) for p in paths]
    seeds = replicate_seeds(root_seed, replicates)
    extra = tuple(f for f in VALUE_FIGURES if f in output_names() and f not in outputs)
    kept = (*outputs, *extra)
    tasks = [
        RunTask(run_id=i * replicates + r, seed=seeds[r], base=bases[i], steps=steps, outputs=kept,
                timeseries=True, source=str(paths[i]))
        for i in range(len(paths)) for r in range(replicates)
    ]
    rows, series, failures = [], [], []
    total = len(tasks)
    with open_executor(spec or ExecutorSpec()) as (ex, _slots):
        futs = {ex.submit(execute, t): t for t in tasks}
        for k, fut in enumerate(as_completed(futs), 1):
            t = futs[fut]
            i, r = divmod(t.run_id, replicates)
            oc = fut.result()
            key = {"scenario": labels[i], "replicate": r, "seed": t.seed}
            if oc.ok:
                rows.append({**key, **oc.outputs})
                s = oc.series.drop(columns="run_id")
                series.append(s.assign(**key))
            else:
                rows.append({**key, **dict.fromkeys(kept, np.nan)})
                failures.append({**key, "error": oc.error, "traceback": oc.traceback})
            if progress:
                progress(k, len(failures), total)
    results = pd.DataFrame(rows).sort_values(["scenario", "replicate"], key=_order(labels)).reset_index(drop=True)
    ser = pd.concat(series, ignore_index=True) if series else pd.DataFrame()
    diffs = []
    ref = results[results["scenario"] == labels[0]].set_index("replicate").reindex(range(replicates))
    for lab in labels[1:]:
        oth = results[results["scenario"] == lab].set_index("replicate").reindex(range(replicates))
        for o in outputs:
            a, b = ref[o].to_numpy(float), oth[o].to_numpy(float)
            diffs.append({"scenario": lab, "versus": labels[0], "output": o, "mean_ref": _mean(a), "mean": _mean(b),
                          **paired_difference(a, b, conf_level)})
    differences = pd.DataFrame(diffs)
    with output_folder(out, overwrite=overwrite) as tmp:
        atomic_parquet(tmp / "results.parquet", results)
        atomic_write(tmp / "results.csv", results.to_csv(index=False).encode())
        if len(ser):
            atomic_parquet(tmp / "series.parquet", ser)
        atomic_write(tmp / "differences.csv", differences.to_csv(index=False).encode())
        if failures:
            atomic_write(tmp / "failures.json", json.dumps(failures, indent=2).encode())
        if len(ser):
            plot_curves(ser, labels, [o for o in outputs if o in ser.columns], tmp / "curves.png")
        atomic_write(tmp / "scenarios.json", json.dumps(dict(zip(labels, bases, strict=True)), indent=2,
                                                        default=str).encode())
        manifest = {
            "kind": "compare", "scenarios": [str(p) for p in paths], "labels": labels, "replicates": replicates,
            "root_seed": root_seed, "seeds": seeds, "steps": steps, "outputs": list(outputs), "conf_level": conf_level,
            "value_figures": list(extra), "command": command,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "package": "sim", "version": __version__, "git_revision": git_revision(), "failed": len(failures),
        }
        atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
        if report:
            from sim.report.compare_report import write_compare_report

            write_compare_report(tmp)
    return Comparison(results, ser, differences, failures)


def _mean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


def _labels(paths: list[Path]) -> list[str]:
    labels: list[str] = []
    for p in paths:
        lab, k = p.stem, 2
        while lab in labels:
            lab, k = f"{p.stem}-{k}", k + 1
        labels.append(lab)
    return labels


def _order(labels: list[str]) -> Callable[[pd.Series], pd.Series]:
    def key(col: pd.Series) -> pd.Series:
        return col.map({lab: i for i, lab in enumerate(labels)}) if col.name == "scenario" else col

    return key


def plot_curves(series: pd.DataFrame, labels: list[str], outputs: list[str], path: Path) -> None:
    """Mean curve of each output per scenario over months, band = 10-90 % quantiles of replicates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(outputs)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.2 * rows), squeeze=False)
    for ax, o in zip(axes.flat, outputs, strict=False):
        for lab in labels:
            d = series[series["scenario"] == lab].groupby("month")[o]
            m, lo, hi = d.mean(), d.quantile(0.1), d.quantile(0.9)
            line = ax.plot(m.index, m.to_numpy(), label=lab)[0]
            ax.fill_between(m.index, lo.to_numpy(), hi.to_numpy(), color=line.get_color(), alpha=0.2, lw=0)
        ax.set_title(o, fontsize=10)
        ax.set_xlabel("month")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("mean over replicates; band: 10-90 % of replicates (common random numbers)", fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
