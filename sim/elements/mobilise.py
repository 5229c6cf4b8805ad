"""Element 3, mobilise (Mobilisera).

Rules, for organisations in this element:

* Resources (knowledge, labour, money; each in [0, 1]) grow by
  ``mobilise_rate * (1 - r)`` per month; every running site's resources decay by
  ``resource_decay`` per month (a shortfall sends it back to mobilise, see
  :mod:`sim.elements.transitions`).
* Brokering: with monthly probability ``brokering`` a mobilising organisation gains a
  tie to an organisation of another sector (in its own place with probability 0.7,
  else anywhere), made by intermediaries and funders.
* Alliances: with monthly probability ``alliance_rate`` it joins (or founds with) a
  running partner in its place (one of them, drawn with its own uniform); alliance members pool resources (each gets the
  alliance mean) and are likelier to be made permanent.
* A partner with mandate raises the chance of institutionalisation
  (:func:`mandate_reach`, used at pilot end).

Funding (project grants of ``D`` months, ``project_length_min..max``, or ordinary
budget) is handed out at adoption by :func:`fund_new_sites`.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element, Form, Funding, Status
from sim.scenario import Scenario
from sim.state import SimState

MOBILISE = Element.MOBILISE
INTERNAL_UNIT_MANDATE = 0.5
"""A site on an ordinary budget outside an alliance is an internal unit when its organisation's mandate is at least
this (it can put it in its own budget), else a new organisation (a modelling choice, spec section 1 element 5)."""
SAME_PLACE_BROKERING = 0.7


def mandate_reach(state: SimState) -> np.ndarray:
    """Highest mandate among each organisation and its partners, in [0, 1]."""
    o = state.orgs
    return np.maximum(o.mandate, state.network.neighbour_max(o.mandate))


def fund_new_sites(state: SimState, params: Scenario, idx: np.ndarray, u: np.ndarray, length: np.ndarray) -> None:
    """Give newly adopting organisations ``idx`` their funding, form and project end month.

    ``u`` (uniform) and ``length`` (project length [months]) are draws for the sites ``idx``.
    """
    if len(idx) == 0:
        return
    o = state.orgs
    lev = params.levers
    policy = state.policy.covers(o.place[idx])
    want = (u < lev.project_share) & ~policy
    project = want & state.place_levers.money(o.place[idx])  # no project money where it was cut
    o.funding[idx] = np.where(project, Funding.PROJECT, np.where(want, Funding.NONE, Funding.ORDINARY))
    o.project_end[idx] = np.where(project, state.month + length, np.nan)
    # on an ordinary budget from the start: an internal unit where the organisation has the mandate, else a new one
    own = np.where(o.mandate[idx] >= INTERNAL_UNIT_MANDATE, Form.INTERNAL_UNIT, Form.NEW_ORGANISATION)
    o.form[idx] = np.where(want, Form.PROJECT, own)


def mobilise(state: SimState, params: Scenario, rng: np.random.Generator) -> None:
    """Gather resources, broker cross-sector ties and form alliances."""
    o = state.orgs
    proc = params.process
    n = o.n
    # draws of fixed size, whatever the state (common random numbers)
    u_broker, u_target, u_local, u_ally, u_partner = rng.random((5, n))
    running = o.running
    decay = 1.0 - state.ps(proc.resource_decay)
    for arr in (o.knowledge, o.labour, o.money):
        arr[running] *= decay
    sel = running & (o.element == MOBILISE)
    if not sel.any():
        return
    gain = state.ps(proc.mobilise_rate)
    for arr in (o.knowledge, o.labour, o.money):
        arr[sel] += gain * (1.0 - arr[sel])
    # brokering: new cross-sector ties
    brokered = np.flatnonzero(sel & (u_broker < state.ps(params.levers.brokering)))
    if len(brokered):
        local = u_local[brokered] < SAME_PLACE_BROKERING
        # candidates: organisations of another sector; in the same place if local
        targets = np.empty(len(brokered), dtype=np.int64)
        for j, (i, loc, r) in enumerate(zip(brokered, local, u_target[brokered], strict=True)):
            cand = state.org_ids_by_place[o.place[i]] if loc else state.all_org_ids
            cand = cand[o.sector[cand] != o.sector[i]]
            targets[j] = cand[int(r * len(cand))] if len(cand) else i
        state.network.add_ties(brokered, targets)
    # alliances with a running partner in the same place
    ally = np.flatnonzero(sel & (u_ally < state.ps(proc.alliance_rate)))
    if len(ally) and not state.network.full:
        csr = state.network.csr
        for i in ally:
            nb = csr.indices[csr.indptr[i] : csr.indptr[i + 1]]
            nb = nb[(o.place[nb] == o.place[i]) & (o.status[nb] == Status.RUNNING)]
            if len(nb) == 0:
                continue
            partner = nb[int(u_partner[i] * len(nb))]  # a running partner in its place, drawn (not the lowest id)
            aid = o.alliance[partner] if o.alliance[partner] >= 0 else state.new_alliance_id()
            o.alliance[[i, partner]] = aid
        members = o.alliance >= 0
        if members.any():
            ids = o.alliance[members]
            cnt = np.bincount(ids)
            for arr in (o.knowledge, o.labour, o.money):
                mean = np.bincount(ids, weights=arr[members]) / np.maximum(cnt, 1)
                arr[members] = mean[ids]
