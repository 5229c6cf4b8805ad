"""The board report of a sweep folder (written by ``sim sweep``): one self-contained ``report.html``.

``write_sweep_report(DIR)`` reads the sweep store (``manifest.json``, ``design.parquet``,
``runs/``, ``failures/``) and the sensitivity analysis in ``DIR/analysis/`` as
``sim analyze`` wrote it (``indices.csv``, ``nan_report.csv``, ``indices.png``).
When there is no analysis yet, or the runs are newer than it, it runs the analysis
exactly as ``sim analyze DIR`` does with its defaults (1000 bootstrap resamples,
95 % CIs), which (re)writes ``DIR/analysis/``. The page has a header (command,
scenario, design, seeds, date, version), notes on reading the indices, the indices
table and chart, the NaN report and response plots (each output against each
parameter, every run a dot, the mean per tenth of the parameter's range a line).
"""

from __future__ import annotations

import base64
import html
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.report.page import DASH, ReportError, figure_img, meta_table, page, table, write_page

INDEX_COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
}
"""Index columns of ``analysis/indices.csv`` per design, as ``sim analyze`` writes them."""

NOTES = {
    "sobol": """<ul class='note'>
<li><b>S1 (first order)</b>: the share of the output's variance over the design that one parameter causes
on its own (0 to 1). <b>ST (total)</b>: its share including every interaction with other parameters;
ST much larger than S1 means the parameter matters through interactions.</li>
<li>Each index has a bootstrap confidence interval (&plusmn; the <i>conf</i> column); an index whose interval
includes 0 cannot be told from no effect with this many samples. Small negative values are estimation noise.</li>
<li>Each design point's output is the mean over its replicate seeds (common random numbers across points).</li>
</ul>""",
    "morris": """<ul class='note'>
<li><b>mu*</b>: the mean absolute change of the output when the parameter moves one step across its range
(in the output's own units): its overall influence. <b>sigma</b>: how much that change varies from place to
place in the design: large sigma means non-linear effects or interactions. <b>mu</b> (signed) near mu*
means the effect has one direction.</li>
<li>mu* has a bootstrap confidence interval (&plusmn; <i>mu_star_conf</i>). Morris screens: it ranks
parameters, it does not split variance.</li>
</ul>""",
}


def _analysis(folder: Path, method: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``(indices, nan_report, where)`` from ``analysis/``, (re)running the analysis when absent or stale."""
    adir = folder / "analysis"
    idx, nan = adir / "indices.csv", adir / "nan_report.csv"
    parts = list((folder / "runs").glob("part-*.parquet"))
    newest = max((p.stat().st_mtime for p in parts), default=0.0)
    if idx.is_file() and nan.is_file() and idx.stat().st_mtime >= newest:
        where = f"read from {idx} (as written by `sim analyze`)"
    else:
        from sim.explore.analyze import analyze_sweep

        analyze_sweep(folder)
        where = f"computed now as `sim analyze {folder}` does (1000 resamples, 95 % CI) and written to {adir}/"
    indices = pd.read_csv(idx) if idx.stat().st_size > 1 else pd.DataFrame()
    return indices, pd.read_csv(nan), where


def response_figure(results: pd.DataFrame, params: list[str], outputs: list[str]) -> Any:
    """Grid of panels: each output (rows) against each numeric parameter (columns); dots = runs, line = binned mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(outputs), len(params), figsize=(3.3 * len(params), 2.6 * len(outputs)),
                             squeeze=False)
    for i, o in enumerate(outputs):
        for j, p in enumerate(params):
            ax = axes[i, j]
            x = pd.to_numeric(results[p], errors="coerce").to_numpy(float)
            y = results[o].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            ax.scatter(x[ok], y[ok], s=7, alpha=0.45, color="#1f77b4", lw=0)
            if ok.sum() >= 4 and np.ptp(x[ok]) > 0:
                edges = np.linspace(x[ok].min(), x[ok].max(), 11)
                k = np.clip(np.digitize(x[ok], edges) - 1, 0, 9)
                centres = [(edges[b] + edges[b + 1]) / 2 for b in range(10) if (k == b).any()]
                means = [y[ok][k == b].mean() for b in range(10) if (k == b).any()]
                ax.plot(centres, means, color="#d62728", lw=1.5)
            if i == len(outputs) - 1:
                ax.set_xlabel(p, fontsize=8)
            if j == 0:
                ax.set_ylabel(o, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("response: every run a dot; line: mean per tenth of the parameter's range", fontsize=10)
    fig.tight_layout()
    return fig


def _numeric(results: pd.DataFrame, params: list[str]) -> list[str]:
    return [p for p in params if p in results.columns and pd.api.types.is_numeric_dtype(results[p])]


def write_sweep_report(folder: str | Path) -> Path:
    """Write ``report.html`` into a sweep folder; returns its path. :class:`ReportError` if it is no sweep."""
    from sim.explore.store import StoreError
    from sim.explore.sweep import load_sweep

    folder = Path(folder)
    try:
        mf, _design, results, failures = load_sweep(folder)
    except (StoreError, OSError, ValueError) as err:
        raise ReportError(f"{folder}: cannot read the sweep ({type(err).__name__}: {err})") from None
    exp = mf["experiment"]
    method = mf.get("design", exp.get("design"))
    params: list[str] = list(mf["parameters"])
    outputs: list[str] = list(mf["outputs"])
    name = mf.get("scenario", {}).get("name", "scenario")
    command = "sim sweep " + shlex.quote(str(mf.get("experiment_file") or "EXPERIMENT.toml")) + \
        f" --out {shlex.quote(str(folder))}"
    bounds = exp.get("parameters", {})
    head = meta_table([
        ("command", command),
        ("scenario", name),
        ("design", f"{method}: {mf.get('n_points')} points x {exp.get('replicates')} replicate seeds "
                   f"= {mf.get('n_runs')} runs (root seed {mf.get('root_seed')})"),
        ("parameters", "; ".join(f"{p} in {bounds.get(p, '?')}" for p in params)),
        ("outputs", ", ".join(outputs)),
        ("runs", f"{len(results)} present, {len(failures)} failed; status {mf.get('status')}"),
        ("date", f"created {mf.get('created')}, updated {mf.get('updated')}"),
        ("version", f"sim {mf.get('version')}, revision {mf.get('git_revision')}"),
    ])
    parts = [f"<h1>Sweep: {html.escape(str(exp.get('name', name)))}</h1>", head,
             "<h2>Sensitivity indices</h2>"]
    if method in INDEX_COLUMNS:
        indices, nan_report, where = _analysis(folder, method)
        parts.append(NOTES[method])
        parts.append(f"<p class='note'>Indices {html.escape(where)}.</p>")
        cols = ["output", "parameter", *INDEX_COLUMNS[method]]
        if len(indices):
            parts.append(table(cols, [[r[c].item() if hasattr(r[c], "item") else r[c] for c in cols]
                                      for _, r in indices.iterrows()], table_id="indices", left=2))
            png = folder / "analysis" / "indices.png"
            if png.is_file():
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                parts.append(f"<img alt='sensitivity indices' src='data:image/png;base64,{data}'>")
        else:
            parts.append("<p>No output could be analysed (see the table below).</p>")
        parts.append("<h3>Missing and NaN values per output</h3>")
        ncols = [c for c in ("output", "runs", "nan_runs", "missing_runs", "censored_runs", "status")
                 if c in nan_report.columns]
        parts.append(table(ncols, nan_report[ncols].astype(object).where(nan_report[ncols].notna(), None)
                           .values.tolist(), table_id="nan-report"))
    else:
        parts.append(f"<p>A {html.escape(str(method))} design has no variance-based indices; `sim analyze` gives "
                     "each point's mean and interval. The response plots below show the effect of each "
                     "parameter.</p>")
    parts.append("<h2>Response plots</h2>")
    numeric = _numeric(results, params)
    shown = [o for o in outputs if o in results.columns]
    if len(results) and numeric and shown:
        parts.append(figure_img(response_figure(results, numeric, shown), "response plots", dpi=90))
    else:
        parts.append(f"<p>{DASH} no finished runs with numeric parameters to plot.</p>")
    return write_page(folder / "report.html", page(f"Sweep: {exp.get('name', name)}", "".join(parts)))
