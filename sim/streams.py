"""Random streams owned by a model, split by purpose.

Each purpose (world building, organisation networks, people, ...) draws from its
own :class:`numpy.random.Generator`, spawned from one ``SeedSequence`` in a fixed
order. Changing how one rule draws therefore does not shift any other rule's
draws, and two scenarios run with the same seed share their streams (common
random numbers): they differ only by what was changed.
"""

from __future__ import annotations

import numpy as np

PURPOSES: tuple[str, ...] = (
    "places",
    "org_network",
    "population_network",
    "organisations",
    "people",
    "solution",
    "funding",
    "process",
    "scaling",
    "turnover",
    "sites",
    "interventions",
    "regions",
    "uptake",
)
"""Stream names, in spawn order. Append new purposes at the end only."""


class Streams:
    """Named, independent random generators derived from one seed."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
        self.seed_sequence = ss
        self._gens = {name: np.random.default_rng(child) for name, child in zip(PURPOSES, ss.spawn(len(PURPOSES)), strict=True)}

    def __getitem__(self, purpose: str) -> np.random.Generator:
        return self._gens[purpose]

    def __getattr__(self, purpose: str) -> np.random.Generator:
        try:
            return self._gens[purpose]
        except KeyError:
            raise AttributeError(purpose) from None
