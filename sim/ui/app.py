# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""The page served by ``sim ui``: one model per browser session.

Solara runs :func:`Page` once per browser connection (a "kernel"); every piece of
state below is created with ``solara.use_reactive`` / ``solara.use_memo`` inside it,
so each participant in a workshop has a model of their own (in a worker process of its
own, :mod:`sim.ui.stepper`). Nothing here is a module-level model.

Mesa's ``SolaraViz`` was the starting point, and the page keeps its layout (app bar,
sidebar with controls, a main area with the model's pictures). Its parts are replaced
where they fall short for this model: its controller rebuilds a model with
``type(model)(**params)`` and Mesa's own scenario object (ours is a validated
:class:`sim.scenario.Scenario`), applies parameters only on reset, has English-only
labels, and its plot components redraw whole matplotlib images or need vega from a CDN.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import solara
import solara.lab

from sim.ui import logic
from sim.ui.about import AboutView
from sim.ui.compare import CompareView
from sim.ui.i18n import Lang, tr
from sim.ui.live import LiveSession

CSS = """
.v-application .sim-lever .v-input__slot { margin-bottom: 0; }
.sim-step-counter { margin-right: 8px; }
.v-card.sim-card-levers, .v-card.sim-card-controls, .v-card.sim-card-scenario { margin-bottom: 8px; }
/* Solara's "This website runs on Solara" badge covers charts: not shown */
.v-application a[href*="solara.dev"], .solara-watermark, #solara-watermark { display: none !important; }
/* Solara's own connection messages are in English only: replaced by a text in both languages */
.v-application > .v-alert.warning .v-alert__content span { display: none; }
.v-application > .v-alert.warning .v-alert__content::after {
  content: "Anslutningen till servern bröts: ladda om sidan. / The connection to the server was lost: reload the page."; }
.v-overlay .v-progress-circular__info { font-size: 0 !important; }
.v-overlay .v-progress-circular__info::after { content: "Ingen anslutning / No connection"; font-size: 14px; }
.sim-present .sim-lever-label { font-size: 17px !important; }
.sim-present .sim-card-levers .sim-lever-help { font-size: 15px !important; }
@media (max-width: 1000px) { .sim-live { flex-wrap: wrap !important; } .sim-sidebar { width: 100% !important; } }
"""


def query_flag(search: str | None, name: str) -> bool:
    """Whether ``name=1`` (or ``true``/``yes``/``on``) is in the URL's query string ``search``."""
    values = parse_qs(search or "").get(name, [])
    return bool(values) and values[-1].strip().lower() in ("1", "true", "yes", "on")


def with_flag(search: str | None, name: str, on: bool) -> str:
    """The query string ``search`` with ``name=1`` set or removed (other parameters kept)."""
    q = {k: v[-1] for k, v in parse_qs(search or "").items() if k != name}
    if on:
        q[name] = "1"
    return urlencode(q)


@solara.component
def Page() -> None:
    """The whole app: language and presentation switches, live view and compare view.

    The presentation mode is remembered in the address (``?present=1``): a reload, a
    bookmark or a link opens the page in it.
    """
    router = solara.use_router()
    lang = solara.use_reactive("sv")
    tab = solara.use_reactive(0)
    settings = solara.use_reactive(logic.Settings())
    language: Lang = lang.value  # type: ignore[assignment]
    present = query_flag(router.search, "present")

    def set_present(on: bool) -> None:
        q = with_flag(router.search, "present", on)
        router.push((router.path or "/") + (f"?{q}" if q else ""))

    solara.Style(CSS)
    solara.Title(tr("app_title", language))
    with solara.AppBar():
        solara.AppBarTitle(tr("app_title", language))
        solara.v.Spacer()
        solara.Switch(
            label=tr("presentation", language), value=present, on_value=set_present, classes=["sim-present-switch"],
            style={"margin-right": "16px", "margin-top": "18px"},
        )
        with solara.ToggleButtonsSingle(value=lang, classes=["sim-lang"], style={"margin-right": "12px"}):
            solara.Button("Svenska", value="sv", text=True)
            solara.Button("English", value="en", text=True)
    with solara.Column(classes=["sim-present"] if present else ["sim-normal"], style={"padding": "0"}):
        with solara.lab.Tabs(value=tab):
            with solara.lab.Tab(tr("tab_live", language), classes=["sim-tab-live"]):
                LiveSession(language, settings, tab.value == 0, present)
            with solara.lab.Tab(tr("tab_compare", language), classes=["sim-tab-compare"]):
                CompareView(settings.value, language)
            with solara.lab.Tab(tr("tab_about", language), classes=["sim-tab-about"]):
                AboutView(language)
