"""Element 1, understand the societal challenge (Förstå samhällsutmaning).

Rule: an organisation in this element improves its understanding ``U`` of local
needs by ``understanding_rate * involvement * (0.5 + 0.5 * sectors / 4) * (1 - U)``
per month, where ``involvement`` is the lever for the participation of affected
people and ``sectors`` the number of distinct sectors among itself and its
partners. Its estimate of the local need is the true need plus an error that
shrinks with understanding: ``u_hat = u + (1 - U) * error`` (:func:`estimated_need`).
Adaptation (element 4) moves toward ``u_hat``, so poor understanding adapts toward
a noisy estimate.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element
from sim.scenario import SECTORS, Scenario
from sim.state import SimState

UNDERSTAND = Element.UNDERSTAND
SINGLE_SECTOR_FACTOR = 0.5
"""Understanding grows at ``0.5 + 0.5 * sectors / 4`` of its rate: half from the organisation's own work, half
from the breadth of sectors among its partners (many perspectives, spec element 1)."""


def partner_sectors(state: SimState) -> np.ndarray:
    """Number of distinct sectors (1..4) among each organisation and its partners."""
    o = state.orgs
    have = np.zeros(o.n)
    for s in range(len(SECTORS)):
        mine = o.sector == s
        have += ((state.network.count(mine.astype(np.float64)) > 0) | mine).astype(np.float64)
    return have


def understand(state: SimState, params: Scenario) -> None:
    """Raise understanding of organisations in the understand element."""
    o = state.orgs
    sel = o.running & (o.element == UNDERSTAND)
    if not sel.any():
        return
    proc = params.process
    sectors = partner_sectors(state)[sel]
    breadth = SINGLE_SECTOR_FACTOR + (1.0 - SINGLE_SECTOR_FACTOR) * sectors / len(SECTORS)
    rate = state.ps(proc.understanding_rate * params.levers.involvement * breadth)
    o.understanding[sel] += rate * (1.0 - o.understanding[sel])


def estimated_need(state: SimState, idx: np.ndarray) -> np.ndarray:
    """Each organisation's estimate of its place's need profile, in [0, 1] (rows of ``idx``)."""
    o = state.orgs
    truth = state.places.need[o.place[idx]]
    return np.clip(truth + (1.0 - o.understanding[idx])[:, None] * o.estimate_error[idx], 0.0, 1.0)
