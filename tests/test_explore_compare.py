"""``sim compare``: common random numbers, paired differences with CIs, curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from sim.cli import app
from sim.explore.compare import compare, paired_difference
from sim.explore.executors import ExecutorSpec

ROOT = Path(__file__).resolve().parents[1]


def _variant(tmp: Path, name: str, extra: str) -> Path:
    p = tmp / f"{name}.toml"
    p.write_text((ROOT / "scenarios" / "teaching.toml").read_text() + extra)
    return p


def test_same_scenario_twice_differs_by_exactly_zero(tmp_path: Path) -> None:
    a = ROOT / "scenarios" / "teaching.toml"
    res = compare([a, a], tmp_path / "o", replicates=3, steps=6, spec=ExecutorSpec("in-process"))
    d = res.differences
    assert list(d["scenario"].unique()) == ["teaching-2"]
    assert (d["diff"] == 0).all() and (d["ci_low"] == 0).all() and (d["ci_high"] == 0).all()
    assert res.results.groupby("replicate")["seed"].nunique().eq(1).all()


def test_compare_cli_reports_difference_with_ci_and_plots(tmp_path: Path) -> None:
    slow = _variant(tmp_path, "slow", "\n[solution]\neffect_size = 0.01\n")
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", "teaching", str(slow), "--replicates", "6", "--steps", "60",
                                   "--out", str(out), "--in-process", "--output", "people_benefiting",
                                   "--output", "orgs_adopted"])
    assert res.exit_code == 0, res.output
    d = pd.read_csv(out / "differences.csv").set_index("output")
    pb = d.loc["people_benefiting"]
    assert pb["scenario"] == "slow" and pb["n"] == 6
    assert pb["diff"] < 0 and pb["ci_high"] < 0  # a weaker effect helps fewer people, clearly
    assert pb["ci_low"] <= pb["diff"] <= pb["ci_high"]
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 12 and set(results["scenario"]) == {"teaching", "slow"}
    series = pd.read_parquet(out / "series.parquet")
    assert len(series) == 12 * 61
    png = (out / "curves.png").read_bytes()
    assert png[:4] == b"\x89PNG" and len(png) > 5000


def test_paired_difference_matches_a_paired_t_test() -> None:
    from scipy import stats

    rng = np.random.default_rng(0)
    a = rng.normal(10, 2, 12)
    b = a + rng.normal(1, 0.5, 12)
    b[3] = np.nan
    r = paired_difference(a, b)
    ok = ~np.isnan(b)
    t = stats.ttest_rel(b[ok], a[ok])
    ci = t.confidence_interval(0.95)
    assert r["n"] == 11 and r["n_nan"] == 1
    assert np.isclose(r["p_value"], t.pvalue) and np.isclose(r["ci_low"], ci.low) and np.isclose(r["ci_high"], ci.high)
