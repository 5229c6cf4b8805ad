"""Decisions of a round and the state changes they make: the explicit "decision -> state change" layer.

A decision is a dict ``field -> value`` for one role. Every field has the value ``"auto"``
(the model's own rule decides, nothing is changed), which is also what a role that never
decided plays; a role that does not decide in a round keeps its last decision. Decisions
are applied at the start of a round, before its first step, in the order of
:data:`sim.workshop.roles.ROLE_KINDS`, and draw no number from the model's streams (a
started site draws from a generator of its own, seeded by the room's seed, round and
role), so a room whose decisions are all ``"auto"`` is the autopilot run step for step.

==============  ==========================  =================================================================
role            field: values               state change (own agents only)
==============  ==========================  =================================================================
site holders    adopt: start | stop         start a site where the model allows it (``may_adopt``; the
(municipality,                              model's ``start_sites``) / give up running sites (abandoned)
civil society)  adaptation: 0..100 [%]      periphery moves this share of the way to the estimated local
                                            need, the core the rest of the way back to the design
                focus: an element           running sites work in that element (mobilise: resources,
                                            brokering and alliances; value: measure and show value; ...)
                apply: yes                  apply for project money (granted by the funder)
municipality    permanent: yes              running pilots go on the ordinary budget (permanent form)
funder          grant: yes                  applicants' running sites without a grant get one of
                                            ``grant_months``
                renew: yes                  grants ending this round are renewed by ``grant_months``
                grant_months: 6..36         length of grants given or renewed [months]
national        scale_up: now               the scaling-up policy comes into force now (the model's rule)
                support: 0..100 [%]         ``levers.institutionalisation_support`` from now on
                offer: all                  agreements offered to every place now, once (an ``offer``
                                            intervention added to the run: :data:`NATIONAL_OFFER`)
==============  ==========================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np

from sim.codes import Funding, Status
from sim.elements.spread import bring_policy_into_force, may_adopt, permanent_form, start_sites, stop
from sim.elements.understand import estimated_need
from sim.scenario import ELEMENTS, Scenario
from sim.state import SimState
from sim.workshop.roles import Role

AUTO = "auto"


@dataclass(frozen=True)
class Field:
    """One decision field: a choice among ``options`` or an integer in ``[low, high]`` (``unit``)."""

    name: str
    options: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    unit: str = ""

    @property
    def numeric(self) -> bool:
        """Whether the field takes an integer (besides ``"auto"``)."""
        return self.low is not None

    def allowed(self) -> str:
        """The allowed values, for error messages."""
        if self.numeric:
            return f"'auto' or an integer in [{self.low}, {self.high}]{' ' + self.unit if self.unit else ''}"
        return ", ".join(repr(o) for o in (AUTO, *self.options))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (for the pages' forms)."""
        return {"name": self.name, "options": [AUTO, *self.options], "low": self.low, "high": self.high, "unit": self.unit}


SITE_FIELDS = (
    Field("adopt", ("start", "stop")),
    Field("adaptation", low=0, high=100, unit="%"),
    Field("focus", tuple(ELEMENTS)),
    Field("apply", ("yes",)),
)
FIELDS: dict[str, tuple[Field, ...]] = {
    "municipality": (*SITE_FIELDS, Field("permanent", ("yes",))),
    "civil_society": SITE_FIELDS,
    "funder": (Field("grant", ("yes",)), Field("renew", ("yes",)), Field("grant_months", low=6, high=36, unit="months")),
    "national": (Field("scale_up", ("now",)), Field("support", low=0, high=100, unit="%"), Field("offer", ("all",))),
}
"""Decision fields of each role kind."""

DEFAULT_GRANT_MONTHS = 24
NATIONAL_OFFER: dict[str, Any] = {"kind": "offer", "places": "all", "decision_months": 6.0,
                                  "label": "National offer (workshop)"}
"""The national role's offer: agreements (with the ``offer`` kind's default grant) to every place, each deciding
within 6 months (:class:`sim.interventions.schema.Offer`; its start is the round's month)."""


class DecisionError(ValueError):
    """A decision that is not valid: names the role, the field and the allowed values."""


def auto_decision(kind: str) -> dict[str, Any]:
    """The decision of a role that leaves everything to the model."""
    return {f.name: AUTO for f in FIELDS[kind]}


def validate_decision(kind: str, data: Any) -> dict[str, Any]:
    """A complete, checked decision of a role of ``kind`` from ``data`` (missing fields are ``"auto"``).

    Raises:
        DecisionError: ``data`` is not a dict, has an unknown field or a value out of range
            (types are strict: ``"30"`` or ``true`` is not a number).
    """
    if kind not in FIELDS:
        raise DecisionError(f"role kind {kind!r}: allowed {', '.join(FIELDS)}")
    if not isinstance(data, dict):
        raise DecisionError(f"{kind}: a decision is an object of fields, got {type(data).__name__}")
    known = {f.name: f for f in FIELDS[kind]}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise DecisionError(f"{kind}.{unknown[0]}: unknown field; allowed fields {', '.join(known)}")
    out = auto_decision(kind)
    for name, value in data.items():
        f = known[name]
        if value == AUTO and isinstance(value, str):
            continue
        if f.numeric:
            ok = isinstance(value, int) and not isinstance(value, bool) and f.low <= value <= f.high  # type: ignore[operator]
        else:
            ok = isinstance(value, str) and value in f.options
        if not ok:
            raise DecisionError(f"{kind}.{name}: got {value!r}; allowed {f.allowed()}")
        out[name] = value
    return out


def is_auto(decision: dict[str, Any]) -> bool:
    """Whether a decision leaves everything to the model."""
    return all(v == AUTO for v in decision.values())


# --------------------------------------------------------------------------- applying decisions

@dataclass
class Context:
    """What applying one round's decisions needs besides the state.

    Attributes:
        params: the scenario in force (the national role may replace it: read ``params`` back).
        round_steps: length of the round [steps].
        seed: the room's seed; ``round_no``: the round (1-based), together they seed started sites' draws.
        applicants: organisation ids that applied for project money this round (filled by site holders).
        offered: whether the national offer is already part of the run (it is made once).
        new_interventions: interventions a decision adds from now on (the caller adds them to the model).
    """

    params: Scenario
    round_steps: int
    seed: int
    round_no: int
    applicants: list[int]
    offered: bool = False
    new_interventions: list[Any] = dataclass_field(default_factory=list)


def _own_running(state: SimState, role: Role) -> np.ndarray:
    ids = np.asarray(role.agents, dtype=np.int64)
    return ids[state.orgs.running[ids]] if len(ids) else ids


def apply_site_decision(state: SimState, role: Role, d: dict[str, Any], ctx: Context, role_index: int) -> None:
    """Apply a municipality's or civil-society organisation's decision to its own organisations."""
    o = state.orgs
    p = ctx.params
    ids = np.asarray(role.agents, dtype=np.int64)
    if len(ids) == 0:
        return
    if d["adopt"] == "start":
        idx = ids[may_adopt(state, p)[ids]]
        rng = np.random.default_rng([ctx.seed, ctx.round_no, role_index, 0x5753])  # not a model stream
        start_sites(state, p, idx, rng)
        state.events["adopted"] += len(idx)
        state.note_reached()
    elif d["adopt"] == "stop":
        gone = _own_running(state, role)
        stop(state, gone, Status.ABANDONED)
        state.events["abandoned"] += len(gone)
    run = _own_running(state, role)
    if d["adaptation"] != AUTO and len(run):
        share = d["adaptation"] / 100.0
        sol = state.solution
        v = o.variant[run]
        target = estimated_need(state, run)
        v[:, sol.periphery] += share * (target[:, sol.periphery] - v[:, sol.periphery])
        v[:, sol.core] += (1.0 - share) * (sol.c0[sol.core] - v[:, sol.core])
        o.variant[run] = np.clip(v, 0.0, 1.0)
    if d["focus"] != AUTO and len(run):
        o.element[run] = ELEMENTS.index(d["focus"])
        state.note_developed()
    if d["apply"] == "yes":
        ctx.applicants.extend(int(i) for i in run)
    if d.get("permanent") == "yes" and len(run):
        pilots = run[o.funding[run] != Funding.ORDINARY]
        o.funding_ended[pilots] = state.month
        o.funding[pilots] = Funding.ORDINARY
        o.project_end[pilots] = np.nan
        o.form[pilots] = permanent_form(state, pilots)
        state.events["made_permanent"] += len(pilots)
    state.refresh_solution()


def apply_funder_decision(state: SimState, d: dict[str, Any], ctx: Context) -> None:
    """Apply the funder's decision to the funding of applicants and of grants ending this round."""
    o = state.orgs
    months = DEFAULT_GRANT_MONTHS if d["grant_months"] == AUTO else int(d["grant_months"])
    if d["grant"] == "yes" and ctx.applicants:
        app = np.asarray(sorted(set(ctx.applicants)), dtype=np.int64)
        app = app[o.running[app] & (o.funding[app] != Funding.PROJECT)]
        o.funding[app] = Funding.PROJECT
        o.project_end[app] = state.month + months
    if d["renew"] == "yes":
        horizon = state.month + ctx.round_steps * state.clock.dt + 1e-9
        ending = np.flatnonzero(o.running & (o.funding == Funding.PROJECT) & (o.project_end <= horizon))
        o.project_end[ending] += months


def apply_national_decision(state: SimState, d: dict[str, Any], ctx: Context) -> None:
    """Apply the national mandate holder's decision (the policy, the support lever, the offer; national scope)."""
    if d["support"] != AUTO:
        p = ctx.params
        ctx.params = p.model_copy(update={"levers": p.levers.model_copy(
            update={"institutionalisation_support": d["support"] / 100.0})})
    if d["scale_up"] == "now" and not state.policy.in_force:
        bring_policy_into_force(state, ctx.params)
    if d.get("offer") == "all" and not ctx.offered:
        from sim.interventions.schema import Offer

        ctx.new_interventions.append(Offer.model_validate({**NATIONAL_OFFER, "month": state.month}))
        ctx.offered = True


def install_params(model: Any, params: Scenario) -> None:
    """Make ``params`` the scenario a model's next steps use (also the base of its interventions, if any)."""
    if params is model.params:
        return
    model.params = params
    if getattr(model, "interventions", None) is not None:  # the interventions pass their scenario to the step
        model.interventions.rebase(params)  # its ``set`` levers are applied on the new base


def org_snapshot(state: SimState) -> dict[str, np.ndarray]:
    """Copies of every organisation array (to find which rows a decision changed)."""
    o = state.orgs
    return {f.name: np.array(getattr(o, f.name), copy=True) for f in fields(o)}


def changed_rows(before: dict[str, np.ndarray], state: SimState) -> list[int]:
    """Organisation ids whose row differs from ``before`` in any array (NaN equals NaN)."""
    o = state.orgs
    diff = np.zeros(o.n, dtype=bool)
    for name, old in before.items():
        new = getattr(o, name)
        eq = (old == new) | (np.isnan(old) & np.isnan(new)) if old.dtype.kind == "f" else old == new
        diff |= ~eq.reshape(o.n, -1).all(axis=1)
    return [int(i) for i in np.flatnonzero(diff)]


def apply_round(
    state: SimState, roles: list[Role], decisions: dict[str, dict[str, Any]], ctx: Context
) -> dict[str, list[int]]:
    """Apply every role's decision for a round; returns, per role, the organisation ids its decision changed.

    ``decisions`` maps role key -> a validated decision (a role without one plays ``"auto"``).
    The national role may replace ``ctx.params`` (read it back after the call).
    """
    changed: dict[str, list[int]] = {}
    for index, role in enumerate(roles):
        d = decisions.get(role.key) or auto_decision(role.kind)
        if is_auto(d):
            changed[role.key] = []
            continue
        before = org_snapshot(state)
        if role.kind == "funder":
            apply_funder_decision(state, d, ctx)
        elif role.kind == "national":
            apply_national_decision(state, d, ctx)
        else:
            apply_site_decision(state, role, d, ctx, index)
        changed[role.key] = changed_rows(before, state)
    return changed
