"""Interventions: what a strategy does over time (``[[interventions]]`` in a scenario file).

* :mod:`sim.interventions.schema` — the validated kinds (offer, grants, training,
  measurement, seed, funding_cut, set) and their fields;
* :mod:`sim.interventions.runtime` — the rules that run them in a model step, with
  their budgets and spending;
* :func:`markers` — where each intervention starts (and ends), for charts.

This package's ``__init__`` imports only the schema (the parameter schema in
:mod:`sim.params` builds on it); import the runtime from its module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.dates import date_of
from sim.interventions.schema import KINDS, Intervention, describe

__all__ = ["KINDS", "Intervention", "Marker", "markers"]


@dataclass(frozen=True)
class Marker:
    """Where an intervention shows on a chart.

    Attributes:
        month: model month it starts [months].
        end_month: model month it ends (exclusive) [months], None when it runs to the end.
        date: calendar month it starts ("YYYY-MM") when the scenario has ``run.start``.
        kind: the intervention's kind.
        label: short human label (its own ``label``, else kind and places).
        index: its position in the scenario's list (0-based).
    """

    month: float
    end_month: float | None
    date: str | None
    kind: str
    label: str
    index: int


def markers(scenario: Any) -> list[Marker]:
    """The markers of a scenario's interventions, in file order (empty without interventions)."""
    start = scenario.run.start
    out = []
    for i, iv in enumerate(getattr(scenario, "interventions", None) or []):
        m = iv.start_month(start)
        end = iv.stop_month(start)
        out.append(Marker(month=m, end_month=None if math.isinf(end) else end,
                          date=date_of(m, start) if start else None, kind=iv.kind, label=describe(iv), index=i))
    return out
