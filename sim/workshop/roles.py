"""Roles of a workshop room and the agents each one plays.

A role is one actor of the model: the public organisation(s) of one municipality, the
civil-society organisation(s) of the same place, a funder of project grants, and the
national mandate holder. Site-holding roles (``municipality``, ``civil_society``) own the
rows of :class:`sim.organisations.OrgState` of their organisations and nothing else. The
funder owns the funding columns of the sites that apply to it or hold its grants; the
national mandate holder acts on the nation (the scaling-up policy and the support lever).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import Sector
from sim.state import SimState

ROLE_KINDS: tuple[str, ...] = ("municipality", "civil_society", "funder", "national")
"""The kinds of role, in the order their decisions are applied at the start of a round
(applications of the site holders come before the funder's grants)."""

SITE_KINDS = ("municipality", "civil_society")
"""Roles that hold sites (own organisation rows)."""


@dataclass(frozen=True)
class Role:
    """One playable role.

    Attributes:
        key: unique id in the room, e.g. ``"municipality"``.
        kind: one of :data:`ROLE_KINDS`.
        place: place id of a site-holding role (-1 for funder and national).
        place_name: its place's name ("" if none).
        agents: organisation ids the role plays (empty for funder and national).
    """

    key: str
    kind: str
    place: int
    place_name: str
    agents: tuple[int, ...]

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return {"key": self.key, "kind": self.kind, "place": self.place, "place_name": self.place_name,
                "agents": list(self.agents)}


def played_place(state: SimState) -> int:
    """The place the site-holding roles play (a place id).

    The lowest-id place with an eligible public and an eligible civil-society organisation and
    no running site at the start (so the room sees its decisions open the place); failing that,
    the lowest-id place with an eligible public organisation.
    """
    o = state.orgs
    elig_pub = np.bincount(o.place[o.eligible & (o.sector == Sector.PUBLIC)], minlength=state.places.n) > 0
    elig_civ = np.bincount(o.place[o.eligible & (o.sector == Sector.CIVIL_SOCIETY)], minlength=state.places.n) > 0
    running = np.bincount(o.place[o.running], minlength=state.places.n) > 0
    for mask in (elig_pub & elig_civ & ~running, elig_pub & elig_civ, elig_pub):
        hit = np.flatnonzero(mask)
        if len(hit):
            return int(hit[0])
    raise ValueError("workshop: no place has an eligible public organisation (raise organisations.eligible_share.public)")


def place_id(state: SimState, name: str) -> int:
    """The id of the place called ``name`` (case-insensitive) with an eligible public organisation.

    Raises:
        ValueError: no such place, or none of its public organisations can adopt (names the allowed places).
    """
    o = state.orgs
    names = [str(n) for n in state.places.name]
    playable = np.bincount(o.place[o.eligible & (o.sector == Sector.PUBLIC)], minlength=state.places.n) > 0
    for i, n in enumerate(names):
        if n.casefold() == name.strip().casefold() and playable[i]:
            return i
    allowed = [n for i, n in enumerate(names) if playable[i]]
    more = f" ... ({len(allowed)} in all)" if len(allowed) > 12 else ""
    raise ValueError(f"--place {name!r}: not a place with an eligible public organisation; allowed: "
                     f"{', '.join(allowed[:12])}{more}")


def default_roles(state: SimState, place: str | None = None) -> list[Role]:
    """The four roles of a room on a freshly built world (deterministic in the scenario and seed).

    ``place``: name of the place the municipality and the civil-society organisation play
    (default: :func:`played_place`).
    """
    o = state.orgs
    x = played_place(state) if place is None else place_id(state, place)
    name = str(state.places.name[x])
    here = o.place == x
    pub = tuple(int(i) for i in np.flatnonzero(here & (o.sector == Sector.PUBLIC) & o.eligible))
    civ = tuple(int(i) for i in np.flatnonzero(here & (o.sector == Sector.CIVIL_SOCIETY) & o.eligible))
    return [
        Role("municipality", "municipality", x, name, pub),
        Role("civil_society", "civil_society", x, name, civ),
        Role("funder", "funder", -1, "", ()),
        Role("national", "national", -1, "", ()),
    ]
