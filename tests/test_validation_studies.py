"""Reading any diffusion study: the documented format, the non-adopter rule and every malformed case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.validation.calibrate import DATA_DIR, fit_adoption, load_study, study_from_tables
from sim.validation.holdout import write_folder
from sim.validation.studies import StudyDataError, read_study, shipped_dir

MED_NODES = DATA_DIR / "medInnovations_nodes.csv"
MED_EDGES = DATA_DIR / "medInnovations_edges.csv"


def test_shipped_studies_are_package_data_and_found_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim

    assert shipped_dir().resolve().is_relative_to(Path(sim.__file__).resolve().parent)
    monkeypatch.chdir(tmp_path)
    assert load_study("medInnovations").n == 125
    text = Path(sim.__file__).resolve().parents[1] / "pyproject.toml"
    if text.exists():  # the wheel ships them: package-data is declared
        assert '"sim.validation" = ["data/*.csv"' in text.read_text()


def test_load_study_any_name_and_folder(tmp_path: Path) -> None:
    shutil.copy(MED_NODES, tmp_path / "town_nodes.csv")
    shutil.copy(MED_EDGES, tmp_path / "town_edges.csv")
    st = load_study("town", "symmetric", data_dir=tmp_path)
    ref = load_study("medInnovations", "symmetric")
    assert st.name == "town" and st.unit == "period" and st.n == ref.n
    np.testing.assert_array_equal(st.toa, ref.toa)
    np.testing.assert_array_equal(st.times, ref.times)
    assert (st.network.csr != ref.network.csr).nnz == 0
    with pytest.raises(ValueError, match="unknown study"):
        load_study("town")


def test_non_adopters_with_empty_toa_lose_no_period_and_no_event() -> None:
    nodes = pd.read_csv(MED_NODES)
    blank = nodes.copy()
    blank.loc[blank["adopted"] == 0, "toa"] = np.nan
    edges = pd.read_csv(MED_EDGES)
    full = study_from_tables(read_study(nodes, edges))
    st = study_from_tables(read_study(blank, edges))
    assert full.times[-1] == 17 and st.times[-1] == int(nodes.loc[nodes.adopted == 1, "toa"].max())
    n_adopters = int(nodes["adopted"].sum())
    assert fit_adoption(st).n_events == n_adopters == fit_adoption(full).n_events == 109
    np.testing.assert_array_equal(np.isfinite(st.toa), nodes["adopted"].to_numpy() == 1)


def test_string_ids_and_communities() -> None:
    nodes = pd.DataFrame({"node": ["a", "b", "c", "d"], "community": ["north", "north", "south", "south"],
                          "toa": [1, None, 2, 3], "adopted": [1, 0, 1, 1]})
    edges = pd.DataFrame({"ego": ["b", "d", "d"], "alter": ["a", "c", "c"]})
    t = read_study(nodes, edges, name="tiny")
    assert list(t.community) == ["north", "north", "south", "south"] and len(t.ego) == 2  # duplicate merged
    assert list(t.times) == [1, 2, 3]


def _write(tmp: Path, nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[Path, Path]:
    n, e = tmp / "my_nodes.csv", tmp / "my_edges.csv"
    nodes.to_csv(n, index=False)
    edges.to_csv(e, index=False)
    return n, e


def _case(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str, str, str]:
    """A malformed study: (nodes, edges, file that is named, row text, column)."""
    nodes, edges = pd.read_csv(MED_NODES), pd.read_csv(MED_EDGES)
    if name == "missing column":
        return nodes.drop(columns="toa"), edges, "my_nodes.csv", "header row", "'toa'"
    if name == "missing edge column":
        return nodes, edges.rename(columns={"alter": "target"}), "my_edges.csv", "header row", "'alter'"
    if name == "unknown node in edges":
        edges.loc[6, "alter"] = 999
        return nodes, edges, "my_edges.csv", "row 7 ", "'alter'"
    if name == "duplicate node":
        nodes.loc[9, "node"] = 3
        return nodes, edges, "my_nodes.csv", "row 10 ", "'node'"
    if name == "NaN toa of an adopter":
        nodes.loc[4, "toa"] = np.nan
        return nodes, edges, "my_nodes.csv", "row 5 ", "'toa'"
    if name == "non-integer toa":
        nodes["toa"] = nodes["toa"].astype(float)
        nodes.loc[11, "toa"] = 3.5
        return nodes, edges, "my_nodes.csv", "row 12 ", "'toa'"
    if name == "adopted not 0/1":
        nodes.loc[2, "adopted"] = 2
        return nodes, edges, "my_nodes.csv", "row 3 ", "'adopted'"
    if name == "no adopters":
        nodes["adopted"] = 0
        nodes["toa"] = 18
        return nodes, edges, "my_nodes.csv", "rows 1-125", "'adopted'"
    if name == "one community":
        nodes["community"] = 1
        return nodes, edges, "my_nodes.csv", "rows 1-125", "'community'"
    if name == "mixed censoring times":
        first_non = int(np.flatnonzero(nodes["adopted"].to_numpy() == 0)[1])
        nodes.loc[first_non, "toa"] = 19
        return nodes, edges, "my_nodes.csv", f"row {first_non + 1} ", "'toa'"
    raise AssertionError(name)


CASES = ["missing column", "missing edge column", "unknown node in edges", "duplicate node", "NaN toa of an adopter",
         "non-integer toa", "adopted not 0/1", "no adopters", "one community", "mixed censoring times"]


@pytest.mark.parametrize("case", CASES)
def test_malformed_study_exits_2_names_file_row_column_and_writes_nothing(tmp_path: Path, case: str) -> None:
    nodes, edges, file, row, column = _case(case)
    n, e = _write(tmp_path, nodes, edges)
    with pytest.raises(StudyDataError) as err:
        read_study(n, e)
    msg = str(err.value)
    assert file in msg and row in msg and column in msg, msg
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["calibrate", "--nodes", str(n), "--edges", str(e), "--out", str(out)], terminal_width=300)
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert file in flat and row.strip() in flat and column in flat, res.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_edges.csv", "my_nodes.csv"]  # no temporary folder left


def test_missing_file_and_bad_options_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for args in (["--nodes", str(tmp_path / "nope.csv"), "--edges", str(MED_EDGES)],
                 ["--nodes", str(MED_NODES)],
                 ["--study", "medInnovations", "--nodes", str(MED_NODES), "--edges", str(MED_EDGES)],
                 ["--study", "nope"],
                 ["--study", "medInnovations", "--time-unit", "fortnight"],
                 ["--study", "medInnovations", "--sims", "3"]):
        res = CliRunner().invoke(app, ["calibrate", *args, "--out", str(out)], terminal_width=300)
        assert res.exit_code == 2, (args, res.output)
        assert not out.exists()


def test_write_folder_builds_aside_and_leaves_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "res"

    def boom(tmp: Path) -> None:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("fail")

    with pytest.raises(RuntimeError):
        write_folder(out, boom)
    assert list(tmp_path.iterdir()) == []
    write_folder(out, lambda tmp: (tmp / "a.txt").write_text("1"))
    (out / "keep.txt").write_text("mine")
    write_folder(out, lambda tmp: (tmp / "a.txt").write_text("2"))
    assert (out / "a.txt").read_text() == "2" and (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_calibrate_own_study_from_tables_writes_json_with_leave_one_out(tmp_path: Path) -> None:
    from sim.validation.holdout import calibrate

    nodes, edges = pd.read_csv(MED_NODES), pd.read_csv(MED_EDGES)
    nodes.loc[nodes["adopted"] == 0, "toa"] = np.nan
    res = calibrate(nodes, edges, name="doctors", time_unit="month", holdout="all", sims=40, out=tmp_path / "o")
    data = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert data["study"] == "doctors" and data["time_unit"] == "month"
    assert [x["community"] for x in data["leave_one_out"]] == [1, 2, 3, 4]
    for x in data["leave_one_out"]:
        assert {"community", "inside", "points"} <= set(x) and 0 <= x["inside"] <= x["points"] == len(res.band.times)
    for key in ("pooled", "hierarchical", "model_choice", "coverage"):
        assert key in data
    assert len(data["hierarchical"]["profile95"]["sigma_p"]) == 2
    md = (tmp_path / "o" / "calibration.md").read_text()
    assert "calibration_doctors.png" in md and (tmp_path / "o" / "calibration_doctors.png").exists()


def test_a_stray_comma_is_named_as_such_not_as_a_shifted_column(tmp_path: Path) -> None:
    """A node line with one field too many: pandas would shift the columns and blame 'adopted'."""
    lines = MED_NODES.read_text(encoding="utf-8").splitlines()
    lines[1] += ",oops"
    n, e = tmp_path / "my_nodes.csv", tmp_path / "my_edges.csv"
    n.write_text("\n".join(lines) + "\n", encoding="utf-8")
    e.write_text(MED_EDGES.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(StudyDataError, match=r"my_nodes.csv, row 1 \(line 2\): 6 fields, the header has 5"):
        read_study(n, e)
    res = CliRunner().invoke(app, ["calibrate", "--nodes", str(n), "--edges", str(e), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and not (tmp_path / "o").exists(), res.output
