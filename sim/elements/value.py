"""Element 6, create value (Skapa värde).

Rules, per step and place:

* **Social value**: new beneficiaries (people moving to *benefiting*, e.g. young
  people into work or study) times ``social_per_beneficiary`` [persons].
* **Economic value**: new beneficiaries times ``economic_per_beneficiary_sek`` (avoided
  public cost) [SEK]. Costs are booked separately: running sites cost
  ``site_cost_sek[form]`` per month, measurement costs ``measurement_cost_sek *
  measurement_effort`` per site and month. Net economic value = value - cost.
  The *net present* economic value counts only beneficiaries who would not have found
  work or study anyway (``1 - deadweight``) and discounts each month's value by
  ``(1 + discount_rate) ** (-month / 12)``: it is what value per krona is computed from.
* **Environmental value**: new beneficiaries times ``environmental_per_beneficiary``
  [kg CO2e] where the preset defines it.
* **Visible value**: measurement turns a share ``min(1, measurement_effort * (1 +
  value_boost * any site of the place in the value element))`` of realised social
  value into visible value. Evidence is visible value that ages (halved every
  ``evidence_half_life`` months); the visibility signal ``V_vis = 1 - exp(-evidence /
  visibility_scale)`` in [0, 1] feeds adoption (element 5), scaling up and
  institutionalisation. Every value account is cumulative and never decreases.

Value is measured every step, whatever element an organisation is in.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element
from sim.scenario import FORMS, Scenario
from sim.state import SimState, ValueAccounts, visibility

__all__ = ["ValueAccounts", "create_value", "visibility"]

VALUE = Element.VALUE


def create_value(state: SimState, params: Scenario, new_beneficiaries: np.ndarray) -> None:
    """Book this step's social, economic and environmental value, costs and visible value."""
    vp = params.value
    acc = state.accounts
    o = state.orgs
    persons = new_beneficiaries / params.places.target_scale
    social = persons * vp.social_per_beneficiary
    acc.social += social
    acc.economic += persons * vp.economic_per_beneficiary_sek
    # the counterfactual: a share would have found work or study anyway; discounted to month 0
    pv = (1.0 + vp.discount_rate) ** (-state.month / 12.0)
    acc.economic_net_pv += persons * vp.economic_per_beneficiary_sek * (1.0 - vp.deadweight) * pv
    acc.environmental += persons * vp.environmental_per_beneficiary
    acc.last_social = float(social.sum())
    running = o.running
    form_cost = np.array([vp.site_cost_sek[f] for f in FORMS])
    effort = params.levers.measurement_effort
    site_cost = (form_cost[o.form] + vp.measurement_cost_sek * effort) * state.clock.dt
    acc.cost += np.bincount(o.place[running], weights=site_cost[running], minlength=state.places.n)
    in_value = np.bincount(o.place[running & (o.element == VALUE)], minlength=state.places.n) > 0
    place_effort = state.place_levers.of("measurement", effort, np.arange(state.places.n))  # interventions may fund more
    share = np.minimum(1.0, place_effort * (1.0 + vp.value_boost * in_value))
    acc.visible += social * share
    acc.evidence *= state.evidence_rate
    acc.evidence += social * share
