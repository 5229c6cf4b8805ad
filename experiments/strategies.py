"""Compare the strategy presets (``scenarios/strategies/``) and write the tables and plot of ``docs/strategies.md``.

Usage (from the project root)::

    python experiments/strategies.py --out out/strategies            # runs `sim compare` (10 seeds), then writes
    python experiments/strategies.py --out out/strategies --docs-only  # rewrite the docs from that folder

The comparison is ``sim compare`` itself (common random numbers: replicate r of every
scenario uses the same seed); this script only reads its folder, draws the curves with
the interventions as markers, and writes the difference and value-per-krona tables
between the generated markers of ``docs/strategies.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "strategies.md"
IMG = ROOT / "docs" / "img" / "strategies"
BEGIN = "<!-- BEGIN GENERATED: python experiments/strategies.py -->"
END = "<!-- END GENERATED -->"
SCENARIOS = [
    "sweden-youth-employment",
    "scenarios/strategies/pilots-everywhere.toml",
    "scenarios/strategies/longer-pilots-support.toml",
    "scenarios/strategies/measurement-first.toml",
    "scenarios/strategies/national-offer.toml",
]
OUTPUTS = ["people_benefiting", "places_reached", "sites_permanent", "survival_24_decided", "economic_value_net_sek",
           "intervention_cost_sek", "intervention_cost_pv_sek", "value_social"]
PANELS = [("people_benefiting", "people benefiting"), ("places_reached", "places reached"),
          ("sites_permanent", "sites on ordinary budgets"), ("intervention_cost_sek", "spent by the strategy [MSEK]")]


def run_comparison(out: Path, replicates: int) -> None:
    """``sim compare`` of the strategies against the Sweden preset."""
    from sim.explore.compare import compare

    compare(SCENARIOS, out, replicates, outputs=OUTPUTS,
            progress=lambda k, f, n: print(f"\r{k}/{n} runs", end="", file=sys.stderr))
    print(file=sys.stderr)


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``b - a`` and its 95 % paired-t interval."""
    from sim.explore.compare import paired_difference

    d = paired_difference(a, b, 0.95)
    return d["diff"], d["ci_low"], d["ci_high"]


def value_per_krona(results: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Per strategy: spending, net present value, and what it adds per krona against the reference (paired)."""
    ref = results[results["scenario"] == labels[0]].set_index("replicate")
    rows = []
    for lab in labels[1:]:
        s = results[results["scenario"] == lab].set_index("replicate").reindex(ref.index)
        cost_pv = s["intervention_cost_pv_sek"].to_numpy(float)
        added = s["economic_value_net_sek"].to_numpy(float) - ref["economic_value_net_sek"].to_numpy(float)
        ratio = added / cost_pv
        m, lo, hi = paired(np.zeros_like(ratio), ratio)
        dm, dlo, dhi = paired(ref["economic_value_net_sek"].to_numpy(float), s["economic_value_net_sek"].to_numpy(float))
        rows.append({"strategy": lab, "spent_msek": s["intervention_cost_sek"].mean() / 1e6,
                     "spent_pv_msek": cost_pv.mean() / 1e6,
                     "added_value_msek": dm / 1e6, "added_lo": dlo / 1e6, "added_hi": dhi / 1e6,
                     "sek_per_sek": m, "sek_per_sek_lo": lo, "sek_per_sek_hi": hi})
    return pd.DataFrame(rows)


def plot(series: pd.DataFrame, labels: list[str], scenarios: list[str], path: Path) -> None:
    """Median and 10-90 % band per strategy, with each strategy's interventions as markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.interventions import markers
    from sim.scenario import load_scenario

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (col, title) in zip(axes.flat, PANELS, strict=True):
        for k, lab in enumerate(labels):
            g = series[series["scenario"] == lab].groupby("month")[col]
            scale = 1e6 if col.endswith("_sek") else 1.0
            med, lo, hi = g.median() / scale, g.quantile(0.1) / scale, g.quantile(0.9) / scale
            c = colours[k % len(colours)]
            ax.plot(med.index, med.to_numpy(), color=c, label=lab, lw=1.6)
            ax.fill_between(med.index, lo.to_numpy(), hi.to_numpy(), color=c, alpha=0.18, lw=0)
            for mk in markers(load_scenario(scenarios[k], check_world=False)):
                ax.axvline(mk.month, color=c, ls=":", lw=1.0, alpha=0.8)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("month (0 = 2027-01)")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("median over 10 seeds, band 10-90 % (common random numbers); dotted: an intervention starts",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(out: Path) -> str:
    """The generated block of docs/strategies.md from the comparison folder ``out``."""
    manifest = json.loads((out / "manifest.json").read_text())
    labels = manifest["labels"]
    results = pd.read_parquet(out / "results.parquet")
    diffs = pd.read_csv(out / "differences.csv")
    plot(pd.read_parquet(out / "series.parquet"), labels, manifest["scenarios"], IMG / "curves.png")
    lines = [BEGIN, "", f"{manifest['replicates']} seeds per scenario (root seed {manifest['root_seed']}), "
             f"120 months from 2027-01; reference `{labels[0]}` (no strategy).", "",
             "![strategies](img/strategies/curves.png)", "",
             "**Differences against the reference** at month 120 (mean of paired differences, 95 % interval):", "",
             "| strategy | people benefiting | places reached | sites on ordinary budgets | survival 24 months |",
             "|---|---|---|---|---|"]
    for lab in labels[1:]:
        cells = []
        for o in ["people_benefiting", "places_reached", "sites_permanent", "survival_24_decided"]:
            d = diffs[(diffs["scenario"] == lab) & (diffs["output"] == o)].iloc[0]
            f = "{:+.2f}" if o.startswith("survival") else "{:+,.0f}"
            cells.append(f"{f.format(d['diff'])} [{f.format(d['ci_low'])}, {f.format(d['ci_high'])}]")
        lines.append(f"| `{lab}` | " + " | ".join(cells) + " |")
    vk = value_per_krona(results, labels)
    lines += ["", "**Value per krona** (economic value net of deadweight, present value at 3.5 %; the strategy's "
              "spending, present value):", "",
              "| strategy | spent [MSEK] | spent, PV [MSEK] | value added, PV [MSEK] (95 %) | SEK added per SEK spent (95 %) |",
              "|---|---|---|---|---|"]
    for r in vk.itertuples():
        lines.append(f"| `{r.strategy}` | {r.spent_msek:,.0f} | {r.spent_pv_msek:,.0f} | {r.added_value_msek:,.0f} "
                     f"[{r.added_lo:,.0f}, {r.added_hi:,.0f}] | {r.sek_per_sek:.1f} [{r.sek_per_sek_lo:.1f}, "
                     f"{r.sek_per_sek_hi:.1f}] |")
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "strategies")
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--docs-only", action="store_true", help="only rewrite the docs from --out")
    args = ap.parse_args()
    if not args.docs_only and not (args.out / "manifest.json").exists():
        run_comparison(args.out, args.replicates)
    block = markdown(args.out)
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + block + tail, encoding="utf-8")
    print(f"wrote {DOC} and {IMG / 'curves.png'}")


if __name__ == "__main__":
    main()
