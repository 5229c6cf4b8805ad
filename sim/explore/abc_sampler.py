"""A pyabc sampler whose populations depend only on the seed, not on the number of worker processes.

pyabc's own parallel samplers (``MulticoreEvalParallelSampler`` and friends) let every worker draw
parameters and model seeds from whatever random state its process has and accept particles in the
order they finish, so a rerun with the same seed, or with another number of workers, gives another
posterior. :class:`OrderedSampler` numbers the candidates of each generation instead:

* candidate ``k`` of generation ``t`` is simulated after seeding numpy's global generator (from
  which pyabc draws parameters and :class:`sim.explore.calibrate._AbcModel` the model seed) and
  Python's ``random`` from ``SeedSequence([seed, t + 2, k])`` alone (``t`` is -1 for pyabc's
  calibration sample from the prior);
* candidates run in batches whose size depends on the population size and on acceptance rates
  seen so far, never on the number of workers; a batch is evaluated whole (by ``workers`` forked
  processes, or in this process when ``workers == 1``), its results are read in candidate order;
* particles are accepted in candidate order until ``n`` are accepted; the candidates after the
  ``n``-th accepted one are dropped and not counted in ``nr_evaluations_``.

So the sample (accepted and, when the distance asks for them, rejected particles), the number of
evaluations and therefore the whole pyabc history are the same bytes for any ``workers``, and the
number of simulations run (batches are run whole) is the same too.
"""

from __future__ import annotations

import math
import multiprocessing
import random
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from numbers import Real
from typing import Any

import numpy as np
from pyabc.sampler import Sampler

MIN_BATCH = 4
"""Fewest candidates in a batch (a tail batch for the last few acceptances) [candidates]."""

_SIMULATE: Callable[[], Any] | None = None
"""pyabc's ``simulate_one`` of the generation being sampled; set before the pool forks, so workers inherit it."""


def candidate_seed(seed: int, t: int, k: int) -> np.ndarray:
    """128 bits of seed for candidate ``k`` of generation ``t`` (``t >= -1``) under root ``seed``."""
    return np.random.SeedSequence([seed % 2**64, t + 2, k]).generate_state(4, np.uint32)


def _evaluate(simulate_one: Callable[[], Any], seed: int, t: int, k: int) -> Any:
    """Seed numpy's and Python's global generators for candidate ``k``, then simulate it."""
    state = candidate_seed(seed, t, k)
    np.random.seed(state)
    random.seed(int.from_bytes(state.tobytes(), "little"))
    return simulate_one()


def _evaluate_in_worker(job: tuple[int, int, int]) -> Any:
    """Evaluate one candidate ``(seed, t, k)`` in a forked worker, with the inherited ``simulate_one``."""
    assert _SIMULATE is not None, "the worker was not forked from OrderedSampler"
    return _evaluate(_SIMULATE, *job)


@contextmanager
def _kept_global_state() -> Iterator[None]:
    """Restore numpy's and Python's global random states afterwards (in-process evaluation reseeds them)."""
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


class OrderedSampler(Sampler):
    """Reproducible parallel ABC-SMC sampling: same ``seed``, same population, for any ``workers``.

    ``workers``: processes that evaluate a batch (1: in this process, no pool). ``seed``: root of
    every candidate's seed. ``batch``: a fixed number of candidates per batch; by default a batch
    is the number of candidates expected to give the acceptances still missing, at the acceptance
    rate of this generation so far (of the previous generation, or ``acceptance_rate``, before
    anything was accepted; all ``n`` when no rate is known), at least :data:`MIN_BATCH`.
    Neither choice changes the sample, only how many simulations past the ``n``-th acceptance are
    run and discarded. Workers are forked (Linux), so the simulator, and a shared counter such as
    :data:`sim.validation.forecast._RUNS`, need not be picklable; only the particles come back pickled.
    """

    def __init__(self, workers: int, seed: int, batch: int | None = None, acceptance_rate: float | None = None):
        super().__init__()
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if batch is not None and batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.workers = int(workers)
        self.seed = int(seed)
        self.batch = batch
        self.acceptance_rate = acceptance_rate if acceptance_rate and 0 < acceptance_rate <= 1 else None
        """Acceptance rate of the last generation sampled (the first batch's guess for the next)."""
        self.simulations_run_ = 0
        """Simulations run in the last call, the discarded tail of the last batch included."""

    def _batch_size(self, n: int, accepted: int, evaluated: int, all_accepted: bool) -> int:
        """Candidates in the next batch: a function of counts and stored rates, never of ``workers``."""
        if self.batch is not None:
            return self.batch
        missing = n - accepted
        if all_accepted:
            return missing
        rate = accepted / evaluated if accepted else self.acceptance_rate
        if rate is None:
            return max(MIN_BATCH, missing)
        # aim about one standard deviation short of the missing acceptances (Poisson): overshooting wastes
        # simulations, falling short costs one more, smaller batch
        return max(MIN_BATCH, math.ceil(max(1.0, missing - math.sqrt(missing)) / rate))

    def _run_batch(self, simulate_one: Callable[[], Any], t: int, ks: Sequence[int],
                   pool: ProcessPoolExecutor | None) -> list[Any]:
        """Evaluate candidates ``ks`` of generation ``t``; results in candidate order."""
        if pool is None:
            return [_evaluate(simulate_one, self.seed, t, k) for k in ks]
        chunk = max(1, len(ks) // (4 * self.workers))  # scheduling only: results come back in order
        return list(pool.map(_evaluate_in_worker, [(self.seed, t, k) for k in ks], chunksize=chunk))

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: Real = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,  # noqa: ARG002 - part of pyabc's interface, not needed here
    ) -> Any:
        """Simulate candidates 0, 1, ... of generation ``t`` in batches; accept in candidate order until ``n``.

        Stops early, with ``sample.ok = False``, when ``max_eval`` candidates give fewer than ``n``
        acceptances. Sets ``nr_evaluations_`` to the candidates up to the ``n``-th accepted one.
        """
        global _SIMULATE
        from jabbar import jabbar

        sample = self._create_empty_sample()
        accepted = evaluated = run = 0
        pool = None
        with _kept_global_state(), jabbar(total=n, enable=self.show_progress, keep=False) as bar:
            try:
                if self.workers > 1:
                    _SIMULATE = simulate_one
                    pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
                while accepted < n and evaluated < max_eval:
                    size = self._batch_size(n, accepted, evaluated, all_accepted)
                    if max_eval < np.inf:
                        size = min(size, int(max_eval) - evaluated)
                    particles = self._run_batch(simulate_one, t, range(run, run + size), pool)
                    run += size
                    for particle in particles:
                        sample.append(particle)
                        evaluated += 1
                        if particle.accepted:
                            accepted += 1
                            bar.inc()
                            if accepted == n:
                                break
            finally:
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                _SIMULATE = None
        self.nr_evaluations_ = evaluated
        self.simulations_run_ = run
        if accepted < n:
            sample.ok = False
        elif not all_accepted:
            self.acceptance_rate = n / evaluated
        return sample
