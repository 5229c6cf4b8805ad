"""Sweeps: experiment validation, seeds, executor independence, failures, kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.explore.design import make_design, replicate_seeds, run_table
from sim.explore.executors import ExecutorSpec
from sim.explore.experiment import ExperimentError, load_experiment
from sim.explore.store import StoreError, SweepStore
from sim.explore.sweep import load_sweep, sweep

ROOT = Path(__file__).resolve().parents[1]

EXPERIMENT = """
scenario = "scenarios/teaching.toml"
design = "grid"
replicates = {replicates}
root_seed = 11
steps = {steps}
outputs = ["orgs_adopted", "people_benefiting", "value_social", "mean_fidelity", "time_to_50pct_places"]
timeseries = true
[parameters]
"organisations.q" = {q}
"levers.guardrails" = [0.0, 0.8]
"""


def write_exp(tmp: Path, name: str = "exp.toml", replicates: int = 2, steps: int = 8, q: str = "[0.2, 0.5]") -> Path:
    p = tmp / name
    p.write_text(EXPERIMENT.format(replicates=replicates, steps=steps, q=q))
    return p


# ------------------------------------------------------------------ the experiment file


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        ({"samples": "0"}, "field samples"),
        ({"bogus": "1"}, "field bogus: unknown key"),
        ({"design": '"halton"'}, "field design"),
        ({"outputs": '["no_such_output"]'}, "unknown output"),
    ],
)
def test_invalid_experiment_names_file_and_field(tmp_path: Path, edit: dict[str, str], needle: str) -> None:
    lines = EXPERIMENT.format(replicates=1, steps=4, q="[0.2]").splitlines()
    for key, val in edit.items():
        lines = [ln for ln in lines if not ln.startswith(f"{key} =")]
        lines.insert(1, f"{key} = {val}")
    p = tmp_path / "bad.toml"
    p.write_text("\n".join(lines))
    res = CliRunner().invoke(app, ["sweep", str(p), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert str(p) in text.replace("\n", "") or "bad.toml" in text
    assert needle in text
    if needle == "field samples":
        assert "allowed range [1, 1000000]" in text


def test_unknown_parameter_and_lhs_bounds_are_rejected(tmp_path: Path) -> None:
    p = write_exp(tmp_path, q="[0.2]")
    p.write_text(p.read_text().replace('"levers.guardrails"', '"levers.no_such_lever"'))
    with pytest.raises(ExperimentError, match=r"levers\.no_such_lever.*not a scenario parameter"):
        load_experiment(p)
    p.write_text(EXPERIMENT.format(replicates=1, steps=4, q="[0.5, 0.2]").replace('"grid"', '"lhs"'))
    with pytest.raises(ExperimentError, match=r"parameters\.organisations\.q.*low < high"):
        load_experiment(p)


def test_a_key_of_a_table_is_swept_with_the_rest_of_its_table(tmp_path: Path) -> None:
    """``value.site_cost_sek.project`` on a preset whose file states no ``site_cost_sek``: every run completes with
    the other forms' costs at the schema's defaults, and the dearer project costs more; a key the table does not
    have is refused up front (exit 2, nothing written)."""
    from sim.scenario import ValueParams

    p = tmp_path / "cost.toml"
    p.write_text('scenario = "teaching"\ndesign = "grid"\nreplicates = 2\nroot_seed = 3\nsteps = 24\n'
                 'outputs = ["cost"]\n[parameters]\n"value.site_cost_sek.project" = [20000, 120000]\n')
    assert "site_cost_sek" not in (ROOT / "scenarios" / "teaching.toml").read_text()
    res = CliRunner().invoke(app, ["sweep", str(p), "--out", str(tmp_path / "o"), "--in-process"])
    assert res.exit_code == 0, res.output
    _, _, results, failures = load_sweep(tmp_path / "o")
    assert len(results) == 4 and failures.empty
    cost = results.pivot(index="replicate", columns="value.site_cost_sek.project", values="cost")
    assert (cost[120000] > cost[20000]).all(), cost  # same seeds, only the project cost differs
    assert ValueParams().site_cost_sek["alliance"] == 45_000.0
    p.write_text(p.read_text().replace(".project", ".projects"))
    bad = CliRunner().invoke(app, ["sweep", str(p), "--out", str(tmp_path / "o2"), "--in-process"])
    assert bad.exit_code == 2 and "'projects' is not a key of value.site_cost_sek; allowed: project, alliance" in (
        " ".join(bad.output.split())), bad.output
    assert not (tmp_path / "o2").exists()


def test_seeds_common_random_numbers(tmp_path: Path) -> None:
    exp, _ = load_experiment(write_exp(tmp_path, replicates=3))
    runs = run_table(exp, make_design(exp))
    assert len(runs) == 4 * 3 and runs["run_id"].is_unique
    by_rep = runs.groupby("replicate")["seed"].nunique()
    assert (by_rep == 1).all()  # same replicate -> same seed at every design point
    assert runs.groupby("replicate")["seed"].first().is_unique  # replicates differ
    assert replicate_seeds(11, 3) == replicate_seeds(11, 3)
    assert replicate_seeds(11, 3)[:2] == replicate_seeds(11, 2)  # adding replicates keeps earlier seeds


def test_design_sizes_and_integer_rounding(tmp_path: Path) -> None:
    p = tmp_path / "d.toml"
    base = 'scenario = "teaching"\noutputs = ["orgs_adopted"]\nsamples = 4\n'
    params = '[parameters]\n"organisations.q" = [0.1, 0.5]\n"places.n" = [3, 12]\n'
    for design, n in (("lhs", 4), ("sobol", 4 * (2 + 2)), ("morris", 4 * 3)):
        p.write_text(base + f'design = "{design}"\n' + params)
        exp, _ = load_experiment(p)
        d = make_design(exp)
        assert d.n == n
        assert d.table["places.n"].dtype == np.int64 and d.table["places.n"].between(3, 12).all()
        assert d.table["organisations.q"].between(0.1, 0.5).all()


# ------------------------------------------------------------------ executors give identical results


def test_identical_results_in_process_two_workers_and_dask(tmp_path: Path) -> None:
    exp, base = load_experiment(write_exp(tmp_path))
    specs = {
        "in-process": ExecutorSpec("in-process"),
        "workers-1": ExecutorSpec("process", workers=1),
        "workers-2": ExecutorSpec("process", workers=2),
        "dask-local-2": ExecutorSpec("dask", workers=2),
    }
    frames, series = {}, {}
    for name, spec in specs.items():
        rep = sweep(exp, base, tmp_path / name, spec, batch_size=3)
        assert (rep.completed, rep.failed) == (8, 0)
        _, _, frames[name], fails = load_sweep(tmp_path / name)
        assert fails.empty
        series[name] = SweepStore(tmp_path / name).load_timeseries()
    ref = frames["in-process"]
    assert list(ref.columns[:6]) == ["run_id", "point", "replicate", "seed", "organisations.q", "levers.guardrails"]
    assert ref["run_id"].tolist() == list(range(8))
    assert ref["orgs_adopted"].nunique() > 1  # the parameters matter, so equality is not vacuous
    for name in specs:
        pd.testing.assert_frame_equal(frames[name], ref, check_exact=True)
        pd.testing.assert_frame_equal(series[name], series["in-process"], check_exact=True)
    assert len(series["in-process"]) == 8 * 9  # steps 0..8 per run


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sweep_on_a_separately_started_dask_cluster(tmp_path: Path) -> None:
    """`sim sweep --scheduler tcp://...` against a scheduler and workers started as a user would."""
    from distributed import Client

    exp_file = write_exp(tmp_path)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker")]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs[0], stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    ]
    try:
        with Client(address, timeout=60) as client:  # waits for the scheduler to come up
            procs.append(subprocess.Popen(
                [*dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                 "--local-directory", str(tmp_path / "dask-worker")],
                stdout=logs[1], stderr=subprocess.STDOUT, cwd=tmp_path,
            ))
            client.wait_for_workers(2, timeout=120)
            res = subprocess.run(
                [sys.executable, "-m", "sim", "sweep", str(exp_file), "--out", str(tmp_path / "dask"),
                 "--scheduler", address],
                capture_output=True, text=True, timeout=600, cwd=ROOT,
            )
            assert res.returncode == 0, res.stdout + res.stderr
            prefixes = client.run_on_scheduler(
                lambda dask_scheduler: {k: sum(p.state_counts.values()) for k, p in dask_scheduler.task_prefixes.items()}
            )
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        for log in logs:
            log.close()
    manifest, _, frame, fails = load_sweep(tmp_path / "dask")
    assert fails.empty and manifest["status"] == "complete"
    assert address in manifest["executor"]
    exp, base = load_experiment(exp_file)
    sweep(exp, base, tmp_path / "ref", ExecutorSpec("in-process"))
    _, _, ref, _ = load_sweep(tmp_path / "ref")
    pd.testing.assert_frame_equal(frame, ref, check_exact=True)
    assert prefixes and all(n > 0 for n in prefixes.values()), prefixes  # the runs went through this cluster


def test_other_experiment_in_same_folder_is_refused(tmp_path: Path) -> None:
    exp, base = load_experiment(write_exp(tmp_path, steps=3))
    sweep(exp, base, tmp_path / "o", ExecutorSpec("in-process"))
    exp2, base2 = load_experiment(write_exp(tmp_path, name="other.toml", steps=4))
    with pytest.raises(StoreError, match="different experiment"):
        sweep(exp2, base2, tmp_path / "o", ExecutorSpec("in-process"))


def test_a_store_of_another_model_code_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resuming a sweep after the model's code changed would mix runs of two models: refused, naming the code."""
    import sim.api

    exp, base = load_experiment(write_exp(tmp_path, steps=3))
    sweep(exp, base, tmp_path / "o", ExecutorSpec("in-process"))
    sweep(exp, base, tmp_path / "o", ExecutorSpec("in-process"))  # same code: resumes (nothing left to run)
    monkeypatch.setattr(sim.api, "code_fingerprint", lambda: "another model")
    with pytest.raises(StoreError, match="model code"):
        sweep(exp, base, tmp_path / "o", ExecutorSpec("in-process"))


# ------------------------------------------------------------------ failures


def test_failing_run_is_recorded_and_the_rest_complete(tmp_path: Path) -> None:
    p = write_exp(tmp_path, replicates=3, steps=5, q="[0.3, 1.5]")  # q = 1.5 is outside [0, 1]
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["sweep", str(p), "--out", str(out), "--in-process"])
    assert res.exit_code == 3, res.output  # exit 3: some runs failed (2 guardrail levels x 3 replicates at q = 1.5)
    text = " ".join(res.output.split())
    assert "outside the scenario's allowed range" in text and "6 of 12 run(s) failed" in text
    manifest, _, results, failures = load_sweep(out)
    assert manifest["runs_failed"] == 6 and manifest["status"] == "incomplete"
    assert len(results) == 6 and (results["organisations.q"] == 0.3).all()
    assert len(failures) == 6 and (failures["organisations.q"] == 1.5).all()
    rec = json.loads(sorted((out / "failures").glob("*.json"))[0].read_text())
    assert {"run_id", "seed", "replicate", "organisations.q", "levers.guardrails", "error", "traceback"} <= set(rec)
    assert "organisations.q" in rec["error"] and "allowed range [0.0, 1.0]" in rec["error"]
    # a rerun retries only the failed runs (which fail again) and keeps the rest
    res2 = CliRunner().invoke(app, ["sweep", str(p), "--out", str(out), "--in-process"])
    assert res2.exit_code == 3
    assert "6 already present, 0 completed, 6 failed" in " ".join(res2.output.split())


# ------------------------------------------------------------------ kill -9 and resume


def _all_files_readable(out: Path, in_flight_ok: bool = False) -> None:
    """Every visible file is whole. A SIGKILL can land inside an atomic write and leave its hidden
    ``.<name>.<id>.tmp`` (readers never glob it; the store removes them when it opens): allowed only
    right after a kill (``in_flight_ok``), never after a completed run."""
    for f in out.rglob("*"):
        if f.is_dir() or f.name == ".lock":
            continue
        if in_flight_ok and f.name.startswith(".") and f.name.endswith(".tmp"):
            continue
        assert not f.name.endswith(".tmp"), f"temporary file left: {f}"
        if f.suffix == ".parquet":
            pq.read_table(f)
        elif f.suffix == ".json":
            json.loads(f.read_text())


@pytest.mark.slow
def test_sigkill_half_way_then_rerun_completes_each_run_once(tmp_path: Path) -> None:
    p = write_exp(tmp_path, replicates=8, steps=10)  # 32 runs
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "sim", "sweep", str(p), "--out", str(out), "--workers", "2", "--batch-size", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("part-*.parquet"))) < 4:
        assert proc.poll() is None, "sweep ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = SweepStore(out).done_ids()
    assert 4 <= len(before) < 32, "the kill should land half-way"
    _all_files_readable(out, in_flight_ok=True)  # no half-written part is visible
    time.sleep(1.5)  # pool workers notice their parent is gone and exit

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already present" in " ".join(done.stderr.split())
    _all_files_readable(out)
    ids = np.concatenate([pq.read_table(f).column("run_id").to_numpy() for f in (out / "runs").glob("part-*")])
    assert sorted(ids.tolist()) == list(range(32))  # every run exactly once
    sids = pd.read_parquet(out / "timeseries")[["run_id", "step"]]
    assert not sids.duplicated().any() and sids["run_id"].nunique() == 32

    # and the resumed result equals an uninterrupted sweep
    exp, base = load_experiment(p)
    sweep(exp, base, tmp_path / "ref", ExecutorSpec("in-process"))
    pd.testing.assert_frame_equal(load_sweep(out)[2], load_sweep(tmp_path / "ref")[2], check_exact=True)
