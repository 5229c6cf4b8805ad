"""Communities differ: a random-effects (hierarchical) version of the adoption rule.

**Model.** Person ``i`` of community ``c`` who has not adopted by period ``t - 1`` adopts in
period ``t`` with probability ``min(p_c + q_c x_i(t-1), 1)`` (the model's rule, as in
:mod:`sim.validation.calibrate`), where each community has its own innovation and
imitation parameters, drawn independently around study-level values::

    logit p_c = mu_p + sigma_p z_c,    log q_c = mu_q + sigma_q w_c,    z_c, w_c ~ N(0, 1)

``expit(mu_p)`` and ``exp(mu_q)`` are the median community's ``p`` and ``q`` (per time unit),
``sigma_p`` and ``sigma_q`` (>= 0, on the logit and log scale) the between-community spread.
``sigma_p = sigma_q = 0`` is the pooled fit of :func:`~sim.validation.calibrate.fit_adoption`.
The effects are truncated to the box ``p_c`` in [1e-4, 0.7], ``q_c`` in [1e-3, 2] per period
(:class:`Grid`), far outside anything the shipped studies support.

**Fit: maximum likelihood with the random effects integrated out.** Given the
hyperparameters the communities are independent, so the marginal likelihood is a product
over communities of ``integral L_c(p, q) dF(p, q)``. Each community's likelihood
``L_c`` is computed once on a fixed product grid of ``(logit p, log q)`` (121 x 121
points by default; the at-risk person-periods of a community are first grouped by their
exposure, so this is cheap), and the integral is the trapezoid rule on that grid with the
normal weights renormalised to the box. The trapezoid rule is spectrally accurate for
smooth integrands whose width exceeds the spacing, so ``sigma`` is bounded below by one
grid spacing (:attr:`Grid.sigma_min`, about 0.08 on the logit scale: 8 % spread, i.e.
no heterogeneity); a test checks the result does not move when the grid is doubled.

**Uncertainty.** 95 % profile-likelihood intervals of the four hyperparameters (the
values within ``chi2(1).ppf(0.95) / 2`` of the maximum, the spread ones ending at 0 where the
profile stays within the limit), and Wald intervals of ``mu_p, mu_q``.

**Pooled or hierarchical.** Likelihood ratio ``LR = 2 (l_hier - l_pooled)`` with its
boundary-corrected null distribution (two variance components on the boundary: the
chi-bar-square mixture ``1/4 chi2_0 + 1/2 chi2_1 + 1/4 chi2_2``; Self & Liang 1987), and
AIC and BIC (``n`` = people) of both.

**A new community.** The prediction band for a community not in the fit carries three
sources of spread: the hyperparameters' uncertainty (draws from the likelihood times flat
priors on ``mu_p, mu_q`` and half-normal priors of scale :data:`SPREAD_PRIOR` on the
spreads, by adaptive importance sampling - the likelihood is cheap on the grid), the new community's own
``p_c, q_c`` drawn from the fitted distribution, and chance (the rule simulated forward on
the community's own network from nobody adopted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq, minimize
from scipy.special import expit, logit, logsumexp
from scipy.stats import chi2

from sim.validation.calibrate import FitResult, Study, _hessian, exposures, fit_adoption
from sim.validation.studies import StudyTables

PARAMS: tuple[str, ...] = ("mu_p", "mu_q", "sigma_p", "sigma_q")
SPREAD_PRIOR = 1.0
"""Scale of the half-normal prior of ``sigma_p`` and ``sigma_q`` in the band's hyperparameter draws (logit/log scale).

With a handful of communities the likelihood alone does not bound a spread (four communities
that all adopted slowly are not unlikely even if ``q_c`` varied 100-fold), and a flat prior
then fills the band with implausible communities; a spread of 1 is already a factor 2.7
between a typical and a one-SD community. The maximum-likelihood fit and its intervals do
not use it."""
"""Hyperparameters, in the order of every ``theta`` array here."""
_EPS = 1e-12


@dataclass(frozen=True)
class Grid:
    """Product grid of community ``(logit p, log q)`` on which each community's likelihood is computed."""

    u: np.ndarray
    """logit p nodes (ascending)"""
    v: np.ndarray
    """log q nodes (ascending)"""

    @classmethod
    def default(cls, k: int = 121) -> Grid:
        """``k`` x ``k`` nodes over ``p`` in [1e-4, 0.7] and ``q`` in [1e-3, 2] per period."""
        return cls(np.linspace(logit(1e-4), logit(0.7), k), np.linspace(math.log(1e-3), math.log(2.0), k))

    @property
    def sigma_min(self) -> tuple[float, float]:
        """Smallest spread the trapezoid rule resolves: one grid spacing (logit p, log q)."""
        return float(self.u[1] - self.u[0]), float(self.v[1] - self.v[0])

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """Box of ``theta`` in the optimiser (``mu`` inside the grid, ``sigma`` from one spacing to 5)."""
        smp, smq = self.sigma_min
        return [(self.u[0], self.u[-1]), (self.v[0], self.v[-1]), (smp, 5.0), (smq, 5.0)]


@dataclass
class Cells:
    """A community's at-risk person-periods grouped by exposure: ``events`` adopted, ``stays`` did not."""

    x: np.ndarray
    events: np.ndarray
    stays: np.ndarray


def community_cells(study: Study, x: np.ndarray | None = None) -> dict[Any, Cells]:
    """Each community's at-risk person-periods grouped by their exposure (from the observed adoptions)."""
    x = exposures(study) if x is None else x
    at_risk = study.toa[None, :] >= study.times[:, None]
    adopted = study.toa[None, :] == study.times[:, None]
    out = {}
    for c in study.communities:
        m = study.members(c)
        xr = np.round(x[:, m][at_risk[:, m]], 12)
        ar = adopted[:, m][at_risk[:, m]]
        ux, inv = np.unique(xr, return_inverse=True)
        ev = np.bincount(inv, weights=ar, minlength=len(ux))
        tot = np.bincount(inv, minlength=len(ux))
        out[c] = Cells(ux, ev, tot - ev)
    return out


def grid_loglik(cells: Cells, grid: Grid) -> np.ndarray:
    """``(len(u), len(v))`` log-likelihood of a community at every grid node."""
    p = expit(grid.u)[:, None]
    q = np.exp(grid.v)[None, :]
    out = np.zeros((len(grid.u), len(grid.v)))
    for x, e, s in zip(cells.x, cells.events, cells.stays, strict=True):
        h = np.clip(p + q * x, _EPS, 1 - _EPS)
        if e:
            out += e * np.log(h)
        if s:
            out += s * np.log1p(-h)
    return out


class MarginalLikelihood:
    """The hierarchical model's log-likelihood of chosen communities, random effects integrated out on a grid."""

    def __init__(self, study: Study, grid: Grid | None = None, x: np.ndarray | None = None) -> None:
        self.study = study
        self.grid = grid or Grid.default()
        cells = community_cells(study, x)
        self.communities = list(cells)
        ll = np.stack([grid_loglik(cells[c], self.grid) for c in self.communities])
        self._max = ll.max(axis=(1, 2))
        self._E = np.exp(ll - self._max[:, None, None])
        self.cells = cells

    def _index(self, communities: list[Any] | None) -> np.ndarray:
        if communities is None:
            return np.arange(len(self.communities))
        pos = {c: i for i, c in enumerate(self.communities)}
        return np.array([pos[c] for c in communities], dtype=int)

    def _weights(self, nodes: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        lw = -0.5 * ((nodes[None, :] - mu[:, None]) / sigma[:, None]) ** 2
        w = np.exp(lw - lw.max(axis=1, keepdims=True))
        return w / w.sum(axis=1, keepdims=True)

    def loglik_many(self, thetas: np.ndarray, communities: list[Any] | None = None, per_community: bool = False) -> Any:
        """Log-likelihood at each row of ``thetas`` (``(T, 4)``: mu_p, mu_q, sigma_p, sigma_q).

        ``sigma`` below one grid spacing is evaluated at one spacing (no heterogeneity the grid can see).
        Returns ``(T,)`` or, with ``per_community``, ``(T, C)``.
        """
        th = np.atleast_2d(np.asarray(thetas, dtype=float))
        smp, smq = self.grid.sigma_min
        a = self._weights(self.grid.u, th[:, 0], np.maximum(np.abs(th[:, 2]), smp))
        b = self._weights(self.grid.v, th[:, 1], np.maximum(np.abs(th[:, 3]), smq))
        idx = self._index(communities)
        E = self._E[idx]  # (C, K1, K2)
        C, K1, K2 = E.shape
        if len(th) == 1:
            lik = ((E @ b[0]) @ a[0])[None, :]
        else:  # (T, K1) @ (K1, C K2) -> (T, C, K2), then contract with b
            M = (a @ E.transpose(1, 0, 2).reshape(K1, C * K2)).reshape(len(th), C, K2)
            lik = np.einsum("tcj,tj->tc", M, b)
        out = np.log(np.maximum(lik, 1e-300)) + self._max[idx][None, :]
        return out if per_community else out.sum(axis=1)

    def loglik(self, theta: np.ndarray, communities: list[Any] | None = None) -> float:
        """Log-likelihood at one ``theta``."""
        return float(self.loglik_many(np.asarray(theta)[None, :], communities)[0])

    def posterior_mean_pq(self, theta: np.ndarray, community: Any) -> tuple[float, float]:
        """Conditional mean ``p_c, q_c`` of ``community`` given its data and ``theta`` (its shrunk estimate)."""
        smp, smq = self.grid.sigma_min
        a = self._weights(self.grid.u, np.array([theta[0]]), np.array([max(theta[2], smp)]))[0]
        b = self._weights(self.grid.v, np.array([theta[1]]), np.array([max(theta[3], smq)]))[0]
        post = self._E[self._index([community])[0]] * a[:, None] * b[None, :]
        post /= post.sum()
        return float((post.sum(axis=1) * expit(self.grid.u)).sum()), float((post.sum(axis=0) * np.exp(self.grid.v)).sum())


def chibar_pvalue(lr: float) -> float:
    """P-value of the likelihood ratio of two variance components at 0: ``1/4 chi2_0 + 1/2 chi2_1 + 1/4 chi2_2``."""
    if lr <= 0:
        return 1.0
    return float(0.5 * chi2.sf(lr, 1) + 0.25 * chi2.sf(lr, 2))


@dataclass
class HierarchicalFit:
    """Maximum-likelihood hyperparameters of the hierarchical rule, with intervals and the model choice."""

    study: str
    network: str
    unit: str
    theta: np.ndarray
    """mu_p, mu_q, sigma_p, sigma_q (logit p and log q scale)"""
    loglik: float
    train: list[Any]
    holdout: Any | None
    pooled: FitResult
    n_people: int
    profile: dict[str, tuple[float, float]] = field(default_factory=dict)
    """95 % profile-likelihood interval of each hyperparameter"""
    cov_mu: np.ndarray = field(default_factory=lambda: np.full((2, 2), np.nan))
    """covariance of (mu_p, mu_q) from the observed information"""
    ml: MarginalLikelihood | None = field(default=None, repr=False)
    ess: float = math.nan
    """effective sample size of the last :meth:`hyper_draws` (importance sampling)"""

    @property
    def params(self) -> dict[str, float]:
        """The hyperparameters by name."""
        return {k: float(v) for k, v in zip(PARAMS, self.theta, strict=True)}

    @property
    def p_median(self) -> float:
        """``p`` of the median community (per time unit)."""
        return float(expit(self.theta[0]))

    @property
    def q_median(self) -> float:
        """``q`` of the median community (per time unit)."""
        return float(math.exp(self.theta[1]))

    def community_range(self, which: str, level: float = 0.9) -> tuple[float, float]:
        """Central ``level`` range of community ``p_c`` or ``q_c`` under the fitted distribution (plug-in)."""
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + level / 2))
        mu, s = (self.theta[0], self.theta[2]) if which == "p" else (self.theta[1], self.theta[3])
        f = expit if which == "p" else np.exp
        return float(f(mu - z * s)), float(f(mu + z * s))

    def wald(self, which: str, z: float = 1.96) -> tuple[float, float]:
        """Wald interval of ``mu_p`` or ``mu_q`` (on the logit/log scale)."""
        i = PARAMS.index(which)
        se = math.sqrt(self.cov_mu[i, i]) if np.isfinite(self.cov_mu[i, i]) and self.cov_mu[i, i] >= 0 else math.nan
        return float(self.theta[i] - z * se), float(self.theta[i] + z * se)

    @property
    def lr(self) -> float:
        """Likelihood ratio statistic against the pooled fit (clipped at 0)."""
        return max(0.0, 2.0 * (self.loglik - self.pooled.loglik))

    @property
    def p_value(self) -> float:
        """Boundary-corrected (chi-bar-square) p-value of ``sigma_p = sigma_q = 0``."""
        return chibar_pvalue(self.lr)

    def information_criteria(self) -> dict[str, dict[str, float]]:
        """AIC and BIC (``n`` = people) of the pooled (2 parameters) and the hierarchical (4) fit."""
        ln = math.log(self.n_people)
        out = {}
        for name, ll, k in (("pooled", self.pooled.loglik, 2), ("hierarchical", self.loglik, 4)):
            out[name] = {"loglik": ll, "k": k, "aic": 2 * k - 2 * ll, "bic": k * ln - 2 * ll}
        return out

    def model_choice(self) -> dict[str, Any]:
        """The comparison of the pooled and hierarchical fit: LR, chi-bar-square p-value, AIC, BIC and the verdict."""
        ic = self.information_criteria()
        return {
            "lr": self.lr, "p_value": self.p_value, "null": "1/4 chi2_0 + 1/2 chi2_1 + 1/4 chi2_2",
            "aic": {k: v["aic"] for k, v in ic.items()}, "bic": {k: v["bic"] for k, v in ic.items()},
            "preferred_lr": "hierarchical" if self.p_value < 0.05 else "pooled",
            "preferred_aic": min(ic, key=lambda k: ic[k]["aic"]),
            "preferred_bic": min(ic, key=lambda k: ic[k]["bic"]),
        }

    # ------------------------------------------------------------------ draws for a new community

    def _log_target(self, phi: np.ndarray) -> np.ndarray:
        """Log posterior (flat in mu, half-normal in sigma) at ``phi = (mu_p, mu_q, log sigma_p, log sigma_q)``."""
        assert self.ml is not None
        lo_u, hi_u = self.ml.grid.u[[0, -1]]
        lo_v, hi_v = self.ml.grid.v[[0, -1]]
        th = np.column_stack([phi[:, 0], phi[:, 1], np.exp(phi[:, 2]), np.exp(phi[:, 3])])
        ok = (phi[:, 0] >= lo_u) & (phi[:, 0] <= hi_u) & (phi[:, 1] >= lo_v) & (phi[:, 1] <= hi_v)
        ok &= (th[:, 2] <= 5.0) & (th[:, 3] <= 5.0)
        out = np.full(len(phi), -np.inf)
        if ok.any():
            prior = -0.5 * (th[ok, 2] ** 2 + th[ok, 3] ** 2) / SPREAD_PRIOR**2
            out[ok] = self.ml.loglik_many(th[ok], self.train) + phi[ok, 2] + phi[ok, 3] + prior
        return out

    def hyper_draws(self, k: int, rng: np.random.Generator, proposals: int = 2000, rounds: int = 3) -> np.ndarray:
        """``k`` draws of ``theta`` from the posterior, by adaptive importance sampling.

        Posterior: the likelihood, flat in ``mu_p, mu_q`` (inside the grid box), half-normal
        (:data:`SPREAD_PRIOR`) in ``sigma_p, sigma_q``.

        Proposal: multivariate t (5 degrees of freedom) in ``(mu_p, mu_q, log sigma_p, log sigma_q)``, started
        at the MLE with a wide covariance and refitted to the weighted draws ``rounds`` times.
        """
        smp, smq = self.ml.grid.sigma_min if self.ml is not None else (0.05, 0.05)
        mean = np.array([self.theta[0], self.theta[1], math.log(max(self.theta[2], smp)), math.log(max(self.theta[3], smq))])
        cov = np.diag([0.5, 0.5, 1.0, 1.0]) ** 2
        if np.all(np.isfinite(self.cov_mu)):
            cov[:2, :2] = self.cov_mu * 4.0 + np.eye(2) * 1e-4
        df = 5.0
        for _ in range(rounds):
            phi, logq = _t_draws(mean, cov, df, proposals, rng)
            logw = self._log_target(phi) - logq
            w = np.exp(logw - logsumexp(logw))
            mean = w @ phi
            d = phi - mean
            cov = (d * w[:, None]).T @ d + np.eye(4) * 1e-6
        phi, logq = _t_draws(mean, cov, df, proposals * 2, rng)
        logw = self._log_target(phi) - logq
        w = np.exp(logw - logsumexp(logw))
        self.ess = float(1.0 / np.sum(w**2))
        pick = rng.choice(len(phi), size=k, replace=True, p=w)
        ph = phi[pick]
        return np.column_stack([ph[:, 0], ph[:, 1], np.exp(ph[:, 2]), np.exp(ph[:, 3])])

    def plugin_draws(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """``k`` draws of ``theta``: ``(mu_p, mu_q)`` from their asymptotic normal, the spreads at their MLE (empirical Bayes)."""
        th = np.tile(self.theta, (k, 1))
        if np.all(np.isfinite(self.cov_mu)):
            th[:, :2] = rng.multivariate_normal(self.theta[:2], self.cov_mu, size=k, method="eigh")
        return th

    def new_community_pq(self, k: int, rng: np.random.Generator, uncertainty: str = "plugin") -> np.ndarray:
        """``(k, 2)`` draws of a new community's ``(p_c, q_c)``: hyperparameters, then the community's effects.

        ``uncertainty``: ``"plugin"`` (:meth:`plugin_draws`, the default), ``"posterior"``
        (:meth:`hyper_draws`) or ``"none"`` (the MLE).
        """
        if uncertainty == "posterior" and self.ml is not None:
            th = self.hyper_draws(k, rng)
        elif uncertainty == "plugin":
            th = self.plugin_draws(k, rng)
        else:
            th = np.tile(self.theta, (k, 1))
        grid = self.ml.grid if self.ml is not None else Grid.default()
        u = _truncated_normal(th[:, 0], th[:, 2], grid.u[0], grid.u[-1], rng)
        v = _truncated_normal(th[:, 1], th[:, 3], grid.v[0], grid.v[-1], rng)
        return np.column_stack([expit(u), np.exp(v)])


def _t_draws(mean: np.ndarray, cov: np.ndarray, df: float, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Multivariate t draws and their log density."""
    from scipy.stats import multivariate_t

    dist = multivariate_t(loc=mean, shape=cov, df=df, allow_singular=True)
    x = np.atleast_2d(dist.rvs(size=k, random_state=rng))
    return x, dist.logpdf(x)


def _truncated_normal(mu: np.ndarray, sigma: np.ndarray, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Normal draws (one per ``mu, sigma``) redrawn until inside ``[lo, hi]`` (clipped after 50 tries)."""
    x = mu + sigma * rng.standard_normal(len(mu))
    for _ in range(50):
        bad = (x < lo) | (x > hi)
        if not bad.any():
            break
        x[bad] = mu[bad] + sigma[bad] * rng.standard_normal(int(bad.sum()))
    return np.clip(x, lo, hi)


def _maximise(nll: Any, starts: list[np.ndarray], bounds: list[tuple[float, float]]) -> Any:
    best = None
    for s in starts:
        s = np.clip(s, [b[0] for b in bounds], [b[1] for b in bounds])
        res = minimize(nll, s, method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    return best


def fit_hierarchical(
    study: Study,
    holdout: Any | None = None,
    ml: MarginalLikelihood | None = None,
    pooled: FitResult | None = None,
    profile: bool = True,
) -> HierarchicalFit:
    """Maximum-likelihood hyperparameters of the hierarchical rule on ``study`` without community ``holdout``.

    ``ml`` (the per-community grid likelihoods) and ``pooled`` (the pooled fit on the same
    communities) are reused when given. ``profile`` computes the 95 % profile intervals.
    """
    ml = ml or MarginalLikelihood(study)
    pooled = pooled or fit_adoption(study, holdout=holdout)
    train = [c for c in ml.communities if c != holdout]
    bounds = ml.grid.bounds

    def nll(theta: np.ndarray) -> float:
        return -ml.loglik(theta, train)

    mu_p0 = float(logit(np.clip(pooled.p, 2e-4, 0.6)))
    mu_q0 = math.log(max(pooled.q, 2e-3))
    starts = [np.array([mu_p0, mu_q0, s1, s2]) for s1, s2 in ((0.3, 0.3), (1.0, 1.0))]
    best = _maximise(nll, starts, bounds)
    theta = np.asarray(best.x, dtype=float)
    # covariance of (mu_p, mu_q): full Hessian over the coordinates off their bounds
    smp, smq = ml.grid.sigma_min
    free = [0, 1] + [i for i, sm in ((2, smp), (3, smq)) if theta[i] > 2 * sm]
    step = np.array([1e-3, 1e-3, 1e-3, 1e-3])

    def nll_free(z: np.ndarray) -> float:
        t = theta.copy()
        t[free] = z
        return nll(t)

    try:
        cov = np.linalg.inv(_hessian(nll_free, theta[free], step[free]))[:2, :2]
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    fit = HierarchicalFit(
        study.name, study.network_kind, study.unit, theta, -float(best.fun), train, holdout, pooled,
        int(sum(len(study.members(c)) for c in train)), cov_mu=cov, ml=ml,
    )
    if profile:
        fit.profile = {name: hyper_profile(ml, train, theta, i) for i, name in enumerate(PARAMS)}
    return fit


def hyper_profile(
    ml: MarginalLikelihood, train: list[Any], theta: np.ndarray, which: int, level: float = 0.95
) -> tuple[float, float]:
    """Profile-likelihood interval of hyperparameter ``which`` (index into :data:`PARAMS`).

    A spread parameter whose profile stays within the limit down to one grid spacing gets the lower end 0.
    """
    bounds = ml.grid.bounds
    others = [i for i in range(4) if i != which]
    nll_min = -ml.loglik(theta, train)
    limit = float(chi2.ppf(level, 1)) / 2.0

    def excess(v: float) -> float:
        def f(z: np.ndarray) -> float:
            t = np.empty(4)
            t[which] = v
            t[others] = z
            return -ml.loglik(t, train)

        start = np.clip(theta[others], [bounds[i][0] for i in others], [bounds[i][1] for i in others])
        res = minimize(f, start, method="L-BFGS-B", bounds=[bounds[i] for i in others])
        return min(float(res.fun), f(theta[others])) - nll_min - limit

    est = float(theta[which])
    lo_b, hi_b = bounds[which]
    ends = []
    for bound in (lo_b, hi_b):
        if abs(bound - est) < 1e-9 or excess(bound) <= 0.0:
            ends.append(float(bound))
        else:
            ends.append(float(brentq(excess, est, bound, xtol=1e-4)))
    if which >= 2 and ends[0] <= lo_b + 1e-9:
        ends[0] = 0.0
    return ends[0], ends[1]


# --------------------------------------------------------------------------- simulating a (new) community


def community_network(study: Study, members: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The exposure ties among ``members`` only (a new community on its own network) and their counts."""
    sub = study.network.csr[members][:, members].tocsr()
    return sub, np.asarray(sub.sum(axis=1)).ravel()


def adoption_periods(adj: sp.csr_matrix, deg: np.ndarray, pq: np.ndarray, periods: int, rng: np.random.Generator) -> np.ndarray:
    """Simulate ``min(p + q x, 1)`` on a network from nobody adopted, once per row of ``pq``.

    ``x`` is the share of a person's ties who adopted by the end of the previous period (0
    with no ties), as :meth:`sim.world.networks.OrgNetwork.share`. Returns ``(len(pq), n)``:
    the period index (0-based) in which each person adopted, -1 for never.
    """
    n, k = adj.shape[0], len(pq)
    p, q = pq[:, 0][None, :], pq[:, 1][None, :]
    state = np.zeros((n, k), dtype=bool)
    when = np.full((n, k), -1, dtype=np.int64)
    safe = np.maximum(deg, 1.0)[:, None]
    for t in range(periods):
        x = np.where(deg[:, None] > 0, (adj @ state.astype(np.float64)) / safe, 0.0)
        new = ~state & (rng.random((n, k)) < np.minimum(p + q * x, 1.0))
        when[new] = t
        state |= new
    return when.T


def simulate_community(study: Study, members: np.ndarray, pq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Simulate ``members`` as a new community on their own network (:func:`adoption_periods`), once per row of ``pq``.

    Returns ``(len(pq), periods)``: the cumulative share of ``members`` adopted at the end of each period.
    """
    adj, deg = community_network(study, members)
    when = adoption_periods(adj, deg, pq, len(study.times), rng)
    adopted = when >= 0
    return np.stack([(adopted & (when <= t)).mean(axis=1) for t in range(len(study.times))], axis=1)


def simulate_hierarchical_tables(
    template: Study, theta: np.ndarray, copies: int, seed: int, name: str = "simulated",
) -> tuple[StudyTables, np.ndarray]:
    """A study simulated from a known hierarchical model on a real network.

    Each community of ``template`` (its exposure network, its periods) is used ``copies``
    times; every copy draws its own ``logit p_c ~ N(mu_p, sigma_p)``, ``log q_c ~ N(mu_q, sigma_q)``
    (``theta``, truncated to the grid box) and its adoptions from the rule. Returns the tables
    (community ids 1, 2, ...; directed ties ``ego -> alter`` as in the template) and the
    ``(communities, 2)`` true ``p_c, q_c``.
    """
    rng = np.random.default_rng(seed)
    grid = Grid.default()
    comm, toa, ego, alter, truth = [], [], [], [], []
    offset, cid = 0, 0
    for _ in range(copies):
        for c in template.communities:
            cid += 1
            m = template.members(c)
            adj, deg = community_network(template, m)
            u = _truncated_normal(np.array([theta[0]]), np.array([theta[2]]), grid.u[0], grid.u[-1], rng)
            v = _truncated_normal(np.array([theta[1]]), np.array([theta[3]]), grid.v[0], grid.v[-1], rng)
            pq = np.array([[float(expit(u[0])), float(np.exp(v[0]))]])
            when = adoption_periods(adj, deg, pq, len(template.times), rng)[0]
            toa.append(np.where(when >= 0, template.times[np.maximum(when, 0)], np.inf))
            coo = adj.tocoo()
            ego.append(coo.row + offset)
            alter.append(coo.col + offset)
            comm.append(np.full(len(m), cid))
            truth.append(pq[0])
            offset += len(m)
    n = offset
    tables = StudyTables(
        name=name, ids=np.arange(n).astype(object), community=np.concatenate(comm).astype(np.int64),
        toa=np.concatenate(toa).astype(float), times=template.times.copy(),
        ego=np.concatenate(ego).astype(np.int64), alter=np.concatenate(alter).astype(np.int64),
    )
    return tables, np.array(truth)


@dataclass
class CommunityBand:
    """A community's observed cumulative share against a prediction band from simulated shares."""

    times: np.ndarray
    observed: np.ndarray
    lo: np.ndarray
    median: np.ndarray
    hi: np.ndarray
    level: float
    credit: np.ndarray
    """per time point, the chance the point counts as inside (1 strictly inside, 0 outside; see :func:`band_from`)"""

    @property
    def points(self) -> int:
        """Number of time points."""
        return len(self.times)

    @property
    def inside(self) -> float:
        """Time points inside the band, points on its edge counted by their credit (sums to ``level`` on average)."""
        return float(self.credit.sum())

    @property
    def inside_inclusive(self) -> int:
        """Time points inside the closed band ``[lo, hi]`` (edges counted as inside)."""
        return int(np.sum((self.observed >= self.lo - 1e-12) & (self.observed <= self.hi + 1e-12)))

    @property
    def width(self) -> float:
        """Mean width of the band over the time points (share of the community)."""
        return float(np.mean(self.hi - self.lo))


def band_from(times: np.ndarray, observed: np.ndarray, shares: np.ndarray, level: float = 0.9) -> CommunityBand:
    """The central ``level`` band of simulated ``shares`` (``(sims, periods)``) and each point's credit.

    Shares of a community are discrete (k of n people), so the closed band holds a
    calibrated observation with probability above ``level`` (at the start, when nearly every
    simulation has nobody adopted, with probability 1). The credit corrects that exactly:
    with ``F-`` and ``F`` the predictive probability below and at the observed value, the
    credit is the part of ``[F-, F]`` inside ``[(1 - level)/2, (1 + level)/2]``, divided by
    ``F - F-`` - the chance a randomised PIT lands in the central ``level``, whose mean
    under the model is exactly ``level``. It is 1 strictly inside the band and 0 outside.
    """
    a = (1.0 - level) / 2.0
    lo, med, hi = np.quantile(shares, [a, 0.5, 1.0 - a], axis=0)
    f_lo = np.mean(shares < observed[None, :] - 1e-9, axis=0)
    f_hi = np.mean(shares <= observed[None, :] + 1e-9, axis=0)
    overlap = np.clip(np.minimum(f_hi, 1.0 - a) - np.maximum(f_lo, a), 0.0, None)
    mass = f_hi - f_lo
    credit = np.where(mass > 0, overlap / np.where(mass > 0, mass, 1.0), ((f_lo >= a) & (f_lo <= 1.0 - a)).astype(float))
    return CommunityBand(times, observed, lo, med, hi, level, credit)


def coverage_interval(
    inside: np.ndarray, points: np.ndarray, reps: int = 4000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Pooled coverage ``sum(inside) / sum(points)`` with a percentile bootstrap interval over communities."""
    inside, points = np.asarray(inside, float), np.asarray(points, float)
    est = float(inside.sum() / points.sum())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(inside), size=(reps, len(inside)))
    boot = inside[idx].sum(axis=1) / points[idx].sum(axis=1)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [a, 1.0 - a])
    return est, float(lo), float(hi)
