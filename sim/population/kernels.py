"""Kernels of the target-group step: numba where available, the same results from NumPy otherwise.

The target-group step (:meth:`sim.population.TargetGroup.step`) is memory-bound. Its
optimised form keeps, for every member, the number of its ties (out-neighbours in
the CSR network) that are *active* (participating or benefiting), and updates it
incrementally: after a step only members whose active flag changed push +1/-1 to the
members who hear from them, through the transposed network (the "frontier"
update). Word of mouth then costs one small read per member instead of ``degree``
random reads. Members are only touched in places with a running site (plus, in
places whose sites all stopped, the participants who are sent back to *aware*).

Two implementations give bit-identical results:

* :func:`step_numba` - a fused numba kernel (three passes over the members of the
  places concerned). Used when numba is installed (the optional extra ``fast``) and
  the per-step conversion of rates is the identity (``rate_mode = "probability"``
  and ``dt = 1``, every preset); it repeats NumPy's float32/float64 arithmetic
  operation by operation, so its decisions equal NumPy's bit for bit.
* :func:`step_numpy` - NumPy over the subsets of members that can move; used for any
  ``dt``/``rate_mode`` (the conversion needs NumPy's own ``power``/``expm1``, whose
  SIMD versions can differ from libm's in the last bit) and when numba is missing.

Set the environment variable ``SIM_DISABLE_NUMBA=1`` to force the NumPy path.
"""

from __future__ import annotations

import os

import numpy as np

from sim.codes import Member
from sim.rates import per_step

# plain ints for the compiled kernels, from the one definition in sim.codes
UNAWARE, AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT = (int(m) for m in Member)

try:  # numba is the optional extra "fast"
    if os.environ.get("SIM_DISABLE_NUMBA", "") not in ("", "0"):
        raise ImportError("disabled by SIM_DISABLE_NUMBA")
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    HAVE_NUMBA = False


def _jit(fn):  # noqa: ANN001, ANN202
    """Compile ``fn`` with numba (cached on disk, GIL released) if numba is available."""
    if not HAVE_NUMBA:
        return fn
    return numba.njit(cache=True, nogil=True)(fn)


# ---------------------------------------------------------------------------- network helpers
def _transpose_loop(indptr: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    in_ptr = np.zeros(n + 1, np.int64)
    for k in range(indptr[n] - indptr[0]):
        in_ptr[indices[indptr[0] + k] + 1] += 1
    for j in range(n):
        in_ptr[j + 1] += in_ptr[j]
    pos = in_ptr[:-1].copy()
    in_idx = np.empty(in_ptr[n], np.int32)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            in_idx[pos[j]] = i
            pos[j] += 1
    return in_ptr, in_idx


_transpose_jit = _jit(_transpose_loop)


def transpose_csr(indptr: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the transposed network: row ``j`` lists the members ``i`` (ascending) that have ``j`` as a tie.

    ``indptr`` (int64, length ``n + 1``) and ``indices`` (int, values in ``[0, n)``) are
    the out-ties; returns ``(in_ptr int64, in_idx int32)``. Duplicate ties are kept
    (once per occurrence), so counts over the two directions agree.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices)
    if HAVE_NUMBA:
        return _transpose_jit(indptr, indices, n)
    idx = indices[indptr[0] : indptr[n]]
    order = np.argsort(idx, kind="stable")
    src = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
    in_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(idx, minlength=n), out=in_ptr[1:])
    return in_ptr, src[order]


def count_active_ties(indptr: np.ndarray, indices: np.ndarray, state: np.ndarray, dtype: type) -> np.ndarray:
    """For each member, how many of its ties participate or benefit (a full "pull" recount)."""
    active = (state == PARTICIPATING) | (state == BENEFITING)
    if len(indices) == 0:
        return np.zeros(len(state), dtype)
    c = np.zeros(len(indices) + 1, np.int64)
    np.cumsum(active[indices], out=c[1:])
    return (c[indptr[1:]] - c[indptr[:-1]]).astype(dtype)


def _push_loop(in_ptr: np.ndarray, in_idx: np.ndarray, members: np.ndarray, counts: np.ndarray, delta: int) -> None:
    for i in members:
        for k in range(in_ptr[i], in_ptr[i + 1]):
            counts[in_idx[k]] += delta


_push_jit = _jit(_push_loop)


def push_to_listeners(in_ptr: np.ndarray, in_idx: np.ndarray, members: np.ndarray, counts: np.ndarray, delta: int) -> None:
    """Add ``delta`` to ``counts[j]`` once for every tie by which a member ``j`` hears from one of ``members``."""
    if len(members) == 0:
        return
    if HAVE_NUMBA:
        _push_jit(in_ptr, in_idx, np.ascontiguousarray(members, dtype=np.int64), counts, delta)
    else:
        np.add.at(counts, neighbours_of(in_ptr, in_idx, members), counts.dtype.type(delta) if delta >= 0 else -1)


def neighbours_of(in_ptr: np.ndarray, in_idx: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Concatenated rows ``members`` of a CSR (``in_ptr``, ``in_idx``): who hears from them."""
    starts = in_ptr[members]
    lens = in_ptr[members + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lens)
    offs = np.repeat(starts - (ends - lens), lens) + np.arange(total)
    return in_idx[offs]


def _population_targets_loop(
    u: np.ndarray, local: np.ndarray, member_place: np.ndarray, place_start: np.ndarray, place_size: np.ndarray,
    degree: int, n: int, out: np.ndarray,
) -> None:
    for a in range(member_place.shape[0]):
        p = member_place[a]
        start = place_start[p]
        size = np.float64(place_size[p])
        for b in range(degree):
            k = a * degree + b
            if local[k]:
                t = start + np.int64(u[k] * size)
            else:
                t = np.int64(u[k] * np.float64(n))
            out[k] = min(t, n - 1)


_population_targets_jit = _jit(_population_targets_loop)


def population_targets(
    u: np.ndarray, local: np.ndarray, member_place: np.ndarray, place_start: np.ndarray, place_size: np.ndarray,
    degree: int, n: int, out: np.ndarray,
) -> None:
    """Tie targets of a block of members (see :func:`sim.world.build_population_network`), into ``out``.

    Tie ``k`` of member ``a`` goes to ``start + floor(u * size)`` of the member's place if
    ``local[k]``, else to ``floor(u * n)``, capped at ``n - 1``; ``u`` in [0, 1).
    """
    _population_targets_jit(u, local, member_place, place_start, place_size, np.int64(degree), np.int64(n), out)


# ---------------------------------------------------------------------------- numba step
def _expected_joins_block(state: np.ndarray, need: np.ndarray, part_rate: np.float32, f: float) -> float:
    e = 0.0
    for i in range(state.shape[0]):
        r = min(max(np.float64(part_rate * need[i]) * f, 0.0), 1.0)
        e += r if state[i] == 1 else 0.0
    return e


def _decide_block(
    state: np.ndarray, out: np.ndarray, u: np.ndarray, need: np.ndarray, degree: np.ndarray, active_nb: np.ndarray,
    wom_rate: np.float32, part_rate: np.float32, ko: float, f: float, s: float, b: float, bd: float,
) -> None:
    one32 = np.float32(1.0)
    for i in range(state.shape[0]):
        st = state[i]
        x = np.float64(u[i])
        w = np.float32(active_nb[i]) / max(degree[i], one32)
        pw = min(max(np.float64(wom_rate * w), 0.0), 1.0)
        pa = 1.0 - ko * (1.0 - pw)
        pj = min(max(np.float64(part_rate * need[i]) * f, 0.0), 1.0) * s
        new = st
        if st == 0 and x < pa:
            new = 1
        if st == 1 and x < pj:
            new = 2
        if st == 2 and x < bd:
            new = 4
        if st == 2 and x < b:
            new = 3
        out[i] = new


_expected_joins_jit = _jit(_expected_joins_block)
_decide_jit = _jit(_decide_block)


def _step_identity_loop(
    state: np.ndarray, shadow: np.ndarray, u: np.ndarray, need: np.ndarray, degree: np.ndarray,
    active_nb: np.ndarray, place_start: np.ndarray, place_size: np.ndarray, counts: np.ndarray,
    running: np.ndarray, keep_out: np.ndarray, wom_rate: np.float32, part_rate: np.float32, join_factor: np.ndarray,
    slots: np.ndarray, p_ben: np.ndarray, p_ben_drop: np.ndarray, in_ptr: np.ndarray, in_idx: np.ndarray,
    new_ben: np.ndarray,
) -> None:
    n_places = place_start.shape[0]
    # pass 1: expected joiners per running place (before capacity), and the capacity scale.
    # The sum runs in member order, as np.bincount does, so it is bit-identical to it.
    scale = np.ones(n_places)
    for p in range(n_places):
        if not running[p] or counts[p, 1] == 0:
            continue
        lo = place_start[p]
        hi = lo + place_size[p]
        e = _expected_joins_jit(state[lo:hi], need[lo:hi], part_rate, join_factor[p])
        if e > slots[p]:
            scale[p] = slots[p] / max(e, 1e-12)
    # pass 2: decisions from the previous step's state into ``shadow`` (equal to ``state``
    # on entry); branch-free over the members of running places, so it vectorises.
    touched = np.zeros(n_places, np.bool_)
    for p in range(n_places):
        lo = place_start[p]
        hi = lo + place_size[p]
        if not running[p]:
            if counts[p, 2] == 0:
                continue
            touched[p] = True  # participants wait (back to aware); benefit is still counted
            nb = 0
            b = p_ben[p]
            for i in range(lo, hi):
                if state[i] == 2:
                    if u[i] < b:
                        nb += 1
                    shadow[i] = 1
            new_ben[p] = nb
            continue
        if counts[p, 0] + counts[p, 1] + counts[p, 2] == 0:
            continue
        touched[p] = True
        _decide_jit(
            state[lo:hi], shadow[lo:hi], u[lo:hi], need[lo:hi], degree[lo:hi], active_nb[lo:hi], wom_rate, part_rate,
            keep_out[p], join_factor[p], scale[p], p_ben[p], p_ben_drop[p],
        )
    # pass 3: counts per place, new beneficiaries, and the frontier: members whose active
    # flag changed push +-1 to the members who hear from them; ``state`` takes the new state.
    for p in range(n_places):
        if not touched[p]:
            continue
        lo = place_start[p]
        hi = lo + place_size[p]
        nb = 0
        for i in range(lo, hi):
            old = state[i]
            new = shadow[i]
            if old == new:
                continue
            state[i] = new
            counts[p, old] -= 1
            counts[p, new] += 1
            if old == 2 and new == 3:
                nb += 1
            was = old == 2 or old == 3
            now = new == 2 or new == 3
            if was == now:
                continue
            if now:
                for k in range(in_ptr[i], in_ptr[i + 1]):
                    active_nb[in_idx[k]] += 1
            else:
                for k in range(in_ptr[i], in_ptr[i + 1]):
                    active_nb[in_idx[k]] -= 1
        if running[p]:
            new_ben[p] = nb


_step_identity_jit = _jit(_step_identity_loop)


def step_numba(
    state: np.ndarray, shadow: np.ndarray, u: np.ndarray, need: np.ndarray, degree: np.ndarray,
    active_nb: np.ndarray, place_start: np.ndarray, place_size: np.ndarray, counts: np.ndarray,
    running: np.ndarray, keep_out: np.ndarray, wom_rate: float, part_rate: float, join_factor: np.ndarray,
    slots: np.ndarray, p_ben: np.ndarray, p_ben_drop: np.ndarray, in_ptr: np.ndarray, in_idx: np.ndarray,
) -> np.ndarray:
    """One synchronous step with per-step rates equal to the monthly ones (``dt = 1``, probability mode).

    Member arrays (length ``n``): ``state`` int8 (updated in place), ``shadow`` int8 (the
    state before; updated to the new state), ``u`` float32 uniforms in [0, 1), ``need``
    float32 in [0, 1], ``degree`` float32 ties, ``active_nb`` active ties (updated).
    Place arrays (length ``n_places``): ``place_start``/``place_size`` int64,
    ``counts`` (n_places, 5) int64 members per state (updated), ``running`` bool,
    ``keep_out`` = 1 - outreach probability, ``join_factor`` (fit and openness term),
    ``slots`` free participant places [persons], ``p_ben`` and ``p_ben_drop`` =
    P(benefit) and P(benefit) + P(dropout). ``wom_rate``/``part_rate`` are monthly
    probabilities (used as float32, as NumPy does). Returns new beneficiaries per place.
    """
    new_ben = np.zeros(len(place_start), np.int64)
    _step_identity_jit(
        state, shadow, u, need, degree, active_nb, place_start, place_size, counts, running, keep_out,
        np.float32(wom_rate), np.float32(part_rate), join_factor, slots, p_ben, p_ben_drop, in_ptr, in_idx, new_ben,
    )
    return new_ben


# ---------------------------------------------------------------------------- NumPy step
def step_numpy(
    state: np.ndarray, shadow: np.ndarray, u: np.ndarray, need: np.ndarray, degree: np.ndarray,
    active_nb: np.ndarray, place: np.ndarray, place_size: np.ndarray, counts: np.ndarray,
    running: np.ndarray, keep_out: np.ndarray, wom_rate: float, part_rate: float, join_factor: np.ndarray,
    slots: np.ndarray, p_ben: np.ndarray, p_ben_drop: np.ndarray, in_ptr: np.ndarray, in_idx: np.ndarray,
    dt: float, rate_mode: str,
) -> np.ndarray:
    """The same step as :func:`step_numba` in NumPy, for any ``dt`` and ``rate_mode``.

    ``place`` is each member's place id (int32); ``wom_rate``/``part_rate`` are the
    monthly probabilities, converted per step with :func:`sim.rates.per_step` exactly
    as the straightforward step does. Returns new beneficiaries per place.
    """
    n_places = len(place_size)
    running_member = np.repeat(running, place_size)
    # unaware members of running places: outreach and word of mouth
    ua = np.flatnonzero((state == UNAWARE) & running_member)
    pl = place[ua]
    wom = active_nb[ua].astype(np.float32) / np.maximum(degree[ua], 1.0)
    p_wom = per_step(wom_rate * wom, dt, rate_mode)
    aware_now = ua[u[ua] < 1.0 - keep_out[pl] * (1.0 - p_wom)]
    # aware members of running places: join, limited by free places
    aw = np.flatnonzero((state == AWARE) & running_member)
    pl = place[aw]
    p_join = per_step(part_rate * need[aw] * join_factor[pl], dt, rate_mode)
    expected = np.bincount(pl, weights=p_join, minlength=n_places)
    scale = np.where(expected > slots, slots / np.maximum(expected, 1e-12), 1.0)
    joined = aw[u[aw] < p_join * scale[pl]]
    # participants (anywhere): benefit, drop out, or wait where no site runs
    pa = np.flatnonzero(state == PARTICIPATING)
    pl = place[pa]
    up = u[pa]
    ben = up < p_ben[pl]
    drop = ~ben & (up < p_ben_drop[pl])
    wait = ~running[pl]
    new_ben = np.bincount(pl[ben], minlength=n_places)
    state[aware_now] = AWARE
    state[joined] = PARTICIPATING
    state[pa[ben]] = BENEFITING
    state[pa[drop]] = DROPPED_OUT
    state[pa[wait]] = AWARE
    # per-place counts and the frontier of the active flag
    for members, old in ((aware_now, UNAWARE), (joined, AWARE), (pa, PARTICIPATING)):
        if len(members):
            np.add.at(counts, (place[members], np.full(len(members), old)), -1)
            np.add.at(counts, (place[members], state[members]), 1)
    lost = pa[wait | drop]
    if len(joined):
        np.add.at(active_nb, neighbours_of(in_ptr, in_idx, joined), 1)
    if len(lost):
        np.subtract.at(active_nb, neighbours_of(in_ptr, in_idx, lost), 1)
    for members in (aware_now, joined, pa):
        shadow[members] = state[members]
    return new_ben
