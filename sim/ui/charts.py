# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""SVG chart components, drawn in the browser by small Vue templates.

Why not matplotlib or altair: a matplotlib figure is re-rendered to a PNG on the
server for every change, and Solara's altair needs vega from a CDN. Here the Python
side only sends the *data* (one JSON string trait of an existing widget, ``spec``); the browser
patches the existing SVG. When a step adds a point, the figure is updated in place:
nothing is rebuilt on the server and no image is sent. The data travel as one JSON
string rather than nested lists so that neither Solara's renderer nor traitlets walk
thousands of numbers on every step.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import solara

VUE = Path(__file__).resolve().parent / "vue"


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (a gap)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def pack(**data: Any) -> str:
    """The ``data`` trait of a chart: compact JSON; NaN becomes null (a gap), as JSON has no NaN."""
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except ValueError:
        return json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, ensure_ascii=False)


@solara.component_vue(str(VUE / "chart.vue"))
def ChartWidget(
    spec: str = "{}",
    title: str = "",
    stacked: bool = False,
    x_range: list[float] | None = None,
    y_range: list[float] | None = None,
    x_label: str = "",
    y_label: str = "",
    unit: str = "",
    hline: float | None = None,
    height: int = 260,
    text_px: int = 14,
    lang: str = "en",
) -> None:
    """The Vue widget behind :func:`Chart`; ``spec`` is :func:`pack` output (not ``data``: Vue reserves it)."""


def Chart(
    title: str = "",
    x: list[float] | None = None,
    series: list[dict[str, Any]] | None = None,
    stacked: bool = False,
    points: list[dict[str, Any]] | None = None,
    paths: list[dict[str, Any]] | None = None,
    legend: list[dict[str, str]] | None = None,
    x_range: list[float] | None = None,
    y_range: list[float] | None = None,
    x_label: str = "",
    y_label: str = "",
    unit: str = "",
    hline: float | None = None,
    height: int = 260,
    text_px: int = 14,
    lang: str = "en",
    markers: list[dict[str, Any]] | None = None,
) -> solara.Element:
    """A line, stacked-area, band or scatter chart.

    Args:
        title: heading above the chart.
        x: x values shared by all ``series``.
        series: ``[{"name", "color", "values", ("lo", "hi")}]``; ``None`` in values is a gap;
            ``lo``/``hi`` draw a shaded band.
        stacked: stack the series as areas.
        points: scatter points ``[{"x", "y", "color", "label"}]`` (hover shows the label).
        paths: x/y paths ``[{"name", "color", "xy": [[x, y], ...]}]``; the last point is marked.
        legend: extra legend entries ``[{"name", "color"}]``.
        x_range: fixed x axis range (default: from the data).
        y_range: fixed y axis range (default: from the data).
        x_label: x axis title.
        y_label: y axis title.
        unit: appended to values in the hover box.
        hline: draw a dashed horizontal line at this y (e.g. 0 for differences).
        height: height in SVG units (the width is 600, scaled to the card).
        text_px: size of the chart's text on screen, CSS pixels (the browser scales it to the card's width).
        lang: ``"sv"`` (decimal comma, space between thousands) or ``"en"`` for the axis and hover numbers.
        markers: vertical marks on the x axis ``[{"x", "x2" (end or None), "label", "title"}]``
            (interventions, :func:`sim.ui.logic.marker_spec`).
    """
    spec = pack(
        x=x or [], series=series or [], points=points or [], paths=paths or [], legend=legend or [],
        markers=markers or [],
    )
    return ChartWidget(
        spec=spec, title=title, stacked=stacked, x_range=x_range, y_range=y_range, x_label=x_label,
        y_label=y_label, unit=unit, hline=hline, height=height, text_px=text_px, lang=lang,
    )


@solara.component_vue(str(VUE / "place_map.vue"))
def PlaceMapWidget(
    places: str = "[]", state: str = "{}", title: str = "", note: str = "", max_height: int = 620,
    outlines: str = "[]",
) -> None:
    """The Vue widget behind :func:`PlaceMap`."""


def PlaceMap(
    places: list[dict[str, float]],
    colors: list[str],
    info: list[str],
    legend: list[dict[str, str]],
    title: str = "",
    note: str = "",
    max_height: int = 620,
    places_json: str | None = None,
    outlines_json: str = "[]",
) -> solara.Element:
    """Places as circles at their coordinates (north up); hovering one shows ``info[i]``.

    ``places`` (positions, radii) changes only with the model (pass ``places_json`` to
    reuse its serialisation); each step sends only colours and hover texts.
    ``outlines_json``: municipality outlines (:func:`sim.world.sweden_map.outlines`), filled with their place's colour.
    """
    return PlaceMapWidget(
        places=places_json if places_json is not None else json.dumps(places),
        state=pack(colors=colors, info=info, legend=legend), title=title, note=note, max_height=max_height,
        outlines=outlines_json,
    )


@solara.component_vue(str(VUE / "flow_view.vue"))
def FlowViewWidget(
    spec: str = "{}", title: str = "", size: float = 420.0, note: str = "", text_px: int = 14
) -> None:
    """The Vue widget behind :func:`FlowView`."""


def FlowView(
    nodes: list[dict[str, Any]], arrows: list[dict[str, Any]], title: str = "", size: float = 420.0, note: str = "",
    text_px: int = 14,
) -> solara.Element:
    """The six elements on a circle with an arrow per direction of movement (see :func:`sim.ui.logic.flow_geometry`).

    ``text_px``: size of the labels on screen, CSS pixels.
    """
    return FlowViewWidget(spec=pack(nodes=nodes, arrows=arrows), title=title, size=size, note=note, text_px=text_px)


@solara.component_vue(str(VUE / "scenario_upload.vue"))
def ScenarioUpload(label: str = "", event_file_chosen: Any = None) -> None:
    """A button that opens a file chooser and sends ``{"name", "text"}`` of the chosen file to ``event_file_chosen``."""
