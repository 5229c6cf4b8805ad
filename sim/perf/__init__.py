"""Performance: compiled kernels of the target-group step, machine probes and the benchmark.

* :mod:`sim.perf.kernels` - the target-group step and the incremental neighbour
  counts, as numba kernels with a pure-NumPy fallback (numba is the optional extra
  ``fast``; without it the same results come from NumPy, only slower).
* :mod:`sim.perf.naive` - the straightforward (unoptimised) target-group step the
  kernels are tested against, bit for bit.
* :mod:`sim.perf.probes` - streaming-bandwidth, random-gather and random-draw probes,
  and the floor they imply for one target-group step.
* :mod:`sim.perf.bench` - ``sim bench``: the bare step, the full model step and the
  probes, timed side by side in one process.

See ``docs/performance.md`` for the measured figures.
"""

from typing import Any

__all__ = ["HAVE_NUMBA"]


def __getattr__(name: str) -> Any:
    """``HAVE_NUMBA`` imports :mod:`sim.perf.kernels` (and numba) only when asked for."""
    if name == "HAVE_NUMBA":
        from sim.perf.kernels import HAVE_NUMBA

        return HAVE_NUMBA
    raise AttributeError(f"module 'sim.perf' has no attribute {name!r}")
