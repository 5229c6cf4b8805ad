"""A model-free baseline forecast: how narrow a band the figures alone allow.

The case library judges each hold-out band by its width at the held-out figure (under the
median's size). Whether that is reachable depends on how much the early figures say. This
module gives the answer of the simplest honest forecaster of a count that only grows: new
adoptions arrive at a constant rate, known only from the figures. With ``n`` new adoptions over
``T`` months and a Gamma(a0, b0) prior on the rate (default Jeffreys' a0 = 1/2, b0 = 0), the
rate's posterior is Gamma(a0 + n, b0 + T) and the adoptions over the next ``h`` months are
negative binomial: r = a0 + n, p = (b0 + T) / (b0 + T + h) (the gamma-Poisson predictive).

A model that knows more (imitation, a ceiling, an intervention's date) can do better than this
baseline when its structure is right; a model band much wider than the baseline says the model
adds uncertainty the figures do not carry; a baseline that is itself wider than its median says
the figures cannot support a narrow band, whatever the model (docs/cases.md: Bostad först, the
social investment funds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scipy import stats

JEFFREYS = (0.5, 0.0)
"""Jeffreys' prior for a Poisson rate (shape 1/2, rate 0: improper, the posterior is proper once T > 0)."""


def months_between(a: str, b: str) -> int:
    """Whole months from ``a`` to ``b`` (``YYYY-MM``; negative if ``b`` is earlier)."""
    (ya, ma), (yb, mb) = (map(int, a.split("-")), map(int, b.split("-")))
    return (yb - ya) * 12 + (mb - ma)


@dataclass(frozen=True)
class BaselineBand:
    """The constant-rate baseline at one date: median and band [count], the rate [per month] behind it."""

    date: str
    median: float
    lo: float
    hi: float
    rate: float
    new: float
    months: int

    @property
    def width_over_median(self) -> float:
        """(hi - lo) / median (inf when the median is 0)."""
        return (self.hi - self.lo) / self.median if self.median > 0 else float("inf")


def constant_rate_band(points: list[tuple[str, float]], at: str, level: float = 0.9,
                       prior: tuple[float, float] = JEFFREYS) -> BaselineBand:
    """The gamma-Poisson predictive band of a growing count at ``at``, from dated counts ``points``.

    ``points``: ``(YYYY-MM, count)`` in date order, at least two (the first is the origin, e.g.
    the run's start); the rate is learnt from the first to the last (``n`` = last - first new
    adoptions over ``T`` months; counts are cumulative, so the points between add no information
    on a constant rate). ``at`` must be after the last point. ``level`` in (0, 1): the band is its
    central quantiles. ``prior``: Gamma shape a0 > 0 and rate b0 >= 0 [1 / month].
    """
    if len(points) < 2:
        raise ValueError("constant_rate_band: needs an origin and at least one later count")
    if not 0.0 < level < 1.0:
        raise ValueError(f"constant_rate_band: level {level} outside (0, 1)")
    a0, b0 = prior
    if a0 <= 0 or b0 < 0:
        raise ValueError(f"constant_rate_band: prior shape {a0} must be > 0 and rate {b0} >= 0")
    (d0, _), (d1, v1) = points[0], points[-1]
    if months_between(d0, d1) <= 0 or months_between(d1, at) <= 0:
        raise ValueError(f"constant_rate_band: need origin {d0} < last figure {d1} < {at}")
    n, t, pred = _predictive(points, at, prior)
    lo, med, hi = pred.ppf([(1 - level) / 2, 0.5, (1 + level) / 2])
    return BaselineBand(at, float(v1 + med), float(v1 + lo), float(v1 + hi), (a0 + n) / (b0 + t), n, t)


def _predictive(points: list[tuple[str, float]], at: str, prior: tuple[float, float]) -> tuple[float, int, Any]:
    """``n`` new adoptions over ``t`` months, and the negative binomial of the adoptions from the last point to ``at``."""
    a0, b0 = prior
    (d0, v0), (d1, v1) = points[0], points[-1]
    t, h = months_between(d0, d1), months_between(d1, at)
    n = max(v1 - v0, 0.0)
    return n, t, stats.nbinom(a0 + n, (b0 + t) / (b0 + t + h))


def predictive_mass(points: list[tuple[str, float]], at: str, band: BaselineBand,
                    prior: tuple[float, float] = JEFFREYS) -> float:
    """The predictive probability that the count at ``at`` lies inside ``band`` (>= its level: counts are whole)."""
    v1 = points[-1][1]
    pred = _predictive(points, at, prior)[2]
    return float(pred.cdf(band.hi - v1) - pred.cdf(band.lo - v1 - 1))
