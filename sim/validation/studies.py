"""Read and check a network diffusion study in the documented format (``data/README.md``).

A study is two tables:

* **nodes**: one row per person with columns ``node`` (an id, unique), ``community``
  (the town, village, school ... the person belongs to), ``toa`` (time of adoption, an
  integer period) and ``adopted`` (1 or 0). ``id_in_community`` and any other columns
  are ignored.
* **edges**: one row per nomination with columns ``ego`` and ``alter`` (node ids: ego
  named alter). Other columns (``question``) are ignored; repeated nominations are merged
  and self-nominations dropped.

**Rule for non-adopters and the observation window.** Rows with ``adopted = 1`` must
have an integer ``toa``: an empty, NaN or fractional ``toa`` there is an error. Rows with
``adopted = 0`` may leave ``toa`` empty, or follow the source convention of netdiffuseR
(``toa`` = one plus the last observed period); if some non-adopters give a ``toa``, they
must all give the same value and it must be later than every adoption. The observed
periods run from the first adoption to

* that value minus one, when non-adopters carry a ``toa`` (so the censoring time is
  explicit), or
* the last adoption, when every non-adopter's ``toa`` is empty (the data then say no more
  about how long people were watched).

Either way no observed adoption is ever dropped (the old reader lost the last period
when non-adopters had an empty ``toa``).

Every problem raises :class:`StudyDataError` naming the file, the row and the column.
Rows are counted as in the file: ``row 1`` is the first data row, on line 2 after the header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

NODE_COLUMNS: tuple[str, ...] = ("node", "community", "toa", "adopted")
"""Columns a nodes table must have."""
EDGE_COLUMNS: tuple[str, ...] = ("ego", "alter")
"""Columns an edges table must have."""


def shipped_dir() -> Path:
    """Folder of the study CSVs shipped inside the package (``sim/validation/data/``).

    Found through :mod:`importlib.resources`, so it works from a wheel as well as from the
    repository; ``data/README.md`` keeps the attribution.
    """
    return Path(str(resources.files("sim.validation").joinpath("data")))


class StudyDataError(ValueError):
    """A malformed study table; the message names the file, the row and the column."""

    def __init__(self, file: str, row: int | str | None, column: str | None, problem: str) -> None:
        self.file, self.row, self.column, self.problem = file, row, column, problem
        where = [file]
        if row is not None:
            where.append(f"row {row} (line {row + 1})" if isinstance(row, int) else str(row))
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(", ".join(where) + ": " + problem)


@dataclass
class StudyTables:
    """A checked study: arrays in node order, ready for :func:`sim.validation.calibrate.load_study`."""

    name: str
    ids: np.ndarray
    """node id of each person (as in the file)"""
    community: np.ndarray
    """community id of each person (int where every id is an integer, else str)"""
    toa: np.ndarray
    """time of adoption (float, integer-valued; ``inf`` for non-adopters)"""
    times: np.ndarray
    """observed periods, first adoption .. end of observation (int)"""
    ego: np.ndarray
    """row index of the nominating person of each (deduplicated, non-self) tie"""
    alter: np.ndarray
    """row index of the nominated person of each tie"""

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.ids)


def _read(table: pd.DataFrame | str | Path, label: str | None, what: str) -> tuple[pd.DataFrame, str]:
    """A table from a DataFrame or a CSV path, with the label errors use for it."""
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True), label or f"<{what} table>"
    path = Path(table)
    name = label or str(path)
    if not path.is_file():
        raise StudyDataError(name, None, None, f"no such file (the {what} table)")
    import csv

    from sim.csvfields import field_count_problem

    try:
        bad = field_count_problem(path)
    except (UnicodeDecodeError, csv.Error) as err:
        raise StudyDataError(name, None, None, f"not a readable CSV file ({str(err).strip()})") from None
    if bad is not None:
        raise StudyDataError(name, bad[0] - 1, None, bad[1])
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise StudyDataError(name, None, None, f"not a readable CSV file ({str(err).strip()})") from None
    return df, name


def _blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip().lower() in ("", "nan", "na", "null", "none")


def _id(v: object) -> object:
    """An id as a hashable Python value: integers (also ``"7"`` and ``7.0``) as int, the rest as stripped str."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else float(v)
    s = str(v).strip()
    try:
        f = float(s)
    except ValueError:
        return s
    return int(f) if math.isfinite(f) and f.is_integer() else s


def _number(v: object) -> float | None:
    """A finite number, or None."""
    if _blank(v):
        return None
    try:
        f = float(str(v).strip()) if isinstance(v, str) else float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _require(df: pd.DataFrame, cols: tuple[str, ...], file: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        raise StudyDataError(file, "header row (line 1)", missing[0], f"missing column(s) {missing}; the columns are: {have}")


def read_study(
    nodes: pd.DataFrame | str | Path,
    edges: pd.DataFrame | str | Path,
    name: str | None = None,
    nodes_label: str | None = None,
    edges_label: str | None = None,
) -> StudyTables:
    """Check the nodes and edges tables of a study (DataFrames or CSV paths) and return them as arrays.

    ``name`` defaults to the nodes file's name without ``_nodes.csv``. Raises
    :class:`StudyDataError` (a ``ValueError``) naming file, row and column for: a missing
    file or column, an empty table, a blank or duplicate ``node``, a blank ``community``,
    ``adopted`` other than 0/1, an adopter whose ``toa`` is empty, NaN or not an integer,
    inconsistent non-adopter ``toa`` (see the module docstring), no adopters, only one
    community, and an ``ego``/``alter`` that is blank or not a node of the nodes table.
    """
    ndf, nfile = _read(nodes, nodes_label, "nodes")
    edf, efile = _read(edges, edges_label, "edges")
    if name is None:
        name = Path(nfile).name.removesuffix(".csv").removesuffix("_nodes") if not nfile.startswith("<") else "study"
    _require(ndf, NODE_COLUMNS, nfile)
    _require(edf, EDGE_COLUMNS, efile)
    if len(ndf) == 0:
        raise StudyDataError(nfile, None, "node", "no rows: a study needs people")

    index: dict[object, int] = {}
    ids, community, toa_given, adopted = [], [], [], []
    for i, (nd, cm, ta, ad) in enumerate(zip(ndf["node"], ndf["community"], ndf["toa"], ndf["adopted"], strict=True)):
        row = i + 1
        if _blank(nd):
            raise StudyDataError(nfile, row, "node", "empty node id")
        key = _id(nd)
        if key in index:
            raise StudyDataError(nfile, row, "node", f"duplicate node id {key!r} (first on row {index[key] + 1})")
        index[key] = i
        if _blank(cm):
            raise StudyDataError(nfile, row, "community", f"node {key!r} has no community")
        a = _number(ad)
        if a not in (0.0, 1.0):
            raise StudyDataError(nfile, row, "adopted", f"must be 1 (adopted) or 0 (did not); got {ad!r}")
        t = _number(ta)
        if a == 1.0:
            if t is None:
                raise StudyDataError(nfile, row, "toa", f"adopter (adopted = 1) with an empty, NaN or non-numeric time {ta!r}")
            if not t.is_integer():
                raise StudyDataError(nfile, row, "toa", f"time of adoption must be an integer period; got {ta!r}")
        elif t is None and not _blank(ta):
            raise StudyDataError(nfile, row, "toa", f"not a number: {ta!r} (leave it empty for a non-adopter)")
        elif t is not None and not t.is_integer():
            raise StudyDataError(nfile, row, "toa", f"time must be an integer period; got {ta!r}")
        ids.append(key)
        community.append(_id(cm))
        toa_given.append(t)
        adopted.append(a == 1.0)

    adopted_arr = np.array(adopted)
    if not adopted_arr.any():
        raise StudyDataError(nfile, f"rows 1-{len(ndf)}", "adopted", "no adopters (every adopted is 0): nothing to fit")
    toa = np.array([t if a else np.inf for t, a in zip(toa_given, adopted, strict=True)], dtype=float)
    first, last_adoption = int(toa[adopted_arr].min()), int(toa[adopted_arr].max())
    censor_rows = [i for i, (t, a) in enumerate(zip(toa_given, adopted, strict=True)) if not a and t is not None]
    if censor_rows:
        end_plus_one = toa_given[censor_rows[0]]
        assert end_plus_one is not None
        for i in censor_rows:
            if toa_given[i] != end_plus_one:
                raise StudyDataError(
                    nfile, i + 1, "toa",
                    f"non-adopters give different censoring times ({toa_given[i]:g} here, {end_plus_one:g} on row "
                    f"{censor_rows[0] + 1}); give one value (one plus the last observed period) or leave them empty",
                )
        if end_plus_one <= last_adoption:
            last_row = int(np.flatnonzero(toa == last_adoption)[0]) + 1
            raise StudyDataError(
                nfile, censor_rows[0] + 1, "toa",
                f"non-adopter time {end_plus_one:g} must be later than every adoption (row {last_row} adopted at "
                f"{last_adoption}); by the source convention it is one plus the last observed period",
            )
        last = int(end_plus_one) - 1
    else:
        last = last_adoption
    comm = np.array(community, dtype=object)
    if all(isinstance(c, int) for c in community):
        comm = comm.astype(np.int64)
    else:
        comm = np.array([str(c) for c in community], dtype=object)
    if len(pd.unique(comm)) < 2:
        raise StudyDataError(
            nfile, f"rows 1-{len(ndf)}", "community",
            f"only one community ({comm[0]!r}): leave-one-community-out and the between-community spread need at least 2",
        )

    ego, alter = [], []
    for i, (e, a) in enumerate(zip(edf["ego"], edf["alter"], strict=True)):
        row = i + 1
        for col, v, out in (("ego", e, ego), ("alter", a, alter)):
            if _blank(v):
                raise StudyDataError(efile, row, col, "empty node id")
            key = _id(v)
            if key not in index:
                raise StudyDataError(efile, row, col, f"node {key!r} is not in the nodes table ({nfile})")
            out.append(index[key])
    ego_a, alter_a = np.array(ego, dtype=np.int64), np.array(alter, dtype=np.int64)
    keep = ego_a != alter_a
    pairs = np.unique(np.stack([ego_a[keep], alter_a[keep]], axis=1), axis=0) if keep.any() else np.zeros((0, 2), np.int64)
    return StudyTables(
        name=name, ids=np.array(ids, dtype=object), community=comm, toa=toa,
        times=np.arange(first, last + 1), ego=pairs[:, 0], alter=pairs[:, 1],
    )
