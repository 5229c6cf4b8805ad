"""Design points and seeds.

Designs (SALib for all but the grid):

``grid``    full factorial of the listed values (linked keys vary together)
``lhs``     Latin hypercube of ``samples`` points in ``[low, high]``
``sobol``   Saltelli/Sobol sequence, ``samples * (D + 2)`` points (``* (2D + 2)`` with second order)
``morris``  ``samples`` trajectories of ``D + 1`` points on ``levels`` levels

Sampled values of integer parameters are rounded; the unrounded matrix is kept for
analysis (``X``), the rounded values are what the model runs with.

Seeds: the root seed's :class:`numpy.random.SeedSequence` spawns one child per
replicate; replicate ``r`` gets the same seed at every design point (common random
numbers), so differences between points come from the parameters, and a run's seed
does not depend on which worker runs it or when.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.explore.experiment import Experiment, field_is_int, field_range


@dataclass(frozen=True)
class DesignPoints:
    """The points of a design: ``table`` (one row per point, one column per dotted parameter).

    ``problem`` is SALib's problem dict (``None`` for a grid) and ``X`` the raw sample
    matrix in SALib's order (rows = points), which analysis needs unrounded.
    """

    table: pd.DataFrame
    problem: dict[str, Any] | None
    X: np.ndarray | None

    @property
    def n(self) -> int:
        """Number of design points."""
        return len(self.table)


def salib_problem(exp: Experiment) -> dict[str, Any]:
    """SALib's problem dict of a non-grid experiment."""
    names = list(exp.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [list(map(float, exp.parameters[n])) for n in names]}


def make_design(exp: Experiment) -> DesignPoints:
    """The design points of ``exp`` (deterministic in ``exp.root_seed``)."""
    if exp.design == "grid":
        keys = list(exp.parameters)
        rows = []
        for combo in itertools.product(*(exp.parameters[k] for k in keys)):
            row: dict[str, Any] = {}
            for key, val in zip(keys, combo, strict=True):
                names = [n.strip() for n in key.split(",")]
                vals = val if len(names) > 1 else [val]
                row.update(dict(zip(names, vals, strict=True)))
            rows.append(row)
        return DesignPoints(pd.DataFrame(rows, columns=exp.parameter_names), None, None)

    problem = salib_problem(exp)
    seed = int(exp.root_seed % 2**32)
    if exp.design == "lhs":
        from SALib.sample import latin

        X = latin.sample(problem, exp.samples, seed=seed)
    elif exp.design == "sobol":
        import warnings

        from SALib.sample import sobol

        with warnings.catch_warnings():  # SALib warns when N is not a power of 2; the docs say so too
            warnings.simplefilter("ignore")
            X = sobol.sample(problem, exp.samples, calc_second_order=exp.second_order, seed=seed)
    else:
        from SALib.sample import morris

        X = morris.sample(problem, exp.samples, num_levels=exp.levels, seed=seed)
    table = pd.DataFrame(X, columns=problem["names"])
    for name in table.columns:
        if field_is_int(name):
            table[name] = np.rint(table[name]).astype(np.int64)
    return DesignPoints(table, problem, np.asarray(X))


def out_of_range(design: DesignPoints) -> dict[str, list[Any]]:
    """Values of each parameter outside the scenario schema's range (those runs will fail)."""
    bad: dict[str, list[Any]] = {}
    for name in design.table.columns:
        lo, hi = field_range(name)
        vals = [v for v in pd.unique(design.table[name]) if _outside(v, lo, hi)]
        if vals:
            bad[name] = vals
    return bad


def _outside(v: Any, lo: float | None, hi: float | None) -> bool:
    if isinstance(v, (bool, str)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return (lo is not None and v < lo) or (hi is not None and v > hi)


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """One seed per replicate index, spawned from ``SeedSequence(root_seed)``; each in ``[0, 2**63)``."""
    children = np.random.SeedSequence(int(root_seed)).spawn(int(replicates))
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def run_table(exp: Experiment, design: DesignPoints) -> pd.DataFrame:
    """Every run of the sweep: ``run_id``, ``point``, ``replicate``, ``seed`` and the parameters.

    ``run_id = point * replicates + replicate``: stable across reruns of the same experiment.
    """
    seeds = replicate_seeds(exp.root_seed, exp.replicates)
    n, r = design.n, exp.replicates
    point = np.repeat(np.arange(n), r)
    rep = np.tile(np.arange(r), n)
    runs = pd.DataFrame(
        {"run_id": point * r + rep, "point": point, "replicate": rep, "seed": np.array(seeds, dtype=np.int64)[rep]}
    )
    params = design.table.iloc[point].reset_index(drop=True)
    return pd.concat([runs, params], axis=1)
