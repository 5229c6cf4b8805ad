"""The ``[[interventions]]`` of a scenario: what a strategy does, when, where and with how much money.

Every intervention has a ``kind``, a start (``month`` or ``date``), an optional end
(``end_month`` or ``end_date``), target ``places`` and a ``budget_sek``; each kind adds
its own fields (an unknown field names the kind and its allowed fields). The rules that
run them are in :mod:`sim.interventions.runtime`; ``docs/interventions.md`` explains them.

Kinds:

* ``offer``: a mandate holder offers agreements (and grants) to the target places; a
  place accepts when its need (severity) is at least ``min_need`` and its share of the
  running cost (the part the grant does not pay) is at most ``max_cost_share`` of its
  budget, after a decision delay of up to ``decision_months``.
* ``grants``: a grant programme with calls; at each call it funds running sites of the
  target places without project money (creates) or on a project (renews), and new sites of
  organisations that apply (``uptake``), in the order of ``selection``, until its budget is spent.
* ``training``: fidelity support (guardrails at least ``level``) for the sites of the
  target places.
* ``measurement``: measurement effort at least ``level`` in the target places, the extra
  paid by the intervention.
* ``seed``: ``n_per_place`` organisations start running the solution in each target place.
* ``funding_cut``: project grants end in the target places: running grants stop, none
  are renewed and new sites start without project money.
* ``set``: a lever (``lever``, a dotted field) takes ``value`` from the start (and
  goes back at the end, or when its budget cannot pay ``cost_sek_per_month``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from sim.dates import month_index, parse_year_month
from sim.schema_base import _f, _Section

KINDS: tuple[str, ...] = ("offer", "grants", "training", "measurement", "seed", "funding_cut", "set")
"""The kinds of intervention, in the order the docs list them."""

RULES: tuple[str, ...] = ("highest_need", "lowest_need", "largest", "smallest", "reached", "not_reached")
"""Rules that pick target places: ``n`` places of highest or lowest severity, largest or smallest target group,
or the places the solution has (not) reached when the intervention starts."""

SETTABLE_SECTIONS: tuple[str, ...] = ("levers", "funding", "value", "scaling_up", "process")
"""Sections whose numeric fields a ``set`` intervention may change (they are read every step)."""
SETTABLE_FIELDS: tuple[str, ...] = (
    "organisations.q", "organisations.visibility_pull", "organisations.abandonment",
    "organisations.abandonment_fit_effect", "organisations.abandonment_effect_effect",
    "organisations.abandonment_unfunded", "population.outreach", "population.word_of_mouth",
    "population.participation", "population.site_capacity", "population.dropout", "population.dropout_fit_effect",
)
"""Further fields a ``set`` intervention may change (read every step; ``organisations.p`` is drawn per
organisation when the world is built, so it cannot change later)."""


class PlaceRule(_Section):
    """Target places picked by a rule when the intervention starts."""

    rule: Literal["highest_need", "lowest_need", "largest", "smallest", "reached", "not_reached"] = Field(
        description="highest_need/lowest_need: by severity; largest/smallest: by target-group size; "
        "reached/not_reached: whether the solution has reached the place at the start."
    )
    n: int | None = _f(None, 1, 100_000, "How many places (the first n by the rule; ties by place order) [places]; "
                       "all that qualify when left out (reached/not_reached only).")

    @model_validator(mode="after")
    def _n_needed(self) -> PlaceRule:
        if self.n is None and self.rule not in ("reached", "not_reached"):
            raise ValueError(f"rule {self.rule!r} needs n (how many places, 1 to 100000)")
        return self


Places = Literal["all"] | list[str | int] | PlaceRule


class _Intervention(_Section):
    """Fields every intervention has."""

    label: str | None = Field(None, max_length=80, description="Short label for charts (default: kind and places).")
    month: float | None = _f(None, 0.0, 1e6, "Start [model month]; give this or date.")
    date: str | None = Field(None, description='Start as "YYYY-MM" (needs run.start); give this or month.')
    end_month: float | None = _f(None, 0.0, 1e6, "End [model month], exclusive; none: to the end of the run.")
    end_date: str | None = Field(None, description='End as "YYYY-MM" (needs run.start), exclusive.')
    places: Places = Field("all", description='Target places: "all", a list of names or municipality codes, '
                           'or a rule table { rule = "highest_need", n = 10 }.')
    budget_sek: float | None = _f(None, 0.0, 1e13, "Most the intervention may spend [SEK]; none: no limit.")

    @model_validator(mode="after")
    def _one_start(self) -> _Intervention:
        if self.month is not None and self.date is not None:
            raise ValueError("give month or date, not both")
        if self.end_month is not None and self.end_date is not None:
            raise ValueError("give end_month or end_date, not both")
        for name in ("date", "end_date"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_year_month(value)
                except ValueError as err:
                    raise ValueError(f"{name}: {err}") from None
        return self

    def start_month(self, start: str | None) -> float:
        """Model month the intervention starts (``run.start`` converts a date; month 0 if neither is given)."""
        if self.date is not None:
            if start is None:
                raise ValueError("a date needs run.start")
            return float(month_index(self.date, start))
        return 0.0 if self.month is None else float(self.month)

    def stop_month(self, start: str | None) -> float:
        """Model month the intervention ends (exclusive; infinity when it runs to the end)."""
        if self.end_date is not None:
            if start is None:
                raise ValueError("an end_date needs run.start")
            return float(month_index(self.end_date, start))
        return math.inf if self.end_month is None else float(self.end_month)


class Offer(_Intervention):
    """A mandate holder offers agreements (and grants) to the target places; each accepts by its need and cost."""

    kind: Literal["offer"]
    grant_sek_per_month: float = _f(20_000.0, 0.0, 1e10, "Grant per accepting place while its agreement runs [SEK/month] "
                                    "(default: an assumption, a third of a project site's running cost).")
    length_months: float = _f(36.0, 1.0, 600.0, "How long an agreement (and its grant) runs [months].")
    min_need: float | None = _f(None, 0.0, 1.0, "Places whose severity is below this decline [-] "
                                "(default: scaling_up.refusal_need).")
    max_cost_share: float = _f(1.0, 0.0, 100.0, "Places decline when the running cost the grant leaves them exceeds "
                               "this share of their budget [-].")
    decision_months: float = _f(6.0, 0.0, 120.0, "Each place decides after a delay drawn uniformly from 0 to this "
                                "[months].")


class Grants(_Intervention):
    """A grant programme: calls at given months fund sites' projects until the budget is spent."""

    kind: Literal["grants"]
    grant_sek_per_month: float = _f(40_000.0, 0.0, 1e10, "Grant per funded site [SEK/month].")
    length_months: float = _f(24.0, 1.0, 600.0, "Length of a grant [months].")
    every_months: float | None = _f(12.0, 1.0, 600.0, "A call every this many months from the start [months]; "
                                    "ignored when calls is given.")
    calls: list[float] | None = Field(None, max_length=1000, description="Months of the calls [model months] "
                                      "(default: the start and then every every_months).")
    selection: Literal["need", "first_come", "lottery"] = Field(
        "need", description="Who is funded first at a call: highest need of the place, the earliest to run it, or lots."
    )
    grants_per_call: int | None = _f(None, 1, 1_000_000, "Most grants a call awards [grants]; none: as the budget allows.")
    uptake: float = _f(0.1, 0.0, 1.0, "Share of the eligible organisations not yet running it in the target places "
                       "(and free to, see may_adopt) that apply to a call to start a new site [-] (an assumption; "
                       "0: only running sites apply).")


class Training(_Intervention):
    """Fidelity support (training, manuals, licensing) for the sites of the target places."""

    kind: Literal["training"]
    level: float = _f(0.8, 0.0, 1.0, "Guardrails in the target places are at least this [-].")
    cost_sek_per_site_month: float = _f(5_000.0, 0.0, 1e10, "Cost per running site trained [SEK/month].")


class Measurement(_Intervention):
    """Measurement effort funded in the target places."""

    kind: Literal["measurement"]
    level: float = _f(0.8, 0.0, 1.0, "Measurement effort in the target places is at least this [-].")


class Seed(_Intervention):
    """Organisations start running the solution in the target places."""

    kind: Literal["seed"]
    n_per_place: int = _f(1, 1, 10_000, "Organisations started in each target place [orgs].")
    sector: Literal["public", "civil_society", "private", "academia", "any"] = Field(
        "public", description="Sector of the organisations started (any: whichever are free)."
    )
    grant_sek_per_month: float = _f(0.0, 0.0, 1e10, "Project grant per seeded site [SEK/month] (0: funded as any new site).")
    length_months: float = _f(24.0, 1.0, 600.0, "Length of a seeded site's grant [months].")


class FundingCut(_Intervention):
    """Project grants end in the target places."""

    kind: Literal["funding_cut"]


class SetLever(_Intervention):
    """A lever takes a new value from the start (back to the scenario's at the end)."""

    kind: Literal["set"]
    lever: str = Field(max_length=100, description='Dotted field, e.g. "levers.guardrails".')
    value: float = Field(description="The lever's value from the start (within the field's range).")
    cost_sek_per_month: float = _f(0.0, 0.0, 1e10, "What the change costs while it is in force, e.g. a national "
                                   "support team [SEK/month]; when the budget cannot pay a month, the lever goes back.")

    @model_validator(mode="after")
    def _settable(self) -> SetLever:
        section = self.lever.split(".", 1)[0]
        if self.lever.count(".") != 1 or (section not in SETTABLE_SECTIONS and self.lever not in SETTABLE_FIELDS):
            raise ValueError(
                f"lever {self.lever!r} cannot be set during a run: allowed are the numeric fields of "
                f"{', '.join(SETTABLE_SECTIONS)} and {', '.join(SETTABLE_FIELDS)}"
            )
        return self


def _kind_of(value: Any) -> str | None:
    """The ``kind`` of an intervention given as a table or an object (None if it has none)."""
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) else None


Intervention = Annotated[
    Union[  # noqa: UP007 - tagged members, one per kind
        Annotated[Offer, Tag("offer")], Annotated[Grants, Tag("grants")], Annotated[Training, Tag("training")],
        Annotated[Measurement, Tag("measurement")], Annotated[Seed, Tag("seed")],
        Annotated[FundingCut, Tag("funding_cut")], Annotated[SetLever, Tag("set")],
    ],
    Discriminator(_kind_of, custom_error_type="intervention_kind",
                  custom_error_message=f"kind must be one of {', '.join(KINDS)}"),
]
"""One intervention of any kind (the ``kind`` field says which)."""

BY_KIND: dict[str, type[_Intervention]] = {
    "offer": Offer, "grants": Grants, "training": Training, "measurement": Measurement,
    "seed": Seed, "funding_cut": FundingCut, "set": SetLever,
}


def kind_fields(kind: str) -> list[str]:
    """The fields allowed in an intervention of ``kind`` (for messages)."""
    model = BY_KIND.get(kind)
    return list(model.model_fields) if model else []


def describe(iv: Any) -> str:
    """Short label of an intervention: its own ``label``, else kind and target places."""
    if iv.label:
        return iv.label
    places = iv.places
    if isinstance(places, str):
        where = f"{places} places"
    elif isinstance(places, list):
        where = ", ".join(str(p) for p in places[:3]) + (f" +{len(places) - 3}" if len(places) > 3 else "")
    else:
        where = f"{places.rule}" + (f" {places.n}" if places.n else "")
    what = f"{iv.kind} {iv.lever}={iv.value:g}" if iv.kind == "set" else iv.kind
    return f"{what}: {where}"
