"""The generated part of the ODD description (``docs/odd.md``): every parameter, its default, range and preset values.

``python -m sim.odd`` rewrites the block between :data:`BEGIN` and :data:`END` in
``docs/odd.md`` from the schema (:class:`sim.scenario.Scenario`) and the presets in
``scenarios/``; ``tests/test_odd.py`` checks that the block is current and that the
hand-written sections name every parameter.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, get_origin

from sim.scenario import Scenario, list_presets, load_scenario

ODD_PATH = Path(__file__).resolve().parent.parent / "docs" / "odd.md"
BEGIN = "<!-- BEGIN GENERATED: parameters (python -m sim.odd) -->"
END = "<!-- END GENERATED: parameters -->"


def sections() -> list[str]:
    """Names of the schema's sections (the TOML tables), in schema order."""
    return [name for name, info in Scenario.model_fields.items() if getattr(info.annotation, "model_fields", None)]


def parameters() -> list[str]:
    """Every parameter as a dotted ``section.field`` (top-level fields without a dot), in schema order."""
    out: list[str] = []
    for name, info in Scenario.model_fields.items():
        fields = getattr(info.annotation, "model_fields", None)
        out += [f"{name}.{f}" for f in fields] if fields else [name]
    return out


def _info(dotted: str) -> Any:
    model: Any = Scenario
    info = None
    for part in dotted.split("."):
        info = model.model_fields[part]
        model = info.annotation
    return info


def _value(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _fmt(v: Any) -> str:
    """A compact, table-safe rendering of a parameter value."""
    if isinstance(v, bool):
        s = "true" if v else "false"
    elif v is None:
        s = "none"
    elif isinstance(v, float):
        s = f"{v:g}"
    elif isinstance(v, int):
        s = str(v)
    elif isinstance(v, str):
        s = repr(v)
    elif isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
        s = f"{len(v)}x{len(v)} table (7.13)"
    elif isinstance(v, dict):
        s = ", ".join(f"{k} {_fmt(x)}" for k, x in v.items())
    elif isinstance(v, list):
        s = f"list of {len(v)}"
    else:
        s = str(v)
    return s.replace("|", "\\|")


def _range(info: Any) -> str:
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is not None or hi is not None:
        return f"[{_fmt(lo) if lo is not None else '-inf'}, {_fmt(hi) if hi is not None else 'inf'}]"
    if get_origin(info.annotation) is list:
        return "list of tables"
    ann = info.annotation.__name__ if isinstance(info.annotation, type) else str(info.annotation).replace("typing.", "")
    lit = re.fullmatch(r"Literal\[(.*)\]", ann)
    return ("one of " + lit.group(1) if lit else ann).replace("|", "\\|")


def parameter_table() -> str:
    """The generated appendix: one row per parameter, with the value of each preset where it differs."""
    default = Scenario()
    presets = {name: load_scenario(name) for name in list_presets()}
    head = ["parameter", "default", "range", *presets, "meaning (unit)"]
    lines = [
        f"{len(parameters())} parameters in {len(sections())} sections; a preset's column is blank where it keeps the "
        "default. Ranges are inclusive.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for dotted in parameters():
        info = _info(dotted)
        d = _value(default, dotted)
        cells = [f"`{dotted}`", _fmt(d), _range(info)]
        for sc in presets.values():
            v = _value(sc, dotted)
            cells.append("" if v == d or "." not in dotted else _fmt(v))
        cells.append((info.description or "").replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(text: str) -> str:
    """``text`` (the ODD page) with its generated block replaced by the current one."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + parameter_table() + "\n" + text[end:]


def main(path: Path = ODD_PATH) -> None:
    """Rewrite the generated block of ``docs/odd.md`` in place."""
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ODD_PATH)
