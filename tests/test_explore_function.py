"""The model as a plain Python function (what EMA Workbench and friends call)."""

from __future__ import annotations

import math

import pytest

from sim.explore.function import simulate
from sim.scenario import ScenarioError


def test_plain_function_returns_final_outputs_and_honours_parameters() -> None:
    a = simulate("teaching", steps=18, seed=4, organisations__q=0.05)
    b = simulate("teaching", steps=18, seed=4, organisations__q=0.6)
    assert set(a) >= {"value_social", "orgs_adopted", "time_to_50pct_places"}
    assert all(isinstance(v, float) for v in a.values())
    assert b["orgs_adopted"] > a["orgs_adopted"]
    again = simulate("teaching", steps=18, seed=4, organisations__q=0.05)
    assert all(again[k] == v or (math.isnan(again[k]) and math.isnan(v)) for k, v in a.items())  # same seed, same run


def test_plain_function_rejects_impossible_values() -> None:
    with pytest.raises(ScenarioError, match=r"organisations\.q"):
        simulate("teaching", steps=2, organisations__q=2.0)


def test_ema_workbench_runs_the_function() -> None:
    ema = pytest.importorskip("ema_workbench")
    model = ema.Model("social_innovation", function=simulate)
    model.uncertainties = [ema.RealParameter("organisations__q", 0.1, 0.5)]
    model.levers = [ema.RealParameter("levers__guardrails", 0.0, 1.0)]
    model.constants = [ema.Constant("steps", 6), ema.Constant("seed", 1)]
    model.outcomes = [ema.ScalarOutcome("orgs_adopted"), ema.ScalarOutcome("value_social")]
    experiments, outcomes = ema.perform_experiments(model, scenarios=3, policies=1)
    assert len(experiments) == 3 and outcomes["orgs_adopted"].shape == (3,)
    row = experiments.iloc[0]
    again = simulate(steps=6, seed=1, organisations__q=row["organisations__q"],
                     levers__guardrails=row["levers__guardrails"])
    assert again["orgs_adopted"] == outcomes["orgs_adopted"][0]
