"""Which report a results folder gets: a run, a comparison or a sweep (``sim report DIR``).

A folder's kind is read from its ``manifest.json``: ``"kind": "compare"`` (written by
``sim compare``), ``"kind": "sweep"`` (``sim sweep``), or a run manifest beside
``model.parquet`` and ``places.parquet`` (``sim run``). Anything else is refused with
:class:`sim.report.page.ReportError` naming the folder and what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.report.page import ReportError

EXPECTED = ("expected a folder written by `sim run` (model.parquet, places.parquet, manifest.json), "
            "`sim compare` or `sim sweep` (manifest.json with kind 'compare' or 'sweep')")


def folder_kind(folder: Path) -> str:
    """``"run"``, ``"compare"`` or ``"sweep"``; :class:`ReportError` for any other folder."""
    if not folder.is_dir():
        raise ReportError(f"{folder}: {'is a file, not a folder' if folder.exists() else 'no such folder'}; "
                          f"{EXPECTED}")
    mf = folder / "manifest.json"
    if not mf.is_file():
        raise ReportError(f"{folder}: no manifest.json here ({EXPECTED})")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(f"{mf}: cannot read it ({type(err).__name__}: {err}); {EXPECTED}") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind in ("compare", "sweep"):
        return str(kind)
    if kind is None and isinstance(manifest, dict) and "scenario" in manifest:
        for needed in ("model.parquet", "places.parquet"):
            if not (folder / needed).is_file():
                raise ReportError(f"{folder}: no {needed} here (expected a folder written by `sim run`)")
        return "run"
    raise ReportError(f"{mf}: field kind is {kind!r}, allowed: 'compare', 'sweep' (or a `sim run` manifest); "
                      f"{EXPECTED}")


def write_report(folder: str | Path) -> Path:
    """Write the report of a run, comparison or sweep folder into it; return the ``report.html`` path."""
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind == "compare":
        from sim.report.compare_report import write_compare_report

        return write_compare_report(folder)
    if kind == "sweep":
        from sim.report.sweep_report import write_sweep_report

        return write_sweep_report(folder)
    from sim.report.run_report import write_run_report

    try:
        return write_run_report(folder)
    except (OSError, ValueError, KeyError) as err:  # a damaged table or manifest (pyarrow's errors are ValueErrors)
        raise ReportError(f"{folder}: cannot read the run's tables ({type(err).__name__}: {err})") from None
