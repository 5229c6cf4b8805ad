"""Fit the organisation adoption rule to an observed diffusion on its observed network.

Data: any study in the format of ``data/README.md`` (read and checked by
:mod:`sim.validation.studies`), and the two shipped in ``sim/validation/data/``
(Valente 1995, via netdiffuseR): tetracycline among 125 doctors in 4 Illinois towns
(``medInnovations``, monthly) and hybrid corn among 692 farmers in 11 Brazilian
villages (``brfarmers``, yearly).

**Network.** Three candidate networks (:data:`NETWORKS`), each a fixed adjacency:

* ``nominations``: the survey nominations ``ego -> alter``, all questions pooled,
  duplicates merged, kept *directed*: an ego is exposed to the people it named as
  advisers, discussion partners or friends (the people it listens to), so its
  exposure ``x_i`` is the share of its nominees who have adopted - the standard
  exposure of network diffusion studies. Someone who named nobody has ``x = 0``;
* ``symmetric``: the same ties in both directions (influence either way);
* ``community``: everyone in the same town or village (the model's mixing within a place).

All have two free parameters, so they are compared by the log-likelihood on the
*training* communities, and the best one is used for the held-out check. The
adjacency goes into an :class:`sim.world.networks.OrgNetwork`, and the hazard is
computed by the model's own :func:`sim.elements.spread.adoption_hazard` (with every
other term switched off), so the fitted rule is exactly the model's rule::

    P(adopt in period t | not yet) = min(p + q * x_i(t-1), 1)     (Bass on a network, phi = 0)

with ``p`` and ``q`` per time unit of the study (month or year).

**Fit.** Maximum likelihood of the discrete-time hazard model: every person at risk
in every observed period contributes ``log h`` if they adopted then and
``log(1 - h)`` otherwise; non-adopters are censored at the end. Exposures are
computed from the observed adoption times. Uncertainty: standard errors from the
observed information (numerical Hessian of the log-likelihood) with 95 % Wald
intervals (truncated at 0), and 95 % profile-likelihood intervals (the values of one
parameter whose profile log-likelihood, maximised over the other, lies within
``chi2(1).ppf(0.95) / 2 = 1.92`` of the maximum; they need no normal approximation and
respect the bounds ``p > 0``, ``q >= 0``, so they are the ones to read when a parameter
is close to 0 or the likelihood is skewed).

**Check.** :mod:`sim.validation.holdout` leaves each community out in turn, fits the
pooled rule here and the hierarchical one of :mod:`sim.validation.hierarchical` on the
others, and checks the held-out community's curve against each fit's 90 % prediction
band. :func:`prediction_band` is the pooled fit's band for a group of people in the
study, drawing ``(p, q)`` from their estimated sampling distribution in each simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import minimize

from sim.codes import Status
from sim.elements.spread import adoption_hazard
from sim.organisations import OrgState
from sim.rates import per_step
from sim.scenario import Scenario
from sim.state import SimState
from sim.streams import Streams
from sim.validation.studies import StudyTables, read_study, shipped_dir
from sim.world.build import build_world
from sim.world.networks import OrgNetwork

NOT_ADOPTED, RUNNING = Status.NOT_ADOPTED, Status.RUNNING

DATA_DIR = shipped_dir()
"""The shipped studies' CSVs, inside the package (``sim/validation/data/``; attribution in ``data/README.md``)."""
NETWORKS: tuple[str, ...] = ("nominations", "symmetric", "community")
"""Candidate exposure networks of a study (see the module docstring)."""

STUDIES: dict[str, dict[str, str]] = {
    "medInnovations": {"unit": "month", "what": "tetracycline among 125 doctors, 4 Illinois towns (1 = Nov 1953)"},
    "brfarmers": {"unit": "year", "what": "hybrid corn among 692 farmers, 11 Brazilian villages (19xx)"},
}
"""The shipped diffusion studies, with their time unit."""

TIME_UNITS: tuple[str, ...] = ("month", "year", "period")
"""Time units a study may be given in (one period of the discrete adoption rule)."""


@dataclass
class Study:
    """An observed diffusion: who, in which community, adopted when, and who named whom."""

    name: str
    network_kind: str
    community: np.ndarray  # community id of each person
    toa: np.ndarray  # time of adoption (inf for non-adopters)
    times: np.ndarray  # observed periods, first..last
    network: OrgNetwork  # the exposure network of kind ``network_kind``
    unit: str = "period"  # time unit of one period (month, year, period)

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.toa)

    @property
    def communities(self) -> list[Any]:
        """Community ids in file order (int, or str when the file's ids are not all integers)."""
        return [c.item() if isinstance(c, np.generic) else c for c in pd.unique(self.community)]

    def observed_curve(self, members: np.ndarray | None = None) -> np.ndarray:
        """Cumulative share adopted at the end of each observed period (of ``members``, default all)."""
        toa = self.toa if members is None else self.toa[members]
        return np.array([(toa <= t).mean() for t in self.times])

    def members(self, community: Any) -> np.ndarray:
        """Row indices of the people in ``community``."""
        return np.flatnonzero(self.community == community)


def study_from_tables(tables: StudyTables, network: str = "nominations", unit: str = "period") -> Study:
    """A :class:`Study` with exposure network ``network`` (one of :data:`NETWORKS`) from checked tables."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; choose one of {list(NETWORKS)}")
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r}; choose one of {list(TIME_UNITS)}")
    n = tables.n
    adj = sp.csr_matrix((np.ones(len(tables.ego)), (tables.ego, tables.alter)), shape=(n, n))
    if network == "symmetric":
        adj = (adj + adj.T).tocsr()
    elif network == "community":
        codes = pd.factorize(tables.community)[0]
        order = np.argsort(codes, kind="stable")
        rows, cols = [], []
        for c in range(codes.max() + 1):
            idx = order[codes[order] == c]
            rows.append(np.repeat(idx, len(idx)))
            cols.append(np.tile(idx, len(idx)))
        r, c_ = np.concatenate(rows), np.concatenate(cols)
        adj = sp.csr_matrix((np.ones(len(r)), (r, c_)), shape=(n, n))
    return Study(tables.name, network, tables.community, tables.toa.copy(), tables.times, OrgNetwork(n, adj), unit)


def load_study(
    name: str, network: str = "nominations", data_dir: Path | None = None, unit: str | None = None,
) -> Study:
    """Load ``<name>_nodes.csv`` and ``<name>_edges.csv`` from ``data_dir`` (format: ``data/README.md``).

    ``data_dir`` defaults to the shipped studies (:data:`DATA_DIR`), where ``name`` must be one
    of :data:`STUDIES`; with a ``data_dir`` any name works. ``unit`` defaults to the shipped
    study's unit, else ``"period"``. Malformed files raise
    :class:`~sim.validation.studies.StudyDataError` naming the file, row and column.
    """
    if data_dir is None:
        if name not in STUDIES:
            raise ValueError(f"unknown study {name!r}; choose one of {sorted(STUDIES)} or give data_dir")
        data_dir = DATA_DIR
    data_dir = Path(data_dir)
    tables = read_study(data_dir / f"{name}_nodes.csv", data_dir / f"{name}_edges.csv", name=name)
    return study_from_tables(tables, network, unit or STUDIES.get(name, {}).get("unit", "period"))


# --------------------------------------------------------------------------- the model's rule on a study


def _rule_scenario(p: float, q: float, n: int = 1) -> Scenario:
    """A scenario whose adoption hazard is exactly ``p + q x`` (thresholds 0, every other term off).

    Its world is one place with exactly ``n`` organisations (the study's people; ``population_mean =
    10 n`` persons at 1,000 organisations per 10,000) and no target group, nobody running yet.
    """
    return Scenario.model_validate(
        {
            "places": {"source": "synthetic", "n": 1, "population_mean": 10.0 * n, "population_sigma": 0.0,
                       "target_share": 0.0},
            "organisations": {
                "p": p, "q": q, "influence": "proportional", "visibility_pull": 0.0, "base_per_place": 0,
                "per_10k_population": 1000.0, "threshold_mean": 0.0, "threshold_sd": 0.0, "initial_adopters": 0,
                "network": "full",
            },
            "levers": {"guardrail_spread_cost": 0.0},
            "process": {"spread_push": 0.0},
        }
    )


@dataclass
class RuleState:
    """The model's own world (:func:`sim.world.build.build_world`) on a study's people and network.

    The study's people are the organisations of one place, thresholds 0, nobody running;
    the organisation network is the study's. :meth:`step_probability` is the model's
    :func:`sim.elements.spread.adoption_hazard` as a per-period probability.
    """

    params: Scenario
    state: SimState

    @classmethod
    def for_study(cls, study: Study, p: float, q: float) -> RuleState:
        """Nobody adopted yet; thresholds 0; one place; the study's network."""
        params = _rule_scenario(p, q, study.n)
        state = build_world(params, Streams(0))
        if state.orgs.n != study.n:  # pragma: no cover - guards the world recipe above
            raise RuntimeError(f"study world has {state.orgs.n} organisations, the study {study.n} people")
        state.network = study.network
        return cls(params, state)

    @property
    def orgs(self) -> OrgState:
        """The study's people as the world's organisations (``status`` is read and written by simulations)."""
        return self.state.orgs

    def set_pq(self, p: float, q: float) -> None:
        """Change the rule's parameters."""
        self.params = _rule_scenario(p, q, self.state.orgs.n)
        self.state.orgs.p[:] = p

    def step_probability(self) -> np.ndarray:
        """Per-period adoption probability of everyone (the model's hazard at dt = 1 time unit)."""
        return per_step(adoption_hazard(self.state, self.params), 1.0, "probability")


def exposures(study: Study) -> np.ndarray:
    """``(periods, n)`` exposure of everyone at the start of each observed period (from observed adoptions)."""
    out = np.empty((len(study.times), study.n))
    for k, t in enumerate(study.times):
        out[k] = study.network.share((study.toa < t).astype(np.float64))
    return out


def log_likelihood(study: Study, p: float, q: float, members: np.ndarray, x: np.ndarray | None = None) -> float:
    """Log-likelihood of the observed adoption times of ``members`` under the rule ``min(p + q x, 1)``."""
    return _likelihood_terms(study, members, x)(p, q)


def _likelihood_terms(study: Study, members: np.ndarray, x: np.ndarray | None = None) -> Any:
    """``(p, q) -> log-likelihood`` of ``members``, with the at-risk cells and exposures gathered once."""
    x = exposures(study) if x is None else x
    toa = study.toa[members]
    at_risk = toa[None, :] >= study.times[:, None]  # (periods, members)
    xr = x[:, members][at_risk]
    adopted = (toa[None, :] == study.times[:, None])[at_risk]

    def loglik(p: float, q: float) -> float:
        h = np.clip(p + q * xr, 1e-12, 1 - 1e-12)
        return float(np.sum(np.log(np.where(adopted, h, 1.0 - h))))

    return loglik


@dataclass
class FitResult:
    """Fitted ``p, q`` (per time unit of the study) with their uncertainty."""

    study: str
    network: str
    unit: str
    p: float
    q: float
    cov: np.ndarray
    loglik: float
    n_people: int
    n_events: int
    train: list[Any]
    holdout: Any | None
    profile: dict[str, tuple[float, float]] = field(default_factory=dict)
    """95 % profile-likelihood interval of ``p`` and ``q`` (see :func:`profile_interval`)."""

    @property
    def se(self) -> tuple[float, float]:
        """Standard errors of ``p`` and ``q``."""
        return float(math.sqrt(max(self.cov[0, 0], 0.0))), float(math.sqrt(max(self.cov[1, 1], 0.0)))

    def interval(self, which: str, level_z: float = 1.96) -> tuple[float, float]:
        """Wald interval of ``p`` or ``q`` (truncated at 0)."""
        est, se = (self.p, self.se[0]) if which == "p" else (self.q, self.se[1])
        return max(0.0, est - level_z * se), est + level_z * se

    def draws(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """``k`` draws of ``(p, q)`` from the asymptotic normal, kept in [0, 1]."""
        return np.clip(rng.multivariate_normal([self.p, self.q], self.cov, size=k, method="eigh"), 0.0, 1.0)


def _hessian(f: Any, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` with steps ``h``."""
    d = len(x)
    out = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei, ej = np.eye(d)[i] * h[i], np.eye(d)[j] * h[j]
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
    return out


BOUNDS = ((1e-6, 1.0), (0.0, 1.0))
"""Allowed range of ``p`` and ``q`` in the fit (per time unit of the study)."""


def profile_interval(
    nll: Any, theta: np.ndarray, which: int, level: float = 0.95, bounds: tuple = BOUNDS,
) -> tuple[float, float]:
    """Profile-likelihood interval of parameter ``which`` (0 = p, 1 = q) around the MLE ``theta``.

    ``nll`` is the negative log-likelihood of ``(p, q)``. The interval holds the values
    ``v`` with ``min_other nll(v, other) - nll(theta) <= chi2(1).ppf(level) / 2``; where
    that never exceeds the limit up to a bound, the interval ends at the bound.
    """
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import chi2

    other = 1 - which
    nll_min = float(nll(theta))
    limit = float(chi2.ppf(level, 1)) / 2.0
    lo_o, hi_o = bounds[other]

    def excess(v: float) -> float:
        def f(u: float) -> float:
            t = np.empty(2)
            t[which], t[other] = v, u
            return float(nll(t))

        inner = minimize_scalar(f, bounds=(lo_o, hi_o), method="bounded", options={"xatol": 1e-7})
        best = min(float(inner.fun), f(float(theta[other])))  # never worse than the MLE's partner value
        return best - nll_min - limit

    est = float(theta[which])
    ends = []
    for bound in bounds[which]:
        if abs(bound - est) < 1e-12 or excess(bound) <= 0.0:
            ends.append(float(bound))
        else:
            ends.append(float(brentq(excess, est, bound, xtol=1e-7 * max(abs(est), 1e-3))))
    return ends[0], ends[1]


def fit_adoption(study: Study | str, holdout: Any | None = None, profile: bool = True) -> FitResult:
    """Maximum-likelihood ``p, q`` of the model's adoption rule on ``study``, leaving out community ``holdout``.

    ``profile``: also the 95 % profile-likelihood intervals (the slow part).
    """
    st = load_study(study) if isinstance(study, str) else study
    members = np.flatnonzero(st.community != holdout) if holdout is not None else np.arange(st.n)
    loglik = _likelihood_terms(st, members)

    def nll(theta: np.ndarray) -> float:
        return -loglik(float(theta[0]), float(theta[1]))

    best = None
    for p0, q0 in ((0.02, 0.1), (0.05, 0.3), (0.01, 0.6)):
        res = minimize(nll, np.array([p0, q0]), method="L-BFGS-B", bounds=list(BOUNDS))
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    theta = best.x
    step = np.maximum(1e-4, 1e-3 * np.abs(theta))
    hess = _hessian(nll, np.maximum(theta, step * 1.01), step)
    try:
        cov = np.linalg.inv(hess)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.diag([np.nan, np.nan])
    events = int(np.isin(st.toa[members], st.times).sum())
    train = [c for c in st.communities if c != holdout]
    return FitResult(
        st.name, st.network_kind, st.unit, float(theta[0]), float(theta[1]), cov, -float(best.fun),
        len(members), events, train, holdout,
        {name: profile_interval(nll, theta, i) for i, name in enumerate(("p", "q"))} if profile else {},
    )


def simulate_curves(study: Study, draws: np.ndarray, seed: int) -> np.ndarray:
    """Simulate the rule forward over the study's periods, from nobody adopted, once per ``(p, q)`` draw.

    Returns ``(len(draws), periods, n)`` booleans: adopted by the end of each period.
    """
    rng = np.random.default_rng(seed)
    state = RuleState.for_study(study, float(draws[0, 0]), float(draws[0, 1]))
    out = np.zeros((len(draws), len(study.times), study.n), dtype=bool)
    for r, (p, q) in enumerate(draws):
        state.set_pq(float(p), float(q))
        state.orgs.status[:] = NOT_ADOPTED
        for k in range(len(study.times)):
            prob = state.step_probability()
            new = (state.orgs.status == NOT_ADOPTED) & (rng.random(study.n) < prob)
            state.orgs.status[new] = RUNNING
            out[r, k] = state.orgs.status == RUNNING
    return out


@dataclass
class Band:
    """Observed cumulative share of a group of people against the model's prediction band."""

    times: np.ndarray
    observed: np.ndarray
    lo: np.ndarray
    median: np.ndarray
    hi: np.ndarray
    level: float

    @property
    def inside(self) -> int:
        """Time points where the observed share lies in the band (inclusive)."""
        return int(np.sum((self.observed >= self.lo - 1e-12) & (self.observed <= self.hi + 1e-12)))


def prediction_band(
    study: Study, fit: FitResult, members: np.ndarray, sims: int = 400, seed: int = 0, level: float = 0.9
) -> Band:
    """The ``level`` prediction band of the cumulative share adopted among ``members``.

    Each simulation draws its own ``(p, q)`` from the fit's sampling distribution, so the
    band includes parameter uncertainty as well as chance.
    """
    rng = np.random.default_rng(seed)
    draws = fit.draws(sims, rng) if np.all(np.isfinite(fit.cov)) else np.tile([fit.p, fit.q], (sims, 1))
    adopted = simulate_curves(study, draws, seed + 1)
    share = adopted[:, :, members].mean(axis=2)
    a = (1.0 - level) / 2.0
    lo, med, hi = np.quantile(share, [a, 0.5, 1.0 - a], axis=0)
    return Band(study.times, study.observed_curve(members), lo, med, hi, level)
