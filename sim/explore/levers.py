"""The lever report: every strategist-facing parameter at low / default / high, with common random numbers.

:data:`LEVERS` is the registry: one :class:`Lever` per parameter a strategist pulls,
with the low and high values it is swung between (inside the schema's range), the
named output it is documented to move, the expected sign of ``high - low`` on that
output, the presets the direction is documented (and tested) for, and a one-line
rationale. A lever may document further effects in ``also``.

:func:`run_levers` runs, for each preset, the preset as it is ("default") and every
lever at its low and at its high value, ``replicates`` times each. Replicate ``r``
has the same seed (``replicate_seeds(root_seed, replicates)[r]``) in every setting
of a preset (common random numbers), so the paired difference ``y_high,r - y_low,r``
removes the noise the settings share. For every lever and output (its documented
outputs and the main outputs :data:`MAIN_OUTPUTS`, so side effects show) it reports
the means at the three settings, the mean paired difference ``high - low`` with its
standard error and 95 % t-interval, and a verdict (:func:`verdict`).

Files: ``DIR/levers.csv`` (one row per preset, lever and output), ``DIR/runs.csv``
(final outputs of every run), ``DIR/levers.md`` with ``DIR/img/levers-<preset>.png``
(effects) and ``DIR/img/levers-<preset>-curves.png`` (social value over time),
``DIR/manifest.json`` and ``DIR/failures.json`` if a run failed.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import __version__
from sim.api import git_revision
from sim.explore.design import replicate_seeds
from sim.explore.executors import ExecutorSpec, open_executor
from sim.explore.experiment import ROOT, field_is_int, resolve_experiment_scenario, scenario_data
from sim.explore.runner import RunTask, execute
from sim.explore.store import atomic_write
from sim.scenario import Scenario, apply_overrides, scenario_from_dict

MAIN_OUTPUTS: tuple[str, ...] = ("value_social", "sites_running", "places_reached", "net_economic")
"""Outputs every lever is reported on, whatever it is documented to move (side effects)."""

DEFAULT_PRESETS: tuple[str, ...] = ("teaching", "district", "sweden-youth-employment")
"""Presets ``sim levers`` runs when none is named."""

SE_MULTIPLE = 3.0
"""A difference counts as real when ``|high - low| > SE_MULTIPLE`` standard errors of the paired mean."""

CENSORED_OUTPUTS: tuple[str, ...] = ("scaled_up_month", "time_to_50pct_places")
"""Time-to-event outputs: NaN (never happened) is censored at the run's horizon [months] and counted."""

CURVE_OUTPUT = "value_social"
"""The output whose mean curve over time is drawn per lever (``levers-<preset>-curves.png``)."""

TEACHING, DISTRICT, SWEDEN = "teaching", "district", "sweden-youth-employment"
_ALL = (TEACHING, DISTRICT, SWEDEN)


@dataclass(frozen=True)
class PresetRun:
    """How a preset is run in the lever report by default.

    ``overrides``: dotted overrides making the run lighter (applied unless ``--full``);
    ``replicates``: default replicates per setting [runs]; ``note``: why, and what it costs.
    """

    overrides: dict[str, Any] = field(default_factory=dict)
    replicates: int = 10
    note: str = ""


PRESET_RUNS: dict[str, PresetRun] = {
    SWEDEN: PresetRun(
        overrides={"places.target_scale": 0.1},
        replicates=5,
        note=(
            "one simulated member per ten young people (`places.target_scale = 0.1`): a few seconds of CPU a run "
            "instead of about 15 s. In model 2.0 results per person do not depend on `target_scale` (site capacity "
            "and the visibility scales are in persons): the default seed gives 37,713 persons of social value at "
            "target_scale 1, 38,093 at 0.3 and 38,290 at 0.1, and the same organisations adopt; `--full` runs "
            "one member per person."
        ),
    ),
}
"""Per-preset defaults of the lever report; presets not listed run as they are with 10 replicates."""


@dataclass(frozen=True)
class Claim:
    """A documented effect: ``high - low`` of ``output`` has the sign ``direction`` on ``presets``."""

    output: str
    direction: int
    presets: tuple[str, ...]
    rationale: str


@dataclass(frozen=True)
class Lever:
    """A strategist-facing parameter and what it is documented to do.

    ``key``: dotted scenario parameter (a key of a dict-valued field, e.g.
    ``value.site_cost_sek.project``, is allowed); ``low`` / ``high``: the two values it
    is swung between, inside the schema's range; ``output``: a column of the model
    table's last row or a summary figure; ``direction``: +1 if ``output`` rises from
    low to high, -1 if it falls; ``presets``: presets where the direction is documented
    and tested (a preset left out is dead or not applicable there, said in a comment);
    ``rationale``: one line, why; ``also``: further documented effects.
    """

    key: str
    low: float
    high: float
    output: str
    direction: int
    presets: tuple[str, ...]
    rationale: str
    also: tuple[Claim, ...] = ()

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The documented effects: the main one first, then ``also``."""
        return (Claim(self.output, self.direction, self.presets, self.rationale), *self.also)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The documented outputs followed by the main outputs, without repeats."""
        return tuple(dict.fromkeys([c.output for c in self.claims] + list(MAIN_OUTPUTS)))


# Directions are what a practitioner of social innovation expects (Mötesplats Social Innovation's six
# elements; Rogers / Bass for spread; the pilot-death literature for funding). Where model 2.0 does not show
# the expected effect on a preset, that preset is left out of `presets`, with a comment saying why (measured in
# docs/levers.md, the commit is in its header); "weak" means beyond 3 SE with the report's 10 replicates but not
# with the test's 4 (teaching) or 5 (district). `# not applicable` marks a preset that switches the mechanism
# off (`district` has one place and scaling up disabled). Add a preset back when the lever starts to act there.
LEVERS: tuple[Lever, ...] = (
    Lever("levers.involvement", 0.1, 0.9, "mean_fit", +1, _ALL,
          "involving affected people speeds understanding of needs, so variants fit local need better"),
    Lever("levers.vision_clarity", 0.1, 0.9, "mean_fidelity", +1, _ALL,
          "a clear shared vision keeps the core purpose from drifting while the periphery adapts"),
    Lever("levers.norm_work", 0.0, 0.05, "value_social", +1, (SWEDEN,),
          # teaching: dead in model 2.0: see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "norm work opens places (scaling deep), so more organisations adopt sooner and more people benefit"),
    Lever("levers.brokering", 0.0, 0.3, "value_social", +1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "brokered cross-sector ties bring partners and exposure, so the solution spreads further and sooner"),
    Lever("levers.project_length_min", 6.0, 36.0, "sites_discontinued", -1, (TEACHING, SWEDEN),
          # district: dead in model 2.0: see docs/levers.md
          "longer grants leave pilots time to prove themselves before their money ends: fewer pilot deaths"),
    Lever("levers.project_length_max", 36.0, 72.0, "sites_discontinued", -1, (SWEDEN,),
          # teaching: dead in model 2.0: see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "longer grants leave pilots time to prove themselves before their money ends: fewer pilot deaths"),
    Lever("levers.project_share", 0.5, 1.0, "sites_discontinued", +1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: weak in model 2.0 (acts at the report's replicates, not at the test's 5): see docs/levers.md
          "more sites on time-limited project money means more sites face the end of a grant"),
    Lever("levers.institutionalisation_support", 0.0, 1.0, "sites_discontinued", -1, (TEACHING, SWEDEN),
          # district: dead in model 2.0: see docs/levers.md
          "support to move pilots into ordinary budgets keeps them alive after the project",
          also=(
              Claim("value_social", +1, (TEACHING,),
                    # district: dead in model 2.0: see docs/levers.md
                    # sweden-youth-employment: dead in model 2.0: see docs/levers.md
                    "sites kept alive keep serving people, so more of them benefit (issue 10, acceptance)"),
          )),
    Lever("levers.guardrails", 0.0, 0.9, "mean_fidelity", +1, _ALL,
          "training, manuals and licensing keep adopters close to the core"),
    Lever("levers.guardrail_spread_cost", 0.0, 1.0, "value_social", -1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "heavy guardrails (licences, training first) slow own-initiative adoption, so fewer benefit in time"),
    Lever("levers.adaptation_rate", 0.0, 0.3, "mean_fit", +1, (TEACHING, SWEDEN),
          # district: dead in model 2.0: see docs/levers.md
          "adapting the periphery to local need raises local fit"),
    Lever("levers.core_drift", 0.0, 0.08, "mean_fidelity", -1, (TEACHING, SWEDEN),
          # district: weak in model 2.0 (acts at the report's replicates, not at the test's 5): see docs/levers.md
          "unguided change of core components lowers fidelity"),
    Lever("levers.measurement_effort", 0.1, 0.7, "visible_value", +1, _ALL,
          "measuring more of the value created makes more of it visible",
          also=(
              Claim("value_social", +1, (SWEDEN,),
                    # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
                    # district: weak in model 2.0 (acts at the report's replicates, not at the test's 5): see docs/levers.md
                    "visible evidence attracts adopters and funders, so more people benefit (issue 10, acceptance)"),
          )),
    Lever("levers.scaling_up_threshold", 0.3, 0.95, "scaled_up_month", +1, (TEACHING,),
          # district: not applicable (the preset switches scaling up off)
          # sweden-youth-employment: dead in model 2.0: see docs/levers.md
          "a policy that waits for a larger share of places reached comes later"),
    Lever("levers.evidence_threshold", 0.5, 0.99, "scaled_up_month", +1, (),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: not applicable (the preset switches scaling up off)
          # sweden-youth-employment: dead in model 2.0: see docs/levers.md
          "a policy that waits for stronger evidence comes later"),
    Lever("levers.advocacy", 0.0, 0.05, "scaled_up_month", -1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: not applicable (the preset switches scaling up off)
          "advocacy can bring policy before the thresholds are met"),
    Lever("funding.renewal", 0.0, 0.9, "sites_discontinued", -1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: weak in model 2.0 (acts at the report's replicates, not at the test's 5): see docs/levers.md
          "a renewed project grant saves a pilot that is still mobilising at project end"),
    Lever("value.measurement_cost_sek", 0.0, 30000.0, "net_economic", -1, _ALL,
          "measurement costs money every month at every site"),
    Lever("value.site_cost_sek.project", 30000.0, 90000.0, "net_economic", -1, (TEACHING, DISTRICT),
          # sweden-youth-employment: dead in model 2.0: see docs/levers.md
          "dearer project sites cost more, and a high cost against the budget makes pilots less likely to last"),
    Lever("value.budget_sek", 40000.0, 160000.0, "sites_discontinued", -1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "a site whose cost is small against its host's budget is likelier to be made permanent"),
    Lever("scaling_up.refusal_need", 0.0, 0.5, "sites_running", -1, (SWEDEN,),
          # teaching: weak in model 2.0 (acts at the report's replicates, not at the test's 4): see docs/levers.md
          # district: not applicable (the preset switches scaling up off)
          "places that refuse the national policy get no policy-funded sites"),
    Lever("scaling_up.threshold_cut", 0.0, 0.9, "value_social", +1, (),
          # teaching: dead in model 2.0: see docs/levers.md
          # district: not applicable (the preset switches scaling up off)
          # sweden-youth-employment: dead in model 2.0: see docs/levers.md
          "a policy that lowers adoption thresholds brings more organisations in sooner"),
    Lever("scaling_up.p_boost", 0.0, 0.01, "value_social", +1, (SWEDEN,),
          # teaching: dead in model 2.0: see docs/levers.md
          # district: not applicable (the preset switches scaling up off)
          "policy money for new sites brings more organisations in sooner"),
    Lever("organisations.p", 0.0002, 0.003, "value_social", +1, (SWEDEN,),
          # teaching: dead in model 2.0: see docs/levers.md
          # district: dead in model 2.0: see docs/levers.md
          "more own initiative (Bass p) means earlier adoption, so more people are served over the run"),
    Lever("organisations.q", 0.1, 0.5, "value_social", +1, _ALL,
          "more imitation (Bass q) means faster spread, so more people are served over the run"),
    Lever("population.site_capacity", 15.0, 120.0, "value_social", +1, _ALL,
          "each site can take more participants, so more people benefit"),
)
"""The registry of strategist-facing parameters (validated against the schema in ``tests/test_levers.py``)."""


# --------------------------------------------------------------------------- settings


def current_value(scenario: Scenario, key: str) -> Any:
    """The value of dotted ``key`` in a validated scenario (a key of a dict-valued field allowed)."""
    node: Any = scenario
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def setting_overrides(scenario: Scenario, key: str, value: float) -> dict[str, Any]:
    """Dotted overrides setting ``key`` to ``value`` in ``scenario``.

    A key of a dict-valued field (``value.site_cost_sek.project``) becomes the whole
    dict with that entry replaced, since the schema wants every key of such a table.
    Integer parameters get an int.
    """
    parent, _, leaf = key.rpartition(".")
    holder = current_value(scenario, parent) if parent else None
    if isinstance(holder, dict):
        return {parent: {**holder, leaf: float(value)}}
    return {key: int(round(value)) if field_is_int(key) else value}


def lever_keys(levers: Iterable[Lever]) -> list[str]:
    """The dotted keys of ``levers``, in order."""
    return [lv.key for lv in levers]


def select_levers(keys: Sequence[str] | None, levers: Sequence[Lever] = LEVERS) -> tuple[Lever, ...]:
    """The levers named by ``keys`` (all if ``None``); ``ValueError`` naming an unknown key."""
    if not keys:
        return tuple(levers)
    by_key = {lv.key: lv for lv in levers}
    bad = [k for k in keys if k not in by_key]
    if bad:
        raise ValueError(f"unknown lever(s) {bad}; known: {sorted(by_key)}")
    return tuple(by_key[k] for k in dict.fromkeys(keys))


def preset_replicates(preset: str, replicates: int | None = None) -> int:
    """Replicates per setting for ``preset`` (a name or file): ``replicates`` if given, else :data:`PRESET_RUNS`."""
    if replicates is not None:
        return int(replicates)
    return PRESET_RUNS.get(resolve_experiment_scenario(str(preset), None).stem, PresetRun()).replicates


def planned_runs(presets: Sequence[str], levers: Sequence[Lever] = LEVERS, replicates: int | None = None,
                 include_default: bool = True) -> int:
    """How many runs :func:`run_levers` makes: ``(2 * levers + 1) * replicates`` per preset."""
    return sum((2 * len(levers) + int(include_default)) * preset_replicates(p, replicates) for p in presets)


def documented_levers(preset: str, levers: Sequence[Lever] = LEVERS) -> tuple[Lever, ...]:
    """The levers with at least one effect documented for ``preset``."""
    return tuple(lv for lv in levers if any(preset in c.presets for c in lv.claims))


# --------------------------------------------------------------------------- statistics


def threshold_multiple(n: int, k: float = SE_MULTIPLE, conf_level: float = 0.95) -> float:
    """How many standard errors a real difference must exceed with ``n`` pairs: ``max(k, t_{(1+conf)/2, n-1})``.

    ``k`` (3) is the rule; with fewer than five pairs the t quantile is larger (3.18 at
    ``n = 4``, 12.7 at ``n = 2``), and a difference inside its own 95 % interval of zero
    is never called real.
    """
    return max(k, float(stats.t.ppf(0.5 + conf_level / 2, n - 1))) if n > 1 else math.inf


def verdict(diff: float, se: float, n: int, direction: int = 0, k: float = SE_MULTIPLE) -> str:
    """Verdict on a mean paired difference ``diff`` (high - low) with standard error ``se`` over ``n`` pairs.

    ``moves as documented``: the sign is ``direction`` and ``|diff| > m * se``;
    ``contradicts``: the opposite sign beyond ``m * se``; ``dead``: ``|diff| <= m * se``
    or exactly zero; ``m`` = :func:`threshold_multiple` (``k = 3`` from five pairs on).
    Without a documented direction (``direction = 0``) a real effect is ``raises`` or
    ``lowers``. ``n/a``: fewer than two pairs with finite values.
    """
    if n < 2 or not math.isfinite(diff) or not math.isfinite(se):
        return "n/a"
    if diff == 0 or abs(diff) <= threshold_multiple(n, k) * se:
        return "dead"
    if direction == 0:
        return "raises" if diff > 0 else "lowers"
    return "moves as documented" if np.sign(diff) == np.sign(direction) else "contradicts"


def paired_effect(low: np.ndarray, high: np.ndarray, conf_level: float = 0.95) -> dict[str, float]:
    """Mean of ``high - low`` over pairs with both finite: standard error, t-interval, ``n``, ``n_nan``."""
    ok = np.isfinite(low) & np.isfinite(high)
    d = high[ok] - low[ok]
    n = int(len(d))
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1) * se) if n > 1 else math.nan
    return {"diff": mean, "se": se, "ci_low": mean - half, "ci_high": mean + half, "n": n, "n_nan": int(len(low) - n)}


# --------------------------------------------------------------------------- the run


@dataclass
class LeverReport:
    """Result of :func:`run_levers`: every run's outputs, the effects table, failures and cost."""

    runs: pd.DataFrame
    effects: pd.DataFrame
    series: pd.DataFrame
    failures: list[dict[str, Any]]
    meta: dict[str, Any]

    def documented(self) -> pd.DataFrame:
        """The rows of documented effects (``expected != 0``)."""
        return self.effects[self.effects["expected"] != 0]

    def broken(self) -> pd.DataFrame:
        """Documented effects, enforced for their preset, that are not ``moves as documented``."""
        d = self.documented()
        return d[d["enforced"] & (d["verdict"] != "moves as documented")]


@dataclass(frozen=True)
class _Slot:
    preset: str
    lever: str  # "" for the default setting
    setting: str  # "default" | "low" | "high"
    value: Any
    replicate: int


def run_levers(
    presets: Sequence[str] = DEFAULT_PRESETS,
    *,
    levers: Sequence[Lever] = LEVERS,
    replicates: int | None = None,
    steps: int | None = None,
    root_seed: int = 0,
    overrides: dict[str, Any] | None = None,
    light: bool = True,
    include_default: bool = True,
    spec: ExecutorSpec | None = None,
    conf_level: float = 0.95,
    progress: Callable[[int, int, int], None] | None = None,
) -> LeverReport:
    """Run every lever of ``levers`` at low and high (and each preset once as it is) with shared seeds.

    ``presets``: preset names or scenario files. ``replicates``: runs per setting
    (default: :data:`PRESET_RUNS` per preset, else 10). ``steps``: default each
    scenario's ``run.steps``. ``overrides``: dotted overrides for every run; ``light``:
    apply :data:`PRESET_RUNS` overrides too. ``include_default``: also run the preset
    as it is (the middle column; not needed to test directions). ``progress(done,
    failed, total)`` is called after every run.
    """
    t0 = time.perf_counter()
    levers = tuple(levers)
    slots: list[_Slot] = []
    tasks: list[RunTask] = []
    plan: dict[str, dict[str, Any]] = {}
    for preset in presets:
        path = resolve_experiment_scenario(str(preset), None)
        label = path.stem
        prun = PRESET_RUNS.get(label, PresetRun())
        extra = {**(prun.overrides if light else {}), **(overrides or {})}
        base = apply_overrides(scenario_data(path), extra)
        sc = scenario_from_dict(base, source=f"{path} with the lever report's overrides")
        reps = preset_replicates(str(path), replicates)
        seeds = replicate_seeds(root_seed, reps)
        outputs = tuple(dict.fromkeys([o for lv in levers for o in lv.outputs] + ["months"]))
        plan[label] = {"path": str(path), "overrides": extra, "replicates": reps, "seeds": seeds,
                       "steps": steps if steps is not None else sc.run.steps,
                       "defaults": {lv.key: current_value(sc, lv.key) for lv in levers}}
        settings: list[tuple[str, str, Any, dict[str, Any]]] = [("", "default", None, {})] if include_default else []
        for lv in levers:
            for name, v in (("low", lv.low), ("high", lv.high)):
                settings.append((lv.key, name, v, setting_overrides(sc, lv.key, v)))
        for key, name, v, params in settings:
            for r in range(reps):
                slots.append(_Slot(label, key, name, v, r))
                tasks.append(RunTask(run_id=len(tasks), seed=seeds[r], base=base, params=params, steps=steps,
                                     outputs=outputs, timeseries=True, source=str(path)))
    rows: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    cpu = 0.0
    with open_executor(spec or ExecutorSpec()) as (ex, _slots):
        futs = {ex.submit(execute, t): t for t in tasks}
        for k, fut in enumerate(as_completed(futs), 1):
            t = futs[fut]
            s = slots[t.run_id]
            oc = fut.result()
            cpu += oc.seconds
            plan[s.preset]["run_seconds"] = plan[s.preset].get("run_seconds", 0.0) + oc.seconds
            plan[s.preset]["runs"] = plan[s.preset].get("runs", 0) + 1
            key = {"preset": s.preset, "lever": s.lever, "setting": s.setting, "value": s.value,
                   "replicate": s.replicate, "seed": t.seed}
            if oc.ok:
                rows.append({**key, "ok": True, **oc.outputs})
                if oc.series is not None and CURVE_OUTPUT in oc.series.columns:
                    series.append(oc.series[["month", CURVE_OUTPUT]].assign(
                        preset=s.preset, lever=s.lever, setting=s.setting, replicate=s.replicate))
            else:
                rows.append({**key, "ok": False, **dict.fromkeys(t.outputs, math.nan)})
                failures.append({**key, "error": oc.error, "traceback": oc.traceback})
            if progress is not None:
                progress(k - len(failures), len(failures), len(tasks))
    runs = pd.DataFrame(rows)
    if len(runs):
        runs = runs.sort_values(["preset", "lever", "setting", "replicate"], kind="stable").reset_index(drop=True)
    effects = effects_table(runs, levers, plan, conf_level)
    ser = pd.concat(series, ignore_index=True) if series else pd.DataFrame()
    meta = {"presets": plan, "levers": [asdict(lv) for lv in levers], "root_seed": root_seed, "steps": steps,
            "runs": len(tasks), "failed": len(failures), "wall_seconds": time.perf_counter() - t0,
            "run_cpu_seconds": cpu, "executor": (spec or ExecutorSpec()).describe(), "conf_level": conf_level,
            "se_multiple": SE_MULTIPLE, "package": "sim", "version": __version__, "git_revision": git_revision()}
    return LeverReport(runs, effects, ser, failures, meta)


def _censored(runs: pd.DataFrame, output: str) -> tuple[np.ndarray, int]:
    """Values of ``output`` with NaN censored at the horizon for time-to-event outputs; and how many were."""
    y = runs[output].to_numpy(float)
    if output not in CENSORED_OUTPUTS:
        return y, 0
    cens = np.isnan(y) & runs["ok"].to_numpy(bool)
    return np.where(cens, runs["months"].to_numpy(float), y), int(cens.sum())


def effects_table(runs: pd.DataFrame, levers: Sequence[Lever], plan: dict[str, dict[str, Any]],
                  conf_level: float = 0.95) -> pd.DataFrame:
    """One row per preset, lever and output: means at low/default/high, paired difference, SE, CI, verdict."""
    out: list[dict[str, Any]] = []
    for preset, info in plan.items():
        p = runs[runs["preset"] == preset]
        default = p[p["setting"] == "default"].sort_values("replicate")
        for lv in levers:
            lo = p[(p["lever"] == lv.key) & (p["setting"] == "low")].sort_values("replicate")
            hi = p[(p["lever"] == lv.key) & (p["setting"] == "high")].sort_values("replicate")
            claims = {c.output: c for c in reversed(lv.claims)}
            for o in lv.outputs:
                c = claims.get(o)
                ylo, clo = _censored(lo, o)
                yhi, chi = _censored(hi, o)
                yde, cde = _censored(default, o) if len(default) else (np.array([]), 0)
                eff = paired_effect(ylo, yhi, conf_level)
                direction = c.direction if c else 0
                out.append({
                    "preset": preset, "lever": lv.key, "output": o, "role": "documented" if c else "side effect",
                    "expected": direction, "enforced": bool(c and preset in c.presets),
                    "low": lv.low, "default": info["defaults"][lv.key], "high": lv.high,
                    "mean_low": _mean(ylo), "mean_default": _mean(yde), "mean_high": _mean(yhi), **eff,
                    "rel_diff": _relative(eff["diff"], _mean(yde)), "censored": clo + chi + cde,
                    "verdict": verdict(eff["diff"], eff["se"], eff["n"], direction),
                })
    return pd.DataFrame(out)


def _mean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else math.nan


def _relative(diff: float, base: float) -> float:
    """``diff`` as a share of ``|base|`` [-]; NaN when ``base`` is 0 or missing."""
    return diff / abs(base) if math.isfinite(base) and base != 0 else math.nan


# --------------------------------------------------------------------------- writing


def write_report(rep: LeverReport, out: str | Path, *, command: str = "", docs: bool = False) -> list[Path]:
    """Write ``levers.csv``, ``runs.csv``, ``levers.md``, plots and ``manifest.json`` into ``out``.

    With ``docs``, also ``docs/levers.md`` and ``docs/img/levers-*.png`` (the same
    Markdown: image paths are relative, ``img/...``). Returns the files written.
    """
    out = Path(out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    written = [out / "levers.csv", out / "runs.csv"]
    atomic_write(written[0], rep.effects.to_csv(index=False).encode())
    atomic_write(written[1], rep.runs.to_csv(index=False).encode())
    images: list[Path] = []
    for preset in rep.meta["presets"]:
        eff = rep.effects[rep.effects["preset"] == preset]
        images.append(plot_effects(eff, preset, out / "img" / f"levers-{preset}.png"))
        ser = rep.series[rep.series["preset"] == preset] if len(rep.series) else rep.series
        if len(ser):
            images.append(plot_curves(ser, preset, out / "img" / f"levers-{preset}-curves.png"))
    md = report_markdown(rep, command=command, images={p.name for p in images})
    atomic_write(out / "levers.md", md.encode())
    written += [out / "levers.md", *images]
    if rep.failures:
        atomic_write(out / "failures.json", json.dumps(rep.failures, indent=2, default=str).encode())
        written.append(out / "failures.json")
    atomic_write(out / "manifest.json", json.dumps({"kind": "levers", "command": command, **rep.meta}, indent=2,
                                                   default=str).encode())
    written.append(out / "manifest.json")
    if docs:
        (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
        atomic_write(ROOT / "docs" / "levers.md", md.encode())
        written.append(ROOT / "docs" / "levers.md")
        for img in images:
            shutil.copyfile(img, ROOT / "docs" / "img" / img.name)
            written.append(ROOT / "docs" / "img" / img.name)
    return written


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NaN"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "{...}"
    return _num(v)


def _interval(r: pd.Series) -> str:
    if not math.isfinite(r["diff"]):
        return "NaN"
    if not math.isfinite(r["ci_low"]):
        return _signed(r["diff"])
    return f"{_signed(r['diff'])} [{_signed(r['ci_low'])}, {_signed(r['ci_high'])}]"


def _percent(v: float) -> str:
    return "" if not math.isfinite(v) else f"{100 * v:+.2g} %" if abs(v) < 0.1 else f"{100 * v:+.0f} %"


def _signed(v: float) -> str:
    s = _num(v)
    return s if s.startswith("-") or s in ("0", "NaN") else f"+{s}"


_MARK = {"moves as documented": "acts", "contradicts": "CONTRADICTS", "dead": "dead", "raises": "+", "lowers": "-",
         "n/a": "n/a"}


def report_markdown(rep: LeverReport, *, command: str = "", images: set[str] | None = None) -> str:
    """The lever report as Markdown: cost, how to read it, and per preset a plot and two tables."""
    m = rep.meta
    images = images or set()
    lines = [
        "# Lever report: what each strategist-facing parameter does",
        "",
        f"Generated by `{command or 'sim levers'}` on commit `{(m['git_revision'] or 'unknown')[:12]}` "
        f"(sim {m['version']}): {m['runs']:,} runs ({m['failed']} failed) in {m['wall_seconds']:.0f} s wall time on "
        f"{m['executor']} ({m['run_cpu_seconds']:.0f} s of run time summed over the runs). The registry is "
        "`sim.explore.levers.LEVERS`; `tests/test_levers.py` fails when a lever documented for a preset is dead "
        "or contradicts its documented direction there.",
        "",
        "## How to read it",
        "",
        "Each lever is run at a low and a high value, and each preset once as it is (\"default\"), "
        "with the same replicate seeds in every setting (common random numbers): replicate *r* of every setting "
        "shares its random numbers, so the paired difference high - low removes the noise the settings share. "
        "Tables show the mean over replicates at each setting, the mean paired difference high - low with its "
        f"{100 * m['conf_level']:.0f} % t-interval, and a verdict on the standard error SE of that mean:",
        "",
        f"* **acts** (moves as documented): the sign matches the documented direction and |diff| > {m['se_multiple']:g} SE;",
        f"* **CONTRADICTS**: the opposite sign, beyond {m['se_multiple']:g} SE;",
        f"* **dead**: |diff| <= {m['se_multiple']:g} SE (or exactly zero): no effect this design can see;",
        "* with fewer than five replicates the bar is the 95 % t quantile instead of 3 (3.18 SE at four), so an "
        "effect is never called real while its own interval includes zero;",
        "* \"% of default\" is high - low relative to the preset's own mean: an effect can be real (beyond "
        "3 SE, thanks to common random numbers) and still far too small for a workshop to see;",
        "* on the main outputs (side effects, no documented direction): **+** / **-** for a real rise / fall, "
        "**dead** otherwise; **n/a**: fewer than two usable pairs.",
        "",
        "\"documented here\" marks the presets the direction is documented for: `tests/test_levers.py` enforces "
        "them on `teaching` and `district`, and `sim levers sweden-youth-employment --check` on the Sweden preset "
        "(too slow for the test suite). A lever that is dead on a preset is left out there, with a comment in the "
        "registry. `scaled_up_month` and "
        "`time_to_50pct_places` that never happen within the run are counted at the horizon (censored). Outputs are "
        "the final row of the model table (cumulative for value, beneficiaries, costs; a count *now* for "
        "sites running). A lever's low or high may equal the preset's own value. Plots: left, the documented "
        f"effect as a signal-to-noise ratio (high - low) / SE, signed so that right is the documented direction "
        f"(grey band: +/- {m['se_multiple']:g} SE, dead; values beyond 30 drawn at 30); right, the effect of the lever on social "
        "value in % of the default's mean, with its 95 % interval.",
        "",
    ]
    for preset, info in m["presets"].items():
        eff = rep.effects[rep.effects["preset"] == preset]
        doc = eff[eff["expected"] != 0]
        prun = PRESET_RUNS.get(preset)
        lines += [f"## `{preset}`", ""]
        ov = ", ".join(f"`{k} = {v}`" for k, v in info["overrides"].items()) or "none"
        runs, secs = info.get("runs", 0), info.get("run_seconds", 0.0)
        lines += [f"{info['replicates']} replicates per setting, {info['steps']} steps, overrides: {ov}; {runs} runs, "
                  f"{secs:.0f} s of run time ({secs / max(runs, 1):.2f} s a run)."]
        if prun and prun.note and info["overrides"]:
            lines += ["", f"Lighter run: {prun.note}"]
        lines += [""]
        for label, sel in (("Act as documented", doc["verdict"] == "moves as documented"),
                           ("Dead", doc["verdict"] == "dead"), ("Contradict", doc["verdict"] == "contradicts"),
                           ("Not measurable", doc["verdict"] == "n/a")):
            names = [f"`{r.lever}` ({r.output})" for r in doc[sel].itertuples()]
            if names:
                lines += [f"* **{label}** ({len(names)}): " + ", ".join(names)]
        lines += [""]
        for img in (f"levers-{preset}.png", f"levers-{preset}-curves.png"):
            if img in images:
                lines += [f"![{img}](img/{img})", ""]
        lines += ["### Documented effects", "",
                  "| lever | low / default / high | output | expected | documented here | mean low | mean default | mean high "
                  "| high - low [95 % CI] | SE | % of default | verdict |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in doc.itertuples():
            row = pd.Series(r._asdict())
            lines.append(
                f"| `{r.lever}` | {_value(r.low)} / {_value(r.default)} / {_value(r.high)} | `{r.output}` | "
                f"{'+' if r.expected > 0 else '-'} | {'yes' if r.enforced else 'no'} | {_num(r.mean_low)} | "
                f"{_num(r.mean_default)} | {_num(r.mean_high)} | {_interval(row)} | {_num(r.se)} | "
                f"{_percent(r.rel_diff)} | **{_MARK[r.verdict]}** |")
        lines += ["", "### Side effects on the main outputs (high - low [95 % CI], verdict)", "",
                  "| lever | " + " | ".join(f"`{o}`" for o in MAIN_OUTPUTS) + " |",
                  "|---|" + "---|" * len(MAIN_OUTPUTS)]
        for key in dict.fromkeys(eff["lever"]):
            cells = []
            for o in MAIN_OUTPUTS:
                hit = eff[(eff["lever"] == key) & (eff["output"] == o)]
                if not len(hit):
                    cells.append("")
                    continue
                r = hit.iloc[0]
                cells.append(f"{_interval(r)} {_MARK[r['verdict']]}")
            lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
        means = eff[eff["role"] == "side effect"].drop_duplicates("output").set_index("output")["mean_default"]
        if len(means):
            lines += ["", "Default means: " + ", ".join(f"`{o}` {_num(v)}" for o, v in means.items()) + "."]
        lines += [""]
    if rep.failures:
        lines += [f"{len(rep.failures)} run(s) failed: see `failures.json` next to the report.", ""]
    return "\n".join(lines)


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_COLOURS = {"moves as documented": "tab:green", "contradicts": "tab:red", "dead": "tab:grey", "n/a": "lightgrey"}


def plot_effects(eff: pd.DataFrame, preset: str, path: Path) -> Path:
    """Dot-and-interval chart: documented effect as (high - low) / SE, and effect on social value in % of default."""
    plt = _pyplot()
    doc = eff[eff["expected"] != 0].reset_index(drop=True)
    val = eff[eff["output"] == CURVE_OUTPUT].set_index("lever")
    n = len(doc)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 0.34 * n + 1.6), sharey=True)
    y = np.arange(n)[::-1]
    cap = 30.0
    for yi, r in zip(y, doc.itertuples(), strict=True):
        z = r.expected * r.diff / r.se if r.se > 0 else (math.copysign(math.inf, r.expected * r.diff) if r.diff else 0.0)
        z = 0.0 if not math.isfinite(r.diff) else z
        zc = max(-cap, min(cap, z))
        a1.plot([zc], [yi], "o", color=_COLOURS[r.verdict], mfc=_COLOURS[r.verdict] if r.enforced else "white", ms=7)
        if abs(z) > cap:
            a1.annotate(f"{z:.0f}" if math.isfinite(z) else "SE 0", (zc, yi), textcoords="offset points",
                        xytext=(-8 if z > 0 else 8, 5), fontsize=7, ha="right" if z > 0 else "left")
        base = val.loc[r.lever] if r.lever in val.index else None
        if base is not None and math.isfinite(base["mean_default"]) and base["mean_default"] != 0:
            s = 100.0 / abs(base["mean_default"])
            c = _COLOURS.get(base["verdict"], "tab:blue")
            a2.errorbar([base["diff"] * s], [yi], xerr=[[max(0.0, (base["diff"] - base["ci_low"]) * s)],
                                                         [max(0.0, (base["ci_high"] - base["diff"]) * s)]],
                        fmt="o", color=c if base["verdict"] == "dead" else "tab:blue", ms=5, capsize=2)
    a1.axvspan(-SE_MULTIPLE, SE_MULTIPLE, color="0.9", zorder=0)
    a1.axvline(0, color="0.5", lw=0.8)
    a2.axvline(0, color="0.5", lw=0.8)
    a1.set_yticks(y, [f"{r.lever.split('.', 1)[1]} -> {r.output} ({'+' if r.expected > 0 else '-'})"
                      for r in doc.itertuples()], fontsize=8)
    a1.set_xlim(-cap - 2, cap + 2)
    a1.set_xlabel("documented effect: (high - low) / SE, + = documented direction")
    a2.set_xlabel(f"effect on {CURVE_OUTPUT}: (high - low) in % of the default's mean, 95 % CI")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=c, label=_MARK[v]) for v, c in _COLOURS.items()]
    handles.append(Line2D([], [], marker="o", ls="", color="k", mfc="white", label="not documented for this preset"))
    a1.legend(handles=handles, fontsize=7, loc="lower right")
    fig.suptitle(f"{preset}: lever effects, high - low, paired over replicates (common random numbers)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_curves(series: pd.DataFrame, preset: str, path: Path) -> Path:
    """Mean curve of :data:`CURVE_OUTPUT` over months per lever: low, default and high."""
    plt = _pyplot()
    keys = [k for k in dict.fromkeys(series["lever"]) if k]
    cols = 5
    rows = max(1, math.ceil(len(keys) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.1 * rows), squeeze=False, sharex=True)
    default = series[series["setting"] == "default"].groupby("month")[CURVE_OUTPUT].mean()
    for ax, key in zip(axes.flat, keys, strict=False):
        s = series[series["lever"] == key]
        for setting, colour in (("low", "tab:blue"), ("high", "tab:red")):
            m = s[s["setting"] == setting].groupby("month")[CURVE_OUTPUT].mean()
            ax.plot(m.index, m.to_numpy(), color=colour, lw=1.2, label=setting)
        if len(default):
            ax.plot(default.index, default.to_numpy(), color="k", lw=0.8, ls="--", label="default")
        ax.set_title(key.split(".", 1)[1], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{preset}: mean {CURVE_OUTPUT} over months at each lever's low (blue), high (red), default (dashed)",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
