"""Organisations: the Mesa agents of the model, with their state held as arrays.

Organisations (public, civil society, private, academia) are Mesa ``Agent`` objects,
so Mesa's ``AgentSet`` tools, the UI and user code can reach each one by name.
Their state lives in the :class:`OrgState` arrays (one row per organisation), so
the rules of the six elements run over all organisations at once; an
:class:`Organisation` reads and writes its own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.scenario import ELEMENTS, FORMS, SECTORS

if TYPE_CHECKING:
    from sim.model import SocialInnovationModel

# status codes
NOT_ADOPTED, RUNNING, DISCONTINUED, ABANDONED = 0, 1, 2, 3
STATUS_NAMES = ("not_adopted", "running", "discontinued", "abandoned")
# funding codes
NO_FUNDING, PROJECT, ORDINARY = 0, 1, 2
FUNDING_NAMES = ("none", "project", "ordinary_budget")
NOT_ENGAGED = -1
MANDATE_BY_SECTOR = {"public": (0.7, 0.2), "civil_society": (0.2, 0.1), "private": (0.15, 0.1), "academia": (0.3, 0.1)}
"""Mean and sd of mandate (0..1, ability to make things permanent) by sector."""


@dataclass
class OrgState:
    """State of all organisations as arrays (row = organisation id)."""

    place: np.ndarray  # int32 place id
    sector: np.ndarray  # int8 index into SECTORS
    mandate: np.ndarray  # float64 in [0, 1]
    knowledge: np.ndarray  # float64 in [0, 1]
    labour: np.ndarray  # float64 in [0, 1]
    money: np.ndarray  # float64 in [0, 1]
    p: np.ndarray  # float64 own monthly propensity to adopt
    phi: np.ndarray  # float64 adoption threshold in [0, 1]
    status: np.ndarray  # int8 status code
    funding: np.ndarray  # int8 funding code
    project_end: np.ndarray  # float64 month the project grant ends (nan if none)
    funding_ended: np.ndarray  # float64 month the (last) project grant ended (nan if none)
    form: np.ndarray  # int8 index into FORMS
    element: np.ndarray  # int8 index into ELEMENTS, -1 when not engaged
    variant: np.ndarray  # (n, K) float64 in [0, 1]
    understanding: np.ndarray  # float64 in [0, 1]
    estimate_error: np.ndarray  # (n, K) float64: error of the need estimate at zero understanding
    gamma: np.ndarray  # float64 vision clarity in [0, 1]
    effect: np.ndarray  # float64 effect size e_i in [0, 1]
    alliance: np.ndarray  # int32 alliance id, -1 if none
    champion: np.ndarray  # bool
    adopt_month: np.ndarray  # float64 first adoption month (nan if never)
    stop_month: np.ndarray  # float64 month the site stopped (nan if running or never)
    fidelity: np.ndarray  # float64 F_i, refreshed each step
    fit: np.ndarray  # float64 L_i, refreshed each step
    effectiveness: np.ndarray  # float64 E_i, refreshed each step

    @property
    def n(self) -> int:
        """Number of organisations."""
        return len(self.place)

    @property
    def running(self) -> np.ndarray:
        """Boolean mask of organisations running the solution now."""
        return self.status == RUNNING

    @property
    def resources(self) -> np.ndarray:
        """Mean of knowledge, labour and money, in [0, 1]."""
        return (self.knowledge + self.labour + self.money) / 3.0


def create_org_state(
    counts_per_place: np.ndarray, sector_shares: dict[str, float], k: int, gamma0: float, effect0: float,
    rng: np.random.Generator,
) -> OrgState:
    """Draw organisations for each place: sector, mandate and resources."""
    n = int(counts_per_place.sum())
    place = np.repeat(np.arange(len(counts_per_place), dtype=np.int32), counts_per_place)
    shares = np.array([sector_shares.get(s, 0.0) for s in SECTORS], dtype=np.float64)
    sector = rng.choice(len(SECTORS), size=n, p=shares / shares.sum()).astype(np.int8)
    mu = np.array([MANDATE_BY_SECTOR[s][0] for s in SECTORS])[sector]
    sd = np.array([MANDATE_BY_SECTOR[s][1] for s in SECTORS])[sector]
    mandate = np.clip(rng.normal(mu, sd), 0.0, 1.0)
    res = rng.beta(2.0, 3.0, (3, n))
    nan = np.full(n, np.nan)
    return OrgState(
        place=place, sector=sector, mandate=mandate, knowledge=res[0], labour=res[1], money=res[2],
        p=np.zeros(n), phi=np.zeros(n), status=np.zeros(n, np.int8), funding=np.zeros(n, np.int8),
        project_end=nan.copy(), funding_ended=nan.copy(), form=np.zeros(n, np.int8),
        element=np.full(n, NOT_ENGAGED, np.int8), variant=np.zeros((n, k)), understanding=np.zeros(n),
        estimate_error=np.zeros((n, k)), gamma=np.full(n, gamma0), effect=np.full(n, effect0),
        alliance=np.full(n, -1, np.int32), champion=np.zeros(n, bool), adopt_month=nan.copy(),
        stop_month=nan.copy(), fidelity=nan.copy(), fit=nan.copy(), effectiveness=np.zeros(n),
    )


class Organisation(mesa.Agent):
    """One organisation: a Mesa agent whose state is row ``idx`` of the model's :class:`OrgState`."""

    def __init__(self, model: SocialInnovationModel, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def _s(self) -> OrgState:
        return self.model.orgs

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
        return str(self.model.places.name[self.place])

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
        return bool(self._s.status[self.idx] == RUNNING)

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
