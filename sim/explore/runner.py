"""The unit of work of every sweep, comparison and fit: one scenario, one seed, one run.

:func:`execute` is a plain top-level function of a picklable :class:`RunTask`, so any
``concurrent.futures`` executor (in-process, process pool, Dask) can run it. It never
raises for a failing run: the error is returned in the :class:`RunOutcome`, so a
sweep records it and goes on.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RunTask:
    """What to run: the base scenario dict, dotted overrides, seed, steps and outputs to keep."""

    run_id: int
    seed: int
    base: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    outputs: tuple[str, ...] = ()
    timeseries: bool = False
    source: str = "<sweep>"


@dataclass
class RunOutcome:
    """What a run gave: outputs (final values / summary figures), optional series, or an error."""

    run_id: int
    ok: bool
    outputs: dict[str, float] = field(default_factory=dict)
    series: pd.DataFrame | None = None
    error: str = ""
    traceback: str = ""
    seconds: float = 0.0


def outputs_of(result: Any, outputs: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Final value of each named output of a :class:`sim.api.RunResult` (summary figures first), as floats."""
    summary = result.summary()
    out: dict[str, float] = {}
    for name in outputs:
        v = summary[name] if name in summary else result.model[name].iloc[-1]
        out[name] = float(v) if v is not None else math.nan
    return out


def execute(task: RunTask) -> RunOutcome:
    """Run one task through :func:`sim.api.run`; never raises for a failing run."""
    from sim.api import run
    from sim.scenario import apply_overrides, scenario_from_dict

    t0 = time.perf_counter()
    try:
        params = {k: _plain(v) for k, v in task.params.items()}
        scenario = scenario_from_dict(apply_overrides(task.base, params), source=f"{task.source} run {task.run_id}")
        result = run(scenario, seed=task.seed, steps=task.steps)
        outs = outputs_of(result, task.outputs)
        series = None
        if task.timeseries:
            cols = ["step", "month", *[o for o in task.outputs if o in result.model.columns]]
            series = result.model[cols].astype({c: np.float64 for c in cols[2:]}).copy()
            series.insert(0, "run_id", np.int64(task.run_id))
        return RunOutcome(task.run_id, True, outs, series, seconds=time.perf_counter() - t0)
    except Exception as err:  # noqa: BLE001 - a failing run is data, not a crash
        return RunOutcome(
            task.run_id, False, error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
            seconds=time.perf_counter() - t0,
        )


def _plain(v: Any) -> Any:
    """NumPy scalars to Python scalars (TOML-like values the scenario schema accepts)."""
    return v.item() if isinstance(v, np.generic) else v
