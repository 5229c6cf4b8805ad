"""The experiment file: which scenario, which parameters, which design, which outputs.

An experiment is TOML::

    scenario = "scenarios/teaching.toml"   # path (relative to this file or the repo root) or preset name
    design = "grid"                        # grid | lhs | sobol | morris
    samples = 8                            # lhs: points; sobol: base N (power of 2); morris: trajectories
    replicates = 2                         # runs per design point, seeds shared across points
    root_seed = 1                          # every seed derives from this one
    steps = 60                             # default: the scenario's run.steps
    outputs = ["orgs_adopted", "people_benefiting", "value_social"]
    timeseries = false                     # also keep every step of the outputs
    [set]                                  # fixed overrides applied to every run
    "scaling_up.enabled" = false
    [parameters]
    "organisations.q" = [0.1, 0.3]         # grid: the values; other designs: [low, high]
    # grid only: several parameters varied together, one tuple per level
    "levers.project_length_min,levers.project_length_max" = [[12, 12], [24, 36]]

Unknown keys, wrong types and bad ranges raise :class:`ExperimentError` naming the
file, the field and the allowed range. Parameter values outside the scenario
schema's range are *not* rejected here: such design points are run and recorded as
failed runs (see :mod:`sim.explore.store`), and a warning lists them in advance.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.scenario import Scenario, ScenarioError, _strict_value, cut, read_toml_file, resolve_scenario_path, short, table_default

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (scenario paths may be relative to it)."""

Design = Literal["grid", "lhs", "sobol", "morris"]
Value = float | int | bool | str


class ExperimentError(ValueError):
    """An experiment file could not be loaded: the message names file, field and range."""


class Experiment(BaseModel):
    """A validated experiment (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scenario: str = Field(description="Base scenario: a path (relative to the experiment file or repo root) or preset.")
    name: str = Field("", max_length=200, description="Short name of the experiment (default: the file name).")
    description: str = Field("", max_length=20_000, description="What question the experiment answers.")
    design: Design = Field("grid", description="grid | lhs | sobol | morris.")
    samples: int = Field(8, ge=1, le=1_000_000, description="lhs: points; sobol: base N; morris: trajectories [-].")
    replicates: int = Field(1, ge=1, le=100_000, description="Runs per design point [runs].")
    root_seed: int = Field(0, ge=0, le=2**63 - 1, description="Root seed of every run's seed [-].")
    steps: int | None = Field(None, ge=1, le=100_000, description="Steps per run (default: scenario run.steps).")
    outputs: list[str] = Field(min_length=1, description="Outputs kept per run (final values / summary figures).")
    timeseries: bool = Field(False, description="Also store every step of the outputs (separate dataset).")
    second_order: bool = Field(False, description="sobol: also sample for second-order indices (N*(2D+2) points).")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels [-].")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed dotted overrides applied to every run.")
    parameters: dict[str, list[Any]] = Field(min_length=1, description="Dotted parameter -> values or [low, high].")

    @field_validator("outputs")
    @classmethod
    def _known_outputs(cls, v: list[str]) -> list[str]:
        known = output_names()
        bad = [o for o in v if o not in known]
        if bad:
            raise ValueError(f"unknown output(s) {bad}; known: {sorted(known)}")
        if len(set(v)) != len(v):
            raise ValueError("outputs must not repeat")
        return v

    @model_validator(mode="after")
    def _check_parameters(self) -> Experiment:
        n_points = 1
        for key, values in self.parameters.items():
            names = [n.strip() for n in key.split(",")]
            where = f"parameters.{cut(key, 80)}"
            for name in names:
                try:
                    _schema_field(name)
                except ValueError as err:
                    raise ValueError(f"{where}: {err}") from None
            if len(names) > 1:
                if self.design != "grid":
                    raise ValueError(f"{where}: linked parameters are allowed for design 'grid' only")
                if not values or any(not isinstance(t, list) or len(t) != len(names) for t in values):
                    raise ValueError(f"{where}: expected a list of {len(names)}-element lists")
                for t in values:
                    for name, v in zip(names, t, strict=True):
                        _check_value(where, name, v)
            elif self.design == "grid":
                if not values:
                    raise ValueError(f"{where}: a grid needs at least one value")
                for v in values:
                    _check_value(where, names[0], v)
            else:
                if (len(values) != 2 or not all(_is_number(x) and math.isfinite(x) for x in values)
                        or not values[0] < values[1]):
                    raise ValueError(
                        f"{where}: design {self.design!r} needs [low, high] finite numbers with low < high; "
                        f"got {short(values)}"
                    )
                if _leaf(names[0])[0] not in (int, float):
                    raise ValueError(f"{where}: design {self.design!r} can vary numbers only, not this parameter")
            n_points *= max(len(values), 1)
        if self.design == "morris" and self.samples < 2:
            raise ValueError("samples: morris needs at least 2 trajectories")
        if self.design == "sobol" and self.samples < 2:
            raise ValueError("samples: sobol needs a base N of at least 2 (a power of 2 is best)")
        if self.design != "grid":
            n_points = self.samples * (2 * len(self.parameters) + 2)
        if n_points * self.replicates > MAX_RUNS:
            raise ValueError(f"parameters: the design makes more than {MAX_RUNS:,} runs "
                             f"(about {n_points * self.replicates:.3g}); split the experiment")
        for name in self.set:
            try:
                _schema_field(name)
            except ValueError as err:
                raise ValueError(f"set.{cut(name, 80)}: {err}") from None
        return self

    @property
    def parameter_names(self) -> list[str]:
        """Every varied parameter's dotted name (linked grid keys expanded), in file order."""
        return [n.strip() for key in self.parameters for n in key.split(",")]

    def to_dict(self) -> dict[str, Any]:
        """The experiment as plain JSON-able data."""
        return self.model_dump(mode="json")


MAX_RUNS = 10_000_000
"""Most runs one experiment may make (design points x replicates) [runs]."""


def _leaf(dotted: str) -> tuple[Any, bool]:
    """``(type, non_negative)`` of the values a dotted parameter takes (a dict-valued field's entry type for its keys)."""
    info = _schema_field(dotted)
    ann = info.annotation
    if len(dotted.split(".")) == 3 and get_origin(ann) is dict:
        return get_args(ann)[1], True
    lo = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    return ann, lo is not None and lo >= 0


def _check_value(where: str, name: str, value: Any) -> None:
    """Refuse a design value of the wrong type for its parameter (a string for a number, NaN, a table...)."""
    ann, nonneg = _leaf(name)
    if isinstance(value, (dict, list)) or get_origin(ann) in (dict, list):
        raise ValueError(f"{where}: {name} takes {'tables or lists' if get_origin(ann) else 'single values'}, "
                         f"which a design cannot vary; got {short(value)}")
    try:
        _strict_value(value, ann, nonneg)
    except ValueError as err:
        raise ValueError(f"{where}: value {short(value)} for {name}: {err}") from None
    if ann is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{where}: value {short(value)} for {name}: an integer is needed")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _schema_field(dotted: str) -> Any:
    """The pydantic field of a dotted scenario parameter, or ``ValueError`` naming it."""
    model: Any = Scenario
    info = None
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None:
            if info is not None and getattr(info.annotation, "__origin__", None) is dict and i == len(parts) - 1:
                keys = table_default(parts[:-1])
                if keys and part not in keys:  # a table with a fixed set of keys
                    raise ValueError(f"{dotted!r} is not a scenario parameter ({part!r} is not a key of "
                                     f"{'.'.join(parts[:-1])}; allowed: {', '.join(keys)})")
                return info  # a key of a dict-valued field, e.g. organisations.sector_shares.public
            raise ValueError(f"{dotted!r} is not a scenario parameter")
        if part not in fields:
            raise ValueError(f"{dotted!r} is not a scenario parameter ({part!r} unknown)")
        info = fields[part]
        model = info.annotation
    if info is None or getattr(model, "model_fields", None) is not None:
        raise ValueError(f"{dotted!r} is a section, not a parameter")
    return info


def field_is_int(dotted: str) -> bool:
    """Whether a dotted scenario parameter is an integer (sampled values are rounded)."""
    try:
        return _schema_field(dotted).annotation is int
    except ValueError:
        return False


def field_range(dotted: str) -> tuple[float | None, float | None]:
    """The schema's inclusive range of a dotted parameter ``(low, high)``; ``None`` if open."""
    from sim.params import table_entry_range

    lo = hi = None
    try:
        info = _schema_field(dotted)
        entry = table_entry_range(dotted)
    except ValueError:
        return None, None
    if entry is not None:  # an entry of a numeric table (value.site_cost_sek.project)
        return entry[0], (None if entry[1] == float("inf") else entry[1])
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


@lru_cache(maxsize=1)
def output_names() -> frozenset[str]:
    """Every output a run can report: the model table's columns and the summary figures.

    Found by running a one-place scenario for one step (milliseconds), so new columns
    of the model table are picked up without a list to keep in sync.
    """
    from sim.api import run
    from sim.scenario import scenario_from_dict

    tiny = scenario_from_dict(
        {"places": {"n": 1, "population_mean": 200.0}, "organisations": {"base_per_place": 2, "initial_adopters": 1}},
        source="<output names>",
    )
    res = run(tiny, seed=0, steps=1)
    names = set(res.model.columns) | set(res.summary())
    return frozenset(names - {"step", "month"})


def resolve_experiment_scenario(scenario: str, experiment_path: Path | None) -> Path:
    """Find the base scenario: relative to the experiment file, then the repo root, then a preset."""
    p = Path(scenario)
    cands = [p] if p.is_absolute() else []
    if experiment_path is not None and not p.is_absolute():
        cands.append(experiment_path.parent / p)
    if not p.is_absolute():
        cands.append(ROOT / p)
    for c in cands:
        if c.is_file():
            return c.resolve()
    return resolve_scenario_path(scenario)


def scenario_data(path: Path) -> dict[str, Any]:
    """The raw scenario dict of a file (its ``extends`` chain merged, ``name`` defaulted to its stem), unvalidated."""
    from sim.scenario import read_scenario_data

    return read_scenario_data(path)[0]


def load_experiment(path: str | Path) -> tuple[Experiment, dict[str, Any]]:
    """Load and validate an experiment file; return it and its base scenario dict (``set`` applied).

    Raises :class:`ExperimentError` naming the file, the field and the allowed range.
    """
    path = Path(path)
    try:
        raw = read_toml_file(path, "experiment")
    except ScenarioError as err:
        raise ExperimentError(str(err)) from None
    raw.setdefault("name", path.stem[:200])
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as err:
        raise ExperimentError(_format(path, err)) from None
    try:
        spath = resolve_experiment_scenario(exp.scenario, path)
        base = scenario_data(spath)
    except (ScenarioError, OSError) as err:
        raise ExperimentError(f"{path}: field scenario: {err}") from None
    from sim.preflight import check_scenario
    from sim.scenario import apply_overrides, scenario_from_dict

    source = f"{spath} with {path}'s [set]"
    try:
        base = apply_overrides(base, dict(exp.set))
        check_scenario(scenario_from_dict(base, source=source), source)
    except ScenarioError as err:
        raise ExperimentError(str(err)) from None
    exp = exp.model_copy(update={"scenario": str(spath)})
    return exp, base


def _format(path: Path, err: ValidationError) -> str:
    errors = err.errors()
    lines = [f"{path}: invalid experiment"]
    for e in errors[:20]:
        loc = ".".join(str(x) for x in e["loc"])
        text = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (allowed: " + ", ".join(Experiment.model_fields) + ")"
        elif not loc:  # a check across fields: its message starts with the field
            lines.append(f"  field {text}")
            continue
        else:
            msg = f"{text}; got {short(e.get('input'))}"
        rng = _range_of(e["loc"])
        lines.append(f"  field {cut(loc)}: {msg}" + (f" (allowed range {rng})" if rng else ""))
    if len(errors) > 20:
        lines.append(f"  ... and {len(errors) - 20} more errors")
    return "\n".join(lines)


def _range_of(loc: tuple[Any, ...]) -> str | None:
    if not loc or loc[0] not in Experiment.model_fields:
        return None
    lo = hi = None
    for m in Experiment.model_fields[loc[0]].metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is None and hi is None:
        return None
    return f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"


def fingerprint(exp: Experiment, base: dict[str, Any]) -> str:
    """A hash of everything that determines a sweep's runs: experiment and scenario contents and the model's code.

    The code is :func:`sim.api.code_fingerprint` (the ``sim`` package's sources), so a sweep
    resumed after the model changed is refused rather than mixing runs of two models in one store.
    """
    from sim.api import code_fingerprint

    d = exp.to_dict()
    for k in ("description", "scenario", "name"):  # contents matter, not where the file lives
        d.pop(k, None)
    blob = json.dumps({"experiment": d, "scenario": base, "code": code_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
