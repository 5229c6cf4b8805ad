"""The lever report: the registry against the schema, the statistics, the command, and every documented direction.

``test_documented_levers_act_as_documented`` is the one that matters: it runs every
lever documented for ``teaching`` and ``district`` at its low and high value with
common random numbers (4 and 5 replicates: the first seeds of ``docs/levers.md``'s run;
the presets' full horizon; about 60 s of CPU in all) and fails when one is dead or
contradicts its documented direction there.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.explore.executors import ExecutorSpec
from sim.explore.experiment import _schema_field, field_range, output_names
from sim.explore.levers import (
    DEFAULT_PRESETS,
    LEVERS,
    MAIN_OUTPUTS,
    PRESET_RUNS,
    Lever,
    current_value,
    documented_levers,
    paired_effect,
    planned_runs,
    run_levers,
    setting_overrides,
    threshold_multiple,
    verdict,
)
from sim.scenario import LeverParams, apply_overrides, dump_toml, list_presets, load_scenario, scenario_from_dict

from .conftest import SMALL

ROOT = Path(__file__).resolve().parents[1]
TEST_REPLICATES = {"teaching": 4, "district": 5}
"""Replicates per setting in the direction test: the first seeds of docs/levers.md's run (a teaching run costs
twice a district run; with four pairs a real effect must exceed 3.18 SE, the 95 % t quantile)."""


# --------------------------------------------------------------------------- the registry


def test_registry_covers_every_lever_field_once() -> None:
    keys = [lv.key for lv in LEVERS]
    assert len(keys) == len(set(keys)), "a parameter appears twice in LEVERS"
    missing = {f"levers.{f}" for f in LeverParams.model_fields} - set(keys)
    assert not missing, f"levers fields without a registry entry: {sorted(missing)}"
    for required in ("funding.renewal", "organisations.p", "organisations.q", "population.site_capacity"):
        assert required in keys


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.key)
def test_registry_entry_is_valid_against_the_schema(lever: Lever) -> None:
    _schema_field(lever.key)  # raises for an unknown key
    lo, hi = field_range(lever.key)
    assert lever.low < lever.high
    for v in (lever.low, lever.high):
        assert (lo is None or v >= lo) and (hi is None or v <= hi), f"{lever.key}: {v} outside [{lo}, {hi}]"
    known = output_names()
    for claim in lever.claims:
        assert claim.output in known, f"{lever.key}: unknown output {claim.output!r}"
        assert claim.direction in (-1, +1)
        assert set(claim.presets) <= set(list_presets()), f"{lever.key}: unknown preset in {claim.presets}"
        assert claim.rationale.strip() and "\n" not in claim.rationale
    assert set(MAIN_OUTPUTS) <= set(lever.outputs)


@pytest.mark.parametrize("preset", DEFAULT_PRESETS)
def test_low_and_high_are_valid_scenarios_on_every_default_preset(preset: str) -> None:
    sc = load_scenario(preset, PRESET_RUNS[preset].overrides if preset in PRESET_RUNS else None)
    base = sc.to_toml_dict()
    for lv in LEVERS:
        for v in (lv.low, lv.high):
            swung = scenario_from_dict(apply_overrides(base, setting_overrides(sc, lv.key, v)), source=lv.key)
            assert current_value(swung, lv.key) == pytest.approx(v)


def test_a_dict_entry_is_swung_with_the_rest_of_its_table_kept() -> None:
    sc = load_scenario("teaching")
    ov = setting_overrides(sc, "value.site_cost_sek.project", 12_345.0)
    assert list(ov) == ["value.site_cost_sek"]
    assert ov["value.site_cost_sek"] == {**sc.value.site_cost_sek, "project": 12_345.0}
    assert setting_overrides(sc, "levers.guardrails", 0.9) == {"levers.guardrails": 0.9}


def test_planned_runs_counts_low_high_and_default() -> None:
    n = len(LEVERS)
    assert planned_runs(["teaching"], LEVERS, replicates=3) == (2 * n + 1) * 3
    assert planned_runs(["sweden-youth-employment"], LEVERS[:2]) == 5 * PRESET_RUNS["sweden-youth-employment"].replicates


# --------------------------------------------------------------------------- statistics


def test_verdicts_follow_the_three_standard_error_rule() -> None:
    assert verdict(3.1, 1.0, 10, +1) == "moves as documented"
    assert verdict(-3.1, 1.0, 10, +1) == "contradicts"
    assert verdict(2.9, 1.0, 10, +1) == "dead"
    assert verdict(0.0, 0.0, 10, -1) == "dead"  # identical in every replicate
    assert verdict(0.5, 0.0, 10, +1) == "moves as documented"  # the same non-zero difference every time
    assert verdict(3.1, 1.0, 10) == "raises" and verdict(-3.1, 1.0, 10) == "lowers"
    assert verdict(float("nan"), float("nan"), 0, +1) == "n/a"
    # with few pairs the bar is the t quantile: 3.1 SE is inside the 95 % interval at n = 4 (t = 3.18)
    assert threshold_multiple(4) == pytest.approx(3.182, abs=1e-3) and threshold_multiple(10) == 3.0
    assert verdict(3.1, 1.0, 4, +1) == "dead" and verdict(3.3, 1.0, 4, +1) == "moves as documented"


def test_paired_effect_matches_a_paired_t_interval() -> None:
    from scipy import stats

    rng = np.random.default_rng(1)
    low = rng.normal(5, 1, 9)
    high = low + rng.normal(0.4, 0.3, 9)
    high[2] = np.nan
    e = paired_effect(low, high)
    ok = np.isfinite(high)
    t = stats.ttest_rel(high[ok], low[ok])
    ci = t.confidence_interval(0.95)
    assert e["n"] == 8 and e["n_nan"] == 1
    assert math.isclose(e["ci_low"], ci.low) and math.isclose(e["ci_high"], ci.high)
    assert math.isclose(e["se"], float(np.std(high[ok] - low[ok], ddof=1) / np.sqrt(8)))


# --------------------------------------------------------------------------- the machinery


def _small_preset(tmp: Path) -> Path:
    p = tmp / "small.toml"
    p.write_text(dump_toml(apply_overrides(SMALL, {"run.steps": 36})))
    return p


def test_the_run_flags_a_dead_lever_and_a_contradicted_direction(tmp_path: Path) -> None:
    """A registry that documents the wrong sign, and a lever that cannot act, must both be caught."""
    small = _small_preset(tmp_path)
    fake = (
        Lever("solution.effect_size", 0.01, 0.2, "people_benefiting", +1, ("small",), "a stronger effect"),
        Lever("population.participation", 0.01, 0.3, "people_benefiting", -1, ("small",), "wrong on purpose"),
        Lever("value.environmental_per_beneficiary", 0.0, 5.0, "value_social", +1, ("small",), "cannot act"),
    )
    rep = run_levers([str(small)], levers=fake, replicates=4, spec=ExecutorSpec("in-process"))
    assert not rep.failures
    doc = rep.documented().set_index("lever")
    assert doc.loc["solution.effect_size", "verdict"] == "moves as documented"
    assert doc.loc["population.participation", "verdict"] == "contradicts"
    assert doc.loc["value.environmental_per_beneficiary", "verdict"] == "dead"
    assert doc.loc["value.environmental_per_beneficiary", "diff"] == 0  # the same seeds: exactly no difference
    assert set(rep.broken()["lever"]) == {"population.participation", "value.environmental_per_beneficiary"}
    # common random numbers: replicate r has one seed in every setting; default runs are shared by all levers
    runs = rep.runs
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    assert len(runs) == (2 * len(fake) + 1) * 4 and (runs["setting"] == "default").sum() == 4
    side = rep.effects[(rep.effects["lever"] == "value.environmental_per_beneficiary")]
    assert set(side["output"]) == {"value_social", *MAIN_OUTPUTS} and (side["diff"] == 0).all()


def test_levers_command_writes_csv_markdown_and_plots(tmp_path: Path) -> None:
    small = _small_preset(tmp_path)
    out = tmp_path / "lev"
    res = CliRunner().invoke(app, ["levers", str(small), "--out", str(out), "--replicates", "2", "--steps", "6",
                                   "--lever", "levers.guardrails", "--lever", "population.site_capacity",
                                   "--in-process"])
    assert res.exit_code == 0, res.output
    eff = pd.read_csv(out / "levers.csv")
    assert set(eff["lever"]) == {"levers.guardrails", "population.site_capacity"}
    assert {"mean_low", "mean_default", "mean_high", "diff", "se", "ci_low", "ci_high", "verdict"} <= set(eff.columns)
    md = (out / "levers.md").read_text()
    assert "## `small`" in md and "`levers.guardrails`" in md and "How to read it" in md and "sim levers" in md
    for png in ("levers-small.png", "levers-small-curves.png"):
        data = (out / "img" / png).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000
    assert len(pd.read_csv(out / "runs.csv")) == 5 * 2
    bad = CliRunner().invoke(app, ["levers", str(small), "--out", str(out), "--lever", "levers.nope"])
    assert bad.exit_code == 2 and "unknown lever" in bad.output


def test_docs_levers_md_reports_every_lever() -> None:
    md = (ROOT / "docs" / "levers.md").read_text(encoding="utf-8")
    for lv in LEVERS:
        assert f"`{lv.key}`" in md, f"docs/levers.md lacks {lv.key}: rerun `sim levers --docs` (see its header)"
    for preset in DEFAULT_PRESETS:
        assert f"## `{preset}`" in md


# --------------------------------------------------------------------------- the documented directions


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["teaching", "district"])
def test_documented_levers_act_as_documented(preset: str) -> None:
    levers = documented_levers(preset)
    assert levers, f"no lever documented for {preset}"
    rep = run_levers([preset], levers=levers, replicates=TEST_REPLICATES[preset], include_default=False,
                     spec=ExecutorSpec("in-process"))  # in-process: no worker start-up in the CPU budget
    assert not rep.failures, rep.failures[:1]
    broken = rep.broken()
    msg = "; ".join(f"{r.lever} -> {r.output}: {r.verdict} (high - low {r.diff:.4g}, SE {r.se:.3g}, expected "
                    f"{r.expected:+d})" for r in broken.itertuples())
    assert broken.empty, f"{preset}: documented levers not acting as documented: {msg}"
    enforced = rep.documented()
    assert enforced["enforced"].sum() == sum(preset in c.presets for lv in levers for c in lv.claims)


def test_every_preset_left_out_of_a_claim_says_why_in_the_registry() -> None:
    """A default preset missing from a claim is dead there (or not applicable): the entry's source says so."""
    src = (ROOT / "sim" / "explore" / "levers.py").read_text(encoding="utf-8")
    body = src[src.index("LEVERS: tuple[Lever, ...] = ("):]
    for lv in LEVERS:
        start = body.index(f'Lever("{lv.key}"')
        nxt = body.find("    Lever(", start + 1)
        entry = body[start: nxt if nxt > 0 else len(body)]
        left_out = {p for c in lv.claims for p in DEFAULT_PRESETS if p not in c.presets}
        comments = " ".join(line.split("#", 1)[1] for line in entry.splitlines() if "#" in line)
        for preset in left_out:
            assert preset in comments, f"{lv.key}: {preset} left out without a comment naming it"
        if left_out:
            assert "see docs/levers.md" in comments or "not applicable" in comments, (
                f"{lv.key}: {sorted(left_out)} left out without saying why")
