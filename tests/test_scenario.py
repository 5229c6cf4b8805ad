"""Scenario files: validation, overrides and the error messages users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    dump_toml,
    list_presets,
    load_scenario,
    parse_override,
    scenario_from_dict,
)


def test_presets_exist_and_validate() -> None:
    names = list_presets()
    for needed in ("sweden-youth-employment", "district", "teaching"):
        assert needed in names
    for name in names:
        sc = load_scenario(name)
        assert sc.description, f"{name} has no description"


def test_preset_files_have_question_header() -> None:
    for p in Path(__file__).resolve().parents[1].joinpath("scenarios").glob("*.toml"):
        head = p.read_text(encoding="utf-8").splitlines()[:12]
        assert any(line.startswith("#") and "Question" in line for line in head), p


def test_default_is_sweden() -> None:
    sc = load_scenario(None)
    assert sc.name == "sweden-youth-employment"
    assert sc.places.source == "sweden"


def test_dotted_override_sets_value_with_toml_types() -> None:
    sc = load_scenario("teaching", ["organisations.q=0.4", "scaling_up.enabled=false", "organisations.network=ring"])
    assert sc.organisations.q == 0.4
    assert sc.scaling_up.enabled is False
    assert sc.organisations.network == "ring"


def test_parse_override_needs_equals() -> None:
    with pytest.raises(ScenarioError, match="dotted.key=value"):
        parse_override("organisations.q")


def test_apply_overrides_does_not_mutate() -> None:
    data = {"organisations": {"q": 0.1}}
    out = apply_overrides(data, {"organisations.q": 0.2})
    assert data["organisations"]["q"] == 0.1 and out["organisations"]["q"] == 0.2


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"organisations": {"qq": 1}}, "organisations.qq", "unknown key (allowed keys: base_per_place"),
        ({"organisations": {"q": "lots"}}, "organisations.q", "valid number"),
        ({"organisations": {"q": 1.5}}, "organisations.q", "allowed range [0.0, 1.0]"),
        ({"run": {"steps": 0}}, "run.steps", "allowed range [1, 100000]"),
        ({"places": {"source": "mars"}}, "places.source", "sweden"),
    ],
)
def test_errors_name_file_field_and_range(data: dict, field: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml")
    assert field in msg
    assert fragment in msg


def test_cross_field_checks() -> None:
    with pytest.raises(ScenarioError, match="project_length_min"):
        scenario_from_dict({"levers": {"project_length_min": 40.0, "project_length_max": 30.0}})
    with pytest.raises(ScenarioError, match="sector_shares"):
        scenario_from_dict({"organisations": {"sector_shares": {"church": 1.0}}})
    with pytest.raises(ScenarioError, match="transitions"):
        scenario_from_dict({"process": {"transitions": {"understand": {"envision": 0.8, "mobilise": 0.5}}}})


def test_unknown_preset_lists_presets() -> None:
    with pytest.raises(ScenarioError, match="teaching"):
        load_scenario("no-such-preset")


def test_toml_roundtrip(tmp_path: Path) -> None:
    sc = load_scenario("district", ["levers.guardrails=0.9"])
    path = tmp_path / "again.toml"
    path.write_text(dump_toml(sc.to_toml_dict()), encoding="utf-8")
    again = load_scenario(path)
    assert again == sc


def test_every_field_is_documented() -> None:
    for section, info in Scenario.model_fields.items():
        sub = info.annotation
        fields = getattr(sub, "model_fields", None)
        if not fields:
            continue
        for name, f in fields.items():
            assert f.description, f"{section}.{name} has no description"


def test_parameter_reference_is_current() -> None:
    from sim.scenario import schema_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"
    assert doc.read_text(encoding="utf-8").strip() == schema_markdown().strip(), (
        "docs/scenarios.md is stale: run `python -m sim.scenario > docs/scenarios.md`"
    )


def test_one_entry_of_a_table_keeps_the_others() -> None:
    """``--set`` of one entry of a table-valued field keeps the table's other entries: those the file states (district
    gives its sector shares), else the schema's defaults (teaching gives none); before, the table became that one
    entry (every organisation public, or a cost table the schema rejects)."""
    from sim.scenario import OrganisationParams, ValueParams

    t = load_scenario("teaching", ["organisations.sector_shares.public=0.5", "value.site_cost_sek.project=30000"])
    assert t.organisations.sector_shares == {**OrganisationParams().sector_shares, "public": 0.5}
    assert t.value.site_cost_sek == {**ValueParams().site_cost_sek, "project": 30000.0}
    d = load_scenario("district", ["organisations.sector_shares.public=0.5"])
    assert d.organisations.sector_shares == {"public": 0.5, "civil_society": 0.5, "private": 0.15, "academia": 0.1}
    assert apply_overrides({}, {"places.columns.severity": {"column": "x"}}) == {
        "places": {"columns": {"severity": {"column": "x"}}}}  # a table with no default entries starts empty


@pytest.mark.parametrize(("value", "needle"), [
    ("2", "entry public is 2.0: every share must be in [0, 1]"),
    ("-0.5", "entry public is -0.5: every share must be in [0, 1]"),
])
def test_eligible_share_is_a_share(value: str, needle: str) -> None:
    """A sector's eligible share outside [0, 1], or a sector that does not exist, names the field."""
    with pytest.raises(ScenarioError, match=r"field organisations\.eligible_share: " + needle.replace(".", r"\.")
                       .replace("[", r"\[").replace("]", r"\]")):
        load_scenario("teaching", [f"organisations.eligible_share.public={value}"])
    with pytest.raises(ScenarioError, match=r"unknown sector\(s\) \['firms'\]"):
        load_scenario("teaching", ["organisations.eligible_share.firms=0.5"])


def test_table_entry_ranges_are_the_validators_ranges() -> None:
    """sim.params.TABLE_ENTRY_RANGES (used by --param, [calibration] params and sweeps) names every numeric table of
    the schema, and each range is the one its validator enforces: the bounds pass, just outside fails."""
    import math
    import typing

    from sim.params import TABLE_ENTRY_RANGES, Scenario, table_default
    from sim.scenario import ScenarioError, apply_overrides, scenario_from_dict

    tables = set()
    for sec, f in Scenario.model_fields.items():
        sub = getattr(f.annotation, "model_fields", {})
        for name, g in sub.items():
            if typing.get_origin(g.annotation) is dict and typing.get_args(g.annotation)[1] in (float, int):
                tables.add(f"{sec}.{name}")
    assert tables == set(TABLE_ENTRY_RANGES)
    for table, (lo, hi) in TABLE_ENTRY_RANGES.items():
        entry = next(iter(table_default(table.split("."))))
        key = f"{table}.{entry}"

        def ok(v: float, key: str = key) -> bool:
            try:
                scenario_from_dict(apply_overrides({}, {key: v}), "<test>")
                return True
            except ScenarioError:
                return False

        assert ok(lo) and not ok(lo - 0.01), key
        assert (ok(hi) and not ok(hi + 0.01)) if math.isfinite(hi) else ok(1e12), key
