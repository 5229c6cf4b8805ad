r"""Target-group members as NumPy arrays, and their vectorised, synchronous step.

Each member has a place (members are numbered by place), a need intensity in
[0, 1] and a state::

    UNAWARE -> AWARE -> PARTICIPATING -> BENEFITING
                              \-> DROPPED_OUT

Members hear from others through a sparse CSR network (see
:func:`sim.world.build_population_network`). Every member draws exactly one
uniform number per step, in member order, and all transitions read the state of
the previous step: the result does not depend on update order or chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import MEMBER_NAMES, Member
from sim.population import kernels
from sim.rates import per_step
from sim.scenario import PopulationParams

UNAWARE, AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT = Member
STATE_NAMES = MEMBER_NAMES
N_STATES = len(Member)
FIT_FLOOR = 0.5
"""Participation at zero fit is this share of participation at full fit (a poorly fitted site still draws some)."""
OPENNESS_OFFSET = 0.5
"""Participation is scaled by ``clip(0.5 + openness, 0, 1.5)``: neutral at openness 0.5 (scaling deep raises it)."""


@dataclass
class PlaceService:
    """What the running sites of each place offer this step (arrays over places)."""

    sites: np.ndarray  # number of running sites [sites]
    fit: np.ndarray  # mean local fit of running sites, in [0, 1]
    effectiveness: np.ndarray  # mean effectiveness of running sites (monthly probability)
    openness: np.ndarray  # norm openness, in [0, 1]
    outreach_boost: np.ndarray  # multiplier >= 1 from sites in the spread element
    capacity: np.ndarray | None = None  # participants the running sites can serve [members]; None: sites * site_capacity


class TargetGroup:
    """All target-group members of all places, as arrays (row = member, numbered by place).

    Public arrays: ``state`` (int8 state code; may be edited between steps, the
    derived counts are rebuilt when it changes), ``place`` (int32), ``need`` (float32
    in [0, 1]), the network ``indptr``/``indices`` (CSR: member ``i`` hears from
    ``indices[indptr[i]:indptr[i+1]]``) and ``degree`` (float32 ties per member).

    Derived state kept between steps, so a step only touches what can change:
    member counts per place and state, each member's number of active ties
    (participating or benefiting), the transposed network to update those counts
    from the members whose state changed, and a copy of the last stepped state.
    ``backend`` is ``"numba"`` (compiled kernel, used when rates need no per-step
    conversion) or ``"numpy"``; both give identical results.
    """

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
        self.place_size = np.asarray(place_size).astype(np.int64)
        self.place_start = np.concatenate([[0], np.cumsum(self.place_size)[:-1]]).astype(np.int64)
        self.n = int(self.place_size.sum())
        self.place = np.repeat(np.arange(self.n_places, dtype=np.int32), self.place_size)
        c = params.need_concentration
        sev = np.clip(severity, 1e-3, 1 - 1e-3)[self.place]
        self.need = rng.beta(sev * c, (1 - sev) * c).astype(np.float32)
        self.state = np.zeros(self.n, dtype=np.int8)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices)
        self.degree = np.diff(self.indptr).astype(np.float32)
        self.backend = "numba" if kernels.HAVE_NUMBA else "numpy"
        # derived state (see the class docstring)
        max_degree = int(self.degree.max()) if self.n else 0
        self._nb_dtype = np.uint16 if max_degree < 2**16 else np.int32
        self._in_ptr, self._in_idx = kernels.transpose_csr(self.indptr, self.indices, self.n)
        self._u = np.empty(self.n, np.float32)
        self._resync()

    # ------------------------------------------------------------------ derived state
    def _resync(self) -> None:
        """Rebuild the derived counts from ``state`` (after it was edited or replaced)."""
        self.state = np.ascontiguousarray(self.state, dtype=np.int8)
        self._shadow = self.state.copy()
        self._state_ref = self.state
        flat = np.bincount(self.place.astype(np.int64) * N_STATES + self.state, minlength=self.n_places * N_STATES)
        self._counts = flat.reshape(self.n_places, N_STATES)
        self._active_nb = kernels.count_active_ties(self.indptr, self.indices, self.state, self._nb_dtype)

    def _sync(self) -> None:
        """Resync if ``state`` was replaced or edited since the last step (one comparison of n bytes)."""
        if self.state is not self._state_ref or not np.array_equal(self.state, self._shadow):
            self._resync()

    def draw_uniforms(self, rng: np.random.Generator) -> np.ndarray:
        """One uniform float32 in [0, 1) per member, in member order, into a reused buffer.

        The numbers equal ``rng.random(n, dtype=np.float32)``; the buffer is overwritten by
        the next call.
        """
        return rng.random(dtype=np.float32, out=self._u)

    # ------------------------------------------------------------------ queries
    def counts_by_place(self) -> np.ndarray:
        """(n_places, 5) member counts per place and state (int64)."""
        self._sync()
        return self._counts.copy()

    def counts(self) -> np.ndarray:
        """Member counts per state (length 5, int64); they always sum to ``n``."""
        self._sync()
        return self._counts.sum(axis=0)

    def active_share_of_ties(self) -> np.ndarray:
        """Share of each member's ties that participate or benefit (word of mouth), float32 in [0, 1]."""
        self._sync()
        return self._active_nb.astype(np.float32) / np.maximum(self.degree, 1.0)

    # ------------------------------------------------------------------ the step
    def step(
        self, service: PlaceService, dt: float, rate_mode: str, u: np.ndarray
    ) -> np.ndarray:
        """Advance all members one step, synchronously. ``u`` is one uniform per member.

        Rules (per step, from the previous step's state; per-place terms from ``service``):

        * unaware -> aware with ``1 - (1 - outreach_p)(1 - p_wom)``, where ``outreach_p =
          1 - (1 - outreach)^(sites * boost)`` and ``p_wom = word_of_mouth * share of
          active ties``; only where a site runs;
        * aware -> participating with ``participation * need * (0.5 + 0.5 fit) *
          clip(0.5 + openness, 0, 1.5)``, scaled down per place when the expected
          joiners exceed the free places (``capacity - participants``, ``capacity`` the
          sum of the running sites' capacities, default ``sites * site_capacity``);
        * participating -> benefiting with ``effectiveness``, else -> dropped out with
          ``dropout * (1 + dropout_fit_effect (1 - fit))`` (both rescaled if they sum
          above 1); where no site runs any more, participants go back to aware.

        Returns the number of new beneficiaries per place this step (int64).
        """
        self._sync()
        pp = self.params
        u = np.ascontiguousarray(u)
        sites = np.asarray(service.sites, dtype=np.float64)
        fit = np.asarray(service.fit, dtype=np.float64)
        running = sites > 0
        outreach_p = 1.0 - np.power(1.0 - per_step(pp.outreach, dt, rate_mode), sites * service.outreach_boost)
        keep_out = 1.0 - outreach_p
        join_factor = (FIT_FLOOR + (1.0 - FIT_FLOOR) * fit) * np.clip(OPENNESS_OFFSET + service.openness, 0.0, 1.5)
        cap = sites * pp.site_capacity if service.capacity is None else np.asarray(service.capacity, np.float64)
        slots = np.maximum(0.0, cap - self._counts[:, PARTICIPATING])
        p_ben = per_step(service.effectiveness, dt, rate_mode)
        p_drop = per_step(pp.dropout * (1.0 + pp.dropout_fit_effect * (1.0 - fit)), dt, rate_mode)
        total = p_ben + p_drop
        norm = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-12), 1.0)
        p_ben, p_drop = p_ben * norm, p_drop * norm
        p_ben_drop = p_ben + p_drop
        args = (
            self.state, self._shadow, u, self.need, self.degree, self._active_nb,
        )
        tail = (
            self.place_size, self._counts, running, keep_out, pp.word_of_mouth, pp.participation,
            join_factor, slots, p_ben, p_ben_drop, self._in_ptr, self._in_idx,
        )
        if self.backend == "numba" and kernels.HAVE_NUMBA and rate_mode == "probability" and dt == 1.0:
            return kernels.step_numba(*args, self.place_start, *tail)
        return kernels.step_numpy(*args, self.place, *tail, dt, rate_mode)

    def turn_over(self, share: float, severity: np.ndarray, rng: np.random.Generator) -> int:
        """Replace a share of members by newcomers (cohort turnover); returns how many were replaced.

        ``round(share * n)`` members (the fraction part by one uniform draw) are drawn
        uniformly with replacement from the ``turnover`` stream; each leaves and a
        newcomer takes its place and ties: unaware, with need drawn afresh around
        its place's ``severity``. Derived counts are updated incrementally.
        """
        expected = share * self.n
        k = int(expected) + int(rng.random() < expected - int(expected))
        if k == 0:
            return 0
        idx = np.sort(rng.integers(0, self.n, k))
        idx = idx[np.concatenate(([True], idx[1:] != idx[:-1]))]  # unique (a sort is cheaper than np.unique's hash)
        c = self.params.need_concentration
        sev = np.clip(severity, 1e-3, 1 - 1e-3)[self.place[idx]]
        need = rng.beta(sev * c, (1 - sev) * c).astype(np.float32)
        self.renew(idx, need)
        return len(idx)

    def renew(self, idx: np.ndarray, need: np.ndarray) -> None:
        """Members ``idx`` (unique) are replaced by unaware newcomers with ``need``; derived counts kept exact."""
        self._sync()
        old = self.state[idx]
        pl = self.place[idx].astype(np.int64)
        flat = self._counts.reshape(-1)
        flat -= np.bincount(pl * N_STATES + old, minlength=flat.size)
        flat += np.bincount(pl * N_STATES + UNAWARE, minlength=flat.size)
        was_active = (old == PARTICIPATING) | (old == BENEFITING)
        kernels.push_to_listeners(self._in_ptr, self._in_idx, idx[was_active], self._active_nb, -1)
        self.state[idx] = UNAWARE
        self._shadow[idx] = UNAWARE
        self.need[idx] = need

    @property
    def nbytes(self) -> int:
        """Bytes held per run by the member arrays, the network and the derived step state."""
        arrays = (
            self.place, self.need, self.state, self.indptr, self.indices, self.degree,
            self._shadow, self._active_nb, self._in_ptr, self._in_idx, self._u, self._counts,
        )
        return sum(a.nbytes for a in arrays)
