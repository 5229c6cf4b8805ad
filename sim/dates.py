"""Calendar time: year-months (``"YYYY-MM"``) and model months, one to the other.

A scenario's ``run.start`` (``"2027-01"``) is the calendar month of model month 0.
Model month ``m`` (elapsed time, possibly fractional with ``run.dt < 1``) falls in the
calendar month ``start + floor(m)``: with ``start = "2027-01"``, months 0 to 0.99 are
``"2027-01"``, month 11 is ``"2027-12"``, month 12 is ``"2028-01"``.

Dates are ISO ``"YYYY-MM"`` strings everywhere (tables, summaries, manifests): they sort
as text, survive Parquet and JSON unchanged, and ``pd.Period(s, "M")`` reads them.
Imports nothing from ``sim`` (the schema in :mod:`sim.params` validates with it).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

MIN_YEAR = 1900
"""Earliest year of a date [year] (``1900-01``)."""
MAX_YEAR = 2200
"""Latest year of a date [year] (``2200-12``)."""
ALLOWED = f"a year and month \"YYYY-MM\" from {MIN_YEAR}-01 to {MAX_YEAR}-12, e.g. \"2027-01\""
"""What a date may be, for messages."""

_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only (\d also takes full-width ones)
_EPS = 1e-9  # months: 3 * (1/3) steps is month 1, not 0.999...


def parse_year_month(text: Any) -> tuple[int, int]:
    """``(year, month)`` of ``"YYYY-MM"``; :class:`ValueError` saying what is allowed otherwise.

    The year is in [:data:`MIN_YEAR`, :data:`MAX_YEAR`], the month in [1, 12]; exactly
    four and two digits (``"2027-1"``, ``"2027-01-15"`` and ``" 2027-01"`` are refused).
    """
    if not isinstance(text, str):
        raise ValueError(f"a date is a string {ALLOWED}, not {type(text).__name__}")
    m = _PATTERN.fullmatch(text)
    if m is None:
        raise ValueError(f"not a date: expected {ALLOWED}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month {month:02d} does not exist: expected {ALLOWED}")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is out of range: expected {ALLOWED}")
    return year, month


def _ordinal(text: str) -> int:
    """Months since 0000-01 of a valid ``"YYYY-MM"``."""
    year, month = parse_year_month(text)
    return year * 12 + month - 1


def _text(ordinal: int) -> str:
    year, month0 = divmod(ordinal, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def month_index(date: str, start: str) -> int:
    """The model month at which calendar month ``date`` begins, for a run starting at ``start`` [months].

    Negative if ``date`` is before ``start``: ``month_index("2026-12", "2027-01") == -1``.
    """
    return _ordinal(date) - _ordinal(start)


def date_of(month: float, start: str) -> str | None:
    """The calendar month ``start + floor(month)`` as ``"YYYY-MM"`` (None for a NaN month).

    ``month`` is elapsed model time [months], may be fractional or negative.
    """
    if month is None or math.isnan(month):
        return None
    return _text(_ordinal(start) + math.floor(month + _EPS))


def dates_of(months: Any, start: str) -> np.ndarray:
    """:func:`date_of` of every element of ``months`` (an object array of strings, None for NaN)."""
    m = np.asarray(months, dtype=np.float64)
    out = np.full(m.shape, None, dtype=object)
    ok = ~np.isnan(m)
    base = _ordinal(start)
    uniq, inverse = np.unique(base + np.floor(m[ok] + _EPS).astype(np.int64), return_inverse=True)
    out[ok] = np.array([_text(int(i)) for i in uniq], dtype=object)[inverse]  # one string per distinct month
    return out
