# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""The live view: preset, seed, levers, play/step/reset, and the model's pictures as it runs.

State lives in the session's :func:`sim.ui.app.Page` and is passed down as
``solara.Reactive`` objects; only :func:`LiveView` reads ``tick`` (bumped on every
redraw), so a new step re-renders the status line and the charts, not the controls.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import solara

from sim.model import SocialInnovationModel
from sim.scenario import ELEMENTS, ScenarioError
from sim.ui import logic
from sim.ui.charts import Chart, FlowView, PlaceMap
from sim.ui.i18n import Lang, lever_text, preset_label, tr

MIN_DRAW_INTERVAL = 0.1
"""Seconds between two redraws while playing, at least (at most 10 redraws per second)."""


@dataclass
class Built:
    """The result of building a live model: the model, or the message why it could not be built."""

    model: SocialInnovationModel | None
    error: str | None = None
    seconds: float = 0.0


def build_live_model(settings: logic.Settings) -> Built:
    """Build the live model of ``settings``; a scenario error becomes a message, not a traceback."""
    t0 = time.perf_counter()
    try:
        sc = settings.scenario()
        model = SocialInnovationModel(sc, seed=settings.seed)
    except (ScenarioError, ValueError) as err:
        return Built(None, str(err))
    return Built(model, None, time.perf_counter() - t0)


@dataclass
class PlayStats:
    """Steps per second while playing (over the last few seconds), for the status line and tests."""

    times: deque[float] = field(default_factory=lambda: deque(maxlen=400))

    def note_step(self, t: float) -> None:
        """Record that a step finished at time ``t``."""
        self.times.append(t)

    def rate(self, window: float = 3.0) -> float:
        """Steps per second over the last ``window`` seconds (0 if fewer than two steps)."""
        if len(self.times) < 2:
            return 0.0
        last = self.times[-1]
        recent = [t for t in self.times if t >= last - window]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def clear(self) -> None:
        """Forget all steps (a new model, or paused)."""
        self.times.clear()


def play_loop(
    model: SocialInnovationModel,
    cancel: threading.Event,
    speed: Callable[[], str],
    draw: Callable[[], None],
    stats: PlayStats,
    horizon: int,
) -> str | None:
    """Step ``model`` until cancelled or at ``horizon``; redraw at most every :data:`MIN_DRAW_INTERVAL`.

    Drawing is throttled by time, and by how long a redraw takes (never more than a
    third of the time is spent drawing), so a slow model (Sweden) shows every step
    it makes while a fast one (teaching) steps many times between two redraws.
    Returns an error message if a step failed.
    """
    stats.clear()
    last_draw = time.perf_counter()
    draw_cost = 0.0
    due = time.perf_counter()
    try:
        while not cancel.is_set() and model.steps < horizon:
            sp = speed()
            if sp != "max":
                period = 1.0 / float(sp)
                now = time.perf_counter()
                if due > now:
                    if cancel.wait(due - now):
                        break
                due = max(due + period, time.perf_counter() - period)
            model.step()
            now = time.perf_counter()
            stats.note_step(now)
            if now - last_draw >= max(MIN_DRAW_INTERVAL, 2.0 * draw_cost):
                draw()
                last_draw = time.perf_counter()
                draw_cost = last_draw - now
    except Exception as err:  # noqa: BLE001 - shown to the user instead of a traceback
        return f"{type(err).__name__}: {err}"
    finally:
        draw()
    return None


# --------------------------------------------------------------------------- controls


@solara.component
def LeverPanel(
    values: dict[str, float | tuple[float, float]],
    on_change: Callable[[logic.LeverSpec, float | tuple[float, float]], None],
    lang: Lang,
    disabled: bool = False,
) -> None:
    """One slider per lever, each with its one-line explanation."""
    for spec in logic.LEVERS:
        label, help_text = lever_text(spec.key, lang)
        value = values[spec.key]

        def changed(v: float | tuple[float, float], spec: logic.LeverSpec = spec) -> None:
            on_change(spec, v)

        shown = f"{value[0]:g}\u2013{value[1]:g}" if isinstance(value, tuple) else f"{value:g}"
        with solara.Column(gap="0px", classes=["sim-lever", f"sim-lever-{spec.key}"]):
            solara.Text(
                f"{label}: {shown}", classes=["sim-lever-label"], style={"font-size": "14px", "font-weight": "600"}
            )
            if isinstance(value, tuple):
                solara.SliderRangeFloat(
                    "", value=value, min=spec.lo, max=spec.hi, step=spec.step, on_value=changed, disabled=disabled
                )
            else:
                solara.SliderFloat(
                    "", value=value, min=spec.lo, max=spec.hi, step=spec.step, on_value=changed, disabled=disabled
                )
            solara.Text(help_text, style={"font-size": "12px", "color": "#555", "margin": "-18px 0 8px 0"})


@solara.component
def SeedField(seed: int, on_seed: Callable[[int], None], lang: Lang) -> None:
    """The seed, shown and settable; anything but a whole number gives a message, not a traceback."""
    text, set_text = solara.use_state(str(seed), key=f"seed-{seed}")
    error, set_error = solara.use_state(None, key=f"seed-err-{seed}")

    def submit(value: str) -> None:
        set_text(value)
        msg = logic.seed_error(value, lang)
        set_error(msg)
        if msg is None:
            on_seed(logic.parse_whole_number(value))

    with solara.Row(style={"align-items": "center"}, classes=["sim-seed"]):
        solara.InputText(
            tr("seed", lang), value=text, on_value=submit, continuous_update=False,
            error=error or False, message=tr("seed_hint", lang),
        )
        solara.Button(
            tr("new_seed", lang), on_click=lambda: on_seed(logic.new_random_seed()), text=True,
            classes=["sim-new-seed"],
        )
    if error:
        solara.Error(error, classes=["sim-seed-error"])


@solara.component
def Player(
    built: Built,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    tick: solara.Reactive[int],
    stats: PlayStats,
    on_reset: Callable[[], None],
    lang: Lang,
) -> None:
    """Play / pause, step, reset and speed; the play loop runs in a thread of this session."""
    model = built.model
    error = solara.use_reactive(None)

    def draw() -> None:
        if model is not None:
            tick.set(tick.peek() + 1)

    def loop(cancel: threading.Event) -> None:
        if not playing.value or model is None:
            return
        msg = play_loop(model, cancel, lambda: speed.value, draw, stats, model.params.run.steps)
        if msg:
            error.set(msg)
        if not cancel.is_set():
            playing.set(False)

    solara.use_thread(loop, dependencies=[playing.value, model], intrusive_cancel=False)

    def step() -> None:
        if model is None:
            return
        try:
            model.step()
        except Exception as err:  # noqa: BLE001 - shown to the user instead of a traceback
            error.set(f"{type(err).__name__}: {err}")
        tick.set(tick.peek() + 1)

    with solara.Row(classes=["sim-controls"], style={"flex-wrap": "wrap"}):
        solara.Button(
            tr("pause", lang) if playing.value else tr("play", lang),
            icon_name="mdi-pause" if playing.value else "mdi-play",
            color="primary", on_click=lambda: playing.set(not playing.value),
            disabled=model is None, classes=["sim-play"],  # at the last month, play stops at once
        )
        solara.Button(
            tr("step", lang), icon_name="mdi-step-forward", on_click=step, disabled=model is None or playing.value,
            classes=["sim-step"],
        )
        solara.Button(tr("reset", lang), icon_name="mdi-restore", on_click=on_reset, classes=["sim-reset"])
    solara.Text(tr("speed", lang), style={"font-size": "13px", "color": "#444"})
    solara.ToggleButtonsSingle(value=speed, values=list(logic.SPEEDS), classes=["sim-speed"])
    if error.value:
        solara.Error(error.value)


@solara.component
def StatusLine(
    built: Built, settings: logic.Settings, draw: int, stats: PlayStats, playing: bool, lang: Lang,
) -> None:
    """Step counter, month, scenario, seed and measured speed: large enough for a projector."""
    model = built.model
    if model is None:
        solara.Error(f"{tr('error', lang)}: {built.error}", classes=["sim-build-error"])
        return
    changed = settings.changed_levers()
    rate = stats.rate() if playing else 0.0
    with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}, classes=["sim-status"]):
        solara.Text(
            f"{tr('status_step', lang)} {model.steps}",
            classes=["sim-step-counter"], style={"font-size": "28px", "font-weight": "700"},
        )
        solara.Text(
            f"{tr('status_of', lang)} {model.params.run.steps} \u00b7 {tr('status_month', lang)} {model.month:g}",
            style={"font-size": "18px"},
        )
        solara.Text(
            f"\u00b7 {preset_label(settings.preset, lang)} \u00b7 {tr('seed', lang)} {model.seed}",
            classes=["sim-status-seed"], style={"font-size": "16px"},
        )
        solara.Text(
            f"\u00b7 {rate:.1f} {tr('measured_speed', lang)}", classes=["sim-rate"], style={"font-size": "16px"},
        )
    if changed:
        txt = ", ".join(
            f"{k.split('.')[1]} = {v:g}" for k, v in sorted(changed.items())
        )
        solara.Text(f"{tr('changed', lang)}: {txt}", classes=["sim-changed"], style={"font-size": "14px"})
    else:
        solara.Text(tr("unchanged", lang), classes=["sim-changed"], style={"font-size": "14px", "color": "#666"})


# --------------------------------------------------------------------------- pictures


@solara.component
def ElementsPanel(model: SocialInnovationModel, draw: int, lang: Lang) -> None:
    """Stacked area of organisations per element, and the flow view of moves between elements."""
    rows = list(model.collector.rows)  # a snapshot: the play thread may append meanwhile
    x = logic.months(rows)
    last = rows[-1]
    flow = logic.flow_geometry(model.state.flows_total, [last[f"orgs_in_{e}"] for e in ELEMENTS], lang)
    with solara.Columns([1, 1]):
        with solara.Card(classes=["sim-card-elements"]):
            Chart(
                title=tr("elements_title", lang), x=x, series=logic.elements_series(rows, lang), stacked=True,
                x_label=tr("month", lang), height=300,
            )
        with solara.Card(classes=["sim-card-flows"]):
            FlowView(
                title=tr("flows_title", lang), nodes=flow["nodes"], arrows=flow["arrows"], size=flow["size"],
                note=tr("flows_note", lang, back=f"{100 * flow['back_share']:.0f}"),
            )


@solara.component
def MapPanel(model: SocialInnovationModel, draw: int, lang: Lang) -> None:
    """The places coloured by state, fidelity or fit; hover names a place and shows its figures."""
    by = solara.use_reactive("state")
    layout = solara.use_memo(lambda: json.dumps(logic.map_layout(model)), [model])
    colours, info = logic.map_state(model, by.value, lang)
    sweden = model.params.places.source == "sweden"
    with solara.Card(classes=["sim-card-map"]):
        with solara.Row(style={"align-items": "center"}):
            solara.Text(tr("colour_by", lang), style={"font-size": "14px"})
            solara.ToggleButtonsSingle(
                value=by.value, on_value=by.set, classes=["sim-colour-by"],
                children=[solara.Button(tr(f"by_{v}", lang), value=v) for v in ("state", "fidelity", "fit")],
            )
        PlaceMap(
            title=tr("map_title", lang), places=[], places_json=layout, colors=colours, info=info,
            legend=logic.map_legend(by.value, lang),
            note=tr("map_note_sweden" if sweden else "map_note_synthetic", lang),
            max_height=640 if sweden else 460,
        )


@solara.component
def OutcomePanels(model: SocialInnovationModel, draw: int, lang: Lang) -> None:
    """Adoption curves (organisations, places, people) and core fidelity against local fit."""
    rows = list(model.collector.rows)  # a snapshot: the play thread may append meanwhile
    x = logic.months(rows)
    n_orgs, n_places, n_people = model.orgs.n, model.places.n, model.people.n
    fmt = (lambda v: f"{v:,}".replace(",", "\u00a0")) if lang == "sv" else (lambda v: f"{v:,}")
    with solara.Card(classes=["sim-card-adoption"]):
        Chart(
            title=f"{tr('adoption_title', lang)}, %",
            x=x, series=logic.adoption_series(rows, n_orgs, n_places, n_people, lang), x_label=tr("month", lang),
            unit=" %", height=240,
        )
        solara.Text(
            tr("adoption_totals", lang, orgs=fmt(n_orgs), places=fmt(n_places), people=fmt(n_people)),
            style={"font-size": "12px", "color": "#555"},
        )
    with solara.Card(classes=["sim-card-fidfit"]):
        Chart(
            title=tr("fidfit_title", lang), points=logic.fidelity_fit_points(model, lang), series=[],
            paths=logic.fidelity_fit_series(rows, lang),
            legend=[
                {"name": f"{tr('fidfit_sites', lang)}: {tr('pilot', lang)}", "color": logic.STATE_COLOURS["pilot"]},
                {"name": f"{tr('fidfit_sites', lang)}: {tr('permanent', lang)}",
                 "color": logic.STATE_COLOURS["permanent"]},
            ],
            x_range=[0, 1], y_range=[0, 1], x_label=tr("fit", lang), y_label=tr("fidelity", lang), height=260,
        )


@solara.component
def ValuePanels(model: SocialInnovationModel, draw: int, lang: Lang) -> None:
    """The value accounts: social realised and visible; economic avoided cost, cost and net."""
    rows = list(model.collector.rows)  # a snapshot: the play thread may append meanwhile
    x = logic.months(rows)
    last = rows[-1]
    with solara.Columns([1, 1]):
        with solara.Card(classes=["sim-card-value-social"]):
            Chart(
                title=tr("value_social_title", lang), x=x, series=logic.social_value_series(rows, lang),
                x_label=tr("month", lang), height=240,
            )
        with solara.Card(classes=["sim-card-value-economic"]):
            Chart(
                title=tr("value_econ_title", lang), x=x, series=logic.economic_value_series(rows, lang),
                x_label=tr("month", lang), hline=0.0, height=240,
            )
    solara.Text(
        f"{tr('environmental', lang)}: {last['value_environmental']:,.0f} kg CO2e \u00b7 "
        f"{tr('visibility', lang)}: {last['visibility']:.2f}",
        style={"font-size": "13px", "color": "#444"},
    )


@solara.component
def LiveView(
    built: Built, settings: logic.Settings, tick: solara.Reactive[int], stats: PlayStats,
    playing: solara.Reactive[bool], lang: Lang,
) -> None:
    """Status line and all pictures of the live model.

    The only component that reads ``tick`` (a counter bumped on every redraw): one
    redraw makes one render pass, and the panels get the counter as a plain argument
    (``draw``) that tells them to read the model again.
    """
    draw = tick.value
    StatusLine(built, settings, draw, stats, playing.value, lang)
    model = built.model
    if model is None:
        return
    ElementsPanel(model, draw, lang)
    with solara.Columns([5, 6]):
        with solara.Column():
            MapPanel(model, draw, lang)
        with solara.Column():
            OutcomePanels(model, draw, lang)
    ValuePanels(model, draw, lang)


@solara.component
def LiveSidebar(
    settings: solara.Reactive[logic.Settings],
    built: Built,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    tick: solara.Reactive[int],
    stats: PlayStats,
    on_reset: Callable[[], None],
    lang: Lang,
) -> None:
    """Preset picker, seed, run controls and lever sliders."""
    s = settings.value
    keys = logic.preset_keys()

    def pick(key: str) -> None:
        playing.set(False)
        settings.set(s.with_preset(key))

    def set_seed(seed: int) -> None:
        playing.set(False)
        settings.set(s.with_seed(seed))

    def set_lever(spec: logic.LeverSpec, value: float | tuple[float, float]) -> None:
        playing.set(False)
        settings.set(s.with_lever(spec, value))

    base_values = solara.use_memo(lambda: _lever_values(s), [s])
    with solara.Card(tr("scenario", lang), classes=["sim-card-scenario"]):
        labels = {preset_label(k, lang): k for k in keys}
        solara.Select(
            tr("scenario", lang), value=preset_label(s.preset, lang), values=list(labels),
            on_value=lambda lab: pick(labels[lab]), classes=["sim-preset"],
        )
        SeedField(built.model.seed if built.model is not None else (s.seed or 0), set_seed, lang)
    with solara.Card(tr("controls", lang), classes=["sim-card-controls"]):
        Player(built, playing, speed, tick, stats, on_reset, lang)
    with solara.Card(tr("levers", lang), classes=["sim-card-levers"]):
        LeverPanel(base_values, set_lever, lang)


def _lever_values(settings: logic.Settings) -> dict[str, float | tuple[float, float]]:
    try:
        sc = settings.scenario()
    except (ScenarioError, ValueError):
        sc = logic.Settings(settings.preset).scenario()
    return {spec.key: logic.lever_value(sc, spec) for spec in logic.LEVERS}
