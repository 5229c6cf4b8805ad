"""The per-agent reference ("oracle") of the organisation adoption rule, written the idiomatic Mesa way.

One :class:`ReferenceOrganisation` (a Mesa ``FixedAgent``) per organisation sits in
one cell of a Mesa :class:`~mesa.discrete_space.Network` built from the same CSR
adjacency the vectorised model uses (no layout: a purely topological space). Every
step is a synchronous two-phase update: all organisations first *decide* from the
state at the start of the step, then all *apply* their decision.

The rule is the plain organisation adoption rule of :mod:`sim.elements.spread` with
everything else switched off (the validation limits)::

    adoption hazard    p + q * s(x_i) * [x_i >= phi_i]      (per month)
    abandonment hazard delta                                (per month, running sites)

where ``x_i`` is the share of organisation ``i``'s ties that run the solution (under
full mixing the share of all organisations), ``s(x) = x`` for ``influence =
"proportional"`` (Bass) and ``1`` for ``"threshold"`` (Granovetter/Watts). Monthly
figures become per-step probabilities with :func:`sim.rates.per_step`. Abandoned
organisations may adopt again only if ``readoption``.

It is deliberately simple and slow (a Python loop over agents and their
neighbours): the vectorised model is tested against it, and benchmarked against it.

* :class:`ReferenceAdoptionModel` takes the rule's parameters and a CSR network
  directly: ``ReferenceAdoptionModel(n, indptr, indices, p, q, delta, seed)``;
  ``.step()`` can be timed alone.
* :func:`reference_run` builds one from a scenario in a validation limit (the same
  network generator and seed streams as :class:`sim.model.SocialInnovationModel`)
  and returns the per-step table ``step, month, orgs_adopted, sites_running``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from mesa.discrete_space import FixedAgent, Network

from sim.codes import Status
from sim.rates import per_step
from sim.scenario import FORMS, Scenario
from sim.streams import Streams
from sim.world.build import build_world

NOT_ADOPTED, RUNNING, STOPPED = Status.NOT_ADOPTED, Status.RUNNING, Status.ABANDONED


class ReferenceOrganisation(FixedAgent):
    """One organisation in a cell of the network space.

    Attributes:
        phi: adoption threshold, a share of ties in [0, 1].
        status: a :class:`sim.codes.Status`: ``NOT_ADOPTED``, ``RUNNING`` or ``ABANDONED`` (``STOPPED``).
        ever_adopted: whether it has ever run the solution.
    """

    def __init__(self, model: ReferenceAdoptionModel, cell: mesa.discrete_space.Cell, phi: float) -> None:
        super().__init__(model)
        self.cell = cell
        self.phi = float(phi)
        self.status = NOT_ADOPTED
        self.ever_adopted = False
        self._next_status = NOT_ADOPTED

    @property
    def running(self) -> bool:
        """Whether it runs the solution now."""
        return self.status == RUNNING

    def exposure(self) -> float:
        """Share of its ties that run the solution (under full mixing: of all organisations) [0, 1]."""
        model: ReferenceAdoptionModel = self.model  # type: ignore[assignment]
        if model.full_mixing:
            return model.n_running / model.n
        neighbours = list(self.cell.neighborhood.agents)
        if not neighbours:
            return 0.0
        return sum(1 for other in neighbours if other.running) / len(neighbours)

    def decide(self) -> None:
        """Phase 1: choose next status from the state at the start of the step."""
        model: ReferenceAdoptionModel = self.model  # type: ignore[assignment]
        self._next_status = self.status
        if self.status == RUNNING:
            if model.rng.random() < model.abandon_probability:
                self._next_status = STOPPED
            return
        if self.status == STOPPED and not model.readoption:
            return
        x = self.exposure()
        social = x if model.influence == "proportional" else 1.0
        hazard = model.p + model.q * social * (x >= self.phi - 1e-12)
        if model.rng.random() < float(per_step(hazard, model.dt, model.rate_mode)):
            self._next_status = RUNNING

    def apply(self) -> None:
        """Phase 2: take the status chosen in phase 1."""
        self.status = self._next_status
        if self.status == RUNNING:
            self.ever_adopted = True


class ReferenceAdoptionModel(mesa.Model):
    """Organisation adoption with one Mesa agent per organisation on a Mesa network space.

    Args:
        n: number of organisations.
        indptr, indices: symmetric CSR adjacency (``None`` for full mixing, where the
            exposure of everyone is the share of all organisations running it).
        p: own monthly adoption hazard [1/month], in [0, 1].
        q: imitation coefficient [1/month], in [0, 1].
        delta: monthly abandonment hazard of a running site [1/month], in [0, 1].
        seed: random seed (thresholds, seeding and every decision).
        phi: threshold(s), share of ties in [0, 1]: a number or one per organisation.
        influence: ``"proportional"`` (s(x) = x) or ``"threshold"`` (s(x) = 1).
        readoption: whether abandoned organisations may adopt again.
        initial_adopters: organisations running it at step 0.
        seeding: ``"random"`` or ``"neighbourhood"`` (a focal organisation and its
            neighbours, breadth first).
        dt: step length [months]; rate_mode: ``"probability"`` or ``"rate"`` (see :mod:`sim.rates`).
    """

    def __init__(
        self,
        n: int,
        indptr: np.ndarray | None,
        indices: np.ndarray | None,
        p: float,
        q: float,
        delta: float = 0.0,
        seed: int = 0,
        *,
        phi: float | Sequence[float] | np.ndarray = 0.0,
        influence: Literal["proportional", "threshold"] = "proportional",
        readoption: bool = False,
        initial_adopters: int = 0,
        seeding: Literal["random", "neighbourhood"] = "random",
        dt: float = 1.0,
        rate_mode: Literal["probability", "rate"] = "probability",
    ) -> None:
        super().__init__(rng=seed)
        self.n = int(n)
        self.p, self.q, self.delta = float(p), float(q), float(delta)
        self.influence = influence
        self.readoption = readoption
        self.dt, self.rate_mode = float(dt), rate_mode
        self.abandon_probability = float(per_step(self.delta, self.dt, self.rate_mode))
        self.full_mixing = indptr is None
        graph = nx.empty_graph(self.n)
        if not self.full_mixing:
            adj = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(self.n, self.n))
            graph = nx.from_scipy_sparse_array(adj)
            graph.remove_edges_from(list(nx.selfloop_edges(graph)))
        self.space = Network(graph, random=self.random, layout=None)
        phis = np.broadcast_to(np.asarray(phi, dtype=np.float64), (self.n,))
        self.by_id: list[ReferenceOrganisation] = [
            ReferenceOrganisation(self, self.space[i], phis[i]) for i in range(self.n)
        ]
        for agent in self._pick_originators(min(int(initial_adopters), self.n), seeding):
            agent.status = RUNNING
            agent.ever_adopted = True
        self.n_running = sum(a.running for a in self.by_id)
        self.steps_done = 0
        self.rows: list[dict[str, float]] = [self._row()]

    def _pick_originators(self, n0: int, seeding: str) -> list[ReferenceOrganisation]:
        if n0 == 0:
            return []
        if seeding == "random" or self.full_mixing:
            return [self.by_id[i] for i in self.rng.choice(self.n, n0, replace=False)]
        focal = self.by_id[int(self.rng.integers(self.n))]
        chosen, queue = {focal.unique_id}, [focal]
        for agent in queue:
            for other in sorted(list(agent.cell.neighborhood.agents), key=lambda a: a.unique_id):
                if len(queue) < n0 and other.unique_id not in chosen:
                    chosen.add(other.unique_id)
                    queue.append(other)
        return queue[:n0]

    def _row(self) -> dict[str, float]:
        return {
            "step": self.steps_done,
            "month": self.steps_done * self.dt,
            "orgs_adopted": sum(a.ever_adopted for a in self.by_id),
            "sites_running": self.n_running,
        }

    def step(self) -> None:
        """One synchronous step: every organisation decides, then every organisation applies."""
        self.agents.do("decide")
        self.agents.do("apply")
        self.n_running = sum(a.running for a in self.by_id)
        self.steps_done += 1
        self.rows.append(self._row())

    def frame(self) -> pd.DataFrame:
        """The per-step table: ``step, month, orgs_adopted, sites_running``."""
        return pd.DataFrame(self.rows)


def effective_p(sc: Scenario) -> float:
    """Own adoption hazard after the guardrail cost: ``p (1 - guardrail_spread_cost * guardrails)`` [1/month]."""
    return sc.organisations.p * (1.0 - sc.levers.guardrail_spread_cost * sc.levers.guardrails)


def limit_violations(sc: Scenario) -> list[str]:
    """Model terms switched on that the plain adoption rule ``p + q s(x)[x>=phi]``, ``delta`` leaves out.

    An empty list means the vectorised model reduces to the rule of :mod:`sim.reference`.
    """
    op, lev = sc.organisations, sc.levers
    out = []
    if op.visibility_pull > 0:
        out.append("organisations.visibility_pull > 0 (visible value adds adoption hazard)")
    if sc.process.spread_push > 0:
        out.append("process.spread_push > 0 (sites in the spread element push adoption)")
    if lev.project_share > 0:
        out.append("levers.project_share > 0 (project grants end: pilot death)")
    if sc.scaling_up.enabled:
        out.append("scaling_up.enabled (policy moves thresholds and p)")
    if lev.norm_work > 0 and (op.threshold_mean > 0 or op.threshold_sd > 0 or op.thresholds is not None):
        out.append("levers.norm_work > 0 with thresholds (scaling deep lowers thresholds)")
    if lev.brokering > 0 and op.network != "full":
        out.append("levers.brokering > 0 (brokers add ties during the run)")
    if op.abandonment > 0:
        neutral = (
            op.abandonment_fit_effect == 0 and op.abandonment_effect_effect == 0 and op.abandonment_unfunded == 1
            and all(sc.value.form_abandonment[f] == 1.0 for f in FORMS)
        )
        if not neutral:
            out.append("abandonment multipliers not neutral (fit, effect, funding or form change delta)")
    return out


def reference_model(scenario: Scenario, seed: int) -> ReferenceAdoptionModel:
    """A reference model of a scenario in a validation limit (see :func:`sim.validation.limits.limit_violations`).

    The organisation network is drawn exactly as the vectorised model draws it for
    the same seed (same generator, same random streams), so the two run on the same
    network; thresholds, seeding and decisions use the reference's own generator.
    Raises ``ValueError`` if the scenario switches on a term the reference lacks.
    """
    bad = limit_violations(scenario)
    if bad:
        raise ValueError("reference_run: scenario is not in the plain adoption limit: " + "; ".join(bad))
    op = scenario.organisations
    net = build_world(scenario, Streams(seed)).network
    n = net.n
    rng = np.random.default_rng(seed)
    if op.thresholds is not None:
        if len(op.thresholds) != n:
            raise ValueError(f"organisations.thresholds: has {len(op.thresholds)} values, need {n}")
        phi: np.ndarray = np.asarray(op.thresholds, dtype=np.float64)
    else:
        phi = np.clip(rng.normal(op.threshold_mean, op.threshold_sd, n), 0.0, 1.0)
    indptr, indices = (None, None) if net.full else (net.csr.indptr, net.csr.indices)
    return ReferenceAdoptionModel(
        n, indptr, indices, effective_p(scenario), op.q, op.abandonment, seed=int(rng.integers(2**62)),
        phi=phi, influence=op.influence, readoption=op.readoption, initial_adopters=op.initial_adopters,
        seeding=op.seeding, dt=scenario.run.dt, rate_mode=scenario.run.rate_mode,
    )


def reference_run(scenario: Scenario, seed: int, steps: int | None = None) -> pd.DataFrame:
    """Run the reference model of ``scenario`` for ``steps`` steps (default ``run.steps``).

    Returns the per-step table ``step, month, orgs_adopted, sites_running`` (step 0 is
    the initial state), the same columns the vectorised model reports.
    """
    model = reference_model(scenario, seed)
    for _ in range(scenario.run.steps if steps is None else int(steps)):
        model.step()
    return model.frame()
