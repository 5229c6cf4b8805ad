"""Every state code of the model, as ``IntEnum`` s in one place.

The model keeps its state in NumPy arrays of small integers (see :mod:`sim.state`);
these enums name the integers. Their values are the array codes, and their order
is the order of the name tuples in :mod:`sim.scenario` (``ELEMENTS``, ``FORMS``,
``SECTORS``), which a test checks.

============  ======================================================================
enum          array (dtype)
============  ======================================================================
``Status``    ``OrgState.status`` (int8): where an organisation stands with the solution
``Funding``   ``OrgState.funding`` (int8): how its site is paid for
``Form``      ``OrgState.form`` (int8): organisational form of its site
``Element``   ``OrgState.element`` (int8): process element, ``NOT_ENGAGED`` (-1) when not running
``Sector``    ``OrgState.sector`` (int8)
``Member``    ``TargetGroup.state`` (int8): a target-group member's state
============  ======================================================================
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """An organisation's status with the solution."""

    NOT_ADOPTED = 0
    RUNNING = 1
    DISCONTINUED = 2  # pilot ended without a permanent form ("pilot death")
    ABANDONED = 3  # a running site was given up


class Funding(IntEnum):
    """How a site is paid for."""

    NONE = 0
    PROJECT = 1  # a time-limited project grant
    ORDINARY = 2  # ordinary (permanent) budget


class Form(IntEnum):
    """Organisational form of a site (order of :data:`sim.scenario.FORMS`)."""

    PROJECT = 0
    ALLIANCE = 1
    NEW_ORGANISATION = 2
    INTERNAL_UNIT = 3


class Element(IntEnum):
    """The six elements of social innovation (order of :data:`sim.scenario.ELEMENTS`)."""

    UNDERSTAND = 0
    ENVISION = 1
    MOBILISE = 2
    DEVELOP = 3
    SPREAD = 4
    VALUE = 5


NOT_ENGAGED = -1
"""``OrgState.element`` of an organisation that does not run the solution."""


class Sector(IntEnum):
    """Sector of an organisation (order of :data:`sim.scenario.SECTORS`)."""

    PUBLIC = 0
    CIVIL_SOCIETY = 1
    PRIVATE = 2
    ACADEMIA = 3


class Member(IntEnum):
    """A target-group member's state: unaware -> aware -> participating -> benefiting, or dropped out."""

    UNAWARE = 0
    AWARE = 1
    PARTICIPATING = 2
    BENEFITING = 3
    DROPPED_OUT = 4


def names(enum: type[IntEnum]) -> tuple[str, ...]:
    """Lower-case member names in code order, e.g. ``names(Status) == ("not_adopted", "running", ...)``."""
    return tuple(m.name.lower() for m in sorted(enum, key=int))


STATUS_NAMES = names(Status)
FUNDING_NAMES = ("none", "project", "ordinary_budget")
MEMBER_NAMES = names(Member)
