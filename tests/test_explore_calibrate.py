"""Calibration: shared-seed point fits recover a known parameter; ABC-SMC keeps a resumable SQLite history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.explore.calibrate import ScenarioSimulator, Target, _Loss, abc_smc, point_fit
from sim.scenario import apply_overrides
from tests.conftest import SMALL

MONTHS = tuple(float(m) for m in range(0, 25, 2))
BASE = apply_overrides(SMALL, {"organisations.base_per_place": 40, "organisations.p": 0.002})  # 120 organisations


@pytest.fixture(scope="module")
def observed() -> Target:
    """Share of adopters at q = 0.3, averaged over seeds that the fits never use."""
    sim = ScenarioSimulator(BASE, "orgs_adopted", MONTHS, share=True)
    y = np.mean([sim({"organisations.q": 0.3}, s) for s in range(100, 108)], axis=0)
    return Target(np.array(MONTHS), y)


def test_shared_seed_loss_is_deterministic(observed: Target) -> None:
    sim = ScenarioSimulator(BASE, "orgs_adopted", MONTHS, share=True)
    loss = _Loss(sim, ("organisations.q",), observed.values, (1, 2))
    assert loss(np.array([0.25])) == loss(np.array([0.25]))  # same seeds for every candidate
    assert loss(np.array([0.3])) < loss(np.array([0.05]))
    assert loss(np.array([1.7])) == np.inf  # outside the schema: a bad candidate, not a crash


def test_point_fit_recovers_the_imitation_coefficient(observed: Target) -> None:
    sim = ScenarioSimulator(BASE, "orgs_adopted", MONTHS, share=True)
    fit = point_fit(sim, {"organisations.q": (0.02, 0.9)}, observed, seeds=3, maxiter=4, popsize=5)
    assert abs(fit.theta["organisations.q"] - 0.3) < 0.06
    assert len(fit.seeds) == 3 and fit.evaluations > 10


@pytest.mark.slow
def test_abc_smc_history_is_resumable(observed: Target, tmp_path: Path) -> None:
    pytest.importorskip("pyabc")
    sim = ScenarioSimulator(BASE, "orgs_adopted", MONTHS, share=True)
    bounds = {"organisations.q": (0.02, 0.9)}
    db = tmp_path / "abc.db"
    first = abc_smc(sim, bounds, observed, db, population_size=20, generations=2, seed=1)
    assert first.populations == 2 and db.exists()
    again = abc_smc(sim, bounds, observed, db, population_size=20, generations=3, seed=2)
    assert again.populations == 3 and again.history_id == first.history_id
    assert again.epsilons[2] < again.epsilons[1]  # the tolerance keeps shrinking after the resume
    s = again.summary().set_index("parameter").loc["organisations.q"]
    assert s["q025"] <= 0.3 <= s["q975"]
    assert len(again.posterior) == 20 and (again.posterior["weight"] > 0).all()
    import pyabc

    h = pyabc.History(f"sqlite:///{db}")
    assert h.max_t == 2 and h.n_populations == 3  # inspectable with pyabc's own tools


def test_calibrate_abc_cli_point_fit_and_errors(tmp_path: Path, observed: Target) -> None:
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.scenario import dump_toml

    sc = tmp_path / "small.toml"
    sc.write_text(dump_toml(BASE))
    tgt = tmp_path / "target.csv"
    rows = [f"{m},{v}" for m, v in zip(observed.months, observed.values, strict=True)]
    tgt.write_text("month,value\n" + "\n".join(rows))
    base = ["calibrate-abc", str(sc), "--target", str(tgt), "--share", "--out", str(tmp_path / "o")]
    bad = CliRunner().invoke(app, [*base, "--param", "organisations.nope=0:1"])
    assert bad.exit_code == 2 and "not a scenario parameter" in " ".join(bad.output.split())
    ok = CliRunner().invoke(app, [*base, "--param", "organisations.q=0.02:0.9", "--point-only", "--maxiter", "2",
                                  "--seeds", "2"])
    assert ok.exit_code == 0, ok.output
    import json

    fit = json.loads((tmp_path / "o" / "point_fit.json").read_text())
    assert 0.02 <= fit["theta"]["organisations.q"] <= 0.9 and len(fit["seeds"]) == 2


@pytest.mark.parametrize(
    ("csv", "share", "needle"),
    [
        ("month,value\n12,abc\n", False, "row 2: field value 'abc' is not a finite number"),
        ("month,value\n-3,5\n", False, "row 2: field month '-3' is not a month of the run; allowed: a number 0 or more"),
        ("month,value\nsoon,5\n", False, "row 2: field month 'soon'"),
        ("month,value\n", False, "no figures in column 'value'"),
        ("month,value\n12,-5\n", False, "row 2: field value -5 is outside what orgs_adopted can be; allowed: 0 or more"),
        ("month,value\n12,0.4\n12,0.5\n", True, "row 3: field month 12 repeats row 2"),
        ("month,value\n12,1.5\n", True, "as a share can be; allowed: 0 to 1"),
        ("month,count\n12,5\n", False, "needs columns 'month' and 'orgs_adopted' (or 'value')"),
        ("month,value\n12,5,7\n24,9\n", False, "row 2: 3 fields, the header has 2 (month, value)"),
        ("month,value\n12,5\n24\n", False, "row 3: 1 fields, the header has 2"),
        ("month,value\n12,K\xe4\n", False, "cannot be read as CSV"),
    ],
)
def test_calibrate_abc_rejects_a_bad_target_naming_row_and_field(tmp_path: Path, csv: str, share: bool,
                                                                  needle: str) -> None:
    """A target the model could never produce (or no target at all) is exit 2 before anything is written."""
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.scenario import dump_toml

    sc = tmp_path / "small.toml"
    sc.write_text(dump_toml(BASE))
    tgt = tmp_path / "target.csv"
    tgt.write_bytes(csv.encode("latin-1"))  # one case is not UTF-8 (a Latin-1 byte); the others are ASCII
    r = CliRunner().invoke(app, ["calibrate-abc", str(sc), "--target", str(tgt), *(["--share"] if share else []),
                                 "--param", "organisations.q=0.02:0.9", "--out", str(tmp_path / "o"), "--point-only"])
    assert r.exit_code == 2 and needle in " ".join(r.output.split()), r.output
    assert not (tmp_path / "o").exists()


def test_target_skips_empty_cells_and_sorts_by_month(tmp_path: Path) -> None:
    """A file holding several outputs with gaps gives each output its own months, in order."""
    from sim.explore.calibrate import load_target

    p = tmp_path / "t.csv"
    p.write_text("month,orgs_adopted,places_reached\n24,9,\n12,4,2\n36,,5\n")
    a, b = load_target(p, "orgs_adopted"), load_target(p, "places_reached")
    assert a.months.tolist() == [12.0, 24.0] and a.values.tolist() == [4.0, 9.0]
    assert b.months.tolist() == [12.0, 36.0] and b.values.tolist() == [2.0, 5.0]
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())  # a spreadsheet's UTF-8 byte-order mark: same figures
    assert load_target(p, "orgs_adopted").values.tolist() == [4.0, 9.0]
