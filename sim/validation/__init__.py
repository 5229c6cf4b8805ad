"""Validation: the model reproduces diffusion theory in its limits and can be fitted to real data.

* :mod:`sim.validation.limits` - the limits of ``experiments/validation/*.toml``
  (Bass, SIS, Watts, Centola & Macy, Granovetter), their expected results
  (:data:`~sim.validation.limits.EXPECTED`), and the agreement of the vectorised
  model with the per-agent Mesa reference (:mod:`sim.reference`).
* :mod:`sim.validation.calibrate` - fitting ``p`` and ``q`` of the adoption rule
  to the tetracycline and hybrid-corn diffusion studies, with a held-out community.
* :mod:`sim.validation.report` - ``validation.md`` and its plots.
* :mod:`sim.validation.commands` - the ``sim validate`` and ``sim calibrate`` commands.
"""

from typing import Any

__all__ = ["EXPECTED", "QUICK", "CheckResult", "Row", "Sizes", "run_all"]


def __getattr__(name: str) -> Any:
    """Import :mod:`sim.validation.limits` (and with it mesa, scipy) only when one of its names is used."""
    if name in __all__:
        from sim.validation import limits

        return getattr(limits, name)
    raise AttributeError(f"module 'sim.validation' has no attribute {name!r}")
