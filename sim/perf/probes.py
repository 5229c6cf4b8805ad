"""Machine probes and the floor they imply for one target-group step.

Three probes, each timed on arrays the size of the population being benchmarked
(so cache effects at that size are included):

* **stream**: copying a buffer of ``N * STREAM_BYTES_PER_MEMBER`` bytes; bandwidth
  counts bytes read plus bytes written [bytes/s];
* **gather**: summing ``N * degree`` one-byte values read at random positions of an
  ``N``-byte array through an int32 index array (the index array is streamed),
  which is the neighbour read of the plain network adoption rule [s per gather];
* **draws**: ``N`` float32 uniforms from NumPy's generator (the step's one draw per
  member) [s].

The **floor** of one step of the plain network adoption rule (each member reads the
state of its ``degree`` ties, its own state, need and uniform, and writes its state)
is ``stream_bytes / bandwidth + N * degree * gather_time + draw_time`` with
``STREAM_BYTES_PER_MEMBER`` bytes streamed per member. The optimised step updates
neighbour counts incrementally, so it can do less than this floor assumes; the
floor of its own memory traffic (``KERNEL_BYTES_PER_MEMBER``) is reported too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from sim.population.kernels import HAVE_NUMBA, _jit

STREAM_BYTES_PER_MEMBER = 10
"""Plain rule, per member: read state (1 B), need (4 B), uniform (4 B), write state (1 B)."""
KERNEL_BYTES_PER_MEMBER = 25
"""Optimised step, per member: the change check (state and shadow, 2 B), the expected-joins
pass (state and need, 5 B), the decision pass (state, uniform, need, degree, active-tie
count, new state: 16 B) and the frontier pass (state and shadow, 2 B)."""


def _gather_loop(x: np.ndarray, idx: np.ndarray) -> int:
    s = 0
    for k in range(idx.shape[0]):
        s += x[idx[k]]
    return s


_gather_jit = _jit(_gather_loop)


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls [s] (the least disturbed on a noisy machine)."""
    best = float("inf")
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@dataclass
class Probes:
    """Probe results for a population of ``n`` members with ``degree`` ties each."""

    n: int
    degree: int
    bandwidth_gb_s: float  # streaming bandwidth, read + write [GB/s]
    gather_ns: float  # time per random one-byte gather, index streamed [ns]
    draw_ms: float  # n float32 uniforms [ms]
    stream_ms: float  # STREAM_BYTES_PER_MEMBER * n at that bandwidth [ms]
    gather_ms: float  # n * degree gathers [ms]
    floor_ms: float  # stream_ms + gather_ms + draw_ms [ms]
    kernel_floor_ms: float  # KERNEL_BYTES_PER_MEMBER * n at that bandwidth + draw_ms [ms]
    numba: bool  # whether the gather probe ran compiled

    def as_dict(self) -> dict[str, float | int | bool]:
        """The fields as a plain dict (for JSON)."""
        return asdict(self)


def measure_bandwidth(n_bytes: int, repeats: int = 5) -> float:
    """Streaming copy bandwidth for a buffer of ``n_bytes`` (at least 1 MiB), read + write [bytes/s]."""
    n_bytes = max(int(n_bytes), 1 << 20)
    src = np.ones(n_bytes // 8, np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t = _best_of(lambda: np.copyto(dst, src), repeats)
    return 2.0 * src.nbytes / t


def measure_gather(n: int, degree: int, repeats: int = 3, seed: int = 0) -> float:
    """Time per random one-byte gather from an ``n``-byte array, ``n * degree`` of them [s]."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, max(n, 1), dtype=np.int8)
    m = max(n * degree, 1)
    idx = rng.integers(0, max(n, 1), m, dtype=np.int32)
    if HAVE_NUMBA:
        _gather_jit(x[:16], idx[:16] % 16)
        t = _best_of(lambda: _gather_jit(x, idx), repeats)
    else:  # pragma: no cover - without numba the probe measures NumPy's gather
        t = _best_of(lambda: int(x[idx].sum(dtype=np.int64)), repeats)
    return t / m


def measure_draws(n: int, repeats: int = 5, seed: int = 0) -> float:
    """Time to draw ``n`` float32 uniforms into a reused buffer [s]."""
    rng = np.random.default_rng(seed)
    buf = np.empty(max(n, 1), np.float32)
    return _best_of(lambda: rng.random(dtype=np.float32, out=buf), repeats)


def probe(n: int, degree: int, repeats: int = 5) -> Probes:
    """Run the three probes for ``n`` members with ``degree`` ties and compute the floors."""
    bw = measure_bandwidth(n * STREAM_BYTES_PER_MEMBER, repeats)
    g = measure_gather(n, degree, max(repeats // 2, 1))
    d = measure_draws(n, repeats)
    stream_s = n * STREAM_BYTES_PER_MEMBER / bw
    gather_s = n * degree * g
    kernel_s = n * KERNEL_BYTES_PER_MEMBER / bw
    return Probes(
        n=n, degree=degree, bandwidth_gb_s=bw / 1e9, gather_ns=g * 1e9, draw_ms=d * 1e3,
        stream_ms=stream_s * 1e3, gather_ms=gather_s * 1e3, floor_ms=(stream_s + gather_s + d) * 1e3,
        kernel_floor_ms=(kernel_s + d) * 1e3, numba=HAVE_NUMBA,
    )
