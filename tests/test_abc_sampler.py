"""OrderedSampler: ABC-SMC gives the same bytes for the same seed, whatever the number of worker processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pyabc = pytest.importorskip("pyabc")

from sim.explore.abc_sampler import OrderedSampler  # noqa: E402
from sim.explore.calibrate import abc_smc  # noqa: E402

BOUNDS = {"g.mu": (-3.0, 3.0), "g.log_sd": (-1.5, 1.0)}
TRUE = {"g.mu": 0.7, "g.log_sd": 0.0}
_CALLS = multiprocessing.Value("l", 0)  # counts simulations, in this process and in forked workers


def gaussian(theta: dict[str, float], seed: int) -> np.ndarray:
    """Cheap model: mean and sd of 20 normal draws, and a noisier third statistic on another scale."""
    with _CALLS.get_lock():
        _CALLS.value += 1
    x = np.random.default_rng(seed).normal(theta["g.mu"], np.exp(theta["g.log_sd"]), size=20)
    return np.array([x.mean(), x.std(), 10.0 * x[:3].mean()])


TARGET = gaussian(TRUE, 12345)
ROOT = Path(__file__).resolve().parents[1]


def _history(db: Path) -> pd.DataFrame:
    h = pyabc.History(f"sqlite:///{db}")
    pops = h.get_all_populations()[["t", "samples", "epsilon"]].sort_values("t").reset_index(drop=True)
    return pops


def _fit(tmp: Path, name: str, *, workers: int, seed: int, distance: str, stepwise: bool = False):  # noqa: ANN202
    db = tmp / f"{name}.db"
    _CALLS.value = 0
    if stepwise:  # as sim forecast does: one generation per call, resuming the database
        for g in (1, 2, 3):
            res = abc_smc(gaussian, BOUNDS, TARGET, db, population_size=30, generations=g, workers=workers,
                          seed=seed + g, distance=distance)
    else:
        res = abc_smc(gaussian, BOUNDS, TARGET, db, population_size=30, generations=3, workers=workers, seed=seed,
                      distance=distance)
    return res, _history(db), int(_CALLS.value)


@pytest.mark.parametrize("distance", ["rmse", "adaptive"])
def test_one_and_two_workers_give_the_same_bytes(tmp_path: Path, distance: str) -> None:
    one, h1, calls1 = _fit(tmp_path, "one", workers=1, seed=5, distance=distance)
    two, h2, calls2 = _fit(tmp_path, "two", workers=2, seed=5, distance=distance)
    assert one.populations == two.populations == 3
    pd.testing.assert_frame_equal(one.posterior, two.posterior, check_exact=True)
    assert one.posterior.to_csv().encode() == two.posterior.to_csv().encode()
    assert one.epsilons == two.epsilons and one.epsilons[2] < one.epsilons[0]
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)  # nr of evaluations per generation too
    # every simulation is counted, in forked workers as here, and the batches (run whole) are the same
    assert calls1 == calls2 >= int(h1["samples"].sum())
    # the posterior is a fit, not noise: the true mean is inside its range
    assert one.posterior["g.mu"].min() < TRUE["g.mu"] < one.posterior["g.mu"].max()


def test_resumed_one_generation_per_call_is_reproducible(tmp_path: Path) -> None:
    one, h1, calls1 = _fit(tmp_path, "one", workers=1, seed=9, distance="rmse", stepwise=True)
    two, h2, calls2 = _fit(tmp_path, "two", workers=2, seed=9, distance="rmse", stepwise=True)
    pd.testing.assert_frame_equal(one.posterior, two.posterior, check_exact=True)
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert one.epsilons == two.epsilons and calls1 == calls2


def test_another_seed_gives_another_posterior(tmp_path: Path) -> None:
    a, ha, _ = _fit(tmp_path, "a", workers=2, seed=5, distance="rmse")
    b, hb, _ = _fit(tmp_path, "b", workers=2, seed=6, distance="rmse")
    assert not a.posterior.equals(b.posterior)
    assert not np.isin(a.posterior["g.mu"].to_numpy(), b.posterior["g.mu"].to_numpy()).any()
    assert a.epsilons != b.epsilons


def _particle(threshold: float) -> pyabc.Particle:
    """A fake simulate_one: draws from the global numpy state the sampler seeded, accepts below ``threshold``."""
    u = float(np.random.uniform())
    return pyabc.Particle(m=0, parameter=pyabc.Parameter(u=u), weight=1.0, sum_stat={"u": u}, distance=u,
                          accepted=u < threshold)


@pytest.mark.parametrize(("workers", "batch"), [(1, None), (2, None), (2, 1), (1, 7), (2, 1000)])
def test_sample_depends_on_seed_not_on_workers_or_batch(workers: int, batch: int | None) -> None:
    reference = OrderedSampler(1, seed=3)
    reference.sample_factory.record_rejected(True)
    ref = reference.sample_until_n_accepted(10, lambda: _particle(0.3), t=4)
    sampler = OrderedSampler(workers, seed=3, batch=batch)
    sampler.sample_factory.record_rejected(True)
    state = np.random.get_state()
    got = sampler.sample_until_n_accepted(10, lambda: _particle(0.3), t=4)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])  # the caller's global state is untouched
    assert got.ok and got.n_accepted == 10
    assert [p.distance for p in got.accepted_particles] == [p.distance for p in ref.accepted_particles]
    assert [p.distance for p in got.rejected_particles] == [p.distance for p in ref.rejected_particles]
    assert sampler.nr_evaluations_ == reference.nr_evaluations_ == 10 + len(ref.rejected_particles)
    assert all(p.distance < 0.3 for p in got.accepted_particles) and all(p.distance >= 0.3 for p in got.rejected_particles)
    assert sampler.simulations_run_ >= sampler.nr_evaluations_  # the tail of the last batch is run, not counted
    other = OrderedSampler(workers, seed=3, batch=batch).sample_until_n_accepted(10, lambda: _particle(0.3), t=5)
    assert [p.distance for p in other.accepted_particles] != [p.distance for p in ref.accepted_particles]


def test_max_eval_stops_with_a_sample_not_ok() -> None:
    sampler = OrderedSampler(2, seed=0)
    sample = sampler.sample_until_n_accepted(5, lambda: _particle(0.01), t=0, max_eval=12)
    assert not sample.ok and sampler.nr_evaluations_ == 12 and sampler.simulations_run_ == 12


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="workers"):
        OrderedSampler(0, seed=0)
    with pytest.raises(ValueError, match="batch"):
        OrderedSampler(2, seed=0, batch=0)


def test_cli_forecast_with_two_workers_is_byte_identical(tmp_path: Path) -> None:
    sc = tmp_path / "s.toml"
    sc.write_text('extends = "district"\n[run]\nstart = "2020-01"\ndt = 3.0\nsteps = 24\n'
                  '[calibration]\nparams = { "organisations.q" = [0.1, 0.6] }\npopulation = 12\ngenerations = 2\n'
                  'draws = 10\n', encoding="utf-8")
    obs = tmp_path / "obs.csv"
    obs.write_text("date,output,value,source\n2020-12,orgs_adopted,5,a\n2021-06,orgs_adopted,7,b\n", encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    runs = {out: subprocess.Popen([sys.executable, "-m", "sim", "forecast", str(sc), "--observed", str(obs), "--until",
                                   "2022-06", "--out", out, "--workers", str(workers)], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # this tree's sim
            for out, workers in (("a", 2), ("b", 2), ("c", 1))}  # at the same time: timing must not matter
    got = {}
    for out, proc in runs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        summary = json.loads((tmp_path / out / "forecast.json").read_text())
        got[out] = {"forecast.csv": (tmp_path / out / "forecast.csv").read_bytes(),
                    "posterior.csv": (tmp_path / out / "posterior.csv").read_bytes(),
                    "fit_simulations": summary["fit_simulations"], "epsilons": summary["epsilons"]}
    assert got["a"] == got["b"] == got["c"]
    assert got["a"]["fit_simulations"] > 12 * 2  # the shared counter counts the forked workers' runs


@pytest.mark.parametrize("distance", ["rmse", "adaptive"])
def test_every_particle_keeps_the_seed_of_the_run_it_was_accepted_with(tmp_path: Path, distance: str) -> None:
    """Rerunning a posterior row's parameters with its recorded seed gives the accepted run again, to the bit.

    The seed rides along in the summary (never in the distance), so the run is the one the fit accepted: its
    distance to the target is within the final epsilon. Fitted with two forked workers, where the seeds are drawn.
    """
    from sim.explore.calibrate import accepted_seeds, rmse_distance

    res, _, _ = _fit(tmp_path, "seeds", workers=2, seed=3, distance=distance)
    seeds = accepted_seeds(res.db, res.history_id, res.posterior)
    assert len(seeds) == len(res.posterior) and None not in seeds
    assert len(set(seeds)) == len(seeds)  # a fresh seed per simulation
    stored = {tuple(float(p.parameter[k.replace(".", "__")]) for k in BOUNDS): np.asarray(p.sum_stat["y"])
              for p in pyabc.History(f"sqlite:///{res.db}", _id=res.history_id).get_population().particles}
    for row, s in zip(res.posterior[list(BOUNDS)].itertuples(index=False), seeds, strict=True):
        theta = dict(zip(BOUNDS, map(float, row), strict=True))
        again = gaussian(theta, s)
        assert np.array_equal(again, stored[tuple(theta.values())])
        if distance == "rmse":
            assert rmse_distance({"y": again}, {"y": TARGET}) <= res.epsilons[-1] + 1e-12
