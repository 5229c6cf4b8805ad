"""The case library: presets, observed figures as package data, stored calibrations, cited figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import run
from sim.dates import month_index
from sim.scenario import list_presets, load_scenario
from sim.validation.cases import CASES, RESULTS, case_keys, observed_path, preset_path
from sim.validation.forecast import load_observed
from sim.validation.forecast_command import model_columns

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "cases.md").read_text(encoding="utf-8")
KEYS = case_keys()
SEEDS = (11, 12, 13)
KNOWN_MISSES = {
    "sociala-investeringsfonder": "a constant own-initiative rate fast enough for 64 funds by 2015 gives about 11, "
    "not 2, by the end of 2010 (docs/cases.md): the preset misses its first figure",
    "familjecentraler": "the 131 centres of 2008 are seeded across about 105 municipalities, so 246 centres sit in "
    "about 180 municipalities, not 158 (docs/cases.md): the model spreads centres wider than they are",
    "plug-in": "after the ESF cut the model keeps about 38 workshops running, not 60 (75 %), even with "
    "continue_unfunded near its upper quantile (docs/cases.md)",
}


def test_seven_cases_with_preset_and_data() -> None:
    assert len(KEYS) == len(CASES) == 7
    for key in KEYS:
        assert observed_path(key).exists(), key
        # data/cases/<case>.csv from the project root is the packaged file
        assert (ROOT / "data" / "cases" / f"{key}.csv").read_bytes() == observed_path(key).read_bytes()


def test_cases_are_listed_as_presets_and_load() -> None:
    presets = list_presets()
    for key in KEYS:
        assert f"cases/{key}" in presets
        sc = load_scenario(f"cases/{key}")
        assert sc.name == f"cases/{key}" and sc.run.start is not None and sc.calibration.params


@pytest.mark.parametrize("key", KEYS)
def test_observed_figures_are_valid_and_cited(key: str) -> None:
    sc = load_scenario(f"cases/{key}")
    obs = load_observed(observed_path(key), sc.run.start, model_columns())
    header = "\n".join(ln for ln in preset_path(key).read_text(encoding="utf-8").splitlines() if ln.startswith("#"))
    section = DOCS[DOCS.index(f"`scenarios/cases/{key}.toml`"):]
    for _, o in obs.iterrows():
        assert o["source"].strip(), (key, o["date"])
        value = f"{o['value']:g}"
        assert value in header and o["output"] in header and o["date"][:4] in header, (key, o["date"], value)
        assert value in section[:8000], (key, value)


@pytest.mark.parametrize(
    "key", [pytest.param(k, marks=pytest.mark.xfail(reason=KNOWN_MISSES[k], strict=True)) if k in KNOWN_MISSES else k
            for k in KEYS])
def test_preset_reproduces_its_figures_within_its_stated_band(key: str) -> None:
    """The stored band (docs/img/cases/<case>/forecast.json, from ``sim forecast``) holds every documented figure,
    and the preset at its stored parameters (posterior medians) simulates inside that band: the median of three
    seeded runs at each figure's date (a median of 3 leaves a 90 % band only if two runs do)."""
    stored = RESULTS / key / "forecast.json"
    if not stored.exists():
        pytest.skip(f"{key}: no stored calibration yet (python -m sim.validation.cases {key})")
    summary = json.loads(stored.read_text(encoding="utf-8"))
    outside = [(o["date"], o["output"], o["value"], o["lo90"], o["hi90"]) for o in summary["observed"] if not o["covered"]]
    assert not outside, f"{key}: documented figures outside the stored 90 % band: {outside}"
    sc = load_scenario(f"cases/{key}")
    obs = pd.DataFrame(summary["observed"])
    months = [month_index(d, sc.run.start) + 1 for d in obs["date"]]
    runs = [run(sc, seed=s, steps=max(months)).model for s in SEEDS]
    for (_, o), m in zip(obs.iterrows(), months, strict=True):
        sim = float(np.median([r.loc[r["month"] == m, o["output"]].iloc[0] for r in runs]))
        assert o["lo90"] <= sim <= o["hi90"], (key, o["date"], o["output"], sim, o["lo90"], o["hi90"])
