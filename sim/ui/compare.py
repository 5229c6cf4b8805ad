# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
"""The compare view: variants side by side with common random numbers, several replicates, bands.

Replicate r of every variant runs with the same seed, so the paired difference
between two variants at the same seed removes most of the chance variation
(common random numbers). Results download as CSV or Parquet, and the variants
save as scenario files that ``sim run`` reads.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import solara

from sim.scenario import ScenarioError
from sim.ui import logic
from sim.ui.charts import Chart
from sim.ui.i18n import Lang, fmt_number, fmt_sig, preset_label, tr
from sim.ui.live import LeverPanel, changed_text


@dataclass(frozen=True)
class CompareResult:
    """A finished comparison: the long table and how it was made."""

    frame: pd.DataFrame
    variants: tuple[logic.Variant, ...]
    replicates: int
    steps: int
    base_seed: int
    seconds: float


def default_variants(settings: logic.Settings) -> list[logic.Variant]:
    """Two variants to start from: the preset as it is, and the live levers (or stronger guardrails)."""
    base = logic.Variant("A", settings.preset)
    if settings.changed_levers():
        other = logic.Variant("B", settings.preset, settings.overrides)
    else:
        other = base.with_lever(logic.LEVER_BY_KEY["guardrails"], 0.8)
        other = logic.Variant("B", other.preset, other.overrides)
    return [base, other]


def unique_name(name: str, taken: list[str]) -> str:
    """``name`` made unique among ``taken`` (a number is appended), never empty."""
    name = name.strip() or "variant"
    out, k = name, 2
    while out in taken:
        out, k = f"{name} {k}", k + 1
    return out


def html_table(heads: list[str], rows: list[list[str]]) -> str:
    """A small HTML table (every cell escaped)."""
    th = "".join(f"<th style='text-align:left;padding:2px 10px'>{html.escape(h)}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 10px'>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table style='border-collapse:collapse;font-size:14px'><tr>{th}</tr>{body}</table>"


@solara.component
def VariantCard(
    index: int, variant: logic.Variant, on_change: Callable[[int, logic.Variant | None], None], can_remove: bool,
    lang: Lang,
) -> None:
    """One variant: its name and its levers."""
    try:
        sc = variant.scenario()
    except (ScenarioError, ValueError) as err:
        solara.Error(str(err))
        return
    values = {spec.key: logic.lever_value(sc, spec) for spec in logic.LEVERS}
    changed = logic.Settings(variant.preset, None, variant.overrides).changed_levers()
    with solara.Card(classes=["sim-variant", f"sim-variant-{index}"], style={"min-width": "300px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.InputText(
                tr("variant_name", lang), value=variant.name, continuous_update=False,
                on_value=lambda name: on_change(index, logic.Variant(name, variant.preset, variant.overrides)),
            )
            if can_remove:
                solara.Button(tr("remove_variant", lang), text=True, on_click=lambda: on_change(index, None))
        solara.Text(
            changed_text(logic.Settings(variant.preset, None, variant.overrides), lang) if changed
            else tr("unchanged", lang),
            style={"font-size": "13px", "color": "#333"}, classes=["sim-variant-summary"],
        )
        with solara.Details(tr("levers", lang)):
            LeverPanel(values, lambda spec, v: on_change(index, variant.with_lever(spec, v)), lang)


@solara.component
def CompareView(live_settings: logic.Settings, lang: Lang) -> None:
    """Set up variants, run them with common random numbers, show levels and paired differences."""
    preset = solara.use_reactive(live_settings.preset)
    variants = solara.use_reactive(default_variants(live_settings))
    replicates = solara.use_reactive(5)
    steps = solara.use_reactive(min(60, logic.Settings(preset.value).scenario().run.steps))
    seed_text = solara.use_reactive("1")
    seed_err = solara.use_reactive(None)
    run_id = solara.use_reactive(0)
    progress = solara.use_reactive(0.0)
    result = solara.use_reactive(None)
    run_error = solara.use_reactive(None)
    metric = solara.use_reactive("people_benefiting")
    cancelled_run = solara.use_reactive(0)  # the run_id the user cancelled

    def set_preset(key: str) -> None:
        preset.set(key)
        variants.set([logic.Variant(v.name, key, v.overrides) for v in variants.value])
        steps.set(min(steps.value, 10_000))

    def change_variant(i: int, v: logic.Variant | None) -> None:
        vs = list(variants.value)
        if v is None:
            vs.pop(i)
        else:
            others = [x.name for j, x in enumerate(vs) if j != i]
            vs[i] = logic.Variant(unique_name(v.name, others), v.preset, v.overrides)
        variants.set(vs)

    def add_variant() -> None:
        vs = list(variants.value)
        name = unique_name(chr(ord("A") + len(vs)) if len(vs) < 26 else "variant", [v.name for v in vs])
        vs.append(logic.Variant(name, preset.value, live_settings.overrides))
        variants.set(vs)

    def set_seed(text: str) -> None:
        seed_text.set(text)
        seed_err.set(logic.seed_error(text, lang))

    def start() -> None:
        msg = logic.seed_error(seed_text.value, lang)
        seed_err.set(msg)
        if msg is None:
            run_error.set(None)
            run_id.set(run_id.value + 1)

    def work(cancel: threading.Event) -> None:
        if run_id.value == 0:
            return
        vs = tuple(variants.value)
        reps, n, seed = replicates.value, steps.value, logic.parse_whole_number(seed_text.value)
        mine = run_id.value
        progress.set(0.0)
        t0 = time.perf_counter()
        try:
            frame = logic.run_comparison(
                vs, reps, n, seed, on_progress=lambda d, t: progress.set(100.0 * d / t),
                cancelled=lambda: cancel.is_set() or cancelled_run.peek() == mine,
            )
        except InterruptedError:
            return
        except Exception as err:  # noqa: BLE001 - shown to the user instead of a traceback
            run_error.set(f"{type(err).__name__}: {err}")
            return
        result.set(CompareResult(frame, vs, reps, n, seed, time.perf_counter() - t0))

    task = solara.use_thread(work, dependencies=[run_id.value], intrusive_cancel=False)
    busy = task.state in (solara.ResultState.STARTING, solara.ResultState.RUNNING, solara.ResultState.WAITING)

    solara.Text(tr("compare_intro", lang), style={"font-size": "15px", "display": "block", "margin": "4px 0 8px 0"})
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, classes=["sim-compare-setup"]):
        labels = {preset_label(k, lang): k for k in logic.preset_keys()}
        solara.Select(
            tr("scenario", lang), value=preset_label(preset.value, lang), values=list(labels),
            on_value=lambda lab: set_preset(labels[lab]), style={"min-width": "380px"},
        )
        with solara.Column(style={"min-width": "200px"}, classes=["sim-replicates"]):
            solara.SliderInt(tr("replicates", lang), value=replicates, min=2, max=30, thumb_label="always")
        with solara.Column(style={"min-width": "220px"}, classes=["sim-steps"]):
            solara.SliderInt(tr("steps", lang), value=steps, min=6, max=240, step=6, thumb_label="always")
        with solara.Column(style={"max-width": "160px"}, classes=["sim-base-seed"]):
            solara.InputText(
                tr("base_seed", lang), value=seed_text.value, on_value=set_seed, continuous_update=False,
                error=seed_err.value or False,
            )
    if seed_err.value:
        solara.Error(seed_err.value, classes=["sim-base-seed-error"])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for i, v in enumerate(variants.value):
            VariantCard(i, v, change_variant, len(variants.value) > 2, lang)
    with solara.Row(style={"align-items": "center"}):
        solara.Button(tr("add_variant", lang), icon_name="mdi-plus", on_click=add_variant, disabled=busy,
                      classes=["sim-add-variant"])
        solara.Button(tr("run_compare", lang), icon_name="mdi-play", color="primary", on_click=start,
                      disabled=busy, classes=["sim-run-compare"])
        if busy:
            solara.Button(tr("cancel_compare", lang), icon_name="mdi-stop", on_click=lambda: cancelled_run.set(run_id.value),
                          classes=["sim-cancel-compare"])
    # Each conditional part sits in a container of its own, so the results keep their place among
    # the page's children when the progress bar goes away: otherwise the end of a run would mount the
    # results anew and a click on a download button in between would go to a widget already closed.
    with solara.Column(gap="0px", classes=["sim-compare-status"]):
        if busy:
            solara.ProgressLinear(value=progress.value)
            solara.Text(f"{tr('running', lang)}... {progress.value:.0f} %", classes=["sim-compare-progress"])
        if run_error.value:
            solara.Error(run_error.value)
        if not busy and run_id.value and cancelled_run.value == run_id.value:
            solara.Info(tr("compare_cancelled", lang), classes=["sim-compare-cancelled"])
    with solara.Column(gap="0px", classes=["sim-compare-results"]):
        if result.value is not None:
            CompareResults(result.value, metric, lang)


def compare_markers(variants: tuple[logic.Variant, ...], lang: Lang) -> list[dict]:
    """Intervention marks for the compare charts: once if every variant has them, else named by variant."""
    per = []
    for v in variants:
        try:
            per.append((v.name, logic.scenario_markers(v.scenario())))
        except (ScenarioError, ValueError):
            per.append((v.name, []))
    keys = [tuple((m.month, m.end_month, m.label) for m in ms) for _, ms in per]
    if keys and all(k == keys[0] for k in keys):
        return logic.marker_spec(per[0][1], lang)
    out: list[dict] = []
    for name, ms in per:
        out += logic.marker_spec(ms, lang, prefix=f"{name}: ")
    return out


@solara.component
def CompareResults(res: CompareResult, metric: solara.Reactive[str], lang: Lang) -> None:
    """Levels with bands, paired differences with bands, a final-step table and downloads."""
    names = [v.name for v in res.variants]
    colours = logic.variant_colours(names)
    baseline = names[0]
    m = metric.value
    x, levels = logic.band_series(logic.compare_bands(res.frame, m), colours)
    dx, diffs = logic.band_series(logic.compare_differences(res.frame, m, baseline), colours)
    solara.Success(
        tr("compare_done", lang, variants=len(names), reps=res.replicates, steps=res.steps,
           secs=fmt_number(res.seconds, lang, 1)),
        classes=["sim-compare-done"],
    )
    marks = solara.use_memo(lambda: compare_markers(res.variants, lang), [res, lang])
    labels = {logic.metric_label(k, lang): k for k in logic.COMPARE_METRICS}
    solara.Select(
        tr("metric", lang), value=logic.metric_label(m, lang), values=list(labels),
        on_value=lambda lab: metric.set(labels[lab]), style={"max-width": "420px"},
    )
    with solara.Columns([1, 1]):
        with solara.Card(classes=["sim-compare-levels"]):
            Chart(
                title=tr("levels_title", lang, metric=logic.metric_label(m, lang)), x=x, series=levels,
                x_label=tr("month", lang), height=280, lang=lang, markers=marks,
            )
            solara.Text(tr("band_note", lang), style={"font-size": "12px", "color": "#555"})
        with solara.Card(classes=["sim-compare-diffs"]):
            Chart(
                title=tr("diff_title", lang, base=baseline), x=dx, series=diffs, x_label=tr("month", lang),
                hline=0.0, height=280, lang=lang, markers=marks,
            )
            solara.Text(tr("band_note", lang), style={"font-size": "12px", "color": "#555"})
    summary = logic.final_summary(res.frame, baseline, [m, *[k for k in logic.COMPARE_METRICS if k != m][:3]])
    cells = [
        [
            logic.metric_label(r.figure, lang), r.variant, fmt_sig(r.mean, lang),
            "" if r.variant == baseline else fmt_sig(r.diff_mean, lang, sign=True),
            "" if r.variant == baseline else f"{fmt_sig(r.ci_lo, lang, sign=True)} … {fmt_sig(r.ci_hi, lang, sign=True)}",
            "" if r.variant == baseline else f"{fmt_sig(r.diff_lo, lang, sign=True)} … {fmt_sig(r.diff_hi, lang, sign=True)}",
        ]
        for r in summary.itertuples(index=False)
    ]
    heads = [
        tr("metric", lang), tr("variant", lang), tr("mean", lang), tr("difference", lang), tr("ci_mean", lang),
        tr("band", lang),
    ]
    with solara.Card(f"{tr('final_table', lang)} ({tr('month', lang)} {fmt_sig(res.frame['month'].max(), lang)})",
                     classes=["sim-compare-table"]):
        # plain HTML: solara.Markdown would fetch mermaid from a CDN
        solara.HTML(tag="div", unsafe_innerHTML=html_table(heads, cells))
    stem = f"compare-{logic.safe_filename(res.variants[0].preset)}"
    # the callables must keep their identity between renders: FileDownload forgets a request when its data change
    makers = solara.use_memo(
        lambda: (
            lambda: logic.to_csv_bytes(res.frame),
            lambda: logic.to_parquet_bytes(res.frame),
            lambda: logic.scenarios_zip(res.variants, res.replicates, res.steps, res.base_seed),
        ),
        [res],
    )
    with solara.Row(classes=["sim-downloads"]):
        solara.FileDownload(makers[0], filename=f"{stem}.csv", label=tr("download_csv", lang), mime_type="text/csv")
        solara.FileDownload(makers[1], filename=f"{stem}.parquet", label=tr("download_parquet", lang))
        solara.FileDownload(
            makers[2], filename=f"{stem}-scenarios.zip", label=tr("save_scenarios", lang), mime_type="application/zip"
        )
