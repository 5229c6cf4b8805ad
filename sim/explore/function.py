"""The model as a plain Python function, for EMA Workbench and other exploration tools.

::

    from sim.explore.function import simulate

    simulate(levers__adaptation_rate=0.1, organisations__q=0.3, steps=60, seed=1)
    # {'value_social': 3123.0, 'net_economic': ..., 'orgs_adopted': ..., ...}

Keyword arguments are dotted scenario parameters written with ``__`` for the dots
(Python names cannot hold dots; ``levers__adaptation_rate`` is
``levers.adaptation_rate``). ``scenario`` is a preset name or a file, ``steps``
[steps] defaults to the scenario's ``run.steps`` and ``seed`` is the run's root
seed: pass the same seed to every policy to compare them with common random
numbers. The return value maps each name of ``outputs`` to its final value (a float).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sim.explore.runner import outputs_of

DEFAULT_OUTPUTS: tuple[str, ...] = (
    "value_social", "net_economic", "orgs_adopted", "places_reached", "people_benefiting", "time_to_50pct_places",
)


@lru_cache(maxsize=8)
def _base(scenario: str) -> dict[str, Any]:
    from sim.explore.experiment import resolve_experiment_scenario, scenario_data

    return scenario_data(resolve_experiment_scenario(scenario, None))


def simulate(
    scenario: str = "teaching",
    steps: int | None = None,
    seed: int = 0,
    outputs: tuple[str, ...] | list[str] = DEFAULT_OUTPUTS,
    **params: Any,
) -> dict[str, float]:
    """Run ``scenario`` once with ``params`` (``section__name=value``) and return the final ``outputs``."""
    from sim.api import run
    from sim.scenario import apply_overrides, scenario_from_dict

    overrides = {k.replace("__", "."): v for k, v in params.items()}
    sc = scenario_from_dict(apply_overrides(_base(str(scenario)), overrides), source=f"simulate({scenario})")
    return outputs_of(run(sc, seed=int(seed), steps=steps), tuple(outputs))
