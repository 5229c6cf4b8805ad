"""The limits the model must reproduce (model specification, section 5), as checks.

Each limit is a scenario file in ``experiments/validation/`` (runnable with
``sim run``); its expected result lives here, in :data:`EXPECTED`, because the strict
scenario schema rejects extra tables. Every check reads its parameters (``p``,
``q``, ``delta``, ``dt``, ``rate_mode``, number of organisations) from the resolved
scenario, so overrides such as ``--set organisations.p=0.02`` are checked against
the theory for *those* values. Tolerances come from theory (standard errors of the
replicate mean, binomial counts, closed forms), never from tuning.

Each check returns a :class:`CheckResult`: table rows (limit, case, expected, got,
tolerance, pass) and, when given a folder, a PNG plot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from scipy.optimize import brentq

from sim.api import build_model
from sim.rates import per_step
from sim.reference import effective_p, limit_violations, reference_run
from sim.scenario import Scenario, load_scenario
from sim.world.places import organisation_counts

EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "experiments" / "validation"

CASCADE_SHARE = 0.1
"""A cascade is *global* when its final share of adopters is at least this (Watts 2002 counts
cascades that reach a finite share of a 10^4-node network; the size distribution is bimodal,
so any cutoff between about 0.01 and 0.5 gives the same count)."""

EXPECTED: dict[str, dict[str, str]] = {
    "bass": {
        "file": "bass.toml",
        "claim": "mean orgs_adopted/m of replicates follows the discrete Bass recursion "
        "F_t = F_{t-1} + (p + q F_{t-1})(1 - F_{t-1}) at every step",
        "tolerance": "3 standard errors of the replicate mean (+ half an organisation, the count resolution)",
        "source": "Bass (1969); model spec section 5",
    },
    "bass_closed_form": {
        "file": "bass.toml (run.dt <= 0.1, run.rate_mode = 'rate')",
        "claim": "F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})",
        "tolerance": "0.02 (absolute, at every step; the spec's allowance for the step size) plus 3 standard "
        "errors of the replicate mean (sampling: one run's curve is shifted in time by early chance)",
        "source": "Bass (1969); model spec section 5",
    },
    "sis": {
        "file": "sis.toml",
        "claim": "running share settles at A* solving (p + q A)(1 - A) = delta A; "
        "p=0.03, q=0.38: A* = 0.762 (delta 0.1), 0.541 (delta 0.2)",
        "tolerance": "0.02 (absolute) at N = 10^4",
        "source": "SIS / Bass with discontinuance; model spec section 5",
    },
    "watts": {
        "file": "watts.toml",
        "claim": f"P(global cascade: final share >= {CASCADE_SHARE}) from one seed at phi = 0.18 is 0 at mean degree "
        "0.5 and >= 7, above 0.5 for mean degree 2..5",
        "tolerance": "exact 0 (no cascade in any replicate) / share of replicates > 0.5",
        "source": "Watts (2002) PNAS 99:5766, Fig. 1; model spec section 5",
    },
    "centola": {
        "file": "centola.toml",
        "claim": "ring lattice, 4 neighbours, threshold 2 of 4: full adoption at rewiring 0; "
        "collapse to about 1 % of 10^4 organisations from rewiring 0.01",
        "tolerance": "rewiring 0: exactly 1; rewiring >= 0.01: mean final share <= 0.02",
        "source": "Centola & Macy (2007) AJS 113:702; model spec section 5",
    },
    "granovetter": {
        "file": "granovetter.toml",
        "claim": "thresholds 0..99 of 100: all adopt; raising threshold 1 to 2: one adopter",
        "tolerance": "exact",
        "source": "Granovetter (1978) AJS 83:1420; model spec section 5",
    },
    "reference": {
        "file": "bass.toml on a random network (degree 8)",
        "claim": "vectorised model and per-agent Mesa reference give the same distribution of time to 50 % "
        "and the same mean curve",
        "tolerance": "two-sample KS test p >= 0.01; mean curves within 3 standard errors of their difference "
        "(+ half an organisation)",
        "source": "sim.reference",
    },
}
"""Expected result of every validation experiment: the claim, its tolerance and its source."""


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One row of the validation table. ``passed`` is None for informative rows (not judged)."""

    limit: str
    case: str
    expected: str
    got: str
    tolerance: str
    passed: bool | None


@dataclass
class CheckResult:
    """The outcome of one check: table rows, an optional plot and notes."""

    name: str
    title: str
    rows: list[Row]
    image: str | None = None
    notes: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every judged row passed."""
        return all(r.passed for r in self.rows if r.passed is not None)


@dataclass(frozen=True)
class Sizes:
    """Replicates and sizes of the checks. ``None`` sizes mean "as in the scenario file"."""

    bass_reps: int = 200
    bass_m: int | None = None
    closed_reps: int = 24
    closed_m: int | None = 2000
    sis_reps: int = 5
    sis_n: int | None = None
    watts_reps: int = 100
    watts_n: int | None = None
    watts_degrees: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)
    centola_reps: int = 50
    centola_n: int | None = None
    centola_rewiring: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1)
    centola_ring_n: int = 2000
    reference_reps: int = 40
    reference_m: int = 500
    calibration_sims: int = 400


QUICK = Sizes(
    bass_reps=40, bass_m=500, closed_reps=5, closed_m=500, sis_reps=2, sis_n=2000, watts_reps=30, watts_n=2000,
    watts_degrees=(0.5, 2.0, 3.5, 5.0, 7.0), centola_reps=10, centola_rewiring=(0.0, 0.01, 0.05),
    centola_ring_n=400, reference_reps=20, reference_m=200, calibration_sims=100,
)
"""Small sizes for ``sim validate --quick`` and the test suite (same tolerances, fewer replicates)."""


# --------------------------------------------------------------------------- scenario helpers


def load_limit(name: str, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Load ``experiments/validation/<name>.toml`` with dotted overrides."""
    return load_scenario(EXPERIMENTS_DIR / f"{name}.toml", overrides)


def _n_orgs(sc: Scenario) -> int:
    """Number of organisations of a one-place synthetic scenario whose place has ``population_mean`` persons."""
    return int(organisation_counts(sc.organisations, np.array([sc.places.population_mean]))[0])


def _deterministic(sc: Scenario) -> bool:
    """Whether the dynamics are a deterministic threshold rule that is absorbing once nothing changes."""
    op = sc.organisations
    q_step = float(per_step(op.q, sc.run.dt, sc.run.rate_mode))
    return effective_p(sc) == 0 and op.abandonment == 0 and op.influence == "threshold" and q_step >= 1.0


def simulate(
    sc: Scenario, seed: int, steps: int | None = None, stop_share: float | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Run the vectorised model; return per-step ``orgs_adopted``, ``sites_running`` (length steps+1) and ``n``.

    For a deterministic threshold rule (:func:`_deterministic`) the run stops when a
    step changes nothing (the state is then absorbing), or once ``orgs_adopted`` reaches
    ``stop_share`` of the organisations (adoption only grows); the rest is filled with
    the last values.
    """
    model = build_model(sc, seed)
    n = model.orgs.n
    steps = sc.run.steps if steps is None else int(steps)
    det = _deterministic(sc)
    adopted = np.empty(steps + 1)
    running = np.empty(steps + 1)

    def record(t: int) -> None:
        row = model.collector.rows[-1]
        adopted[t], running[t] = row["orgs_adopted"], row["sites_running"]

    record(0)
    for t in range(1, steps + 1):
        model.step()
        record(t)
        stable = det and adopted[t] == adopted[t - 1] and running[t] == running[t - 1]
        reached = det and stop_share is not None and adopted[t] >= stop_share * n
        if stable or reached:
            adopted[t + 1 :], running[t + 1 :] = adopted[t], running[t]
            break
    return adopted, running, n


def _seeds(sc: Scenario, reps: int) -> range:
    return range(sc.run.seed, sc.run.seed + reps)


# --------------------------------------------------------------------------- theory


def bass_recursion(
    p: float, q: float, steps: int, f0: float = 0.0, dt: float = 1.0, rate_mode: str = "probability"
) -> np.ndarray:
    """Discrete Bass recursion of the adopted share, ``F_t = F_{t-1} + h(F_{t-1}) (1 - F_{t-1})``.

    ``h(F) = per_step(p + q F)``; at ``dt = 1`` in probability mode this is the
    spec's ``n_t = (p + q N_{t-1}/m)(m - N_{t-1})`` divided by ``m``.
    """
    f = np.empty(steps + 1)
    f[0] = f0
    for t in range(1, steps + 1):
        f[t] = f[t - 1] + float(per_step(p + q * f[t - 1], dt, rate_mode)) * (1.0 - f[t - 1])
    return f


def bass_closed_form(p: float, q: float, t: np.ndarray, f0: float = 0.0) -> np.ndarray:
    """Continuous Bass solution of ``dF/dt = (p + q F)(1 - F)`` with ``F(0) = f0`` (``t`` in months).

    At ``f0 = 0``: ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``.
    """
    t = np.asarray(t, dtype=np.float64)
    if p <= 0:
        if f0 <= 0:
            return np.zeros_like(t)
        g = f0 * np.exp(q * t)
        return g / (1.0 - f0 + g)
    c = (1.0 - f0) / (1.0 + (q / p) * f0)
    e = c * np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def sis_steady_state(p: float, q: float, delta: float, dt: float = 1.0, rate_mode: str = "probability") -> float:
    """Endemic running share ``A*`` where per-step adoption of the rest balances abandonment.

    Solves ``h(A)(1 - A) = d A`` with ``h(A) = per_step(p + q A)``, ``d = per_step(delta)``;
    at ``dt = 1`` in probability mode this is ``(p + q A)(1 - A) = delta A``.
    """
    d = float(per_step(delta, dt, rate_mode))
    if d <= 0:
        return 1.0

    def g(a: float) -> float:
        return float(per_step(p + q * a, dt, rate_mode)) * (1.0 - a) - d * a

    lo = 1e-12
    if g(lo) <= 0:
        return 0.0
    return float(brentq(g, lo, 1.0, xtol=1e-12))


def watts_cascade_probability(z: float, phi: float, kmax: int = 400) -> float:
    """Probability that one random seed triggers a global cascade on an infinite Erdos-Renyi graph.

    The seed must touch the giant *vulnerable* cluster (nodes of degree ``k`` with
    ``1/k >= phi``): ``P = 1 - G0(u)`` with ``u`` the fixed point of
    ``u = 1 - sum_k (k P_k / z) [k vulnerable] (1 - u^{k-1})`` (Watts 2002, generating functions).
    """
    if z <= 0:
        return 0.0
    k = np.arange(kmax)
    pk = stats.poisson.pmf(k, z)
    vulnerable = (k > 0) & (phi * k <= 1.0 + 1e-12)
    qk = k * pk / z
    u = 0.0
    for _ in range(20_000):
        new = 1.0 - float(np.sum(qk * vulnerable * (1.0 - u ** np.maximum(k - 1, 0))))
        if abs(new - u) < 1e-13:
            break
        u = new
    return max(0.0, 1.0 - float(np.sum(pk * u**k)))


def centola_expected_share(rewiring: float, n0: int, n: int) -> float:
    """Approximate final share of a threshold-2-of-4 contagion on a rewired ring (a front-stopping argument).

    The front passes the next organisation only if both ring ties that reach it from
    the adopting side are intact, ``(1 - r)^2``, and it gained no rewired tie (which
    would raise its threshold count to 3), ``e^{-2r}``. Each of the two fronts then
    travels a geometric number of steps with mean ``s / (1 - s)``.
    """
    if rewiring <= 0:
        return 1.0
    s = (1.0 - rewiring) ** 2 * math.exp(-2.0 * rewiring)
    return min(1.0, (n0 + 2.0 * s / (1.0 - s)) / n)


# --------------------------------------------------------------------------- plotting


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, img_dir: Path | None, name: str) -> str | None:
    plt = _plt()
    if img_dir is None:
        plt.close(fig)
        return None
    img_dir.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(img_dir / name, dpi=110)
    plt.close(fig)
    return name


# --------------------------------------------------------------------------- checks


def _fmt_pq(sc: Scenario) -> str:
    return f"p={effective_p(sc):g}, q={sc.organisations.q:g}"


def _guard(name: str, sc: Scenario) -> list[Row]:
    """Rows that flag a scenario whose overrides leave the limit (then the theory does not apply)."""
    return [Row(name, "scenario in the limit", "no extra terms", v, "-", False) for v in limit_violations(sc)]


def check_bass(overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None) -> CheckResult:
    """Bass: mean of replicates against the discrete Bass recursion, within 3 SE at every step."""
    ov = list(overrides) + ([f"organisations.base_per_place={sizes.bass_m}"] if sizes.bass_m else [])
    sc = load_limit("bass", ov)
    op, run = sc.organisations, sc.run
    curves = []
    m = 1
    for seed in _seeds(sc, sizes.bass_reps):
        adopted, _, m = simulate(sc, seed)
        curves.append(adopted / m)
    f = np.array(curves)
    mean = f.mean(axis=0)
    se = f.std(axis=0, ddof=1) / math.sqrt(len(f))
    rec = bass_recursion(effective_p(sc), op.q, run.steps, min(op.initial_adopters, m) / m, run.dt, run.rate_mode)
    tol = 3.0 * se + 0.5 / m
    dev = np.abs(mean - rec)
    ok = bool(np.all(dev <= tol))
    worst = int(np.argmax(dev / tol))
    rows = _guard("Bass", sc) + [
        Row(
            "Bass", f"recursion, {_fmt_pq(sc)}, m={m}, {len(f)} reps, {run.steps} steps",
            "mean F_t = recursion at every step",
            f"max deviation/tolerance = {dev[worst] / tol[worst]:.2f} (step {worst}: {mean[worst]:.4f} vs "
            f"{rec[worst]:.4f}, SE {se[worst]:.4f})",
            "3 SE + 0.5/m", ok,
        )
    ]
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    t = np.arange(run.steps + 1) * run.dt
    a1.fill_between(t, mean - 3 * se, mean + 3 * se, alpha=0.3, label="replicate mean ± 3 SE")
    a1.plot(t, mean, lw=1, label="model (mean)")
    a1.plot(t, rec, "k--", lw=1, label="Bass recursion")
    a1.set(xlabel="month", ylabel="share adopted F", title=f"Bass limit ({_fmt_pq(sc)}, m={m})")
    a1.legend(fontsize=8)
    a2.plot(t, (mean - rec) / np.where(se > 0, se, np.nan), ".-")
    a2.axhline(3, color="r", lw=0.8)
    a2.axhline(-3, color="r", lw=0.8)
    a2.set(xlabel="month", ylabel="(mean - recursion) / SE", title="standardised difference")
    image = _save(fig, img_dir, "bass.png")
    return CheckResult("bass", "Bass: discrete recursion", rows, image, data={"mean": mean, "rec": rec, "se": se})


def check_bass_closed_form(
    overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None
) -> CheckResult:
    """Bass: with steps of at most 0.1 month and continuous hazards, the mean curve matches the closed form."""
    base = load_limit("bass", list(overrides))
    horizon = base.run.steps * base.run.dt
    dt = min(base.run.dt, 0.1)
    steps = int(math.ceil(horizon / dt - 1e-9))
    ov = list(overrides) + [f"run.dt={dt}", 'run.rate_mode="rate"', f"run.steps={steps}"]
    ov += [f"organisations.base_per_place={sizes.closed_m}"] if sizes.closed_m else []
    sc = load_limit("bass", ov)
    op = sc.organisations
    curves = []
    m = 1
    for seed in _seeds(sc, sizes.closed_reps):
        adopted, _, m = simulate(sc, seed)
        curves.append(adopted / m)
    mean = np.mean(curves, axis=0)
    se = np.std(curves, axis=0, ddof=1) / math.sqrt(len(curves))
    t = np.arange(steps + 1) * dt
    f0 = min(op.initial_adopters, m) / m
    cf = bass_closed_form(effective_p(sc), op.q, t, f0)
    disc = float(np.max(np.abs(bass_recursion(effective_p(sc), op.q, steps, f0, dt, "rate") - cf)))
    dev = np.abs(mean - cf)
    ok = bool(np.all(dev <= 0.02 + 3.0 * se))
    rows = _guard("Bass closed form", sc) + [
        Row(
            "Bass closed form", f"{_fmt_pq(sc)}, dt={dt:g}, rate mode, m={m}, {len(curves)} reps",
            "F(t) = (1-e^{-(p+q)t})/(1+(q/p)e^{-(p+q)t})",
            f"max |mean - F(t)| = {dev.max():.4f} (of which step-size error {disc:.4f}; max 3 SE {3 * se.max():.4f})",
            "0.02 + 3 SE", ok,
        )
    ]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for c in curves:
        ax.plot(t, c, color="0.7", lw=0.5)
    ax.plot(t, mean, lw=1.5, label="model (mean of replicates)")
    ax.plot(t, cf, "k--", lw=1, label="closed form F(t)")
    ax.set(xlabel="month", ylabel="share adopted F", title=f"Bass closed form (dt = {dt:g} month)")
    ax.legend(fontsize=8)
    image = _save(fig, img_dir, "bass_closed_form.png")
    return CheckResult("bass_closed_form", "Bass: closed form", rows, image)


def check_sis(overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None) -> CheckResult:
    """SIS steady state: time-averaged running share (second half of the run) against ``A*``, within 0.02."""
    ov0 = list(overrides) + ([f"organisations.base_per_place={sizes.sis_n}"] if sizes.sis_n else [])
    first = load_limit("sis", ov0)
    deltas = [first.organisations.abandonment] + [d for d in (0.1, 0.2) if d != first.organisations.abandonment][:1]
    rows: list[Row] = _guard("SIS", first)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for delta in deltas:
        sc = load_limit("sis", ov0 + [f"organisations.abandonment={delta}"])
        op, run = sc.organisations, sc.run
        a_star = sis_steady_state(effective_p(sc), op.q, delta, run.dt, run.rate_mode)
        levels, sds = [], []
        for seed in _seeds(sc, sizes.sis_reps):
            _, running, n = simulate(sc, seed)
            share = running / n
            tail = share[run.steps // 2 :]
            levels.append(tail.mean())
            sds.append(tail.std())
            ax.plot(np.arange(run.steps + 1) * run.dt, share, lw=0.7)
        got = float(np.mean(levels))
        rows.append(
            Row(
                "SIS", f"{_fmt_pq(sc)}, delta={delta:g}, N={n}, {len(levels)} reps",
                f"A* = {a_star:.3f}", f"{got:.3f} (sd over time {np.mean(sds):.3f})", "0.02", abs(got - a_star) <= 0.02,
            )
        )
        ax.axhline(a_star, color="k", ls="--", lw=0.8)
        ax.text(0, a_star + 0.01, f"A* = {a_star:.3f} (delta = {delta:g})", fontsize=8)
    ax.set(xlabel="month", ylabel="share running", title="SIS steady state", ylim=(0, 1))
    image = _save(fig, img_dir, "sis.png")
    return CheckResult("sis", "SIS steady state", rows, image)


def check_watts(overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None) -> CheckResult:
    """Watts (2002): share of single-seed runs that become global cascades, against mean degree."""
    ov0 = list(overrides) + ([f"organisations.base_per_place={sizes.watts_n}"] if sizes.watts_n else [])
    first = load_limit("watts", ov0)
    phi = first.organisations.threshold_mean
    rows: list[Row] = _guard("Watts", first)
    probs, lo_ci, hi_ci = [], [], []
    n = 0
    for z in sizes.watts_degrees:
        sc = load_limit("watts", ov0 + [f"organisations.degree={z}"])
        hits = 0
        for seed in _seeds(sc, sizes.watts_reps):
            adopted, _, n = simulate(sc, seed, stop_share=CASCADE_SHARE)
            hits += adopted[-1] >= CASCADE_SHARE * n
        reps = sizes.watts_reps
        prob = hits / reps
        ci = stats.binomtest(hits, reps).proportion_ci(0.95, method="wilson")
        probs.append(prob)
        lo_ci.append(ci.low)
        hi_ci.append(ci.high)
        theory = watts_cascade_probability(z, phi)
        got = f"{prob:.2f} ({hits}/{reps})"
        case = f"mean degree {z:g}, phi={phi:g}, N={n}"
        if z <= 0.5 or z >= 7:
            rows.append(Row("Watts", case, f"0 (theory {theory:.2f})", got, "exact", hits == 0))
        elif 2 <= z <= 5:
            rows.append(Row("Watts", case, f"> 0.5 (theory {theory:.2f})", got, "> 0.5", prob > 0.5))
        else:
            rows.append(Row("Watts", case, f"(theory {theory:.2f}, not judged)", got, "-", None))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    zs = np.array(sizes.watts_degrees)
    ax.errorbar(zs, probs, yerr=[np.array(probs) - lo_ci, np.array(hi_ci) - probs], fmt="o", capsize=3,
                label=f"model, N={n}, {sizes.watts_reps} runs each (95% CI)")
    zz = np.linspace(0.2, max(10.0, zs.max()), 200)
    ax.plot(zz, [watts_cascade_probability(z, phi) for z in zz], "k--", lw=1, label="theory, N -> infinity")
    ax.axhline(0.5, color="r", lw=0.6)
    ax.set(xlabel="mean degree z", ylabel="P(global cascade)", title=f"Watts cascade window, phi = {phi:g}",
           ylim=(-0.02, 1.02))
    ax.legend(fontsize=8)
    image = _save(fig, img_dir, "watts.png")
    return CheckResult("watts", "Watts (2002) global cascades", rows, image)


def check_centola(overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None) -> CheckResult:
    """Centola & Macy (2007): threshold-2 contagion takes the ring without rewiring and collapses with it."""
    ov0 = list(overrides) + ([f"organisations.base_per_place={sizes.centola_n}"] if sizes.centola_n else [])
    first = load_limit("centola", ov0)
    rows: list[Row] = _guard("Centola & Macy", first)
    shares, ses = [], []
    n0 = first.organisations.initial_adopters
    for r in sizes.centola_rewiring:
        ov = ov0 + [f"organisations.rewiring={r}"]
        if r == 0:
            # full adoption on an unrewired ring does not depend on its size; a shorter ring keeps the run short
            ring = sizes.centola_ring_n
            ov += [f"organisations.base_per_place={ring}", f"run.steps={ring}"]
        sc = load_limit("centola", ov)
        reps = 1 if r == 0 and _deterministic(sc) else sizes.centola_reps
        finals = []
        n = 1
        for seed in _seeds(sc, reps):
            adopted, _, n = simulate(sc, seed)
            finals.append(adopted[-1] / n)
        mean = float(np.mean(finals))
        se = float(np.std(finals, ddof=1) / math.sqrt(len(finals))) if len(finals) > 1 else 0.0
        shares.append(mean)
        ses.append(se)
        theory = centola_expected_share(r, n0, n)
        case = f"rewiring {r:g}, N={n}, {reps} reps"
        if r == 0:
            rows.append(Row("Centola & Macy", case, "1 (full adoption)", f"{mean:.4f}", "exact", mean == 1.0))
        else:
            rows.append(Row("Centola & Macy", case, f"about 0.01 (front-stopping approx. {theory:.4f})",
                            f"{mean:.4f} ± {se:.4f} SE", "<= 0.02", mean <= 0.02))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    rr = np.array(sizes.centola_rewiring)
    x = np.where(rr > 0, rr, 1e-3)
    ax.errorbar(x, shares, yerr=3 * np.array(ses), fmt="o", capsize=3, label="model: mean final share (± 3 SE)")
    rg = np.geomspace(0.005, max(0.1, rr.max()), 50)
    n_big = _n_orgs(first)
    ax.plot(rg, [centola_expected_share(r, n0, n_big) for r in rg], "k--", lw=1, label="front-stopping approximation")
    ax.set(xscale="log", yscale="log", xlabel="rewiring probability (0 drawn at 0.001)", ylabel="final share adopted",
           title="Complex contagion on a rewired ring (tau = 2 of 4)")
    ax.legend(fontsize=8)
    image = _save(fig, img_dir, "centola.png")
    return CheckResult("centola", "Centola & Macy (2007) complex contagion", rows, image)


def check_granovetter(
    overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None
) -> CheckResult:
    """Granovetter (1978): thresholds 0..99 give a full riot; raising threshold 1 to 2 stops it after one."""
    sc = load_limit("granovetter", list(overrides))
    adopted, _, n = simulate(sc, sc.run.seed)
    th = list(sc.organisations.thresholds or [])
    rows = _guard("Granovetter", sc) + [
        Row("Granovetter", f"thresholds 0..{n - 1} of {n}", f"{n} adopt", f"{int(adopted[-1])}", "exact",
            int(adopted[-1]) == n)
    ]
    second = sorted(th)[1] if len(th) > 1 else 0.0
    idx = th.index(second) if th else 0
    th2 = list(th)
    if th2:
        th2[idx] = second + 1.0 / n
    sc2 = load_limit("granovetter", list(overrides) + [f"organisations.thresholds={th2}"])
    adopted2, _, _ = simulate(sc2, sc.run.seed)
    rows.append(Row("Granovetter", f"threshold {second * n:.0f} raised to {second * n + 1:.0f}", "1 adopts",
                    f"{int(adopted2[-1])}", "exact", int(adopted2[-1]) == 1))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    t = np.arange(len(adopted)) * sc.run.dt
    ax.step(t, adopted, where="post", label="thresholds 0, 1, 2, ..., 99")
    ax.step(t, adopted2, where="post", label="thresholds 0, 2, 2, 3, ..., 99")
    ax.set(xlabel="month", ylabel="adopters", title="Granovetter's riot")
    ax.legend(fontsize=8)
    image = _save(fig, img_dir, "granovetter.png")
    return CheckResult("granovetter", "Granovetter (1978) riot", rows, image)


def time_to_half(adopted: np.ndarray, n: int) -> float:
    """First step at which at least half of ``n`` have adopted (``inf`` if never)."""
    hit = np.flatnonzero(np.asarray(adopted) >= 0.5 * n)
    return float(hit[0]) if len(hit) else math.inf


def compare_reference(
    sc: Scenario, reps: int, column: str = "orgs_adopted"
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Run ``sc`` ``reps`` times with the vectorised model and with :mod:`sim.reference`.

    Returns statistics (KS and Mann-Whitney p-values on time to 50 % of ``orgs_adopted``,
    the largest standardised gap between mean curves of ``column``) and the two
    ``(reps, steps+1)`` arrays of ``column`` shares.
    """
    vec, ref, t_vec, t_ref = [], [], [], []
    n = _n_orgs(sc)
    for seed in _seeds(sc, reps):
        adopted, running, n = simulate(sc, seed)
        vec.append((adopted if column == "orgs_adopted" else running) / n)
        t_vec.append(time_to_half(adopted, n))
        df = reference_run(sc, seed + 10_000)
        ref.append(df[column].to_numpy() / n)
        t_ref.append(time_to_half(df["orgs_adopted"].to_numpy(), n))
    v, r = np.array(vec), np.array(ref)
    se = np.sqrt(v.var(axis=0, ddof=1) / len(v) + r.var(axis=0, ddof=1) / len(r))
    gap = np.abs(v.mean(axis=0) - r.mean(axis=0))
    z = np.max(gap / (se + 0.5 / n / 3.0))
    ok_curve = bool(np.all(gap <= 3.0 * se + 0.5 / n))
    out = {
        "ks_p": float(stats.ks_2samp(t_vec, t_ref).pvalue),
        "mw_p": float(stats.mannwhitneyu(t_vec, t_ref).pvalue),
        "max_z": float(z),
        "curve_ok": float(ok_curve),
        "t50_vec": float(np.mean(t_vec)),
        "t50_ref": float(np.mean(t_ref)),
        "n": float(n),
    }
    return out, v, r


def check_reference(
    overrides: Sequence[str] = (), sizes: Sizes = Sizes(), img_dir: Path | None = None
) -> CheckResult:
    """The vectorised model against the per-agent Mesa reference on a random network (Bass rule)."""
    ov = list(overrides) + [
        f"organisations.base_per_place={sizes.reference_m}", 'organisations.network="random"',
        "organisations.degree=8.0", "organisations.p=0.01", "organisations.q=0.5", "organisations.initial_adopters=2",
    ]
    sc = load_limit("bass", ov)
    st, v, r = compare_reference(sc, sizes.reference_reps)
    n = int(st["n"])
    rows = _guard("Reference (Mesa agents)", sc) + [
        Row("Reference (Mesa agents)", f"time to 50 %, random network z=8, N={n}, {sizes.reference_reps}+"
            f"{sizes.reference_reps} reps", "same distribution",
            f"means {st['t50_vec']:.2f} vs {st['t50_ref']:.2f}; KS p = {st['ks_p']:.2f}", "KS p >= 0.01",
            st["ks_p"] >= 0.01),
        Row("Reference (Mesa agents)", "mean curve orgs_adopted", "same mean curve",
            f"max |gap|/SE = {st['max_z']:.2f}", "3 SE + 0.5/N", bool(st["curve_ok"])),
    ]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    t = np.arange(v.shape[1]) * sc.run.dt
    ax.plot(t, v.mean(axis=0), label="vectorised model (mean)")
    ax.plot(t, r.mean(axis=0), "--", label="Mesa per-agent reference (mean)")
    ax.set(xlabel="month", ylabel="share adopted", title=f"Oracle: vectorised vs reference (N={n})")
    ax.legend(fontsize=8)
    image = _save(fig, img_dir, "reference.png")
    return CheckResult("reference", "Vectorised model vs per-agent Mesa reference", rows, image)


CHECKS: dict[str, Callable[..., CheckResult]] = {
    "bass": check_bass,
    "bass_closed_form": check_bass_closed_form,
    "sis": check_sis,
    "watts": check_watts,
    "centola": check_centola,
    "granovetter": check_granovetter,
    "reference": check_reference,
}
"""All limit checks by name, in report order."""


def run_all(
    sizes: Sizes = Sizes(),
    img_dir: Path | None = None,
    overrides: dict[str, Sequence[str]] | None = None,
    only: Sequence[str] | None = None,
    on_done: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the limit checks (``only`` a subset by name), with per-check overrides, saving plots into ``img_dir``."""
    out = []
    for name, fn in CHECKS.items():
        if only is not None and name not in only:
            continue
        res = fn((overrides or {}).get(name, ()), sizes, img_dir)
        out.append(res)
        if on_done is not None:
            on_done(res)
    return out


def with_sizes(sizes: Sizes, **changes: Any) -> Sizes:
    """A copy of ``sizes`` with some fields changed."""
    return replace(sizes, **changes)
