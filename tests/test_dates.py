"""Calendar time: ``run.start`` and the date columns (issue 11, item 2)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.api import run
from sim.cli import app
from sim.dates import date_of, dates_of, month_index, parse_year_month
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

TINY = {"places": {"n": 2, "population_mean": 400.0}, "organisations": {"base_per_place": 3, "initial_adopters": 2}}


def tiny(**run: object) -> dict:
    return {**TINY, "run": dict(run)}


# ------------------------------------------------------------------ the helper


@pytest.mark.parametrize(
    ("month", "start", "want"),
    [
        (0.0, "2027-01", "2027-01"),
        (0.99, "2027-01", "2027-01"),
        (1.0, "2027-01", "2027-02"),
        (11.0, "2027-01", "2027-12"),
        (12.0, "2027-01", "2028-01"),
        (1.0, "2027-12", "2028-01"),  # over a year end
        (25.5, "2027-11", "2029-12"),
        (26.0, "2027-11", "2030-01"),
        (-1.0, "2027-01", "2026-12"),
        (-0.5, "2027-01", "2026-12"),
        (1 / 3 * 3, "2027-01", "2027-02"),
        (0.1 + 0.2 + 0.7, "2027-01", "2027-02"),  # 0.9999999999999999 is month 1, not 0
    ],
)
def test_date_of(month: float, start: str, want: str) -> None:
    assert date_of(month, start) == want


@pytest.mark.parametrize(
    ("date", "start", "want"),
    [("2027-01", "2027-01", 0), ("2027-12", "2027-01", 11), ("2028-01", "2027-01", 12), ("2029-01", "2027-01", 24),
     ("2026-12", "2027-01", -1), ("2028-02", "2027-12", 2), ("2200-12", "1900-01", 301 * 12 - 1)],
)
def test_month_index(date: str, start: str, want: int) -> None:
    assert month_index(date, start) == want
    assert date_of(float(want), start) == date


@given(st.integers(1900, 2200), st.integers(1, 12), st.integers(-5000, 5000))
def test_month_index_and_date_of_are_inverse(year: int, month: int, k: int) -> None:
    start = f"{year:04d}-{month:02d}"
    d = date_of(float(k), start)
    assert d is not None and len(d) == 7 and d[4] == "-"
    y, m = int(d[:4]), int(d[5:])
    assert 1 <= m <= 12 and (y * 12 + m) - (year * 12 + month) == k
    if 1900 <= y <= 2200:
        assert month_index(d, start) == k
        assert pd.Period(d, "M") - pd.Period(start, "M") == k * pd.offsets.MonthEnd()


def test_dates_of_vectorised_and_nan() -> None:
    got = dates_of(np.array([0.0, np.nan, 11.5, 12.0, 12.0]), "2027-01")
    assert got.tolist() == ["2027-01", None, "2027-12", "2028-01", "2028-01"]
    assert date_of(math.nan, "2027-01") is None
    assert dates_of(np.array([]), "2027-01").tolist() == []


@pytest.mark.parametrize("bad", ["2027-13", "2027-00", "2027-1", "27-01", "2027-01-15", " 2027-01", "2027/01",
                                 "1899-12", "2201-01", "", "janvier", "２０２７-01"])
def test_parse_year_month_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_year_month(bad)


def test_parse_year_month_bounds() -> None:
    assert parse_year_month("1900-01") == (1900, 1) and parse_year_month("2200-12") == (2200, 12)


# ------------------------------------------------------------------ the field


def test_start_default_none_and_valid() -> None:
    assert scenario_from_dict({}).run.start is None
    assert scenario_from_dict({"run": {"start": "2027-01"}}).run.start == "2027-01"
    assert load_scenario("teaching", ['run.start="2030-06"']).run.start == "2030-06"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("2027-13", "month 13 does not exist"), ("2027-1", "not a date"), ("1850-01", "year 1850 is out of range"),
     (2027, "a string"), (202701, "a string"), (True, "a string")],
)
def test_start_invalid_names_file_field_and_allowed(value: object, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"run": {"start": value}}, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml") and "run.start" in msg and fragment in msg, msg
    if isinstance(value, str):
        assert "1900-01 to 2200-12" in msg


def test_start_as_a_toml_date_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('extends = "teaching"\n[run]\nstart = 2027-01-01\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"run\.start: Input should be a string \(in quotes\), not date"):
        load_scenario(f)


# ------------------------------------------------------------------ the tables


def test_no_start_no_date_columns() -> None:
    res = run(scenario_from_dict(tiny()), seed=1, steps=3, collect_places=True, collect_organisations=True)
    for df in (res.model, res.places, res.organisations, res.places_series, res.organisations_series):
        assert not [c for c in df.columns if c == "date" or c.endswith("_date")], df.columns
    assert not [k for k in res.summary() if "date" in k or k == "start"]


def test_date_columns_with_start() -> None:
    sc = scenario_from_dict(tiny(start="2027-11", dt=0.5))
    res = run(sc, seed=1, steps=6, collect_places=True, collect_organisations=True)
    m = res.model
    assert list(m.columns[:3]) == ["step", "month", "date"]
    assert m["date"].tolist() == ["2027-11", "2027-11", "2027-12", "2027-12", "2028-01", "2028-01", "2028-02"]
    ps = res.places_series
    assert list(ps.columns[:2]) == ["step", "date"] and len(ps) == 7 * 2
    assert ps.groupby("step")["date"].first().tolist() == m["date"].tolist()
    os_ = res.organisations_series
    assert list(os_.columns[:2]) == ["step", "date"] and isinstance(os_["date"].dtype, pd.CategoricalDtype)
    assert os_.groupby("step", observed=True)["date"].first().astype(str).tolist() == m["date"].tolist()
    o = res.organisations
    assert list(o.columns).index("adopt_date") == list(o.columns).index("adopt_month") + 1
    had = o["adopt_month"].notna()
    assert had.any() and o.loc[had, "adopt_date"].tolist() == [date_of(x, "2027-11") for x in o.loc[had, "adopt_month"]]
    assert o.loc[~had, "adopt_date"].isna().all() and "stop_date" in o and "funding_ended_date" in o
    p = res.places
    assert list(p.columns).index("first_reached_date") == list(p.columns).index("first_reached_month") + 1
    # the same run without start: the same numbers, no dates
    plain = run(scenario_from_dict(tiny(dt=0.5)), seed=1, steps=6)
    pd.testing.assert_frame_equal(m.drop(columns="date"), plain.model)


def test_summary_dates() -> None:
    sc = scenario_from_dict({**tiny(start="2027-01"), "scaling_up": {"enabled": True},
                             "levers": {"advocacy": 1.0}})
    res = run(sc, seed=3, steps=14)
    s = res.summary()
    assert s["start"] == "2027-01" and s["months"] == 14.0 and s["end_date"] == "2028-03"
    assert s["scaled_up_month"] == s["scaled_up_month"]  # advocacy 1: in force at once
    assert s["scaled_up_date"] == date_of(s["scaled_up_month"], "2027-01")
    want = None if math.isnan(s["time_to_50pct_places"]) else date_of(s["time_to_50pct_places"], "2027-01")
    assert s["time_to_50pct_places_date"] == want


def test_cli_run_writes_dates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "teaching", "--steps", "2", "--set", 'run.start="2027-12"', "--out", str(out),
                                   "--no-report", "--places-series"])
    assert res.exit_code == 0, res.output
    assert "scaled_up_date" in res.output and "2028-02" in res.output
    assert pd.read_parquet(out / "model.parquet")["date"].tolist() == ["2027-12", "2028-01", "2028-02"]
    assert pd.read_parquet(out / "places_series.parquet")["date"].iloc[-1] == "2028-02"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["run"]["start"] == "2027-12" and manifest["summary"]["end_date"] == "2028-02"


def test_cli_bad_start_exit_2_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "teaching", "--set", 'run.start="2027-13"', "--out", str(out)])
    assert res.exit_code == 2 and "run.start" in res.output and "teaching.toml" in res.output, res.output
    assert not out.exists()
