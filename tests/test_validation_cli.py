"""`sim validate` and `sim calibrate` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app


def test_validate_quick_writes_report_and_passes(tmp_path: Path) -> None:
    out = tmp_path / "v"
    res = CliRunner().invoke(app, ["validate", "--quick", "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "validation.md").read_text()
    assert "| limit | case | expected | got | tolerance | pass |" in md
    assert "**NO**" not in md
    pngs = {p.name for p in (out / "img" / "validation").glob("*.png")}
    assert {"bass.png", "sis.png", "watts.png", "centola.png", "granovetter.png"} <= pngs
    for name in pngs:
        assert f"img/validation/{name}" in md


def test_validate_fails_with_exit_1_when_a_row_fails(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["validate", "--quick", "--only", "granovetter", "--set", "organisations.visibility_pull=0.5",
              "--out", str(tmp_path)],
    )
    assert res.exit_code == 1
    assert "**NO**" in (tmp_path / "validation.md").read_text()


def test_validate_bad_check_name_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["validate", "--only", "nope", "--out", str(tmp_path)])
    assert res.exit_code == 2


def test_calibrate_command_leave_one_out(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["calibrate", "--study", "medInnovations", "--sims", "30", "--holdout", "all", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert "pooled p = " in res.output and "held-out community 4" in res.output
    assert "leave-one-out coverage" in res.output
    data = json.loads((tmp_path / "calibration.json").read_text())
    assert [x["community"] for x in data["leave_one_out"]] == [1, 2, 3, 4]
    assert (tmp_path / "calibration.md").exists()
    assert (tmp_path / "calibration_medInnovations.png").exists()


def test_calibrate_unknown_holdout_exits_2_lists_communities_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    res = CliRunner().invoke(
        app, ["calibrate", "--study", "medInnovations", "--holdout", "99", "--out", str(out)], terminal_width=200
    )
    assert res.exit_code == 2
    assert "no community '99'; communities are [1, 2, 3, 4]" in res.output  # brackets survive Rich's markup
    assert not out.exists()
