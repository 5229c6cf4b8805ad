"""The world: places (synthetic or real Swedish municipalities) and networks in CSR form.

Names are imported on first use, so that :mod:`sim.world.places` (needed to check a
scenario) does not pull in the network kernels (numba, scipy).
"""

from typing import Any

_NAMES = {
    "OrgNetwork": "sim.world.networks",
    "build_org_network": "sim.world.networks",
    "build_population_network": "sim.world.networks",
    "Places": "sim.world.places",
    "build_places": "sim.world.places",
}

__all__ = ["OrgNetwork", "Places", "build_org_network", "build_places", "build_population_network"]


def __getattr__(name: str) -> Any:
    """The public names of the world's modules, imported when first used."""
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'sim.world' has no attribute {name!r}")
