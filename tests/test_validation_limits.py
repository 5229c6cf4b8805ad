"""The validation limits (model spec section 5) at quick sizes, and the theory they are checked against."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sim.validation.limits import (
    QUICK,
    bass_closed_form,
    bass_recursion,
    check_bass,
    check_bass_closed_form,
    check_centola,
    check_granovetter,
    check_sis,
    check_watts,
    load_limit,
    simulate,
    sis_steady_state,
    watts_cascade_probability,
)

# ----------------------------------------------------------------------------- theory


def test_sis_steady_state_matches_spec_numbers() -> None:
    assert sis_steady_state(0.03, 0.38, 0.1) == pytest.approx(0.762, abs=5e-4)
    assert sis_steady_state(0.03, 0.38, 0.2) == pytest.approx(0.541, abs=5e-4)


def test_bass_closed_form_solves_the_ode() -> None:
    p, q = 0.02, 0.5
    t = np.linspace(0, 30, 61)
    sol = solve_ivp(lambda _t, f: (p + q * f) * (1 - f), (0, 30), [0.0], t_eval=t, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(sol.y[0] - bass_closed_form(p, q, t))) < 1e-6


def test_bass_recursion_is_the_spec_formula_at_dt_1() -> None:
    p, q, m = 0.03, 0.38, 1000
    f = bass_recursion(p, q, 10)
    n = [0.0]
    for _ in range(10):
        n.append(n[-1] + (p + q * n[-1] / m) * (m - n[-1]))
    assert np.allclose(f * m, n)


def test_watts_theory_window() -> None:
    assert watts_cascade_probability(0.5, 0.18) < 1e-9
    assert watts_cascade_probability(7.0, 0.18) < 1e-9
    assert all(watts_cascade_probability(z, 0.18) > 0.5 for z in (2, 3, 4, 5))


# ----------------------------------------------------------------------------- the limits


def test_bass_with_other_p_and_q_matches() -> None:
    """Overrides reach the check: the recursion it compares with is the one of the overridden p, q."""
    res = check_bass(["organisations.p=0.02", "organisations.q=0.5"], QUICK)
    assert res.passed, res.rows
    assert np.allclose(res.data["rec"], bass_recursion(0.02, 0.5, 40))


def test_bass_check_has_power() -> None:
    """A run with q = 0.5 is far outside 3 SE of the recursion for q = 0.38 (the check can fail)."""
    sc = load_limit("bass", ["organisations.base_per_place=500", "organisations.q=0.5"])
    curves = np.array([simulate(sc, s)[0] / 500 for s in range(20)])
    se = curves.std(axis=0, ddof=1) / math.sqrt(len(curves))
    dev = np.abs(curves.mean(axis=0) - bass_recursion(0.03, 0.38, 40))
    assert np.any(dev > 3 * se + 0.5 / 500)


def test_bass_closed_form_limit_with_other_p_q() -> None:
    res = check_bass_closed_form(["organisations.p=0.02", "organisations.q=0.5"], QUICK)
    assert res.passed, res.rows


def test_sis_limit() -> None:
    res = check_sis((), QUICK)
    assert res.passed, res.rows
    assert len(res.rows) == 2


def test_watts_limit() -> None:
    res = check_watts((), QUICK)
    assert res.passed, res.rows


def test_centola_limit() -> None:
    res = check_centola((), QUICK)
    assert res.passed, res.rows


def test_granovetter_limit() -> None:
    res = check_granovetter((), QUICK)
    assert res.passed, res.rows
    assert [r.got for r in res.rows] == ["100", "1"]


def test_leaving_the_limit_is_flagged() -> None:
    res = check_granovetter(["organisations.visibility_pull=0.5"], QUICK)
    assert not res.passed
    assert any("visibility_pull" in r.got for r in res.rows)


def test_neighbourhood_seeding_picks_a_connected_cluster() -> None:
    from sim.api import build_model

    sc = load_limit("centola", ["organisations.base_per_place=200", "organisations.rewiring=0.0"])
    m = build_model(sc, seed=4)
    seeds = np.flatnonzero(m.orgs.running)
    assert len(seeds) == 5
    gaps = np.diff(np.sort(seeds))
    assert gaps.max() <= 2 or (seeds.max() - seeds.min() > 100)  # contiguous on the ring (allowing wrap-around)
    default = build_model(load_limit("bass", ["organisations.initial_adopters=5"]), seed=4)
    assert default.orgs.running.sum() == 5
