"""Element 4, develop and test (Utveckla och testa).

Rules, for running organisations in this element (``a = adaptation_rate`` per month):

* Adapters do not know exactly which components are core. An organisation's
  knowledge of the core is ``kappa = 1 - (1 - gamma)(1 - guardrails)`` (vision
  clarity, and guardrails: training, manuals, licensing), its belief that component
  ``j`` is core ``b_j = kappa [j core] + (1 - kappa) / 2``, and every component moves
  toward the estimated local need by what it does not protect:
  ``v_j += a (1 - b_j) (u_hat_j - v_j)`` (:func:`core_belief`). With full knowledge the
  periphery adapts freely and the core stays; with little, adaptation drags the core
  (program drift, Chambers, Glasgow & Stange 2013) and under-adapts the periphery.
* The core also drifts at random: ``v[core] += N(0, core_drift * (1 - gamma) *
  (1 - guardrails) * sqrt(dt))``; variants are clipped to [0, 1].
* Experiments: with monthly probability ``experiment_rate`` the effect size moves 10 %
  of the way to ``effect_max``.
* Learning spreads along ties, for every running site: its effect size moves toward
  the best running partner's at ``learning_rate`` per month.

The fidelity-versus-adaptation tension is emergent from what adapters know: no
adaptation leaves fit low (low participation, high dropout and abandonment);
adaptation without knowledge of the core drags it away from ``c0`` (fidelity falls
and with it effectiveness through ``g(F)``); no term imposes an optimum.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Element
from sim.elements.understand import estimated_need
from sim.scenario import Scenario
from sim.state import SimState

DEVELOP = Element.DEVELOP
EXPERIMENT_STEP = 0.1


UNINFORMED_BELIEF = 0.5
"""Belief that a component is core when nothing is known of the design (either way equally likely)."""


def core_knowledge(gamma: np.ndarray, guardrails: float | np.ndarray) -> np.ndarray:
    """How well an organisation knows which components are core, in [0, 1]: ``1 - (1 - gamma)(1 - guardrails)``.

    Vision clarity (its own understanding of the purpose) and guardrails (training,
    manuals, licensing that name the core) each close part of the gap.
    """
    return 1.0 - (1.0 - gamma) * (1.0 - guardrails)


def core_belief(gamma: np.ndarray, guardrails: float | np.ndarray, is_core: np.ndarray) -> np.ndarray:
    """``(n, K)`` belief in [0, 1] that each component is core: ``kappa [j core] + (1 - kappa) / 2``.

    With full knowledge (``kappa = 1``) the core is protected and the periphery free;
    with none every component is half protected, so adaptation drags the core and
    under-adapts the periphery at once.
    """
    kappa = core_knowledge(gamma, guardrails)[:, None]
    return kappa * is_core[None, :] + (1.0 - kappa) * UNINFORMED_BELIEF


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
    core = state.solution.core
    target = estimated_need(state, sel)
    v = o.variant[sel]
    # what each adapter believes is core: it protects a component by its belief, adapts the rest
    guard = state.place_levers.of("guardrails", lev.guardrails, o.place[sel])  # per place where training acts
    protect = core_belief(o.gamma[sel], guard, state.solution.is_core)
    v += a * (1.0 - protect) * (target - v)
    sd = lev.core_drift * (1.0 - o.gamma[sel]) * (1.0 - guard) * np.sqrt(state.clock.dt)
    v[:, core] += sd[:, None] * noise[sel]
    o.variant[sel] = np.clip(v, 0.0, 1.0)
    exp = sel[u_exp[sel] < state.ps(sc.process.experiment_rate)]
    o.effect[exp] += EXPERIMENT_STEP * (sc.solution.effect_max - o.effect[exp])
