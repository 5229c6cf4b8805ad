"""Your own place data: ``places.data`` joins a CSV of municipal indicators by SCB code (issue 11, item 5)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import ScenarioError, load_scenario
from sim.streams import Streams
from sim.world.build import build_world
from sim.world.places import build_places, load_municipalities

ROOT = Path(__file__).resolve().parents[1]
TOWNS = load_municipalities()
CODES = TOWNS["code"].tolist()
POP = dict(zip(TOWNS["code"], TOWNS["population"], strict=True))
SMALL = "target_scale = 0.01\n"  # 1 simulated member per 100 persons: worlds build in well under a second


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scenario(folder: Path, places: str, csv: str | None = None, name: str = "s.toml") -> Path:
    """A Sweden scenario in ``folder`` whose ``[places]`` table holds ``places`` (and ``ind.csv`` beside it)."""
    if csv is not None:
        write(folder / "ind.csv", csv)
    return write(folder / name, f'[run]\nseed = 7\n[places]\nsource = "sweden"\n{SMALL}{places}')


def places_of(path: Path, **overrides: object):
    sc = load_scenario(path, overrides=dict(overrides) or None)
    return build_places(sc, Streams(sc.run.seed).places), sc


# ----------------------------------------------------------------------------- the join and its formulas


def test_mapped_places_change_by_the_documented_formulas_and_no_others(tmp_path: Path) -> None:
    rows = {"0114": ("5.0", "2.5", "300", "40"), "0180": ("20.0", "10", "1000", "70"), "2584": ("7.0", "0", "7", "10")}
    csv = "# illustrative\ncode,name,youth_pct,score,neet,need_pct\n" + "".join(
        f"{c},x,{y},{s},{n},{u}\n" for c, (y, s, n, u) in rows.items())
    cols = ('[places.columns]\n'
            'severity = { column = "youth_pct", from = [2.0, 12.0], to = [0.1, 0.6], clip = true }\n'
            'openness = { column = "score", from = [10, 0] }\n'  # reversed: 10 -> 0, 0 -> 1
            'target_size = { column = "neet" }\n'
            'need = { column = "need_pct", from = [0, 100] }\n')
    base = scenario(tmp_path, "need_spread = 0.2\n")
    own = scenario(tmp_path, f'data = "ind.csv"\nmissing = "default"\nneed_spread = 0.2\n{cols}', csv, "own.toml")
    p0, _ = places_of(base)
    p1, sc = places_of(own)
    idx = np.array([CODES.index(c) for c in rows])
    other = np.setdiff1d(np.arange(p0.n), idx)
    # severity: a + clip((x - lo) / (hi - lo), 0, 1) * (b - a) with from [2, 12], to [0.1, 0.6]
    assert p1.severity[idx] == pytest.approx([0.1 + 0.3 * 0.5, 0.6, 0.1 + 0.5 * 0.5])  # 20 is clipped to 12
    # openness: from [10, 0] -> (x - 10) / (0 - 10)
    assert p1.openness[idx] == pytest.approx([0.75, 0.0, 1.0])
    assert np.array_equal(p1.openness_initial, p1.openness)
    # target size: round(persons * target_scale) simulated members
    assert p1.target_size[idx].tolist() == [round(300 * 0.01), round(1000 * 0.01), round(7 * 0.01)]
    # need: the drawn profile keeps its deviations, centred on the level: u = clip(level + (z - need_mean))
    level = np.array([0.4, 0.7, 0.1])[:, None]
    inside = (p0.need[idx] > 0) & (p0.need[idx] < 1) & (p1.need[idx] > 0) & (p1.need[idx] < 1)
    assert inside.sum() >= 3
    shift = np.broadcast_to(level - sc.places.need_mean, inside.shape)
    assert (p1.need[idx] - p0.need[idx])[inside] == pytest.approx(shift[inside])
    # every other place, and everything else, is exactly as drawn (the draws are made either way)
    for f in ("severity", "openness", "target_size", "need", "population", "lat"):
        assert np.array_equal(getattr(p1, f)[other], getattr(p0, f)[other]), f


def test_need_level_is_the_profile_when_need_spread_is_zero(tmp_path: Path) -> None:
    csv = "code;level\n" + "".join(f"{c};{'0,25' if c == '1280' else '0.5'}\n" for c in CODES)  # ';' and a decimal comma
    path = scenario(tmp_path, 'data = "ind.csv"\nneed_spread = 0.0\n[places.columns]\nneed = { column = "level" }\n', csv)
    p, _ = places_of(path)
    malmo = CODES.index("1280")
    assert np.all(p.need[malmo] == 0.25)
    assert np.all(np.delete(p.need, malmo, axis=0) == 0.5)


def test_a_swedish_spreadsheet_export_is_read_as_written(tmp_path: Path) -> None:
    """Windows-1252 text, ';' between cells, decimal commas, thousands grouped by (no-break) spaces, quotes."""
    body = "".join(f'{c};"Kommun, {c}";{"1 234" if c == "0180" else "1\u00a0000"};7;12,5\n' for c in CODES)
    path = scenario(tmp_path, 'data = "ind.csv"\n[places.columns]\ntarget_size = { column = "Unga 16\u201324" }\n'
                              'severity = { column = "Andel", from = [0, 100] }\n')
    (tmp_path / "ind.csv").write_bytes(("Kod;Län;Unga 16\u201324;\"Andel, %\";Andel\n" + body).encode("cp1252"))
    p, _ = places_of(path, **{"places.code_column": "Kod"})
    assert p.target_size[CODES.index("0180")] == round(1234 * 0.01)
    assert p.target_size[CODES.index("0114")] == round(1000 * 0.01)
    assert np.all(p.severity == 0.125)


def test_relative_paths_are_read_from_the_file_that_names_them(tmp_path: Path) -> None:
    csv = "code,sev\n" + "".join(f"{c},0.3\n" for c in CODES)
    write(tmp_path / "lib" / "ind.csv", csv)
    write(tmp_path / "lib" / "base.toml", f'[places]\nsource = "sweden"\n{SMALL}data = "ind.csv"\n'
                                          '[places.columns]\nseverity = { column = "sev" }\n')
    child = write(tmp_path / "child.toml", 'extends = "lib/base.toml"\n[levers]\nguardrails = 0.9\n')
    sc = load_scenario(child)
    assert Path(sc.places.data) == (tmp_path / "lib" / "ind.csv").resolve()
    p, _ = places_of(child)
    assert np.all(p.severity == 0.3)


def test_a_path_given_on_the_command_line_is_read_from_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "here" / "ind.csv", "code,sev\n0180,0.75\n")
    path = scenario(tmp_path / "elsewhere", 'missing = "default"\n' + SEV)
    monkeypatch.chdir(tmp_path / "here")
    p, _ = places_of(path, **{"places.data": "ind.csv"})
    assert p.severity[CODES.index("0180")] == 0.75


def test_the_example_scenario_takes_its_places_from_the_shipped_table() -> None:
    sc = load_scenario(ROOT / "scenarios" / "examples" / "own-data.toml")
    assert sc.places.data is not None and Path(sc.places.data).is_file()
    table = __import__("pandas").read_csv(sc.places.data, comment="#", dtype={"code": str}).set_index("code")
    p = build_places(sc, Streams(sc.run.seed).places)
    persons = table.loc[list(p.code), "persons_16_24"].to_numpy()
    assert np.array_equal(p.target_size, np.round(persons * sc.places.target_scale).astype(np.int64))
    assert p.severity == pytest.approx(table.loc[list(p.code), "neet_16_24_pct"].to_numpy() / 100)


# ----------------------------------------------------------------------------- common random numbers


def test_severity_data_leaves_the_organisations_as_they_were(tmp_path: Path) -> None:
    """Organisations draw from their own streams and their counts depend on population only."""
    csv = "code,sev\n" + "".join(f"{c},{(i % 10) / 10}\n" for i, c in enumerate(CODES))
    base = scenario(tmp_path, "")
    own = scenario(tmp_path, 'data = "ind.csv"\n[places.columns]\nseverity = { column = "sev" }\n', csv, "own.toml")
    w0 = build_world(load_scenario(base), Streams(11))
    w1 = build_world(load_scenario(own), Streams(11))
    assert not np.array_equal(w0.places.severity, w1.places.severity)
    assert w1.places.severity == pytest.approx([(i % 10) / 10 for i in range(len(CODES))])
    for f in dataclasses.fields(w0.orgs):  # every array: sector, mandate, resources, thresholds, sites started
        a, b = getattr(w0.orgs, f.name), getattr(w1.orgs, f.name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name
    assert (w0.network.csr != w1.network.csr).nnz == 0
    assert np.array_equal(w0.places.need, w1.places.need) and np.array_equal(w0.places.openness, w1.places.openness)


def test_mapped_severity_steers_the_need_rule_of_an_intervention(tmp_path: Path) -> None:
    """``places = { rule = "highest_need", n = 3 }`` picks the three municipalities the file gives the highest severity."""
    top = ["2584", "0114", "1280"]  # Kiruna, Upplands Väsby, Malmö
    csv = "code,sev\n" + "".join(f"{c},{0.9 if c in top else 0.1}\n" for c in CODES)
    path = scenario(tmp_path, 'data = "ind.csv"\n' + SEV, csv)
    write(path, path.read_text(encoding="utf-8") + '[[interventions]]\nkind = "measurement"\nmonth = 0\n'
                'places = { rule = "highest_need", n = 3 }\nbudget_sek = 1_000_000\n')
    from sim.interventions.runtime import resolve_places

    sc = load_scenario(path)
    state = build_world(sc, Streams(3))
    picked = np.flatnonzero(resolve_places(state, sc.interventions[0].places))
    assert sorted(state.places.code[picked]) == sorted(top)


# ----------------------------------------------------------------------------- errors: exit 2, nothing written

GOOD = "".join(f"{c},0.5,{min(100, POP[c])}\n" for c in CODES)
SEV = '[places.columns]\nseverity = { column = "sev" }\n'


def _csv(body: str) -> str:
    return "code,sev,persons\n" + body


CASES = {
    "missing file": ('data = "nowhere.csv"\n' + SEV, None, ["nowhere.csv", "no such place data file"]),
    "unknown column": ('data = "ind.csv"\n[places.columns]\nseverity = { column = "sevv" }\n', _csv(GOOD),
                       ["ind.csv", "'sevv'", "places.columns.severity", "columns in the file: code, sev, persons"]),
    "a column twice": ('data = "ind.csv"\n' + SEV, "code,sev,sev\n" + GOOD, ["ind.csv", "line 1", "'sev' appears more"]),
    "no code column": ('data = "ind.csv"\ncode_column = "kommun"\n' + SEV, _csv(GOOD), ["ind.csv", "'kommun'"]),
    "not a municipality": ('data = "ind.csv"\n' + SEV, _csv(GOOD + "0999,0.5,1\n"),
                           ["ind.csv", "line 292", "'0999'", "not a Swedish municipality"]),
    "leading zero lost": ('data = "ind.csv"\n' + SEV, _csv("114,0.5,1\n"), ["ind.csv", "line 2", "'0114'"]),
    "duplicated code": ('data = "ind.csv"\n' + SEV, _csv(GOOD + "1280,0.4,1\n"),
                        ["ind.csv", "line 292", "'1280'", "first on line", "one row per municipality"]),
    "missing rows": ('data = "ind.csv"\n' + SEV, _csv("".join(r for r in GOOD.splitlines(True) if r[:4] != "0180")),
                     ["ind.csv", "'sev'", "0180 Stockholm", "no value for 1 municipality", 'missing = "default"']),
    "empty cell": ('data = "ind.csv"\n' + SEV, _csv(GOOD.replace("1280,0.5,", "1280,,")),
                   ["ind.csv", "1280 Malmö", "no value for 1"]),
    "non-numeric": ('data = "ind.csv"\n' + SEV, _csv(GOOD.replace("1280,0.5,", "1280,..,")),
                    ["ind.csv", "'1280'", "Malmö", "'sev'", "'..' is not a number"]),
    "severity out of range": ('data = "ind.csv"\n' + SEV, _csv(GOOD.replace("1280,0.5,", "1280,1.5,")),
                              ["ind.csv", "'1280'", "'sev'", "1.5 is out of range", "[0, 1]"]),
    "openness out of range": ('data = "ind.csv"\n[places.columns]\nopenness = { column = "sev" }\n',
                              _csv(GOOD.replace("0114,0.5,", "0114,-0.1,")),
                              ["ind.csv", "'0114'", "places.columns.openness", "[0, 1]"]),
    "negative persons": ('data = "ind.csv"\n[places.columns]\ntarget_size = { column = "persons" }\n',
                         _csv(GOOD.replace("2584,0.5,100", "2584,0.5,-3")),
                         ["ind.csv", "'2584'", "Kiruna", "'persons'", "-3 persons", "[0, "]),
    "more persons than people": ('data = "ind.csv"\n[places.columns]\ntarget_size = { column = "persons" }\n',
                                 _csv(GOOD.replace("2584,0.5,100", "2584,0.5,99999999")),
                                 ["ind.csv", "'2584'", "population"]),
    "nan": ('data = "ind.csv"\n' + SEV, _csv(GOOD.replace("1280,0.5,", "1280,nan,")), ["ind.csv", "'nan' is not a number"]),
    "synthetic places": ('source = "synthetic"\ndata = "ind.csv"\n' + SEV, _csv(GOOD),
                         ["s.toml", "places.data", "'synthetic'", 'places.source = "sweden"']),
    "unknown target": ('data = "ind.csv"\n[places.columns]\nsevere = { column = "sev" }\n', _csv(GOOD),
                       ["s.toml", "places.columns", "'severe'", "severity, need, openness, target_size"]),
    "unknown key": ('data = "ind.csv"\n[places.columns]\nseverity = { column = "sev", form = [0, 1] }\n', _csv(GOOD),
                    ["s.toml", "places.columns", "'form'", "column, from, to, clip"]),
    "bad to": ('data = "ind.csv"\n[places.columns]\nseverity = { column = "sev", to = [0, 2] }\n', _csv(GOOD),
               ["s.toml", "severity.to", "[0, 1]"]),
    "columns without data": (SEV, None, ["s.toml", "places.columns", "places.data"]),
    "data without columns": ('data = "ind.csv"\n', _csv(GOOD), ["s.toml", "places.columns maps no column"]),
    "empty path": ('data = ""\n' + SEV, None, ["s.toml", "places.data is an empty string"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_input_is_exit_2_naming_file_code_and_column(tmp_path: Path, case: str) -> None:
    places, csv, expected = CASES[case]
    path = scenario(tmp_path, places.replace('source = "synthetic"\n', ""), csv)
    if 'source = "synthetic"' in places:
        write(path, path.read_text(encoding="utf-8").replace('source = "sweden"', 'source = "synthetic"'))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(path), "--steps", "1", "--no-report", "--out", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    for piece in expected:
        assert piece in text, f"{piece!r} not in {text!r}"
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_default_keeps_the_model_values_and_the_load_error_names_the_file(tmp_path: Path) -> None:
    csv = _csv("0180,0.9,1\n")
    path = scenario(tmp_path, 'data = "ind.csv"\n' + SEV, csv)
    with pytest.raises(ScenarioError, match=r"ind\.csv.*no value for 289 municipalities"):
        load_scenario(path)
    p0, _ = places_of(scenario(tmp_path, "", name="base.toml"))
    p1, _ = places_of(path, **{"places.missing": "default"})
    stockholm = CODES.index("0180")
    assert p1.severity[stockholm] == 0.9
    assert np.array_equal(np.delete(p1.severity, stockholm), np.delete(p0.severity, stockholm))


def test_a_run_with_place_data_records_the_resolved_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "examples" / "own-data.toml"), "--steps", "2",
                                   "--set", "places.target_scale=0.01", "--no-report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest)
    assert str((ROOT / "scenarios" / "data" / "example-municipal-indicators.csv").resolve()) in text
    import hashlib

    shipped = (ROOT / "scenarios" / "data" / "example-municipal-indicators.csv").read_bytes()
    assert manifest["places_data_sha256"] == hashlib.sha256(shipped).hexdigest()
