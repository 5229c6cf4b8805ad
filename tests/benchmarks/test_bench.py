"""Benchmarks, grouped so each comparison is side by side in one run (see docs/performance.md).

Groups: ``mesa-1e4``/``mesa-1e5`` (per-agent Mesa reference vs the vectorised step of
the same rule), ``floor-1e5``/``floor-1e6``/``floor-1e7`` (bare target-group step vs
the stream, gather and draw probes at that size), ``sweden`` (full model step vs the
bare target-group step on the same population), ``network-1e6`` (building the
population network and its transpose), ``abc-workers`` (a small ABC-SMC fit of a case,
``sim forecast``'s ``forecast()``, with one and with two worker processes; each records a
digest of its posterior and forecast so the report can say whether they are byte-identical).
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pytest

from sim.perf.probes import STREAM_BYTES_PER_MEMBER, _gather_jit
from sim.population.kernels import transpose_csr

pytestmark = pytest.mark.benchmark


def _mesa_reference(n: int):  # noqa: ANN202
    from sim.vectorised_adoption import random_symmetric_network

    try:
        from sim.reference import ReferenceAdoptionModel
    except ImportError:  # pragma: no cover
        pytest.skip("sim.reference is missing")
    indptr, indices = random_symmetric_network(n, 10.0, seed=1)
    return ReferenceAdoptionModel(n, indptr, indices, p=0.01, q=0.3, delta=0.02, seed=2, initial_adopters=n // 100)


def _vectorised(n: int):  # noqa: ANN202
    from sim.vectorised_adoption import VectorisedAdoption, random_symmetric_network

    indptr, indices = random_symmetric_network(n, 10.0, seed=1)
    return VectorisedAdoption(n, indptr, indices, p=0.01, q=0.3, delta=0.02, seed=2)


@pytest.mark.parametrize("n", [10_000, 100_000], ids=["1e4", "1e5"])
def test_mesa_reference_step(benchmark, n: int) -> None:
    benchmark.group = f"mesa-{'1e4' if n == 10_000 else '1e5'}"
    model = _mesa_reference(n)
    benchmark.extra_info.update(n=n, kind="mesa")
    benchmark.pedantic(model.step, rounds=5 if n <= 10_000 else 2, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("n", [10_000, 100_000], ids=["1e4", "1e5"])
def test_vectorised_adoption_step(benchmark, n: int) -> None:
    benchmark.group = f"mesa-{'1e4' if n == 10_000 else '1e5'}"
    model = _vectorised(n)
    model.step()
    benchmark.extra_info.update(n=n, kind="vectorised")
    benchmark.pedantic(model.step, rounds=50, iterations=1, warmup_rounds=2)


SIZES = [(100_000, "1e5"), (1_000_000, "1e6"), (10_000_000, "1e7")]


@pytest.fixture(scope="module", params=SIZES, ids=[s[1] for s in SIZES])
def population(request):  # noqa: ANN001, ANN201
    from sim.perf.bench import synthetic_population

    n, label = request.param
    tg, service = synthetic_population(n, 10)
    rng = np.random.default_rng(5)
    for _ in range(2):
        tg.step(service, 1.0, "probability", tg.draw_uniforms(rng))
    return n, label, tg, service, rng


def test_target_step(benchmark, population) -> None:  # noqa: ANN001
    n, label, tg, service, rng = population
    benchmark.group = f"floor-{label}"
    benchmark.extra_info.update(n=n, degree=10, kind="target_step", bytes_per_member=tg.nbytes / n, backend=tg.backend)
    benchmark.pedantic(
        lambda: tg.step(service, 1.0, "probability", tg.draw_uniforms(rng)), rounds=15, iterations=1, warmup_rounds=1
    )


def test_probe_stream(benchmark, population) -> None:  # noqa: ANN001
    n, label, *_ = population
    benchmark.group = f"floor-{label}"
    src = np.ones(n * STREAM_BYTES_PER_MEMBER // 8, np.float64)
    dst = np.empty_like(src)
    benchmark.extra_info.update(
        n=n, kind="probe_stream", bytes=2 * src.nbytes, stream_bytes=n * STREAM_BYTES_PER_MEMBER
    )
    benchmark.pedantic(np.copyto, args=(dst, src), rounds=15, iterations=1, warmup_rounds=1)


def test_probe_gather(benchmark, population) -> None:  # noqa: ANN001
    n, label, *_ = population
    benchmark.group = f"floor-{label}"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, n, dtype=np.int8)
    idx = rng.integers(0, n, n * 10, dtype=np.int32)
    benchmark.extra_info.update(n=n, kind="probe_gather", gathers=n * 10)
    benchmark.pedantic(_gather_jit, args=(x, idx), rounds=7, iterations=1, warmup_rounds=1)


def test_probe_draws(benchmark, population) -> None:  # noqa: ANN001
    n, label, *_ = population
    benchmark.group = f"floor-{label}"
    rng = np.random.default_rng(0)
    buf = np.empty(n, np.float32)
    benchmark.extra_info.update(n=n, kind="probe_draws")
    benchmark.pedantic(lambda: rng.random(dtype=np.float32, out=buf), rounds=15, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module")
def sweden():  # noqa: ANN201
    from sim.model import SocialInnovationModel
    from sim.scenario import load_scenario

    model = SocialInnovationModel(load_scenario(None, []))
    for _ in range(60):
        model.step()
    return model, copy.deepcopy(model.people)


def test_sweden_full_model_step(benchmark, sweden) -> None:  # noqa: ANN001
    model, _ = sweden
    benchmark.group = "sweden"
    benchmark.extra_info.update(n=model.people.n, kind="full_model_step", organisations=model.orgs.n)
    benchmark.pedantic(model.step, rounds=20, iterations=1, warmup_rounds=0)


def test_sweden_target_step(benchmark, sweden) -> None:  # noqa: ANN001
    from sim.elements.spread import place_service

    model, twin = sweden
    benchmark.group = "sweden"
    service = place_service(model.state, model.params)
    rng = np.random.default_rng(9)
    benchmark.extra_info.update(n=twin.n, kind="target_step", bytes_per_member=twin.nbytes / twin.n)
    share = float(model.state.ps(model.params.population.turnover))

    def target_step() -> None:
        # the target group's own dynamics: the member step, and cohort turnover where the preset has it
        twin.step(service, model.dt, model.params.run.rate_mode, twin.draw_uniforms(rng))
        if share > 0:
            twin.turn_over(share, model.places.severity, rng)

    benchmark.pedantic(target_step, rounds=20, iterations=1)


def test_network_build(benchmark) -> None:
    from sim.world import build_population_network

    benchmark.group = "network-1e6"
    sizes = np.full(100, 10_000)
    starts = np.arange(100) * 10_000
    build_population_network(starts[:1], sizes[:1], 10, 0.9, np.random.default_rng(0))  # compile
    benchmark.extra_info.update(n=1_000_000, kind="network_build")
    benchmark.pedantic(
        lambda: build_population_network(starts, sizes, 10, 0.9, np.random.default_rng(0)), rounds=5, iterations=1
    )


def test_network_transpose(benchmark) -> None:
    from sim.world import build_population_network

    benchmark.group = "network-1e6"
    sizes = np.full(100, 10_000)
    indptr, indices = build_population_network(np.arange(100) * 10_000, sizes, 10, 0.9, np.random.default_rng(0))
    transpose_csr(indptr[:11], indices[:100] % 10, 10)  # compile
    benchmark.extra_info.update(n=1_000_000, kind="network_transpose")
    benchmark.pedantic(lambda: transpose_csr(indptr, indices, 1_000_000), rounds=5, iterations=1)


ABC_BUDGET = {"population": 12, "generations": 2, "draws": 4}
"""A small fit of Fritidsbanken to 2018 (about 40 model runs of five years, then four predictive paths)."""


def _abc_inputs() -> tuple[dict, object, dict, str]:  # noqa: ANN001
    from sim.scenario import load_scenario, read_scenario_data
    from sim.validation.cases import observed_path, preset_path
    from sim.validation.forecast_command import model_columns
    from sim.validation.observed import load_observed

    path = preset_path("fritidsbanken")
    sc = load_scenario(path, [])
    obs = load_observed(observed_path("fritidsbanken"), sc.run.start, model_columns(len(sc.interventions)))
    bounds = {k: (float(v[0]), float(v[1])) for k, v in sc.calibration.params.items()}
    return read_scenario_data(path)[0], obs, bounds, sc.run.start


@pytest.mark.parametrize("workers", [1, 2], ids=["w1", "w2"])
def test_abc_fit(benchmark, workers: int, tmp_path) -> None:  # noqa: ANN001
    from sim.validation.forecast import forecast

    benchmark.group = "abc-workers"
    base, obs, bounds, start = _abc_inputs()
    rounds = iter(range(100))

    def setup() -> tuple[tuple, dict]:
        db = tmp_path / f"fit-{next(rounds)}.db"  # a fresh history each round: nothing resumed
        return (base, obs, bounds, "2020-12", db), dict(start=start, workers=workers, seed=0, fit_until="2018-12",
                                                        **ABC_BUDGET)

    fc = benchmark.pedantic(forecast, setup=setup, rounds=2, iterations=1, warmup_rounds=0)
    digest = hashlib.sha256(fc.posterior.to_csv(index=False).encode() + fc.band.to_csv(index=False).encode())
    benchmark.extra_info.update(kind=f"workers_{workers}", workers=workers, digest=digest.hexdigest(), **ABC_BUDGET)
