"""Element 2, envision societal change (Visionera samhällsförändring).

Rule: an organisation in this element gains vision clarity,
``gamma += envision_rate * (1 - gamma)`` per month; clarity reduces random drift of
the core by ``(1 - gamma)`` (element 4). Its norm-challenging work raises the norm
openness of its place (scaling deep): ``openness += norm_work * (1 - openness)`` per
month in a place where any organisation envisions (a place, not a head count, so big
places with many organisations do not gain faster). Openness lowers adoption
thresholds of organisations (element 5: ``phi * (1 - gain in openness)``) and raises
participation of target-group members there.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element
from sim.scenario import Scenario
from sim.state import SimState

ENVISION = Element.ENVISION


def envision(state: SimState, params: Scenario) -> None:
    """Clarify vision and shift local norms where organisations envision."""
    o = state.orgs
    sel = o.running & (o.element == ENVISION)
    if not sel.any():
        return
    o.gamma[sel] += state.ps(params.process.envision_rate) * (1.0 - o.gamma[sel])
    working = np.bincount(o.place[sel], minlength=state.places.n) > 0  # a place, not a head count
    gain = state.ps(params.levers.norm_work * working)
    pl = state.places
    pl.openness += gain * (1.0 - pl.openness)
