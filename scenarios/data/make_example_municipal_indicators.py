"""Write ``example-municipal-indicators.csv``: ILLUSTRATIVE values for all 290 municipalities (not data).

The codes, names and populations are SCB's (``data/swedish_municipalities.csv``); the
indicators are drawn with a fixed seed so that the example of ``docs/place-data.md``
runs as written. Run from the project root::

    .venv/bin/python scenarios/data/make_example_municipal_indicators.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20270101

HEADER = """\
# ILLUSTRATIVE VALUES, NOT DATA. An example of a place-data file for places.data (docs/place-data.md).
# code, name: SCB municipality codes and names (data/swedish_municipalities.csv). Every other column
# is drawn at random (seed {seed}, scenarios/data/make_example_municipal_indicators.py) to look like
# an export of municipal indicators; do not cite these figures. Replace them with your own export
# (e.g. SCB or Kolada: young people neither working nor studying, youth unemployment).
# persons_16_24: persons aged 16-24 (population x a share drawn from 9-12 %)
# neet_16_24_pct: per cent of them neither working nor studying (log-normal around 6.5 %, 2-18 %)
# youth_unemployment_pct: per cent of 18-24-year-olds openly unemployed or in programmes (2-25 %)
"""


def main() -> None:
    """Draw the illustrative indicators and write the CSV beside this script."""
    rng = np.random.default_rng(SEED)
    towns = pd.read_csv(ROOT / "data" / "swedish_municipalities.csv", dtype={"code": str})
    n = len(towns)
    persons = np.round(towns["population"].to_numpy() * rng.uniform(0.09, 0.12, n)).astype(int)
    neet = np.clip(np.exp(rng.normal(np.log(6.5), 0.3, n)), 2.0, 18.0)
    unemployment = np.clip(1.3 * neet + rng.normal(0.0, 1.5, n), 2.0, 25.0)
    table = pd.DataFrame({
        "code": towns["code"], "name": towns["name"], "persons_16_24": persons,
        "neet_16_24_pct": np.round(neet, 1), "youth_unemployment_pct": np.round(unemployment, 1),
    })
    out = HERE / "example-municipal-indicators.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER.format(seed=SEED))
        table.to_csv(fh, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
