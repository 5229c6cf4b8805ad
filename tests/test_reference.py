"""The per-agent Mesa reference (sim.reference) against the vectorised model, and its own rules."""

from __future__ import annotations

import numpy as np
import pytest

from sim.reference import ReferenceAdoptionModel, reference_run
from sim.validation.limits import compare_reference, load_limit
from sim.world.networks import ring_lattice


def _csr_of_edges(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    a = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    a = ((a + a.T) > 0).astype(float).tocsr()
    return a.indptr, a.indices


def test_reference_and_vectorised_bass_on_random_network_agree() -> None:
    """Same distribution of time to 50 % (KS and Mann-Whitney) and mean curves within 3 SE of their gap."""
    sc = load_limit("bass", [
        "organisations.base_per_place=200", 'organisations.network="random"', "organisations.degree=8.0",
        "organisations.p=0.01", "organisations.q=0.5", "organisations.initial_adopters=2", "run.steps=30",
    ])
    st, vec, ref = compare_reference(sc, reps=25)
    assert st["ks_p"] >= 0.01
    assert st["mw_p"] >= 0.01
    assert st["curve_ok"] == 1.0
    assert vec.shape == ref.shape == (25, 31)


def test_reference_and_vectorised_sis_with_thresholds_agree() -> None:
    """Abandonment, re-adoption and a threshold on a random network: running-share curves agree."""
    sc = load_limit("sis", [
        "organisations.base_per_place=200", 'organisations.network="random"', "organisations.degree=6.0",
        "organisations.threshold_mean=0.1", "organisations.initial_adopters=5", "organisations.p=0.01",
        "run.steps=30",
    ])
    st, _, _ = compare_reference(sc, reps=20, column="sites_running")
    assert st["curve_ok"] == 1.0
    assert st["ks_p"] >= 0.01


def test_step_is_synchronous_two_phase() -> None:
    """On a path 0-1-2 seeded at 0 with a sure threshold rule, one step reaches 1 but not 2."""
    indptr, indices = _csr_of_edges(3, np.array([0, 1]), np.array([1, 2]))
    m = ReferenceAdoptionModel(3, indptr, indices, p=0.0, q=1.0, seed=1, phi=0.1, influence="threshold")
    m.by_id[0].status = 1
    m.by_id[0].ever_adopted = True
    m.n_running = 1
    m.step()
    assert [a.status for a in m.by_id] == [1, 1, 0]
    m.step()
    assert [a.status for a in m.by_id] == [1, 1, 1]


def test_plain_constructor_rules() -> None:
    """p = 1 adopts everyone in one step; delta = 1 stops every running site the next step; no readoption."""
    n = 1000
    src, dst = ring_lattice(n, 4)
    indptr, indices = _csr_of_edges(n, src, dst)
    m = ReferenceAdoptionModel(n, indptr, indices, p=1.0, q=0.0, delta=1.0, seed=0)
    m.step()
    assert m.n_running == n
    m.step()
    assert m.n_running == 0
    df = m.frame()
    assert list(df.columns) == ["step", "month", "orgs_adopted", "sites_running"]
    assert df["orgs_adopted"].tolist() == [0, n, n]


def test_reference_granovetter_is_exact() -> None:
    df = reference_run(load_limit("granovetter"), seed=1)
    assert df["orgs_adopted"].iloc[-1] == 100
    th = [k / 100 for k in range(100)]
    th[1] = 0.02
    df2 = reference_run(load_limit("granovetter", {"organisations.thresholds": th}), seed=1)
    assert df2["orgs_adopted"].iloc[-1] == 1


def test_reference_refuses_scenarios_outside_the_limit() -> None:
    with pytest.raises(ValueError, match="visibility_pull"):
        reference_run(load_limit("bass", ["organisations.visibility_pull=0.1"]), seed=1, steps=1)
