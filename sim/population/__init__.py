"""Target groups: members as NumPy arrays, their vectorised step and its compiled kernels.

* :mod:`sim.population.target_group` - :class:`TargetGroup` and :class:`PlaceService`;
* :mod:`sim.population.kernels` - the hot loops (numba, with a bit-identical NumPy fallback);
* :mod:`sim.population.naive` - the straightforward step the optimised one is tested against.
"""

from sim.population.target_group import (
    AWARE,
    BENEFITING,
    DROPPED_OUT,
    N_STATES,
    PARTICIPATING,
    STATE_NAMES,
    UNAWARE,
    PlaceService,
    TargetGroup,
)

__all__ = [
    "AWARE", "BENEFITING", "DROPPED_OUT", "N_STATES", "PARTICIPATING", "STATE_NAMES", "UNAWARE", "PlaceService",
    "TargetGroup",
]
