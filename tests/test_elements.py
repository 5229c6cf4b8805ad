"""Each element's rule on small cases whose answer can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Funding, Status
from sim.elements.develop import develop
from sim.elements.envision import envision
from sim.elements.mobilise import mobilise
from sim.elements.spread import abandon, abandonment_rate, adoption_hazard, pilot_end, scale_up, start_sites
from sim.elements.transitions import move_between_elements, transition_matrix
from sim.elements.understand import partner_sectors, understand
from sim.elements.value import create_value
from sim.model import SocialInnovationModel
from sim.rates import per_step
from sim.scenario import (
    ELEMENTS,
    FORMS,
    SECTORS,
    ProcessParams,
    apply_overrides,
    load_scenario,
    read_scenario_data,
    resolve_scenario_path,
    scenario_from_dict,
)
from sim.solution import core_fidelity, g, local_fit

from .conftest import small_scenario

E = {name: i for i, name in enumerate(ELEMENTS)}
RUNNING, DISCONTINUED, ABANDONED = Status.RUNNING, Status.DISCONTINUED, Status.ABANDONED
PROJECT, ORDINARY = Funding.PROJECT, Funding.ORDINARY


def model_with(overrides: dict | None = None, seed: int = 1) -> SocialInnovationModel:
    return SocialInnovationModel(small_scenario(overrides), seed=seed)


def start(m: SocialInnovationModel, idx: np.ndarray) -> None:
    """Start sites ``idx`` with the model's own streams."""
    start_sites(m.state, m.params, idx, m.streams.sites)


# ---------------------------------------------------------------- rates and the solution


def test_per_step_identity_and_compounding() -> None:
    assert per_step(0.3, 1.0) == pytest.approx(0.3)
    half = per_step(0.3, 0.5)
    assert 1 - (1 - half) ** 2 == pytest.approx(0.3)
    assert per_step(0.3, 0.1, "rate") == pytest.approx(1 - np.exp(-0.03))


def test_fidelity_and_fit_hand_values() -> None:
    assert core_fidelity(np.array([[0.5, 0.5]]), np.array([0.5, 0.5]))[0] == 1.0
    # one component, distance 0.3 -> fit 0.7
    assert local_fit(np.array([[0.2]]), np.array([[0.5]]))[0] == pytest.approx(0.7)
    # the largest distance in the unit square gives 0
    assert core_fidelity(np.array([[0.0, 0.0]]), np.array([1.0, 1.0]))[0] == pytest.approx(0.0)


def test_g_is_logistic_with_top_one() -> None:
    f = np.linspace(0, 1, 101)
    y = g(f, 0.7, 15.0)
    assert y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(y) > 0)
    assert y[70] == pytest.approx(0.5 / (1 / (1 + np.exp(-15 * 0.3))))


def test_effectiveness_formula() -> None:
    m = model_with({"solution.fit_independent_share": 0.5})
    e = m.state.solution.effectiveness(np.array([0.1]), np.array([1.0]), np.array([0.4]))
    assert e[0] == pytest.approx(0.1 * 1.0 * (0.5 + 0.5 * 0.4))


# ---------------------------------------------------------------- 1 understand


def test_understand_raises_understanding_by_rule() -> None:
    m = model_with({"levers.involvement": 0.8, "process.understanding_rate": 0.2})
    o = m.orgs
    i = int(np.flatnonzero(o.running)[0])
    o.element[:] = -1
    o.element[i] = E["understand"]
    o.understanding[i] = 0.25
    sectors = partner_sectors(m.state)[i]
    assert 1 <= sectors <= len(SECTORS)
    understand(m.state, m.params)
    expected = 0.25 + 0.2 * 0.8 * (0.5 + 0.5 * sectors / 4) * 0.75
    assert o.understanding[i] == pytest.approx(expected)


def test_understanding_shrinks_estimate_error() -> None:
    from sim.elements.understand import estimated_need

    m = model_with()
    o = m.orgs
    i = np.array([int(np.flatnonzero(o.running)[0])])
    o.estimate_error[i] = 0.2
    o.understanding[i] = 1.0
    np.testing.assert_allclose(estimated_need(m.state, i), m.places.need[o.place[i]])
    o.understanding[i] = 0.0
    np.testing.assert_allclose(estimated_need(m.state, i), np.clip(m.places.need[o.place[i]] + 0.2, 0, 1))


# ---------------------------------------------------------------- 2 envision


def test_envision_clarity_and_norm_openness() -> None:
    m = model_with({"process.envision_rate": 0.1, "levers.norm_work": 0.05})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.element[:] = -1
    o.element[run] = E["envision"]
    o.gamma[run] = 0.5
    before = m.places.openness.copy()
    n_here = np.bincount(o.place[run], minlength=m.places.n)
    envision(m.state, m.params)
    np.testing.assert_allclose(o.gamma[run], 0.5 + 0.1 * 0.5)
    np.testing.assert_allclose(m.places.openness, before + 0.05 * (n_here > 0) * (1 - before))  # per place, not head count


def test_openness_lowers_thresholds() -> None:
    m = model_with({"organisations.threshold_mean": 0.9, "organisations.threshold_sd": 0.0, "organisations.p": 0.0,
                    "organisations.visibility_pull": 0.0, "process.spread_push": 0.0})
    h0 = adoption_hazard(m.state, m.params)
    m.places.openness[:] = np.minimum(1.0, m.places.openness_initial + 0.95)
    h1 = adoption_hazard(m.state, m.params)
    assert np.all(h1 >= h0) and np.any(h1 > h0)


def test_peer_mixing_blends_ties_with_the_eligible_pool() -> None:
    """Hazard = p + q * x with x = (1 - m) * (share of ties running) + m * (share of the eligible pool running)."""
    fixed = {"organisations.threshold_mean": 0.0, "organisations.threshold_sd": 0.0, "organisations.p": 0.001,
             "organisations.visibility_pull": 0.0, "process.spread_push": 0.0, "levers.guardrails": 0.0,
             "organisations.q": 0.4}
    m0 = model_with(fixed)
    m1 = model_with({**fixed, "organisations.peer_mixing": 0.25})
    o = m1.orgs
    assert np.array_equal(o.running, m0.orgs.running) and np.array_equal(o.eligible, m0.orgs.eligible)
    ties = m1.state.network.share(o.running.astype(float))
    pool = (o.running & o.eligible).sum() / o.eligible.sum()
    assert 0 < pool < 1
    h0, h1 = adoption_hazard(m0.state, m0.params), adoption_hazard(m1.state, m1.params)
    np.testing.assert_allclose(h0, 0.001 + 0.4 * ties)
    np.testing.assert_allclose(h1, 0.001 + 0.4 * (0.75 * ties + 0.25 * pool))
    # an organisation with no running tie still imitates the national peer group
    lonely = np.flatnonzero(ties == 0)
    assert len(lonely) and np.all(h1[lonely] > h0[lonely])


def test_host_places_keep_the_eligible_pool_in_the_most_populous_places() -> None:
    """host_places = 1: only the largest place's organisations may run it; nothing else of the world changes."""
    m0 = SocialInnovationModel(load_scenario("teaching"), seed=3)
    m1 = SocialInnovationModel(scenario_from_dict(apply_overrides(read_scenario_data(resolve_scenario_path(
        "teaching"))[0], {"organisations.host_places": 1, "organisations.initial_adopters": 0}), "<test>"), seed=3)
    pop = m1.places.population
    largest = int(np.argmax(pop))
    o0, o1 = m0.orgs, m1.orgs
    assert np.array_equal(o1.eligible, o0.eligible & (o0.place == largest))
    assert o1.eligible.any() and not o1.eligible[o1.place != largest].any()
    np.testing.assert_array_equal(o1.phi, o0.phi)  # no extra random draw: the rest of the world is the same
    for _ in range(24):
        m1.step()
    assert not (o1.status[o1.place != largest] != Status.NOT_ADOPTED).any()


# ---------------------------------------------------------------- 3 mobilise


def test_mobilise_resources_grow_and_decay() -> None:
    m = model_with({"process.mobilise_rate": 0.2, "process.resource_decay": 0.1, "levers.brokering": 0.0,
                    "process.alliance_rate": 0.0})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.element[:] = -1
    o.element[run[0]] = E["mobilise"]
    o.knowledge[run] = 0.5
    mobilise(m.state, m.params, m.streams.organisations)
    assert o.knowledge[run[0]] == pytest.approx(0.5 * 0.9 + 0.2 * (1 - 0.5 * 0.9))
    assert o.knowledge[run[1]] == pytest.approx(0.45)


def test_brokering_adds_cross_sector_ties() -> None:
    m = model_with({"levers.brokering": 1.0})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.element[run] = E["mobilise"]
    ties = m.state.network.n_ties
    before = m.state.network.csr.copy()
    mobilise(m.state, m.params, m.streams.organisations)
    assert m.state.network.n_ties > ties
    new = (m.state.network.csr - before).tocoo()
    for i, j in zip(new.row, new.col, strict=True):
        assert o.sector[i] != o.sector[j]


def test_new_sites_get_project_grants_in_range() -> None:
    m = model_with({"levers.project_share": 1.0, "levers.project_length_min": 24.0, "levers.project_length_max": 36.0})
    o = m.orgs
    run = o.running
    assert np.all(o.funding[run] == PROJECT)
    assert np.all((o.project_end[run] >= 24.0) & (o.project_end[run] <= 36.0))


# ---------------------------------------------------------------- 4 develop


def develop_one(overrides: dict) -> tuple[SocialInnovationModel, int, np.ndarray, np.ndarray]:
    """One fully understanding organisation develops for one step: (model, its id, variant before, its need)."""
    m = model_with(overrides)
    o = m.orgs
    i = int(np.flatnonzero(o.running)[0])
    o.element[:] = -1
    o.element[i] = E["develop"]
    o.understanding[i] = 1.0
    v0 = o.variant[i].copy()
    need = m.places.need[o.place[i]]
    develop(m.state, m.params, m.streams.solution)
    return m, i, v0, need


def test_develop_moves_periphery_keeps_core_under_full_guardrails() -> None:
    m, i, v0, need = develop_one({"levers.adaptation_rate": 0.5, "levers.guardrails": 1.0,
                                  "process.experiment_rate": 0.0, "process.learning_rate": 0.0})
    o = m.orgs
    core, per = m.state.solution.core, m.state.solution.periphery
    np.testing.assert_allclose(o.variant[i, core], v0[core])
    np.testing.assert_allclose(o.variant[i, per], v0[per] + 0.5 * (need[per] - v0[per]))


def test_adaptation_without_knowledge_of_the_core_drags_it() -> None:
    """kappa = 1 - (1 - gamma)(1 - guardrails); every component moves by a (1 - belief it is core)."""
    gamma, guard = 0.2, 0.25
    m, i, v0, need = develop_one({"levers.adaptation_rate": 0.5, "levers.guardrails": guard, "levers.vision_clarity": gamma,
                                  "levers.core_drift": 0.0, "process.experiment_rate": 0.0,
                                  "process.learning_rate": 0.0})
    o = m.orgs
    core, per = m.state.solution.core, m.state.solution.periphery
    kappa = 1 - (1 - gamma) * (1 - guard)
    np.testing.assert_allclose(o.variant[i, core], v0[core] + 0.5 * (1 - kappa) / 2 * (need[core] - v0[core]))
    np.testing.assert_allclose(o.variant[i, per], v0[per] + 0.5 * (1 + kappa) / 2 * (need[per] - v0[per]))


def test_core_drift_scales_with_vision_and_guardrails() -> None:
    spreads = []
    for gamma, guard in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5)):
        m = model_with({"levers.adaptation_rate": 0.0, "levers.core_drift": 0.1, "levers.guardrails": guard,
                        "levers.vision_clarity": gamma, "organisations.initial_adopters": 18,
                        "process.experiment_rate": 0.0})
        o = m.orgs
        o.element[o.running] = E["develop"]
        v0 = o.variant.copy()
        develop(m.state, m.params, m.streams.solution)
        spreads.append(np.std(o.variant[:, m.state.solution.core] - v0[:, m.state.solution.core]))
    # sd is 0.1 * (1 - gamma) * (1 - guardrails): halved in both other cases (clipping aside)
    assert spreads[1] == pytest.approx(spreads[0] / 2, rel=0.35)
    assert spreads[2] == pytest.approx(spreads[0] / 2, rel=0.35)


# ---------------------------------------------------------------- 5 realise and spread


def test_full_mixing_hazard_is_bass() -> None:
    m = model_with({"organisations.network": "full", "organisations.threshold_mean": 0.0,
                    "organisations.threshold_sd": 0.0, "organisations.visibility_pull": 0.0,
                    "process.spread_push": 0.0, "levers.guardrails": 0.0, "organisations.p": 0.02,
                    "organisations.q": 0.3})
    o = m.orgs
    share = o.running.sum() / o.n
    np.testing.assert_allclose(adoption_hazard(m.state, m.params)[~o.running], 0.02 + 0.3 * share)


def test_threshold_rule_is_a_step() -> None:
    m = model_with({"organisations.network": "full", "organisations.influence": "threshold",
                    "organisations.threshold_sd": 0.0, "organisations.p": 0.0, "organisations.q": 1.0,
                    "organisations.visibility_pull": 0.0, "process.spread_push": 0.0})
    o = m.orgs
    share = o.running.sum() / o.n
    o.phi[:] = share  # exactly at the threshold: adopts
    assert np.all(adoption_hazard(m.state, m.params) == 1.0)
    o.phi[:] = share + 0.01
    assert np.all(adoption_hazard(m.state, m.params) == 0.0)


def test_adoption_starts_a_site_in_understand() -> None:
    m = model_with()
    o = m.orgs
    i = np.array([int(np.flatnonzero(~o.running)[0])])
    start(m, i)
    assert o.status[i[0]] == RUNNING and o.element[i[0]] == E["understand"]
    assert o.adopt_month[i[0]] == m.month


def test_guarded_adopter_copies_the_design() -> None:
    m = model_with({"levers.guardrails": 1.0})
    o = m.orgs
    i = np.array([int(np.flatnonzero(~o.running)[0])])
    start(m, i)
    np.testing.assert_allclose(o.variant[i[0]], m.state.solution.c0)


@pytest.mark.parametrize(("intercept", "permanent"), [(20.0, True), (-20.0, False)])
def test_pilot_end_institutionalises_or_kills(intercept: float, permanent: bool) -> None:
    m = model_with({"funding.intercept": intercept, "funding.renewal": 0.0, "levers.project_share": 1.0})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.project_end[run] = m.month
    made, died = pilot_end(m.state, m.params, m.streams.funding)
    if permanent:
        assert made == len(run) and died == 0
        assert np.all(o.funding[run] == ORDINARY) and np.all(o.status[run] == RUNNING)
    else:
        assert died == len(run) and made == 0
        assert np.all(o.status[run] == DISCONTINUED)
    assert np.all(o.funding_ended[run] == m.month)


def test_mobilising_sites_get_renewed_grants() -> None:
    m = model_with({"funding.renewal": 1.0, "levers.project_share": 1.0})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.element[run] = E["mobilise"]
    o.project_end[run] = m.month
    assert pilot_end(m.state, m.params, m.streams.funding) == (0, 0)
    assert np.all(o.project_end[run] > m.month) and np.all(o.status[run] == RUNNING)


def test_abandonment_rate_formula_and_stop() -> None:
    m = model_with({"organisations.abandonment": 0.01, "organisations.abandonment_fit_effect": 2.0,
                    "organisations.abandonment_effect_effect": 0.0, "organisations.abandonment_unfunded": 3.0})
    o = m.orgs
    i = int(np.flatnonzero(o.running)[0])
    o.fit[i] = 0.5
    o.funding[i] = ORDINARY
    mult = m.params.value.form_abandonment[FORMS[o.form[i]]]
    assert abandonment_rate(m.state, m.params)[i] == pytest.approx(0.01 * mult * 2.0)
    u = np.ones(o.n)
    u[i] = 0.0
    gone = abandon(m.state, m.params, u)
    assert list(gone) == [i] and o.status[i] == ABANDONED and o.element[i] == -1


def test_scaling_up_moves_sites_to_budget_and_respects_refusal() -> None:
    m = model_with({"levers.scaling_up_threshold": 0.0, "scaling_up.refusal_need": 0.5,
                    "levers.project_share": 1.0, "scaling_up.threshold_cut": 0.5})
    o = m.orgs
    m.places.severity[:] = [0.2, 0.8, 0.9]
    phi0 = o.phi.copy()
    assert scale_up(m.state, m.params, m.streams.scaling)
    refused = m.state.policy.refused
    assert list(refused) == [True, False, False]
    in_refusing = refused[o.place]
    assert np.all(o.funding[o.running & ~in_refusing] == ORDINARY)
    assert np.all(o.funding[o.running & in_refusing] == PROJECT)
    np.testing.assert_allclose(o.phi[~in_refusing], phi0[~in_refusing] * 0.5)
    np.testing.assert_allclose(o.phi[in_refusing], phi0[in_refusing])
    assert not scale_up(m.state, m.params, m.streams.scaling)  # once only


# ---------------------------------------------------------------- 6 create value


def test_value_accounts_by_hand() -> None:
    m = model_with({"value.economic_per_beneficiary_sek": 1000.0, "value.environmental_per_beneficiary": 2.0,
                    "value.measurement_cost_sek": 100.0, "levers.measurement_effort": 0.5, "value.value_boost": 0.0})
    o = m.orgs
    new = np.array([3, 0, 1])
    create_value(m.state, m.params, new)
    acc = m.state.accounts
    np.testing.assert_allclose(acc.social, new)
    np.testing.assert_allclose(acc.economic, new * 1000.0)
    np.testing.assert_allclose(acc.environmental, new * 2.0)
    np.testing.assert_allclose(acc.visible, new * 0.5)
    costs = np.array([m.params.value.site_cost_sek[f] for f in ("project", "alliance", "new_organisation",
                                                                   "internal_unit")])
    run = o.running
    expected = np.bincount(o.place[run], weights=costs[o.form[run]] + 100.0 * 0.5, minlength=3)
    np.testing.assert_allclose(acc.cost, expected)


# ---------------------------------------------------------------- transitions


def test_transition_matrix_rows_are_distributions() -> None:
    t = transition_matrix(ProcessParams())
    np.testing.assert_allclose(t.sum(axis=1), 1.0)
    assert np.all(t >= 0)


def test_moves_follow_the_matrix() -> None:
    only = {e: {} for e in ELEMENTS}
    only["understand"] = {"envision": 1.0}
    m = model_with({"process.transitions": only, "process.shortfall_to_mobilise": 0.0,
                    "organisations.initial_adopters": 6})
    o = m.orgs
    run = o.running
    o.element[run] = E["understand"]
    flows = move_between_elements(m.state, m.params, np.full(o.n, 0.5))
    assert np.all(o.element[run] == E["envision"])
    assert flows[E["understand"], E["envision"]] == run.sum() and flows.sum() == run.sum()


def test_poor_fit_sends_developers_back_to_understand() -> None:
    only = {e: {} for e in ELEMENTS}
    only["develop"] = {"understand": 0.1}
    m = model_with({"process.transitions": only, "process.poor_fit_to_understand": 3.0,
                    "process.shortfall_to_mobilise": 0.0, "organisations.initial_adopters": 2})
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.element[run] = E["develop"]
    o.fit[run] = [1.0, 0.0]  # multiplier 1 and 4: probability 0.1 and 0.4
    u = np.ones(o.n)
    u[run] = 0.2
    move_between_elements(m.state, m.params, u)
    assert o.element[run[0]] == E["develop"] and o.element[run[1]] == E["understand"]
