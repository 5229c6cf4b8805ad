"""The parameter schema: every model parameter once, as a pydantic field with unit, default and range.

The validated :class:`Scenario` object is what the model reads. Loading scenario files
(TOML, ``extends`` chains, dotted overrides, file checks, load-time cross-field
checks) lives in :mod:`sim.scenario`, which re-exports everything here; import from
there in user code.

Unknown keys, wrong types and out-of-range values raise :class:`ScenarioError`,
whose message names the file, the dotted field and the allowed range.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.dates import parse_year_month
from sim.interventions.schema import Intervention
from sim.schema_base import (  # noqa: F401 - re-exported: the schema's building blocks
    MAX_ERRORS_SHOWN,
    MAX_FILE_BYTES,
    MAX_NESTING,
    ScenarioError,
    _f,
    _Section,
    _strict_value,
    cut,
    short,
)

ELEMENTS: tuple[str, ...] = ("understand", "envision", "mobilise", "develop", "spread", "value")
"""The six elements of Mötesplats Social Innovation, in their usual order."""

SECTORS: tuple[str, ...] = ("public", "civil_society", "private", "academia")
FORMS: tuple[str, ...] = ("project", "alliance", "new_organisation", "internal_unit")

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "sweden-youth-employment"


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
    start: str | None = Field(
        None,
        description=(
            "Calendar month of model month 0, \"YYYY-MM\" from 1900-01 to 2200-12 (default none). When set, the "
            "tables get a date column (\"YYYY-MM\", start + floor(month)) and the summary the dates of its months."
        ),
    )

    @field_validator("start")
    @classmethod
    def _check_start(cls, start: str | None) -> str | None:
        if start is not None:
            parse_year_month(start)
        return start


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
    data: str | None = Field(
        None,
        description=(
            "Your own place data: a CSV file of municipal indicators, one row per municipality (only with source "
            "'sweden'; a relative path is read from the folder of the scenario file that names it). See "
            "docs/place-data.md."
        ),
    )
    code_column: str = Field(
        "code", max_length=200, description="Column of places.data with the 4-digit SCB municipality codes (text)."
    )
    columns: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            "What the columns of places.data set: keys severity, need, openness, target_size, each a table "
            "{ column = \"name\", from = [lo, hi], to = [a, b], clip = false } (target_size: column only, persons)."
        ),
    )
    missing: Literal["error", "default"] = Field(
        "error",
        description=(
            "A municipality without a row or value in places.data: 'error', or 'default' (keep the model's own "
            "drawn or derived value)."
        ),
    )

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, columns: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from sim.world.place_data import parse_columns

        parse_columns(columns)
        return columns

    @model_validator(mode="after")
    def _check_data(self) -> PlacesParams:
        if self.data is not None and not self.data.strip():
            raise ValueError("places.data is an empty string (allowed: the path of a CSV file, or no places.data)")
        if self.data is not None and self.source != "sweden":
            raise ValueError(
                f"places.data is set but places.source is {self.source!r}: own place data joins the Swedish "
                "municipalities by code (allowed: places.source = \"sweden\", or no places.data)"
            )
        if self.data is not None and not self.columns:
            raise ValueError("places.data is set but places.columns maps no column (allowed: at least one of "
                             "severity, need, openness, target_size, e.g. severity = { column = \"name\" })")
        if self.data is None and self.columns:
            raise ValueError("places.columns is set but places.data names no file (allowed: places.data = "
                             "\"file.csv\" with the columns)")
        return self


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
    peer_mixing: float = _f(
        0.0, 0.0, 1.0,
        "Weight m of the national peer group in the exposure x_i = (1 - m) * (share of ties running) + m * (share "
        "of eligible organisations running), e.g. municipalities learning from municipalities through SKR networks "
        "and conferences; 0 = ties only, 1 = Bass among the eligible pool [-].",
    )
    distance_scale_km: float = _f(150.0, 1.0, 10_000.0, "Distance decay of cross-place ties [km].")
    rewiring: float = _f(0.0, 0.0, 1.0, "Rewiring probability of ring-lattice ties ('small_world') [-].")
    initial_adopters: int = _f(3, 0, 1_000_000, "Organisations running the solution at step 0 (originators).")
    host_places: int = _f(
        0, 0, 1_000_000,
        "Only organisations in the host_places most populous places can run it: a regional service where one site "
        "serves several places (Barnahus: a centre per catchment of municipalities); 0 = every place [places].",
    )
    region_share: float = _f(
        1.0, 0.0, 1.0,
        "Share of regions (counties, the places' county) whose regional partner takes part: organisations in the "
        "other regions cannot run it (family centres need the region's maternal and child health care). One "
        "uniform per region from its own stream; a region takes part if its draw < region_share, so a larger "
        "share adds regions and never removes one (CRN). 1 = every region, no draw [-].",
    )
    place_share: float = _f(
        1.0, 0.0, 1.0,
        "Share of places (municipalities) that take it up at all: organisations in the other places cannot run it "
        "(a local service some municipalities never want: Fritidsbanken). One uniform per place from its own "
        "stream; a place takes part if its draw < place_share, so a larger share adds places and never removes "
        "one (CRN); the originators' place always takes part. 1 = every place, no draw [-].",
    )
    regional_bodies: bool = Field(
        False,
        description=(
            "One organisation per region (county, the places' county) is its regional body (county council, "
            "region): the second organisation of the region's most populous place (the seat in most counties), "
            "public, eligible and with at least the public mean mandate. Its site does not count as its place "
            "reached (places_reached counts local organisations: municipalities); it is counted in "
            "regional_bodies_adopted. No random draw (CRN hold). False = no regional bodies."
        ),
    )
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
            "Share of each sector's organisations relevant to the challenge (the eligible pool) [-], each in [0, 1], "
            "keys from public, civil_society, private, academia (a sector not given: 1); only eligible "
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

    @field_validator("sector_shares", "eligible_share")
    @classmethod
    def _check_sectors(cls, shares: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        bad = set(shares) - set(SECTORS)
        if bad:
            raise ValueError(f"unknown sector(s) {sorted(bad)[:5]}; allowed {list(SECTORS)}")
        if info.field_name == "sector_shares":  # relative weights, normalised when organisations are made
            if any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
                raise ValueError("shares must be >= 0 with a positive sum")
            return shares
        out = next((k for k, v in shares.items() if not 0.0 <= v <= 1.0), None)
        if out is not None:
            raise ValueError(f"entry {out} is {shares[out]!r}: every share must be in [0, 1]")
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
    criteria_tolerance: float = _f(
        0.1, 0.0, 1.0,
        "Largest deviation of every core component from the design for a site to meet all criteria (outputs "
        "sites_meeting_criteria, share_meeting_criteria; a measurement, no rule reads it) [-].",
    )
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
    deadweight: float = _f(
        0.0, 0.0, 1.0, "Share of beneficiaries who would have found work or study anyway (the counterfactual) [-]; "
        "it discounts economic value in value per krona. Default 0 (none assumed): set it from an effect study."
    )
    discount_rate: float = _f(
        0.035, 0.0, 0.5, "Real yearly discount rate of future value and spending [1/year]; default 3.5 % as the "
        "Swedish transport appraisal guidance ASEK recommends for public investments (Trafikverket, ASEK 7.0)."
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
    interventions: list[Intervention] = Field(
        default_factory=list, max_length=1000,
        description="What a strategy does over time ([[interventions]] tables; see docs/interventions.md).",
    )
    calibration: CalibrationParams = Field(default_factory=lambda: CalibrationParams())

    @model_validator(mode="after")
    def _interventions_in_time(self) -> Scenario:
        """Dates need ``run.start`` and may not fall before it; a ``set`` value must be in its field's range."""
        start = self.run.start
        for i, iv in enumerate(self.interventions):
            where = f"interventions[{i}] (kind {iv.kind})"
            for name in ("date", "end_date"):
                value = getattr(iv, name)
                if value is not None and start is None:
                    raise ValueError(f"{where}: field {name} needs run.start (or give month instead)")
            begin, end = iv.start_month(start), iv.stop_month(start)
            if begin < 0:
                raise ValueError(f"{where}: field date {iv.date} is before run.start {start}")
            if end <= begin:
                raise ValueError(f"{where}: it ends (month {end:g}) before it starts (month {begin:g})")
            if iv.kind == "set":
                section, field = iv.lever.split(".")
                model = type(getattr(self, section))
                info = model.model_fields.get(field)
                if info is None or info.annotation not in (float, int):
                    allowed = [k for k, f in model.model_fields.items() if f.annotation in (float, int)]
                    raise ValueError(f"{where}: field lever {iv.lever!r} is not a numeric field of [{section}] "
                                     f"(allowed: {', '.join(allowed)})")
                lo = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), -math.inf)
                hi = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), math.inf)
                if not lo <= iv.value <= hi or (info.annotation is int and iv.value != int(iv.value)):
                    raise ValueError(f"{where}: field value {iv.value!r} is outside the range of {iv.lever} "
                                     f"([{lo}, {hi}])")
        return self

    def to_toml_dict(self) -> dict[str, Any]:
        """The scenario as a plain dict (None values dropped), ready for TOML or JSON."""
        return _drop_none(self.model_dump(mode="json"))


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    return obj




class CalibrationParams(_Section):
    """What ``sim forecast`` fits when no ``--param`` is given: dotted numeric fields and their prior ranges.

    Read only by ``sim forecast`` (:mod:`sim.validation.forecast`); the model ignores it.
    """

    params: dict[str, list[float]] = Field(
        default_factory=dict,
        description=(
            "Parameters to fit and their uniform prior ranges, e.g. { \"organisations.q\" = [0.1, 0.9] }: each key a "
            "dotted numeric field of another section or an entry of a numeric table (\"value.site_cost_sek.project\"), each "
            "range [lo, hi] with lo < hi inside the field's allowed range."
        ),
    )
    population: int = _f(60, 10, 10_000, "Particles per ABC-SMC population [-].")
    generations: int = _f(4, 1, 50, "ABC-SMC populations (generations) run [-].")
    draws: int = _f(100, 10, 10_000, "Posterior-predictive simulations behind the forecast band [runs].")
    min_ess: float = _f(
        0.0, 0.0, 1.0,
        "The posterior is the last ABC-SMC population whose effective sample size is at least this share of the "
        "population (0: the last population): later populations that collapsed onto a few particles are not used [-].",
    )
    distance: Literal["rmse", "adaptive"] = Field(
        "rmse",
        description=(
            "ABC distance: 'rmse' (every figure weighted alike on the square-root scale) or 'adaptive' (each figure "
            "divided by the median absolute deviation of its simulations, refitted every generation: noisy figures "
            "weigh less; pyabc AdaptivePNormDistance)."
        ),
    )

    @field_validator("params")
    @classmethod
    def _check_params(cls, params: dict[str, list[float]]) -> dict[str, list[float]]:
        for key, rng in params.items():
            lo_allowed, hi_allowed = numeric_field_range(key)
            if len(rng) != 2 or not rng[0] < rng[1]:
                raise ValueError(f"entry {key!r}: a range is [lo, hi] with lo < hi; got {short(rng)}")
            if rng[0] < lo_allowed or rng[1] > hi_allowed:
                raise ValueError(
                    f"entry {key!r}: range {short(rng)} leaves the field's allowed range [{lo_allowed:g}, {hi_allowed:g}]"
                )
            if numeric_field_is_int(key) and not all(float(v).is_integer() for v in rng):
                raise ValueError(f"entry {key!r}: an integer field: lo and hi must be whole numbers; got {short(rng)}")
        return params


TABLE_ENTRY_RANGES: dict[str, tuple[float, float]] = {
    "organisations.sector_shares": (0.0, math.inf),
    "organisations.eligible_share": (0.0, 1.0),
    "value.site_cost_sek": (0.0, math.inf),
    "value.form_abandonment": (0.0, math.inf),
}
"""The allowed range of each entry of the numeric tables (their validators above), for keys such as
``value.site_cost_sek.project`` in ``--param``, ``[calibration] params`` and sweeps."""


def table_default(path: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The schema's default of the dict-valued field at ``path`` (``["value", "site_cost_sek"]``), else ``{}``.

    A copy: callers may change it. ``{}`` also for a path that is no field, or a field that is no table.
    """
    import copy

    model: Any = Scenario
    info = None
    for part in path:
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return {}
        info = fields[part]
        model = info.annotation
    if info is None or getattr(info.annotation, "__origin__", None) is not dict:
        return {}
    default = info.get_default(call_default_factory=True)
    return copy.deepcopy(default) if isinstance(default, dict) else {}


def table_entry_range(key: str) -> tuple[float, float] | None:
    """The allowed ``(lo, hi)`` of ``key`` as an entry of a numeric table (``value.site_cost_sek.project``).

    None if ``key`` does not name a table; :class:`ValueError` naming the allowed entries for one the table lacks.
    """
    table, _, entry = key.rpartition(".")
    if table not in TABLE_ENTRY_RANGES:
        return None
    entries = table_default(table.split("."))
    if entry not in entries:
        raise ValueError(f"entry {key!r}: {entry!r} is not a key of {table}; allowed: {', '.join(entries)}")
    return TABLE_ENTRY_RANGES[table]


def numeric_field_range(key: str) -> tuple[float, float]:
    """The allowed ``(lo, hi)`` of the dotted numeric scenario field ``key`` (``"organisations.q"``).

    Also of an entry of a numeric table (``"value.site_cost_sek.project"``, :data:`TABLE_ENTRY_RANGES`).
    :class:`ValueError` naming the key and what is allowed if it is not a numeric
    (float or int) field of a section; a bound the schema leaves open is +-inf.
    """
    parts = key.split(".")
    sections = [n for n, f in Scenario.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, _Section) and n != "calibration"]
    if len(parts) == 3 and (entry := table_entry_range(key)) is not None:
        return entry
    if len(parts) != 2 or parts[0] not in sections:
        raise ValueError(f"entry {key!r}: not a dotted field; allowed: section.field with section one of {sections}"
                         f" (or an entry of a table: {', '.join(f'{t}.KEY' for t in TABLE_ENTRY_RANGES)})")
    model = Scenario.model_fields[parts[0]].annotation
    info = model.model_fields.get(parts[1])  # type: ignore[union-attr]
    if info is None or info.annotation not in (float, int):
        numeric = [n for n, f in model.model_fields.items() if f.annotation in (float, int)]  # type: ignore[union-attr]
        raise ValueError(f"entry {key!r}: not a numeric field of [{parts[0]}]; allowed: {cut(', '.join(numeric), 300)}")
    lo = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), -math.inf)
    hi = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), math.inf)
    return float(lo), float(hi)


def numeric_field_is_int(key: str) -> bool:
    """Whether the dotted numeric field ``key`` (checked by :func:`numeric_field_range`) is an integer field."""
    numeric_field_range(key)
    if key.count(".") == 2:  # a table entry: every numeric table holds floats
        return False
    section, field = key.split(".")
    return Scenario.model_fields[section].annotation.model_fields[field].annotation is int  # type: ignore[union-attr]


Scenario.model_rebuild()  # resolve the forward reference to CalibrationParams (defined after Scenario)
