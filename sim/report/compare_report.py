"""The board report of a comparison folder (written by ``sim compare``): one self-contained ``report.html``.

``write_compare_report(DIR)`` reads only what the folder holds: ``manifest.json``,
``results.parquet`` (final values per scenario and replicate), ``series.parquet``
(per-step outputs), ``differences.csv`` (paired differences from the reference, the
same numbers the terminal table shows), ``scenarios.json`` (the scenarios as run,
for their intervention markers) and ``failures.json``. It writes ``DIR/report.html``
(atomically) with: a header (command, scenarios, seeds, date, version), notes on
reading intervals, the curves per scenario (median over replicates with the 10-90 %
band, intervention markers), the difference table with its confidence intervals,
value per krona, the interventions and any failed runs.
"""

from __future__ import annotations

import html
import json
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.report.markers import draw_markers, marker_rows, scenario_markers
from sim.report.page import DASH, ReportError, figure_img, fmt_number, meta_table, page, table, write_page

VALUE_COLUMNS = (
    ("intervention_cost_sek", "intervention cost [SEK]"),
    ("economic_value_net_sek", "net economic value [SEK]"),
    ("value_per_sek", "value per SEK spent [SEK/SEK]"),
)
"""Value-per-krona figures of the run summary (issue 11 contract) and their headings."""

OUTPUT_LABELS = {
    "orgs_adopted": "organisations ever adopted [organisations]",
    "places_reached": "places reached [places]",
    "people_benefiting": "people benefiting [persons]",
    "value_social": "social value [persons]",
    "net_economic": "net economic value [SEK]",
    "sites_running": "sites running [sites]",
    "intervention_cost_sek": "intervention cost, cumulative [SEK]",
}
"""Plain-language headings of common outputs (others are shown by name)."""


def read_comparison(folder: Path) -> dict[str, Any]:
    """The tables of a comparison folder; :class:`ReportError` naming the file when one is missing or unreadable."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(f"{folder}/manifest.json: cannot read it ({type(err).__name__}: {err})") from None
    if manifest.get("kind") != "compare":
        raise ReportError(f"{folder}/manifest.json: field kind is {manifest.get('kind')!r}, expected 'compare'")
    data: dict[str, Any] = {"manifest": manifest}
    for key, name, reader in (
        ("results", "results.parquet", pd.read_parquet),
        ("differences", "differences.csv", pd.read_csv),
    ):
        try:
            data[key] = reader(folder / name)
        except FileNotFoundError:
            raise ReportError(f"{folder}: no {name} here (expected a folder written by `sim compare`)") from None
        except (OSError, ValueError) as err:
            raise ReportError(f"{folder}/{name}: cannot read it ({type(err).__name__}: {err})") from None
    series = folder / "series.parquet"
    data["series"] = pd.read_parquet(series) if series.is_file() else pd.DataFrame()
    scen = folder / "scenarios.json"
    data["scenarios"] = json.loads(scen.read_text(encoding="utf-8")) if scen.is_file() else {}
    fails = folder / "failures.json"
    data["failures"] = json.loads(fails.read_text(encoding="utf-8")) if fails.is_file() else []
    return data


def command_of(manifest: dict[str, Any], folder: Path) -> str:
    """The command that made the comparison: as recorded, else rebuilt from the manifest."""
    if manifest.get("command"):
        return str(manifest["command"])
    args = ["sim", "compare", *manifest.get("scenarios", []), "--replicates", str(manifest.get("replicates"))]
    if manifest.get("steps"):
        args += ["--steps", str(manifest["steps"])]
    args += ["--root-seed", str(manifest.get("root_seed", 0))]
    for o in manifest.get("outputs", []):
        args += ["--output", o]
    return " ".join(shlex.quote(a) for a in [*args, "--out", str(folder)])


def _colours(labels: list[str]) -> dict[str, str]:
    import matplotlib

    cyc = matplotlib.colormaps["tab10"].colors
    return {lab: matplotlib.colors.to_hex(cyc[i % len(cyc)]) for i, lab in enumerate(labels)}


def _shared_and_own(markers: dict[str, list[Any]]) -> tuple[list[Any], dict[str, list[Any]]]:
    """Markers every scenario has (drawn once, grey) and each scenario's own ones."""
    keys = {lab: {(m.month, m.kind, m.label) for m in ms} for lab, ms in markers.items()}
    common = set.intersection(*keys.values()) if keys else set()
    first = next(iter(markers.values()), [])
    shared = [m for m in first if (m.month, m.kind, m.label) in common]
    own = {lab: [m for m in ms if (m.month, m.kind, m.label) not in common] for lab, ms in markers.items()}
    return shared, own


def curves_figure(series: pd.DataFrame, labels: list[str], outputs: list[str], markers: dict[str, list[Any]]) -> Any:
    """One panel per output: median over replicates per scenario, band = 10-90 % quantiles; markers as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = _colours(labels)
    shared, own = _shared_and_own(markers)
    n = len(outputs)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.4 * rows), squeeze=False)
    for k, (ax, o) in enumerate(zip(axes.flat, outputs, strict=False)):
        for lab in labels:
            d = series[series["scenario"] == lab].groupby("month")[o]
            med, lo, hi = d.median(), d.quantile(0.1), d.quantile(0.9)
            ax.plot(med.index, med.to_numpy(), color=colours[lab], label=lab, lw=1.6)
            ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), color=colours[lab], alpha=0.18, lw=0)
        draw_markers(ax, shared, label=k == 0)
        for lab in labels:
            draw_markers(ax, own.get(lab, []), colour=colours[lab], label=k == 0)
        ax.set_title(OUTPUT_LABELS.get(o, o), fontsize=10)
        ax.set_xlabel("month")
        ax.legend(fontsize=8, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("median over replicate seeds; band: 10-90 % of replicates; dotted lines: interventions start",
                 fontsize=10)
    fig.tight_layout()
    return fig


def verdict(row: pd.Series) -> str:
    """Plain words for a paired difference: its interval above zero, below zero, or across it."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return DASH
    if lo > 0:
        return "higher"
    if hi < 0:
        return "lower"
    return "no clear difference"


DIFF_COLUMNS = ("output", "scenario", "versus", "mean_ref", "mean", "diff", "ci_low", "ci_high", "p_value", "n",
                "n_nan")
"""Columns of ``differences.csv`` shown in the report's difference table, in this order."""


def difference_table(differences: pd.DataFrame, conf_level: float) -> str:
    """The paired-difference table: the numbers of ``differences.csv`` with a verdict column."""
    pct = f"{conf_level:.0%}"
    headers = ["output", "scenario", "versus (reference)", "reference mean", "scenario mean", "difference",
               f"{pct} CI low", f"{pct} CI high", "p-value", "pairs", "pairs left out (NaN)", "reading"]
    rows = []
    for _, r in differences.iterrows():
        rows.append([r[c].item() if hasattr(r[c], "item") else r[c] for c in DIFF_COLUMNS] + [verdict(r)])
    return table(headers, rows, table_id="differences", left=3)


def mean_ci(x: np.ndarray, conf_level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean of the finite values with a t-interval over replicates: ``(mean, low, high, n)``; NaN when absent."""
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def value_table(results: pd.DataFrame, labels: list[str], conf_level: float) -> str:
    """Per scenario: mean intervention cost, net economic value and value per SEK over replicates, with CIs.

    Beside them, against the reference (paired seed by seed): the extra net economic value
    [SEK] with its paired t-interval, and the extra value per extra SEK spent (mean extra
    value / mean extra cost; '—' when the scenario spends no more than the reference).
    """
    pct = f"{conf_level:.0%}"
    headers = ["scenario"]
    for _, head in VALUE_COLUMNS:
        headers += [head, f"{pct} CI"]
    headers += ["extra net value vs reference [SEK]", f"{pct} CI", "extra value per extra SEK [SEK/SEK]",
                "replicates"]
    ref = results[results["scenario"] == labels[0]].set_index("replicate") if labels else pd.DataFrame()
    rows = []
    for lab in labels:
        sub = results[results["scenario"] == lab]
        row: list[Any] = [lab]
        for col, _ in VALUE_COLUMNS:
            if col not in sub.columns:
                row += [None, None]
                continue
            m, lo, hi, _n = mean_ci(sub[col].to_numpy(float), conf_level)
            row += [m if math.isfinite(m) else None, _interval(lo, hi)]
        row += _extra_value(ref, sub.set_index("replicate"), conf_level) if lab != labels[0] else [None, None, None]
        row.append(len(sub))
        rows.append(row)
    return table(headers, rows, table_id="value-per-krona")


def _interval(lo: float, hi: float) -> str | None:
    return f"{fmt_number(lo)} to {fmt_number(hi)}" if math.isfinite(lo) and math.isfinite(hi) else None


def _extra_value(ref: pd.DataFrame, oth: pd.DataFrame, conf_level: float) -> list[Any]:
    """``[mean extra value, its CI text, extra value per extra SEK]`` of ``oth`` over ``ref`` (paired by replicate)."""
    value, cost = VALUE_COLUMNS[1][0], VALUE_COLUMNS[0][0]
    if value not in oth.columns or value not in ref.columns:
        return [None, None, None]
    idx = ref.index.intersection(oth.index)
    dv = oth.loc[idx, value].to_numpy(float) - ref.loc[idx, value].to_numpy(float)
    m, lo, hi, _n = mean_ci(dv, conf_level)
    per = None
    if cost in oth.columns and cost in ref.columns:
        dc = oth.loc[idx, cost].to_numpy(float) - ref.loc[idx, cost].to_numpy(float)
        ok = np.isfinite(dv) & np.isfinite(dc)
        if ok.any() and dc[ok].mean() > 0:
            per = float(dv[ok].mean() / dc[ok].mean())
    return [m if math.isfinite(m) else None, _interval(lo, hi), per]


NOTES = """<ul class='note'>
<li><b>Common random numbers.</b> Replicate <i>r</i> of every scenario runs with the same seed, so the
scenarios meet the same chance events and their difference shows the strategy, not luck.</li>
<li><b>Curves.</b> The line is the median over the replicate seeds; the shaded band holds the middle 80 %
of replicates (10th to 90th percentile): how much one run can vary, not how sure the median is.</li>
<li><b>Differences.</b> Each row is the mean over replicates of (scenario - reference), paired seed by seed,
with a {pct} confidence interval (paired t). If the interval lies wholly above (below) zero, the scenario is
higher (lower) than the reference with about {pct} confidence; if it spans zero, the runs cannot tell them
apart. More replicates narrow the interval (roughly with the square root of their number).</li>
<li><b>Value per krona</b> is the net economic value (after deadweight, discounted) divided by what the
interventions spent, per run, averaged over replicates; it counts all value, also what would have come
without the interventions. <b>Extra value per extra SEK</b> asks what the strategy adds: the extra net value
over the reference (paired seed by seed) divided by the extra spending. '&mdash;' means not available:
nothing (extra) was spent, or the model version did not report it.</li>
<li>The model is a tool for thinking about strategies, not a forecast: compare scenarios, do not read
absolute numbers as predictions.</li>
</ul>"""


def write_compare_report(folder: str | Path) -> Path:
    """Write ``report.html`` into a comparison folder from its tables; returns its path.

    Raises :class:`ReportError` for a folder that is not a (complete) comparison.
    """
    folder = Path(folder)
    data = read_comparison(folder)
    mf, results, diffs, series = data["manifest"], data["results"], data["differences"], data["series"]
    labels: list[str] = list(mf.get("labels") or dict.fromkeys(results["scenario"]))
    conf = float(mf.get("conf_level", 0.95))
    outputs = [o for o in mf.get("outputs", []) if len(series) and o in series.columns]
    markers = {lab: scenario_markers(data["scenarios"].get(lab), f"{folder}/scenarios.json: {lab}")
               for lab in labels}
    seeds = mf.get("seeds", [])
    head = meta_table([
        ("command", command_of(mf, folder)),
        ("scenarios", ", ".join(f"{lab} ({src})" for lab, src in zip(labels, mf.get("scenarios", labels),
                                                                      strict=False))),
        ("reference", labels[0] if labels else DASH),
        ("replicates", f"{mf.get('replicates')} per scenario, shared seeds (root seed {mf.get('root_seed')}: "
                       f"{', '.join(map(str, seeds[:6]))}{' ...' if len(seeds) > 6 else ''})"),
        ("steps", mf.get("steps") or "each scenario's run.steps"),
        ("date", mf.get("created") or DASH),
        ("version", f"sim {mf.get('version')}, revision {mf.get('git_revision')}"),
        ("failed runs", mf.get("failed", len(data["failures"]))),
    ])
    parts = [f"<h1>Comparison: {html.escape(' vs '.join(labels))}</h1>", head,
             "<h2>How to read this report</h2>", NOTES.format(pct=f"{conf:.0%}")]
    parts.append("<h2>Curves per scenario</h2>")
    if outputs:
        parts.append(figure_img(curves_figure(series, labels, outputs, markers), "curves per scenario"))
    else:
        parts.append("<p>No per-step series in this folder.</p>")
    parts += [f"<h2>Difference from the reference ({html.escape(labels[0] if labels else '')})</h2>",
              difference_table(diffs, conf), "<h2>Value per krona</h2>", value_table(results, labels, conf)]
    rows = [r for lab in labels for r in marker_rows(markers[lab], lab)]
    parts.append("<h2>Interventions</h2>")
    heads = ["scenario", "start month", "end month", "date", "kind", "label"]
    parts.append(table(heads, rows, table_id="interventions") if rows
                 else "<p>No interventions in these scenarios.</p>")
    if data["failures"]:
        parts.append(f"<h2>Failed runs ({len(data['failures'])})</h2>")
        parts.append(table(["scenario", "replicate", "seed", "error"],
                           [[f.get("scenario"), f.get("replicate"), str(f.get("seed")), f.get("error")]
                            for f in data["failures"][:50]]))
    return write_page(folder / "report.html", page(f"Comparison: {' vs '.join(labels)}", "".join(parts)))
