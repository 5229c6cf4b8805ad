"""Calibrate a study and check it community by community: ``sim calibrate`` and its Python function.

For one study (shipped, or any in the format of ``data/README.md``):

1. the exposure network (:data:`~sim.validation.calibrate.NETWORKS`) with the highest
   pooled log-likelihood on the communities fitted;
2. the pooled fit (:func:`~sim.validation.calibrate.fit_adoption`) and the hierarchical
   fit (:func:`~sim.validation.hierarchical.fit_hierarchical`) on all communities, with
   intervals and the model choice between them;
3. with ``holdout="all"`` (leave-one-community-out), for every community in turn: steps 1-2
   on the others, and the held-out community's observed curve against the 90 % prediction
   band of each fit for a *new* community (simulated on its own network from nobody
   adopted; the hierarchical band draws the hyperparameters and the community's own
   ``p, q``, the pooled band draws ``(p, q)`` from the pooled fit's sampling distribution).
   ``holdout=<id>`` does this for one community, ``holdout="none"`` not at all.

**Coverage.** A point counts as inside the band with its credit
(:func:`~sim.validation.hierarchical.band_from`: 1 strictly inside, 0 outside, on the
band's edge the share of the predictive probability at that value lying in the central
90 % - without it the discrete shares of small communities make a calibrated band cover
more than 90 %). The leave-one-out coverage is the total credit over all held-out points,
with a 95 % percentile bootstrap interval that resamples *communities* (points within a
community are correlated). A calibrated band covers about 0.90: it is judged consistent
when 0.90 lies inside that interval - too narrow (interval below 0.90) and too wide
(interval above) both fail.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.validation.calibrate import (
    DATA_DIR,
    NETWORKS,
    STUDIES,
    TIME_UNITS,
    Band,
    FitResult,
    Study,
    fit_adoption,
    prediction_band,
    study_from_tables,
)
from sim.validation.hierarchical import (
    PARAMS,
    CommunityBand,
    HierarchicalFit,
    MarginalLikelihood,
    band_from,
    coverage_interval,
    fit_hierarchical,
    simulate_community,
)
from sim.validation.studies import StudyTables, read_study

LEVEL = 0.9
"""Nominal level of the prediction bands."""
WIDE_RANGE = (0.85, 0.97)
"""Where the leave-one-out coverage must lie for a study of 20 or more communities."""
SIMULATED_TRUTH = {"mu_p": float(np.log(0.02 / 0.98)), "mu_q": float(np.log(0.25)), "sigma_p": 0.5, "sigma_q": 0.5}
"""The known hierarchical model of :func:`calibrate_simulated`: median p = 0.02, q = 0.25 per year, spreads 0.5."""


@dataclass
class HeldOut:
    """One held-out community: its observed curve against the hierarchical and the pooled band."""

    community: Any
    n_people: int
    network: str
    hier: CommunityBand
    pooled: CommunityBand


@dataclass
class StudyCalibration:
    """Everything reported for one study."""

    study: str
    unit: str
    network: str
    network_loglik: dict[str, float]
    fit: FitResult
    hier: HierarchicalFit
    band: Band
    """pooled fit's band for the whole study (in-sample)"""
    holdout: str
    """"all", "none" or the held-out community's id (as text)"""
    held_out: list[HeldOut] = field(default_factory=list)
    sims: int = 400
    seed: int = 0
    images: list[str] = field(default_factory=list)

    def coverage(self, which: str = "hier") -> tuple[float, float, float]:
        """Leave-one-out coverage of the band of ``which`` ("hier" or "pooled"): estimate and 95 % bootstrap interval."""
        if not self.held_out:
            return math.nan, math.nan, math.nan
        inside = np.array([getattr(h, which).inside for h in self.held_out])
        points = np.array([getattr(h, which).points for h in self.held_out])
        return coverage_interval(inside, points, seed=self.seed)

    def width(self, which: str = "hier") -> float:
        """Mean band width over the held-out communities and their time points (share of the community)."""
        if not self.held_out:
            return math.nan
        return float(np.mean([getattr(h, which).width for h in self.held_out]))

    def verdict(self, which: str = "hier") -> str:
        """``consistent`` (LEVEL inside the interval), ``too narrow``, ``too wide`` or ``-`` (no check)."""
        est, lo, hi = self.coverage(which)
        if not np.isfinite(est):
            return "-"
        if hi < LEVEL:
            return "too narrow"
        if lo > LEVEL:
            return "too wide"
        return "consistent"

    @property
    def rule(self) -> str:
        """The pass rule: 0.90 inside the bootstrap interval; with >= 20 communities also the estimate in [0.85, 0.97]."""
        return "0.90 in 95 % interval" + (", estimate in [0.85, 0.97]" if len(self.held_out) >= 20 else "")

    @property
    def passed(self) -> bool:
        """Whether the hierarchical band's leave-one-out coverage passes :attr:`rule`."""
        ok = self.verdict("hier") == "consistent"
        if len(self.held_out) >= 20:
            ok = ok and WIDE_RANGE[0] <= self.coverage("hier")[0] <= WIDE_RANGE[1]
        return ok


def _best_network(studies: dict[str, Study], holdout: Any | None, profile: bool = True) -> tuple[str, dict[str, FitResult]]:
    fits = {kind: fit_adoption(st, holdout=holdout, profile=profile) for kind, st in studies.items()}
    return max(fits, key=lambda k: fits[k].loglik), fits


def calibrate_tables(
    tables: StudyTables,
    unit: str = "period",
    holdout: str | int = "all",
    sims: int = 400,
    seed: int = 0,
    img_dir: Path | None = None,
    networks: tuple[str, ...] = NETWORKS,
) -> StudyCalibration:
    """Fit and check a checked study (see the module docstring). ``sims`` simulations per band (>= 10)."""
    if unit not in TIME_UNITS:
        raise ValueError(f"--time-unit: unknown time unit {unit!r}; choose one of {', '.join(TIME_UNITS)}")
    if sims < 10:
        raise ValueError(f"--sims: at least 10; got {sims}")
    studies = {kind: study_from_tables(tables, kind, unit) for kind in networks}
    first = studies[networks[0]]
    comms = first.communities
    if str(holdout) == "all":
        folds, mode = comms, "all"
    elif str(holdout) == "none":
        folds, mode = [], "none"
    else:
        match = [c for c in comms if str(c) == str(holdout)]
        if not match:
            raise ValueError(f"{tables.name}: no community {holdout!r}; communities are {comms}")
        folds, mode = match, str(match[0])
    kind, fits = _best_network(studies, None)
    st = studies[kind]
    mls: dict[str, MarginalLikelihood] = {}

    def ml_of(k: str) -> MarginalLikelihood:
        if k not in mls:
            mls[k] = MarginalLikelihood(studies[k])
        return mls[k]

    hier = fit_hierarchical(st, ml=ml_of(kind), pooled=fits[kind], profile=True)
    band = prediction_band(st, fits[kind], np.arange(st.n), sims, seed, LEVEL)
    res = StudyCalibration(
        tables.name, unit, kind, {k: f.loglik for k, f in fits.items()}, fits[kind], hier, band, mode,
        sims=sims, seed=seed,
    )
    for i, c in enumerate(folds):
        k, kfits = _best_network(studies, c, profile=False)
        sk = studies[k]
        hfit = fit_hierarchical(sk, holdout=c, ml=ml_of(k), pooled=kfits[k], profile=False)
        members = sk.members(c)
        observed = sk.observed_curve(members)
        rng = np.random.default_rng([seed, i, 1])
        shares = simulate_community(sk, members, hfit.new_community_pq(sims, rng), rng)
        hb = band_from(sk.times, observed, shares, LEVEL)
        pf = kfits[k]
        rng = np.random.default_rng([seed, i, 2])
        pq = pf.draws(sims, rng) if np.all(np.isfinite(pf.cov)) else np.tile([pf.p, pf.q], (sims, 1))
        pb = band_from(sk.times, observed, simulate_community(sk, members, pq, rng), LEVEL)
        res.held_out.append(HeldOut(c, len(members), k, hb, pb))
    if img_dir is not None:
        res.images = plot_calibration(res, img_dir)
    return res


def calibrate_study(
    name: str,
    holdout: str | int = "all",
    sims: int = 400,
    seed: int = 0,
    img_dir: Path | None = None,
    data_dir: Path | None = None,
) -> StudyCalibration:
    """:func:`calibrate_tables` for the study ``<data_dir>/<name>_{nodes,edges}.csv`` (default: the shipped ones)."""
    if data_dir is None and name not in STUDIES:
        raise ValueError(f"--study: unknown study {name!r}; choose from {', '.join(STUDIES)} or all (or give --nodes/--edges)")
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    tables = read_study(folder / f"{name}_nodes.csv", folder / f"{name}_edges.csv", name=name)
    unit = STUDIES.get(name, {}).get("unit", "period")
    return calibrate_tables(tables, unit, holdout, sims, seed, img_dir)


def calibrate_simulated(sims: int = 400, seed: int = 0, img_dir: Path | None = None, copies: int = 2) -> StudyCalibration:
    """Leave-one-out on a study of ``11 * copies`` communities simulated from :data:`SIMULATED_TRUTH`.

    The networks are the 11 Brazilian villages' real nomination networks (``brfarmers``),
    each used ``copies`` times with its own community effects, over 20 years; the
    exposure network is chosen among the three candidates as for real data.
    """
    from sim.validation.calibrate import load_study
    from sim.validation.hierarchical import simulate_hierarchical_tables

    theta = np.array([SIMULATED_TRUTH[k] for k in PARAMS])
    tables, _ = simulate_hierarchical_tables(
        load_study("brfarmers", "nominations"), theta, copies, seed=12345, name=f"simulated ({11 * copies} villages)"
    )
    res = calibrate_tables(tables, "year", "all", sims, seed)
    if img_dir is not None:
        res.images = plot_calibration(res, img_dir)
    return res


def calibrate(
    nodes: pd.DataFrame | str | Path,
    edges: pd.DataFrame | str | Path,
    name: str | None = None,
    time_unit: str = "period",
    holdout: str | int = "all",
    sims: int = 400,
    seed: int = 0,
    out: Path | str | None = None,
) -> StudyCalibration:
    """Calibrate any study given as nodes and edges tables (DataFrames or CSV paths; format: ``data/README.md``).

    ``time_unit``: month, year or period (the length of one period of the rule).
    ``holdout``: "all" (leave each community out in turn), "none", or a community id.
    ``sims``: simulations per prediction band (>= 10). With ``out``, writes
    ``calibration.json``, ``calibration.md`` and the plot there (:func:`write_outputs`).
    Malformed tables raise :class:`~sim.validation.studies.StudyDataError` naming file,
    row and column; nothing is written then.
    """
    tables = read_study(nodes, edges, name=name)
    res = calibrate_tables(tables, time_unit, holdout, sims, seed)
    if out is not None:
        write_outputs(Path(out), [res])
    return res


# --------------------------------------------------------------------------- outputs


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _cid(c: Any) -> Any:
    return c.item() if isinstance(c, np.generic) else c


def calibration_json(res: StudyCalibration) -> dict[str, Any]:
    """The figures of one study as JSON-ready data (fits with intervals, model choice, leave-one-out)."""
    f, h = res.fit, res.hier
    pl, ph = f.interval("p")
    ql, qh = f.interval("q")
    cov, clo, chi = res.coverage("hier")
    pcov, plo, phi = res.coverage("pooled")
    return {
        "study": res.study, "time_unit": res.unit, "network": res.network,
        "network_loglik": res.network_loglik,
        "people": f.n_people, "adoptions": f.n_events, "communities": [_cid(c) for c in h.train],
        "pooled": {
            "p": f.p, "q": f.q, "loglik": f.loglik,
            "p_wald95": [pl, ph], "q_wald95": [ql, qh],
            "p_profile95": list(f.profile["p"]), "q_profile95": list(f.profile["q"]),
        },
        "hierarchical": {
            **h.params, "loglik": h.loglik,
            "profile95": {k: list(v) for k, v in h.profile.items()},
            "p_median": h.p_median, "q_median": h.q_median,
            "p_median_profile95": [float(1 / (1 + math.exp(-v))) for v in h.profile.get("mu_p", (math.nan, math.nan))],
            "q_median_profile95": [float(math.exp(v)) for v in h.profile.get("mu_q", (math.nan, math.nan))],
            "p_communities90": list(h.community_range("p")), "q_communities90": list(h.community_range("q")),
            "scale": "mu_p, sigma_p: logit p; mu_q, sigma_q: log q; p, q per time unit",
        },
        "model_choice": h.model_choice(),
        "level": LEVEL, "sims": res.sims, "seed": res.seed, "holdout": res.holdout,
        "leave_one_out": [
            {
                "community": _cid(x.community), "inside": round(x.hier.inside, 4), "points": x.hier.points,
                "inside_closed_band": x.hier.inside_inclusive, "width": round(x.hier.width, 4),
                "pooled_inside": round(x.pooled.inside, 4), "pooled_inside_closed_band": x.pooled.inside_inclusive,
                "pooled_width": round(x.pooled.width, 4), "people": x.n_people, "network": x.network,
            }
            for x in res.held_out
        ],
        "coverage": {
            "hierarchical": {"estimate": _num(cov), "bootstrap95": [_num(clo), _num(chi)], "verdict": res.verdict("hier"),
                             "mean_width": _num(res.width("hier"))},
            "pooled": {"estimate": _num(pcov), "bootstrap95": [_num(plo), _num(phi)], "verdict": res.verdict("pooled"),
                       "mean_width": _num(res.width("pooled"))},
        },
    }


def _iv(t: tuple[float, float], fmt: str = ".3f") -> str:
    return f"{t[0]:{fmt}}-{t[1]:{fmt}}"


def calibration_markdown(results: list[StudyCalibration], img_prefix: str = "") -> str:
    """A Markdown section: both fits with intervals, the model choice, the leave-one-out coverage and the plots."""
    lines = [
        "| study | network | model | p (median community) | 95 % profile | q (median community) | 95 % profile "
        "| spread sigma_p / sigma_q (95 % profile) | per | log-lik | AIC | people | adoptions |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f, h = r.fit, r.hier
        ic = h.information_criteria()
        lines.append(
            f"| {r.study} | {r.network} | pooled | {f.p:.4f} | {_iv(f.profile['p'], '.4f')} | {f.q:.3f} | "
            f"{_iv(f.profile['q'])} | 0 | {f.unit} | {f.loglik:.1f} | {ic['pooled']['aic']:.1f} | {f.n_people} | {f.n_events} |"
        )
        mp, mq = h.profile.get("mu_p", (math.nan, math.nan)), h.profile.get("mu_q", (math.nan, math.nan))
        sp_, sq = h.profile.get("sigma_p", (math.nan, math.nan)), h.profile.get("sigma_q", (math.nan, math.nan))
        lines.append(
            f"| {r.study} | {r.network} | hierarchical | {h.p_median:.4f} | "
            f"{1 / (1 + math.exp(-mp[0])):.4f}-{1 / (1 + math.exp(-mp[1])):.4f} | {h.q_median:.3f} | "
            f"{math.exp(mq[0]):.3f}-{math.exp(mq[1]):.3f} | {h.theta[2]:.2f} ({_iv(sp_, '.2f')}) / "
            f"{h.theta[3]:.2f} ({_iv(sq, '.2f')}) | {h.unit} | {h.loglik:.1f} | {ic['hierarchical']['aic']:.1f} | "
            f"{h.n_people} | {f.n_events} |"
        )
    lines += [
        "",
        "Hierarchical: `logit p_c ~ N(mu_p, sigma_p)`, `log q_c ~ N(mu_q, sigma_q)` per community, fitted by maximum "
        "likelihood with the community effects integrated out; p and q shown for the median community. Profile: "
        "the values whose profile log-likelihood is within 1.92 of the maximum (a spread whose profile stays within "
        "it down to 0 starts at 0).",
        "",
        "| study | LR (pooled vs hierarchical) | p (chi-bar-square) | AIC pooled / hierarchical | BIC pooled / hierarchical "
        "| preferred (LR, AIC, BIC) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        mc = r.hier.model_choice()
        lines.append(
            f"| {r.study} | {mc['lr']:.2f} | {mc['p_value']:.3g} | {mc['aic']['pooled']:.1f} / "
            f"{mc['aic']['hierarchical']:.1f} | {mc['bic']['pooled']:.1f} / {mc['bic']['hierarchical']:.1f} | "
            f"{mc['preferred_lr']}, {mc['preferred_aic']}, {mc['preferred_bic']} |"
        )
    lines += [
        "",
        "LR = 2 (log-lik hierarchical - log-lik pooled); its null distribution with both spreads at 0 is "
        "1/4 chi2_0 + 1/2 chi2_1 + 1/4 chi2_2 (Self & Liang 1987). BIC with n = people.",
        "",
    ]
    loo = [r for r in results if r.held_out]
    if loo:
        lines += [
            f"Leave-one-community-out: each community's observed curve against the {LEVEL:.0%} prediction band for a "
            "new community, fitted on the others. Coverage = points inside / points over all held-out communities "
            "(points on a band's edge counted by their credit, so that a calibrated band covers 0.90 on average); "
            "95 % interval: bootstrap over communities. Consistent: 0.90 inside the interval (too narrow and too "
            "wide both fail). Width: mean of (upper - lower) over the held-out points, as a share of the community.",
            "",
            "| study | communities | points | hierarchical coverage (95 % interval) | verdict | pooled coverage "
            "(95 % interval) | verdict | mean width hierarchical / pooled |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in loo:
            c, lo, hi = r.coverage("hier")
            pc, plo, phi = r.coverage("pooled")
            pts = sum(x.hier.points for x in r.held_out)
            lines.append(
                f"| {r.study} | {len(r.held_out)} | {pts} | {c:.3f} ({lo:.3f}-{hi:.3f}) | {r.verdict('hier')} | "
                f"{pc:.3f} ({plo:.3f}-{phi:.3f}) | {r.verdict('pooled')} | {r.width('hier'):.3f} / {r.width('pooled'):.3f} |"
            )
        lines.append("")
        for r in loo:
            cells = ", ".join(
                f"{x.community}: {x.hier.inside:.1f}/{x.hier.points} ({x.pooled.inside:.1f})" for x in r.held_out
            )
            lines += [f"**{r.study}**, inside/points per held-out community, hierarchical (pooled): {cells}.", ""]
    for r in results:
        ll = ", ".join(f"{k} {v:.1f}" for k, v in r.network_loglik.items())
        lines += [f"**{r.study}**: pooled log-likelihood by exposure network: {ll}; used: {r.network}.", ""]
        for img in r.images:
            lines += [f"![{r.study}]({img_prefix}{img})", ""]
    return "\n".join(lines)


def plot_calibration(res: StudyCalibration, img_dir: Path) -> list[str]:
    """``calibration_<study>.png``: the whole study with the pooled fit, and every held-out community's two bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    panels = 1 + len(res.held_out)
    cols = min(4, panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows), squeeze=False)
    ax = axes[0, 0]
    b = res.band
    ax.fill_between(b.times, b.lo, b.hi, alpha=0.3, label=f"pooled {b.level:.0%} band")
    ax.plot(b.times, b.observed, "ko-", ms=2, lw=1, label="observed")
    ax.set(title=f"{res.study}: all ({res.network})", ylim=(0, 1), xlabel=res.unit, ylabel="share adopted")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=6, loc="upper left")
    for k, x in enumerate(res.held_out, start=1):
        ax = axes[k // cols, k % cols]
        ax.fill_between(x.hier.times, x.hier.lo, x.hier.hi, alpha=0.3, color="tab:orange", label="hierarchical")
        ax.plot(x.pooled.times, x.pooled.lo, "--", color="tab:blue", lw=0.8, label="pooled")
        ax.plot(x.pooled.times, x.pooled.hi, "--", color="tab:blue", lw=0.8)
        ax.plot(x.hier.times, x.hier.observed, "ko-", ms=2, lw=1)
        ax.set(ylim=(0, 1), title=f"held out {x.community}: {x.hier.inside:.1f}/{x.hier.points} "
               f"(pooled {x.pooled.inside:.1f})")
        ax.title.set_fontsize(8)
        if k == 1:
            ax.legend(fontsize=6, loc="upper left")
    for k in range(panels, rows * cols):
        axes[k // cols, k % cols].axis("off")
    fig.tight_layout()
    name = f"calibration_{res.study.split(' ')[0]}.png"
    fig.savefig(img_dir / name, dpi=100)
    plt.close(fig)
    return [name]


def write_folder(out: Path, build: Callable[[Path], None]) -> Path:
    """Write an output folder safely: ``build(tmp)`` fills a temporary sibling, then it becomes ``out``.

    The shared mechanism of every command (:func:`sim.outdir.output_folder`, merge mode:
    a new ``out`` appears whole; into an existing one each finished file is moved in
    atomically and other files are kept). If ``build`` raises, nothing is left behind.
    """
    from sim.outdir import output_folder

    with output_folder(out, merge=True) as tmp:
        build(Path(tmp))
    return Path(out)


def write_outputs(out: Path, results: list[StudyCalibration]) -> Path:
    """``calibration.json`` (one study: its figures; several: ``{"studies": [...]}``), ``calibration.md`` and the PNGs."""

    def build(tmp: Path) -> None:
        for r in results:
            r.images = plot_calibration(r, tmp)
        data = calibration_json(results[0]) if len(results) == 1 else {"studies": [calibration_json(r) for r in results]}
        (tmp / "calibration.json").write_text(json.dumps(data, indent=2, default=_cid) + "\n", encoding="utf-8")
        md = "# Calibration\n\nGenerated by `sim calibrate`.\n\n" + calibration_markdown(results) + "\n"
        (tmp / "calibration.md").write_text(md, encoding="utf-8")

    return write_folder(out, build)


__all__ = [
    "LEVEL", "PARAMS", "HeldOut", "StudyCalibration", "calibrate", "calibrate_study", "calibrate_tables",
    "calibration_json", "calibration_markdown", "write_folder", "write_outputs",
]
