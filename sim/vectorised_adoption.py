"""The plain network adoption rule, vectorised: the counterpart of the per-agent Mesa reference.

Same rule as :class:`sim.reference.ReferenceAdoptionModel` (proportional influence,
thresholds 0, no re-adoption): a non-adopter adopts with per-step probability
``p + q * x_i`` where ``x_i`` is the share of its ties running the solution; a
running site stops with ``delta``. One uniform per agent per step, in agent order;
synchronous. The share of running ties is kept incrementally (only the ties of
agents that changed are updated), as in the target-group step.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Status
from sim.population import kernels
from sim.rates import per_step

NOT_ADOPTED, RUNNING, STOPPED = int(Status.NOT_ADOPTED), int(Status.RUNNING), int(Status.ABANDONED)


def random_symmetric_network(n: int, mean_degree: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(indptr int64, indices int32)`` of an undirected random graph (no self-ties, no duplicates)."""
    rng = np.random.default_rng(seed)
    m = int(round(n * mean_degree / 2))
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    a, b = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    key = np.unique(a.astype(np.int64) * n + b)
    a, b = key // n, key % n
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int32)


class VectorisedAdoption:
    """N agents on a CSR network, stepped as arrays.

    Args:
        n: number of agents.
        indptr, indices: CSR ties (``i`` is exposed to ``indices[indptr[i]:indptr[i+1]]``).
        p: own monthly adoption probability, in [0, 1].
        q: imitation coefficient [1/month], in [0, 1].
        delta: monthly stopping probability of a running site, in [0, 1].
        seed: seed of the one-uniform-per-agent stream.
    """

    def __init__(
        self, n: int, indptr: np.ndarray, indices: np.ndarray, p: float, q: float, delta: float = 0.0, seed: int = 0
    ) -> None:
        self.n = int(n)
        self.indptr = np.ascontiguousarray(indptr, np.int64)
        self.indices = np.ascontiguousarray(indices, np.int32)
        self.p, self.q, self.delta = float(p), float(q), float(delta)
        self.status = np.zeros(self.n, np.int8)
        self.degree = np.diff(self.indptr).astype(np.float64)
        self.running_ties = np.zeros(self.n, np.int32)
        self._in_ptr, self._in_idx = kernels.transpose_csr(self.indptr, self.indices, self.n)
        self.rng = np.random.default_rng(seed)
        self._u = np.empty(self.n)

    def step(self) -> None:
        """One synchronous step: adopt with ``p + q x``, stop with ``delta``."""
        u = self.rng.random(out=self._u)
        st = self.status
        x = self.running_ties / np.maximum(self.degree, 1.0)
        adopt = np.flatnonzero((st == NOT_ADOPTED) & (u < per_step(self.p + self.q * x, 1.0)))
        stop = np.flatnonzero((st == RUNNING) & (u < per_step(self.delta, 1.0)))
        st[adopt] = RUNNING
        st[stop] = STOPPED
        if len(adopt):
            np.add.at(self.running_ties, kernels.neighbours_of(self._in_ptr, self._in_idx, adopt), 1)
        if len(stop):
            np.subtract.at(self.running_ties, kernels.neighbours_of(self._in_ptr, self._in_idx, stop), 1)

    @property
    def n_running(self) -> int:
        """Agents running the solution now."""
        return int((self.status == RUNNING).sum())
