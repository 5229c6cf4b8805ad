"""EMA Workbench with the social-innovation model as a plain Python function.

EMA is an optional extra (``pip install ema_workbench``); the model needs nothing of
it. ``sim.explore.function.simulate`` takes scenario parameters as keyword arguments
(``section__name`` for ``section.name``) and returns a dict of final outputs, which
is exactly what ``ema_workbench.Model(function=...)`` expects.

Run (about a minute on two cores)::

    python experiments/ema_example.py

It samples 8 "scenarios" of the uncertain imitation coefficient and place openness,
crosses them with 3 policies of adaptation rate and guardrails (Latin hypercube),
runs all 24 on the teaching preset with one shared seed (common random numbers,
so policies differ only by their levers), and prints the mean social value per
policy.
"""

from __future__ import annotations

import sys

from sim.explore.function import simulate


def main(n_scenarios: int = 8, n_policies: int = 3, steps: int = 60) -> None:
    try:
        from ema_workbench import (
            Constant,
            Model,
            MultiprocessingEvaluator,
            RealParameter,
            ScalarOutcome,
            perform_experiments,
        )
    except ImportError:
        sys.exit("this example needs the optional ema_workbench package: pip install ema_workbench")

    model = Model("social_innovation", function=simulate)
    model.uncertainties = [
        RealParameter("organisations__q", 0.1, 0.5),
        RealParameter("places__openness_mean", 0.2, 0.7),
    ]
    model.levers = [
        RealParameter("levers__adaptation_rate", 0.0, 0.5),
        RealParameter("levers__guardrails", 0.0, 1.0),
    ]
    model.constants = [Constant("scenario", "teaching"), Constant("steps", steps), Constant("seed", 1)]
    model.outcomes = [ScalarOutcome("value_social"), ScalarOutcome("net_economic"), ScalarOutcome("orgs_adopted")]

    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = perform_experiments(
            model, scenarios=n_scenarios, policies=n_policies, evaluator=evaluator
        )
    experiments["value_social"] = outcomes["value_social"]
    print(experiments.groupby("policy")[["levers__adaptation_rate", "levers__guardrails", "value_social"]].mean())


if __name__ == "__main__":
    main()
