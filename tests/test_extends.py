"""Scenarios that build on others: ``extends = "PRESET-or-path"`` (issue 11, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import ScenarioError, deep_merge, load_scenario, read_scenario_data

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_deep_merge_tables_merge_values_and_lists_replace() -> None:
    base = {"a": 1, "t": {"x": 1, "y": {"p": 1, "q": 2}, "l": [1, 2, 3]}, "v": {"k": 1}}
    child = {"t": {"y": {"q": 5}, "l": [9]}, "v": 3, "new": {"z": 1}}
    out = deep_merge(base, child)
    assert out == {"a": 1, "t": {"x": 1, "y": {"p": 1, "q": 5}, "l": [9]}, "v": 3, "new": {"z": 1}}
    assert base["t"]["y"]["q"] == 2 and base["t"]["l"] == [1, 2, 3]  # neither input changed
    out["new"]["z"] = 2
    assert child["new"]["z"] == 1


def test_preset_base_override_and_deep_merge(tmp_path: Path) -> None:
    child = write(tmp_path / "mine.toml", 'extends = "teaching"\n[organisations]\nq = 0.45\n'
                                          '[organisations.eligible_share]\nprivate = 0.9\n')
    sc = load_scenario(child)
    teaching = load_scenario("teaching")
    assert sc.organisations.q == 0.45
    # the rest of [organisations] and of its table eligible_share comes from the base, key by key
    assert sc.organisations.base_per_place == teaching.organisations.base_per_place
    assert sc.organisations.eligible_share == {**teaching.organisations.eligible_share, "private": 0.9}
    assert teaching.organisations.eligible_share["public"] == 0.5  # from the base file, not the schema's default
    assert sc.places == teaching.places and sc.run == teaching.run and sc.levers == teaching.levers
    assert sc.description == teaching.description  # inherited
    assert sc.name == "mine"  # a name is not inherited: the file's own stem unless it sets one


def test_a_case_preset_is_a_base_by_its_preset_name(tmp_path: Path) -> None:
    """``extends = "cases/dua"`` names the preset (as ``sim presets`` lists it), not a folder beside the file."""
    child = write(tmp_path / "mine.toml", 'extends = "cases/dua"\n[scaling_up]\nrefusal_need = 0.02\n')
    sc, case = load_scenario(child), load_scenario("cases/dua")
    assert sc.scaling_up.refusal_need == 0.02 and sc.run == case.run and sc.interventions == case.interventions
    # a real folder "cases/" beside the file is still a path when the name is not a preset
    write(tmp_path / "cases" / "mine.toml", 'extends = "teaching"\n')
    assert load_scenario(write(tmp_path / "b.toml", 'extends = "cases/mine.toml"\n')).run == load_scenario("teaching").run


def test_lists_replace_whole(tmp_path: Path) -> None:
    base = write(tmp_path / "base.toml", 'extends = "teaching"\n[places]\nn = 2\npopulation_mean = 300.0\n'
                                         '[organisations]\nbase_per_place = 2\nper_10k_population = 0.0\n'
                                         'initial_adopters = 1\nthresholds = [0.1, 0.2, 0.3, 0.4]\n')
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[organisations]\nthresholds = [0.9, 0.9, 0.9, 0.8]\n')
    assert load_scenario(base).organisations.thresholds == [0.1, 0.2, 0.3, 0.4]
    assert load_scenario(child).organisations.thresholds == [0.9, 0.9, 0.9, 0.8]


def test_chain_and_relative_paths(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "c.toml", 'extends = "district"\nname = "c"\n[levers]\nguardrails = 0.9\nadvocacy = 0.1\n')
    write(tmp_path / "lib" / "b.toml", 'extends = "c.toml"\n[levers]\nguardrails = 0.7\n')  # beside b, not the cwd
    a = write(tmp_path / "a.toml", 'extends = "lib/b.toml"\n[levers]\nmeasurement_effort = 0.6\n')
    sc = load_scenario(a)
    district = load_scenario("district")
    assert (sc.levers.guardrails, sc.levers.advocacy, sc.levers.measurement_effort) == (0.7, 0.1, 0.6)
    assert sc.places == district.places
    assert sc.name == "a"
    data, origins = read_scenario_data(a)
    assert "extends" not in data
    assert origins[("levers", "guardrails")] == str(tmp_path / "lib" / "b.toml")
    assert origins[("levers", "advocacy")] == str(tmp_path / "lib" / "c.toml")
    assert origins[("levers", "measurement_effort")] == str(a)
    up = write(tmp_path / "lib" / "deeper" / "d.toml", 'extends = "../../a.toml"\n')
    assert load_scenario(up).levers == sc.levers


def test_cycle_is_an_error_naming_file_and_field(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.toml")
    msg = str(info.value)
    assert msg.startswith(str(tmp_path / "b.toml")) and "field extends" in msg and "cycle" in msg
    assert "without extends" in msg  # what is allowed
    self_loop = write(tmp_path / "self.toml", 'extends = "self.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(self_loop)


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ('"no-such-preset"', "no preset named 'no-such-preset'"),
        ('"missing.toml"', "no such scenario file"),
        ('"sub/missing.toml"', "no such scenario file"),
        ("3", "expected a string"),
        ('""', "expected a string"),
    ],
)
def test_missing_or_bad_base(tmp_path: Path, ref: str, fragment: str) -> None:
    child = write(tmp_path / "child.toml", f"extends = {ref}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    msg = str(info.value)
    assert msg.startswith(str(child)) and "field extends" in msg and fragment in msg, msg
    assert "teaching" in msg and ".toml" in msg  # the allowed: presets or a path


def test_extends_only_at_the_top_level(tmp_path: Path) -> None:
    child = write(tmp_path / "child.toml", 'extends = "teaching"\n[levers]\nextends = "district"\n')
    with pytest.raises(ScenarioError, match="levers.extends: unknown key"):
        load_scenario(child)


def test_bad_value_names_the_file_it_came_from(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", 'extends = "teaching"\n[organisations]\nq = 7.0\n')
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[levers]\nguardrails = 0.5\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'base.toml'} (extended by {child})"), msg
    assert "organisations.q" in msg and "allowed range [0.0, 1.0]" in msg
    # the child fixing it is enough; a bad value in the child names the child
    write(child, 'extends = "base.toml"\n[organisations]\nq = 0.2\n[levers]\nguardrails = 2.0\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    msg = str(info.value)
    assert msg.startswith(f"{child}: invalid scenario") and "levers.guardrails" in msg and "base.toml" not in msg
    # one bad value from each: the child leads, the base's value says where it came from
    write(child, 'extends = "base.toml"\n[levers]\nguardrails = 2.0\n')
    msg = str(pytest.raises(ScenarioError, load_scenario, child).value)
    assert msg.startswith(f"{child}: invalid scenario")
    assert f"organisations.q: Input should be less than or equal to 1; got 7.0 (allowed range [0.0, 1.0]) " \
           f"(value from {tmp_path / 'base.toml'})" in msg
    # a bad value set with --set is the command line's, whichever file the key came from
    msg = str(pytest.raises(ScenarioError, load_scenario, child, ["organisations.q=5.0", "levers.guardrails=0.1"]).value)
    assert msg.startswith(f"{child}: invalid scenario") and "value from" not in msg


def test_manifest_has_no_extends_and_cli_runs(tmp_path: Path) -> None:
    child = write(tmp_path / "child.toml", 'extends = "teaching"\n[run]\nsteps = 2\n[levers]\nguardrails = 0.55\n')
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(child), "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "extends" not in manifest["scenario"]
    assert manifest["scenario"]["levers"]["guardrails"] == 0.55 and manifest["scenario"]["name"] == "child"
    assert manifest["scenario"]["places"]["n"] == load_scenario("teaching").places.n


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('extends = "teaching"\n[levers]\nguardrails = 2.0\n', "levers.guardrails"),
        ('extends = "nowhere.toml"\n', "field extends"),
        ('extends = "child.toml"\n', "cycle"),
    ],
)
def test_cli_exit_2_and_nothing_written(tmp_path: Path, text: str, fragment: str) -> None:
    child = write(tmp_path / "child.toml", text)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(child), "--out", str(out)])
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert "child.toml" in flat and fragment in flat, res.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["child.toml"]


def test_experiment_file_with_an_extended_scenario(tmp_path: Path) -> None:
    from sim.explore.experiment import load_experiment

    write(tmp_path / "scen" / "mine.toml", 'extends = "teaching"\n[levers]\nguardrails = 0.66\n')
    exp = write(tmp_path / "e.toml", 'scenario = "scen/mine.toml"\ndesign = "grid"\nreplicates = 1\nsteps = 2\n'
                                     'outputs = ["sites_running"]\n[set]\n"levers.advocacy" = 0.2\n'
                                     '[parameters]\n"organisations.q" = [0.2, 0.3]\n')
    experiment, base = load_experiment(exp)
    assert "extends" not in base
    teaching = read_scenario_data(ROOT / "scenarios" / "teaching.toml")[0]
    assert base["levers"] == {**teaching["levers"], "guardrails": 0.66, "advocacy": 0.2}
    assert base["places"]["n"] == load_scenario("teaching").places.n
    assert Path(experiment.scenario) == (tmp_path / "scen" / "mine.toml").resolve()


def test_sweeps_and_comparisons_read_extended_scenarios(tmp_path: Path) -> None:
    """``sim sweep``/``compare``/``function`` read scenarios through ``scenario_data``: the chain is merged."""
    from sim.explore.experiment import resolve_experiment_scenario, scenario_data

    mine = write(tmp_path / "mine.toml", 'extends = "teaching"\n[levers]\nguardrails = 0.66\n')
    data = scenario_data(resolve_experiment_scenario(str(mine), None))
    assert "extends" not in data and data["levers"]["guardrails"] == 0.66 and data["name"] == "mine"
    assert data["places"] == read_scenario_data(ROOT / "scenarios" / "teaching.toml")[0]["places"]


def test_a_base_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    child = write(tmp_path / "child.toml", 'extends = "dir.toml"\n')
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(child)
