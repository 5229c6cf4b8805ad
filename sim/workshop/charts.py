"""Small inline SVG line charts (no JavaScript, no CDN): the room's pages and report.html embed them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLOURS = ("#1565c0", "#9e9e9e", "#c62828", "#2e7d32", "#6a1b9a")


@dataclass(frozen=True)
class Line:
    """One line: a label, x values [months] and y values (NaN leaves a gap), a colour and a dash pattern."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    colour: str = COLOURS[0]
    dash: str = ""


def _nice_max(v: float) -> float:
    if not math.isfinite(v) or v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def line_chart(title: str, lines: Sequence[Line], marks: Sequence[tuple] = (), width: int = 360,
               height: int = 190, css_class: str = "ws-chart") -> str:
    """An SVG chart of ``lines`` with vertical ``marks`` (x [months], label[, colour]), scaled to its box (``viewBox``).

    The SVG scales to the width of its container (readable on a 390 px phone and on a projector).
    """
    left, right, top, bottom = 44, 8, 22, 34
    xs = [float(v) for ln in lines for v in ln.x]
    ys = [float(v) for ln in lines for v in ln.y if v == v]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    x1 = x1 if x1 > x0 else x0 + 1.0
    y1 = _nice_max(max(ys) if ys else 1.0)
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - y / y1 * ph

    out = [f'<svg class="{css_class}" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" style="max-width:{width * 2}px">',
           f'<text x="{left}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    for frac in (0.0, 0.5, 1.0):
        y = py(y1 * frac)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{y1 * frac:,.4g}</text>')
    for x in (x0, (x0 + x1) / 2, x1):
        out.append(f'<text x="{px(x):.1f}" y="{height - 20}" font-size="10" text-anchor="middle">{x:g}</text>')
    for x, label, *colour in marks:
        if x0 <= x <= x1:
            stroke = colour[0] if colour else "#ef6c00"
            out.append(f'<line class="ws-mark" x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top}" y2="{top + ph}" '
                       f'stroke="{stroke}" stroke-dasharray="3,3"><title>{escape(label)}</title></line>')
    for ln in lines:
        pts, segs = [], []
        for x, y in zip(ln.x, ln.y, strict=True):
            if y == y:
                pts.append(f"{px(float(x)):.1f},{py(float(y)):.1f}")
            elif pts:
                segs.append(pts)
                pts = []
        segs.append(pts)
        for seg in segs:
            if seg:
                dash = f' stroke-dasharray="{ln.dash}"' if ln.dash else ""
                out.append(f'<polyline fill="none" stroke="{ln.colour}" stroke-width="2"{dash} points="{" ".join(seg)}">'
                           f"<title>{escape(ln.label)}</title></polyline>")
    lx = left
    for ln in lines:
        out.append(f'<rect x="{lx}" y="{height - 11}" width="10" height="3" fill="{ln.colour}"/>'
                   f'<text class="ws-legend" x="{lx + 13}" y="{height - 6}" font-size="10">{escape(ln.label)}</text>')
        lx += 26 + 7 * len(ln.label)
    out.append("</svg>")
    return "".join(out)
