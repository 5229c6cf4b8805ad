"""The simulation state: everything a run changes, in one object.

:class:`SimState` holds the organisations' arrays, the places, the target groups,
the organisation network, the solution, the value accounts, the clock and the
policy record. It is built by :func:`sim.world.build.build_world` and changed only
by the rules of the six elements (:mod:`sim.elements`), which are plain functions
of ``(state, params, rng)``; :class:`sim.model.SocialInnovationModel` is the Mesa
shell that orders them. Codes of the integer arrays are in :mod:`sim.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.codes import Element, Funding, Sector, Status
from sim.interventions.ledger import PlaceLevers, StrategyState
from sim.organisations import OrgState
from sim.population import TargetGroup
from sim.rates import per_step
from sim.solution import Solution
from sim.world.networks import OrgNetwork
from sim.world.places import Places

EVENTS: tuple[str, ...] = ("adopted", "made_permanent", "discontinued", "abandoned")
"""Counted events (cumulative, in :attr:`SimState.events`)."""


@dataclass
class Clock:
    """Time of a run: ``step`` steps of ``dt`` months done.

    Attributes:
        dt: length of one step [months], > 0.
        rate_mode: how monthly rates become per-step probabilities (see :mod:`sim.rates`).
        step: steps completed (the step under way counts once :meth:`tick` has run).
    """

    dt: float
    rate_mode: str = "probability"
    step: int = 0

    @property
    def month(self) -> float:
        """Elapsed time [months] = ``step * dt``."""
        return self.step * self.dt

    def tick(self) -> None:
        """Advance by one step (rules after this read the month at the end of the step)."""
        self.step += 1

    def ps(self, monthly: Any) -> Any:
        """Per-step probability of a monthly rate (see :func:`sim.rates.per_step`)."""
        return per_step(monthly, self.dt, self.rate_mode)


@dataclass
class PolicyRecord:
    """The scaling-up policy: when it came into force, and which places refused it.

    Attributes:
        month: month the policy came into force (None while it has not).
        refused: bool per place, True where the place refused the policy.
    """

    refused: np.ndarray
    month: float | None = None

    @property
    def in_force(self) -> bool:
        """Whether the policy has come into force."""
        return self.month is not None

    def covers(self, place: np.ndarray) -> np.ndarray:
        """Whether the policy applies in the given places (after it came into force, unless refused)."""
        if self.month is None:
            return np.zeros(len(place), dtype=bool)
        return ~self.refused[place]


def visibility(visible: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """Visibility signal in [0, 1) of visible value (persons): ``1 - exp(-visible / scale)``."""
    return -np.expm1(-np.asarray(visible, dtype=np.float64) / scale)


@dataclass
class ValueAccounts:
    """Cumulative value per place (arrays over places).

    Accounts: social [persons], economic and cost [SEK], environmental [kg CO2e], visible
    [persons]; ``last_social`` is the last step's social value [persons]. ``evidence``
    [persons] is visible value that ages (halved every ``value.evidence_half_life``
    months): the visibility signals are computed from it, the cumulative accounts only
    ever grow.
    """

    n_places: int
    social: np.ndarray = field(init=False)
    economic: np.ndarray = field(init=False)
    environmental: np.ndarray = field(init=False)
    cost: np.ndarray = field(init=False)
    visible: np.ndarray = field(init=False)
    evidence: np.ndarray = field(init=False)
    economic_net_pv: np.ndarray = field(init=False)
    last_social: float = 0.0

    def __post_init__(self) -> None:
        for name in ("social", "economic", "environmental", "cost", "visible", "evidence", "economic_net_pv"):
            setattr(self, name, np.zeros(self.n_places))


@dataclass
class SimState:
    """Everything a run changes (and the fixed world it runs on).

    Attributes:
        clock: steps done, ``dt`` and the per-step conversion of rates.
        places: the places (their ``openness`` changes by scaling deep).
        orgs: the organisations' arrays.
        network: ties between organisations (brokering adds ties).
        people: the target groups.
        solution: the original design and its effect.
        accounts: the value accounts per place.
        transitions: base 6x6 monthly transition matrix between elements.
        visibility_scale: national evidence [persons] at which ``V_vis = 1 - 1/e``.
        evidence_rate: share of evidence kept from one step to the next, ``2 ** (-dt / half-life)``.
        place_visibility_scale: the same per place [persons].
        policy: the scaling-up policy record.
        first_reached: month each place was first reached (nan if never).
        flows: moves between elements in the last step (6x6 counts); ``flows_total`` since the start.
        events: cumulative counts of :data:`EVENTS`.
        place_levers: the levers that may differ between places (guardrails, measurement effort, project
            money; :class:`~sim.interventions.ledger.PlaceLevers`), set from the scenario when built and by
            the interventions each step.
        strategy: the interventions' budgets, spending, grants and agreements (None without interventions).
        next_alliance: the next free alliance id.
    """

    clock: Clock
    places: Places
    orgs: OrgState
    network: OrgNetwork
    people: TargetGroup
    solution: Solution
    accounts: ValueAccounts
    transitions: np.ndarray
    visibility_scale: float
    place_visibility_scale: np.ndarray
    policy: PolicyRecord
    first_reached: np.ndarray
    flows: np.ndarray = field(default_factory=lambda: np.zeros((6, 6), dtype=np.int64))
    flows_total: np.ndarray = field(default_factory=lambda: np.zeros((6, 6), dtype=np.int64))
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENTS, 0))
    next_alliance: int = 0
    evidence_rate: float = 1.0
    place_levers: PlaceLevers | None = None
    strategy: StrategyState | None = None
    org_ids_by_place: list[np.ndarray] = field(init=False)
    all_org_ids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        counts = np.bincount(self.orgs.place, minlength=self.places.n)
        self.org_ids_by_place = np.split(np.arange(self.orgs.n), np.cumsum(counts)[:-1])
        self.all_org_ids = np.arange(self.orgs.n)
        if self.place_levers is None:
            self.place_levers = PlaceLevers()

    # ------------------------------------------------------------------ small helpers
    def ps(self, monthly: Any) -> Any:
        """Per-step probability of a monthly rate (the clock's conversion)."""
        return self.clock.ps(monthly)

    @property
    def month(self) -> float:
        """Elapsed time [months]."""
        return self.clock.month

    def new_alliance_id(self) -> int:
        """A fresh alliance id."""
        self.next_alliance += 1
        return self.next_alliance - 1

    @property
    def visibility_signal(self) -> float:
        """National visibility of value ``V_vis`` in [0, 1)."""
        return float(visibility(self.accounts.evidence.sum(), self.visibility_scale))

    def place_visibility(self) -> np.ndarray:
        """Visibility of value in each place, in [0, 1) (its evidence against its own scale)."""
        return visibility(self.accounts.evidence, self.place_visibility_scale)

    def open_places(self, public_gate: bool) -> np.ndarray:
        """Places open to adoption (bool per place).

        Not refusing the policy and, for a public solution (``public_gate``), where a
        public organisation (the municipality) runs it.
        """
        closed = self.policy.refused  # all False until the policy is in force
        if not public_gate:
            return ~closed
        o = self.orgs
        opened = np.bincount(o.place[o.running & (o.sector == Sector.PUBLIC)], minlength=self.places.n) > 0
        return opened & ~closed

    @property
    def places_reached_share(self) -> float:
        """Share of places where some organisation has ever run the solution."""
        return float(np.mean(~np.isnan(self.first_reached))) if self.places.n else 0.0

    def refresh_solution(self) -> None:
        """Recompute fidelity F, fit L and effectiveness E of all organisations that ever adopted."""
        o = self.orgs
        had = ~np.isnan(o.adopt_month)
        if not had.any():
            return
        v = o.variant[had]
        o.fidelity[had] = self.solution.fidelity(v)
        o.fit[had] = self.solution.fit(v, self.places.need[o.place[had]])
        o.effectiveness[had] = self.solution.effectiveness(o.effect[had], o.fidelity[had], o.fit[had])
        o.effectiveness[~o.running] = 0.0

    def note_reached(self) -> None:
        """Record the month of places reached for the first time (by a local organisation, not a regional body)."""
        run_places = np.unique(self.orgs.place[self.orgs.running & ~self.orgs.regional])
        new = run_places[np.isnan(self.first_reached[run_places])]
        self.first_reached[new] = self.clock.month

    def note_developed(self) -> None:
        """Record the month of running organisations in *develop* or a later element for the first time."""
        o = self.orgs
        new = o.running & (o.element >= Element.DEVELOP) & np.isnan(o.developed_month)
        o.developed_month[new] = self.clock.month

    def site_counts(self) -> dict[str, int]:
        """Running sites by funding, and stopped sites by cause."""
        o = self.orgs
        run = o.running
        return {
            "sites_running": int(run.sum()),
            "sites_project": int((run & (o.funding == Funding.PROJECT)).sum()),
            "sites_permanent": int((run & (o.funding == Funding.ORDINARY)).sum()),
            "sites_discontinued": int((o.status == Status.DISCONTINUED).sum()),
            "sites_abandoned": int((o.status == Status.ABANDONED).sum()),
        }
