"""Interventions: each kind checked by hand on a small model, budgets never exceeded, common random numbers.

Every test runs the real model (the ``teaching`` preset: 12 synthetic places) and
reads the state the rules changed; the expected values are computed from the rule as
``docs/interventions.md`` states it, not copied from a run.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.codes import Funding, Sector, Status
from sim.interventions import markers
from sim.model import SocialInnovationModel
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent


def scenario(*ivs: dict[str, Any], base: str = "teaching", **sections: dict[str, Any]) -> Any:
    """The preset ``base`` with the interventions ``ivs`` (and section values) added."""
    data = load_scenario(base).to_toml_dict()
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    data["interventions"] = list(ivs)
    return scenario_from_dict(data)


def run_to(sc: Any, month: int, seed: int = 5) -> SocialInnovationModel:
    m = SocialInnovationModel(sc, seed=seed)
    for _ in range(month):
        m.step()
    return m


def place(m: SocialInnovationModel, name: str) -> int:
    return int(np.flatnonzero(m.state.places.name == name)[0])


# ---------------------------------------------------------------------------------------------- each kind by hand
def test_seed_starts_n_organisations_of_the_sector_in_each_named_place() -> None:
    sc = scenario({"kind": "seed", "month": 6, "places": ["Place 3", "Place 7"], "n_per_place": 2, "sector": "public"})
    m = run_to(sc, 6)
    o = m.state.orgs
    before = o.running.copy()
    m.step()  # the step that starts at month 6
    for name in ("Place 3", "Place 7"):
        pl = place(m, name)
        seeded = np.flatnonzero((o.place == pl) & ~before & o.running & (o.adopt_month == 6.0))
        public = seeded[o.sector[seeded] == Sector.PUBLIC]
        assert len(public) >= 2  # the two seeded (ordinary adoption in the same step may add more)
    assert m.state.strategy.started[0]


def test_grants_fund_as_many_sites_as_the_budget_commits_highest_need_first() -> None:
    # 1,000 SEK a month for 12 months = 12,000 a grant; 30,000 SEK commit exactly 2 grants
    iv = {"kind": "grants", "month": 24, "grant_sek_per_month": 1000.0, "length_months": 12.0,
          "budget_sek": 30_000.0, "selection": "need", "every_months": 600.0, "uptake": 0.0}
    m = run_to(scenario(iv), 24)
    o, s = m.state.orgs, m.state
    applicants = np.flatnonzero(o.running & (o.funding != Funding.ORDINARY))
    assert len(applicants) >= 2, "the test needs at least two applicants"
    m.step()
    st_ = s.strategy
    funded = np.flatnonzero(st_.grant_of == 0)
    assert len(funded) == 2
    # the two of highest need (severity of their place), ties by order
    need = s.places.severity[o.place[applicants]]
    expected = applicants[np.argsort(-need, kind="stable")[:2]]
    assert set(funded) == set(expected)
    assert np.all(o.funding[funded] == Funding.PROJECT)
    assert np.allclose(o.project_end[funded], 24.0 + 12.0)
    # the first month paid: 2 sites x 1,000 SEK; the rest committed
    assert st_.spent[0] == pytest.approx(2000.0)
    assert st_.spent[0] + st_.committed[0] == pytest.approx(24_000.0)
    assert m.collector.rows[-1]["intervention_cost_sek_0"] == pytest.approx(2000.0)


def test_grants_start_new_sites_of_organisations_that_apply() -> None:
    # uptake 1: every organisation that may adopt applies; a budget for exactly 3 grants, lottery order
    iv = {"kind": "grants", "month": 5, "grant_sek_per_month": 500.0, "length_months": 10.0,
          "budget_sek": 15_000.0, "selection": "lottery", "every_months": 600.0, "uptake": 1.0}
    m = run_to(scenario(iv), 5)
    o = m.state.orgs
    from sim.elements.spread import may_adopt

    free = may_adopt(m.state, m.params)
    sites = o.running & (o.funding != Funding.ORDINARY)
    assert free.sum() + sites.sum() > 3
    m.step()
    funded = np.flatnonzero(m.state.strategy.grant_of == 0)
    assert len(funded) == 3
    assert np.all(o.running[funded] & (o.funding[funded] == Funding.PROJECT))
    assert np.all(free[funded] | sites[funded])  # only applicants were funded


def test_training_raises_guardrails_in_its_places_and_costs_per_running_site() -> None:
    iv = {"kind": "training", "month": 12, "places": ["Place 1", "Place 2"], "level": 0.9,
          "cost_sek_per_site_month": 3000.0}
    m = run_to(scenario(iv), 12)
    s = m.state
    pls = [place(m, "Place 1"), place(m, "Place 2")]
    sites = int(np.count_nonzero(s.orgs.running & np.isin(s.orgs.place, pls)))
    m.step()
    base = m.params.levers.guardrails
    g = s.place_levers.of("guardrails", base, np.arange(s.places.n))
    assert np.allclose(g[pls], max(base, 0.9))
    others = np.setdiff1d(np.arange(s.places.n), pls)
    assert np.allclose(g[others], base)
    assert s.strategy.spent[0] == pytest.approx(3000.0 * sites * m.dt)


def test_measurement_raises_the_visible_share_in_its_places_and_pays_the_extra() -> None:
    iv = {"kind": "measurement", "month": 0, "places": "all", "level": 0.9}
    sc = scenario(iv)
    m = run_to(sc, 30)
    s = m.state
    sites = int(np.count_nonzero(s.orgs.running))
    acc = s.accounts
    spent, visible, social = s.strategy.spent[0], acc.visible.copy(), acc.social.copy()
    m.step()
    extra = (0.9 - sc.levers.measurement_effort) * sc.value.measurement_cost_sek * m.dt
    assert s.strategy.spent[0] - spent == pytest.approx(extra * sites)
    # visible value of the step: social value x min(1, 0.9 (1 + boost [a site in the value element]))
    new_social = acc.social - social
    share = (acc.visible - visible)[new_social > 0] / new_social[new_social > 0]
    assert len(share) > 0
    assert np.all(np.isclose(share, 0.9) | np.isclose(share, 1.0))


def test_funding_cut_ends_running_projects_and_new_sites_start_unfunded() -> None:
    iv = {"kind": "funding_cut", "month": 20, "places": "all"}
    m = run_to(scenario(iv, organisations={"p": 0.05}), 20)
    o = m.state.orgs
    assert np.any(o.running & (o.funding == Funding.PROJECT)), "the test needs running projects"
    before = o.running.copy()
    m.step()
    # every project decided at once (made permanent, carried on unfunded or discontinued): none left
    assert not np.any(o.running & (o.funding == Funding.PROJECT))
    m.step()
    new = o.running & ~before
    assert np.all(o.funding[new & (o.form == 0)] != Funding.PROJECT)


def test_offer_places_accept_by_need_and_the_municipality_runs_it() -> None:
    sc = scenario({"kind": "offer", "month": 3, "places": "all", "decision_months": 0.0, "min_need": 0.5,
                   "grant_sek_per_month": 60_000.0, "length_months": 24.0})
    m = run_to(sc, 3)
    s = m.state
    phi_before = s.orgs.phi.copy()
    m.step()
    st_ = s.strategy
    severe = s.places.severity >= 0.5
    assert np.array_equal(st_.agreement >= 0, severe)  # grant covers the whole cost: only need decides
    assert np.array_equal(st_.declined, ~severe)
    munis = np.array([ids[0] for ids in s.org_ids_by_place])
    assert np.all(s.orgs.running[munis[severe]])
    in_agreement = severe[s.orgs.place]
    assert np.allclose(s.orgs.phi[in_agreement], phi_before[in_agreement] * (1 - sc.scaling_up.threshold_cut))
    assert np.array_equal(s.orgs.phi[~in_agreement], phi_before[~in_agreement])
    assert m.collector.rows[-1]["agreements"] == int(severe.sum())


def test_offer_decisions_come_within_the_decision_delay() -> None:
    sc = scenario({"kind": "offer", "month": 2, "places": "all", "decision_months": 10.0, "min_need": 0.0})
    m = run_to(sc, 2)
    agreements = []
    for _ in range(14):
        m.step()
        agreements.append(m.collector.rows[-1]["agreements"])
    assert agreements[0] < 12 and agreements[-1] == 12  # staggered, all signed by month 12 (2 + 10)
    assert all(b >= a for a, b in zip(agreements, agreements[1:], strict=False))


def test_set_changes_a_lever_from_its_start_to_its_end() -> None:
    sc = scenario({"kind": "set", "month": 10, "end_month": 20, "lever": "levers.guardrails", "value": 0.95})
    m = SocialInnovationModel(sc, seed=1)
    rt = m.interventions
    base = sc.levers.guardrails
    assert rt.params_at(9.0).levers.guardrails == base
    assert rt.params_at(10.0).levers.guardrails == 0.95
    assert rt.params_at(19.0).levers.guardrails == 0.95
    assert rt.params_at(20.0).levers.guardrails == base
    assert m.params.levers.guardrails == base  # the scenario itself is unchanged


def test_places_by_rule_pick_the_highest_need() -> None:
    sc = scenario({"kind": "training", "month": 0, "places": {"rule": "highest_need", "n": 3}})
    m = run_to(sc, 1)
    sev = m.state.places.severity
    chosen = np.flatnonzero(m.state.strategy.targets[0])
    assert set(chosen) == set(np.argsort(-sev, kind="stable")[:3])


def test_markers_give_start_end_and_date() -> None:
    sc = scenario({"kind": "training", "date": "2028-07", "end_date": "2029-01", "label": "kurs"},
                  run={"start": "2027-01"})
    (mk,) = markers(sc)
    assert (mk.month, mk.end_month, mk.date, mk.label, mk.kind) == (18.0, 24.0, "2028-07", "kurs", "training")


# ---------------------------------------------------------------------------------------------- budgets
KIND_STRATEGY = st.sampled_from(["grants", "training", "measurement", "seed", "offer"])


@st.composite
def spending_intervention(draw: Any) -> dict[str, Any]:
    kind = draw(KIND_STRATEGY)
    iv: dict[str, Any] = {"kind": kind, "month": draw(st.integers(0, 20)),
                          "budget_sek": draw(st.floats(0.0, 400_000.0, allow_nan=False))}
    if kind in ("grants", "seed", "offer"):
        iv["grant_sek_per_month"] = draw(st.floats(0.0, 20_000.0, allow_nan=False))
        iv["length_months"] = draw(st.floats(1.0, 30.0, allow_nan=False))
    if kind == "grants":
        iv["every_months"] = draw(st.floats(1.0, 12.0, allow_nan=False))
        iv["selection"] = draw(st.sampled_from(["need", "first_come", "lottery"]))
    if kind == "training":
        iv["cost_sek_per_site_month"] = draw(st.floats(0.0, 20_000.0, allow_nan=False))
    if kind == "seed":
        iv["n_per_place"] = draw(st.integers(1, 3))
        iv["sector"] = "any"
    return iv


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ivs=st.lists(spending_intervention(), min_size=1, max_size=3), seed=st.integers(0, 50))
def test_spending_never_exceeds_a_budget(ivs: list[dict[str, Any]], seed: int) -> None:
    sc = scenario(*ivs, organisations={"p": 0.03})
    m = SocialInnovationModel(sc, seed=seed)
    budget = np.array([iv["budget_sek"] for iv in ivs])
    for _ in range(40):
        m.step()
        spent = m.state.strategy.spent
        assert np.all(spent <= budget * (1 + 1e-12) + 1e-6), (spent, budget)
        assert np.all(spent + m.state.strategy.committed <= budget * (1 + 1e-12) + 1e-6)
    df = m.collector.model_frame()
    total = sum(df[f"intervention_cost_sek_{i}"] for i in range(len(ivs)))
    assert np.allclose(df["intervention_cost_sek"], total)
    assert (df["intervention_cost_sek"].diff().dropna() >= -1e-9).all()  # cumulative


# ---------------------------------------------------------------------------------------------- common random numbers
CRN_CASES = [
    {"kind": "seed", "places": ["Place 5"], "n_per_place": 2},
    {"kind": "grants", "grant_sek_per_month": 30_000.0, "selection": "lottery"},
    {"kind": "training", "level": 1.0},
    {"kind": "measurement", "level": 1.0},
    {"kind": "funding_cut"},
    {"kind": "offer", "decision_months": 2.0, "min_need": 0.0},
    {"kind": "set", "lever": "levers.institutionalisation_support", "value": 1.0},
]


@pytest.mark.parametrize("iv", CRN_CASES, ids=[c["kind"] for c in CRN_CASES])
def test_an_intervention_from_month_m_leaves_every_row_up_to_m_and_changes_later_ones(iv: dict[str, Any]) -> None:
    m0 = 15
    base = scenario()
    with_iv = scenario({**iv, "month": m0})
    a = run_to(base, 60, seed=11).collector.model_frame()
    b = run_to(with_iv, 60, seed=11).collector.model_frame()
    cols = [c for c in a.columns]
    up_to = a["month"] <= m0  # the row of month m0 is the state before the step that starts at m0
    pd.testing.assert_frame_equal(a.loc[up_to, cols], b.loc[up_to, cols])
    assert not a.loc[~up_to, cols].equals(b.loc[~up_to, cols])


def test_the_same_scenario_without_interventions_is_unchanged_by_the_machinery() -> None:
    """An intervention that never starts (month beyond the run) changes no row of the collected table."""
    a = run_to(scenario(), 30, seed=2).collector.model_frame()
    b = run_to(scenario({"kind": "training", "month": 1000}), 30, seed=2).collector.model_frame()
    pd.testing.assert_frame_equal(a, b[a.columns])


# ---------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("iv", "run", "needles"),
    [
        ({"kind": "lottery"}, {}, ["interventions[0]", "kind must be one of", "'lottery'"]),
        ({"kind": "training", "levl": 0.9}, {}, ["interventions[0] (kind training).levl", "unknown key", "level"]),
        ({"kind": "training", "level": 1.5}, {}, ["interventions[0] (kind training).level", "[0.0, 1.0]"]),
        ({"kind": "seed", "date": "2027-01"}, {}, ["interventions[0] (kind seed)", "run.start"]),
        ({"kind": "seed", "date": "2020-01"}, {"start": "2027-01"}, ["before run.start"]),
        ({"kind": "seed", "date": "2027-13"}, {"start": "2027-01"}, ["date", "YYYY-MM"]),
        ({"kind": "set", "lever": "organisations.p", "value": 0.1}, {}, ["cannot be set during a run"]),
        ({"kind": "set", "lever": "levers.guardrails", "value": 2.0}, {}, ["outside the range", "[0.0, 1.0]"]),
        ({"kind": "training", "month": 10, "end_month": 5}, {}, ["ends", "before it starts"]),
        ({"kind": "training", "places": ["Atlantis"]}, {}, ["interventions[0] (kind training)", "places[0]",
                                                           "'Atlantis'"]),
        ({"kind": "grants", "places": {"rule": "highest_need"}}, {}, ["needs n"]),
    ],
)
def test_bad_interventions_exit_2_naming_the_file_index_and_field(
    tmp_path: Path, iv: dict[str, Any], run: dict[str, Any], needles: list[str]
) -> None:
    def toml(v: Any) -> str:
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(toml(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {toml(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines = ['extends = "teaching"', "[run]", "steps = 3"] + [f"{k} = {toml(v)}" for k, v in run.items()]
    lines += ["[[interventions]]"] + [f"{k} = {toml(v)}" for k, v in iv.items()]
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2, res.stderr
    text = " ".join((res.stderr + res.stdout).split())
    assert str(path.name) in text
    for needle in needles:
        assert needle in text, (needle, text)
    assert not out.exists()


def test_a_scenario_error_from_python_names_the_field() -> None:
    with pytest.raises(ScenarioError, match=r"interventions\[0\] \(kind offer\)\.decision_months"):
        scenario({"kind": "offer", "decision_months": -1.0})


# ---------------------------------------------------------------------------------------------- the example
def test_the_national_offer_example_runs_as_written(tmp_path: Path) -> None:
    path = ROOT / "scenarios" / "strategies" / "national-offer.toml"
    sc = load_scenario(path)
    assert [iv.kind for iv in sc.interventions] == ["offer", "measurement"]
    assert markers(sc)[0].date == "2029-01" and markers(sc)[0].month == 24.0
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--steps", "27", "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    df = pd.read_parquet(out / "model.parquet")
    assert df.loc[df["month"] <= 24, "agreements"].max() == 0
    assert df["agreements"].iloc[-1] > 0
    assert df["intervention_cost_sek_0"].iloc[-1] <= 500_000_000
    assert df["intervention_cost_sek_1"].iloc[-1] <= 20_000_000
    assert math.isfinite(df["intervention_cost_sek"].iloc[-1])
    assert Status.RUNNING == 1  # codes the tables use


def test_a_priced_set_pays_monthly_and_lapses_when_the_budget_is_spent() -> None:
    # 1,000 SEK a month, 5,500 SEK budget: months 4-8 paid (5 x 1,000), month 9 cannot be paid
    sc = scenario({"kind": "set", "month": 4, "lever": "levers.guardrails", "value": 0.95,
                   "cost_sek_per_month": 1000.0, "budget_sek": 5500.0})
    m = run_to(sc, 4)
    rt = m.interventions
    for month in range(4, 12):
        m.step()
        paid = min(month - 3, 5) * 1000.0
        assert m.state.strategy.spent[0] == pytest.approx(paid)
        assert rt.params_at(float(month), m.state.strategy.exhausted).levers.guardrails == (0.95 if month < 9 else
                                                                                              sc.levers.guardrails)


def test_the_docs_name_every_kind_and_field() -> None:
    from sim.interventions.schema import BY_KIND

    text = (ROOT / "docs" / "interventions.md").read_text(encoding="utf-8")
    missing = [f"{kind}.{name}" for kind, model in BY_KIND.items() for name in model.model_fields
               if f"`{name}`" not in text] + [kind for kind in BY_KIND if f"`{kind}`" not in text]
    assert not missing, f"docs/interventions.md does not name: {missing}"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "strategies").glob("*.toml")), ids=lambda p: p.stem)
def test_every_strategy_preset_loads_and_its_interventions_start(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.interventions and sc.run.start is not None
    m = SocialInnovationModel(sc.model_copy(update={"places": sc.places.model_copy(update={"target_scale": 0.05})}),
                              seed=1)
    first = min(mk.month for mk in markers(sc))
    for _ in range(int(first) + 1):
        m.step()
    assert m.state.strategy.started.any()


# ---------------------------------------------------------------------------------------------- added part-way


@pytest.mark.parametrize("declared", [(), ({"kind": "training", "month": 3, "places": "all", "level": 0.8},)])
def test_an_intervention_added_part_way_is_the_scenario_that_declared_it(declared: tuple) -> None:
    """Adding an offer at month 12 (a workshop's national role) gives, step for step, the run of a scenario that
    declared it last, starting at 12: same index, same random stream, same rows."""
    from sim.interventions.runtime import add_intervention
    from sim.interventions.schema import Offer

    offer = {"kind": "offer", "month": 12, "places": "all", "decision_months": 6, "budget_sek": 3e6}
    a = run_to(scenario(*declared, offer), 36)
    b = run_to(scenario(*declared), 12)
    assert add_intervention(b, Offer.model_validate(offer)) == len(declared)
    for _ in range(24):
        b.step()
    ta, tb = a.collector.model_frame(), b.collector.model_frame()
    assert set(tb.columns) == set(ta.columns)
    later = ta["month"] > 12  # the row of month 12 was collected before the offer was added
    assert ta.loc[later, "agreements"].iloc[-1] > 0  # the offer did something
    pd.testing.assert_frame_equal(ta.loc[later, list(ta.columns)].reset_index(drop=True),
                                  tb.loc[later, list(ta.columns)].reset_index(drop=True), check_dtype=False)
    shared = [c for c in ta.columns if not tb[c].isna().any()]
    pd.testing.assert_frame_equal(ta[shared], tb[shared], check_dtype=False)
    with pytest.raises(ValueError, match="cannot start earlier"):
        add_intervention(b, Offer.model_validate({**offer, "month": 2}))


def test_a_grant_of_almost_nothing_funds_every_applicant_without_overflow() -> None:
    """Found by the property test: budget / (a subnormal grant) is infinite; every applicant is then funded."""
    m = run_to(scenario({"kind": "grants", "month": 0, "places": "all", "grant_sek_per_month": 5e-324,
                         "length_months": 1.0, "budget_sek": 1e5}), 3)
    st = m.state.strategy
    assert st.spent[0] + st.committed[0] <= 1e5 and (st.grant_of == 0).any()
