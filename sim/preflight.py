"""Checks of a validated scenario that need its places, made before any model is built.

:func:`check_scenario` is called by :func:`sim.scenario.load_scenario` (and by the
commands before they build a model with another seed). It builds the places exactly
as the model does (:func:`sim.world.places.build_places` on the ``places`` stream of
the seed) and counts the organisations with the one count function
(:func:`sim.world.places.organisation_counts`), then checks:

* ``organisations.thresholds``: exactly one value per organisation;
* ``organisations.initial_place``: the name of one of the scenario's places;
* the memory a run needs (:func:`estimate_size`) against the machine's memory
  (:func:`memory_limit`); skipped with ``force_size`` or ``SIM_FORCE_SIZE=1``.

Every failure is a :class:`sim.scenario.ScenarioError` naming the file and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.params import Scenario, ScenarioError, cut

FORCE_SIZE_ENV = "SIM_FORCE_SIZE"
"""Environment variable: ``1`` skips the memory check (``sim run --force-size`` sets it)."""

MEMORY_SHARE = 0.8
"""A run may use at most this share of the machine's memory [-]."""

# Bytes per unit, fitted to the peak resident memory of building a model and running
# 12 steps (Sweden preset: 1.1e6 members, 1.1e7 ties -> +360 MiB; 1.07e6 members with
# 2.1e7 ties -> +591 MiB; 2.0e4 organisations -> +156 MiB) and rounded up; see docs/robustness.md.
BYTES_PER_MEMBER = 128
"""Target-group arrays (state, need, counters, draws) per member [bytes]."""
BYTES_PER_MEMBER_TIE = 28
"""Population network (CSR indices plus construction scratch) per member tie [bytes]."""
BYTES_PER_ORGANISATION = 2_000
"""Organisation arrays, the ``mesa.Agent`` object and its bookkeeping per organisation [bytes]."""
BYTES_PER_ORG_TIE = 40
"""Organisation network per tie [bytes]."""
BYTES_PER_PLACE_STEP = 200
"""``--places-series``: one row per place and step [bytes]."""
BYTES_PER_ORG_STEP = 150
"""``--organisations-series``: one row per organisation and step [bytes]."""
BASE_BYTES = 300 * 2**20
"""The interpreter, NumPy, pandas and Mesa themselves [bytes]."""


@dataclass(frozen=True)
class SizeEstimate:
    """What a run of a scenario holds in memory."""

    places: int
    members: int
    member_ties: int
    organisations: int
    org_ties: int
    bytes: int

    def describe(self) -> str:
        """One line: the counts and the bytes."""
        return (f"{self.places:,} places, {self.members:,} target-group members ({self.member_ties:,} ties), "
                f"{self.organisations:,} organisations: about {_gib(self.bytes)}")


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def memory_limit() -> int:
    """The memory this process may use [bytes]: physical memory, or a smaller cgroup limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for p in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(p).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return int(total)


def estimate_size(
    scenario: Scenario, target_size: object, org_counts: object, steps: int | None = None,
    collect_places: bool = False, collect_organisations: bool = False,
) -> SizeEstimate:
    """Bytes a run needs: members, their ties, organisations, their ties, optional series (an upper estimate).

    ``target_size`` and ``org_counts`` are the per-place arrays of the scenario's
    places (members simulated, organisations).
    """
    import numpy as np

    members = int(np.asarray(target_size, dtype=np.float64).sum())
    orgs = int(np.asarray(org_counts, dtype=np.float64).sum())
    n_places = len(np.asarray(target_size))
    m_ties = members * scenario.population.degree
    op = scenario.organisations
    o_ties = orgs * max(orgs - 1, 0) if op.network == "full" else int(orgs * min(op.degree, max(orgs - 1, 0)))
    n_steps = scenario.run.steps if steps is None else steps
    b = (BASE_BYTES + members * BYTES_PER_MEMBER + m_ties * BYTES_PER_MEMBER_TIE + orgs * BYTES_PER_ORGANISATION
         + o_ties * BYTES_PER_ORG_TIE)
    if collect_places:
        b += (n_steps + 1) * n_places * BYTES_PER_PLACE_STEP
    if collect_organisations:
        b += (n_steps + 1) * orgs * BYTES_PER_ORG_STEP
    return SizeEstimate(n_places, members, m_ties, orgs, o_ties, int(b))


@dataclass(frozen=True)
class _PlaceFacts:
    """What preflight needs of the places the model builds (read-only arrays)."""

    names: tuple[str, ...]
    keys: frozenset[str]
    """Names and municipality codes."""
    population: Any
    target_size: Any


@lru_cache(maxsize=16)
def _place_facts(places_json: str, k_core: int, k_periphery: int, seed: int) -> _PlaceFacts:
    """The places the model builds, built once per settings (cached: the UI loads often)."""
    from sim.params import PlacesParams, SolutionParams
    from sim.streams import Streams
    from sim.world.places import build_places

    sc = Scenario(places=PlacesParams.model_validate_json(places_json),
                  solution=SolutionParams(k_core=k_core, k_periphery=k_periphery))
    p = build_places(sc, Streams(seed).places)
    p.population.setflags(write=False)
    p.target_size.setflags(write=False)
    names = tuple(p.name.tolist())
    return _PlaceFacts(names, frozenset(names) | frozenset(p.code.tolist()), p.population, p.target_size)


def _places_of(scenario: Scenario, seed: int) -> _PlaceFacts:
    return _place_facts(scenario.places.model_dump_json(), scenario.solution.k_core, scenario.solution.k_periphery,
                        seed)


def check_scenario(
    scenario: Scenario, source: str, *, seed: int | None = None, force_size: bool | None = None,
    steps: int | None = None, collect_places: bool = False, collect_organisations: bool = False,
) -> SizeEstimate:
    """Check what needs the places (see the module docstring); return the size estimate.

    ``seed``: the root seed the run will use (default ``scenario.run.seed``; the
    number of organisations of synthetic places depends on it). Raises
    :class:`ScenarioError` naming ``source`` and the field.
    """
    from sim.world.places import organisation_counts

    op = scenario.organisations
    seed = scenario.run.seed if seed is None else int(seed)
    facts = _places_of(scenario, seed)
    names, population, target_size = facts.names, facts.population, facts.target_size
    counts = organisation_counts(op, population)
    n_orgs = int(counts.sum())
    if op.thresholds is not None and len(op.thresholds) != n_orgs:
        raise ScenarioError(
            f"{source}: field organisations.thresholds: has {len(op.thresholds):,} values but the scenario makes "
            f"{n_orgs:,} organisations with seed {seed} (allowed: exactly {n_orgs:,})"
        )
    if op.initial_place is not None and op.initial_place not in names:
        raise ScenarioError(
            f"{source}: field organisations.initial_place: no place named {cut(repr(op.initial_place), 80)} "
            f"(allowed: one of the scenario's {len(population):,} place names, e.g. {min(names)!r})"
        )
    if scenario.interventions:
        check_intervention_places(scenario, source, seed)
    est = estimate_size(scenario, target_size, counts, steps, collect_places, collect_organisations)
    if force_size is None:
        force_size = os.environ.get(FORCE_SIZE_ENV, "") not in ("", "0")
    limit = memory_limit()
    if not force_size and est.bytes > MEMORY_SHARE * limit:
        raise ScenarioError(
            f"{source}: fields places.* / organisations.* / population.degree: a run would need {est.describe()}, "
            f"more than {MEMORY_SHARE:.0%} of this machine's {_gib(limit)}; make it smaller (e.g. places.target_scale) "
            f"or override with --force-size / {FORCE_SIZE_ENV}=1"
        )
    return est


def check_intervention_places(scenario: Scenario, source: str, seed: int) -> None:
    """Every place an intervention names (by name or municipality code) exists; else a :class:`ScenarioError`."""
    facts = _places_of(scenario, seed)
    names, keys = facts.names, facts.keys
    for i, iv in enumerate(scenario.interventions):
        if not isinstance(iv.places, list):
            continue
        for j, key in enumerate(iv.places):
            text = f"{key:04d}" if isinstance(key, int) else key
            if text not in keys:
                raise ScenarioError(
                    f"{source}: interventions[{i}] (kind {iv.kind}): field places[{j}]: no place named or coded "
                    f"{cut(repr(key), 80)} (allowed: a name or municipality code of the scenario's {len(names):,} "
                    f"places, e.g. {names[0]!r})"
                )
