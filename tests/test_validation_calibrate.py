"""Calibration of the adoption rule to the diffusion studies in data/."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from sim.validation.calibrate import (
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
    p, q = 0.02, 0.3
    fit = fit_adoption(_simulated_study("brfarmers", "community", p, q, seed=5))
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


def test_single_holdout_community_is_left_out_of_every_fit() -> None:
    from sim.validation.holdout import calibrate_study

    res = calibrate_study("medInnovations", holdout=4, sims=50)
    assert res.holdout == "4" and [x.community for x in res.held_out] == [4]
    assert 4 in res.hier.train  # the full fit uses every community
    hb = res.held_out[0].hier
    assert np.all(hb.lo <= hb.median) and np.all(hb.median <= hb.hi)
    assert 0.0 <= hb.inside <= hb.points == 17


def _simulated_study(name: str, network: str, p: float, q: float, seed: int):  # noqa: ANN202
    """The study's real network with adoption times simulated from the model's rule at known ``p, q``."""
    st = load_study(name, network)
    adopted = simulate_curves(st, np.array([[p, q]]), seed=seed)[0]
    first = np.where(adopted.any(axis=0), adopted.argmax(axis=0), -1)
    st.toa = np.where(first >= 0, st.times[np.maximum(first, 0)], np.inf).astype(float)
    return st


def test_profile_interval_ends_where_the_likelihood_has_dropped_by_1_92() -> None:
    st = load_study("brfarmers", "community")
    fit = fit_adoption(st)
    members = np.arange(st.n)
    limit = scipy.stats.chi2.ppf(0.95, 1) / 2  # 1.92
    q_grid = np.linspace(0.0, 1.0, 20_001)
    for which, (lo, hi) in ((0, fit.profile["p"]), (1, fit.profile["q"])):
        est = (fit.p, fit.q)[which]
        assert lo < est < hi
        for end in (lo, hi):  # profile over the other parameter on a fine grid, by brute force
            if which == 0:
                prof = max(log_likelihood(st, end, qq, members) for qq in q_grid[::50])
            else:
                prof = max(log_likelihood(st, pp, end, members) for pp in np.linspace(1e-6, 0.05, 401))
            assert fit.loglik - prof == pytest.approx(limit, abs=0.02)


def test_profile_intervals_cover_the_truth_at_their_nominal_rate() -> None:
    """Coverage over 100 simulated studies: 95 % nominal, tolerance 3 binomial SE (0.95 - 0.065)."""
    p, q, k = 0.05, 0.3, 100
    covered = {"p": 0, "q": 0}
    for seed in range(k):
        fit = fit_adoption(_simulated_study("medInnovations", "nominations", p, q, seed))
        covered["p"] += fit.profile["p"][0] <= p <= fit.profile["p"][1]
        covered["q"] += fit.profile["q"][0] <= q <= fit.profile["q"][1]
    floor = 0.95 - 3 * np.sqrt(0.95 * 0.05 / k)
    assert covered["p"] / k >= floor, covered
    assert covered["q"] / k >= floor, covered
