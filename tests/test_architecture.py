"""The shape of the code: one data path, no import cycles, the elements take the state (not the model)."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"


def module_name(path: Path) -> str:
    rel = path.relative_to(SIM.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in SIM.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """Every ``sim`` module ``name`` imports: top level, inside functions and under ``TYPE_CHECKING`` alike."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:  # `import sim.x.y` of a name inside a module
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


GRAPH = {name: imports_of(name) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_sim() -> None:
    assert "sim.model" in GRAPH["sim.api"]  # the graph is read at all
    assert cycles(GRAPH) == []


def test_elements_take_the_state_not_the_model() -> None:
    for name, deps in GRAPH.items():
        if name.startswith("sim.elements"):
            assert "sim.model" not in deps, name
            assert "sim.state" in deps or name == "sim.elements", name


def test_the_model_is_a_short_shell() -> None:
    lines = (SIM / "model.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 150


def test_the_model_imports_none_of_ui_cli_reports_or_explore() -> None:
    core = ["sim.model", "sim.state", "sim.world.build", "sim.results"] + [m for m in MODULES if m.startswith("sim.elements")]
    for name in core:
        for dep in GRAPH[name]:
            assert not dep.startswith(("sim.ui", "sim.cli", "sim.report", "sim.explore", "sim.validation")), (name, dep)


def test_codes_agree_with_the_scenario_names() -> None:
    from sim.codes import Element, Form, Sector, names
    from sim.scenario import ELEMENTS, FORMS, SECTORS

    assert names(Element) == ELEMENTS and names(Form) == FORMS and names(Sector) == SECTORS


def test_defaults_cited_in_the_model_doc_are_the_schema_defaults() -> None:
    """Every ``section.field = value`` the model doc cites is the schema's default (docs and code agree)."""
    import re

    from sim.scenario import Scenario

    text = (SIM.parent / "docs" / "model.md").read_text(encoding="utf-8")
    defaults = Scenario().model_dump()
    cited = re.findall(r"`([a-z_]+)\.([a-z_]+)(?:`\s*=\s*|\s*=\s*)(-?[0-9][0-9_.]*)", text)
    assert len(cited) >= 20  # the doc cites its defaults at all
    for section, name, value in cited:
        assert section in defaults and name in defaults[section], f"docs/model.md cites unknown {section}.{name}"
        assert float(defaults[section][name]) == float(value.rstrip(".")), (
            f"docs/model.md says {section}.{name} = {value}, the schema default is {defaults[section][name]}"
        )
