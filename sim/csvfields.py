"""One check every CSV reader needs before pandas: each line has as many fields as the header.

pandas takes a first data line with one field too many for a row index and shifts every
column by one, so a stray comma would be reported as a wrong value in the wrong column
(or not at all). :func:`field_count_mismatch` finds the first such line.
"""

from __future__ import annotations

import csv
from pathlib import Path


def field_count_mismatch(path: str | Path) -> tuple[int, int, list[str]] | None:
    """The first line whose field count differs from the header's: ``(line, fields, header)``; None if all agree.

    ``line`` is the 1-based line of the file (the header is line 1); blank lines are skipped.
    Raises ``UnicodeDecodeError`` or ``csv.Error`` for a file that is not text CSV.
    """
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None:
            return None
        for row in rows:
            if row and len(row) != len(header):
                return rows.line_num, len(row), header
    return None


def field_count_problem(path: str | Path) -> tuple[int, str] | None:
    """:func:`field_count_mismatch` as ``(line, message)`` for the readers' errors; None if every line agrees."""
    bad = field_count_mismatch(path)
    if bad is None:
        return None
    line, n, header = bad
    return line, f"{n} fields, the header has {len(header)} ({', '.join(header)}); quote a value that holds a comma"
