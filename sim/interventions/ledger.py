"""What the interventions of a run hold: budgets and spending, grants per site, agreements per place.

:class:`StrategyState` is part of :class:`sim.state.SimState` (``state.strategy``) and
:class:`PlaceLevers` (``state.place_levers``) holds the levers that may differ between
places (guardrails, measurement effort, project money), which the elements read. Both
are plain arrays; the rules that change them are in :mod:`sim.interventions.runtime`.

Spending is booked as it is paid (monthly); a grant or agreement is *committed* when
it is awarded (its full amount, released as paid or when the site stops), and only
awarded while ``spent + committed + its amount <= budget``, so spending never exceeds a
budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PlaceLevers:
    """What interventions change per place (arrays over places, None where no intervention acts).

    The elements read a lever through :meth:`of`: the scenario's value in force, raised to
    an intervention's floor in its target places.

    Attributes:
        guardrails: floor of fidelity support [-] in [0, 1] per place (training), or None.
        measurement: floor of measurement effort [-] in [0, 1] per place (the organisations pay the
            scenario's effort, the intervention the rest), or None.
        project_money: False where a ``funding_cut`` is in force (no project grants, no renewals), or
            None (project money everywhere).
    """

    guardrails: np.ndarray | None = None
    measurement: np.ndarray | None = None
    project_money: np.ndarray | None = None

    def of(self, name: str, base: float, place: np.ndarray) -> float | np.ndarray:
        """Lever ``name`` for organisations (or places) at ``place``: ``base`` raised to the floor there.

        Without a floor it is ``base`` itself, a float, so the arithmetic (and every result)
        is exactly that of the scenario's scalar lever.
        """
        floor = getattr(self, name)
        if floor is None:
            return base
        return np.maximum(base, floor)[place]

    def money(self, place: np.ndarray) -> np.ndarray:
        """Whether project money is available at ``place`` (bool array)."""
        if self.project_money is None:
            return np.ones(len(place), dtype=bool)
        return self.project_money[place]


@dataclass
class StrategyState:
    """The interventions' state during a run (``n`` interventions, ``n_orgs`` organisations, ``n_places`` places).

    Attributes:
        budget: most each intervention may spend [SEK] (inf: no limit).
        spent: cumulative spending per intervention [SEK].
        spent_pv: the same discounted to month 0 [SEK].
        committed: awarded but not yet paid per intervention [SEK].
        started, exhausted: per intervention, whether it has started / its budget ran out.
        targets: target places per intervention (bool over places), fixed when it starts.
        grant_of: per organisation, the intervention whose grant it holds (-1: none).
        grant_rate: its grant [SEK/month]; ``grant_until``: month the grant ends.
        agreement: per place, the index of the offer it accepted (-1: none); ``declined`` per place.
        decide_month: per offer and place, the month the place decides (nan: not offered).
        next_call: per intervention, the month of its next grant call (nan: none).
    """

    n: int
    n_orgs: int
    n_places: int
    budget: np.ndarray = field(init=False)
    spent: np.ndarray = field(init=False)
    spent_pv: np.ndarray = field(init=False)
    committed: np.ndarray = field(init=False)
    started: np.ndarray = field(init=False)
    exhausted: np.ndarray = field(init=False)
    targets: list[np.ndarray | None] = field(init=False)
    grant_of: np.ndarray = field(init=False)
    grant_rate: np.ndarray = field(init=False)
    grant_until: np.ndarray = field(init=False)
    agreement: np.ndarray = field(init=False)
    declined: np.ndarray = field(init=False)
    decide_month: dict[int, np.ndarray] = field(default_factory=dict)
    calls_done: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.budget = np.full(self.n, math.inf)
        self.spent = np.zeros(self.n)
        self.spent_pv = np.zeros(self.n)
        self.committed = np.zeros(self.n)
        self.started = np.zeros(self.n, dtype=bool)
        self.exhausted = np.zeros(self.n, dtype=bool)
        self.targets = [None] * self.n
        self.grant_of = np.full(self.n_orgs, -1, dtype=np.int32)
        self.grant_rate = np.zeros(self.n_orgs)
        self.grant_until = np.full(self.n_orgs, -math.inf)
        self.agreement = np.full(self.n_places, -1, dtype=np.int32)
        self.declined = np.zeros(self.n_places, dtype=bool)
        self.calls_done = np.zeros(self.n, dtype=np.int64)

    def grow(self, budget: float) -> int:
        """Add one intervention (not started, nothing spent, ``budget`` SEK); return its index."""
        self.n += 1
        self.budget = np.append(self.budget, budget)
        self.spent = np.append(self.spent, 0.0)
        self.spent_pv = np.append(self.spent_pv, 0.0)
        self.committed = np.append(self.committed, 0.0)
        self.started = np.append(self.started, False)
        self.exhausted = np.append(self.exhausted, False)
        self.targets.append(None)
        self.calls_done = np.append(self.calls_done, np.int64(0))
        return self.n - 1

    def room(self, i: int) -> float:
        """What intervention ``i`` may still commit or spend [SEK]."""
        return float(self.budget[i] - self.spent[i] - self.committed[i])

    def pay(self, i: int, amount: float, discount: float, committed: bool = False) -> None:
        """Book a payment of ``amount`` SEK by intervention ``i`` (``discount``: its present-value factor)."""
        self.spent[i] += amount
        self.spent_pv[i] += amount * discount
        if committed:
            self.committed[i] = max(0.0, self.committed[i] - amount)

    def has_grant(self, month: float) -> np.ndarray:
        """Organisations holding an intervention's grant at ``month`` (bool per organisation)."""
        return (self.grant_of >= 0) & (self.grant_until > month + 1e-9)
