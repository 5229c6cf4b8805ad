"""Self-contained HTML pages: inline CSS, images embedded as base64 PNG, no external assets.

A page opens offline from a USB stick or an e-mail attachment: nothing is fetched.
Every number in a table cell carries its exact value in ``data-value`` (``repr`` of
the float) beside the rounded text a reader sees, so tests and scripts can read the
table back without parsing rounded text.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class ReportError(ValueError):
    """A folder a report cannot be made from: the message names the folder and the missing or bad file."""


DASH = "\u2014"
"""Shown for a figure that is absent or not a number (an em dash)."""

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;
color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}td{white-space:nowrap}.scroll{overflow-x:auto}
.meta td{text-align:left;border:none;padding:.1em .8em .1em 0}.note{color:#555;font-size:.92em}
img{max-width:100%;height:auto}
"""


def fmt_number(v: Any, digits: int = 3) -> str:
    """A number for a reader: ``digits`` significant figures, thousands separated; '—' for None or NaN."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return DASH
    if x != 0 and abs(x) < 10 ** -(digits - 1):
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def cell(v: Any, digits: int = 3, left: bool = False) -> str:
    """One ``<td>``: numbers get ``data-value`` with their exact value; text is escaped."""
    cls = " class='l'" if left else ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        exact = repr(float(v)) if isinstance(v, float) else str(v)
        return f"<td{cls} data-value='{exact}'>{html.escape(fmt_number(v, digits))}</td>"
    if v is None:
        return f"<td{cls}>{DASH}</td>"
    return f"<td{cls}>{html.escape(str(v))}</td>"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, table_id: str = "", left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are left-aligned labels."""
    ident = f" id='{html.escape(table_id)}'" if table_id else ""
    head = "".join(f"<th{' class=l' if i < left else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell(v, left=i < left) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<div class='scroll'><table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def figure_img(fig: Any, alt: str, dpi: int = 100) -> str:
    """A matplotlib figure as an ``<img>`` with an embedded base64 PNG; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def meta_table(items: Sequence[tuple[str, Any]]) -> str:
    """The header block: label / value pairs."""
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(str(v))}</td></tr>" for k, v in items)
    return f"<table class='meta'>{rows}</table>"


def page(title: str, body: str) -> str:
    """A whole HTML document with inline CSS around ``body``."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def write_page(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a hidden temporary beside it, then one rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
