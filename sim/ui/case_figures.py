"""The documented figures of a case preset beside the live run (the "does it look like the case I know?" table).

For a preset of the case library (``cases/<key>``, :mod:`sim.validation.cases`) the live
view shows, per documented figure (``data/cases/<key>.csv``): its date, what it counts, the
documented value, this run's value at the end of that month (once the run has got there),
and the stored 90 % band of the preset's calibration (``docs/img/cases/<key>/forecast.json``,
from ``sim forecast --replicate-check``: the band of fresh runs from the start, as the live run
is one; left out where no calibration is stored). Plain functions of the
rows the live model collected, so they are tested without a browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from sim.dates import month_index
from sim.results import share_or_zero
from sim.ui.i18n import Lang, fmt_number, tr

SHARES = frozenset({"share_meeting_criteria", "share_benefiting"})
"""Outputs in [0, 1], shown as per cent."""


@dataclass(frozen=True)
class Figure:
    """One documented figure: date, output, value, model month at which it is compared, stored band (or None)."""

    date: str
    output: str
    value: float
    month: float
    source: str
    lo90: float | None
    hi90: float | None
    fitted: bool = True
    """False for a figure the CSV marks ``fit = no``: checked against its band, never fitted."""


def case_key(preset: str) -> str | None:
    """The case of a preset key (``"cases/barnahus"`` and ``"cases/barnahus?..."`` give ``"barnahus"``), else None."""
    name = preset.split("?", 1)[0]
    return name.split("/", 1)[1] if name.startswith("cases/") and "/" not in name.split("/", 1)[1] else None


@lru_cache(maxsize=16)
def figures(key: str) -> tuple[Figure, ...]:
    """The documented figures of case ``key`` with their stored bands (empty if the case has no figures)."""
    from sim.scenario import load_scenario
    from sim.validation.cases import RESULTS, observed_path
    from sim.validation.forecast import replicate_band
    from sim.validation.observed import parse_fit

    path = observed_path(key)
    if not path.exists():
        return ()
    start = load_scenario(f"cases/{key}").run.start
    if start is None:
        return ()
    obs = pd.read_csv(path, dtype={"date": str, "output": str, "source": str, "fit": str}, keep_default_na=False)
    if "fit" not in obs.columns:
        obs["fit"] = ""
    band: dict[tuple[str, str], tuple[float, float]] = {}
    stored = RESULTS / key / "forecast.json"
    if stored.exists():
        for o in json.loads(stored.read_text(encoding="utf-8")).get("observed", []):
            # a live run starts from the start, as the replicate check's fresh paths do (a stored forecast's own
            # band passes through the figures)
            r = replicate_band(o)
            band[(o["date"], o["output"])] = (float(r["lo90"]), float(r["hi90"]))
    out = []
    for r in obs.itertuples(index=False):
        lo, hi = band.get((r.date, r.output), (None, None))
        fitted = parse_fit(r.fit)
        out.append(Figure(r.date, r.output, float(r.value), float(month_index(r.date, start) + 1), str(r.source), lo, hi,
                          fitted))
    return tuple(out)


def value_at(rows: tuple[dict[str, float], ...] | list[dict[str, float]], output: str, month: float) -> float | None:
    """The run's ``output`` at model month ``month`` (None if the run has not got there; NaN shares count as 0)."""
    if not rows or rows[-1]["month"] < month - 1e-9:
        return None
    row = next((r for r in rows if r["month"] >= month - 1e-9), rows[-1])
    v = row.get(output)
    if v is None:
        return None
    return float(share_or_zero(v))


def output_label(output: str, lang: Lang) -> str:
    """What a case's figure counts, in the field's words (``case_out_<output>`` in :data:`sim.ui.i18n.TEXTS`).

    Outputs without such a text show their column name.
    """
    key = f"case_out_{output}"
    text = tr(key, lang)
    return output if text == key else text


def _show(output: str, v: float | None, lang: Lang) -> str:
    if v is None:
        return "–"
    if output in SHARES:
        return f"{fmt_number(100.0 * v, lang, 0)} %"
    return fmt_number(v, lang, 0)


def table(key: str, rows: tuple[dict[str, float], ...] | list[dict[str, float]], lang: Lang) -> list[dict[str, Any]]:
    """Rows of the case table: ``date, what, documented, run, band, inside`` (strings; ``inside`` True/False/None).

    ``what`` says "checked, not fitted" for a figure the calibration did not use (``fit = no``).

    ``inside``: whether this run's value lies in the stored 90 % band (None before the date or without a band).
    """
    out = []
    for f in figures(key):
        v = value_at(rows, f.output, f.month)
        has_band = f.lo90 is not None and f.hi90 is not None
        band = f"{_show(f.output, f.lo90, lang)} – {_show(f.output, f.hi90, lang)}" if has_band else "–"
        inside = None if v is None or not has_band else bool(f.lo90 - 1e-9 <= v <= f.hi90 + 1e-9)
        out.append({
            "date": f.date, "what": output_label(f.output, lang) + ("" if f.fitted else f" ({tr('case_checked', lang)})"),
            "documented": _show(f.output, f.value, lang), "run": _show(f.output, v, lang), "band": band,
            "inside": inside, "source": f.source,
        })
    return out
