"""Intervention markers on charts: a labelled vertical line at the month each intervention starts.

The markers come from :func:`sim.interventions.markers` of the scenario a run (or a
comparison's variant) was made from; the scenario is read from the folder
(``manifest.json`` of a run, ``scenarios.json`` of a comparison), so a report never
depends on the scenario file still being where it was.
"""

from __future__ import annotations

from typing import Any


def scenario_markers(data: dict[str, Any] | None, source: str = "stored scenario") -> list[Any]:
    """The intervention markers of a stored scenario dict (``[]`` when there is none or it has no interventions).

    Markers need only ``run.start`` and ``interventions``; if the whole stored scenario no
    longer validates here (e.g. a ``places.data`` file has moved), those two alone are used.
    :class:`sim.report.page.ReportError` naming ``source`` if even they do not validate.
    """
    if not data or not data.get("interventions"):
        return []
    from sim.interventions import markers
    from sim.report.page import ReportError
    from sim.scenario import ScenarioError, scenario_from_dict

    try:
        return list(markers(scenario_from_dict(data, source=source)))
    except ScenarioError:
        pass
    run = data.get("run") if isinstance(data.get("run"), dict) else {}
    minimal = {"run": {k: run[k] for k in ("start", "dt") if k in run}, "interventions": data["interventions"]}
    try:
        return list(markers(scenario_from_dict(minimal, source=source)))
    except ScenarioError as err:
        raise ReportError(f"{source}: the interventions cannot be read ({err})") from None


def draw_markers(ax: Any, markers: list[Any], colour: str = "#444444", label: bool = True) -> None:
    """Dotted vertical lines at each marker's start month [model months]; its label written along the line.

    Draw after the data: markers outside the axes' month range (an intervention after
    the run's last step) are left out and the range is kept as the data set it.
    """
    lo, hi = ax.get_xlim()
    for mk in markers:
        if not lo <= mk.month <= hi:
            continue
        ax.axvline(mk.month, color=colour, ls=":", lw=1.1, alpha=0.9)
        if label:
            ax.text(mk.month, 0.98, f" {mk.label}", transform=ax.get_xaxis_transform(), rotation=90,
                    va="top", ha="right", fontsize=6.5, color=colour, alpha=0.9)
    ax.set_xlim(lo, hi)


def marker_rows(markers: list[Any], scenario: str | None = None) -> list[list[Any]]:
    """Table rows of markers: (scenario,) start month, end month, date, kind, label."""
    rows = []
    for mk in markers:
        row = [mk.month, mk.end_month, mk.date, mk.kind, mk.label]
        rows.append(([scenario] if scenario is not None else []) + row)
    return rows
