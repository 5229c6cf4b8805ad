"""The command line as a user meets it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_run_writes_tables_and_is_reproducible(tmp_path: Path) -> None:
    args = ["run", str(ROOT / "scenarios" / "teaching.toml"), "--steps", "12", "--seed", "3"]
    a = sim(*args, "--out", "a", cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert sim(*args, "--out", "b", cwd=tmp_path).returncode == 0
    assert sim(*args[:-1], "4", "--out", "c", cwd=tmp_path).returncode == 0
    for d in ("a", "b", "c"):
        for f in ("model.parquet", "organisations.parquet", "places.parquet", "manifest.json"):
            assert (tmp_path / d / f).exists(), (d, f)
    ma = pd.read_parquet(tmp_path / "a" / "model.parquet")
    pd.testing.assert_frame_equal(ma, pd.read_parquet(tmp_path / "b" / "model.parquet"))
    assert not ma.equals(pd.read_parquet(tmp_path / "c" / "model.parquet"))
    assert len(ma) == 13
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert man["seed"] == 3 and man["scenario"]["name"] == "teaching" and man["version"]
    assert "Summary" in a.stdout and "orgs_adopted" in a.stdout


def test_set_overrides_reach_the_manifest(tmp_path: Path) -> None:
    r = sim("run", "teaching", "--steps", "2", "--set", "organisations.q=0.11", "--out", "o", "--no-report",
            "--organisations-series", "--places-series", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(tmp_path / "o" / "organisations_series.parquet")) % 3 == 0
    assert len(pd.read_parquet(tmp_path / "o" / "places_series.parquet")) == 12 * 3
    assert not (tmp_path / "o" / "report.png").exists()
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["scenario"]["organisations"]["q"] == 0.11


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ("[organisations]\nqq = 1\n", "organisations.qq", "unknown key"),
        ("[organisations]\nq = \"high\"\n", "organisations.q", "number"),
        ("[organisations]\nq = 7.0\n", "organisations.q", "allowed range [0.0, 1.0]"),
    ],
)
def test_bad_scenario_exits_2_naming_file_field_range(tmp_path: Path, body: str, field: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    r = sim("run", str(path), "--out", "never", cwd=tmp_path)
    assert r.returncode == 2
    err = " ".join(r.stderr.split())
    assert "bad.toml" in err and field in err and fragment in err
    assert not (tmp_path / "never").exists()
    assert not any(p.name.startswith(".never") for p in tmp_path.iterdir())


def test_bad_override_exits_2(tmp_path: Path) -> None:
    r = sim("run", "teaching", "--set", "levers.guardrails=2", "--out", "never", cwd=tmp_path)
    assert r.returncode == 2 and "levers.guardrails" in r.stderr
    assert not (tmp_path / "never").exists()


def test_bench_with_an_unknown_preset_exits_2_before_timing(tmp_path: Path) -> None:
    """``sim bench --preset`` names a scenario it cannot load (exit 2, the presets listed), not a traceback after
    the timed target-group step."""
    r = sim("bench", "--preset", "no-such-preset", "--n", "1000", "--steps", "1", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "no-such-preset: no such scenario file or preset" in r.stderr and "Traceback" not in r.stderr
    assert "teaching" in r.stderr and r.stdout == ""


def test_presets_command_lists_presets(tmp_path: Path) -> None:
    r = sim("presets", cwd=tmp_path)
    assert r.returncode == 0
    for name in ("sweden-youth-employment", "district", "teaching"):
        assert name in r.stdout


def test_run_report_is_a_picture_and_a_page(tmp_path: Path) -> None:
    r = sim("run", "teaching", "--steps", "6", "--out", "rep", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    png = (tmp_path / "rep" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "orgs_adopted" in page and "data:image/png;base64," in page
    missing = sim("report", str(tmp_path / "nothing"), cwd=tmp_path)
    assert missing.returncode == 2 and "model.parquet" in missing.stderr


@pytest.mark.parametrize(("option", "value"), [("--seed", "-3"), ("--steps", "0")])
def test_bad_command_line_values_exit_2(tmp_path: Path, option: str, value: str) -> None:
    r = sim("run", "teaching", option, value, "--out", "never", cwd=tmp_path)
    assert r.returncode == 2 and option in r.stderr and "allowed range" in r.stderr
    assert not (tmp_path / "never").exists()


def test_help_shows_units_and_table_names() -> None:
    """Help texts are plain text: "[runs]", "[s]" and "[calibration]" are shown, not read as markup and dropped."""
    sweep = subprocess.run([sys.executable, "-m", "sim", "sweep", "--help"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    assert "Runs per Parquet part [runs]" in sweep and "Commit at least this often [s]" in sweep
    fc = subprocess.run([sys.executable, "-m", "sim", "forecast", "--help"], capture_output=True, text=True,
                        env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    assert "[calibration]" in fc
