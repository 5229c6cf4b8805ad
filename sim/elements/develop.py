"""Element 4, develop and test (Utveckla och testa).

Rules, for running organisations in this element (``a = adaptation_rate`` per month):

* The periphery adapts toward the estimated local need:
  ``v[periphery] += a * (u_hat[periphery] - v[periphery])``.
* Adaptation pressure leaks into the core where guardrails are weak (program drift,
  Chambers, Glasgow & Stange 2013): ``v[core] += a * core_leak * (1 - guardrails) *
  (u_hat[core] - v[core])``.
* The core also drifts at random: ``v[core] += N(0, core_drift * (1 - gamma) *
  (1 - guardrails) * sqrt(dt))``; variants are clipped to [0, 1].
* Experiments: with monthly probability ``experiment_rate`` the effect size moves 10 %
  of the way to ``effect_max``.
* Learning spreads along ties, for every running site: its effect size moves toward
  the best running partner's at ``learning_rate`` per month.

The fidelity-versus-adaptation tension is emergent: no adaptation leaves fit low
(low participation, high dropout and abandonment); unguarded adaptation drags the
core away from ``c0`` (fidelity falls and with it effectiveness through ``g(F)``).
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element
from sim.elements.understand import estimated_need
from sim.scenario import Scenario
from sim.state import SimState

DEVELOP = Element.DEVELOP
EXPERIMENT_STEP = 0.1


def develop(state: SimState, params: Scenario, rng: np.random.Generator) -> None:
    """Adapt variants, let cores drift, run experiments and spread learning."""
    o = state.orgs
    sc = params
    lev = sc.levers
    noise = rng.standard_normal((o.n, sc.solution.k_core))
    u_exp = rng.random(o.n)
    running = o.running
    # learning along ties (all running sites)
    if running.any():
        best = state.network.neighbour_max(np.where(running, o.effect, 0.0))
        lr = state.ps(sc.process.learning_rate)
        up = running & (best > o.effect)
        o.effect[up] += lr * (best[up] - o.effect[up])
    sel = np.flatnonzero(running & (o.element == DEVELOP))
    if len(sel) == 0:
        return
    a = state.ps(lev.adaptation_rate)
    core, per = state.solution.core, state.solution.periphery
    target = estimated_need(state, sel)
    v = o.variant[sel]
    v[:, per] += a * (target[:, per] - v[:, per])
    v[:, core] += a * lev.core_leak * (1.0 - lev.guardrails) * (target[:, core] - v[:, core])
    sd = lev.core_drift * (1.0 - o.gamma[sel]) * (1.0 - lev.guardrails) * np.sqrt(state.clock.dt)
    v[:, core] += sd[:, None] * noise[sel]
    o.variant[sel] = np.clip(v, 0.0, 1.0)
    exp = sel[u_exp[sel] < state.ps(sc.process.experiment_rate)]
    o.effect[exp] += EXPERIMENT_STEP * (sc.solution.effect_max - o.effect[exp])
