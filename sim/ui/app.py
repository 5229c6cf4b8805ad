# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""The page served by ``sim ui``: one model per browser session.

Solara runs :func:`Page` once per browser connection (a "kernel"); every piece of
state below is created with ``solara.use_reactive`` / ``solara.use_memo`` inside it,
so each participant in a workshop has a model of their own. Nothing here is a
module-level model.

Mesa's ``SolaraViz`` was the starting point, and the page keeps its layout (app bar,
sidebar with controls, a main area with the model's pictures). Its parts are replaced
where they fall short for this model: its controller rebuilds a model with
``type(model)(**params)`` and Mesa's own scenario object (ours is a validated
:class:`sim.scenario.Scenario`), applies parameters only on reset, has English-only
labels, and its plot components redraw whole matplotlib images or need vega from a CDN.
"""

from __future__ import annotations

import solara
import solara.lab

from sim.ui import logic
from sim.ui.compare import CompareView
from sim.ui.i18n import Lang, tr
from sim.ui.live import Built, LiveSidebar, LiveView, PlayStats, build_live_model

CSS = """
.v-application .sim-lever .v-input__slot { margin-bottom: 0; }
.sim-step-counter { margin-right: 8px; }
.v-card.sim-card-levers, .v-card.sim-card-controls, .v-card.sim-card-scenario { margin-bottom: 8px; }
"""


@solara.component
def LiveSession(lang: Lang, settings: solara.Reactive[logic.Settings], show_sidebar: bool) -> None:
    """The live view of this session: builds the model whenever the settings change (or on reset)."""
    reset_count = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("10")
    tick = solara.use_reactive(0)
    stats = solara.use_memo(PlayStats, [])
    built: Built = solara.use_memo(lambda: build_live_model(settings.value), [settings.value, reset_count.value])

    def reset() -> None:
        playing.set(False)
        reset_count.set(reset_count.value + 1)

    def pause_when_hidden() -> None:
        if not show_sidebar:
            playing.set(False)

    solara.use_effect(pause_when_hidden, [show_sidebar])
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}, classes=["sim-live"]):
        with solara.Column(style={"width": "340px", "min-width": "340px"}, classes=["sim-sidebar"]):
            LiveSidebar(settings, built, playing, speed, tick, stats, reset, lang)
        with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}, classes=["sim-main"]):
            LiveView(built, settings.value, tick, stats, playing, lang)


@solara.component
def Page() -> None:
    """The whole app: language switch, live view and compare view (both stay alive when switching tabs)."""
    lang = solara.use_reactive("sv")
    tab = solara.use_reactive(0)
    settings = solara.use_reactive(logic.Settings())
    language: Lang = lang.value  # type: ignore[assignment]

    solara.Style(CSS)
    solara.Title(tr("app_title", language))
    with solara.AppBar():
        solara.AppBarTitle(tr("app_title", language))
        solara.v.Spacer()
        with solara.ToggleButtonsSingle(value=lang, classes=["sim-lang"], style={"margin-right": "12px"}):
            solara.Button("Svenska", value="sv", text=True)
            solara.Button("English", value="en", text=True)
    with solara.lab.Tabs(value=tab):
        with solara.lab.Tab(tr("tab_live", language), classes=["sim-tab-live"]):
            LiveSession(language, settings, tab.value == 0)
        with solara.lab.Tab(tr("tab_compare", language), classes=["sim-tab-compare"]):
            CompareView(settings.value, language)
