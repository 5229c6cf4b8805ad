"""Target-group members as NumPy arrays, and their vectorised, synchronous step.

Each member has a place (members are numbered by place), a need intensity in
[0, 1] and a state::

    UNAWARE -> AWARE -> PARTICIPATING -> BENEFITING
                              \\-> DROPPED_OUT

Members hear from others through a sparse CSR network (see
:func:`sim.world.build_population_network`). Every member draws exactly one
uniform number per step, in member order, and all transitions read the state of
the previous step: the result does not depend on update order or chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rates import per_step
from sim.scenario import PopulationParams

UNAWARE, AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT = 0, 1, 2, 3, 4
STATE_NAMES = ("unaware", "aware", "participating", "benefiting", "dropped_out")
N_STATES = 5


@dataclass
class PlaceService:
    """What the running sites of each place offer this step (arrays over places)."""

    sites: np.ndarray  # number of running sites [sites]
    fit: np.ndarray  # mean local fit of running sites, in [0, 1]
    effectiveness: np.ndarray  # mean effectiveness of running sites (monthly probability)
    openness: np.ndarray  # norm openness, in [0, 1]
    outreach_boost: np.ndarray  # multiplier >= 1 from sites in the spread element


class TargetGroup:
    """All target-group members of all places."""

    def __init__(
        self,
        place_size: np.ndarray,
        severity: np.ndarray,
        indptr: np.ndarray,
        indices: np.ndarray,
        params: PopulationParams,
        rng: np.random.Generator,
    ) -> None:
        self.params = params
        self.n_places = len(place_size)
        self.place_size = place_size.astype(np.int64)
        self.place_start = np.concatenate([[0], np.cumsum(self.place_size)[:-1]]).astype(np.int64)
        self.n = int(self.place_size.sum())
        self.place = np.repeat(np.arange(self.n_places, dtype=np.int32), self.place_size)
        c = params.need_concentration
        sev = np.clip(severity, 1e-3, 1 - 1e-3)[self.place]
        self.need = rng.beta(sev * c, (1 - sev) * c).astype(np.float32)
        self.state = np.zeros(self.n, dtype=np.int8)
        self.indptr = indptr
        self.indices = indices
        self.degree = np.diff(indptr).astype(np.float32)

    # ------------------------------------------------------------------ queries
    def counts_by_place(self) -> np.ndarray:
        """(n_places, 5) member counts per place and state."""
        flat = np.bincount(self.place.astype(np.int64) * N_STATES + self.state, minlength=self.n_places * N_STATES)
        return flat.reshape(self.n_places, N_STATES)

    def counts(self) -> np.ndarray:
        """Member counts per state (length 5); they always sum to ``n``."""
        return np.bincount(self.state, minlength=N_STATES)

    def active_share_of_ties(self) -> np.ndarray:
        """Share of each member's ties that participate or benefit (word of mouth), float32."""
        active = (self.state >= PARTICIPATING) & (self.state <= BENEFITING)
        if self.indices.size == 0:
            return np.zeros(self.n, np.float32)
        gathered = active[self.indices].astype(np.float32)
        sums = np.add.reduceat(gathered, self.indptr[:-1]) if self.n else gathered[:0]
        sums[self.degree == 0] = 0.0
        return sums / np.maximum(self.degree, 1.0)

    # ------------------------------------------------------------------ the step
    def step(
        self, service: PlaceService, dt: float, rate_mode: str, u: np.ndarray
    ) -> np.ndarray:
        """Advance all members one step, synchronously. ``u`` is one uniform per member.

        Returns the number of new beneficiaries per place this step.
        """
        pp = self.params
        st = self.state
        pl = self.place
        running_place = service.sites > 0
        # --- awareness: outreach by running sites and word of mouth over the network
        outreach_p = 1.0 - np.power(1.0 - per_step(pp.outreach, dt, rate_mode), service.sites * service.outreach_boost)
        wom = self.active_share_of_ties()
        p_wom = per_step(pp.word_of_mouth * wom, dt, rate_mode)
        p_aware = 1.0 - (1.0 - outreach_p[pl]) * (1.0 - p_wom)
        p_aware = np.where(running_place[pl], p_aware, 0.0)
        # --- participation: rises with need, fit and openness; limited by free places
        fit_term = 0.5 + 0.5 * service.fit  # fit matters, but a poor fit does not make it impossible
        open_term = np.clip(0.5 + service.openness, 0.0, 1.5)
        p_join = per_step(pp.participation * self.need * (fit_term * open_term)[pl], dt, rate_mode)
        counts = self.counts_by_place()
        slots = np.maximum(0.0, service.sites * pp.site_capacity - counts[:, PARTICIPATING])
        aware = st == AWARE
        expected = np.bincount(pl, weights=np.where(aware, p_join, 0.0), minlength=self.n_places)
        scale = np.where(expected > slots, slots / np.maximum(expected, 1e-12), 1.0)
        p_join = np.where(running_place[pl], p_join * scale[pl], 0.0)
        # --- benefit and dropout of participants
        p_ben = per_step(service.effectiveness, dt, rate_mode)[pl]
        p_drop = per_step(pp.dropout * (1.0 + pp.dropout_fit_effect * (1.0 - service.fit)), dt, rate_mode)[pl]
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
        # where no site runs any more, participants are left waiting (back to aware)
        new[part & ~running_place[pl]] = AWARE
        self.state = new
        return np.bincount(pl[ben], minlength=self.n_places)

    @property
    def nbytes(self) -> int:
        """Bytes held by the member arrays and the network."""
        return sum(a.nbytes for a in (self.place, self.need, self.state, self.indptr, self.indices, self.degree))
