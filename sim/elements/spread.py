"""Element 5, realise and spread (Förverkliga och sprida).

* **Adoption by organisations (scaling out)**, :func:`adopt`. For an organisation
  not running the solution the monthly hazard is::

      p_i * (1 - guardrail_spread_cost * guardrails) + visibility_pull * V_vis
        + q * s(x_i) * [x_i >= phi_i'] + spread_push * y_i

  where ``x_i`` is the exposure: the share of its ties that run the solution (a sparse
  mat-vec; under full mixing the share of all organisations), blended with weight
  ``peer_mixing`` with the share of the eligible pool running it (the national peer
  group: municipalities see municipalities), ``s(x) = x`` for
  ``influence = "proportional"`` and ``1`` for ``"threshold"``, ``phi_i' = phi_i *
  (1 - gain in norm openness of its place)`` (scaling deep lowers thresholds) and
  ``y_i`` the share of ties in the spread element. With ``phi = 0``, full mixing and
  the extra terms off, this is the Bass model ``p + q N/m``. A new adopter enters
  *understand* (a new place must be understood first) and takes a variant:
  ``guardrails * c0 + (1 - guardrails) * (the mean variant running in its place, or
  anywhere)``.
* **Who may adopt**, :func:`may_adopt`: eligible organisations (``eligible_share``) in
  places open to the solution (not refusing the policy; for a public solution, once a
  public organisation there runs it).
* **Pilot end**, :func:`pilot_end`. When a project grant ends, the site gets a
  renewed grant with probability ``renewal``; otherwise it becomes permanent
  (ordinary budget) with probability ``logistic(intercept + w_e V_place + w_m
  mandate_reach + w_f L + w_a alliance + w_c champion + w_s support - w_cost
  cost/own budget)``, else it carries on unfunded with probability
  ``continue_unfunded`` or is discontinued ("pilot death").
* **Abandonment**, :func:`abandon`. Running sites stop at a monthly rate ``abandonment
  * form_abandonment[form] * (1 + fit_effect (1 - L)) * (1 + effect_effect (1 - E/e))
  * (abandonment_unfunded if unfunded)``.
* **Scaling up**, :func:`scale_up`. When the share of places reached passes
  ``scaling_up_threshold``, or ``V_vis`` passes ``evidence_threshold``, or advocacy
  triggers it (monthly probability ``advocacy``), a mandate holder (a national agency,
  an SKR-like body) moves running sites to ordinary budgets, funds new ones
  (``p_boost``) and lowers thresholds by ``threshold_cut``; places whose severity is
  below ``refusal_need`` refuse.
* **Target groups** are served by the running sites of their place
  (:func:`place_service`; the member rules are in :mod:`sim.population`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from sim.codes import NOT_ENGAGED, Element, Form, Funding, Sector, Status
from sim.elements.mobilise import INTERNAL_UNIT_MANDATE, fund_new_sites, mandate_reach
from sim.organisations import RESOURCES_MEAN
from sim.population import PlaceService
from sim.scenario import FORMS, Scenario
from sim.state import SimState

SPREAD = Element.SPREAD
OWN_BUDGET_FLOOR = 0.5
"""An organisation's budget for a site is ``budget_sek * (OWN_BUDGET_FLOOR + money)``: 0.5-1.5 times the typical
budget (money in [0, 1], mean 0.4 at the start), so richer organisations carry the running cost more easily."""
UNDERSTAND = Element.UNDERSTAND


def adoption_hazard(state: SimState, params: Scenario) -> np.ndarray:
    """Monthly adoption hazard of every organisation (meaningful for non-adopters)."""
    o = state.orgs
    op = params.organisations
    lev = params.levers
    running = o.running.astype(np.float64)
    x = state.network.share(running)
    if op.peer_mixing > 0:  # the national peer group: the eligible pool
        n_eligible = int(o.eligible.sum())
        peers = float((running * o.eligible).sum() / n_eligible) if n_eligible else 0.0
        x = (1.0 - op.peer_mixing) * x + op.peer_mixing * peers
    gain = np.clip(state.places.openness - state.places.openness_initial, 0.0, 1.0)[o.place]
    phi = o.phi * (1.0 - gain)
    social = x if op.influence == "proportional" else np.ones_like(x)
    guard = state.place_levers.of("guardrails", lev.guardrails, o.place)  # per place where training acts
    h = o.p * (1.0 - lev.guardrail_spread_cost * guard) + op.visibility_pull * state.visibility_signal
    h = h + op.q * social * (x >= phi - 1e-12)
    push = params.process.spread_push
    if push > 0:
        h = h + push * state.network.share((o.running & (o.element == SPREAD)).astype(np.float64))
    return h


def may_adopt(state: SimState, params: Scenario) -> np.ndarray:
    """Who may start running the solution now (bool per organisation).

    Eligible organisations (relevant to the challenge) not running it (or, with
    ``readoption``, that stopped), in places open to it: a place that refused the
    scaling-up policy stays out; for a public solution (``public_gate``) a place opens
    when a public organisation there (the municipality) runs it, and only its public
    organisations can open it.
    """
    o = state.orgs
    op = params.organisations
    free = o.status == Status.NOT_ADOPTED
    if op.readoption:
        free |= (o.status == Status.DISCONTINUED) | (o.status == Status.ABANDONED)
    open_place = state.open_places(op.public_gate)[o.place]
    if op.public_gate:
        open_place |= (o.sector == Sector.PUBLIC) & ~state.policy.refused[o.place]
    return free & o.eligible & open_place


def adopt(state: SimState, params: Scenario, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Organisations that adopt this step (``u``: one uniform per organisation; ``rng``: the ``sites`` stream).

    Returns their ids.
    """
    h = state.ps(adoption_hazard(state, params))
    new = np.flatnonzero(may_adopt(state, params) & (u < h))
    start_sites(state, params, new, rng)
    return new


def start_sites(state: SimState, params: Scenario, idx: np.ndarray, rng: np.random.Generator) -> None:
    """Make organisations ``idx`` run the solution from now.

    Draws from ``rng`` (the ``sites`` stream) one fixed-size set of numbers per call, one
    row per organisation whether it starts or not (common random numbers: what one
    organisation draws does not depend on how many others start): need-estimate errors,
    champion, funding and project length.
    """
    o = state.orgs
    lev = params.levers
    k = o.variant.shape[1]
    err = params.process.estimate_noise * rng.standard_normal((o.n, k), dtype=np.float32)
    u_champion, u_funding = rng.random((2, o.n))
    length = rng.uniform(lev.project_length_min, lev.project_length_max, o.n)
    if len(idx) == 0:
        return
    c0 = state.solution.c0
    # the variant they take: guarded copy of the design, else of what runs near them
    source = np.tile(c0, (len(idx), 1))
    running = o.running
    if running.any():
        n_pl = state.places.n
        cnt = np.bincount(o.place[running], minlength=n_pl)
        mean_all = o.variant[running].mean(axis=0)
        sums = np.stack([np.bincount(o.place[running], weights=o.variant[running, j], minlength=n_pl) for j in range(k)], 1)
        local = sums / np.maximum(cnt, 1)[:, None]
        pl = o.place[idx]
        source = np.where((cnt[pl] > 0)[:, None], local[pl], mean_all[None, :])
    first = np.isnan(o.adopt_month[idx])
    guard = state.place_levers.of("guardrails", lev.guardrails, o.place[idx])
    guard = guard[:, None] if isinstance(guard, np.ndarray) else guard
    o.variant[idx] = guard * c0 + (1.0 - guard) * source
    o.estimate_error[idx] = err[idx]
    o.champion[idx] = u_champion[idx] < params.funding.champion_share
    o.status[idx] = Status.RUNNING
    o.element[idx] = UNDERSTAND
    o.adopt_month[idx[first]] = state.month
    o.stop_month[idx] = np.nan
    fund_new_sites(state, params, idx, u_funding[idx], length[idx])


def pilot_end(state: SimState, params: Scenario, rng: np.random.Generator) -> tuple[int, int]:
    """Decide the fate of sites whose project grant ends now. Returns (made permanent, discontinued)."""
    o = state.orgs
    fp = params.funding
    lev = params.levers
    month = state.month
    u_renew, u_keep, u_carry = rng.random((3, o.n))
    length = rng.uniform(lev.project_length_min, lev.project_length_max, o.n)
    ending = np.flatnonzero(o.running & (o.funding == Funding.PROJECT) & (o.project_end <= month + 1e-9))
    if len(ending) == 0:
        return 0, 0
    renew = ending[(u_renew[ending] < fp.renewal) & state.place_levers.money(o.place[ending])]
    o.project_end[renew] = month + length[renew]
    rest = np.setdiff1d(ending, renew)
    o.funding_ended[rest] = month
    vp = params.value
    # running cost against what the organisation can carry: its budget scaled by its money (mean 0.4 -> 0.9)
    own_budget = vp.budget_sek * (OWN_BUDGET_FLOOR + o.money[rest])
    cost = np.array([vp.site_cost_sek[f] for f in FORMS])[o.form[rest]] / own_budget
    v_place = state.place_visibility()[o.place[rest]]
    logit = (
        fp.intercept + fp.evidence_weight * v_place + fp.mandate_weight * mandate_reach(state)[rest]
        + fp.fit_weight * np.nan_to_num(o.fit[rest]) + fp.alliance_weight * (o.alliance[rest] >= 0)
        + fp.champion_weight * o.champion[rest] + fp.support_weight * lev.institutionalisation_support
        - fp.cost_weight * cost
    )
    keep = u_keep[rest] < expit(logit)
    made = rest[keep]
    died = rest[~keep]
    o.funding[made] = Funding.ORDINARY
    o.project_end[made] = np.nan
    o.form[made] = permanent_form(state, made)
    carry = died[u_carry[died] < fp.continue_unfunded]  # carry on without funding (abandon faster)
    o.funding[carry] = Funding.NONE
    o.project_end[carry] = np.nan
    died = np.setdiff1d(died, carry)
    stop(state, died, Status.DISCONTINUED)
    return len(made), len(died)


def permanent_form(state: SimState, idx: np.ndarray) -> np.ndarray:
    """Long-term form of sites made permanent: alliance, internal unit (high mandate) or new organisation."""
    o = state.orgs
    own = np.where(o.mandate[idx] >= INTERNAL_UNIT_MANDATE, Form.INTERNAL_UNIT, Form.NEW_ORGANISATION)
    return np.where(o.alliance[idx] >= 0, Form.ALLIANCE, own).astype(np.int8)


def stop(state: SimState, idx: np.ndarray, status: Status) -> None:
    """Sites ``idx`` stop running (pilot death or abandonment)."""
    o = state.orgs
    o.status[idx] = status
    o.element[idx] = NOT_ENGAGED
    o.funding[idx] = Funding.NONE
    o.project_end[idx] = np.nan
    o.stop_month[idx] = state.month
    o.alliance[idx] = -1


def abandonment_rate(state: SimState, params: Scenario) -> np.ndarray:
    """Monthly abandonment rate of every site (meaningful for running ones)."""
    o = state.orgs
    op = params.organisations
    vp = params.value
    form_mult = np.array([vp.form_abandonment[f] for f in FORMS])[o.form]
    e_ref = max(params.solution.effect_size, 1e-12)
    rel_e = np.clip(o.effectiveness / e_ref, 0.0, 1.0)
    rate = op.abandonment * form_mult * (1.0 + op.abandonment_fit_effect * (1.0 - np.nan_to_num(o.fit, nan=1.0)))
    rate *= 1.0 + op.abandonment_effect_effect * (1.0 - rel_e)
    rate *= np.where(o.funding == Funding.NONE, op.abandonment_unfunded, 1.0)
    return rate


def abandon(state: SimState, params: Scenario, u: np.ndarray) -> np.ndarray:
    """Running sites that are abandoned this step (``u``: one uniform per organisation)."""
    o = state.orgs
    gone = np.flatnonzero(o.running & (u < state.ps(abandonment_rate(state, params))))
    stop(state, gone, Status.ABANDONED)
    return gone


def scale_up(state: SimState, params: Scenario, rng: np.random.Generator) -> bool:
    """Trigger scaling up when coverage, evidence or advocacy says so. Returns True on the step it happens."""
    su = params.scaling_up
    lev = params.levers
    u = rng.random()
    if not su.enabled or state.policy.in_force:
        return False
    if not (
        state.places_reached_share >= lev.scaling_up_threshold
        or state.visibility_signal >= lev.evidence_threshold
        or u < state.ps(lev.advocacy)
    ):
        return False
    bring_policy_into_force(state, params)
    return True


def bring_policy_into_force(state: SimState, params: Scenario) -> None:
    """The scaling-up policy comes into force now (once :func:`scale_up` triggers it, or a workshop's mandate holder).

    Low-need places refuse; covered running projects move to ordinary budgets; covered
    organisations get lower thresholds and a higher own propensity.
    """
    su = params.scaling_up
    state.policy.month = state.month
    state.policy.refused = state.places.severity < su.refusal_need
    o = state.orgs
    covered = state.policy.covers(o.place)
    moved = covered & o.running & (o.funding == Funding.PROJECT)
    o.funding[moved] = Funding.ORDINARY
    o.funding_ended[moved] = state.month
    o.project_end[moved] = np.nan
    o.moved_by_policy[moved] = True
    o.form[moved] = permanent_form(state, np.flatnonzero(moved))
    o.phi[covered] *= 1.0 - su.threshold_cut
    o.p[covered] += su.p_boost


def site_capacity(state: SimState, params: Scenario) -> np.ndarray:
    """Participants each site can serve [members]: ``site_capacity * target_scale * resources / RESOURCES_MEAN``.

    A site's capacity grows with its knowledge, labour and money (mean 0.4 at the
    start gives ``population.site_capacity`` persons); resources decay while it runs
    and are restored by mobilising, so a site short of resources serves fewer people.
    """
    o = state.orgs
    return params.population.site_capacity * params.places.target_scale * o.resources / RESOURCES_MEAN


def place_service(state: SimState, params: Scenario) -> PlaceService:
    """What the running sites of each place offer the target group this step (capacity: the sum of their capacities)."""
    o = state.orgs
    n = state.places.n
    run = o.running
    pl = o.place[run]
    capacity = np.bincount(pl, weights=site_capacity(state, params)[run], minlength=n)
    sites = np.bincount(pl, minlength=n).astype(np.float64)
    denom = np.maximum(sites, 1.0)
    fit = np.bincount(pl, weights=np.nan_to_num(o.fit[run]), minlength=n) / denom
    eff = np.bincount(pl, weights=o.effectiveness[run], minlength=n) / denom
    spreading = np.bincount(o.place[run & (o.element == SPREAD)], minlength=n)
    boost = 1.0 + spreading / denom
    return PlaceService(
        sites=sites, fit=fit, effectiveness=eff, openness=state.places.openness, outreach_boost=boost, capacity=capacity
    )


def serve_target_groups(
    state: SimState, params: Scenario, rng: np.random.Generator, turnover_rng: np.random.Generator
) -> np.ndarray:
    """The target groups' step (awareness, participation, benefit, dropout), then cohort turnover.

    Returns the number of new beneficiaries per place this step.
    """
    people = state.people
    u = people.draw_uniforms(rng)  # = rng.random(n, dtype=float32), into a reused buffer
    new_benef = people.step(place_service(state, params), state.clock.dt, state.clock.rate_mode, u)
    if params.population.turnover > 0:
        share = state.ps(params.population.turnover)
        people.turn_over(float(share), state.places.severity, turnover_rng)
    return new_benef
