"""Your own place data: a table of municipal indicators joined to the Swedish municipalities.

A scenario with ``places.source = "sweden"`` may name a CSV file (``places.data``) with
one row per municipality, keyed by its 4-digit SCB code (``places.code_column``,
text, leading zeros kept: ``"0114"``), and map named columns onto the places' own
values (``places.columns``), see ``docs/place-data.md``::

    [places.columns]
    severity    = { column = "neet_16_24_pct", from = [0, 100] }   # a per cent -> a share in [0, 1]
    need        = { column = "youth_unemployment_pct", from = [2, 14], to = [0.3, 0.8], clip = true }
    openness    = { column = "openness" }                          # already in [0, 1]
    target_size = { column = "persons_16_24" }                     # persons

* ``severity``, ``openness``, ``need`` (targets in [0, 1]): the value ``x`` becomes
  ``a + (x - lo) / (hi - lo) * (b - a)`` with ``from = [lo, hi]`` (default ``[0, 1]``;
  ``hi < lo`` reverses the scale) and ``to = [a, b]`` (default ``[0, 1]``, each in
  [0, 1]). ``x`` outside ``from`` is an error unless ``clip = true``, which saturates it
  at the nearer end. ``need`` is the place's need *level*: its need profile ``u`` (one
  value per solution component) keeps the drawn deviations and is centred on it,
  ``u_k = clip(level + (z_k - need_mean), 0, 1)`` with ``z_k ~ N(need_mean, need_spread)``.
* ``target_size``: persons in the target group (>= 0, at most the municipality's
  population); simulated members ``round(persons * target_scale)`` (``target_share``
  is not used for the place).

The random draws of the places are made whatever is mapped, so a mapped value changes
only itself (common random numbers). Every problem is a :class:`ScenarioError`
naming the file, the line and code, the column and what is allowed.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.schema_base import MAX_FILE_BYTES, ScenarioError, cut, short

TARGETS: tuple[str, ...] = ("severity", "need", "openness", "target_size")
"""What a column may be mapped onto: the places' severity, need level, norm openness, target-group size."""

SCALED_TARGETS: tuple[str, ...] = ("severity", "need", "openness")
"""Targets in [0, 1] that take a linear map (``from``, ``to``, ``clip``)."""

KEYS: dict[str, tuple[str, ...]] = {
    **{t: ("column", "from", "to", "clip") for t in SCALED_TARGETS},
    "target_size": ("column",),
}
"""The keys each target's mapping may have."""

CODE_PATTERN = re.compile(r"\d{4}")
THOUSANDS = re.compile(r"-?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?")
"""A number with its thousands grouped by spaces, as Swedish exports write them (``1 234,5``)."""
MAX_LISTED = 8
"""At most this many codes are listed in one message (the rest are counted)."""


@dataclass(frozen=True)
class ColumnMap:
    """One mapped column: ``target`` takes ``a + (x - lo) / (hi - lo) * (b - a)`` of column ``column``."""

    target: str
    column: str
    lo: float = 0.0
    hi: float = 1.0
    a: float = 0.0
    b: float = 1.0
    clip: bool = False

    def scale(self, x: float) -> float:
        """The target value of a (range-checked or clipped) column value ``x``."""
        t = (x - self.lo) / (self.hi - self.lo)
        return self.a + min(max(t, 0.0), 1.0) * (self.b - self.a)


def _pair(value: Any, where: str, lo: float | None = None, hi: float | None = None) -> tuple[float, float]:
    """Two finite numbers ``[x, y]`` (each in ``[lo, hi]`` if given), else ``ValueError`` naming ``where``."""
    ok = isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )
    if not ok:
        raise ValueError(f"{where}: expected two numbers [low, high]; got {short(value)}")
    x, y = float(value[0]), float(value[1])
    if lo is not None and hi is not None and not (lo <= x <= hi and lo <= y <= hi):
        raise ValueError(f"{where}: each number must be in [{lo:g}, {hi:g}]; got {short(value)}")
    return x, y


def parse_columns(columns: dict[str, Any]) -> dict[str, ColumnMap]:
    """Check the ``places.columns`` table; ``ValueError`` naming the target and key otherwise."""
    out: dict[str, ColumnMap] = {}
    for target, spec in columns.items():
        if target not in KEYS:
            raise ValueError(f"{short(target)}: not a place value (allowed: {', '.join(TARGETS)})")
        if not isinstance(spec, dict):
            raise ValueError(f"{target}: expected a table such as {{ column = \"name\" }}; got {short(spec)}")
        extra = [k for k in spec if k not in KEYS[target]]
        if extra:
            raise ValueError(f"{target}: unknown key {short(extra[0])} (allowed keys: {', '.join(KEYS[target])})")
        column = spec.get("column")
        if not isinstance(column, str) or not column.strip():
            raise ValueError(f"{target}.column: expected the name of a column of the file (a string); got {short(column)}")
        lo, hi = _pair(spec.get("from", [0.0, 1.0]), f"{target}.from")
        if lo == hi:
            raise ValueError(f"{target}.from: the two ends must differ; got {short(spec.get('from'))}")
        a, b = _pair(spec.get("to", [0.0, 1.0]), f"{target}.to", 0.0, 1.0)
        clip = spec.get("clip", False)
        if not isinstance(clip, bool):
            raise ValueError(f"{target}.clip: expected true or false; got {short(clip)}")
        out[target] = ColumnMap(target, column.strip(), lo, hi, a, b, clip)
    return out


@dataclass(frozen=True)
class PlaceTable:
    """A read place-data file: its header and, per municipality code, the line number and the cells."""

    path: Path
    header: list[str]
    rows: dict[str, tuple[int, dict[str, str]]]
    delimiter: str = ","


def _read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark dropped), else Windows-1252; :class:`ScenarioError` otherwise."""
    where = f"{path} (field places.data)"
    if not path.exists():
        raise ScenarioError(f"{where}: no such place data file (allowed: a CSV file; a relative path is read "
                            "from the folder of the scenario file that names it)")
    if not path.is_file():
        raise ScenarioError(f"{where}: not a regular file (allowed: a CSV file)")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{where}: too large for a place data file (at most {MAX_FILE_BYTES:,} bytes)")
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ScenarioError(f"{where}: UTF-16 text (Excel's 'Unicode text'); save the file as CSV UTF-8")
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        try:  # what a Swedish Excel writes as plain "CSV": codes and numbers are ASCII either way
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            line = raw[: err.start].count(b"\n") + 1
            raise ScenarioError(f"{where}: neither UTF-8 nor Windows-1252 text (byte 0x{raw[err.start]:02x} on "
                                f"line {line}); save the file as CSV UTF-8") from None


def read_place_table(path: Path, code_column: str, known_codes: set[str]) -> PlaceTable:
    """Read a place-data CSV: comment lines (``#``) and blank lines skipped, the first other line the header.

    The delimiter is the one of ``,``, ``;``, tab that splits the header into the most
    cells (``,`` on a tie). Codes must be 4 digits, municipalities of ``known_codes`` and
    unique. :class:`ScenarioError` naming the file and line otherwise.
    """
    lines = [(i + 1, text) for i, text in enumerate(_read_text(path).splitlines())
             if text.strip() and not text.lstrip().startswith("#")]
    if not lines:
        raise ScenarioError(f"{path}: no header line (allowed: a CSV file with a header, e.g. code,name,...)")
    head_no, head_text = lines[0]
    delimiter = max((",", ";", "\t"), key=lambda d: len(next(csv.reader([head_text], delimiter=d))))
    header = [h.strip() for h in next(csv.reader([head_text], delimiter=delimiter))]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ScenarioError(f"{path}: line {head_no}: column {short(twice[0])} appears more than once in the header "
                            "(allowed: distinct column names)")
    if code_column not in header:
        raise ScenarioError(f"{path}: line {head_no}: no column {short(code_column)} with the municipality codes "
                            f"(field places.code_column; columns in the file: {cut(', '.join(header), 300)})")
    icode = header.index(code_column)
    rows: dict[str, tuple[int, dict[str, str]]] = {}
    for line_no, text in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([text], delimiter=delimiter))]
        if len(cells) != len(header):
            raise ScenarioError(f"{path}: line {line_no}: {len(cells)} cells, the header has {len(header)} "
                                f"(delimiter {delimiter!r})")
        code = cells[icode]
        if not CODE_PATTERN.fullmatch(code):
            hint = (f" (a leading zero lost? write '0{code}')" if re.fullmatch(r"\d{3}", code) else "")
            raise ScenarioError(f"{path}: line {line_no}: column {short(code_column)}: {short(code)} is not a "
                                f"municipality code{hint} (allowed: the 4-digit SCB kommunkod as text, e.g. '0114')")
        if code not in known_codes:
            raise ScenarioError(f"{path}: line {line_no}: column {short(code_column)}: {short(code)} is not a Swedish "
                                f"municipality (allowed: one of the {len(known_codes)} codes in data/swedish_municipalities.csv)")
        if code in rows:
            raise ScenarioError(f"{path}: line {line_no}: column {short(code_column)}: code {short(code)} again "
                                f"(first on line {rows[code][0]}; allowed: one row per municipality)")
        rows[code] = (line_no, dict(zip(header, cells, strict=True)))
    return PlaceTable(path, header, rows, delimiter)


def _number(text: str, decimal_comma: bool) -> float | None:
    """A finite number from a cell (``None`` for an empty cell); ``ValueError`` otherwise."""
    if text == "":
        return None
    if THOUSANDS.fullmatch(text):  # 1 234 567 (a space, no-break space or narrow no-break space)
        text = re.sub(r"[ \u00a0\u202f]", "", text)
    if decimal_comma and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    value = float(text)  # ValueError for text
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@dataclass
class PlaceValues:
    """The places' values that a data file may replace (changed in place by :func:`apply_place_data`)."""

    code: np.ndarray  # str, SCB codes
    name: np.ndarray  # str
    population: np.ndarray  # int64 [persons]
    target_size: np.ndarray  # int64 [members simulated]
    need: np.ndarray  # (n, K) float64 in [0, 1]
    severity: np.ndarray  # float64 in [0, 1]
    openness: np.ndarray  # float64 in [0, 1]


def apply_place_data(
    values: PlaceValues, path: str | Path, code_column: str, columns: dict[str, Any], missing: str,
    need_deviation: np.ndarray, target_scale: float,
) -> None:
    """Join the file ``path`` to the places by code and write the mapped columns into ``values``.

    Args:
        values: the places' drawn values (changed in place).
        path: the CSV file (a relative path is read from the working directory;
            :func:`sim.scenario.read_scenario_data` has made a scenario file's own absolute).
        code_column: the column with the 4-digit municipality codes.
        columns: the validated ``places.columns`` table (:func:`parse_columns`).
        missing: ``"error"`` (every municipality needs a value) or ``"default"`` (keep
            the drawn value where a row or a cell is missing).
        need_deviation: ``(n, K)`` drawn deviations ``z - need_mean`` of the need profiles.
        target_scale: simulated members per target-group person [-].
    """
    path = Path(path)
    maps = parse_columns(columns)
    known = {str(c): i for i, c in enumerate(values.code)}
    table = read_place_table(path, code_column, set(known))
    for m in maps.values():
        if m.column not in table.header:
            raise ScenarioError(f"{path}: no column {short(m.column)} (field places.columns.{m.target}.column; "
                                f"columns in the file: {cut(', '.join(table.header), 300)})")
    decimal_comma = table.delimiter != ","  # a ';' or tab file (Swedish spreadsheets) may write 12,5
    for m in maps.values():
        got: dict[int, float] = {}
        for code, (line_no, cells) in table.rows.items():
            where = f"{path}: line {line_no} (code {code!r}, {values.name[known[code]]}): column {m.column!r}"
            try:
                x = _number(cells[m.column], decimal_comma)
            except ValueError:
                raise ScenarioError(f"{where}: {short(cells[m.column])} is not a number (field places.columns."
                                    f"{m.target}; allowed: a finite number with a decimal point, or an empty "
                                    "cell for a missing value)") from None
            if x is None:
                continue
            got[known[code]] = _checked(m, x, where, int(values.population[known[code]]))
        absent = [i for i in range(len(values.code)) if i not in got]
        if absent and missing != "default":
            listed = ", ".join(f"{values.code[i]} {values.name[i]}" for i in absent[:MAX_LISTED])
            more = f" and {len(absent) - MAX_LISTED} more" if len(absent) > MAX_LISTED else ""
            noun = "municipality" if len(absent) == 1 else "municipalities"
            raise ScenarioError(f"{path}: column {m.column!r} (field places.columns.{m.target}): no value for "
                                f"{len(absent)} {noun} ({listed}{more}); allowed: a row with a value for each of "
                                f"the {len(values.code)}, or places.missing = \"default\" to keep the model's own "
                                "values")
        idx = np.fromiter(got, dtype=np.int64, count=len(got))
        new = np.fromiter(got.values(), dtype=np.float64, count=len(got))
        if m.target == "target_size":
            values.target_size[idx] = np.round(new * target_scale).astype(np.int64)
        elif m.target == "need":
            values.need[idx] = np.clip(new[:, None] + need_deviation[idx], 0.0, 1.0)
        else:
            getattr(values, m.target)[idx] = new


def _checked(m: ColumnMap, x: float, where: str, population: int) -> float:
    """The target value of column value ``x``, or :class:`ScenarioError` naming ``where`` and what is allowed."""
    if m.target == "target_size":
        if x < 0 or x > population:
            raise ScenarioError(f"{where}: {x:g} persons is out of range (field places.columns.target_size; "
                                f"allowed: [0, {population:,}], the municipality's population)")
        return x
    lo, hi = min(m.lo, m.hi), max(m.lo, m.hi)
    if not m.clip and not lo <= x <= hi:
        raise ScenarioError(f"{where}: {x:g} is out of range (field places.columns.{m.target}; allowed: "
                            f"[{lo:g}, {hi:g}], its 'from' range, or clip = true to saturate at the ends)")
    return m.scale(x)
