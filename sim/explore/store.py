"""The resumable on-disk store of a sweep.

Layout of ``DIR``::

    manifest.json            experiment, fingerprint, root seed, version, git revision, counts
    design.parquet           one row per design point (and the raw SALib matrix as raw:<name>)
    runs/part-*.parquet      result rows: run_id, point, replicate, seed, parameters, outputs
    timeseries/part-*.parquet  per-step outputs (run_id, step, month, ...) if asked for
    failures/run-*.json      one file per failed run: parameters, seed, error, traceback
    .lock                    held (flock) while a sweep writes here

Every file is written under a hidden temporary name in its final folder, flushed to
disk and then ``os.replace``'d, so a reader never sees half a file, and a sweep killed
at any instant (even by SIGKILL) leaves only complete parts plus temporary files that
the next run deletes. A batch's time-series part is written before its runs part;
the runs part is the commit record, so a time-series part without one is an orphan
of a killed sweep and is deleted too. A rerun runs exactly the run ids found in no
runs part, so every run ends up present exactly once.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.explore.runner import RunOutcome


class StoreError(RuntimeError):
    """The output folder cannot be used (another sweep holds it, or it holds another experiment)."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write ``df`` as Parquet to ``path`` atomically (temporary name, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    df.to_parquet(tmp, index=False)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SweepStore:
    """One sweep's folder (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.series_dir = self.root / "timeseries"
        self.failures_dir = self.root / "failures"

    # ------------------------------------------------------------------ housekeeping
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's lock; :class:`StoreError` if another sweep holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise StoreError(f"{self.root}: another sweep is writing here") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def prepare(self) -> int:
        """Create folders; delete temporary files and orphaned time-series parts. Returns files deleted."""
        for d in (self.runs_dir, self.series_dir, self.failures_dir):
            d.mkdir(parents=True, exist_ok=True)
        removed = 0
        for d in (self.root, self.runs_dir, self.series_dir, self.failures_dir):
            for f in d.glob(".*.tmp"):
                f.unlink(missing_ok=True)
                removed += 1
        committed = {p.name for p in self.runs_dir.glob("part-*.parquet")}
        for f in self.series_dir.glob("part-*.parquet"):
            if f.name not in committed:
                f.unlink(missing_ok=True)
                removed += 1
        return removed

    # ------------------------------------------------------------------ manifest and design
    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` if there is none yet."""
        p = self.root / "manifest.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` atomically."""
        atomic_write(self.root / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())

    def write_design(self, design: pd.DataFrame) -> None:
        """Write ``design.parquet`` atomically."""
        atomic_parquet(self.root / "design.parquet", design)

    def read_design(self) -> pd.DataFrame:
        """The design table."""
        return pd.read_parquet(self.root / "design.parquet")

    # ------------------------------------------------------------------ results
    def done_ids(self) -> set[int]:
        """Run ids present in some runs part."""
        ids: set[int] = set()
        for f in sorted(self.runs_dir.glob("part-*.parquet")):
            ids.update(int(x) for x in pq.read_table(f, columns=["run_id"]).column("run_id").to_pylist())
        return ids

    def write_batch(self, rows: list[dict[str, Any]], series: list[pd.DataFrame]) -> None:
        """Commit a batch: its time series first, then its runs part (the commit record)."""
        if not rows:
            return
        name = f"part-{min(r['run_id'] for r in rows):08d}-{uuid.uuid4().hex[:8]}.parquet"
        if series:
            atomic_parquet(self.series_dir / name, pd.concat(series, ignore_index=True))
        atomic_parquet(self.runs_dir / name, pd.DataFrame(rows))
        for r in rows:
            (self.failures_dir / f"run-{int(r['run_id']):08d}.json").unlink(missing_ok=True)

    def record_failure(self, row: dict[str, Any], outcome: RunOutcome) -> None:
        """Record a failed run (its parameters, seed, error and traceback) as one JSON file."""
        rec = {**row, "error": outcome.error, "traceback": outcome.traceback, "seconds": outcome.seconds}
        atomic_write(
            self.failures_dir / f"run-{int(row['run_id']):08d}.json", json.dumps(rec, indent=2, default=str).encode()
        )

    def failures(self) -> pd.DataFrame:
        """The failed runs not since completed, one row each (empty frame if none)."""
        done = self.done_ids()
        recs = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(self.failures_dir.glob("run-*.json"))]
        recs = [r for r in recs if int(r["run_id"]) not in done]
        return pd.DataFrame(recs)

    def load_results(self) -> pd.DataFrame:
        """Every result row, sorted by ``run_id``; :class:`StoreError` if a run id appears twice."""
        parts = [pd.read_parquet(f) for f in sorted(self.runs_dir.glob("part-*.parquet"))]
        if not parts:
            return pd.DataFrame()
        df = pd.concat(parts, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
        dup = df["run_id"].duplicated()
        if dup.any():
            raise StoreError(f"{self.runs_dir}: run ids present twice: {df.loc[dup, 'run_id'].tolist()[:10]}")
        return df

    def load_timeseries(self) -> pd.DataFrame:
        """Every stored time-series row, sorted by ``run_id`` and ``step``."""
        parts = [pd.read_parquet(f) for f in sorted(self.series_dir.glob("part-*.parquet"))]
        if not parts:
            return pd.DataFrame()
        return pd.concat(parts, ignore_index=True).sort_values(["run_id", "step"]).reset_index(drop=True)
