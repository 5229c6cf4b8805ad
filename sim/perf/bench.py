"""``sim bench``: the target-group step, the full model step and the machine probes, in one process.

Figures (all medians over ``steps`` timed steps, after warm-up; milliseconds):

* ``target_step_ms`` - the bare target-group step on a synthetic population of ``n``
  members (places of :data:`PLACE_SIZE` members, ``degree`` ties each, 90 % inside
  the place; every place served; states drawn as in the middle of a run), including
  its one float32 uniform per member;
* ``floor_ms`` - the floor of that step from the probes (:mod:`sim.perf.probes`), and
  ``ratio_to_floor = target_step_ms / floor_ms`` (goal: at most 3);
* ``full_model_step_ms`` - one step of the preset's model (default: the Sweden
  preset), after ``warmup_model`` steps, and ``preset_target_step_ms`` - the bare
  target-group step on a copy of the same population with the same service,
  interleaved with it; ``full_to_target_ratio`` (goal: at most 2).
"""

from __future__ import annotations

import copy
import platform
import time
from typing import Any

import numpy as np

from sim.perf.probes import probe
from sim.population import AWARE, BENEFITING, DROPPED_OUT, PARTICIPATING, UNAWARE, PlaceService, TargetGroup, kernels
from sim.scenario import PopulationParams
from sim.world import build_population_network

PLACE_SIZE = 10_000
"""Members per place of the synthetic population."""
MID_RUN_SHARES = {UNAWARE: 0.30, AWARE: 0.45, PARTICIPATING: 0.05, BENEFITING: 0.13, DROPPED_OUT: 0.07}
"""State shares the synthetic population starts from (the middle of a typical run)."""


def synthetic_population(n: int, degree: int = 10, seed: int = 0) -> tuple[TargetGroup, PlaceService]:
    """A target group of ``n`` members in places of ``PLACE_SIZE``, mid-run states, every place served."""
    n_places = max(1, -(-n // PLACE_SIZE))
    sizes = np.full(n_places, n // n_places, np.int64)
    sizes[: n - int(sizes.sum())] += 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rng = np.random.default_rng(seed)
    indptr, indices = build_population_network(starts, sizes, degree, 0.9, rng)
    tg = TargetGroup(sizes, rng.uniform(0.1, 0.4, n_places), indptr, indices, PopulationParams(degree=degree), rng)
    shares = np.array([MID_RUN_SHARES[s] for s in range(5)])
    tg.state[:] = rng.choice(5, n, p=shares / shares.sum()).astype(np.int8)
    site_capacity = tg.params.site_capacity
    sites = np.ceil(0.06 * sizes / site_capacity)  # room for about 6 % of members
    service = PlaceService(
        sites=sites.astype(np.float64), fit=np.full(n_places, 0.8), effectiveness=np.full(n_places, 0.08),
        openness=np.full(n_places, 0.5), outreach_boost=np.ones(n_places),
    )
    return tg, service


def time_target_step(tg: TargetGroup, service: PlaceService, steps: int, rng: np.random.Generator) -> list[float]:
    """Wall times [s] of ``steps`` target-group steps (one draw per member from ``rng`` + the step)."""
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        tg.step(service, 1.0, "probability", tg.draw_uniforms(rng))
        out.append(time.perf_counter() - t0)
    return out


def bench_target(n: int, degree: int, steps: int, warmup: int = 2, seed: int = 0) -> dict[str, Any]:
    """Time the bare target-group step at ``n`` and ``degree``; probes at the same size; ratio to the floor."""
    t0 = time.perf_counter()
    tg, service = synthetic_population(n, degree, seed)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    time_target_step(tg, service, warmup, rng)
    times = np.array(time_target_step(tg, service, steps, rng)) * 1e3
    pr = probe(n, degree)
    med = float(np.median(times))
    return {
        "n": n, "degree": degree, "steps": steps, "backend": tg.backend,
        "target_step_ms": med, "target_step_min_ms": float(times.min()),
        "floor_ms": pr.floor_ms, "ratio_to_floor": med / pr.floor_ms,
        "kernel_floor_ms": pr.kernel_floor_ms, "ratio_to_kernel_floor": med / pr.kernel_floor_ms,
        "ns_per_member": med * 1e6 / max(n, 1), "bytes_per_member": tg.nbytes / max(n, 1),
        "build_s": build_s, "probes": pr.as_dict(),
    }


def bench_model(preset: str | None, steps: int, warmup_model: int = 60, seed: int | None = None) -> dict[str, Any]:
    """Full model step of a preset vs the bare target-group step on the same population, interleaved."""
    from sim.elements.spread import place_service
    from sim.model import SocialInnovationModel
    from sim.scenario import load_scenario

    sc = load_scenario(preset, [])
    t0 = time.perf_counter()
    model = SocialInnovationModel(sc, seed=seed)
    build_s = time.perf_counter() - t0
    for _ in range(warmup_model):
        model.step()
    twin = copy.deepcopy(model.people)
    rng = np.random.default_rng(7)
    share = float(model.state.ps(sc.population.turnover))
    full, bare = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        full.append(time.perf_counter() - t0)
        service = place_service(model.state, model.params)
        t0 = time.perf_counter()
        # the target group's own dynamics: the member step and, where the preset has it, cohort turnover
        # (the same bare step as tests/benchmarks/test_bench.py::test_sweden_target_step)
        twin.step(service, model.dt, sc.run.rate_mode, twin.draw_uniforms(rng))
        if share > 0:
            twin.turn_over(share, model.places.severity, rng)
        bare.append(time.perf_counter() - t0)
    f, b = float(np.median(full)) * 1e3, float(np.median(bare)) * 1e3
    return {
        "preset": sc.name, "people": model.people.n, "organisations": model.orgs.n, "places": model.places.n,
        "model_build_s": build_s, "warmup_model_steps": warmup_model,
        "full_model_step_ms": f, "preset_target_step_ms": b, "full_to_target_ratio": f / b,
        "people_bytes_per_member": model.people.nbytes / max(model.people.n, 1),
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
        n_cpu = len(names) or None
    except OSError:
        n_cpu = None
    mem = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu, "cpus": n_cpu, "memory_gb": mem, "python": platform.python_version(),
        "numpy": np.__version__, "numba": kernels.numba.__version__ if kernels.HAVE_NUMBA else None,
    }


def run_bench(
    n: int = 1_000_000, degree: int = 10, steps: int = 10, preset: str | None = None, warmup_model: int = 60,
    model: bool = True,
) -> dict[str, Any]:
    """All figures of ``sim bench`` as one dict (see the module docstring)."""
    out: dict[str, Any] = {"machine": machine()}
    out.update(bench_target(n, degree, steps))
    if model:
        out.update(bench_model(preset, steps, warmup_model))
    else:
        out.update({"full_model_step_ms": None})
    return out
