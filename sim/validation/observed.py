"""Observed figures: the CSV a forecast is fitted to and checked against (``sim forecast --observed``).

A CSV with columns ``date,output,value,source`` and an optional ``fit`` (:func:`load_observed`);
``date`` a calendar month ``"YYYY-MM"`` not before the scenario's ``run.start``, ``output`` a
column of ``model.parquet`` (:mod:`sim.results`), ``value`` a number the output can take
(:func:`output_range`), ``source`` free text. Also the ``--param name=LOW:HIGH`` ranges of a fit
(:func:`parse_param`). Bad input raises :class:`ForecastError`, naming the file, row, field and
what is allowed. The forecast itself is :mod:`sim.validation.forecast`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.dates import month_index, parse_year_month

COLUMNS: tuple[str, ...] = ("date", "output", "value", "source")
"""Columns of an observed-figures CSV."""

FIT_VALUES: dict[str, bool] = {"": True, "yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
"""Allowed values of the optional ``fit`` column: ``no`` makes a figure checked against the band, never fitted."""


def parse_fit(value: object) -> bool:
    """A ``fit`` cell as a flag: True to fit the figure, False to only check it; ValueError if not allowed."""
    key = str(value).strip().lower()
    if key not in FIT_VALUES:
        raise ValueError(f"{value!r} is not allowed; allowed: yes or no (empty = yes)")
    return FIT_VALUES[key]

class ForecastError(ValueError):
    """Bad input to a forecast: the message names the file or option, the field and what is allowed."""


SIGNED_OUTPUTS: frozenset[str] = frozenset({"net_economic", "economic_value_net_sek"})
"""Outputs that can be negative (net values, SEK); every other output is a count, an amount or a share >= 0."""


def output_range(name: str) -> tuple[float, float]:
    """The values an output of ``model.parquet`` can take: ``(low, high)``, inclusive.

    Shares, means of [0, 1] site properties, survival shares, national visibility and the
    scaled-up flag: [0, 1]; net values (:data:`SIGNED_OUTPUTS`): any number; everything else
    (counts of organisations, places, sites, people; SEK amounts; value accounts): >= 0.
    """
    if name in SIGNED_OUTPUTS:
        return (-math.inf, math.inf)
    if name.startswith(("share_", "mean_", "survival_")) or name in ("visibility", "scaled_up"):
        return (0.0, 1.0)
    return (0.0, math.inf)


def figure_value(where: str, field: str, cell: object, output: str, bounds: tuple[float, float] | None = None,
                 what: str | None = None) -> float:
    """``cell`` as a finite number that ``output`` can take: ``bounds``, default :func:`output_range`.

    :class:`ForecastError` starting with ``where`` (file and row) and naming ``field``; ``what``
    is how the output is named in it (default: ``output``).
    """
    try:
        v = float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        raise ForecastError(f"{where}: field {field} {cell!r} is not a finite number")
    lo, hi = output_range(output) if bounds is None else bounds
    if not lo <= v <= hi:
        allowed = f"{lo:g} or more" if hi == math.inf else f"{lo:g} to {hi:g}"
        raise ForecastError(f"{where}: field {field} {cell} is outside what {what or output} can be; allowed: {allowed}")
    return v


def check_fields(path: Path, label: str = "--observed ") -> None:
    """Every line of the CSV has as many fields as its header (:func:`sim.csvfields.field_count_mismatch`).

    :class:`ForecastError` naming the row, or (``label`` before the path) a file that is not UTF-8 CSV text.
    """
    import csv

    from sim.csvfields import field_count_problem

    try:
        bad = field_count_problem(path)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ForecastError(f"{label}{path}: cannot be read as CSV ({err}); save it as UTF-8 text") from None
    if bad is not None:
        raise ForecastError(f"{path}: row {bad[0]}: {bad[1]}")


def load_observed(path: str | Path, start: str, outputs: set[str] | list[str],
                  limits: Mapping[str, tuple[float, str]] | None = None) -> pd.DataFrame:
    """Read and check observed figures; add ``month`` (model month at the end of each ``date``).

    ``start``: the scenario's ``run.start``; ``outputs``: allowed output names; ``limits``: the
    largest value an output can take in the scenario's world and what it counts, e.g.
    ``{"places_reached": (290, "the scenario's 290 places")}`` (:func:`sim.results.count_limits`).
    :class:`ForecastError` naming the file, row and field for a missing file or column,
    a row with more or fewer fields than the header, an unparseable date or value, a date
    before ``start``, an unknown output, a value the output cannot take (:func:`output_range`,
    ``limits``) or a second figure for the same output and month.
    """
    path = Path(path)
    if not path.is_file():
        raise ForecastError(f"--observed {path}: no such file")
    check_fields(path)
    try:
        df = pd.read_csv(path, dtype={"date": str, "output": str, "source": str}, keep_default_na=False,
                         index_col=False)
    except FileNotFoundError:
        raise ForecastError(f"--observed {path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise ForecastError(f"--observed {path}: cannot be read as CSV ({err})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ForecastError(f"{path}: missing column(s) {missing}; needs {list(COLUMNS)}, has {list(df.columns)}")
    if df.empty:
        raise ForecastError(f"{path}: no observed figures (needs at least one row)")
    months, values = [], []
    seen: dict[tuple[int, str], int] = {}
    for i, row in df.iterrows():
        where = f"{path}: row {int(i) + 2}"  # header is line 1
        try:
            parse_year_month(row["date"])
        except ValueError as err:
            raise ForecastError(f"{where}: field date {row['date']!r}: {err}") from None
        m = month_index(row["date"], start)
        if m < 0:
            raise ForecastError(f"{where}: field date {row['date']} is before run.start {start}; allowed: {start} or later")
        if row["output"] not in outputs:
            raise ForecastError(f"{where}: field output {row['output']!r} is not a model output; allowed: "
                                f"{', '.join(sorted(outputs))}")
        v = figure_value(where, "value", row["value"], row["output"])
        lo = output_range(row["output"])[0]
        if limits and row["output"] in limits and v > limits[row["output"]][0]:
            most, what = limits[row["output"]]
            raise ForecastError(f"{where}: field value {row['value']} is more than {row['output']} can reach in "
                                f"this scenario ({what}); allowed: {lo:g} to {most:g}")
        key = (m, row["output"])
        if key in seen:
            raise ForecastError(f"{where}: date {row['date']} and output {row['output']} repeat row {seen[key]}; "
                                "one figure per output and month")
        seen[key] = int(i) + 2
        months.append(float(m + 1))
        values.append(v)
    fit = [True] * len(df)
    if "fit" in df.columns:
        for i, v in enumerate(df["fit"]):
            try:
                fit[i] = parse_fit(v)
            except ValueError as err:
                raise ForecastError(f"{path}: row {i + 2}: field fit {err}") from None
        if not any(fit):
            raise ForecastError(f"{path}: field fit is 'no' on every row; at least one figure must be fitted")
    out = df[list(COLUMNS)].copy()
    out["value"] = values
    out["month"] = months
    out["check_only"] = [not f for f in fit]
    return out.sort_values(["month", "output"], kind="stable").reset_index(drop=True)


def parse_param(text: str) -> tuple[str, tuple[float, float]]:
    """``"organisations.q=0.1:0.9"`` -> ``("organisations.q", (0.1, 0.9))``, checked against the schema."""
    from sim.params import numeric_field_is_int, numeric_field_range

    name, sep, rng = text.partition("=")
    lo_s, sep2, hi_s = rng.partition(":")
    try:
        if not sep or not sep2:
            raise ValueError("expected dotted.name=LOW:HIGH")
        lo, hi = float(lo_s), float(hi_s)
        if not lo < hi:
            raise ValueError("LOW must be < HIGH")
        allowed = numeric_field_range(name.strip())
        if lo < allowed[0] or hi > allowed[1]:
            raise ValueError(f"range leaves the field's allowed range [{allowed[0]:g}, {allowed[1]:g}]")
        if numeric_field_is_int(name.strip()) and not (lo.is_integer() and hi.is_integer()):
            raise ValueError("an integer field: LOW and HIGH must be whole numbers")
    except ValueError as err:
        raise ForecastError(f"--param {text!r}: {err}") from None
    return name.strip(), (lo, hi)
