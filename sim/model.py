"""The Mesa model: builds the world, orders the step, collects results.

Order of one step (all rules read the state at the start of their phase; target
groups are updated synchronously):

1. the six elements' organisation rules: understand, envision, mobilise, develop;
2. refresh fidelity ``F``, fit ``L`` and effectiveness ``E`` of every variant (again after 3);
3. realise and spread: adoption (scaling out), pilot end, abandonment, scaling up;
4. target groups: awareness, participation, benefit, dropout (vectorised), then cohort turnover;
5. create value: the three accounts, costs and visible value (measured every step);
6. moves between elements (the non-linear process);
7. collect the model-level row.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim import elements
from sim.agents import ABANDONED, DISCONTINUED, ORDINARY, PROJECT, Organisation, create_org_state
from sim.elements.spread import start_sites
from sim.elements.value import ValueAccounts, visibility
from sim.population import TargetGroup
from sim.rates import per_step
from sim.results import Collector
from sim.scenario import Scenario
from sim.solution import design_solution
from sim.streams import Streams
from sim.world import build_org_network, build_places, build_population_network
from sim.world.places import organisation_counts


class SocialInnovationModel(mesa.Model):
    """How a social innovation is created, spread and scaled.

    Args:
        scenario: validated parameters (see :mod:`sim.scenario`).
        seed: root seed of all random streams (default: ``scenario.run.seed``).
        collect_places: also keep a per-step, per-place table (costs memory).
        collect_organisations: also keep a per-step, per-organisation table (costs memory).
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: int | None = None,
        collect_places: bool = False,
        collect_organisations: bool = False,
    ) -> None:
        scenario = scenario or Scenario()
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.params = scenario
        self.seed = seed
        self.dt = scenario.run.dt
        self.rate_mode = scenario.run.rate_mode
        self.streams = Streams(seed)
        self.steps_done = 0
        self.month = 0.0
        # --- world
        self.places = build_places(scenario, self.streams.places)
        op = scenario.organisations
        counts = organisation_counts(op, self.places.population)
        k = scenario.solution.k_core + scenario.solution.k_periphery
        self.solution = design_solution(scenario.solution, self.places.need.mean(axis=0), self.streams.solution)
        self.orgs = create_org_state(
            counts, op.sector_shares, k, scenario.levers.vision_clarity, scenario.solution.effect_size,
            self.streams.organisations,
        )
        self._init_thresholds()
        self.org_ids_by_place = np.split(np.arange(self.orgs.n), np.cumsum(counts)[:-1])
        self.all_org_ids = np.arange(self.orgs.n)
        self.network = build_org_network(
            op, self.orgs.place, self.places.x_km, self.places.y_km, self.places.population, self.streams.org_network
        )
        self.organisations = [Organisation(self, i) for i in range(self.orgs.n)]
        # --- target groups
        pop = scenario.population
        tg_size = self.places.target_size
        starts = np.concatenate([[0], np.cumsum(tg_size)[:-1]])
        indptr, indices = build_population_network(
            starts, tg_size, pop.degree, pop.within_place, self.streams.population_network
        )
        self.people = TargetGroup(tg_size, self.places.severity, indptr, indices, pop, self.streams.people)
        # --- process, value, policy
        self.transitions = elements.transition_matrix(scenario.process)
        self.accounts = ValueAccounts(self.places.n)
        total_target = max(float(tg_size.sum()), 1.0)
        self.place_visibility_scale = np.maximum(
            scenario.value.visibility_scale * tg_size / total_target, 5.0 / scenario.places.target_scale
        )
        self.policy_step: int | None = None
        self.policy_refused = np.zeros(self.places.n, dtype=bool)
        self.first_reached = np.full(self.places.n, np.nan)
        self.flows = np.zeros((6, 6), dtype=np.int64)
        self.flows_total = np.zeros((6, 6), dtype=np.int64)
        self._next_alliance = 0
        self.events: dict[str, int] = {"adopted": 0, "made_permanent": 0, "discontinued": 0, "abandoned": 0}
        self._seed_originators()
        self.refresh_solution_state()
        self.collector = Collector(self, collect_places=collect_places, collect_organisations=collect_organisations)
        self.collector.collect()

    # ------------------------------------------------------------------ set-up helpers
    def _init_thresholds(self) -> None:
        op = self.params.organisations
        o = self.orgs
        rng = self.streams.organisations
        o.p[:] = op.p
        draws = np.clip(rng.normal(op.threshold_mean, op.threshold_sd, o.n), 0.0, 1.0)
        if op.thresholds is not None:
            if len(op.thresholds) != o.n:
                from sim.scenario import ScenarioError

                raise ScenarioError(
                    f"field organisations.thresholds: has {len(op.thresholds)} values but the scenario makes "
                    f"{o.n} organisations (allowed: exactly {o.n})"
                )
            draws = np.asarray(op.thresholds, dtype=np.float64)
        o.phi[:] = draws

    def _seed_originators(self) -> None:
        op = self.params.organisations
        n0 = min(op.initial_adopters, self.orgs.n)
        if n0 == 0:
            return
        rng = self.streams.organisations
        if op.initial_place is not None:
            hits = np.flatnonzero(self.places.name == op.initial_place)
            if len(hits) == 0:
                from sim.scenario import ScenarioError

                raise ScenarioError(
                    f"field organisations.initial_place: no place named {op.initial_place!r} "
                    f"(allowed: one of the scenario's place names, e.g. {self.places.name[0]!r})"
                )
            home = int(hits[0])
        else:
            home = int(rng.integers(self.places.n))
        local = self.org_ids_by_place[home]
        if op.seeding == "neighbourhood" and len(local):
            pick = self._neighbourhood(int(rng.choice(local)), n0)
        else:
            others = np.setdiff1d(self.all_org_ids, local)
            pick = list(rng.permutation(local)[:n0]) + list(rng.permutation(others)[: max(0, n0 - len(local))])
        start_sites(self, np.array(pick, dtype=np.int64))
        self._note_reached()

    def _neighbourhood(self, focal: int, n0: int) -> list[int]:
        """``focal`` and its network neighbours, breadth first (lowest id first), up to ``n0`` organisations.

        Under full mixing everyone is a neighbour (ids in order); if the focal
        organisation's component is smaller than ``n0``, fewer are returned.
        """
        if self.network.full:
            return [focal] + [i for i in range(self.orgs.n) if i != focal][: n0 - 1]
        indptr, indices = self.network.csr.indptr, self.network.csr.indices
        seen, queue = {focal}, [focal]
        for node in queue:
            if len(queue) >= n0:
                break
            for nb in indices[indptr[node] : indptr[node + 1]]:
                if int(nb) not in seen and len(queue) < n0:
                    seen.add(int(nb))
                    queue.append(int(nb))
        return queue[:n0]

    # ------------------------------------------------------------------ small shared helpers
    def ps(self, monthly: Any) -> Any:
        """Per-step probability of a monthly rate (see :mod:`sim.rates`)."""
        return per_step(monthly, self.dt, self.rate_mode)

    def new_alliance_id(self) -> int:
        """A fresh alliance id."""
        self._next_alliance += 1
        return self._next_alliance - 1

    def policy_covers(self, place: np.ndarray) -> np.ndarray:
        """Whether scaling-up policy applies in the given places (after the event, unless refused)."""
        if self.policy_step is None:
            return np.zeros(len(place), dtype=bool)
        return ~self.policy_refused[place]

    @property
    def visibility_signal(self) -> float:
        """National visibility of value ``V_vis`` in [0, 1)."""
        return float(visibility(self.accounts.visible.sum(), self.params.value.visibility_scale))

    @property
    def places_reached_share(self) -> float:
        """Share of places where some organisation has ever run the solution."""
        return float(np.mean(~np.isnan(self.first_reached))) if self.places.n else 0.0

    def refresh_solution_state(self) -> None:
        """Recompute fidelity, fit and effectiveness of all organisations that ever adopted."""
        o = self.orgs
        had = ~np.isnan(o.adopt_month)
        if not had.any():
            return
        v = o.variant[had]
        o.fidelity[had] = self.solution.fidelity(v)
        o.fit[had] = self.solution.fit(v, self.places.need[o.place[had]])
        o.effectiveness[had] = self.solution.effectiveness(o.effect[had], o.fidelity[had], o.fit[had])
        o.effectiveness[~o.running] = 0.0

    def _note_reached(self) -> None:
        run_places = np.unique(self.orgs.place[self.orgs.running])
        new = run_places[np.isnan(self.first_reached[run_places])]
        self.first_reached[new] = self.month

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance the model by one step of ``dt`` months."""
        o = self.orgs
        rng = self.streams.process
        u_adopt, u_abandon, u_move = rng.random((3, o.n))
        # F, L and E are current: refreshed at the end of the previous step (or at set-up)
        elements.understand(self)
        elements.envision(self)
        elements.mobilise(self)
        elements.develop(self)
        self.refresh_solution_state()
        # realise and spread (all decisions read the same snapshot of who runs it)
        running_before = o.running.copy()
        new = elements.adopt(self, np.where(running_before, 1.0, u_adopt))
        gone = elements.abandon(self, np.where(running_before, u_abandon, 1.0))
        self.month += self.dt
        made, died = elements.pilot_end(self)
        elements.scale_up(self)
        self._note_reached()
        self.refresh_solution_state()
        self.events["adopted"] += len(new)
        self.events["abandoned"] += len(gone)
        self.events["made_permanent"] += made
        self.events["discontinued"] += died
        # target groups, synchronously
        u_people = self.people.draw_uniforms(self.streams.people)  # = people.random(n, dtype=float32), reused buffer
        new_benef = self.people.step(elements.place_service(self), self.dt, self.rate_mode, u_people)
        if self.params.population.turnover > 0:
            share = self.ps(self.params.population.turnover)
            self.people.turn_over(float(share), self.places.severity, self.streams.turnover)
        # create value (measured every step)
        elements.create_value(self, new_benef)
        # the non-linear process
        self.flows = elements.move_between_elements(self, u_move)
        self.flows_total += self.flows
        self.steps_done += 1
        self.collector.collect()

    # ------------------------------------------------------------------ summaries used by reports
    def site_counts(self) -> dict[str, int]:
        """Running sites by funding, and stopped sites by cause."""
        o = self.orgs
        run = o.running
        return {
            "sites_running": int(run.sum()),
            "sites_project": int((run & (o.funding == PROJECT)).sum()),
            "sites_permanent": int((run & (o.funding == ORDINARY)).sum()),
            "sites_discontinued": int((o.status == DISCONTINUED).sum()),
            "sites_abandoned": int((o.status == ABANDONED).sum()),
        }
