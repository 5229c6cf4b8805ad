"""Calibration of the adoption rule to the diffusion studies in data/."""

from __future__ import annotations

import numpy as np
import pytest

from sim.validation.calibrate import (
    calibrate_study,
    fit_adoption,
    load_study,
    log_likelihood,
    simulate_curves,
)


def test_studies_load() -> None:
    med = load_study("medInnovations")
    assert med.n == 125 and med.times[0] == 1 and med.times[-1] == 17
    assert sorted(med.communities) == [1, 2, 3, 4]
    br = load_study("brfarmers", "symmetric")
    assert br.n == 692 and br.times[0] == 46 and br.times[-1] == 65
    assert br.observed_curve()[-1] == pytest.approx(540 / 692)


def test_fit_recovers_known_parameters() -> None:
    """Adoption times simulated with known p, q on a real network: the MLE is within 3 SE of the truth."""
    st = load_study("brfarmers", "community")
    p, q = 0.02, 0.3
    adopted = simulate_curves(st, np.array([[p, q]]), seed=5)[0]
    first = np.where(adopted.any(axis=0), adopted.argmax(axis=0), -1)
    st.toa = np.where(first >= 0, st.times[np.maximum(first, 0)], np.inf).astype(float)
    fit = fit_adoption(st)
    se_p, se_q = fit.se
    assert abs(fit.p - p) <= 3 * se_p
    assert abs(fit.q - q) <= 3 * se_q


def test_mle_is_a_maximum() -> None:
    st = load_study("medInnovations")
    fit = fit_adoption(st)
    members = np.arange(st.n)
    best = log_likelihood(st, fit.p, fit.q, members)
    assert best == pytest.approx(fit.loglik)
    for dp, dq in ((0.01, 0), (-0.01, 0), (0, 0.02)):
        assert log_likelihood(st, fit.p + dp, fit.q + dq, members) < best


def test_holdout_community_inside_band_most_points() -> None:
    res = calibrate_study("medInnovations", sims=100)
    assert res.holdout == 4
    assert res.holdout_fit.holdout == 4 and 4 not in res.holdout_fit.train
    hb = res.holdout_band
    assert np.all(hb.lo <= hb.median) and np.all(hb.median <= hb.hi)
    assert res.holdout_ok
