"""The hierarchical (random-effects) adoption rule: likelihood, fit, coverage of intervals and bands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit

from sim.codes import Status
from sim.validation.calibrate import RuleState, load_study, study_from_tables
from sim.validation.hierarchical import (
    Grid,
    MarginalLikelihood,
    adoption_periods,
    band_from,
    chibar_pvalue,
    community_network,
    fit_hierarchical,
    simulate_community,
    simulate_hierarchical_tables,
)

RUNNING = Status.RUNNING


def test_grid_likelihood_is_converged_and_integrates_the_effects() -> None:
    st = load_study("brfarmers", "nominations")
    theta = np.array([logit(0.02), math.log(0.17), 0.3, 0.3])
    coarse, fine = MarginalLikelihood(st), MarginalLikelihood(st, Grid.default(241))
    assert coarse.loglik(theta) == pytest.approx(fine.loglik(theta), abs=1e-6)
    # brute-force Monte Carlo of one community's integral agrees
    c = st.communities[0]
    rng = np.random.default_rng(0)
    z = rng.standard_normal((20000, 2))
    cells = coarse.cells[c]
    p = expit(theta[0] + theta[2] * z[:, 0])[:, None]
    q = np.exp(theta[1] + theta[3] * z[:, 1])[:, None]
    h = np.clip(p + q * cells.x[None, :], 1e-12, 1 - 1e-12)
    ll = (cells.events * np.log(h) + cells.stays * np.log1p(-h)).sum(axis=1)
    mc = float(np.log(np.mean(np.exp(ll - ll.max()))) + ll.max())
    assert coarse.loglik(theta, [c]) == pytest.approx(mc, abs=0.05)


def test_hierarchical_nests_the_pooled_fit() -> None:
    st = load_study("medInnovations", "symmetric")
    fit = fit_hierarchical(st, profile=False)
    # at the smallest spread the grid resolves, the marginal likelihood is the pooled one up to 1/2 I sigma^2
    theta0 = np.array([logit(fit.pooled.p), math.log(fit.pooled.q), 0.0, 0.0])
    assert fit.ml is not None
    assert fit.ml.loglik(theta0) == pytest.approx(fit.pooled.loglik, abs=0.5)
    assert fit.loglik >= fit.ml.loglik(theta0) - 1e-6
    assert chibar_pvalue(0.0) == 1.0 and chibar_pvalue(4.231) == pytest.approx(0.05, abs=0.0005)  # its 5 % point


def test_simulator_uses_the_models_rule() -> None:
    """The per-period probability of the community simulator equals RuleState.step_probability (min(p + q x, 1))."""
    st = load_study("brfarmers", "nominations")
    rng = np.random.default_rng(3)
    adopted = rng.random(st.n) < 0.4
    p, q = 0.03, 0.5
    rule = RuleState.for_study(st, p, q)
    rule.orgs.status[adopted] = RUNNING
    expected = rule.step_probability()
    for c in st.communities:
        m = st.members(c)
        adj, deg = community_network(st, m)
        x = np.where(deg > 0, (adj @ adopted[m].astype(float)) / np.maximum(deg, 1), 0.0)
        np.testing.assert_allclose(np.minimum(p + q * x, 1.0), expected[m], atol=1e-12)
    # and a simulated share curve is non-decreasing, starting from nobody
    sh = simulate_community(st, st.members(st.communities[0]), np.array([[p, q]] * 5), rng)
    assert np.all(np.diff(sh, axis=1) >= 0)
    assert adoption_periods(*community_network(st, st.members(10)), np.array([[0.0, 0.0]]), 5, rng).max() == -1


def test_credit_makes_a_discrete_band_exactly_calibrated() -> None:
    """Observations drawn from the predictive distribution itself get mean credit 0.90 (binomial 3 SE)."""
    rng = np.random.default_rng(1)
    shares = rng.binomial(10, 0.05, size=(4000, 1)) / 10  # mostly 0: the closed band covers ~100 %
    obs = rng.binomial(10, 0.05, size=3000) / 10
    credit = np.array([band_from(np.array([0]), np.array([o]), shares).credit[0] for o in obs])
    assert abs(credit.mean() - 0.9) <= 3 * math.sqrt(0.09 / len(obs))


def test_hierarchical_intervals_and_bands_cover_at_their_nominal_rate() -> None:
    """Studies of 20 communities simulated from a known hierarchical model on the real doctors' networks.

    Wald 95 % intervals of mu_p and mu_q contain the truth, and a new community's observed curve
    lies in the 90 % band (credit per point, averaged per study), at the nominal rate: within
    3 binomial SE of one Bernoulli per study (conservative for the band's per-study average).
    """
    tmpl = load_study("medInnovations", "nominations")
    theta = np.array([logit(0.05), math.log(0.3), 0.5, 0.5])
    k = 40
    hits = {"mu_p": 0, "mu_q": 0}
    band_cover = []
    for s in range(k):
        tables, _ = simulate_hierarchical_tables(tmpl, theta, copies=5, seed=1000 + s)
        st = study_from_tables(tables, "nominations", "month")
        fit = fit_hierarchical(st, profile=False)
        for i, name in enumerate(("mu_p", "mu_q")):
            lo, hi = fit.wald(name)
            hits[name] += lo <= theta[i] <= hi
        # a new community (one of the four towns' networks) from the true model
        rng = np.random.default_rng(5000 + s)
        m = tmpl.members(tmpl.communities[s % 4])
        u, v = theta[0] + theta[2] * rng.standard_normal(), theta[1] + theta[3] * rng.standard_normal()
        observed = simulate_community(tmpl, m, np.array([[expit(u), math.exp(v)]]), rng)[0]
        shares = simulate_community(tmpl, m, fit.new_community_pq(300, rng), rng)
        band_cover.append(band_from(tmpl.times, observed, shares).credit.mean())
    floor95 = 0.95 - 3 * math.sqrt(0.95 * 0.05 / k)
    assert hits["mu_p"] / k >= floor95 and hits["mu_q"] / k >= floor95, hits
    cover = float(np.mean(band_cover))
    tol = 3 * math.sqrt(0.9 * 0.1 / k)
    assert abs(cover - 0.9) <= tol, (cover, tol)
    # both ways with the per-study spread actually observed (tighter than the one-Bernoulli bound)
    assert abs(cover - 0.9) <= 3 * np.std(band_cover, ddof=1) / math.sqrt(k) + 0.02, cover


@pytest.mark.slow
def test_leave_one_out_coverage_on_22_simulated_villages_is_calibrated() -> None:
    """Acceptance: >= 20 communities from a known hierarchical model on real village networks: coverage in [0.85, 0.97]."""
    from sim.validation.holdout import calibrate_simulated

    res = calibrate_simulated(sims=200)
    cov, lo, hi = res.coverage("hier")
    assert len(res.held_out) == 22
    assert 0.85 <= cov <= 0.97, (cov, lo, hi)
    assert lo <= 0.9 <= hi
    assert res.passed
    assert res.hier.p_value < 0.05  # the spread is detected
