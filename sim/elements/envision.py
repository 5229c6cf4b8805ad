"""Element 2, envision societal change (Visionera samhällsförändring).

Rule: an organisation in this element gains vision clarity,
``gamma += envision_rate * (1 - gamma)`` per month; clarity reduces random drift of
the core by ``(1 - gamma)`` (element 4). Its norm-challenging work raises the norm
openness of its place (scaling deep): ``openness += norm_work * n * (1 - openness)``
per month with ``n`` envisioning organisations there. Openness lowers adoption
thresholds of organisations (element 5: ``phi * (1 - gain in openness)``) and raises
participation of target-group members there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.scenario import ELEMENTS

if TYPE_CHECKING:
    from sim.model import SocialInnovationModel

ENVISION = ELEMENTS.index("envision")


def envision(model: SocialInnovationModel) -> None:
    """Clarify vision and shift local norms where organisations envision."""
    o = model.orgs
    sel = o.running & (o.element == ENVISION)
    if not sel.any():
        return
    o.gamma[sel] += model.ps(model.params.process.envision_rate) * (1.0 - o.gamma[sel])
    per_place = np.bincount(o.place[sel], minlength=model.places.n)
    gain = model.ps(model.params.levers.norm_work * per_place)
    pl = model.places
    pl.openness += gain * (1.0 - pl.openness)
