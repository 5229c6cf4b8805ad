"""Scenario files: the parameter schema, TOML loading, dotted overrides and errors.

Every model parameter lives here exactly once, as a pydantic field with its unit,
default and allowed range. Everything else in the package reads the validated
:class:`Scenario` object; nothing else parses parameters.

A scenario file is TOML whose tables mirror the sections below::

    [run]
    steps = 120

    [organisations]
    q = 0.3

Unknown keys, wrong types and out-of-range values raise :class:`ScenarioError`,
whose message names the file, the dotted field and the allowed range.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

ELEMENTS: tuple[str, ...] = ("understand", "envision", "mobilise", "develop", "spread", "value")
"""The six elements of Mötesplats Social Innovation, in their usual order."""

SECTORS: tuple[str, ...] = ("public", "civil_society", "private", "academia")
FORMS: tuple[str, ...] = ("project", "alliance", "new_organisation", "internal_unit")

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "sweden-youth-employment"


class ScenarioError(ValueError):
    """A scenario could not be loaded: the message names file, field and allowed range."""


MAX_FILE_BYTES = 32 * 2**20
"""Largest scenario or experiment file read [bytes] (32 MiB; a scenario with a million explicit thresholds fits)."""

MAX_NESTING = 32
"""Deepest nesting of tables and arrays accepted in a file or an override [levels]."""

MAX_ERRORS_SHOWN = 20
"""At most this many field errors are listed in one message; the rest are counted."""


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters (messages stay short whatever the input)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still reported
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text):,} characters)"


def cut(text: str, limit: int = 120) -> str:
    """``text`` cut to ``limit`` characters (with the full length said) for messages."""
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text):,} characters)"


def _strict_value(value: Any, ann: Any, nonneg: bool, where: str = "") -> Any:
    """Check ``value`` against annotation ``ann`` without coercion; return it (NumPy scalars made plain).

    Strings never become numbers or booleans, booleans never numbers; integers may
    stand for floats. NaN and infinities are refused in every float, and -0.0 where
    the field cannot be negative (``nonneg``). Containers are checked element by
    element (``where`` names the entry in the message). Anything else is left to
    pydantic, whose own error then follows.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    origin = get_origin(ann)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in get_args(ann):
            return value
        inner = [a for a in get_args(ann) if a is not type(None)]
        return _strict_value(value, inner[0], nonneg, where) if len(inner) == 1 else value
    if origin is dict and isinstance(value, dict):
        sub = get_args(ann)[1]
        return {k: _strict_value(v, sub, True, f"{where}{k}.") for k, v in value.items()}
    if origin is list and isinstance(value, list):
        sub = get_args(ann)[0]
        return [_strict_value(v, sub, True, f"{where}[{i}].") for i, v in enumerate(value)]
    at = f"entry {where[:-1]}: " if where else ""
    if ann is float or ann is int:
        kind = "a valid number" if ann is float else "a valid integer"
        if isinstance(value, bool):
            raise ValueError(f"{at}Input should be {kind}, not a boolean (true/false)")
        if isinstance(value, (str, bytes)):
            raise ValueError(f"{at}Input should be {kind}, not a string (write 0.5, not \"0.5\")")
        if isinstance(value, float):
            if math.isnan(value):
                raise ValueError(f"{at}NaN is not allowed")
            if math.isinf(value):
                raise ValueError(f"{at}infinity is not allowed")
            if value == 0.0 and math.copysign(1.0, value) < 0 and nonneg:
                raise ValueError(f"{at}-0.0 is not allowed here (write 0.0)")
    elif ann is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{at}Input should be true or false (a TOML boolean), not {type(value).__name__}")
    elif ann is str:
        if not isinstance(value, str):
            raise ValueError(f"{at}Input should be a string (in quotes), not {type(value).__name__}")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_types(cls, value: Any, info: ValidationInfo) -> Any:
        """No silent coercion: see :func:`_strict_value`."""
        f = cls.model_fields.get(info.field_name or "")
        if f is None or isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            return value
        lo = next((m.ge for m in f.metadata if getattr(m, "ge", None) is not None), None)
        return _strict_value(value, f.annotation, lo is not None and lo >= 0)


def _f(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "", **kw: Any) -> Any:
    """A documented field with an inclusive range."""
    return Field(default, ge=lo, le=hi, description=doc, **kw)


class RunParams(_Section):
    """How long and how finely the model runs."""

    steps: int = _f(120, 1, 100_000, "Number of steps to run [steps].")
    dt: float = _f(1.0, 0.001, 12.0, "Length of one step [months]. Rates are per month and converted per step.")
    rate_mode: Literal["probability", "rate"] = Field(
        "probability",
        description=(
            "How a monthly figure r becomes a per-step probability: 'probability' uses "
            "1-(1-r)**dt (the spec's rule; r is a monthly probability), 'rate' uses 1-exp(-r*dt) "
            "(r is a continuous hazard per month; used to compare with continuous-time closed forms)."
        ),
    )
    seed: int = _f(42, 0, 2**63 - 1, "Default random seed (the command line may override it).")


class PlacesParams(_Section):
    """Where the innovation can spread: municipalities or districts."""

    source: Literal["sweden", "synthetic"] = Field(
        "synthetic", description="'sweden' loads the 290 municipalities from data/; 'synthetic' generates places."
    )
    n: int = _f(12, 1, 100_000, "Number of synthetic places [places] (ignored for 'sweden').")
    population_mean: float = _f(20_000.0, 1.0, 1e8, "Mean population of a synthetic place [persons] (log-normal).")
    population_sigma: float = _f(0.8, 0.0, 5.0, "Log-normal sigma of synthetic place populations [-].")
    target_share: float = _f(0.11, 0.0, 1.0, "Share of the population in the target group [-].")
    target_scale: float = _f(1.0, 1e-6, 10.0, "Simulated members per target-group person [-] (1 = one each).")
    need_mean: float = _f(0.5, 0.0, 1.0, "Mean of each component of the local need profile u [-].")
    need_spread: float = _f(0.25, 0.0, 1.0, "Standard deviation of need components between places [-].")
    severity_mean: float = _f(0.5, 0.0, 1.0, "Mean challenge severity of a place [-] (Beta-distributed).")
    severity_concentration: float = _f(8.0, 0.1, 1000.0, "Beta concentration of severity between places [-].")
    openness_mean: float = _f(0.4, 0.0, 1.0, "Mean norm openness of a place [-] (Beta-distributed).")
    openness_concentration: float = _f(10.0, 0.1, 1000.0, "Beta concentration of norm openness [-].")


class OrganisationParams(_Section):
    """Organisations (Mesa agents) and the rule by which they adopt (scaling out)."""

    base_per_place: int = _f(4, 0, 10_000, "Organisations in every place regardless of size [orgs].")
    per_10k_population: float = _f(1.0, 0.0, 1000.0, "Further organisations per 10,000 inhabitants [orgs].")
    sector_shares: dict[str, float] = Field(
        default_factory=lambda: {"public": 0.3, "civil_society": 0.4, "private": 0.2, "academia": 0.1},
        description="Share of organisations per sector; keys from public, civil_society, private, academia.",
    )
    p: float = _f(0.0005, 0.0, 1.0, "Own propensity to adopt p_i, monthly [1/month] (Bass innovation).")
    q: float = _f(0.3, 0.0, 1.0, "Imitation coefficient q, monthly [1/month] (Bass imitation).")
    influence: Literal["proportional", "threshold"] = Field(
        "proportional",
        description=(
            "Social term of the adoption hazard: 'proportional' is q*exposure*[exposure>=phi] (reduces to Bass "
            "at phi=0), 'threshold' is q*[exposure>=phi] (Granovetter/Watts threshold model)."
        ),
    )
    visibility_pull: float = _f(0.002, 0.0, 1.0, "Extra monthly adoption hazard at full visibility of value [1/month].")
    threshold_mean: float = _f(0.05, 0.0, 1.0, "Mean adoption threshold phi_i [share of ties].")
    threshold_sd: float = _f(0.05, 0.0, 1.0, "Standard deviation of phi_i (normal, clipped to [0, 1]) [-].")
    thresholds: list[float] | None = Field(
        None, description="Explicit thresholds, one per organisation, each in [0, 1] (overrides mean/sd)."
    )
    network: Literal["places", "full", "random", "ring", "small_world"] = Field(
        "places",
        description=(
            "Ties between organisations: 'places' (most ties within the place, some across, nearer places "
            "likelier), 'full' (everyone sees everyone), 'random' (Erdos-Renyi), 'ring' (ring lattice), "
            "'small_world' (ring lattice with rewiring)."
        ),
    )
    degree: float = _f(6.0, 0.0, 10_000.0, "Mean number of ties per organisation [ties].")
    cross_place_share: float = _f(0.25, 0.0, 1.0, "Share of ties that go to other places ('places' network) [-].")
    distance_scale_km: float = _f(150.0, 1.0, 10_000.0, "Distance decay of cross-place ties [km].")
    rewiring: float = _f(0.0, 0.0, 1.0, "Rewiring probability of ring-lattice ties ('small_world') [-].")
    initial_adopters: int = _f(3, 0, 1_000_000, "Organisations running the solution at step 0 (originators).")
    initial_place: str | None = Field(
        None, max_length=200, description="Name of the place of the originators (default: random)."
    )
    seeding: Literal["random", "neighbourhood"] = Field(
        "random",
        description=(
            "How originators are picked: 'random' (uniformly in their place, then anywhere) or 'neighbourhood' "
            "(a random focal organisation in that place plus its network neighbours, breadth first: a seed "
            "cluster as in Centola & Macy 2007, needed for threshold-2 contagion to start)."
        ),
    )
    abandonment: float = _f(0.004, 0.0, 1.0, "Base monthly abandonment probability of a running site [1/month].")
    abandonment_fit_effect: float = _f(3.0, 0.0, 100.0, "Abandonment multiplier slope in poor fit (1-L) [-].")
    abandonment_effect_effect: float = _f(2.0, 0.0, 100.0, "Abandonment multiplier slope in low effectiveness [-].")
    abandonment_unfunded: float = _f(3.0, 0.0, 100.0, "Abandonment multiplier for sites with no funding [-].")
    readoption: bool = Field(False, description="Whether discontinued or abandoned organisations may adopt again.")
    eligible_share: dict[str, float] = Field(
        default_factory=lambda: {"public": 1.0, "civil_society": 1.0, "private": 1.0, "academia": 1.0},
        description=(
            "Share of each sector's organisations relevant to the challenge (the eligible pool) [-]; only eligible "
            "organisations can adopt. Each preset states its pool and why (e.g. youth employment: the municipality's "
            "labour-market unit, some associations, few firms)."
        ),
    )
    public_gate: bool = Field(
        False,
        description=(
            "A public solution: other sectors adopt in a place only once a public organisation there (the "
            "municipality: an agreement, a budget line) runs it; the municipality's decision opens the place."
        ),
    )

    @field_validator("sector_shares")
    @classmethod
    def _check_shares(cls, shares: dict[str, float]) -> dict[str, float]:
        bad = set(shares) - set(SECTORS)
        if bad:
            raise ValueError(f"unknown sector(s) {sorted(bad)[:5]}; allowed {list(SECTORS)}")
        if any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
            raise ValueError("shares must be >= 0 with a positive sum")
        return shares

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, th: list[float] | None) -> list[float] | None:
        if th is not None:
            bad = next((i for i, t in enumerate(th) if not 0.0 <= t <= 1.0), None)
            if bad is not None:
                raise ValueError(f"every threshold must be in [0, 1]; entry [{bad}] is {th[bad]!r}")
        return th


class SolutionParams(_Section):
    """The social innovation: core purpose and adaptable periphery."""

    k_core: int = _f(3, 1, 100, "Number of core components [-].")
    k_periphery: int = _f(5, 1, 100, "Number of peripheral (adaptable) components [-].")
    effect_size: float = _f(0.08, 0.0, 1.0, "Effect size e: monthly probability a participant benefits at full fidelity and fit.")
    effect_max: float = _f(0.15, 0.0, 1.0, "Highest effect size develop-and-test can reach [-].")
    fidelity_threshold: float = _f(0.7, 0.0, 1.0, "Centre of the logistic g(F) [-].")
    fidelity_steepness: float = _f(15.0, 0.1, 200.0, "Steepness of the logistic g(F) [-].")
    fit_independent_share: float = _f(0.5, 0.0, 1.0, "Share a of effect that does not depend on local fit [-].")
    design_spread: float = _f(0.25, 0.0, 1.0, "How far the original periphery sits from the mean local need [-].")


class LeverParams(_Section):
    """The levers a strategist pulls; each in [0, 1] unless stated."""

    involvement: float = _f(0.5, 0.0, 1.0, "Involvement of affected people in understanding needs [-].")
    vision_clarity: float = _f(0.5, 0.0, 1.0, "Initial vision clarity gamma: reduces core drift by (1-gamma) [-].")
    norm_work: float = _f(0.01, 0.0, 1.0, "Monthly gain in norm openness of a place where some organisation envisions [1/month].")
    brokering: float = _f(0.05, 0.0, 1.0, "Monthly probability a mobilising organisation gains a cross-sector tie.")
    project_length_min: float = _f(24.0, 1.0, 240.0, "Shortest project grant D [months].")
    project_length_max: float = _f(36.0, 1.0, 240.0, "Longest project grant D [months].")
    project_share: float = _f(0.85, 0.0, 1.0, "Share of new sites funded as time-limited projects [-].")
    institutionalisation_support: float = _f(0.3, 0.0, 1.0, "Support to make pilots permanent [-].")
    guardrails: float = _f(0.4, 0.0, 1.0, "Fidelity support (training, manuals, licensing) [-].")
    guardrail_spread_cost: float = _f(0.5, 0.0, 1.0, "How much full guardrails slow own-initiative adoption [-].")
    adaptation_rate: float = _f(0.08, 0.0, 1.0, "Monthly rate the variant moves toward estimated local need [1/month].")
    core_drift: float = _f(0.02, 0.0, 1.0, "Random core drift per month (sd per component) before gamma and guardrails.")
    measurement_effort: float = _f(0.3, 0.0, 1.0, "Share of realised value measured and made visible [-].")
    scaling_up_threshold: float = _f(0.5, 0.0, 1.0, "Share of places reached that triggers scaling up [-].")
    evidence_threshold: float = _f(0.8, 0.0, 1.0, "Visibility signal that triggers scaling up [-].")
    advocacy: float = _f(0.0, 0.0, 1.0, "Monthly probability advocacy triggers scaling up anyway [1/month].")

    @model_validator(mode="after")
    def _check_lengths(self) -> LeverParams:
        if self.project_length_min > self.project_length_max:
            raise ValueError(
                f"levers.project_length_min ({self.project_length_min:g}) must be <= levers.project_length_max "
                f"({self.project_length_max:g})"
            )
        return self


class ProcessParams(_Section):
    """The six elements as a state machine: rates and the base transition matrix."""

    transitions: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "understand": {"envision": 0.25, "mobilise": 0.05},
            "envision": {"mobilise": 0.25, "understand": 0.05},
            "mobilise": {"develop": 0.25, "envision": 0.03},
            "develop": {"spread": 0.15, "understand": 0.05, "mobilise": 0.03},
            "spread": {"value": 0.3, "develop": 0.05, "mobilise": 0.03},
            "value": {"develop": 0.1, "spread": 0.1, "understand": 0.03},
        },
        description="Base monthly probabilities of moving from one element (row) to another (column).",
    )
    poor_fit_to_understand: float = _f(3.0, 0.0, 100.0, "Multiplier slope of develop->understand in (1-L) [-].")
    low_value_to_develop: float = _f(3.0, 0.0, 100.0, "Multiplier slope of value->develop in (1-E/e) [-].")
    shortfall_to_mobilise: float = _f(3.0, 0.0, 100.0, "Multiplier slope of any->mobilise in resource shortfall [-].")
    understanding_rate: float = _f(0.1, 0.0, 1.0, "Monthly gain in understanding while understanding [1/month].")
    estimate_noise: float = _f(0.3, 0.0, 2.0, "Sd of the need estimate error at zero understanding [-].")
    envision_rate: float = _f(0.05, 0.0, 1.0, "Monthly gain in vision clarity while envisioning [1/month].")
    mobilise_rate: float = _f(0.1, 0.0, 1.0, "Monthly gain in resources while mobilising [1/month].")
    resource_decay: float = _f(0.02, 0.0, 1.0, "Monthly decay of resources of running sites [1/month].")
    alliance_rate: float = _f(0.1, 0.0, 1.0, "Monthly probability a mobilising site allies with a running partner.")
    experiment_rate: float = _f(0.05, 0.0, 1.0, "Monthly probability a developing site improves its effect size.")
    learning_rate: float = _f(0.05, 0.0, 1.0, "Monthly rate effect size moves toward the best partner's [1/month].")
    spread_push: float = _f(0.02, 0.0, 1.0, "Extra adoption hazard per share of ties in the spread element.")

    @field_validator("transitions")
    @classmethod
    def _check_transitions(cls, tr: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for src, row in tr.items():
            if src not in ELEMENTS or any(dst not in ELEMENTS for dst in row):
                unknown = [x for x in [src, *row] if x not in ELEMENTS][:3]
                raise ValueError(f"element names must be among {list(ELEMENTS)}; got {unknown}")
            if any(v < 0 for v in row.values()) or sum(v for d, v in row.items() if d != src) > 1.0:
                raise ValueError(f"row {src}: probabilities must be >= 0 and sum to at most 1")
        return tr


class FundingParams(_Section):
    """Pilot end: institutionalisation (logistic) or pilot death."""

    intercept: float = _f(-3.5, -20.0, 20.0, "Logit intercept of becoming permanent at project end [-].")
    evidence_weight: float = _f(2.0, -20.0, 20.0, "Logit weight of the place's visibility of value [-].")
    mandate_weight: float = _f(1.5, -20.0, 20.0, "Logit weight of the highest mandate among self and partners [-].")
    fit_weight: float = _f(1.0, -20.0, 20.0, "Logit weight of local fit [-].")
    alliance_weight: float = _f(0.7, -20.0, 20.0, "Logit weight of alliance membership [-].")
    champion_weight: float = _f(0.8, -20.0, 20.0, "Logit weight of having a champion [-].")
    support_weight: float = _f(2.0, -20.0, 20.0, "Logit weight of the institutionalisation-support lever [-].")
    cost_weight: float = _f(1.0, -20.0, 20.0, "Logit weight (subtracted) of running cost relative to budget [-].")
    renewal: float = _f(
        0.3, 0.0, 1.0, "Probability a site gets a new project grant at project end [-] (renewed sites decide again later)."
    )
    continue_unfunded: float = _f(
        0.0, 0.0, 1.0,
        "Probability a site neither renewed nor made permanent carries on unfunded (volunteers, spare budget) "
        "instead of stopping at project end [-]; such sites abandon faster (organisations.abandonment_unfunded).",
    )
    champion_share: float = _f(0.3, 0.0, 1.0, "Share of adopting organisations with a champion [-].")


class PopulationParams(_Section):
    """Target-group members: vectorised arrays with a sparse social network."""

    degree: int = _f(10, 0, 1000, "Ties per member (who they hear from) [ties].")
    within_place: float = _f(0.9, 0.0, 1.0, "Share of a member's ties inside their own place [-].")
    outreach: float = _f(0.01, 0.0, 1.0, "Monthly probability per running site's outreach that a member becomes aware.")
    word_of_mouth: float = _f(0.1, 0.0, 1.0, "Monthly awareness hazard at all ties active [1/month].")
    participation: float = _f(0.08, 0.0, 1.0, "Monthly probability an aware member with full need and fit joins.")
    site_capacity: float = _f(
        60.0, 0.0, 1e7,
        "Participants a site of average resources can serve at a time [persons]; a site's capacity scales with "
        "its resources (knowledge, labour, money) and a place's service is the sum over its running sites.",
    )
    dropout: float = _f(0.02, 0.0, 1.0, "Monthly dropout probability at perfect fit [1/month].")
    dropout_fit_effect: float = _f(4.0, 0.0, 100.0, "Dropout multiplier slope in poor fit (1-L) [-].")
    need_concentration: float = _f(5.0, 0.1, 1000.0, "Beta concentration of member need around place severity [-].")
    turnover: float = _f(
        0.0, 0.0, 1.0,
        "Monthly share of members who leave the target group (age out) and are replaced by unaware newcomers "
        "with fresh need [1/month]; 0 = closed population, 16-24-year-olds: 1/108.",
    )


class ValueParams(_Section):
    """Create value: the three accounts, measurement and its cost."""

    social_per_beneficiary: float = _f(1.0, 0.0, 1e9, "Social value per new beneficiary [persons].")
    economic_per_beneficiary_sek: float = _f(150_000.0, 0.0, 1e9, "Avoided public cost per new beneficiary [SEK].")
    environmental_per_beneficiary: float = _f(0.0, 0.0, 1e9, "Environmental value per new beneficiary [kg CO2e].")
    site_cost_sek: dict[str, float] = Field(
        default_factory=lambda: {
            "project": 60_000.0, "alliance": 45_000.0, "new_organisation": 70_000.0, "internal_unit": 40_000.0,
        },
        description="Running cost of one site per month by organisational form [SEK/month].",
    )
    form_abandonment: dict[str, float] = Field(
        default_factory=lambda: {"project": 1.5, "alliance": 0.7, "new_organisation": 1.0, "internal_unit": 0.6},
        description="Abandonment multiplier by organisational form [-].",
    )
    measurement_cost_sek: float = _f(10_000.0, 0.0, 1e9, "Monthly cost of full measurement effort per site [SEK/month].")
    budget_sek: float = _f(80_000.0, 1.0, 1e12, "Typical monthly budget a site's cost is compared with [SEK/month].")
    visibility_scale: float = _f(2_000.0, 1e-9, 1e12, "Visible beneficiaries giving visibility signal 1-1/e [persons].")
    value_boost: float = _f(1.0, 0.0, 10.0, "Extra measurement where a site is in the value element [-].")
    evidence_half_life: float = _f(
        24.0, 0.1, 1e6,
        "Half-life of evidence: visible value older than this counts half in the visibility signal [months] "
        "(evidence ages, so the signal follows recent measured value rather than saturating).",
    )
    place_visibility_floor: float = _f(
        5.0, 1e-9, 1e12, "Smallest visibility scale of a place [persons] (a place's scale is its share of the national one)."
    )

    @field_validator("site_cost_sek", "form_abandonment")
    @classmethod
    def _check_forms(cls, d: dict[str, float]) -> dict[str, float]:
        if set(d) != set(FORMS) or any(v < 0 for v in d.values()):
            raise ValueError(f"needs exactly the keys {list(FORMS)}, each >= 0")
        return d


class ScalingUpParams(_Section):
    """Scaling up: a mandate holder turns practice into policy."""

    enabled: bool = Field(True, description="Whether a mandate holder may scale the solution up.")
    refusal_need: float = _f(0.3, 0.0, 1.0, "Places whose severity is below this refuse the policy [-].")
    threshold_cut: float = _f(0.5, 0.0, 1.0, "Share by which policy lowers adoption thresholds [-].")
    p_boost: float = _f(0.002, 0.0, 1.0, "Extra monthly adoption hazard for funded new sites after policy [1/month].")


class Scenario(_Section):
    """A complete, validated scenario."""

    name: str = Field("scenario", max_length=200, description="Short name of the scenario (at most 200 characters).")
    description: str = Field(
        "", max_length=20_000, description="What question the scenario answers (at most 20,000 characters)."
    )
    run: RunParams = Field(default_factory=RunParams)
    places: PlacesParams = Field(default_factory=PlacesParams)
    organisations: OrganisationParams = Field(default_factory=OrganisationParams)
    solution: SolutionParams = Field(default_factory=SolutionParams)
    levers: LeverParams = Field(default_factory=LeverParams)
    process: ProcessParams = Field(default_factory=ProcessParams)
    funding: FundingParams = Field(default_factory=FundingParams)
    population: PopulationParams = Field(default_factory=PopulationParams)
    value: ValueParams = Field(default_factory=ValueParams)
    scaling_up: ScalingUpParams = Field(default_factory=ScalingUpParams)

    def to_toml_dict(self) -> dict[str, Any]:
        """The scenario as a plain dict (None values dropped), ready for TOML or JSON."""
        return _drop_none(self.model_dump(mode="json"))


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    return obj


# --------------------------------------------------------------------------- loading


def resolve_scenario_path(name_or_path: str | Path | None) -> Path:
    """Find a scenario file: a path, or the name of a preset in ``scenarios/``."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    p = Path(name_or_path)
    try:
        if p.suffix == ".toml" and (p.exists() or p.is_symlink()):
            return p
        for cand in (SCENARIO_DIR / f"{p.name}", SCENARIO_DIR / f"{p.name}.toml"):
            if cand.suffix == ".toml" and cand.exists():
                return cand
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        pass
    raise ScenarioError(f"{cut(str(name_or_path))}: no such scenario file or preset "
                        f"(presets: {', '.join(list_presets())})")


def _too_deep(obj: Any, limit: int = MAX_NESTING) -> bool:
    """Whether tables/arrays in ``obj`` nest more than ``limit`` levels (checked without recursion)."""
    stack = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def parse_toml_text(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; :class:`ScenarioError` naming ``source`` if it is invalid or nested too deeply."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{source}: not valid TOML: {cut(str(err), 200)}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested more than {MAX_NESTING} levels deep (tables or arrays)") from None
    if _too_deep(data):
        raise ScenarioError(f"{source}: nested more than {MAX_NESTING} levels deep (tables or arrays)")
    return data


def read_toml_file(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """Read and parse a TOML file safely; :class:`ScenarioError` naming the file otherwise.

    Refused before reading: directories, FIFOs, devices and sockets (also behind a
    symlink: ``/dev/zero`` is never read), files over :data:`MAX_FILE_BYTES`. Then:
    text that is not UTF-8 (a UTF-8 byte-order mark is dropped), invalid TOML,
    nesting deeper than :data:`MAX_NESTING`.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {what} file") from None
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ScenarioError(f"{path}: cannot open the {what} file ({reason})") from None
    st = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(st.st_mode):
        problem = f"{path}: is a directory, not a {what} file"
    elif not stat.S_ISREG(st.st_mode):
        problem = f"{path}: not a regular file (a FIFO, device or socket); a {what} file is a TOML text file"
    elif st.st_size > MAX_FILE_BYTES:
        problem = f"{path}: {st.st_size:,} bytes is too large for a {what} file (at most {MAX_FILE_BYTES:,})"
    if problem:
        os.close(fd)
        raise ScenarioError(problem)
    with os.fdopen(fd, "rb") as fh:
        try:
            raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise ScenarioError(f"{path}: cannot read the {what} file ({err.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: too large for a {what} file (at most {MAX_FILE_BYTES:,} bytes)")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) >= 2 and raw[1:2] == b"\x00" and raw[:1] != b"\x00"):
        raise ScenarioError(f"{path}: looks like UTF-16 text; save the {what} file as UTF-8")
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); save the {what} file as UTF-8"
        ) from None
    return parse_toml_text(text, str(path))


def list_presets() -> list[str]:
    """Names of the built-in scenario presets."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.sub=value`` (the value as a TOML value, else as a string)."""
    if "=" not in text:
        raise ScenarioError(f"--set {short(text)}: expected dotted.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError(f"--set {short(text)}: expected dotted.key=value (an empty key part)")
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"--set {short(key)}: value too long")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ScenarioError(f"--set {short(key)}: value nested more than {MAX_NESTING} levels deep") from None
    if _too_deep(value):
        raise ScenarioError(f"--set {short(key)}: value nested more than {MAX_NESTING} levels deep")
    return key, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted overrides (``{"organisations.q": 0.4}``) set."""
    import copy

    out = copy.deepcopy(data)
    if not overrides:
        return out
    items = [parse_override(o) for o in overrides] if isinstance(overrides, list) else list(overrides.items())
    for key, value in items:
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {short(key)}: {short(part)} is a value, not a table")
            node = nxt
        node[parts[-1]] = value
    return out


def _format_errors(source: str, err: ValidationError) -> str:
    """One short line per field error (at most :data:`MAX_ERRORS_SHOWN`); inputs are cut, never pasted whole."""
    errors = err.errors()
    lines = [f"{source}: invalid scenario"]
    for e in errors[:MAX_ERRORS_SHOWN]:
        field = ".".join(str(x) for x in e["loc"]) or "(scenario)"
        kind = e["type"]
        if kind == "extra_forbidden":
            known = _known_keys(e["loc"][:-1])
            msg = "unknown key" + (f" (allowed keys: {', '.join(known)})" if known else "")
        else:
            text = str(e["msg"]).removeprefix("Value error, ")
            shown = e.get("input")
            msg = text if isinstance(shown, dict) else f"{text}; got {short(shown)}"
        rng = _allowed_range(e["loc"])
        lines.append(f"  field {cut(field)}: {msg}"
                     + (f" (allowed range {rng})" if rng else ""))
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more errors")
    return "\n".join(lines)


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the section at ``loc`` (the top level for an empty ``loc``)."""
    model: Any = Scenario
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = fields[part].annotation
    return list(getattr(model, "model_fields", {}) or [])


def _allowed_range(loc: tuple[Any, ...]) -> str | None:
    """Look up the documented range of a field from the schema."""
    model: Any = Scenario
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    if info is None:
        return None
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is None and hi is None:
        return None
    return f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario dict; raise :class:`ScenarioError` naming ``source``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(source, err)) from None


def load_scenario(
    name_or_path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    check_world: bool = True,
    force_size: bool | None = None,
) -> Scenario:
    """Load a scenario file (or preset name), apply dotted overrides and validate.

    With ``check_world`` (the default) the checks that need the places are made too
    (explicit thresholds per organisation, the originators' place, the memory a run
    needs; :func:`sim.preflight.check_scenario`), naming the file. ``force_size``
    skips only the memory check (default: the ``SIM_FORCE_SIZE`` environment variable).
    """
    path = resolve_scenario_path(name_or_path)
    data = read_toml_file(path)
    data.setdefault("name", path.stem[:200])
    try:
        merged = apply_overrides(data, overrides)
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None
    scenario = scenario_from_dict(merged, source=str(path))
    if check_world:
        from sim.preflight import check_scenario

        check_scenario(scenario, str(path), force_size=force_size)
    return scenario


def dump_toml(data: dict[str, Any]) -> str:
    """Write a scenario dict as TOML (enough for the types the schema uses)."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {val(x)}' for k, x in v.items()) + " }"
        raise TypeError(type(v))

    top = [f"{k} = {val(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [
        f"\n[{k}]\n" + "\n".join(f"{kk} = {val(vv)}" for kk, vv in v.items())
        for k, v in data.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def schema_markdown() -> str:
    """The parameter reference (``docs/scenarios.md``), generated from the schema itself."""
    out = [
        "# Scenario files: every parameter",
        "",
        "Generated from `sim/scenario.py` by `python -m sim.scenario > docs/scenarios.md`; a test keeps it current.",
        "",
        "A scenario is a TOML file whose tables are the sections below. Anything left out takes its default.",
        "Unknown keys, wrong types and values outside the range are errors (exit code 2) naming the file,",
        "the field and the allowed range. Types are strict: a string is never read as a number or a boolean",
        "(`q = \"0.5\"` is an error), a boolean never as a number (`q = true`) and a number never as a boolean",
        "(`enabled = 1`); an integer may stand for a float and an integral float (`3.0`) for an integer. NaN and",
        "infinities are refused in every field, tables and lists included, and `-0.0` where a field cannot be",
        "negative. Checks across fields (explicit `thresholds` one per organisation, `initial_place` a place name,",
        "the memory a run needs) are made when the file is loaded too, naming it; see `docs/robustness.md`.",
        "Any field can be overridden on the command line with",
        "`--set section.field=value` (the value is read as TOML: `0.4`, `true`, `\"ring\"`, `[0.1, 0.2]`).",
        "",
        "```toml",
        "[run]",
        "steps = 60",
        "",
        "[organisations]",
        "q = 0.4",
        "network = \"small_world\"",
        "",
        "[levers]",
        "guardrails = 0.8",
        "```",
        "",
        "```",
        "sim run my.toml --set levers.adaptation_rate=0.2 --set run.dt=0.5",
        "```",
        "",
    ]
    for section, info in Scenario.model_fields.items():
        sub = info.annotation
        fields = getattr(sub, "model_fields", None)
        if not fields:
            out += [f"## `{section}`", "", f"{info.description} Default `{info.default!r}`.", ""]
            continue
        out += [f"## `[{section}]`", "", (sub.__doc__ or "").strip().splitlines()[0], ""]
        out += ["| field | default | allowed | meaning (unit) |", "|---|---|---|---|"]
        for name, f in fields.items():
            default = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
            rng = _allowed_range((section, name))
            ann = str(f.annotation).replace("typing.", "")
            allowed = rng or (ann.replace("Literal", "one of ") if "Literal" in ann else ann)
            allowed = allowed.replace("|", "\\|")
            dflt = repr(default).replace("|", "\\|")
            if len(dflt) > 60:
                dflt = dflt[:57] + "..."
            out.append(f"| `{name}` | `{dflt}` | {allowed} | {f.description} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(schema_markdown())
