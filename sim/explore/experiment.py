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
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.scenario import Scenario, ScenarioError, resolve_scenario_path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (scenario paths may be relative to it)."""

Design = Literal["grid", "lhs", "sobol", "morris"]
Value = float | int | bool | str


class ExperimentError(ValueError):
    """An experiment file could not be loaded: the message names file, field and range."""


class Experiment(BaseModel):
    """A validated experiment (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="Base scenario: a path (relative to the experiment file or repo root) or preset.")
    name: str = Field("", description="Short name of the experiment (default: the file name).")
    description: str = Field("", description="What question the experiment answers.")
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
        for key, values in self.parameters.items():
            names = key.split(",")
            for name in names:
                _schema_field(name.strip())
            if len(names) > 1:
                if self.design != "grid":
                    raise ValueError(f"parameters.{key}: linked parameters are allowed for design 'grid' only")
                if not values or any(not isinstance(t, list) or len(t) != len(names) for t in values):
                    raise ValueError(f"parameters.{key}: expected a list of {len(names)}-element lists")
            elif self.design == "grid":
                if not values:
                    raise ValueError(f"parameters.{key}: a grid needs at least one value")
            else:
                if len(values) != 2 or not all(_is_number(x) for x in values) or not values[0] < values[1]:
                    raise ValueError(
                        f"parameters.{key}: design {self.design!r} needs [low, high] numbers with low < high; "
                        f"got {values!r}"
                    )
        if self.design == "morris" and self.samples < 2:
            raise ValueError("samples: morris needs at least 2 trajectories")
        if self.design == "sobol" and self.samples < 2:
            raise ValueError("samples: sobol needs a base N of at least 2 (a power of 2 is best)")
        for name in self.set:
            _schema_field(name)
        return self

    @property
    def parameter_names(self) -> list[str]:
        """Every varied parameter's dotted name (linked grid keys expanded), in file order."""
        return [n.strip() for key in self.parameters for n in key.split(",")]

    def to_dict(self) -> dict[str, Any]:
        """The experiment as plain JSON-able data."""
        return self.model_dump(mode="json")


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
    lo = hi = None
    try:
        info = _schema_field(dotted)
    except ValueError:
        return None, None
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
    """The raw scenario dict of a file (``name`` defaulted to its stem), unvalidated."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("name", path.stem)
    return data


def load_experiment(path: str | Path) -> tuple[Experiment, dict[str, Any]]:
    """Load and validate an experiment file; return it and its base scenario dict (``set`` applied).

    Raises :class:`ExperimentError` naming the file, the field and the allowed range.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such experiment file") from None
    except tomllib.TOMLDecodeError as err:
        raise ExperimentError(f"{path}: not valid TOML: {err}") from None
    raw.setdefault("name", path.stem)
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as err:
        raise ExperimentError(_format(path, err)) from None
    try:
        spath = resolve_experiment_scenario(exp.scenario, path)
        base = scenario_data(spath)
    except (ScenarioError, tomllib.TOMLDecodeError, OSError) as err:
        raise ExperimentError(f"{path}: field scenario: {err}") from None
    from sim.scenario import apply_overrides, scenario_from_dict

    base = apply_overrides(base, dict(exp.set))
    try:
        scenario_from_dict(base, source=f"{spath} with {path}'s [set]")
    except ScenarioError as err:
        raise ExperimentError(str(err)) from None
    exp = exp.model_copy(update={"scenario": str(spath)})
    return exp, base


def _format(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid experiment"]
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(experiment)"
        if e["type"] == "extra_forbidden":
            msg = "unknown key (allowed: " + ", ".join(Experiment.model_fields) + ")"
        else:
            msg = f"{e['msg']}; got {e.get('input')!r}"
        rng = _range_of(e["loc"])
        lines.append(f"  field {loc}: {msg}" + (f" (allowed range {rng})" if rng else ""))
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
    """A hash of everything that determines a sweep's runs (experiment and scenario contents)."""
    d = exp.to_dict()
    for k in ("description", "scenario", "name"):  # contents matter, not where the file lives
        d.pop(k, None)
    blob = json.dumps({"experiment": d, "scenario": base}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
