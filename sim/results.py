"""Collected results: the per-step model table, and per-organisation and per-place tables.

Model-level columns (one row per step, step 0 is the initial state):

==============================  ============================================================
``step``, ``month``             step number; elapsed time [months]
``date``                        only with ``run.start``: calendar month ``"YYYY-MM"`` of ``month`` (start + floor(month))
``orgs_adopted``                organisations that have ever adopted (cumulative)
``sites_running``               organisations running the solution now
``sites_project``               ... of which on a time-limited project grant
``sites_permanent``             ... of which on ordinary budget
``sites_discontinued``          organisations whose pilot ended without a permanent form
``sites_abandoned``             organisations that abandoned a running site
``places_reached``              places where some organisation has ever run it
``places_running``              places with a running site now
``places_preparing``            places with a running local site none of whose organisations has yet run it in
                                *develop and test* or a later element (all still understanding, envisioning or
                                mobilising: planning it)
``places_served``               places whose catchment (labour-market region, :mod:`sim.world.regions`) has a
                                running site now (a regional service serves its region; synthetic places: own place)
``regions_reached``             counties (``places.county``) where some organisation has ever run it
``regional_bodies_adopted``     regional bodies (county councils, ``organisations.regional_bodies``) that have ever
                                adopted (0 without them); their sites do not count in ``places_reached``
``people_aware``                members who know of the solution (aware or any later state)
``people_participating``        members taking part now
``people_benefiting``           members who have benefited (cumulative unless ``population.turnover`` renews members)
``people_dropped_out``          members who dropped out (likewise)
``people_unaware``              members who do not know of it
``people_reached``              members who have ever taken part (participating, benefiting or dropped out)
``persons_reached``             ``people_reached`` in real persons: ``people_reached / places.target_scale`` [persons]
``share_benefiting``            ``people_benefiting / (people_benefiting + people_dropped_out)``: of those who
                                finished, the share who benefited (e.g. kept their housing; NaN if none)
``mean_fidelity``               mean core fidelity F of running sites (NaN if none)
``sites_meeting_criteria``      running sites whose every core component is within ``solution.criteria_tolerance``
                                of the design (a fidelity review's "meets all criteria")
``share_meeting_criteria``      ``sites_meeting_criteria / sites_running`` (NaN if none)
``mean_fit``                    mean local fit L of running sites (NaN if none)
``mean_effectiveness``          mean effectiveness E of running sites (0 if none)
``value_social``                cumulative social value [persons]
``value_economic``              cumulative avoided cost [SEK]
``value_environmental``         cumulative environmental value [kg CO2e]
``cost``                        cumulative running and measurement cost [SEK]
``net_economic``                ``value_economic - cost`` [SEK]
``economic_value_net_sek``      avoided cost net of deadweight, discounted to month 0 (``value.discount_rate``) [SEK]
``intervention_cost_sek``       cumulative spending of all interventions [SEK] (0 without interventions)
``intervention_cost_pv_sek``    the same discounted to month 0 [SEK]
``intervention_cost_sek_<i>``   spending of intervention ``i`` (in scenario order) [SEK]; only with interventions
``agreements``                  agreements accepted (``offer`` interventions); only with interventions
``agreements_declined``         offers declined; only with interventions
``visible_value``               cumulative visible (measured, communicated) social value [persons]
``visibility``                  visibility signal V_vis in [0, 1) (of ``evidence``)
``scaled_up``                   1 once the scaling-up policy is in force
``survival_12``,                share of sites whose project funding ended at project end at least 12
``survival_24``                 (24) months ago that ran 12 (24) months later (NaN if none)
``survival_policy_12``,         the same for sites moved to ordinary budgets by the scaling-up policy
``survival_policy_24``
``evidence``                    visible value that ages (half-life ``value.evidence_half_life``) [persons]
``sites_form_<form>``           running sites by organisational form (project, alliance, new_organisation, internal_unit)
``orgs_in_<element>``           running organisations in each of the six elements
==============================  ============================================================

Calendar dates (only when the scenario sets ``run.start``; :mod:`sim.dates`): the model
table gets ``date`` right after ``month``; the per-place and per-organisation series get
``date`` right after ``step`` (a category in the organisations series, to stay compact);
the end-of-run places table gets ``first_reached_date`` beside ``first_reached_month`` and
the organisations table ``adopt_date``, ``stop_date`` and ``funding_ended_date`` beside
their months. Dates are ISO ``"YYYY-MM"`` strings (missing where the month is NaN).
Without ``run.start`` no table has a date column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.codes import FUNDING_NAMES, STATUS_NAMES, Funding, Status
from sim.dates import dates_of
from sim.population import AWARE, BENEFITING, DROPPED_OUT, PARTICIPATING, STATE_NAMES, UNAWARE
from sim.scenario import ELEMENTS, FORMS, SECTORS, Scenario
from sim.state import SimState

ROGERS = ("innovator", "early_adopter", "early_majority", "late_majority", "laggard")
PLACE_STATES = ("not_reached", "pilot", "permanent", "discontinued")


class Collector:
    """Collects one model-level row per step (and optionally per-place rows)."""

    def __init__(
        self, state: SimState, params: Scenario, collect_places: bool = False, collect_organisations: bool = False
    ) -> None:
        self.state = state
        self.params = params
        self.rows: list[dict[str, float]] = []
        self.collect_places = collect_places
        self.collect_organisations = collect_organisations
        self.place_rows: list[pd.DataFrame] = []
        self.org_rows: list[pd.DataFrame] = []

    def collect(self) -> dict[str, float]:
        """Append and return the current model-level row."""
        row = model_row(self.state)
        self.rows.append(row)
        if self.collect_places:
            f = places_frame(self.state)
            f.insert(0, "step", self.state.clock.step)
            self.place_rows.append(f)
        if self.collect_organisations:
            self.org_rows.append(organisations_step_frame(self.state))
        return row

    @property
    def start(self) -> str | None:
        """The calendar month of model month 0 (``run.start``), or None."""
        return self.params.run.start

    def model_frame(self) -> pd.DataFrame:
        """All rows so far as a table (with ``date`` after ``month`` when ``run.start`` is set)."""
        df = pd.DataFrame(self.rows)
        if self.start is not None and len(df):
            add_date_column(df, "month", "date", self.start)
        return df

    def _step_dates(self, steps: pd.Series, categorical: bool) -> pd.Series | pd.Categorical:
        """The calendar month of each step in ``steps`` (from the model rows' months)."""
        assert self.start is not None
        step_no = np.array([r["step"] for r in self.rows], dtype=np.int64)
        dates = dict(zip(step_no.tolist(), dates_of([r["month"] for r in self.rows], self.start), strict=True))
        col = steps.map(dates)
        if categorical:
            return pd.Categorical(col, categories=sorted(set(dates.values())), ordered=True)
        return col.astype(object)

    def organisations_series(self) -> pd.DataFrame:
        """The per-step, per-organisation table (empty unless ``collect_organisations``)."""
        if not self.org_rows:
            return pd.DataFrame()
        df = pd.concat(self.org_rows, ignore_index=True)
        if self.start is not None:
            df.insert(1, "date", self._step_dates(df["step"], categorical=True))
        return df

    def places_series(self) -> pd.DataFrame:
        """The per-step, per-place table (empty unless ``collect_places``)."""
        if not self.place_rows:
            return pd.DataFrame()
        df = pd.concat(self.place_rows, ignore_index=True)
        if self.start is not None:
            df.insert(1, "date", self._step_dates(df["step"], categorical=False))
        return df


def add_date_column(df: pd.DataFrame, month_col: str, date_col: str, start: str) -> pd.DataFrame:
    """Insert ``date_col`` (``"YYYY-MM"`` of ``start + floor(df[month_col])``, None for NaN) right after ``month_col``.

    Changes ``df`` in place and returns it.
    """
    df.insert(df.columns.get_loc(month_col) + 1, date_col, dates_of(df[month_col].to_numpy(), start))
    return df


def _survival(state: SimState, months: float, by_policy: bool = False) -> float:
    """Share of sites whose project funding ended at least ``months`` ago that still ran ``months`` later.

    ``by_policy``: sites moved to ordinary budgets by the scaling-up policy; else sites
    decided at project end (made permanent, carried on unfunded or discontinued).
    """
    o = state.orgs
    ended = o.funding_ended
    elig = ~np.isnan(ended) & (ended <= state.month - months + 1e-9) & (o.moved_by_policy == by_policy)
    if not elig.any():
        return float("nan")
    alive = (o.status[elig] == Status.RUNNING) | (o.stop_month[elig] > ended[elig] + months)
    return float(np.mean(alive))


def intervention_columns(n: int) -> list[str]:
    """The model columns a scenario with ``n`` > 0 interventions adds (none without interventions)."""
    if n <= 0:
        return []
    return [f"intervention_cost_sek_{i}" for i in range(n)] + ["agreements", "agreements_declined"]


def _share(part: float, whole: float) -> float:
    """``part / whole``, NaN when ``whole`` is 0."""
    return float(part) / float(whole) if whole > 0 else float("nan")


def served_places(state: SimState) -> int:
    """Places whose catchment (:attr:`sim.world.places.Places.catchment`) has a running site now."""
    catch = state.places.catchment
    if len(catch) != state.places.n:  # places built without catchments: each is its own
        catch = np.arange(state.places.n)
    active = np.zeros(int(catch.max(initial=-1)) + 1, dtype=bool)
    active[catch[state.orgs.place[state.orgs.running]]] = True
    return int(active[catch].sum())


def model_row(state: SimState) -> dict[str, float]:
    """The model-level figures of the current state."""
    o = state.orgs
    run = o.running
    people = state.people
    counts = people.counts()
    acc = state.accounts
    meeting = state.solution.meets_criteria(o.variant[run])
    row: dict[str, float] = {
        "step": state.clock.step,
        "month": state.month,
        "orgs_adopted": int((~np.isnan(o.adopt_month)).sum()),
        **state.site_counts(),
        "places_reached": int((~np.isnan(state.first_reached)).sum()),
        "places_running": int(len(np.unique(o.place[run]))),
        "places_preparing": preparing_places(state),
        "places_served": served_places(state),
        "regions_reached": regions_reached(state),
        "regional_bodies_adopted": int((o.regional & ~np.isnan(o.adopt_month)).sum()),
        "people_aware": int(people.n - counts[UNAWARE]),
        "people_participating": int(counts[PARTICIPATING]),
        "people_benefiting": int(counts[BENEFITING]),
        "people_dropped_out": int(counts[DROPPED_OUT]),
        "people_unaware": int(counts[UNAWARE]),
        "people_reached": int(counts[PARTICIPATING] + counts[BENEFITING] + counts[DROPPED_OUT]),
        "persons_reached": float(counts[PARTICIPATING] + counts[BENEFITING] + counts[DROPPED_OUT]) / state.places.target_scale,
        "share_benefiting": _share(counts[BENEFITING], counts[BENEFITING] + counts[DROPPED_OUT]),
        "mean_fidelity": float(o.fidelity[run].mean()) if run.any() else float("nan"),
        "sites_meeting_criteria": int(meeting.sum()),
        "share_meeting_criteria": _share(meeting.sum(), run.sum()),
        "mean_fit": float(o.fit[run].mean()) if run.any() else float("nan"),
        "mean_effectiveness": float(o.effectiveness[run].mean()) if run.any() else 0.0,
        "value_social": float(acc.social.sum()),
        "value_economic": float(acc.economic.sum()),
        "value_environmental": float(acc.environmental.sum()),
        "cost": float(acc.cost.sum()),
        "visible_value": float(acc.visible.sum()),
        "visibility": state.visibility_signal,
        "scaled_up": int(state.policy.in_force),
        "survival_12": _survival(state, 12.0),
        "survival_24": _survival(state, 24.0),
        "survival_policy_12": _survival(state, 12.0, by_policy=True),
        "survival_policy_24": _survival(state, 24.0, by_policy=True),
        "evidence": float(acc.evidence.sum()),
    }
    row["net_economic"] = row["value_economic"] - row["cost"]
    row["economic_value_net_sek"] = float(acc.economic_net_pv.sum())
    st = state.strategy
    row["intervention_cost_sek"] = float(st.spent.sum()) if st is not None else 0.0
    row["intervention_cost_pv_sek"] = float(st.spent_pv.sum()) if st is not None else 0.0
    if st is not None:
        values = [*(float(s) for s in st.spent), int((st.agreement >= 0).sum()), int(st.declined.sum())]
        row.update(zip(intervention_columns(st.n), values, strict=True))
    forms = np.bincount(o.form[run].astype(np.int64), minlength=len(FORMS))
    for i, name in enumerate(FORMS):
        row[f"sites_form_{name}"] = int(forms[i])
    el = np.bincount(o.element[run & (o.element >= 0)].astype(np.int64), minlength=len(ELEMENTS))
    for i, name in enumerate(ELEMENTS):
        row[f"orgs_in_{name}"] = int(el[i])
    return row


def rogers_categories(adopt_month: np.ndarray) -> np.ndarray:
    """Rogers adopter category of each organisation by adoption time (mean and sd of adopters).

    innovator: before mean - 2 sd; early adopter: to mean - sd; early majority: to the
    mean; late majority: to mean + sd; laggard: later. Non-adopters get ``""``.
    """
    out = np.full(len(adopt_month), "", dtype=object)
    had = ~np.isnan(adopt_month)
    if not had.any():
        return out
    t = adopt_month[had]
    mu, sd = t.mean(), t.std()
    edges = [mu - 2 * sd, mu - sd, mu, mu + sd]
    out[had] = np.array(ROGERS, dtype=object)[np.searchsorted(edges, t, side="right") if sd > 0 else np.zeros(len(t), int)]
    return out


def organisations_frame(state: SimState) -> pd.DataFrame:
    """One row per organisation: its state at the end of the run."""
    o = state.orgs
    el = np.array(list(ELEMENTS) + [""], dtype=object)
    return pd.DataFrame(
        {
            "org": np.arange(o.n),
            "place": o.place,
            "place_name": state.places.name[o.place].astype(str),
            "sector": np.array(SECTORS, dtype=object)[o.sector],
            "mandate": o.mandate,
            "status": np.array(STATUS_NAMES, dtype=object)[o.status],
            "funding": np.array(FUNDING_NAMES, dtype=object)[o.funding],
            "form": np.array(FORMS, dtype=object)[o.form],
            "element": el[o.element],
            "adopt_month": o.adopt_month,
            "stop_month": o.stop_month,
            "funding_ended": o.funding_ended,
            "fidelity": o.fidelity,
            "fit": o.fit,
            "effectiveness": o.effectiveness,
            "effect_size": o.effect,
            "understanding": o.understanding,
            "vision_clarity": o.gamma,
            "resources": o.resources,
            "alliance": o.alliance,
            "champion": o.champion,
            "threshold": o.phi,
            "rogers_category": rogers_categories(o.adopt_month),
        }
    )


def organisations_step_frame(state: SimState) -> pd.DataFrame:
    """The changing state of every organisation at this step (compact: categories for names)."""
    o = state.orgs
    return pd.DataFrame(
        {
            "step": np.full(o.n, state.clock.step, dtype=np.int32),
            "org": np.arange(o.n, dtype=np.int32),
            "status": pd.Categorical.from_codes(o.status, STATUS_NAMES),
            "element": pd.Categorical.from_codes(o.element, ELEMENTS),  # -1 (not engaged) becomes missing
            "funding": pd.Categorical.from_codes(o.funding, FUNDING_NAMES),
            "form": pd.Categorical.from_codes(o.form, FORMS),
            "fidelity": o.fidelity.astype(np.float32),
            "fit": o.fit.astype(np.float32),
            "effectiveness": o.effectiveness.astype(np.float32),
            "understanding": o.understanding.astype(np.float32),
        }
    )


def share_or_zero(values: np.ndarray | pd.Series | float) -> np.ndarray:
    """Values of an output with NaN as 0: a share of nothing (no running site, no member finished yet) is 0.

    The one rule for comparing outputs with observed figures (``sim forecast``'s fit and band,
    the case table in the UI, the case tests).
    """
    return np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)


def preparing_places(state: SimState) -> int:
    """Places with a running local site where no local organisation has yet reached *develop and test*."""
    o = state.orgs
    local = ~o.regional
    running = np.zeros(state.places.n, dtype=bool)
    running[o.place[o.running & local]] = True
    developed = np.zeros(state.places.n, dtype=bool)
    developed[o.place[local & ~np.isnan(o.developed_month)]] = True
    return int((running & ~developed).sum())


def count_limits(state: SimState) -> dict[str, tuple[int, str]]:
    """The largest value each place or county count can take in this world, with what it counts.

    Only counts that the scenario fixes whatever the seed (its places, their counties and the
    regional bodies, one per county when ``organisations.regional_bodies`` is on): ``places_*``
    up to the number of places, ``regions_reached`` up to the counties,
    ``regional_bodies_adopted`` up to the regional bodies. Used to reject an observed figure the
    model could never produce (:func:`sim.validation.observed.load_observed`).
    """
    n_places = int(state.places.n)
    n_counties = len(dict.fromkeys(np.asarray(state.places.county, dtype=object).tolist()))
    n_bodies = int(state.orgs.regional.sum())
    places = (n_places, f"the scenario's {n_places} places")
    return {
        "places_reached": places, "places_running": places, "places_preparing": places, "places_served": places,
        "regions_reached": (n_counties, f"the scenario's {n_counties} counties"),
        "regional_bodies_adopted": (n_bodies, f"the scenario's {n_bodies} regional bodies"),
    }


def regions_reached(state: SimState) -> int:
    """Counties where some organisation has ever run it: places reached, and regional bodies that adopted."""
    o = state.orgs
    county = state.places.county
    reached = county[~np.isnan(state.first_reached)]
    bodies = o.regional & ~np.isnan(o.adopt_month)
    if bodies.any():
        reached = np.concatenate([reached, county[o.place[bodies]]])
    return int(len(np.unique(reached)))


def place_states(state: SimState) -> np.ndarray:
    """Index into :data:`PLACE_STATES` for each place: not reached, pilot, permanent, discontinued."""
    o = state.orgs
    n = state.places.n
    run = o.running
    permanent = np.bincount(o.place[run & (o.funding == Funding.ORDINARY)], minlength=n) > 0
    running = np.bincount(o.place[run], minlength=n) > 0
    reached = ~np.isnan(state.first_reached)
    return np.where(permanent, 2, np.where(running, 1, np.where(reached, 3, 0)))


def places_frame(state: SimState) -> pd.DataFrame:
    """One row per place: figures of the current state."""
    pl = state.places
    o = state.orgs
    n = pl.n
    run = o.running
    sites = np.bincount(o.place[run], minlength=n)
    denom = np.maximum(sites, 1)
    with np.errstate(invalid="ignore"):
        fid = np.where(sites > 0, np.bincount(o.place[run], weights=o.fidelity[run], minlength=n) / denom, np.nan)
        fit = np.where(sites > 0, np.bincount(o.place[run], weights=o.fit[run], minlength=n) / denom, np.nan)
    counts = state.people.counts_by_place()
    f = pl.frame()
    f["state"] = np.array(PLACE_STATES, dtype=object)[place_states(state)]
    f["organisations"] = np.bincount(o.place, minlength=n)
    f["sites_running"] = sites
    f["first_reached_month"] = state.first_reached
    for s in (AWARE, PARTICIPATING, BENEFITING, DROPPED_OUT):
        f[f"people_{STATE_NAMES[s]}"] = counts[:, s]
    f["people_aware"] = counts[:, AWARE:].sum(axis=1)
    f["mean_fidelity"] = fid
    f["mean_fit"] = fit
    f["openness"] = pl.openness
    acc = state.accounts
    f["value_social"] = acc.social
    f["value_economic"] = acc.economic
    f["cost"] = acc.cost
    f["visible_value"] = acc.visible
    f["refused_policy"] = state.policy.refused
    return f


def time_to_share(df: pd.DataFrame, column: str, total: float, share: float = 0.5) -> float:
    """First month at which ``column`` reaches ``share * total`` (NaN if never)."""
    hit = df.loc[df[column] >= share * total, "month"]
    return float(hit.iloc[0]) if len(hit) else float("nan")
