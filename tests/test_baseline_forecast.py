"""The constant-rate baseline forecast (sim.validation.baseline): its band covers at the rate it claims."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.validation.baseline import JEFFREYS, constant_rate_band, months_between, predictive_mass


def test_months_between() -> None:
    assert months_between("2010-01", "2013-12") == 47
    assert months_between("2013-12", "2010-01") == -47
    assert months_between("2018-04", "2020-06") == 26


@pytest.mark.parametrize("prior", [(2.0, 24.0), (8.0, 16.0)])
def test_band_covers_at_its_predictive_mass(prior: tuple[float, float]) -> None:
    """Rates drawn from the prior, counts from Poisson: the band holds the later count as often as its
    predictive mass says (both ways: a band too narrow or too wide moves coverage off it), within 3.5
    binomial standard errors; the mass itself is at least the nominal 90 % (whole counts) and near it."""
    rng = np.random.default_rng(20261203)
    a0, b0 = prior
    reps, t, h = 2000, 48, 60  # four years of figures, a forecast five years on
    hits, mass = 0, 0.0
    for _ in range(reps):
        lam = rng.gamma(a0, 1 / b0)
        n1 = rng.poisson(lam * t)
        n2 = n1 + rng.poisson(lam * h)
        pts = [("2010-01", 1.0), ("2014-01", 1.0 + n1)]
        band = constant_rate_band(pts, "2019-01", prior=prior)
        hits += band.lo <= 1 + n2 <= band.hi
        m = predictive_mass(pts, "2019-01", band, prior=prior)
        assert m >= 0.9 - 1e-12
        mass += m
    expected = mass / reps
    se = np.sqrt(expected * (1 - expected) / reps)
    assert abs(hits / reps - expected) < 3.5 * se, (hits / reps, expected, se)
    assert expected < 0.96  # whole counts make the band conservative, but not by much at these rates


def test_a_band_that_forgets_the_rate_uncertainty_undercovers() -> None:
    """The check above can fail: a plug-in Poisson band (rate taken as known) is too narrow on the same draws."""
    rng = np.random.default_rng(7)
    reps, t, h, hits = 2000, 48, 60, 0
    for _ in range(reps):
        lam = rng.gamma(2.0, 1 / 24.0)
        n1, n2 = rng.poisson(lam * 48), rng.poisson(lam * 60)
        lo, hi = stats.poisson(max(n1, 0.5) / t * h).ppf([0.05, 0.95])
        hits += lo <= n2 <= hi
    assert hits / reps < 0.85


def test_the_baseline_widens_with_the_horizon_and_narrows_with_data() -> None:
    few = constant_rate_band([("2010-01", 1), ("2013-12", 7)], "2018-12")
    longer = constant_rate_band([("2010-01", 1), ("2013-12", 7)], "2023-12")
    more = constant_rate_band([("2010-01", 10), ("2013-12", 70)], "2018-12")
    assert longer.hi - longer.lo > few.hi - few.lo
    assert more.width_over_median < few.width_over_median
    assert few.lo >= 7  # a count that only grows never falls below its last figure
    assert few.rate == pytest.approx((JEFFREYS[0] + 6) / 47)


@pytest.mark.parametrize("points,at", [([("2010-01", 1)], "2012-01"), ([("2010-01", 1), ("2012-01", 3)], "2011-01"),
                                       ([("2012-01", 1), ("2010-01", 3)], "2013-01")])
def test_bad_input_is_refused(points: list, at: str) -> None:
    with pytest.raises(ValueError, match="constant_rate_band"):
        constant_rate_band(points, at)
