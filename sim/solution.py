"""The solution: its core purpose, adaptable periphery, and what a variant achieves.

A solution is a vector of ``k_core + k_periphery`` components in [0, 1]. The first
``k_core`` are the core purpose; the rest is the adaptable periphery. The original
design ``c0`` is fixed at creation; each adopting organisation holds its own
variant ``v_i``.

* Core fidelity ``F_i = 1 - ||v_i[core] - c0[core]|| / sqrt(k_core)`` in [0, 1]
  (``sqrt(k)`` is the largest distance in the unit cube).
* Local fit ``L_i = 1 - ||v_i[periphery] - u[periphery]|| / sqrt(k_periphery)`` in [0, 1].
* Effectiveness ``E_i = e_i * g(F_i) * (a + (1 - a) * L_i)``, with ``g`` a logistic
  in fidelity centred at ``fidelity_threshold`` and scaled so ``g(1) = 1``.
* A variant *meets all criteria* (a review's verdict: every core element in place)
  when each core component is within ``criteria_tolerance`` of ``c0``:
  ``max_j |v_j - c0_j| <= criteria_tolerance`` over the core. A measurement only;
  no rule reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import SolutionParams


@dataclass(frozen=True)
class Solution:
    """The original design and the parameters of its effect."""

    c0: np.ndarray
    params: SolutionParams

    @property
    def k_core(self) -> int:
        """Number of core components."""
        return self.params.k_core

    @property
    def core(self) -> slice:
        """Slice of the core components."""
        return slice(0, self.params.k_core)

    @property
    def periphery(self) -> slice:
        """Slice of the peripheral components."""
        return slice(self.params.k_core, self.params.k_core + self.params.k_periphery)

    @property
    def is_core(self) -> np.ndarray:
        """Bool per component: True for the core purpose."""
        return np.arange(self.params.k_core + self.params.k_periphery) < self.params.k_core

    def fidelity(self, variants: np.ndarray) -> np.ndarray:
        """Core fidelity F in [0, 1] of each variant (rows)."""
        return core_fidelity(variants[:, self.core], self.c0[self.core])

    def meets_criteria(self, variants: np.ndarray) -> np.ndarray:
        """Bool per variant (rows): every core component within ``criteria_tolerance`` of the design."""
        dev = np.abs(variants[:, self.core] - self.c0[self.core])
        return dev.max(axis=1, initial=0.0) <= self.params.criteria_tolerance + 1e-12

    def fit(self, variants: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Local fit L in [0, 1] of each variant to the need profile of its place (rows aligned)."""
        return local_fit(variants[:, self.periphery], need[:, self.periphery])

    def effectiveness(self, effect: np.ndarray, fidelity: np.ndarray, fit: np.ndarray) -> np.ndarray:
        """Effectiveness E = e * g(F) * (a + (1 - a) L), a monthly probability in [0, 1]."""
        p = self.params
        a = p.fit_independent_share
        return np.clip(effect * g(fidelity, p.fidelity_threshold, p.fidelity_steepness) * (a + (1 - a) * fit), 0, 1)


def core_fidelity(v_core: np.ndarray, c0_core: np.ndarray) -> np.ndarray:
    """``1 - ||v - c0|| / sqrt(k)`` per row, clipped to [0, 1]."""
    k = v_core.shape[-1]
    return np.clip(1.0 - np.linalg.norm(v_core - c0_core, axis=-1) / np.sqrt(k), 0.0, 1.0)


def local_fit(v_per: np.ndarray, u_per: np.ndarray) -> np.ndarray:
    """``1 - ||v - u|| / sqrt(k)`` per row, clipped to [0, 1]."""
    k = v_per.shape[-1]
    return np.clip(1.0 - np.linalg.norm(v_per - u_per, axis=-1) / np.sqrt(k), 0.0, 1.0)


def g(fidelity: np.ndarray, centre: float = 0.7, steepness: float = 15.0) -> np.ndarray:
    """Logistic response to fidelity, rising steeply past ``centre``; ``g(1) = 1``, values in [0, 1]."""
    raw = 1.0 / (1.0 + np.exp(-steepness * (np.asarray(fidelity) - centre)))
    top = 1.0 / (1.0 + np.exp(-steepness * (1.0 - centre)))
    return np.clip(raw / top, 0.0, 1.0)


CORE_DESIGN_RANGE = (0.2, 0.8)
"""Range of the core components of the original design (uniform): away from the bounds 0 and 1, so drift can
go either way (a modelling choice; the component space is abstract)."""


def design_solution(params: SolutionParams, mean_need: np.ndarray, rng: np.random.Generator) -> Solution:
    """The original design: core at random, periphery near the mean local need, off by ``design_spread``."""
    k = params.k_core + params.k_periphery
    c0 = rng.uniform(*CORE_DESIGN_RANGE, k)
    per = slice(params.k_core, k)
    c0[per] = np.clip(mean_need[per] + rng.normal(0, params.design_spread, params.k_periphery), 0, 1)
    return Solution(c0=c0, params=params)
