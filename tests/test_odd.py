"""docs/odd.md (the ODD description) is kept in step with the code.

Cheap checks, no model run: the seven ODD sections and eleven design concepts exist;
every state variable (dataclass field) and state code is named; every schema section and
parameter is named in the hand-written part; the schedule of section 3 is the order in
which ``SocialInnovationModel.step`` calls the rules; the defaults it cites are the schema's;
the generated parameter appendix is current.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from sim import odd

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
HAND = TEXT[: TEXT.index(odd.BEGIN)] + TEXT[TEXT.index(odd.END) :]  # without the generated appendix

SECTIONS = (
    "1. Purpose and patterns",
    "2. Entities, state variables and scales",
    "3. Process overview and scheduling",
    "4. Design concepts",
    "5. Initialisation",
    "6. Input data",
    "7. Submodels",
)
CONCEPTS = (
    "Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction", "Sensing",
    "Interaction", "Stochasticity", "Collectives", "Observation",
)


def section(number: int) -> str:
    """The text of ODD section ``number`` (from its heading to the next ``## `` heading)."""
    start = TEXT.index(f"\n## {SECTIONS[number - 1]}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end >= 0 else len(TEXT)]


def named(name: str, text: str = HAND) -> bool:
    """``name`` occurs as a whole word (dotted names: not as part of a longer dotted name)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w]|\.\w)", text) is not None


def test_the_seven_odd_sections_and_eleven_design_concepts_exist_in_order() -> None:
    heads = re.findall(r"^## (.+)$", TEXT, flags=re.M)
    assert [h for h in heads if h in SECTIONS] == list(SECTIONS), heads
    concepts = re.findall(r"^### (.+)$", section(4), flags=re.M)
    assert concepts == list(CONCEPTS)
    assert re.findall(r"^### (.+)$", section(1), flags=re.M) == ["Purpose", "Patterns"]


def test_every_state_variable_is_named() -> None:
    from sim.organisations import OrgState
    from sim.solution import Solution
    from sim.state import Clock, PolicyRecord, SimState, ValueAccounts
    from sim.world.places import Places

    missing = [
        f"{cls.__name__}.{f.name}"
        for cls in (OrgState, Places, SimState, Clock, PolicyRecord, ValueAccounts, Solution)
        for f in dataclasses.fields(cls)
        if f"`{f.name}`" not in section(2)
    ]
    assert not missing, f"docs/odd.md section 2 does not name these state variables: {missing}"


def test_every_state_code_is_named_with_its_enum() -> None:
    from sim.codes import Element, Form, Funding, Member, Sector, Status

    lines = section(2).splitlines()
    missing = [
        f"{enum.__name__}.{m.name}"
        for enum in (Status, Funding, Form, Element, Member, Sector)
        for m in enum
        if not any(f"`{enum.__name__}`" in line and f"`{m.name}`" in line for line in lines)
    ]
    assert not missing, f"docs/odd.md section 2 has no line naming these codes with their enum: {missing}"
    assert "`NOT_ENGAGED`" in section(2)


def test_every_schema_section_and_parameter_is_named_in_the_hand_written_part() -> None:
    missing = [f"[{s}]" for s in odd.sections() if f"`[{s}]`" not in HAND]
    missing += [p for p in odd.parameters() if not named(p)]
    assert not missing, (
        f"docs/odd.md (outside the generated appendix) does not describe: {missing}; "
        "say in section 7 (or 5) where each acts, with its unit and default"
    )


def scheduled_calls() -> list[str]:
    """The rules ``SocialInnovationModel.step`` calls, in source order.

    Functions imported from ``sim.elements`` and methods of the state, its clock and the
    collector (``refresh_solution``, ``tick``, ``note_reached``, ``collect``).
    """
    from sim.results import Collector
    from sim.state import Clock, SimState

    tree = ast.parse((ROOT / "sim" / "model.py").read_text(encoding="utf-8"))
    rules = {
        a.asname or a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim.elements")
        for a in node.names
    }
    methods = {
        name for cls in (SimState, Clock, Collector) for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }
    model = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SocialInnovationModel")
    step = next(n for n in model.body if isinstance(n, ast.FunctionDef) and n.name == "step")
    calls = sorted((n for n in ast.walk(step) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    out = []
    for c in calls:
        if isinstance(c.func, ast.Name) and c.func.id in rules:
            out.append(c.func.id)
        elif isinstance(c.func, ast.Attribute) and c.func.attr in methods:
            out.append(c.func.attr)
    return out


def test_the_schedule_is_the_order_of_the_step() -> None:
    calls = scheduled_calls()
    assert calls[:4] == ["understand", "envision", "mobilise", "develop"] and "move_between_elements" in calls
    items = re.findall(r"^\d+\. `([A-Za-z_][\w.]*)`", section(3), flags=re.M)
    assert items == calls, (
        "the numbered schedule in docs/odd.md section 3 (first `name` of each item) must list the calls of "
        f"SocialInnovationModel.step in order:\n  doc:  {items}\n  code: {calls}"
    )


def test_every_rule_of_the_step_has_a_submodel() -> None:
    for name in set(scheduled_calls()) - {"tick", "collect", "note_reached"}:
        assert f"`{name}`" in section(7), f"section 7 has no submodel naming `{name}`"


def test_defaults_cited_are_the_schema_defaults() -> None:
    from sim.scenario import Scenario

    defaults = Scenario().model_dump()
    cited = re.findall(r"`([a-z_]+)\.([a-z_0-9]+)(?:`\s*=\s*|\s*=\s*)(-?[0-9][0-9_.]*)", HAND)
    assert len(cited) >= 60
    for sect, name, value in cited:
        assert sect in defaults and name in defaults[sect], f"docs/odd.md cites unknown {sect}.{name}"
        assert float(defaults[sect][name]) == float(value.rstrip(".")), (
            f"docs/odd.md says {sect}.{name} = {value}, the schema default is {defaults[sect][name]}"
        )


def test_the_parameter_appendix_is_current() -> None:
    assert odd.render(TEXT) == TEXT, "the appendix of docs/odd.md is stale: run `python -m sim.odd`"


def test_a_parameter_added_to_the_schema_without_documentation_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above see a new field: it is not named in the text, and the appendix goes stale."""
    from pydantic import create_model

    from sim.scenario import LeverParams, Scenario

    levers = create_model("LeverParams", __base__=LeverParams, new_lever=(float, 0.5))
    bigger = create_model("Scenario", __base__=Scenario, levers=(levers, levers()))
    load = odd.load_scenario
    monkeypatch.setattr(odd, "Scenario", bigger)
    monkeypatch.setattr(odd, "load_scenario", lambda name: bigger.model_validate(load(name).model_dump()))
    assert "levers.new_lever" in odd.parameters()
    assert not named("levers.new_lever")
    assert odd.render(TEXT) != TEXT


def test_odd_is_linked_from_readme_and_model_doc() -> None:
    assert "docs/odd.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    head = (ROOT / "docs" / "model.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "odd.md" in head
