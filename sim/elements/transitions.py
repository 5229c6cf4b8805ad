"""The non-linear process: moves between the six elements, as data.

The base matrix ``T`` (``process.transitions`` in a scenario; rows are the current
element, columns the next, monthly probabilities, the rest of a row is "stay") is
modulated per organisation:

* develop -> understand is multiplied by ``1 + poor_fit_to_understand * (1 - L)``;
* value -> develop by ``1 + low_value_to_develop * (1 - E/e)``;
* any -> mobilise by ``1 + shortfall_to_mobilise * shortfall``, with
  ``shortfall = max(0, 0.3 - resources) / 0.3`` (resource shortfall);
* entering a new place -> understand happens at adoption (:mod:`sim.elements.spread`).

Rows are rescaled when they exceed 1. One uniform per organisation picks the move.
Value is measured every step whatever the element (:mod:`sim.elements.value`).
"""

from __future__ import annotations

import numpy as np

from sim.scenario import ELEMENTS, ProcessParams, Scenario
from sim.state import SimState

IDX = {e: i for i, e in enumerate(ELEMENTS)}
SHORTFALL_LEVEL = 0.3


def transition_matrix(params: ProcessParams) -> np.ndarray:
    """The base 6x6 monthly transition matrix (diagonal = probability to stay)."""
    t = np.zeros((len(ELEMENTS), len(ELEMENTS)))
    for src, row in params.transitions.items():
        for dst, p in row.items():
            if dst != src:
                t[IDX[src], IDX[dst]] = p
    np.fill_diagonal(t, 0.0)
    np.fill_diagonal(t, 1.0 - t.sum(axis=1))
    return t


def move_between_elements(state: SimState, params: Scenario, u: np.ndarray) -> np.ndarray:
    """Move running organisations between elements. Returns a 6x6 count of the moves made."""
    o = state.orgs
    proc = params.process
    flows = np.zeros((len(ELEMENTS), len(ELEMENTS)), dtype=np.int64)
    sel = np.flatnonzero(o.running & (o.element >= 0))
    if len(sel) == 0:
        return flows
    base = state.transitions.copy()
    np.fill_diagonal(base, 0.0)
    cur = o.element[sel].astype(np.int64)
    rates = base[cur]  # (m, 6) monthly probabilities of leaving to each element
    fit = np.nan_to_num(o.fit[sel], nan=1.0)
    rates[:, IDX["understand"]] *= np.where(cur == IDX["develop"], 1.0 + proc.poor_fit_to_understand * (1 - fit), 1.0)
    e_ref = max(params.solution.effect_size, 1e-12)
    low = 1.0 - np.clip(o.effectiveness[sel] / e_ref, 0.0, 1.0)
    rates[:, IDX["develop"]] *= np.where(cur == IDX["value"], 1.0 + proc.low_value_to_develop * low, 1.0)
    shortfall = np.clip((SHORTFALL_LEVEL - o.resources[sel]) / SHORTFALL_LEVEL, 0.0, 1.0)
    rates[:, IDX["mobilise"]] *= 1.0 + proc.shortfall_to_mobilise * shortfall
    rates[np.arange(len(sel)), cur] = 0.0
    probs = state.ps(rates)
    total = probs.sum(axis=1)
    probs /= np.maximum(total, 1.0)[:, None]
    cum = np.cumsum(probs, axis=1)
    uu = u[sel]
    nxt = (cum <= uu[:, None]).sum(axis=1)  # 6 means stay
    moved = nxt < len(ELEMENTS)
    np.add.at(flows, (cur[moved], nxt[moved]), 1)
    o.element[sel[moved]] = nxt[moved]
    state.note_developed()
    return flows
