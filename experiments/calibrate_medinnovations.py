"""Fit p and q of the full model to the tetracycline adoption curve with ``sim calibrate-abc``.

``sim calibrate`` (sim.validation) fits the adoption rule by maximum likelihood on the
study's *observed* network. This example instead fits the *whole model* (its synthetic
network of four towns, experiments/medinnovations.toml) to the *aggregate* curve only:
a quick shared-seed point fit, then an ABC-SMC posterior whose SQLite history can be
inspected and resumed::

    python experiments/calibrate_medinnovations.py out/medinnovations_target.csv
    sim calibrate-abc experiments/medinnovations.toml --target out/medinnovations_target.csv \\
        --output orgs_adopted --share --param organisations.p=0:0.1 --param organisations.q=0:1 \\
        --out out/abc_medinnovations --population 100 --generations 6 --workers 2
    # later: the same command with --generations 10 continues the stored history
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def target(out: str = "out/medinnovations_target.csv") -> Path:
    """Cumulative share of the 125 doctors who adopted by each month (month 1 = Nov 1953)."""
    nodes = pd.read_csv(ROOT / "data" / "medInnovations_nodes.csv")
    toa = np.where(nodes["adopted"] == 1, nodes["toa"], np.inf)
    months = np.arange(1, 18)
    share = [(toa <= m).mean() for m in months]
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"month": months, "value": share}).to_csv(path, index=False)
    return path


if __name__ == "__main__":
    print(f"wrote {target(*sys.argv[1:])}")
