"""The straightforward target-group step: every member, every rule, dense arrays.

This is the rule of :meth:`sim.population.TargetGroup.step` written the obvious
way (it was the engine's first implementation): word of mouth recounted over the
whole network every step, probabilities for all members, masks over all members.
The optimised step must give identical states for the same uniforms; the tests
and the benchmark compare the two.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Member
from sim.rates import per_step
from sim.scenario import PopulationParams

UNAWARE, AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT = (int(m) for m in Member)


def active_share_of_ties(state: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Share of each member's ties that participate or benefit (float32, 0 without ties)."""
    degree = np.diff(indptr).astype(np.float32)
    active = (state >= PARTICIPATING) & (state <= BENEFITING)
    if indices.size == 0:
        return np.zeros(len(state), np.float32)
    gathered = active[indices].astype(np.float32)
    sums = np.add.reduceat(gathered, indptr[:-1]) if len(state) else gathered[:0]
    sums[degree == 0] = 0.0
    return sums / np.maximum(degree, 1.0)


def naive_step(
    state: np.ndarray,
    place: np.ndarray,
    need: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    n_places: int,
    params: PopulationParams,
    sites: np.ndarray,
    fit: np.ndarray,
    effectiveness: np.ndarray,
    openness: np.ndarray,
    outreach_boost: np.ndarray,
    dt: float,
    rate_mode: str,
    u: np.ndarray,
    capacity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One synchronous step; returns ``(new state, new beneficiaries per place)``.

    Member arrays: ``state`` int8, ``place`` int, ``need`` float32 in [0, 1], ``u``
    one uniform per member. Place arrays (what the running sites offer): ``sites``
    [sites], ``fit`` and ``openness`` in [0, 1], ``effectiveness`` (monthly
    probability), ``outreach_boost`` >= 1.
    """
    pp = params
    st = state
    pl = place
    running_place = sites > 0
    outreach_p = 1.0 - np.power(1.0 - per_step(pp.outreach, dt, rate_mode), sites * outreach_boost)
    wom = active_share_of_ties(st, indptr, indices)
    p_wom = per_step(pp.word_of_mouth * wom, dt, rate_mode)
    p_aware = 1.0 - (1.0 - outreach_p[pl]) * (1.0 - p_wom)
    p_aware = np.where(running_place[pl], p_aware, 0.0)
    fit_term = 0.5 + 0.5 * fit
    open_term = np.clip(0.5 + openness, 0.0, 1.5)
    p_join = per_step(pp.participation * need * (fit_term * open_term)[pl], dt, rate_mode)
    counts = np.bincount(pl.astype(np.int64) * 5 + st, minlength=n_places * 5).reshape(n_places, 5)
    cap = sites * pp.site_capacity if capacity is None else capacity
    slots = np.maximum(0.0, cap - counts[:, PARTICIPATING])
    aware = st == AWARE
    expected = np.bincount(pl, weights=np.where(aware, p_join, 0.0), minlength=n_places)
    scale = np.where(expected > slots, slots / np.maximum(expected, 1e-12), 1.0)
    p_join = np.where(running_place[pl], p_join * scale[pl], 0.0)
    p_ben = per_step(effectiveness, dt, rate_mode)[pl]
    p_drop = per_step(pp.dropout * (1.0 + pp.dropout_fit_effect * (1.0 - fit)), dt, rate_mode)[pl]
    total = p_ben + p_drop
    norm = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-12), 1.0)
    p_ben, p_drop = p_ben * norm, p_drop * norm
    new = st.copy()
    new[(st == UNAWARE) & (u < p_aware)] = AWARE
    new[aware & (u < p_join)] = PARTICIPATING
    part = st == PARTICIPATING
    ben = part & (u < p_ben)
    new[ben] = BENEFITING
    new[part & ~ben & (u < p_ben + p_drop)] = DROPPED_OUT
    new[part & ~running_place[pl]] = AWARE
    return new, np.bincount(pl[ben], minlength=n_places)
