"""The debrief: the room's run beside its autopilot twin, and each role's decisions on a timeline.

Exports: ``report.html`` (plots embedded as SVG) and ``decisions.parquet`` (every decision, one row per field).
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from sim.interventions import markers
from sim.workshop.charts import COLOURS, Line, line_chart
from sim.workshop.decisions import AUTO, is_auto
from sim.workshop.i18n import Lang, tr
from sim.workshop.room import Room

DECISIONS_FILE = "decisions.parquet"
"""The table of every decision in force, written beside ``room.json`` after every round."""
DEBRIEF_COLUMNS = ("orgs_adopted", "sites_running", "people_benefiting", "value_social", "visible_value")
"""Model-table columns set side by side in the debrief."""


def rows_of(model: Any) -> list[dict[str, float]]:
    """The collected model-level rows (one per step, step 0 first)."""
    return model.collector.rows


def first_decision(room: Room) -> tuple[int, float] | None:
    """(step, month) at the start of the first round with a decision that is not all ``"auto"``, or None."""
    for r in room.played:
        if any(not is_auto(d) for d in r.decisions.values()):
            return r.start_step, r.start_step * room.scenario.run.dt
    return None


def _same(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def identical_until(room: Room) -> int:
    """The last step up to which the room's rows equal the autopilot's in every column (-1 if step 0 differs)."""
    last = -1
    for a, b in zip(rows_of(room.model), rows_of(room.autopilot), strict=False):
        if not all(_same(a[k], b[k]) for k in a):
            break
        last = int(a["step"])
    return last


def series(room: Room, column: str) -> dict[str, list[float]]:
    """``month``, ``room`` and ``autopilot`` values of a model-table column."""
    ra, rb = rows_of(room.model), rows_of(room.autopilot)
    return {"month": [r["month"] for r in ra], "room": [float(r[column]) for r in ra],
            "autopilot": [float(r[column]) for r in rb[: len(ra)]]}


def debrief_charts(room: Room, lang: Lang | str) -> list[str]:
    """One SVG per :data:`DEBRIEF_COLUMNS`: the room (solid) beside the autopilot (dashed), rounds marked."""
    marks = [(r.start_step * room.scenario.run.dt, f"{tr('round', lang)} {r.number}") for r in room.played]
    marks += [(m.month, m.label, "#6a1b9a") for m in markers(room.scenario)]  # the scenario's own interventions
    out = []
    for col in DEBRIEF_COLUMNS:
        s = series(room, col)
        out.append(line_chart(tr(col, lang), [Line(tr("room_run", lang), s["month"], s["room"], COLOURS[0]),
                                              Line(tr("autopilot", lang), s["month"], s["autopilot"], COLOURS[2], "5,3")],
                              marks))
    return out


def role_label(room: Room, key: str, lang: Lang | str) -> str:
    """The role's name in ``lang`` (with its place)."""
    r = room.role(key)
    return tr(f"role_{r.kind}", lang, place=r.place_name)


def decision_text(d: dict[str, Any], lang: Lang | str) -> str:
    """A short text of a decision's fields that are not ``"auto"``."""
    parts = []
    for k, v in d.items():
        if v != AUTO:
            val = tr(f"o_{v}", lang) if isinstance(v, str) else str(v)
            parts.append(f"{tr(f'f_{k}', lang)}: {val}")
    return "; ".join(parts) or tr("o_auto", lang)


def timeline(room: Room, lang: Lang | str) -> list[dict[str, Any]]:
    """Per role: its label and, per played round, the decision in force, its source and the rows it changed."""
    out = []
    for role in room.roles:
        entries = [{"round": r.number, "month": r.start_step * room.scenario.run.dt, "source": r.sources[role.key],
                    "player": r.players.get(role.key, ""), "text": decision_text(r.decisions[role.key], lang),
                    "decision": r.decisions[role.key], "changed": r.changed.get(role.key, [])} for r in room.played]
        out.append({"role": role.key, "label": role_label(room, role.key, lang), "agents": list(role.agents),
                    "rounds": entries})
    return out


def debrief_data(room: Room, lang: Lang | str) -> dict[str, Any]:
    """Everything the debrief shows (JSON-ready)."""
    first = first_decision(room)
    return {
        "first_decision_step": None if first is None else first[0],
        "first_decision_month": None if first is None else first[1],
        "identical_until_step": identical_until(room),
        "charts": debrief_charts(room, lang),
        "timeline": timeline(room, lang),
        "columns": {c: series(room, c) for c in DEBRIEF_COLUMNS},
    }


def decisions_frame(room: Room) -> pd.DataFrame:
    """Every decision in force, one row per round, role and field (with who held the role and why it applied)."""
    rows = []
    for r in room.played:
        for role in room.roles:
            for fname, value in r.decisions[role.key].items():
                rows.append({
                    "round": r.number, "start_step": r.start_step, "start_month": r.start_step * room.scenario.run.dt,
                    "steps": r.steps, "role": role.key, "kind": role.kind, "player": r.players.get(role.key, ""),
                    "source": r.sources[role.key], "field": fname, "value": str(value),
                    "changed_organisations": len(r.changed.get(role.key, [])),
                })
    cols = ["round", "start_step", "start_month", "steps", "role", "kind", "player", "source", "field", "value",
            "changed_organisations"]
    return pd.DataFrame(rows, columns=cols)


def write_decisions(room: Room, path: Path) -> Path:
    """Write :func:`decisions_frame` to ``path`` (Parquet; temporary file, then one rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    decisions_frame(room).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def report_html(room: Room, lang: Lang | str = "sv") -> str:
    """A self-contained HTML report of the game: charts (inline SVG), the identity check and the timeline."""
    d = debrief_data(room, lang)
    first = d["first_decision_month"]
    note = tr("no_decision", lang) if first is None else tr("identical", lang, m=f"{first:g}")
    if first is not None and d["identical_until_step"] < d["first_decision_step"]:
        note = f"! {note}: not so (identical until step {d['identical_until_step']})"
    rows = []
    for t in d["timeline"]:
        cells = "".join(f"<td><b>{escape(e['text'] if e['source'] != 'auto' else tr('o_auto', lang))}</b>"
                        f"<br><small>{escape(tr('source_' + e['source'], lang))} {escape(e['player'])}</small></td>"
                        for e in t["rounds"])
        rows.append(f"<tr><th>{escape(t['label'])}</th>{cells}</tr>")
    head = "".join(f"<th>{tr('round', lang)} {r.number}<br><small>{tr('month', lang)} "
                   f"{r.start_step * room.scenario.run.dt:g}</small></th>" for r in room.played)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{tr('debrief', lang)}: {escape(room.scenario.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem;max-width:1100px}}.grid{{display:grid;
grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem}}table{{border-collapse:collapse;font-size:.9rem}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}.wrap{{overflow-x:auto}}</style></head><body>
<h1>{tr('debrief', lang)}: {escape(room.scenario.name)}</h1>
<p>{escape(room.scenario_label)} seed {room.seed}; {len(room.played)} {tr('round', lang).lower()}; {escape(note)}</p>
<div class="grid">{''.join(d['charts'])}</div>
<h2>{tr('timeline', lang)}</h2><div class="wrap"><table><tr><th>{tr('role', lang)}</th>{head}</tr>{''.join(rows)}</table></div>
</body></html>"""
