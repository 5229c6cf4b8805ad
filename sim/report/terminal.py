"""The comparison's difference table for a terminal, readable at 80 columns.

Long format: one block per output; its first row is the reference scenario's mean,
the rows under it each other scenario with its mean, the paired difference from the
reference, the confidence interval and p-value. Numbers are short (three significant
figures, k/M/G for thousands, millions, billions), so no header is ever cut and
scenario names wrap instead of being truncated.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich import box
from rich.markup import escape
from rich.table import Table


def short_number(v: Any) -> str:
    """Three significant figures; k, M, G for 1e3, 1e6, 1e9 and above; 'NaN' for a missing value."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "NaN"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.1e}"
    return f"{x:.3g}"


def p_text(p: Any) -> str:
    """A p-value as '<0.001' or two significant figures."""
    x = float(p)
    if not math.isfinite(x):
        return "NaN"
    return "<0.001" if x < 0.001 else f"{x:.2g}"


def difference_table(differences: pd.DataFrame, conf_level: float = 0.95) -> Table:
    """A Rich table of ``differences`` (the columns of ``differences.csv``) in long format, one block per output."""
    pct = f"{conf_level:.0%}"
    t = Table(title=f"difference from the reference (paired over replicate seeds, {pct} CI)", header_style="bold",
              box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    t.add_column("output / scenario", overflow="fold", ratio=1, min_width=14)
    for name in ("mean", "diff", f"{pct} CI", "p", "n"):  # n: pairs used (+ pairs left out as NaN)
        t.add_column(name, justify="right", no_wrap=True)
    for output, block in differences.groupby("output", sort=False):
        ref = block.iloc[0]
        t.add_row(f"[bold]{escape(str(output))}[/]", "", "", "", "", "")
        t.add_row(f"  {escape(str(ref['versus']))} (ref)", short_number(ref["mean_ref"]), "", "", "", "")
        for _, r in block.iterrows():
            n = f"{int(r['n'])}" + (f"+{int(r['n_nan'])}NaN" if int(r["n_nan"]) else "")
            t.add_row(f"  {escape(str(r['scenario']))}", short_number(r["mean"]), short_number(r["diff"]),
                      f"[{short_number(r['ci_low'])}, {short_number(r['ci_high'])}]", p_text(r["p_value"]), n)
        t.add_section()
    return t
