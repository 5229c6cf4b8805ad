"""The Mesa model: the shell that orders the step and collects results.

The state of a run is one :class:`sim.state.SimState` (built by
:func:`sim.world.build.build_world`); the rules are plain functions of it, one
module per element (:mod:`sim.elements`). Order of one step (every rule reads the
state at the start of its phase; target groups are updated synchronously):

0. the scenario's interventions (:mod:`sim.interventions.runtime`) due this step;
1. the six elements' organisation rules: understand, envision, mobilise, develop;
2. refresh fidelity ``F``, fit ``L`` and effectiveness ``E`` of every variant (again after 3);
3. realise and spread: adoption (scaling out), abandonment, [the clock ticks], pilot end, scaling up;
4. target groups: awareness, participation, benefit, dropout (vectorised), then cohort turnover;
5. create value: the three accounts, costs and visible value (measured every step);
6. moves between elements (the non-linear process);
7. collect the model-level row.

One clock: Mesa's ``steps`` counts steps and Mesa's ``time`` is in months (it
advances by ``dt`` a step), equal to ``state.clock.step`` and ``state.clock.month``
after every step.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.time import EventGenerator, Priority, Schedule

from sim.agents import Organisation
from sim.elements.develop import develop
from sim.elements.envision import envision
from sim.elements.mobilise import mobilise
from sim.elements.spread import abandon, adopt, pilot_end, scale_up, serve_target_groups
from sim.elements.transitions import move_between_elements
from sim.elements.understand import understand
from sim.elements.value import create_value
from sim.interventions.runtime import Interventions
from sim.organisations import OrgState
from sim.population import TargetGroup
from sim.results import Collector
from sim.scenario import Scenario
from sim.state import SimState
from sim.streams import Streams
from sim.world.build import build_world
from sim.world.places import Places


class SocialInnovationModel(mesa.Model):
    """How a social innovation is created, spread and scaled.

    Args:
        scenario: validated parameters (see :mod:`sim.scenario`).
        seed: root seed of all random streams (default: ``scenario.run.seed``).
        collect_places: also keep a per-step, per-place table (costs memory).
        collect_organisations: also keep a per-step, per-organisation table (costs memory).

    Attributes: ``params`` the scenario, ``state`` the :class:`~sim.state.SimState`, ``streams`` the random
    streams, ``interventions`` its interventions (None without), ``collector`` the collected tables.
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
        # Mesa's clock in months: one step every dt
        self._default_schedule.stop()
        self._default_schedule = EventGenerator(
            self, self._do_step, Schedule(interval=self.dt, start=self.dt), priority=Priority.HIGH
        ).start()
        self.streams = Streams(seed)
        self.state: SimState = build_world(scenario, self.streams)
        self.interventions = Interventions(scenario, self.state, self.streams) if scenario.interventions else None
        self._organisations: list[Organisation] | None = None
        self.collector = Collector(self.state, scenario, collect_places, collect_organisations)
        self.collector.collect()

    def _wrapped_step(self) -> None:
        """Advance Mesa's time by one step of ``dt`` months (running the step and any scheduled events)."""
        self._advance_time(self.time + self.dt)

    def step(self) -> None:
        """Advance the model by one step of ``dt`` months."""
        s, r = self.state, self.streams
        p = self.interventions.apply(s) if self.interventions else self.params  # the strategy acts first
        u_adopt, u_abandon, u_move = r.process.random((3, s.orgs.n))
        # F, L and E are current: refreshed at the end of the previous step (or at set-up)
        understand(s, p)
        envision(s, p)
        mobilise(s, p, r.organisations)
        develop(s, p, r.solution)
        s.refresh_solution()
        # realise and spread (all decisions read the same snapshot of who runs it)
        running_before = s.orgs.running.copy()
        new = adopt(s, p, np.where(running_before, 1.0, u_adopt), r.sites)
        gone = abandon(s, p, np.where(running_before, u_abandon, 1.0))
        s.clock.tick()
        made, died = pilot_end(s, p, r.funding)
        scale_up(s, p, r.scaling)
        s.note_reached()
        s.refresh_solution()
        for name, k in (("adopted", len(new)), ("abandoned", len(gone)), ("made_permanent", made), ("discontinued", died)):
            s.events[name] += k
        new_benef = serve_target_groups(s, p, r.people, r.turnover)
        create_value(s, p, new_benef)
        s.flows = move_between_elements(s, p, u_move)
        s.flows_total += s.flows
        self.collector.collect()

    # ------------------------------------------------------------------ read-only views
    @property
    def organisations(self) -> list[Organisation]:
        """The organisations as Mesa agents (read-only views of ``state.orgs``, built on first use)."""
        if self._organisations is None:
            self._organisations = [Organisation(self, self.state, i) for i in range(self.state.orgs.n)]
        return self._organisations

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of all agents (the organisations are built on first use)."""
        _ = self.organisations
        return super().agents

    @property
    def orgs(self) -> OrgState:
        """The organisations' arrays (``state.orgs``)."""
        return self.state.orgs

    @property
    def places(self) -> Places:
        """The places (``state.places``)."""
        return self.state.places

    @property
    def people(self) -> TargetGroup:
        """The target groups (``state.people``)."""
        return self.state.people

    @property
    def month(self) -> float:
        """Elapsed time [months] (= Mesa's ``time``)."""
        return self.state.clock.month
