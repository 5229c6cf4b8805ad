"""``sim analyze``: Sobol and Morris indices with confidence intervals, NaN reporting, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.explore.analyze import analyze_sweep
from sim.explore.executors import ExecutorSpec
from sim.explore.experiment import load_experiment
from sim.explore.sweep import sweep

SOBOL = """
scenario = "teaching"
design = "{design}"
samples = {samples}
replicates = 1
root_seed = 5
steps = 36
outputs = ["orgs_adopted", "value_social", "time_to_50pct_places"]
[parameters]
"organisations.q" = [0.02, 0.6]
"levers.guardrails" = [0.0, 1.0]
"""


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sobol")
    p = tmp / "sobol.toml"
    p.write_text(SOBOL.format(design="sobol", samples=8))
    exp, base = load_experiment(p)
    rep = sweep(exp, base, tmp / "out", ExecutorSpec("process", workers=2))
    assert rep.completed == 8 * (2 + 2)
    return tmp / "out"


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_sobol_indices_with_confidence_intervals_and_plot(sobol_dir: Path) -> None:
    res = CliRunner().invoke(app, ["analyze", str(sobol_dir), "--resamples", "200"])
    assert res.exit_code == 0, res.output
    idx = pd.read_csv(sobol_dir / "analysis" / "indices.csv")
    assert set(idx.columns) >= {"output", "parameter", "S1", "S1_conf", "ST", "ST_conf"}
    ok = idx[idx["output"].isin(["orgs_adopted", "value_social"])]
    assert len(ok) == 4
    assert np.isfinite(ok[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    assert (ok[["S1_conf", "ST_conf"]] >= 0).all().all()
    q = ok[ok["parameter"] == "organisations.q"]
    assert (q["S1_conf"] > 0).all() and (q["ST_conf"] > 0).all()  # a real bootstrap interval, not a placeholder
    # the imitation coefficient drives adoption more than the guardrails do
    adopt = ok[ok["output"] == "orgs_adopted"].set_index("parameter")
    assert adopt.loc["organisations.q", "ST"] > adopt.loc["levers.guardrails", "ST"]
    assert _is_png(sobol_dir / "analysis" / "indices.png")
    assert "S1_conf" in res.output and "organisations.q" in res.output


def test_nan_outputs_are_reported_not_dropped(sobol_dir: Path) -> None:
    res = analyze_sweep(sobol_dir, num_resamples=100, plot=False)
    results = pd.read_parquet(sobol_dir / "runs")
    n_nan = int(results["time_to_50pct_places"].isna().sum())
    assert n_nan > 0, "the test needs some runs that never reach half the places in 36 months"
    rep = res.nan_report.set_index("output")
    assert rep.loc["time_to_50pct_places", "nan_runs"] == n_nan
    assert rep.loc["time_to_50pct_places", "status"].startswith("not analysed")
    assert "time_to_50pct_places" not in set(res.indices["output"])
    assert rep.loc["orgs_adopted", "status"] == "ok"
    censored = analyze_sweep(sobol_dir, ["time_to_50pct_places"], censor=True, num_resamples=100, plot=False)
    r = censored.nan_report.iloc[0]
    assert r["censored_runs"] == n_nan and "censored" in r["status"]
    assert len(censored.indices) == 2


def test_morris_effects(tmp_path: Path) -> None:
    p = tmp_path / "morris.toml"
    p.write_text(SOBOL.format(design="morris", samples=4).replace('"time_to_50pct_places"', '"people_aware"'))
    exp, base = load_experiment(p)
    sweep(exp, base, tmp_path / "out", ExecutorSpec("in-process"))
    res = analyze_sweep(tmp_path / "out", num_resamples=100)
    assert set(res.indices.columns) >= {"mu_star", "mu_star_conf", "sigma"}
    assert len(res.indices) == 3 * 2 and np.isfinite(res.indices["mu_star_conf"]).all()
    assert res.plot_path is not None and _is_png(res.plot_path)
