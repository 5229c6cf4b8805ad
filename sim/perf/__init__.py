"""Performance tooling: machine probes, the benchmark and its report.

The hot-path kernels live beside what they serve (:mod:`sim.population.kernels`,
tested bit for bit against :mod:`sim.population.naive`).

* :mod:`sim.perf.probes` - streaming-bandwidth, random-gather and random-draw probes,
  and the floor they imply for one target-group step.
* :mod:`sim.perf.bench` - ``sim bench``: the bare step, the full model step and the
  probes, timed side by side in one process.

See ``docs/performance.md`` for the measured figures.
"""

from typing import Any

__all__ = ["HAVE_NUMBA"]


def __getattr__(name: str) -> Any:
    """``HAVE_NUMBA`` imports :mod:`sim.population.kernels` (and numba) only when asked for."""
    if name == "HAVE_NUMBA":
        from sim.population.kernels import HAVE_NUMBA

        return HAVE_NUMBA
    raise AttributeError(f"module 'sim.perf' has no attribute {name!r}")
