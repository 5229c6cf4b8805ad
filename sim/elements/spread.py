"""Element 5, realise and spread (Förverkliga och sprida).

* **Adoption by organisations (scaling out)**, :func:`adopt`. For an organisation
  not running the solution the monthly hazard is::

      p_i * (1 - guardrail_spread_cost * guardrails) + visibility_pull * V_vis
        + q * s(x_i) * [x_i >= phi_i'] + spread_push * y_i

  where ``x_i`` is the share of its ties that run the solution (a sparse mat-vec;
  under full mixing the share of all organisations), ``s(x) = x`` for
  ``influence = "proportional"`` and ``1`` for ``"threshold"``, ``phi_i' = phi_i *
  (1 - gain in norm openness of its place)`` (scaling deep lowers thresholds) and
  ``y_i`` the share of ties in the spread element. With ``phi = 0``, full mixing and
  the extra terms off, this is the Bass model ``p + q N/m``. A new adopter enters
  *understand* (a new place must be understood first) and takes a variant:
  ``guardrails * c0 + (1 - guardrails) * (the mean variant running in its place, or
  anywhere)``.
* **Pilot end**, :func:`pilot_end`. When a project grant ends, a mobilising site
  gets a renewed grant with probability ``renewal``; otherwise the site becomes
  permanent (ordinary budget) with probability ``logistic(intercept + w_e V_place +
  w_m mandate_reach + w_f L + w_a alliance + w_c champion + w_s support - w_cost
  cost/budget)``, else it is discontinued ("pilot death").
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

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from sim.agents import ABANDONED, DISCONTINUED, NO_FUNDING, ORDINARY, PROJECT, RUNNING
from sim.elements.mobilise import fund_new_sites, mandate_reach
from sim.elements.value import visibility
from sim.population import PlaceService
from sim.scenario import ELEMENTS, FORMS

if TYPE_CHECKING:
    from sim.model import SocialInnovationModel

SPREAD = ELEMENTS.index("spread")
UNDERSTAND = ELEMENTS.index("understand")


def adoption_hazard(model: SocialInnovationModel) -> np.ndarray:
    """Monthly adoption hazard of every organisation (meaningful for non-adopters)."""
    o = model.orgs
    op = model.params.organisations
    lev = model.params.levers
    running = o.running.astype(np.float64)
    x = model.network.share(running)
    gain = np.clip(model.places.openness - model.places.openness_initial, 0.0, 1.0)[o.place]
    phi = o.phi * (1.0 - gain)
    social = x if op.influence == "proportional" else np.ones_like(x)
    h = o.p * (1.0 - lev.guardrail_spread_cost * lev.guardrails) + op.visibility_pull * model.visibility_signal
    h = h + op.q * social * (x >= phi - 1e-12)
    push = model.params.process.spread_push
    if push > 0:
        h = h + push * model.network.share((o.running & (o.element == SPREAD)).astype(np.float64))
    return h


def adopt(model: SocialInnovationModel, u: np.ndarray) -> np.ndarray:
    """Organisations that adopt this step (``u``: one uniform per organisation). Returns their ids."""
    o = model.orgs
    op = model.params.organisations
    eligible = o.status == 0
    if op.readoption:
        eligible |= (o.status == DISCONTINUED) | (o.status == ABANDONED)
    h = model.ps(adoption_hazard(model))
    new = np.flatnonzero(eligible & (u < h))
    start_sites(model, new)
    return new


def start_sites(model: SocialInnovationModel, idx: np.ndarray) -> None:
    """Make organisations ``idx`` run the solution from now."""
    if len(idx) == 0:
        return
    o = model.orgs
    lev = model.params.levers
    rng = model.streams.organisations
    k = o.variant.shape[1]
    # the variant they take: guarded copy of the design, else of what runs near them
    source = np.tile(model.solution.c0, (len(idx), 1))
    running = o.running
    if running.any():
        n_pl = model.places.n
        cnt = np.bincount(o.place[running], minlength=n_pl)
        mean_all = o.variant[running].mean(axis=0)
        sums = np.stack([np.bincount(o.place[running], weights=o.variant[running, j], minlength=n_pl) for j in range(k)], 1)
        local = sums / np.maximum(cnt, 1)[:, None]
        pl = o.place[idx]
        source = np.where((cnt[pl] > 0)[:, None], local[pl], mean_all[None, :])
    first = np.isnan(o.adopt_month[idx])
    o.variant[idx] = lev.guardrails * model.solution.c0 + (1.0 - lev.guardrails) * source
    o.estimate_error[idx] = rng.normal(0.0, model.params.process.estimate_noise, (len(idx), k))
    o.champion[idx] = rng.random(len(idx)) < model.params.funding.champion_share
    o.status[idx] = RUNNING
    o.element[idx] = UNDERSTAND
    o.adopt_month[idx[first]] = model.month
    o.stop_month[idx] = np.nan
    fund_new_sites(model, idx)


def pilot_end(model: SocialInnovationModel) -> tuple[int, int]:
    """Decide the fate of sites whose project grant ends now. Returns (made permanent, discontinued)."""
    o = model.orgs
    fp = model.params.funding
    lev = model.params.levers
    rng = model.streams.funding
    u_renew, u_keep = rng.random((2, o.n))
    length = rng.uniform(lev.project_length_min, lev.project_length_max, o.n)
    ending = np.flatnonzero(o.running & (o.funding == PROJECT) & (o.project_end <= model.month + 1e-9))
    if len(ending) == 0:
        return 0, 0
    renew = ending[(o.element[ending] == ELEMENTS.index("mobilise")) & (u_renew[ending] < fp.renewal)]
    o.project_end[renew] = model.month + length[renew]
    rest = np.setdiff1d(ending, renew)
    o.funding_ended[rest] = model.month
    vp = model.params.value
    cost = np.array([vp.site_cost_sek[f] for f in FORMS])[o.form[rest]] / vp.budget_sek
    v_place = visibility(model.accounts.visible, model.place_visibility_scale)[o.place[rest]]
    logit = (
        fp.intercept + fp.evidence_weight * v_place + fp.mandate_weight * mandate_reach(model)[rest]
        + fp.fit_weight * np.nan_to_num(o.fit[rest]) + fp.alliance_weight * (o.alliance[rest] >= 0)
        + fp.champion_weight * o.champion[rest] + fp.support_weight * lev.institutionalisation_support
        - fp.cost_weight * cost
    )
    keep = u_keep[rest] < expit(logit)
    made = rest[keep]
    died = rest[~keep]
    o.funding[made] = ORDINARY
    o.project_end[made] = np.nan
    o.form[made] = permanent_form(model, made)
    stop(model, died, DISCONTINUED)
    return len(made), len(died)


def permanent_form(model: SocialInnovationModel, idx: np.ndarray) -> np.ndarray:
    """Long-term form of sites made permanent: alliance, internal unit (high mandate) or new organisation."""
    o = model.orgs
    return np.where(
        o.alliance[idx] >= 0, FORMS.index("alliance"),
        np.where(o.mandate[idx] >= 0.5, FORMS.index("internal_unit"), FORMS.index("new_organisation")),
    ).astype(np.int8)


def stop(model: SocialInnovationModel, idx: np.ndarray, status: int) -> None:
    """Sites ``idx`` stop running (pilot death or abandonment)."""
    o = model.orgs
    o.status[idx] = status
    o.element[idx] = -1
    o.funding[idx] = NO_FUNDING
    o.project_end[idx] = np.nan
    o.stop_month[idx] = model.month
    o.alliance[idx] = -1


def abandonment_rate(model: SocialInnovationModel) -> np.ndarray:
    """Monthly abandonment rate of every site (meaningful for running ones)."""
    o = model.orgs
    op = model.params.organisations
    vp = model.params.value
    form_mult = np.array([vp.form_abandonment[f] for f in FORMS])[o.form]
    e_ref = max(model.params.solution.effect_size, 1e-12)
    rel_e = np.clip(o.effectiveness / e_ref, 0.0, 1.0)
    rate = op.abandonment * form_mult * (1.0 + op.abandonment_fit_effect * (1.0 - np.nan_to_num(o.fit, nan=1.0)))
    rate *= 1.0 + op.abandonment_effect_effect * (1.0 - rel_e)
    rate *= np.where(o.funding == NO_FUNDING, op.abandonment_unfunded, 1.0)
    return rate


def abandon(model: SocialInnovationModel, u: np.ndarray) -> np.ndarray:
    """Running sites that are abandoned this step (``u``: one uniform per organisation)."""
    o = model.orgs
    gone = np.flatnonzero(o.running & (u < model.ps(abandonment_rate(model))))
    stop(model, gone, ABANDONED)
    return gone


def scale_up(model: SocialInnovationModel) -> bool:
    """Trigger scaling up when coverage, evidence or advocacy says so. Returns True on the step it happens."""
    su = model.params.scaling_up
    lev = model.params.levers
    u = model.streams.scaling.random()
    if not su.enabled or model.policy_step is not None:
        return False
    reached = model.places_reached_share
    if not (
        reached >= lev.scaling_up_threshold
        or model.visibility_signal >= lev.evidence_threshold
        or u < model.ps(lev.advocacy)
    ):
        return False
    model.policy_step = model.steps_done
    pl = model.places
    model.policy_refused = pl.severity < su.refusal_need
    o = model.orgs
    covered = model.policy_covers(o.place)
    moved = covered & o.running & (o.funding == PROJECT)
    o.funding[moved] = ORDINARY
    o.funding_ended[moved] = model.month
    o.project_end[moved] = np.nan
    o.form[moved] = permanent_form(model, np.flatnonzero(moved))
    o.phi[covered] *= 1.0 - su.threshold_cut
    o.p[covered] += su.p_boost
    return True


def place_service(model: SocialInnovationModel) -> PlaceService:
    """What the running sites of each place offer the target group this step."""
    o = model.orgs
    n = model.places.n
    run = o.running
    pl = o.place[run]
    sites = np.bincount(pl, minlength=n).astype(np.float64)
    denom = np.maximum(sites, 1.0)
    fit = np.bincount(pl, weights=np.nan_to_num(o.fit[run]), minlength=n) / denom
    eff = np.bincount(pl, weights=o.effectiveness[run], minlength=n) / denom
    spreading = np.bincount(o.place[run & (o.element == SPREAD)], minlength=n)
    boost = 1.0 + spreading / denom
    return PlaceService(sites=sites, fit=fit, effectiveness=eff, openness=model.places.openness, outreach_boost=boost)
