"""Target-group members: the vectorised synchronous step on small networks."""

from __future__ import annotations

import numpy as np
import pytest

from sim.population import AWARE, BENEFITING, DROPPED_OUT, PARTICIPATING, UNAWARE, PlaceService, TargetGroup
from sim.scenario import PopulationParams
from sim.world import build_population_network


def service(n_places: int, sites: float = 1.0, fit: float = 1.0, eff: float = 0.0) -> PlaceService:
    return PlaceService(
        sites=np.full(n_places, sites), fit=np.full(n_places, fit), effectiveness=np.full(n_places, eff),
        openness=np.full(n_places, 0.5), outreach_boost=np.ones(n_places),
    )


def chain(n: int, params: PopulationParams) -> TargetGroup:
    """A directed chain: member i hears only from member i - 1 (member 0 from itself)."""
    indptr = np.arange(n + 1, dtype=np.int64)
    indices = np.maximum(np.arange(n) - 1, 0).astype(np.int32)
    return TargetGroup(np.array([n]), np.array([0.5]), indptr, indices, params, np.random.default_rng(0))


def test_word_of_mouth_is_synchronous() -> None:
    """With only word of mouth at certainty, awareness moves one tie per step, never further."""
    tg = chain(6, PopulationParams(outreach=0.0, word_of_mouth=1.0, participation=0.0, dropout=0.0))
    tg.state[0] = PARTICIPATING
    tg.step(service(1), 1.0, "probability", np.zeros(6, np.float32) + 0.5)
    assert list(tg.state) == [PARTICIPATING, AWARE, UNAWARE, UNAWARE, UNAWARE, UNAWARE]


def test_no_site_no_change() -> None:
    tg = chain(5, PopulationParams(outreach=1.0, word_of_mouth=1.0, participation=1.0))
    tg.state[:] = [UNAWARE, AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT]
    tg.step(service(1, sites=0.0), 1.0, "probability", np.zeros(5, np.float32))
    # participants wait (back to aware); nobody else moves
    assert list(tg.state) == [UNAWARE, AWARE, AWARE, BENEFITING, DROPPED_OUT]


def test_capacity_limits_joining_in_expectation() -> None:
    n = 20_000
    params = PopulationParams(outreach=0.0, word_of_mouth=0.0, participation=1.0, site_capacity=100.0)
    tg = chain(n, params)
    tg.need[:] = 1.0
    tg.state[:] = AWARE
    rng = np.random.default_rng(1)
    tg.step(service(1, sites=2.0), 1.0, "probability", rng.random(n, dtype=np.float32))
    joined = int((tg.state == PARTICIPATING).sum())
    # expected exactly 200 joiners (capacity); binomial sd sqrt(200 * (1 - 200/n)) ~ 14
    assert abs(joined - 200) < 4 * np.sqrt(200)


def test_benefit_probability_is_effectiveness() -> None:
    n = 40_000
    tg = chain(n, PopulationParams(outreach=0.0, word_of_mouth=0.0, dropout=0.0))
    tg.state[:] = PARTICIPATING
    rng = np.random.default_rng(2)
    new = tg.step(service(1, eff=0.1), 1.0, "probability", rng.random(n, dtype=np.float32))
    se = np.sqrt(n * 0.1 * 0.9)
    assert abs(new[0] - 0.1 * n) < 4 * se
    assert new[0] == int((tg.state == BENEFITING).sum())


def test_dropout_rises_as_fit_falls() -> None:
    n = 40_000
    params = PopulationParams(outreach=0.0, word_of_mouth=0.0, dropout=0.05, dropout_fit_effect=4.0)
    rates = []
    for fit in (1.0, 0.5):
        tg = chain(n, params)
        tg.state[:] = PARTICIPATING
        tg.step(service(1, fit=fit), 1.0, "probability", np.random.default_rng(3).random(n, dtype=np.float32))
        rates.append((tg.state == DROPPED_OUT).mean())
    assert rates[0] == pytest.approx(0.05, abs=4 * np.sqrt(0.05 * 0.95 / n))
    assert rates[1] == pytest.approx(0.05 * 3.0, abs=4 * np.sqrt(0.15 * 0.85 / n))


def test_population_network_shape_and_locality() -> None:
    sizes = np.array([1000, 3000, 500])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    indptr, indices = build_population_network(starts, sizes, 8, 0.9, np.random.default_rng(4))
    n = sizes.sum()
    assert indptr[-1] == n * 8 and indices.min() >= 0 and indices.max() < n
    place = np.repeat(np.arange(3), sizes)
    src = np.repeat(np.arange(n), 8)
    same = (place[src] == place[indices]).mean()
    # within-place ties: 0.9 + 0.1 * (chance a random member is in the same place)
    expected = 0.9 + 0.1 * float(np.sum((sizes / n) ** 2))
    assert same == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / (n * 8)))


def test_members_without_ties_hear_only_outreach() -> None:
    from sim.api import run

    from .conftest import small_scenario

    r = run(small_scenario({"population.degree": 0}), seed=1, steps=6)
    assert r.model["people_aware"].iloc[-1] > 0


def test_turnover_keeps_derived_counts_exact_and_renews_the_expected_share() -> None:
    """Cohort turnover: incremental counts equal a full recount; about share * n renewed per step."""
    from sim.model import SocialInnovationModel

    from .conftest import small_scenario

    m = SocialInnovationModel(small_scenario({"population.turnover": 0.05, "organisations.initial_adopters": 6}), seed=2)
    tg = m.people
    for _ in range(12):
        m.step()
    counts_before = tg.counts_by_place().copy()
    active_before = tg._active_nb.copy()
    tg._resync()  # recount from scratch
    np.testing.assert_array_equal(counts_before, tg._counts)
    np.testing.assert_array_equal(active_before, tg._active_nb)
    # how many are replaced: k = share * n draws with replacement, then made unique
    n, k = tg.n, 0.05 * tg.n
    renewed = tg.turn_over(0.05, m.places.severity, np.random.default_rng(5))
    expected_unique = n * (1 - np.exp(-k / n))
    assert abs(renewed - expected_unique) < 5 * np.sqrt(expected_unique)


def test_turnover_keeps_need_for_the_newcomers() -> None:
    from sim.model import SocialInnovationModel

    from .conftest import small_scenario

    closed = SocialInnovationModel(small_scenario(), seed=4)
    open_ = SocialInnovationModel(small_scenario({"population.turnover": 0.02}), seed=4)
    for _ in range(30):
        closed.step()
        open_.step()
    a, b = closed.collector.model_frame(), open_.collector.model_frame()
    # newcomers arrive unaware: an open population has more unaware members than a closed one
    assert b["people_unaware"].iloc[-1] > a["people_unaware"].iloc[-1]
    assert (b["people_unaware"] + b["people_aware"] == open_.people.n).all()
    # organisations draw from their own streams: turnover does not touch them until people feed back
    assert a["orgs_adopted"].iloc[1] == b["orgs_adopted"].iloc[1]
