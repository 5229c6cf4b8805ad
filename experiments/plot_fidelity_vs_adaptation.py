"""Plot the fidelity-versus-adaptation sweep and say where its optimum is.

    sim sweep experiments/fidelity_vs_adaptation.toml --out out/fidelity_vs_adaptation
    python experiments/plot_fidelity_vs_adaptation.py out/fidelity_vs_adaptation [PNG]

Left: total social value (mean over replicates, 95 % t-interval; replicates share
seeds across points) against the adaptation rate, one curve per guardrail level,
the best rate of each curve marked. Right: mean core fidelity F and local fit L of
running sites. Prints, per guardrail level, the best adaptation rate and whether it
is interior (neither end of the grid) with its margin over both ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from sim.explore.sweep import load_sweep

A, G = "levers.adaptation_rate", "levers.guardrails"


def summarise(results: pd.DataFrame, output: str) -> pd.DataFrame:
    g = results.groupby([G, A])[output]
    s = g.agg(["mean", "std", "count"]).reset_index()
    s["half"] = stats.t.ppf(0.975, s["count"] - 1) * s["std"] / np.sqrt(s["count"])
    return s


def paired_margin(results: pd.DataFrame, guard: float, best: float, other: float, output: str) -> tuple[float, float]:
    """Mean and 95 % half-width of (best - other), paired by replicate (common random numbers)."""
    d = results[results[G] == guard].pivot(index="replicate", columns=A, values=output)
    diff = d[best] - d[other]
    return float(diff.mean()), float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))


def main(sweep_dir: str, png: str = "docs/img/experiments/fidelity_vs_adaptation.png") -> None:
    _, _, results, failures = load_sweep(sweep_dir)
    if len(failures):
        print(f"warning: {len(failures)} failed runs are missing from the plot")
    val = summarise(results, "value_social")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    rates = sorted(results[A].unique())
    x = {r: i for i, r in enumerate(rates)}
    for guard, d in val.groupby(G):
        xs = d[A].map(x)
        line = ax.plot(xs, d["mean"], marker="o", label=f"guardrails {guard:g}")[0]
        ax.fill_between(xs, d["mean"] - d["half"], d["mean"] + d["half"], color=line.get_color(), alpha=0.2, lw=0)
        best = d.loc[d["mean"].idxmax()]
        ax.plot(x[best[A]], best["mean"], marker="*", ms=16, color=line.get_color(), mec="black")
        interior = best[A] not in (rates[0], rates[-1])
        lo = paired_margin(results, guard, best[A], rates[0], "value_social")
        hi = paired_margin(results, guard, best[A], rates[-1], "value_social")
        print(f"guardrails {guard:g}: best adaptation_rate {best[A]:g} (value_social {best['mean']:.0f} "
              f"+/- {best['half']:.0f}); interior: {interior}; margin over rate {rates[0]:g}: {lo[0]:+.0f} "
              f"+/- {lo[1]:.0f}, over rate {rates[-1]:g}: {hi[0]:+.0f} +/- {hi[1]:.0f} (paired 95 % CI)")
    ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
    ax.set_xlabel("adaptation rate [1/month]")
    ax.set_ylabel("social value after 120 months [persons]")
    ax.set_title("total value (mean, 95 % CI; * = best rate)", fontsize=10)
    ax.legend(fontsize=8)
    for col, ls in (("mean_fidelity", "-"), ("mean_fit", "--")):
        s = summarise(results, col)
        for i, (guard, d) in enumerate(s.groupby(G)):
            ax2.plot(d[A].map(x), d["mean"], ls=ls, color=f"C{i}", label=f"{col[5:]} (guardrails {guard:g})")
    ax2.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
    ax2.set_xlabel("adaptation rate [1/month]")
    ax2.set_ylabel("mean over running sites [-]")
    ax2.set_title("core fidelity F (solid) and local fit L (dashed)", fontsize=10)
    ax2.legend(fontsize=7)
    reps = int(results["replicate"].nunique()) if "replicate" in results else 0
    fig.suptitle(f"Fidelity versus adaptation, teaching preset, {reps} replicates with common random numbers", fontsize=10)
    fig.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    print(f"wrote {png}")


if __name__ == "__main__":
    main(*sys.argv[1:])
