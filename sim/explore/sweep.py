"""Run an experiment: every design point times every replicate, resumable, on any executor.

::

    from sim.explore.experiment import load_experiment
    from sim.explore.executors import ExecutorSpec
    from sim.explore.sweep import sweep

    exp, base = load_experiment("experiments/fidelity_vs_adaptation.toml")
    report = sweep(exp, base, "out/fva", ExecutorSpec("process", workers=2))
    report.failed            # runs that raised (recorded in out/fva/failures/)

Results do not depend on the executor, the number of workers or the order runs
finish in: every run's seed comes from the root seed and its replicate index only
(:func:`sim.explore.design.replicate_seeds`), and rows are stored by ``run_id``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.api import git_revision
from sim.explore.design import make_design, run_table
from sim.explore.executors import ExecutorSpec, open_executor
from sim.explore.experiment import Experiment, ExperimentError, fingerprint
from sim.explore.runner import RunOutcome, RunTask, execute
from sim.explore.store import StoreError, SweepStore

Progress = Callable[[int, int, int], None]
"""``progress(done, failed, total)``, called after every finished run (done includes earlier sessions)."""


@dataclass
class SweepReport:
    """How a sweep went: runs in total, already present before, completed and failed in this session."""

    out: Path
    total: int
    present_before: int
    completed: int
    failed: int
    seconds: float

    @property
    def missing(self) -> int:
        """Runs with no result after this session (failed ones)."""
        return self.total - self.present_before - self.completed


def sweep(
    exp: Experiment,
    base: dict[str, Any],
    out: str | Path,
    spec: ExecutorSpec | None = None,
    *,
    batch_size: int = 50,
    flush_seconds: float = 10.0,
    progress: Progress | None = None,
    experiment_file: str | Path | None = None,
) -> SweepReport:
    """Run (or finish) the sweep of ``exp`` into ``out``; return a :class:`SweepReport`.

    ``batch_size`` [runs] and ``flush_seconds`` [s]: results are committed to a new
    Parquet part when either is reached, so at most that much work is lost when the
    process is killed. Runs present in ``out`` are skipped; failed runs are retried.
    Raises :class:`StoreError` if ``out`` holds a different experiment or another
    sweep is writing to it.
    """
    spec = spec or ExecutorSpec()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out}: is a file, not a folder; choose another --out")
    store = SweepStore(out)
    design = make_design(exp)
    runs = run_table(exp, design)
    fp = fingerprint(exp, base)
    dtab = design.table.copy()
    dtab.insert(0, "point", range(design.n))
    if design.X is not None:
        for i, name in enumerate(design.table.columns):
            dtab[f"raw:{name}"] = design.X[:, i]
    check_table(dtab, experiment_file or exp.name)  # before anything is written
    t0 = time.perf_counter()
    # the executor first: an unreachable scheduler fails before the store exists
    with open_executor(spec) as (ex, slots), store.lock():
        store.prepare()
        old = store.read_manifest()
        if old is not None and old.get("fingerprint") != fp:
            raise StoreError(
                f"{out}: holds results of a different experiment, scenario or model code (fingerprint "
                f"{old.get('fingerprint')} != {fp}); use another --out"
            )
        store.write_design(dtab)
        manifest = _manifest(exp, base, fp, design.n, len(runs), spec, experiment_file, old)
        store.write_manifest(manifest)

        done = store.done_ids()
        todo = runs[~runs["run_id"].isin(done)].to_dict("records")
        present = len(runs) - len(todo)
        completed = failed = 0
        total = len(runs)
        if progress:
            progress(present, 0, total)
        buffer: list[dict[str, Any]] = []
        series: list[pd.DataFrame] = []
        last_flush = time.monotonic()

        def flush() -> None:
            nonlocal last_flush
            store.write_batch(buffer, series)
            buffer.clear()
            series.clear()
            last_flush = time.monotonic()

        params = exp.parameter_names
        try:
            window = max(2, 2 * slots)
            pending: dict[Future, dict[str, Any]] = {}
            queue = iter(todo)

            def refill() -> None:
                while len(pending) < window:
                    row = next(queue, None)
                    if row is None:
                        return
                    task = RunTask(
                        run_id=int(row["run_id"]), seed=int(row["seed"]), base=base,
                        params={p: row[p] for p in params}, steps=exp.steps, outputs=tuple(exp.outputs),
                        timeseries=exp.timeseries, source=str(experiment_file or exp.name),
                    )
                    pending[ex.submit(execute, task)] = row

            refill()
            while pending:
                finished, _ = wait(list(pending), timeout=flush_seconds, return_when=FIRST_COMPLETED)
                for fut in finished:
                    row = pending.pop(fut)
                    try:
                        outcome: RunOutcome = fut.result()
                    except BrokenProcessPool:
                        raise StoreError(
                            "a worker process died (out of memory?); rerun the same command to resume"
                        ) from None
                    except Exception as err:  # noqa: BLE001 - e.g. a Dask worker lost; retried on rerun
                        msg = f"executor: {type(err).__name__}: {err}"
                        outcome = RunOutcome(int(row["run_id"]), False, error=msg)
                    if outcome.ok:
                        buffer.append({**row, **outcome.outputs})
                        if outcome.series is not None:
                            series.append(outcome.series)
                        completed += 1
                    else:
                        store.record_failure(row, outcome)
                        failed += 1
                    if progress:
                        progress(present + completed, failed, total)
                if len(buffer) >= batch_size or time.monotonic() - last_flush >= flush_seconds:
                    flush()
                refill()
        finally:
            flush()
            n_failed = len(store.failures())
            manifest.update(
                status="complete" if n_failed == 0 and len(store.done_ids()) == total else "incomplete",
                runs_present=len(store.done_ids()), runs_failed=n_failed, updated=_now(),
            )
            store.write_manifest(manifest)
    return SweepReport(Path(out), total, present, completed, failed, time.perf_counter() - t0)


def check_table(table: pd.DataFrame, source: str | Path) -> None:
    """Refuse a design table Parquet cannot store (mixed types in a column): :class:`ExperimentError`."""
    import pyarrow as pa

    for col in table.columns:
        try:
            pa.array(table[col].tolist())
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
            raise ExperimentError(
                f"{source}: field parameters.{str(col).removeprefix('raw:')}: the values do not share one type "
                f"({type(err).__name__}: {str(err)[:120]})"
            ) from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest(
    exp: Experiment, base: dict[str, Any], fp: str, n_points: int, n_runs: int, spec: ExecutorSpec,
    experiment_file: str | Path | None, old: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "experiment": exp.to_dict(),
        "experiment_file": str(experiment_file) if experiment_file else None,
        "fingerprint": fp,
        "scenario": base,
        "root_seed": exp.root_seed,
        "design": exp.design,
        "parameters": exp.parameter_names,
        "outputs": exp.outputs,
        "n_points": n_points,
        "n_runs": n_runs,
        "package": "sim",
        "version": __version__,
        "git_revision": git_revision(),
        "executor": spec.describe(),
        "created": (old or {}).get("created", _now()),
        "updated": _now(),
        "status": "running",
    }


def load_sweep(out: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(manifest, design, results, failures)`` of a sweep folder; :class:`StoreError` if it is none."""
    store = SweepStore(out)
    manifest = store.read_manifest()
    if manifest is None or manifest.get("kind") != "sweep":
        raise StoreError(f"{out}: not a sweep folder (no sweep manifest.json)")
    return manifest, store.read_design(), store.load_results(), store.failures()
