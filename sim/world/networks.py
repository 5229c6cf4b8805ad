"""Networks, built straight into CSR (no networkx on the hot path).

* The **population network**: each target-group member hears from ``degree``
  others, a share ``within_place`` of them in the member's own place. Members are
  numbered by place, so most neighbour reads stay in one block of memory.
* The **organisation network**: ties between organisations (undirected), of one
  of several kinds (see :class:`sim.scenario.OrganisationParams.network`).
  Brokering adds ties during a run (:meth:`OrgNetwork.add_ties`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sim.population import kernels
from sim.scenario import OrganisationParams

_CHUNK = 1 << 20  # members per block when drawing the population network


def build_population_network(
    place_start: np.ndarray, place_size: np.ndarray, degree: int, within_place: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(indptr, indices)`` of a fixed out-degree network over members ordered by place.

    Member ``i`` in place ``p`` draws ``degree`` ties; each is, with probability
    ``within_place``, a uniformly drawn member of ``p``, else a uniformly drawn member
    of the whole population. Self-ties may occur (probability about 1/size of place)
    and are harmless. Draws are made in fixed blocks of members, so the result depends
    only on the seed.
    """
    n = int(place_size.sum())
    indptr = np.arange(n + 1, dtype=np.int64) * degree
    indices = np.empty(n * degree, dtype=np.int32)
    if n == 0 or degree == 0:
        return indptr, indices
    place_start = np.asarray(place_start, dtype=np.int64)
    place_size = np.asarray(place_size, dtype=np.int64)
    member_place = np.repeat(np.arange(len(place_size), dtype=np.int32), place_size)
    u = np.empty(min(n, _CHUNK) * degree)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        m = hi - lo
        u_m = rng.random(out=u[: m * degree])
        local = rng.random(m * degree) < within_place
        out = indices[lo * degree : hi * degree]
        if kernels.HAVE_NUMBA:
            kernels.population_targets(u_m, local, member_place[lo:hi], place_start, place_size, degree, n, out)
            continue
        pl = np.repeat(member_place[lo:hi], degree)
        start = place_start[pl]
        size = place_size[pl]
        tgt = np.where(local, start + (u_m * size).astype(np.int64), (u_m * n).astype(np.int64))
        out[:] = np.minimum(tgt, n - 1)
    return indptr, indices


class OrgNetwork:
    """Ties between organisations: full mixing, or a symmetric CSR adjacency."""

    def __init__(self, n: int, adjacency: sp.csr_matrix | None) -> None:
        self.n = n
        self.full = adjacency is None
        self._extra: list[tuple[np.ndarray, np.ndarray]] = []
        self.csr = adjacency
        self._refresh()

    def _refresh(self) -> None:
        if self.full:
            self.degree = np.full(self.n, max(self.n - 1, 0), dtype=np.float64)
            return
        # drop self-ties and explicit zeros, keep the order of the rest, make it binary
        # (what setdiag(0) + eliminate_zeros() + data[:] = 1 did, without a COO round trip)
        a = self.csr.tocsr()
        rows = np.repeat(np.arange(self.n, dtype=a.indices.dtype), np.diff(a.indptr))
        keep = (a.indices != rows) & (a.data != 0)
        indptr = np.zeros(self.n + 1, dtype=a.indptr.dtype)
        np.cumsum(np.bincount(rows[keep], minlength=self.n), out=indptr[1:])
        indices = a.indices[keep]
        self.csr = sp.csr_matrix((np.ones(len(indices), dtype=a.dtype), indices, indptr), shape=(self.n, self.n))
        self.degree = np.diff(self.csr.indptr).astype(np.float64)

    def share(self, x: np.ndarray) -> np.ndarray:
        """For each organisation, the share of its ties with ``x`` true (0 where it has none).

        Under full mixing this is the share of *all* organisations (Bass' ``N/m``).
        """
        x = np.asarray(x, dtype=np.float64)
        if self.full:
            return np.full(self.n, x.sum() / max(self.n, 1))
        counts = self.csr @ x
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.degree > 0, counts / np.maximum(self.degree, 1.0), 0.0)

    def count(self, x: np.ndarray) -> np.ndarray:
        """For each organisation, the number of ties with ``x`` true (weights summed)."""
        x = np.asarray(x, dtype=np.float64)
        if self.full:
            return np.full(self.n, x.sum()) - x
        return self.csr @ x

    def neighbour_max(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """For each organisation, the largest ``values`` among its partners (``fill`` if none)."""
        if self.full:
            return np.full(self.n, values.max() if self.n else fill)
        out = np.full(self.n, fill, dtype=np.float64)
        has = self.degree > 0
        if has.any():
            indptr = self.csr.indptr
            red = np.maximum.reduceat(values[self.csr.indices], indptr[:-1][has])
            out[has] = red
        return out

    def add_ties(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Add undirected ties (brokering). Ignored under full mixing."""
        if self.full or len(src) == 0:
            return
        keep = src != dst
        src, dst = src[keep], dst[keep]
        add = sp.csr_matrix(
            (np.ones(2 * len(src)), (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(self.n, self.n)
        )
        self.csr = self.csr + add
        self._refresh()

    @property
    def n_ties(self) -> int:
        """Number of undirected ties."""
        if self.full:
            return self.n * (self.n - 1) // 2
        return int(self.csr.nnz // 2)


def _sym(n: int, src: np.ndarray, dst: np.ndarray) -> sp.csr_matrix:
    a = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    return (a + a.T).tocsr()


def ring_lattice(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of a ring lattice where everyone is tied to ``k//2`` neighbours on each side."""
    half = max(k // 2, 0)
    i = np.repeat(np.arange(n), half)
    j = (i + np.tile(np.arange(1, half + 1), n)) % max(n, 1)
    return i, j


def build_org_network(
    params: OrganisationParams,
    org_place: np.ndarray,
    place_x: np.ndarray,
    place_y: np.ndarray,
    place_pop: np.ndarray,
    rng: np.random.Generator,
) -> OrgNetwork:
    """Build the organisation network of the kind the scenario names."""
    n = len(org_place)
    kind = params.network
    if kind == "full":
        return OrgNetwork(n, None)
    if n < 2:
        return OrgNetwork(n, sp.csr_matrix((n, n)))
    if kind == "random":
        m = int(rng.poisson(n * params.degree / 2.0))
        src = rng.integers(0, n, m)
        dst = rng.integers(0, n, m)
        return OrgNetwork(n, _sym(n, src, dst))
    if kind in ("ring", "small_world"):
        src, dst = ring_lattice(n, int(round(params.degree)))
        if kind == "small_world" and params.rewiring > 0:
            rew = rng.random(len(dst)) < params.rewiring
            dst = dst.copy()
            dst[rew] = rng.integers(0, n, int(rew.sum()))
        return OrgNetwork(n, _sym(n, src, dst))
    # "places": ties mostly within the place, some to other places (gravity with distance decay)
    n_places = len(place_x)
    order = np.argsort(org_place, kind="stable")
    counts = np.bincount(org_place, minlength=n_places)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    stubs = int(round(params.degree / 2.0))  # each stub makes one undirected tie: mean degree ~ degree
    src = np.repeat(np.arange(n), stubs)
    cross = rng.random(len(src)) < params.cross_place_share
    u = rng.random(len(src))
    tgt_place = org_place[src].copy()
    if n_places > 1 and cross.any():
        if n_places <= 3000:
            dx = place_x[:, None] - place_x[None, :]
            dy = place_y[:, None] - place_y[None, :]
            w = place_pop[None, :] * np.exp(-np.hypot(dx, dy) / params.distance_scale_km) * (counts[None, :] > 0)
            np.fill_diagonal(w, 0.0)
            w_sum = w.sum(axis=1, keepdims=True)
            cdf = np.cumsum(np.where(w_sum > 0, w / np.where(w_sum > 0, w_sum, 1), 0), axis=1)
            sp_ = org_place[src[cross]]
            r = rng.random(int(cross.sum()))
            choice = (cdf[sp_] <= r[:, None]).sum(axis=1)
            tgt_place[cross] = np.minimum(choice, n_places - 1)
        else:
            tgt_place[cross] = rng.choice(np.flatnonzero(counts > 0), int(cross.sum()))
    else:
        rng.random(int(cross.sum()))  # keep the stream aligned
    dst = order[starts[tgt_place] + (u * counts[tgt_place]).astype(np.int64)]
    return OrgNetwork(n, _sym(n, src, dst))
