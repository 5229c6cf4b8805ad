"""Organisations as Mesa agents: read-only views of one row of the state's arrays.

Organisations (public, civil society, private, academia) are Mesa ``Agent`` objects,
so Mesa's ``AgentSet`` tools, the UI and user code can reach each one by name.
Their state lives in the :class:`sim.organisations.OrgState` arrays (one row per
organisation), which the rules of the six elements change over all organisations
at once; an :class:`Organisation` only reads its row. The model builds them on first
use (``model.organisations``).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.codes import FUNDING_NAMES, STATUS_NAMES, Status
from sim.organisations import OrgState
from sim.scenario import ELEMENTS, FORMS, SECTORS
from sim.state import SimState


class Organisation(mesa.Agent):
    """One organisation: a Mesa agent whose state is row ``idx`` of the model's :class:`OrgState` (read-only)."""

    def __init__(self, model: mesa.Model, state: SimState, idx: int) -> None:
        super().__init__(model)
        self.state = state
        self.idx = idx

    @property
    def _s(self) -> OrgState:
        return self.state.orgs

    @property
    def sector(self) -> str:
        """Sector: public, civil_society, private or academia."""
        return SECTORS[self._s.sector[self.idx]]

    @property
    def place(self) -> int:
        """Place id."""
        return int(self._s.place[self.idx])

    @property
    def place_name(self) -> str:
        """Name of the organisation's place."""
        return str(self.state.places.name[self.place])

    @property
    def mandate(self) -> float:
        """Ability to make things permanent, in [0, 1]."""
        return float(self._s.mandate[self.idx])

    @property
    def status(self) -> str:
        """not_adopted, running, discontinued or abandoned."""
        return STATUS_NAMES[self._s.status[self.idx]]

    @property
    def running(self) -> bool:
        """Whether it runs the solution now."""
        return bool(self._s.status[self.idx] == Status.RUNNING)

    @property
    def funding(self) -> str:
        """none, project or ordinary_budget."""
        return FUNDING_NAMES[self._s.funding[self.idx]]

    @property
    def form(self) -> str:
        """Organisational form of its site."""
        return FORMS[self._s.form[self.idx]]

    @property
    def element(self) -> str | None:
        """Current process element, or None when not engaged."""
        e = int(self._s.element[self.idx])
        return None if e < 0 else ELEMENTS[e]

    @property
    def variant(self) -> np.ndarray:
        """Its own variant of the solution (a view; length k_core + k_periphery)."""
        return self._s.variant[self.idx]

    @property
    def fidelity(self) -> float:
        """Core fidelity F in [0, 1] (nan if it has never adopted)."""
        return float(self._s.fidelity[self.idx])

    @property
    def fit(self) -> float:
        """Local fit L in [0, 1] (nan if it has never adopted)."""
        return float(self._s.fit[self.idx])

    @property
    def effectiveness(self) -> float:
        """Effectiveness E, a monthly probability in [0, 1]."""
        return float(self._s.effectiveness[self.idx])

    def __repr__(self) -> str:
        return f"Organisation({self.idx}, {self.sector}, {self.place_name}, {self.status})"
