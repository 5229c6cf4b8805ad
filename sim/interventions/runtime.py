"""The rules that run a scenario's interventions, once per step before the six elements.

:func:`apply_interventions` is called at the start of every step with the state at
month ``m`` (the month the step starts); an intervention starting at month ``m`` acts
from that step on, so every collected row up to month ``m`` is the same as without
it (common random numbers: each intervention draws only from its own random stream,
keyed to its index, and nothing else draws differently until it acts).

Per kind (see :mod:`sim.interventions.schema` for the fields):

* ``offer``: when it starts, every target place gets a decision month ``start + U(0,
  decision_months)``. At that month the place accepts if ``severity >= min_need`` and
  ``max(0, site_cost[project] - grant) / own budget <= max_cost_share`` (own budget as at
  pilot end: ``budget_sek * (0.5 + money)`` of its municipality), and the budget can
  commit ``grant * length``; else it declines. An accepting place's municipality (its
  first organisation) runs the solution (started if it did not), on the agreement's grant
  as a project of ``length_months`` when it is not already on an ordinary budget; its
  organisations' thresholds fall by ``scaling_up.threshold_cut`` and their own
  propensity rises by ``scaling_up.p_boost`` (the mandate holder's agreement). Decisions
  not due before the offer ends are never made.
* ``grants``: at each call, the running sites of the target places that are not on an
  ordinary budget and hold no grant of this programme apply, and so does each organisation
  there that may adopt (:func:`~sim.elements.spread.may_adopt`) with probability ``uptake``;
  they are funded in the order of ``selection`` (need: severity of the place, highest
  first; first_come: the earliest to run it, new applicants last; lottery: the programme's
  own draws) while the call's cap and the budget allow: project funding until ``month +
  length_months`` (new applicants start running it).
* ``training``, ``measurement``: while active, guardrails (measurement effort) in the
  target places are at least ``level``; each step costs ``cost_sek_per_site_month * dt``
  (``(level - scenario effort)+ * value.measurement_cost_sek * dt``) per running site
  there. A step the remaining budget cannot pay ends the intervention.
* ``seed``: when it starts, ``n_per_place`` organisations of ``sector`` (eligible ones
  first, in the order of the intervention's draws) start running it in every target
  place; with a grant they are its projects for ``length_months``.
* ``funding_cut``: while active, the target places have no project money: running
  projects (not intervention grants) end at once and meet the pilot-end decision
  without renewal; new sites there start unfunded.
* ``set``: while active the lever has the new value (:func:`effective_params`); a priced
  change pays ``cost_sek_per_month * dt`` each step first and lapses when it cannot.

Every payment is booked to its intervention (``intervention_cost_sek_<i>`` in the model
table) and never exceeds its budget (:mod:`sim.interventions.ledger`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.codes import Funding, Status
from sim.elements.spread import OWN_BUDGET_FLOOR, may_adopt, start_sites
from sim.interventions.ledger import PlaceLevers, StrategyState
from sim.interventions.schema import Intervention, PlaceRule
from sim.params import SECTORS, Scenario
from sim.state import SimState
from sim.streams import PURPOSES, Streams

EPS = 1e-9
"""Months: an intervention at month m acts in the step that starts at m (within rounding of steps * dt)."""


def intervention_rng(streams: Streams, i: int) -> np.random.Generator:
    """The random stream of intervention ``i``, keyed to its index (adding one leaves the others' draws alone)."""
    ss = streams.seed_sequence
    key = (*ss.spawn_key, PURPOSES.index("interventions"), i)
    return np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=key))


def intervention_rngs(scenario: Scenario, streams: Streams) -> list[np.random.Generator]:
    """One random stream per intervention of ``scenario`` (:func:`intervention_rng`)."""
    return [intervention_rng(streams, i) for i in range(len(scenario.interventions))]


def discount_factor(scenario: Scenario, month: float) -> float:
    """Present-value factor of month ``month``: ``(1 + value.discount_rate) ** (-month / 12)``."""
    return float((1.0 + scenario.value.discount_rate) ** (-month / 12.0))


def place_index(state: SimState, key: str | int) -> int:
    """Index of a place given by name or municipality code (an integer code is read with 4 digits)."""
    places = state.places
    text = f"{key:04d}" if isinstance(key, int) else str(key)
    hit = np.flatnonzero((places.name == text) | (places.code == text))
    if len(hit) == 0:
        raise ValueError(f"no place named or coded {text!r}")
    return int(hit[0])


def resolve_places(state: SimState, spec: object) -> np.ndarray:
    """Target places of an intervention (bool over places), fixed when it starts."""
    n = state.places.n
    if spec == "all":
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    if isinstance(spec, list):
        mask[[place_index(state, k) for k in spec]] = True
        return mask
    assert isinstance(spec, PlaceRule)
    reached = ~np.isnan(state.first_reached)
    if spec.rule in ("reached", "not_reached"):
        pool = np.flatnonzero(reached if spec.rule == "reached" else ~reached)
        mask[pool[: spec.n] if spec.n else pool] = True
        return mask
    key = {"highest_need": -state.places.severity, "lowest_need": state.places.severity,
           "largest": -state.places.target_size, "smallest": state.places.target_size}[spec.rule]
    mask[np.argsort(key, kind="stable")[: spec.n]] = True
    return mask


def effective_params(base: Scenario, active: list) -> Scenario:
    """The scenario with the ``set`` interventions ``active`` applied (later ones win)."""
    changes: dict[str, dict[str, float]] = {}
    for iv in active:
        section, name = iv.lever.split(".")
        changes.setdefault(section, {})[name] = iv.value
    if not changes:
        return base
    update = {}
    for section, values in changes.items():
        sec = getattr(base, section)
        values = {k: (int(v) if type(sec).model_fields[k].annotation is int else v) for k, v in values.items()}
        update[section] = sec.model_copy(update=values)
    return base.model_copy(update=update)


def _raise(floor: np.ndarray | None, targets: np.ndarray, level: float) -> np.ndarray:
    """A per-place floor raised to ``level`` in ``targets`` (zeros elsewhere: no floor)."""
    out = np.zeros(len(targets)) if floor is None else floor
    out[targets] = np.maximum(out[targets], level)
    return out


def add_intervention(model: Any, iv: Intervention) -> int:
    """Add ``iv`` to a running :class:`sim.model.SocialInnovationModel` from now on; return its index.

    The run is then step for step that of a scenario declaring ``iv`` last (:meth:`Interventions.add`);
    a model without interventions gets its runtime now. Used by the workshop's national offer.
    """
    if model.interventions is None:
        model.interventions = Interventions(model.params, model.state, model.streams)
    return model.interventions.add(iv, model.state)


class Interventions:
    """The interventions of one run: their windows, streams and the per-step rule (:meth:`apply`)."""

    def __init__(self, scenario: Scenario, state: SimState, streams: Streams) -> None:
        self.base = scenario
        start = scenario.run.start
        self.items = list(scenario.interventions)
        self.begin = np.array([iv.start_month(start) for iv in self.items])
        self.end = np.array([iv.stop_month(start) for iv in self.items])
        self.streams = streams
        self.rngs = intervention_rngs(scenario, streams)
        self.lottery: list[np.ndarray | None] = [None] * len(self.items)
        st = StrategyState(len(self.items), state.orgs.n, state.places.n)
        st.budget[:] = [math.inf if iv.budget_sek is None else iv.budget_sek for iv in self.items]
        state.strategy = st
        self._cache: tuple[tuple[int, ...], Scenario] | None = None

    def add(self, iv: Intervention, state: SimState) -> int:
        """Add intervention ``iv`` part-way through the run (a workshop's national offer); return its index.

        It gets the next index and that index's random stream, so a run that adds ``iv`` at
        month m is step for step the run of a scenario that declared it as its last
        intervention starting at m. It must not start before the current month.
        """
        begin = iv.start_month(self.base.run.start)
        if begin < state.month - EPS:
            raise ValueError(f"an intervention added at month {state.month:g} cannot start earlier (month {begin:g})")
        i = state.strategy.grow(math.inf if iv.budget_sek is None else iv.budget_sek)
        self.items.append(iv)
        self.begin = np.append(self.begin, begin)
        self.end = np.append(self.end, iv.stop_month(self.base.run.start))
        self.rngs.append(intervention_rng(self.streams, i))
        self.lottery.append(None)
        self._cache = None
        return i

    def rebase(self, scenario: Scenario) -> None:
        """Make ``scenario`` the base the interventions apply to from the next step (same interventions).

        For a run whose scenario changes part-way (a workshop room's decisions): the
        ``set`` levers are then applied on the new base.
        """
        self.base = scenario
        self._cache = None

    def params_at(self, month: float, exhausted: np.ndarray | None = None) -> Scenario:
        """The scenario in force at ``month``: ``set`` interventions active then (and not out of money) applied.

        Cached while the same are active.
        """
        active = tuple(i for i, iv in enumerate(self.items)
                       if iv.kind == "set" and self.begin[i] <= month + EPS < self.end[i]
                       and (exhausted is None or not exhausted[i]))
        if self._cache is None or self._cache[0] != active:
            self._cache = (active, effective_params(self.base, [self.items[i] for i in active]))
        return self._cache[1]

    def apply(self, state: SimState) -> Scenario:
        """Run the interventions for the step starting now; return the parameters the step uses."""
        month = state.month
        st = state.strategy
        for i, iv in enumerate(self.items):  # a priced lever change pays this month first, or lapses
            if iv.kind == "set" and self.begin[i] <= month + EPS < self.end[i] and iv.cost_sek_per_month > 0:
                self._pay_flat(i, state, iv.cost_sek_per_month * state.clock.dt, discount_factor(self.base, month))
        p = self.params_at(month, st.exhausted)
        disc = discount_factor(p, month)
        levers = PlaceLevers()
        for i, iv in enumerate(self.items):
            active = self.begin[i] <= month + EPS < self.end[i]
            if not active:
                continue
            if not st.started[i]:
                st.started[i] = True
                st.targets[i] = resolve_places(state, iv.places)
                self.lottery[i] = self.rngs[i].random(state.orgs.n)
                self._start(i, state, p, disc)
            getattr(self, f"_{iv.kind}")(i, state, p, levers, disc)
        state.place_levers = levers
        self._pay_grants(state, p, disc)
        return p

    # ------------------------------------------------------------------ once, when an intervention starts
    def _start(self, i: int, state: SimState, p: Scenario, disc: float) -> None:
        iv = self.items[i]
        st = state.strategy
        targets = st.targets[i]
        if iv.kind == "offer":
            delay = self.rngs[i].uniform(0.0, iv.decision_months, state.places.n)
            st.decide_month[i] = np.where(targets, self.begin[i] + delay, np.nan)
        elif iv.kind == "seed":
            self._start_seed(i, state, p, targets)
        elif iv.kind == "grants":
            st.calls_done[i] = 0

    def _start_seed(self, i: int, state: SimState, p: Scenario, targets: np.ndarray) -> None:
        iv = self.items[i]
        o = state.orgs
        st = state.strategy
        free = o.status == Status.NOT_ADOPTED
        if p.organisations.readoption:
            free |= (o.status == Status.DISCONTINUED) | (o.status == Status.ABANDONED)
        if iv.sector != "any":
            free &= o.sector == SECTORS.index(iv.sector)
        order = np.lexsort((self.lottery[i], ~o.eligible))  # eligible first, then by the intervention's draws
        picked: list[int] = []
        amount = iv.grant_sek_per_month * iv.length_months
        for place in np.flatnonzero(targets):
            cand = order[free[order] & (o.place[order] == place)][: iv.n_per_place]
            for org in cand:
                if amount > 0 and st.room(i) < amount - EPS:
                    break
                picked.append(int(org))
                if amount > 0:
                    st.committed[i] += amount
        if not picked:
            return
        idx = np.array(picked, dtype=np.int64)
        o.eligible[idx] = True  # the strategy chose them: relevant to the challenge
        start_sites(state, p, idx, self.rngs[i])
        if amount > 0:
            self._give_grant(state, i, idx, iv.grant_sek_per_month, iv.length_months)

    # ------------------------------------------------------------------ every step while active
    def _offer(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        iv = self.items[i]
        st = state.strategy
        o = state.orgs
        month = state.month
        due = np.flatnonzero(st.decide_month[i] <= month + EPS)
        if len(due) == 0:
            return
        st.decide_month[i][due] = np.nan
        min_need = p.scaling_up.refusal_need if iv.min_need is None else iv.min_need
        amount = iv.grant_sek_per_month * iv.length_months
        vp = p.value
        for place in due:
            if st.agreement[place] >= 0 or len(state.org_ids_by_place[place]) == 0:
                continue
            muni = int(state.org_ids_by_place[place][0])  # the municipality (the place's first organisation)
            own_budget = vp.budget_sek * (OWN_BUDGET_FLOOR + o.money[muni])
            share = max(0.0, vp.site_cost_sek["project"] - iv.grant_sek_per_month) / own_budget
            on_budget = o.running[muni] and o.funding[muni] == Funding.ORDINARY
            funded = amount > 0 and not on_budget
            if (state.places.severity[place] < min_need or share > iv.max_cost_share
                    or (funded and st.room(i) < amount - EPS)):
                st.declined[place] = True
                continue
            st.agreement[place] = i
            st.declined[place] = False
            if not o.running[muni]:
                o.eligible[muni] = True
                start_sites(state, p, np.array([muni]), self.rngs[i])
            if funded:
                st.committed[i] += amount
                self._give_grant(state, i, np.array([muni]), iv.grant_sek_per_month, iv.length_months)
            here = o.place == place
            o.phi[here] *= 1.0 - p.scaling_up.threshold_cut
            o.p[here] += p.scaling_up.p_boost

    def _grants(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        iv = self.items[i]
        st = state.strategy
        o = state.orgs
        month = state.month
        calls = iv.calls if iv.calls is not None else None
        k = int(st.calls_done[i])
        if calls is not None:
            due = k < len(calls) and sorted(calls)[k] <= month + EPS
        else:
            due = self.begin[i] + k * iv.every_months <= month + EPS
        if not due:
            return
        st.calls_done[i] += 1
        lots, u_apply = self.rngs[i].random((2, o.n))  # fixed-size draws at every call, used or not
        held = (st.grant_of == i) & (st.grant_until > month + EPS)
        here = st.targets[i][o.place]
        sites = o.running & (o.funding != Funding.ORDINARY) & ~held & here
        new = may_adopt(state, p) & here & (u_apply < iv.uptake)  # organisations applying to start a site
        apply = np.flatnonzero(sites | new)
        if len(apply) == 0:
            return
        if iv.selection == "need":
            key = -state.places.severity[o.place[apply]]
        elif iv.selection == "first_come":
            key = np.where(np.isnan(o.adopt_month[apply]) | ~o.running[apply], np.inf, o.adopt_month[apply])
        else:
            key = lots[apply]
        apply = apply[np.argsort(key, kind="stable")]
        amount = iv.grant_sek_per_month * iv.length_months
        cap = iv.grants_per_call or len(apply)
        room = st.room(i)
        fits = math.inf if amount <= 0 or math.isinf(room) else max(0.0, room + EPS) // amount  # inf for a tiny grant
        n_fit = len(apply) if fits >= len(apply) else int(fits)
        funded = apply[: min(cap, n_fit)]
        if len(funded) == 0:
            st.exhausted[i] = amount > 0
            return
        st.committed[i] += amount * len(funded)
        starting = funded[~o.running[funded]]
        if len(starting):
            start_sites(state, p, starting, self.rngs[i])
        self._give_grant(state, i, funded, iv.grant_sek_per_month, iv.length_months)

    def _training(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        iv = self.items[i]
        cost = iv.cost_sek_per_site_month * state.clock.dt
        if self._pay_per_site(i, state, cost, disc):
            levers.guardrails = _raise(levers.guardrails, state.strategy.targets[i], iv.level)

    def _measurement(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        iv = self.items[i]
        extra = max(0.0, iv.level - p.levers.measurement_effort)
        if self._pay_per_site(i, state, extra * p.value.measurement_cost_sek * state.clock.dt, disc):
            levers.measurement = _raise(levers.measurement, state.strategy.targets[i], iv.level)

    def _seed(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        """Seeding acts once, when it starts."""

    def _funding_cut(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        st = state.strategy
        o = state.orgs
        t = st.targets[i]
        if levers.project_money is None:
            levers.project_money = np.ones(state.places.n, dtype=bool)
        levers.project_money[t] = False
        month = state.month
        cut = o.running & (o.funding == Funding.PROJECT) & t[o.place] & ~st.has_grant(month)
        cut &= o.project_end > month + EPS
        o.project_end[cut] = month

    def _set(self, i: int, state: SimState, p: Scenario, levers: PlaceLevers, disc: float) -> None:
        """A ``set`` acts through :meth:`params_at`."""

    # ------------------------------------------------------------------ spending
    def _pay_per_site(self, i: int, state: SimState, per_site: float, disc: float) -> bool:
        """Pay ``per_site`` SEK for every running site of the target places; False (and exhausted) if it cannot."""
        st = state.strategy
        if st.exhausted[i]:
            return False
        o = state.orgs
        sites = int(np.count_nonzero(o.running & st.targets[i][o.place]))
        amount = per_site * sites
        if amount > st.room(i) + EPS:
            st.exhausted[i] = True
            return False
        st.pay(i, amount, disc)
        return True

    def _pay_flat(self, i: int, state: SimState, amount: float, disc: float) -> None:
        """Pay ``amount`` SEK for intervention ``i``, or mark it exhausted if its budget cannot."""
        st = state.strategy
        if st.exhausted[i]:
            return
        if amount > st.room(i) + EPS:
            st.exhausted[i] = True
            return
        st.pay(i, amount, disc)

    def _give_grant(self, state: SimState, i: int, idx: np.ndarray, rate: float, length: float) -> None:
        """Sites ``idx`` hold intervention ``i``'s grant (``rate`` SEK/month) for ``length`` months: projects till then."""
        st = state.strategy
        o = state.orgs
        month = state.month
        old = idx[(st.grant_of[idx] >= 0) & (st.grant_until[idx] > month + EPS)]
        self._release(state, old)
        st.grant_of[idx] = i
        st.grant_rate[idx] = rate
        st.grant_until[idx] = month + length
        o.funding[idx] = Funding.PROJECT
        o.project_end[idx] = month + length
        o.funding_ended[idx] = np.nan

    def _release(self, state: SimState, idx: np.ndarray) -> None:
        """Free what grants of sites ``idx`` still had committed (they stopped, or got a new grant)."""
        st = state.strategy
        month = state.month
        for org in idx:
            j = int(st.grant_of[org])
            left = st.grant_rate[org] * max(0.0, st.grant_until[org] - month)
            st.committed[j] = max(0.0, st.committed[j] - left)
            st.grant_of[org] = -1
            st.grant_until[org] = -math.inf

    def _pay_grants(self, state: SimState, p: Scenario, disc: float) -> None:
        """Pay this step's grants of running sites; release the commitments of sites that stopped."""
        st = state.strategy
        o = state.orgs
        month = state.month
        holding = st.has_grant(month)
        if not holding.any():
            return
        self._release(state, np.flatnonzero(holding & ~o.running))
        paying = np.flatnonzero(st.has_grant(month))
        months = np.minimum(state.clock.dt, st.grant_until[paying] - month)
        amounts = st.grant_rate[paying] * months
        for j in np.unique(st.grant_of[paying]):
            sel = st.grant_of[paying] == j
            st.pay(int(j), float(amounts[sel].sum()), disc, committed=True)


__all__ = ["Interventions", "discount_factor", "effective_params", "resolve_places"]
