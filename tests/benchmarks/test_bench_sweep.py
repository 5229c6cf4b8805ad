"""Sweep machinery overhead: the same runs bare and through ``sweep`` (in-process), side by side.

Skipped by default (``--benchmark-skip`` in pyproject); run with::

    pytest tests/benchmarks/test_bench_sweep.py --benchmark-only --benchmark-group-by=group

Both benchmarks execute the same 8 runs of the teaching preset (60 steps each). The
sweep one adds everything the machinery does: design, seeds, tasks, the executor
interface, Parquet parts with atomic renames, failure bookkeeping and the manifest
(including a ``git rev-parse``). It must stay within 10 % of the bare runs. A process
pool or Dask adds a fixed start-up cost (interpreters importing the model, about
2 s) that does not grow with the number of runs and is not counted here.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from sim.api import run
from sim.explore.design import make_design, run_table
from sim.explore.executors import ExecutorSpec
from sim.explore.experiment import load_experiment
from sim.explore.sweep import sweep
from sim.scenario import apply_overrides, scenario_from_dict

EXPERIMENT = """
scenario = "teaching"
design = "grid"
replicates = 2
root_seed = 3
steps = 60
outputs = ["orgs_adopted", "value_social", "time_to_50pct_places"]
[parameters]
"organisations.q" = [0.2, 0.4]
"levers.guardrails" = [0.0, 0.8]
"""

@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("bench")
    p = tmp / "bench.toml"
    p.write_text(EXPERIMENT)
    exp, base = load_experiment(p)
    return exp, base, tmp


def _bare(exp: Any, base: dict[str, Any]) -> int:
    runs = run_table(exp, make_design(exp)).to_dict("records")
    for r in runs:
        sc = scenario_from_dict(apply_overrides(base, {p: r[p] for p in exp.parameter_names}))
        run(sc, seed=r["seed"], steps=exp.steps).summary()
    return len(runs)


def test_bench_bare_runs(benchmark: Any, experiment: tuple[Any, dict[str, Any], Path]) -> None:
    exp, base, _ = experiment
    benchmark.group = "sweep-overhead"
    assert benchmark.pedantic(_bare, args=(exp, base), rounds=5, iterations=1, warmup_rounds=1) == 8


def test_bench_sweep_in_process(benchmark: Any, experiment: tuple[Any, dict[str, Any], Path]) -> None:
    exp, base, tmp = experiment
    counter = itertools.count()

    def fresh() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (exp, base, tmp / f"out{next(counter)}", ExecutorSpec("in-process")), {}

    benchmark.group = "sweep-overhead"
    rep = benchmark.pedantic(sweep, setup=fresh, rounds=5, iterations=1, warmup_rounds=1)
    assert rep.completed == 8 and rep.failed == 0

    # The assertion uses CPU time of this process (everything runs in it), measured in
    # interleaved pairs, so that other load on a shared machine does not decide it.
    bare_t, sweep_t = [], []
    for _ in range(3):
        t = time.process_time()
        _bare(exp, base)
        bare_t.append(time.process_time() - t)
        args, _ = fresh()
        t = time.process_time()
        sweep(*args)
        sweep_t.append(time.process_time() - t)
    overhead = min(sweep_t) / min(bare_t) - 1
    benchmark.extra_info["overhead_vs_bare_cpu"] = overhead
    assert overhead < 0.10, f"sweep machinery adds {overhead:.1%} CPU time over the bare runs"
