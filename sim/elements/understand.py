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

from typing import TYPE_CHECKING

import numpy as np

from sim.scenario import ELEMENTS, SECTORS

if TYPE_CHECKING:
    from sim.model import SocialInnovationModel

UNDERSTAND = ELEMENTS.index("understand")


def partner_sectors(model: SocialInnovationModel) -> np.ndarray:
    """Number of distinct sectors (1..4) among each organisation and its partners."""
    o = model.orgs
    have = np.zeros(o.n)
    for s in range(len(SECTORS)):
        mine = o.sector == s
        have += ((model.network.count(mine.astype(np.float64)) > 0) | mine).astype(np.float64)
    return have


def understand(model: SocialInnovationModel) -> None:
    """Raise understanding of organisations in the understand element."""
    o = model.orgs
    sel = o.running & (o.element == UNDERSTAND)
    if not sel.any():
        return
    proc = model.params.process
    sectors = partner_sectors(model)[sel]
    rate = model.ps(proc.understanding_rate * model.params.levers.involvement * (0.5 + 0.5 * sectors / len(SECTORS)))
    o.understanding[sel] += rate * (1.0 - o.understanding[sel])


def estimated_need(model: SocialInnovationModel, idx: np.ndarray) -> np.ndarray:
    """Each organisation's estimate of its place's need profile, in [0, 1] (rows of ``idx``)."""
    o = model.orgs
    truth = model.places.need[o.place[idx]]
    return np.clip(truth + (1.0 - o.understanding[idx])[:, None] * o.estimate_error[idx], 0.0, 1.0)
