"""The public entry: build a model from parameters and a seed, run it, get its tables.

Everything outside the model (command line, sweeps, UI, reports) goes through here::

    from sim.api import run
    from sim.scenario import load_scenario

    result = run(load_scenario("teaching"), seed=1)
    result.model.tail()          # per-step model table (pandas)
    result.summary()             # headline figures
    result.write("out/")         # Parquet tables + manifest.json
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.dates import date_of
from sim.model import SocialInnovationModel
from sim.results import add_date_column, organisations_frame, places_frame, time_to_share
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    """The tables of one run."""

    scenario: Scenario
    seed: int
    steps: int
    model: pd.DataFrame
    organisations: pd.DataFrame
    places: pd.DataFrame
    places_series: pd.DataFrame = field(default_factory=pd.DataFrame)
    organisations_series: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_places: int = 0
    n_people: int = 0
    n_organisations: int = 0

    def summary(self) -> dict[str, Any]:
        """Headline figures of the run (final values and times to 50 %; months elapsed [months]).

        With ``run.start`` the calendar months of its month figures follow as ``"YYYY-MM"``
        strings (None where the month is NaN): ``start``, ``end_date`` (of ``months``),
        ``time_to_50pct_places_date`` and ``scaled_up_date``. Without it every figure is a number.
        """
        last = self.model.iloc[-1]
        out: dict[str, Any] = {
            "steps": self.steps,
            "months": float(last["month"]),
            "organisations": self.n_organisations,
            "orgs_adopted": int(last["orgs_adopted"]),
            "sites_running": int(last["sites_running"]),
            "sites_permanent": int(last["sites_permanent"]),
            "sites_discontinued": int(last["sites_discontinued"]),
            "survival_24_decided": float(last["survival_24"]),
            "survival_24_policy": float(last["survival_policy_24"]),
            "places": self.n_places,
            "places_reached": int(last["places_reached"]),
            "time_to_50pct_places": time_to_share(self.model, "places_reached", self.n_places),
            "people": self.n_people,
            "people_benefiting": int(last["people_benefiting"]),
            "mean_fidelity": float(last["mean_fidelity"]),
            "mean_fit": float(last["mean_fit"]),
            "value_social": float(last["value_social"]),
            "value_economic": float(last["value_economic"]),
            "cost": float(last["cost"]),
            "net_economic": float(last["net_economic"]),
            "scaled_up_month": _first_month(self.model, "scaled_up"),
            "intervention_cost_sek": float(last["intervention_cost_sek"]),
            "economic_value_net_sek": float(last["economic_value_net_sek"]),
        }
        spent_pv = float(last.get("intervention_cost_pv_sek", 0.0))
        # value per krona: net present economic value per SEK the interventions spent (present value)
        out["value_per_sek"] = out["economic_value_net_sek"] / spent_pv if spent_pv > 0 else float("nan")
        start = self.scenario.run.start
        if start is not None:
            out["start"] = start
            out["end_date"] = date_of(out["months"], start)
            out["time_to_50pct_places_date"] = date_of(out["time_to_50pct_places"], start)
            out["scaled_up_date"] = date_of(out["scaled_up_month"], start)
        return out

    def write(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write the tables as Parquet plus ``manifest.json`` into the folder ``out``, whole or not at all.

        The folder is built beside ``out`` and renamed into place once
        (:func:`sim.outdir.output_folder`): an interrupted write leaves no ``out``.
        An ``out`` holding an earlier result is replaced whole with ``overwrite``,
        refused otherwise (:class:`sim.outdir.OutputFolderError`).
        """
        from sim.outdir import output_folder

        with output_folder(out, overwrite=overwrite) as tmp:
            self.write_files(tmp)
        return Path(out)

    def write_files(self, folder: str | Path) -> Path:
        """Write the tables and ``manifest.json`` into the existing folder ``folder`` (``manifest.json`` last)."""
        folder = Path(folder)
        self.model.to_parquet(folder / "model.parquet", index=False)
        self.organisations.to_parquet(folder / "organisations.parquet", index=False)
        self.places.to_parquet(folder / "places.parquet", index=False)
        if len(self.places_series):
            self.places_series.to_parquet(folder / "places_series.parquet", index=False)
        if len(self.organisations_series):
            self.organisations_series.to_parquet(folder / "organisations_series.parquet", index=False)
        (folder / "manifest.json").write_text(json.dumps(self.manifest(), indent=2, default=str), encoding="utf-8")
        return folder

    def manifest(self) -> dict[str, Any]:
        """What produced this result: scenario as resolved, seed, version, git revision (and place data's hash)."""
        out = {
            "scenario": self.scenario.to_toml_dict(),
            "seed": self.seed,
            "steps": self.steps,
            "package": "sim",
            "version": __version__,
            "git_revision": git_revision(),
            "summary": self.summary(),
        }
        data = getattr(self.scenario.places, "data", None)
        if data:  # the user's place data: its SHA-256, so a changed file is seen
            import hashlib

            try:
                out["places_data_sha256"] = hashlib.sha256(Path(data).read_bytes()).hexdigest()
            except OSError:
                out["places_data_sha256"] = None
        return out


def _first_month(df: pd.DataFrame, col: str) -> float:
    hit = df.loc[df[col] > 0, "month"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def git_revision() -> str | None:
    """The git revision of the package's checkout, if any."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def source_fingerprint(root: Path) -> str:
    """sha256 (hex) of the Python sources under ``root``, path and bytes of each, in sorted path order."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """:func:`source_fingerprint` of the installed ``sim`` package (computed once per process).

    Unlike :func:`git_revision` it sees uncommitted edits and needs no checkout. Part of the key of
    an interrupted forecast (:func:`sim.validation.forecast_command.fit_key`): resuming after the
    model changed would mix populations simulated by two models, so any change starts afresh.
    """
    return source_fingerprint(Path(__file__).resolve().parent)


def build_model(
    scenario: Scenario, seed: int | None = None, collect_places: bool = False, collect_organisations: bool = False
) -> SocialInnovationModel:
    """A fresh model of ``scenario`` with root seed ``seed`` (optionally keeping per-step place/organisation tables)."""
    return SocialInnovationModel(
        scenario, seed=seed, collect_places=collect_places, collect_organisations=collect_organisations
    )


def run(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    collect_places: bool = False,
    collect_organisations: bool = False,
    on_step: Callable[[SocialInnovationModel], None] | None = None,
) -> RunResult:
    """Run ``scenario`` for ``steps`` steps (default ``scenario.run.steps``) and return its tables.

    ``on_step`` is called after every step (for progress bars).
    """
    model = build_model(scenario, seed, collect_places, collect_organisations)
    n_steps = scenario.run.steps if steps is None else int(steps)
    for _ in range(n_steps):
        model.step()
        if on_step is not None:
            on_step(model)
    return result_of(model)


def result_of(model: SocialInnovationModel) -> RunResult:
    """The tables of a model as it stands (with date columns when ``run.start`` is set: :mod:`sim.results`)."""
    organisations = organisations_frame(model.state)
    places = places_frame(model.state)
    start = model.params.run.start
    if start is not None:
        for col in ("funding_ended", "stop_month", "adopt_month"):
            add_date_column(organisations, col, col.removesuffix("_month") + "_date", start)
        add_date_column(places, "first_reached_month", "first_reached_date", start)
    return RunResult(
        scenario=model.params,
        seed=model.seed,
        steps=model.steps,
        model=model.collector.model_frame(),
        organisations=organisations,
        places=places,
        places_series=model.collector.places_series(),
        organisations_series=model.collector.organisations_series(),
        n_places=model.places.n,
        n_people=model.people.n,
        n_organisations=model.orgs.n,
    )
