# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""Mesa view: the model in Mesa's own ``SolaraViz``, for researchers who know Mesa.

Served by ``sim ui --view mesa`` (or ``solara run sim/ui/mesa_view.py``). It is the
secondary page: the main interface (``sim ui``, :mod:`sim.ui.app`) uses components of
its own (see its docstring and docs/ui.md). This one is plain SolaraViz: Mesa's
controls (Reset / play / Step, play and render intervals), Mesa's parameter inputs,
Mesa's matplotlib plot components, plus one custom component (a map of the places).

How the model fits SolaraViz:

* SolaraViz rebuilds the model on *Reset* with ``type(model)(**params)``, where
  ``params`` are the inputs below plus a Mesa ``scenario=`` object;
  :class:`MesaViewModel` takes those keyword arguments, turns them into overrides of a
  preset (:func:`sim.scenario.load_scenario`) and ignores Mesa's scenario object.
  Parameters take effect on Reset, as usual in SolaraViz.
* Mesa's plot components read ``model.datacollector.get_model_vars_dataframe()``;
  :class:`FrameAdapter` answers with the model's own per-step table
  (:meth:`sim.results.Collector.model_frame`: row 0 is the initial state, row ``n``
  the state after step ``n``).
* Plots use the matplotlib backend: the altair backend needs vega from a CDN.
* One model per browser session: :func:`Page` builds it with ``solara.use_memo``
  (a model created at import time would be shared by every tab until its first Reset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.model import SocialInnovationModel
from sim.results import PLACE_STATES, place_states
from sim.scenario import ELEMENTS, load_scenario

PRESETS = ("teaching", "district")
"""Presets offered here (small enough to step interactively)."""

LEVERS = ("guardrails", "adaptation_rate", "measurement_effort", "institutionalisation_support")
"""Levers exposed as Mesa sliders (the main UI has all of them)."""

PLACE_COLORS = {"not_reached": "#c8c8c8", "pilot": "#f5a623", "permanent": "#2e7d32", "discontinued": "#c62828"}


class FrameAdapter:
    """What Mesa's plot components expect of ``model.datacollector``."""

    def __init__(self, model: SocialInnovationModel) -> None:
        self.model = model

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The model's per-step table (one row per step, the initial state first)."""
        return self.model.collector.model_frame()


class MesaViewModel(SocialInnovationModel):
    """:class:`SocialInnovationModel` built from keyword arguments, as SolaraViz rebuilds models.

    Args:
        preset: scenario preset (``teaching`` or ``district``; any preset name or file works).
        seed: root seed (an int, or text holding one, as Mesa's text input sends it).
        guardrails, adaptation_rate, measurement_effort, institutionalisation_support:
            the levers of the same name (``levers.*`` of the scenario).
        rng: accepted for Mesa's sake; the seed is ``seed``.
        **_: ignored (SolaraViz passes a Mesa ``scenario`` object on Reset).
    """

    def __init__(
        self,
        preset: str = "teaching",
        seed: int | str = 7,
        guardrails: float = 0.4,
        adaptation_rate: float = 0.08,
        measurement_effort: float = 0.3,
        institutionalisation_support: float = 0.3,
        rng: Any = None,
        **_: Any,
    ) -> None:
        levers = {
            "guardrails": guardrails,
            "adaptation_rate": adaptation_rate,
            "measurement_effort": measurement_effort,
            "institutionalisation_support": institutionalisation_support,
        }
        scenario = load_scenario(preset, {f"levers.{k}": float(v) for k, v in levers.items()})
        super().__init__(scenario, seed=parse_seed(seed))
        self.preset = preset
        self.datacollector = FrameAdapter(self)


def parse_seed(seed: int | str | None, default: int = 7) -> int:
    """An int seed from Mesa's text input (blank or non-numeric text gives ``default``)."""
    try:
        return int(str(seed).strip())
    except ValueError:
        return default


def model_params() -> dict[str, Any]:
    """SolaraViz inputs; the keys are :class:`MesaViewModel`'s keyword arguments."""
    return {
        "preset": {"type": "Select", "value": "teaching", "values": list(PRESETS), "label": "Preset"},
        "seed": {"type": "InputText", "value": "7", "label": "Seed"},
        "guardrails": Slider("Guardrails (fidelity support)", 0.4, 0.0, 1.0, 0.05),
        "adaptation_rate": Slider("Adaptation rate [1/month]", 0.08, 0.0, 0.5, 0.01),
        "measurement_effort": Slider("Measurement effort", 0.3, 0.0, 1.0, 0.05),
        "institutionalisation_support": Slider("Institutionalisation support", 0.3, 0.0, 1.0, 0.05),
    }


def place_map_figure(model: SocialInnovationModel) -> Figure:
    """Places at their coordinates, coloured by state (not reached, pilot, permanent, discontinued)."""
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    p = model.places
    states = place_states(model.state)
    size = 20 + 180 * np.sqrt(p.population / max(float(p.population.max()), 1.0))
    for i, name in enumerate(PLACE_STATES):
        sel = states == i
        ax.scatter(
            p.lon[sel],
            p.lat[sel],
            s=size[sel],
            c=PLACE_COLORS[name],
            label=f"{name} ({int(sel.sum())})",
            edgecolors="#444",
            linewidths=0.5,
        )
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    ax.set_title(f"Places, month {model.month:g}")
    ax.legend(loc="best", fontsize="small")
    return fig


def PlaceMapComponent(model: SocialInnovationModel) -> solara.Element:
    """Custom SolaraViz component: the place map (redrawn after each step/render)."""
    update_counter.get()
    return solara.FigureMatplotlib(place_map_figure(model), format="png", bbox_inches="tight")


def components() -> list:
    """Mesa plot components (matplotlib backend) and the place map, all on SolaraViz's page 0."""
    return [
        make_plot_component(["orgs_adopted", "sites_running", "places_reached"], backend="matplotlib"),
        make_plot_component(["people_aware", "people_participating", "people_benefiting"], backend="matplotlib"),
        make_plot_component([f"orgs_in_{e}" for e in ELEMENTS], backend="matplotlib"),
        make_plot_component(["value_social", "visible_value"], backend="matplotlib"),
        make_plot_component(["mean_fidelity", "mean_fit"], backend="matplotlib"),
        (PlaceMapComponent, 0),
    ]


@solara.component
def Page() -> solara.Element:
    """One SolaraViz with a model of this browser session's own."""
    model = solara.use_memo(MesaViewModel, [])
    return SolaraViz(model, components=components(), model_params=model_params(), name="Mesa view: sim")


page = Page()
"""The element ``solara run sim/ui/mesa_view.py`` serves."""
