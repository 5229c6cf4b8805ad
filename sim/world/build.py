"""Building the world of a run: ``build_world(scenario, streams) -> SimState``.

Set-up, in this order (each part draws only from its own stream, see :mod:`sim.streams`):
places (``places``), the solution's design (``solution``), organisations with
sector, mandate and resources (``organisations``), their thresholds and eligibility
(``organisations``), the regions and places taking part (``regions``, ``uptake``), the
organisation network (``org_network``), the target groups and their network
(``population_network``, ``people``), then the originators start running the
solution (``organisations``, ``funding``).

The reference model (:mod:`sim.reference`), the validation limits and calibration
build their worlds here too.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Sector
from sim.elements.spread import start_sites
from sim.elements.transitions import transition_matrix
from sim.organisations import MANDATE_BY_SECTOR, OrgState, create_org_state
from sim.population import TargetGroup
from sim.scenario import SECTORS, Scenario, ScenarioError
from sim.solution import design_solution
from sim.state import Clock, PolicyRecord, SimState, ValueAccounts
from sim.streams import Streams
from sim.world.networks import OrgNetwork, build_org_network, build_population_network
from sim.world.places import Places, build_places, organisation_counts


def build_world(scenario: Scenario, streams: Streams) -> SimState:
    """The state of ``scenario`` at month 0, drawn from ``streams`` (originators already running)."""
    places = build_places(scenario, streams.places)
    op = scenario.organisations
    counts = organisation_counts(op, places.population)
    k = scenario.solution.k_core + scenario.solution.k_periphery
    solution = design_solution(scenario.solution, places.need.mean(axis=0), streams.solution)
    orgs = create_org_state(
        counts, op.sector_shares, k, scenario.levers.vision_clarity, scenario.solution.effect_size, streams.organisations
    )
    orgs.p[:] = op.p
    orgs.phi[:] = thresholds(scenario, orgs.n, streams.organisations)
    orgs.eligible[:] = eligibility(scenario, orgs.sector, streams.organisations)
    if op.public_gate:
        municipalities(orgs, counts)
    if op.regional_bodies:
        regional_bodies(orgs, counts, places.county, places.population)
    if 0 < op.host_places < places.n:
        orgs.eligible &= host_places(places.population, op.host_places)[orgs.place]
    if op.region_share < 1.0:
        orgs.eligible &= regions_taking_part(places.county, op.region_share, streams.regions)[orgs.place]
    if op.place_share < 1.0:
        taking = places_taking_part(places.n, op.place_share, streams.uptake)
        if op.initial_place is not None:
            taking |= places.name == op.initial_place  # the idea's own place takes part
        orgs.eligible &= taking[orgs.place]
    network = build_org_network(op, orgs.place, places.x_km, places.y_km, places.population, streams.org_network)
    people = target_groups(scenario, places, streams)
    tg_size = places.target_size
    total_target = max(float(tg_size.sum()), 1.0)
    vp = scenario.value
    state = SimState(
        clock=Clock(scenario.run.dt, scenario.run.rate_mode),
        places=places,
        orgs=orgs,
        network=network,
        people=people,
        solution=solution,
        accounts=ValueAccounts(places.n),
        transitions=transition_matrix(scenario.process),
        visibility_scale=vp.visibility_scale,
        place_visibility_scale=np.maximum(vp.visibility_scale * tg_size / total_target, vp.place_visibility_floor),
        policy=PolicyRecord(refused=np.zeros(places.n, dtype=bool)),
        first_reached=np.full(places.n, np.nan),
    )
    state.evidence_rate = float(np.exp(-np.log(2.0) * scenario.run.dt / vp.evidence_half_life))
    seed_originators(state, scenario, streams)
    state.refresh_solution()
    return state


def thresholds(scenario: Scenario, n: int, rng: np.random.Generator) -> np.ndarray:
    """Adoption thresholds of the ``n`` organisations in [0, 1].

    Drawn ``N(threshold_mean, threshold_sd)`` clipped, or the scenario's explicit
    ``organisations.thresholds`` (the draws are made either way, so the stream stays aligned).
    """
    op = scenario.organisations
    draws = np.clip(rng.normal(op.threshold_mean, op.threshold_sd, n), 0.0, 1.0)
    if op.thresholds is None:
        return draws
    if len(op.thresholds) != n:
        raise ScenarioError(
            f"field organisations.thresholds: has {len(op.thresholds)} values but the scenario makes "
            f"{n} organisations (allowed: exactly {n})"
        )
    return np.asarray(op.thresholds, dtype=np.float64)


def eligibility(scenario: Scenario, sector: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which organisations are relevant to the challenge: each with probability ``eligible_share[its sector]``.

    One uniform per organisation is drawn whatever the shares (common random numbers).
    """
    share = np.array([scenario.organisations.eligible_share.get(s, 1.0) for s in SECTORS])
    return rng.random(len(sector)) < share[sector]


def host_places(population: np.ndarray, n: int) -> np.ndarray:
    """Bool per place: the ``n`` most populous (ties: the earlier place). No random draw, so CRN hold."""
    host = np.zeros(len(population), dtype=bool)
    host[np.argsort(-np.asarray(population), kind="stable")[:n]] = True
    return host


def regions_taking_part(county: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Bool per place: its region (``county``) takes part, with probability ``share`` per region.

    One uniform per region, in order of the region's first place, so the same regions
    take part at every share below theirs (common random numbers).
    """
    regions, first, index = np.unique(np.asarray(county, dtype=object), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # regions in order of appearance, not of name
    draws = np.empty(len(regions))
    draws[order] = rng.random(len(regions))
    return (draws < share)[index]


def places_taking_part(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Bool per place (``n`` places): it takes the solution up at all, with probability ``share`` each.

    One uniform per place, in place order, so the same places take part at every share
    below theirs (common random numbers).
    """
    return rng.random(n) < share


def municipalities(orgs: OrgState, counts: np.ndarray) -> None:
    """For a public solution: the first organisation of every place is its municipality.

    Public sector, eligible (it decides for its place) and with at least the public
    sector's mean mandate, so every place can be opened by its own decision.
    """
    first = (np.cumsum(counts) - counts)[counts > 0]
    orgs.sector[first] = Sector.PUBLIC
    orgs.eligible[first] = True
    orgs.mandate[first] = np.maximum(orgs.mandate[first], MANDATE_BY_SECTOR["public"][0])


def regional_bodies(orgs: OrgState, counts: np.ndarray, county: np.ndarray, population: np.ndarray) -> None:
    """One regional body (county council) per county: the second organisation of its most populous place.

    The second, so that under ``public_gate`` the first stays the municipality (the first
    if the place has only one organisation). Public, eligible, mandate at least the public
    mean, ``regional`` set. No random draw, so the streams stay aligned (CRN).
    """
    starts = np.cumsum(counts) - counts
    county = np.asarray(county, dtype=object)
    for c in dict.fromkeys(county):  # counties in order of their first place
        members = np.flatnonzero(county == c)
        members = members[counts[members] > 0]
        if len(members) == 0:
            continue
        seat = members[np.argmax(np.asarray(population)[members])]  # first of ties
        org = int(starts[seat] + (1 if counts[seat] > 1 else 0))
        orgs.regional[org] = True
        orgs.sector[org] = Sector.PUBLIC
        orgs.eligible[org] = True
        orgs.mandate[org] = max(orgs.mandate[org], MANDATE_BY_SECTOR["public"][0])


def target_groups(scenario: Scenario, places: Places, streams: Streams) -> TargetGroup:
    """The target-group members of every place and their network."""
    pop = scenario.population
    tg_size = places.target_size
    starts = np.concatenate([[0], np.cumsum(tg_size)[:-1]])
    indptr, indices = build_population_network(starts, tg_size, pop.degree, pop.within_place, streams.population_network)
    return TargetGroup(tg_size, places.severity, indptr, indices, pop, streams.people)


def seed_originators(state: SimState, scenario: Scenario, streams: Streams) -> None:
    """The ``initial_adopters`` originators start running the solution in their home place (month 0)."""
    op = scenario.organisations
    n0 = min(op.initial_adopters, state.orgs.n)
    if n0 == 0:
        return
    rng = streams.organisations
    places = state.places
    if op.initial_place is not None:
        hits = np.flatnonzero(places.name == op.initial_place)
        if len(hits) == 0:
            raise ScenarioError(
                f"field organisations.initial_place: no place named {op.initial_place!r} "
                f"(allowed: one of the scenario's place names, e.g. {places.name[0]!r})"
            )
        home = int(hits[0])
    else:
        home = int(rng.integers(places.n))
    eligible = state.orgs.eligible
    if op.region_share < 1.0 or op.place_share < 1.0:  # the originators start where it is taken up (no extra draw)
        open_places = np.unique(state.orgs.place[eligible])
        if len(open_places) and op.initial_place is None and home not in open_places:
            home = int(open_places[home % len(open_places)])
    local = state.org_ids_by_place[home]
    local = local[eligible[local]] if eligible[local].any() else local
    if op.seeding == "neighbourhood" and len(local):
        pick = neighbourhood(state.network, int(rng.choice(local)), n0)
    else:
        others = np.setdiff1d(state.all_org_ids[eligible], local)
        pick = list(rng.permutation(local)[:n0]) + list(rng.permutation(others)[: max(0, n0 - len(local))])
    if op.public_gate and len(state.org_ids_by_place[home]):
        municipality = int(state.org_ids_by_place[home][0])  # a public solution starts with its municipality's decision
        if municipality not in pick:
            pick = [municipality] + list(pick)[: n0 - 1]
    start_sites(state, scenario, np.array(pick, dtype=np.int64), streams.sites)
    state.note_reached()


def neighbourhood(network: OrgNetwork, focal: int, n0: int) -> list[int]:
    """``focal`` and its network neighbours, breadth first (lowest id first), up to ``n0`` organisations.

    Under full mixing everyone is a neighbour (ids in order); if the focal
    organisation's component is smaller than ``n0``, fewer are returned.
    """
    if network.full:
        return [focal] + [i for i in range(network.n) if i != focal][: n0 - 1]
    indptr, indices = network.csr.indptr, network.csr.indices
    seen, queue = {focal}, [focal]
    for node in queue:
        if len(queue) >= n0:
            break
        for nb in indices[indptr[node] : indptr[node + 1]]:
            if int(nb) not in seen and len(queue) < n0:
                seen.add(int(nb))
                queue.append(int(nb))
    return queue[:n0]
