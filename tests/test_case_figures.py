"""The live view's case table (sim.ui.case_figures): documented figures beside the run, without a browser."""

from __future__ import annotations

import json

import pandas as pd

from sim.api import run
from sim.dates import month_index
from sim.scenario import load_scenario
from sim.ui import case_figures as cf
from sim.validation.cases import RESULTS, observed_path


def test_case_key_is_read_from_the_preset() -> None:
    assert cf.case_key("cases/plug-in") == "plug-in"
    assert cf.case_key("cases/dua?seed=4") == "dua"
    assert cf.case_key("teaching") is None and cf.case_key("sweden-youth-employment") is None


def test_the_table_fills_in_as_the_run_passes_each_date() -> None:
    """Every documented figure is a row; before its date the run's cell is empty, after it the model's value."""
    key = "barnahus"
    sc = load_scenario(f"cases/{key}")
    obs = pd.read_csv(observed_path(key), dtype={"date": str})
    stored = {(o["date"], o["output"]): o for o in json.loads((RESULTS / key / "forecast.json").read_text())["observed"]}
    df = run(sc, seed=2, steps=60).model  # to the end of 2010
    rows = df.to_dict("records")
    table = cf.table(key, rows, "en")
    assert len(table) == len(obs)
    for r, (_, o) in zip(table, obs.iterrows(), strict=True):
        m = month_index(o["date"], sc.run.start) + 1
        assert r["date"] == o["date"] and r["source"] == o["source"]
        if m > 60:
            assert r["run"] == "–" and r["inside"] is None
            continue
        v = float(df.loc[df["month"] == m, o["output"]].fillna(0.0).iloc[0])
        assert cf.value_at(rows, o["output"], m) == v
        band = stored[(o["date"], o["output"])]
        lo, hi = band["replicate_lo90"], band["replicate_hi90"]  # the replicate check: fresh runs' band
        assert r["inside"] == (lo <= v <= hi)
    assert any(r["run"] == "–" for r in table) and any(r["run"] != "–" for r in table)


def test_numbers_speak_the_language() -> None:
    rows = [{"month": 0.0, "persons_reached": 0.0, "share_benefiting": float("nan")},
            {"month": 1.0, "persons_reached": 7800.0, "share_benefiting": 0.8}]
    assert cf.value_at(rows, "persons_reached", 1.0) == 7800.0
    assert cf.value_at(rows, "share_benefiting", 0.0) == 0.0  # a share of nothing counts as 0, as in the fit
    assert cf.value_at(rows, "persons_reached", 2.0) is None
    assert cf._show("persons_reached", 7800.0, "en") == "7,800"
    assert cf._show("persons_reached", 7800.0, "sv") == "7\u202f800"  # a narrow no-break space between thousands
    assert cf._show("share_benefiting", 0.8, "sv") == "80 %"


def test_every_case_figure_has_words_in_both_languages() -> None:
    """Each output a case's CSV names has a ``case_out_<output>`` text in Swedish and English (not the column name)."""
    from sim.validation.cases import case_keys

    outputs = {o for k in case_keys() for o in pd.read_csv(observed_path(k))["output"]}
    assert "regional_bodies_adopted" in outputs
    missing = sorted((o, lang) for o in outputs for lang in ("sv", "en") if cf.output_label(o, lang) == o)
    assert not missing, f"add case_out_<output> to sim.ui.i18n.TEXTS: {missing}"
    assert cf.output_label("regional_bodies_adopted", "sv") != cf.output_label("regional_bodies_adopted", "en")


def test_checked_figures_say_so() -> None:
    """A figure the calibration did not use (``fit = no`` in the CSV) is marked in the table, in each language."""
    key = "sociala-investeringsfonder"
    obs = pd.read_csv(observed_path(key), dtype={"fit": str}, keep_default_na=False)
    checked = set(obs.loc[obs["fit"] == "no", "output"])
    assert checked == {"regional_bodies_adopted", "places_preparing"}
    for lang, word in (("en", "checked, not fitted"), ("sv", "kontrolleras")):
        rows = cf.table(key, [], lang)
        marked = {o for o, r in zip(obs["output"], rows, strict=True) if word in r["what"]}
        assert marked == checked, (lang, marked)
    assert [r["date"] for r in cf.table("fritidsbanken", [], "en") if "checked" in r["what"]] == ["2025-01"]
    assert not any("checked" in r["what"] for r in cf.table("barnahus", [], "en"))  # a CSV without a fit column
