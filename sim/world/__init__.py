"""The world: places (synthetic or real Swedish municipalities) and networks in CSR form."""

from sim.world.networks import OrgNetwork, build_org_network, build_population_network
from sim.world.places import Places, build_places

__all__ = ["OrgNetwork", "Places", "build_org_network", "build_places", "build_population_network"]
