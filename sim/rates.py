"""Turning monthly rates into per-step probabilities.

All rates in a scenario are per month. A step lasts ``dt`` months. With
``rate_mode = "probability"`` (the specification's rule) a monthly probability ``r``
becomes ``1 - (1 - r) ** dt`` per step; with ``rate_mode = "rate"`` a monthly hazard
``r`` becomes ``1 - exp(-r * dt)``. At ``dt = 1`` the first is the identity.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def per_step(r: ArrayLike, dt: float, mode: str = "probability") -> NDArray[np.float64]:
    """Per-step probability of a monthly rate ``r`` (clipped to [0, 1]) for a step of ``dt`` months."""
    r = np.clip(np.asarray(r, dtype=np.float64), 0.0, None)
    if mode == "rate":
        return -np.expm1(-r * dt)
    if dt == 1.0:
        return np.minimum(r, 1.0)
    return 1.0 - np.power(1.0 - np.minimum(r, 1.0), dt)
