"""Organisations as arrays: the state of every organisation, one row each.

Organisations (public, civil society, private, academia) hold their state in the
:class:`OrgState` arrays, so the rules of the six elements run over all of them at
once (the agent set is the unit). :class:`sim.agents.Organisation` is a read-only
Mesa view of one row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import NOT_ENGAGED, Funding, Status
from sim.scenario import SECTORS

MANDATE_BY_SECTOR = {"public": (0.7, 0.2), "civil_society": (0.2, 0.1), "private": (0.15, 0.1), "academia": (0.3, 0.1)}
"""Mean and sd of mandate (0..1, ability to make things permanent) by sector (a modelling assumption:
municipalities and agencies decide budgets; associations and firms rarely can)."""

RESOURCES_BETA = (2.0, 3.0)
"""Beta(a, b) of each resource (knowledge, labour, money) at the start: mean 0.4, most organisations short of something."""

RESOURCES_MEAN = RESOURCES_BETA[0] / (RESOURCES_BETA[0] + RESOURCES_BETA[1])
"""Mean resources at the start (0.4): a site with these serves ``population.site_capacity`` persons."""


@dataclass
class OrgState:
    """State of all organisations as arrays (row = organisation id); codes in :mod:`sim.codes`."""

    place: np.ndarray  # int32 place id
    sector: np.ndarray  # int8 Sector code
    mandate: np.ndarray  # float64 in [0, 1]
    knowledge: np.ndarray  # float64 in [0, 1]
    labour: np.ndarray  # float64 in [0, 1]
    money: np.ndarray  # float64 in [0, 1]
    p: np.ndarray  # float64 own monthly propensity to adopt
    phi: np.ndarray  # float64 adoption threshold in [0, 1]
    status: np.ndarray  # int8 Status code
    funding: np.ndarray  # int8 Funding code
    project_end: np.ndarray  # float64 month the project grant ends (nan if none)
    funding_ended: np.ndarray  # float64 month the (last) project grant ended (nan if none)
    form: np.ndarray  # int8 Form code
    element: np.ndarray  # int8 Element code, NOT_ENGAGED (-1) when not running
    variant: np.ndarray  # (n, K) float64 in [0, 1]
    understanding: np.ndarray  # float64 in [0, 1]
    estimate_error: np.ndarray  # (n, K) float64: error of the need estimate at zero understanding
    gamma: np.ndarray  # float64 vision clarity in [0, 1]
    effect: np.ndarray  # float64 effect size e_i in [0, 1]
    alliance: np.ndarray  # int32 alliance id, -1 if none
    champion: np.ndarray  # bool
    adopt_month: np.ndarray  # float64 first adoption month (nan if never)
    developed_month: np.ndarray  # float64 first month it ran in develop and test or later (nan if never)
    stop_month: np.ndarray  # float64 month the site stopped (nan if running or never)
    fidelity: np.ndarray  # float64 F_i, refreshed each step
    fit: np.ndarray  # float64 L_i, refreshed each step
    effectiveness: np.ndarray  # float64 E_i, refreshed each step
    eligible: np.ndarray  # bool: relevant to the challenge (only eligible organisations adopt)
    moved_by_policy: np.ndarray  # bool: project funding ended by the scaling-up policy (not decided at project end)
    regional: np.ndarray  # bool: the regional body (county council) of its county; not a local organisation

    @property
    def n(self) -> int:
        """Number of organisations."""
        return len(self.place)

    @property
    def running(self) -> np.ndarray:
        """Boolean mask of organisations running the solution now."""
        return self.status == Status.RUNNING

    @property
    def resources(self) -> np.ndarray:
        """Mean of knowledge, labour and money, in [0, 1]."""
        return (self.knowledge + self.labour + self.money) / 3.0


def create_org_state(
    counts_per_place: np.ndarray, sector_shares: dict[str, float], k: int, gamma0: float, effect0: float,
    rng: np.random.Generator,
) -> OrgState:
    """Draw organisations for each place: sector, mandate and resources.

    Args:
        counts_per_place: organisations per place (see :func:`sim.world.places.organisation_counts`).
        sector_shares: share of each sector (normalised here).
        k: number of solution components (core + periphery).
        gamma0: initial vision clarity in [0, 1].
        effect0: initial effect size in [0, 1].
        rng: the ``organisations`` stream.
    """
    n = int(counts_per_place.sum())
    place = np.repeat(np.arange(len(counts_per_place), dtype=np.int32), counts_per_place)
    shares = np.array([sector_shares.get(s, 0.0) for s in SECTORS], dtype=np.float64)
    sector = rng.choice(len(SECTORS), size=n, p=shares / shares.sum()).astype(np.int8)
    mu = np.array([MANDATE_BY_SECTOR[s][0] for s in SECTORS])[sector]
    sd = np.array([MANDATE_BY_SECTOR[s][1] for s in SECTORS])[sector]
    mandate = np.clip(rng.normal(mu, sd), 0.0, 1.0)
    res = rng.beta(*RESOURCES_BETA, (3, n))
    nan = np.full(n, np.nan)
    return OrgState(
        place=place, sector=sector, mandate=mandate, knowledge=res[0], labour=res[1], money=res[2],
        p=np.zeros(n), phi=np.zeros(n), status=np.full(n, Status.NOT_ADOPTED, np.int8),
        funding=np.full(n, Funding.NONE, np.int8), project_end=nan.copy(), funding_ended=nan.copy(),
        form=np.zeros(n, np.int8), element=np.full(n, NOT_ENGAGED, np.int8), variant=np.zeros((n, k)),
        understanding=np.zeros(n), estimate_error=np.zeros((n, k)), gamma=np.full(n, gamma0),
        effect=np.full(n, effect0), alliance=np.full(n, -1, np.int32), champion=np.zeros(n, bool),
        adopt_month=nan.copy(), developed_month=nan.copy(), stop_month=nan.copy(), fidelity=nan.copy(), fit=nan.copy(),
        effectiveness=np.zeros(n),
        eligible=np.ones(n, bool), moved_by_policy=np.zeros(n, bool), regional=np.zeros(n, bool),
    )
