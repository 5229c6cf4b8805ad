"""The case library: Swedish scaling histories as presets, observed figures and calibrated forecasts.

Each case has a preset ``scenarios/cases/<case>.toml`` (header: figures, sources, what was
calibrated and how; a ``[calibration]`` table) and its observed figures
``data/cases/<case>.csv`` (``date,output,value,source``; shipped in the package as
``sim/validation/data/cases/``, read with :func:`observed_path`).

``python -m sim.validation.cases [CASE ...] [--workers 2] [--no-holdout | --docs-only | --replot]`` reruns
every case's calibration (``sim forecast`` with the preset's ``[calibration]``) into
``docs/img/cases/<case>/``, writes the posterior medians into the preset as its point values,
runs the honesty check (fit on the figures before the last date, predict the last) into
``docs/img/cases/<case>-holdout/``, then writes ``docs/cases.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sim.params import SCENARIO_DIR

if TYPE_CHECKING:
    from sim.validation.baseline import BaselineBand
    from sim.validation.forecast import Forecast

ROOT = SCENARIO_DIR.parent
DOCS = ROOT / "docs"
RESULTS = DOCS / "img" / "cases"
UNTIL = "2026-12"


@dataclass(frozen=True)
class Case:
    """One case: its key (file stem), title, what it shows and what it teaches."""

    key: str
    title: str
    shows: str
    teaches: str


CASES: tuple[Case, ...] = (
    Case("fritidsbanken", "Fritidsbanken (free loans of sports equipment)", "a clean S-curve of organisations adopting",
         "Two dated counts are reproduced, but they cannot show an S-curve, nor its ceiling: own initiative (p), "
         "imitation (q) and the share of municipalities that take it up at all (`organisations.place_share`) trade "
         "off along a ridge (90 % intervals: p {interval:forecast:organisations.p}, q "
         "{interval:forecast:organisations.q}, the share {interval:forecast:organisations.place_share}; most of each "
         "prior). Fitted on the 2018 figure alone, it predicts mid-2020 inside the band ({band:holdout:2020-06}), "
         "from paths that passed through the 60 of 2018. Run fresh from 2013 with the full posterior, the band at "
         "mid-2020 is {band:replicate:2020-06}: a spread's early luck compounds, and the 2018 count had already told "
         "which luck it had. A third figure, found after the calibration and checked only, tests the ceiling: 131 "
         "sites at the start of 2025 (Fritidsbanken Sverige); the real spread slowed from about one and a half sites "
         "a month in 2018-2020 to about half a site a month after. With every municipality eligible (under "
         "`public_gate`; about 670 eligible organisations) the forecast through the 2018 and 2020 figures had said "
         "149-205 around 171, 0.33 times its median: narrow, and wrong, since that pool is far from used up. With a "
         "share of municipalities taking part (a uniform prior from a fifth to all of them; the 2025 figure not "
         "fitted) the forecast says {band:forecast:2025-01} and holds it: two figures cannot tell a near ceiling "
         "from a far one, and the band now says so. The lesson for a strategist: a forecast through a spread's early "
         "figures is only as good as its ceiling; a ceiling has to be observed or argued (how many municipalities "
         "want one), not read off the growth, and a model that cannot have one is confidently wrong."),
    Case("familjecentraler", "Familjecentraler (family centres)", "slow, durable spread on ordinary budgets",
         "With few projects (ordinary budgets from the start) few sites are lost, and growth from the 131 of 2008 "
         "is slow and steady. One date with two figures (centres and municipalities) pins down the rate, not its split "
         "between own initiative, imitation and ties across municipalities (`organisations.cross_place_share`, fitted "
         "but barely identified). The regions are the lesson: a family centre needs the region's maternal and child "
         "health care, and without a regional partner the model spread centres to 20-21 of the 21 regions by 2023, "
         "not 18. With a share of regions taking part (`organisations.region_share`, fitted: about 0.84) the three "
         "figures are reproduced together, and fewer regions also means fewer municipalities within reach."),
    Case("barnahus", "Barnahus (centres for children who are crime victims)", "growth after scaling up; low core fidelity",
         "Six permanent pilots, then national criteria, then a slow-down: a Barnahus is a regional service, one "
         "centre per catchment of municipalities, so the number of possible centres (`organisations.host_places`, "
         "fitted: about 35 of the largest municipalities) and not the 290 municipalities sets where growth stops. "
         "Without that ceiling the model kept opening centres to well over a hundred. A centre serves the "
         "municipalities of its labour-market region (`places_served`, no parameter of its own): about 30 centres in "
         "the largest municipalities cover roughly 170 municipalities, and the 164 of 2013 is inside the band. Only 3-4 "
         "of 23 meeting all criteria asks for a large core drift (`levers.core_drift`, fitted: about 0.4, against 0.02 "
         "by default) under weak guardrails: the criteria of 2009 did not hold the core in most centres. A drifted "
         "centre delivers less and is given up more often (`organisations.abandonment_effect_effect`), and the "
         "catchment opens one again (`organisations.readoption = true`, a mapping, not fitted: its need and its "
         "agencies' mandate stay). Without reopening the ceiling is used up: once every catchment had had its centre, "
         "each closure only subtracted, and the forecast fell from 28 centres in 2013 to about 11 in 2026, which "
         "nothing in the case supports; with it the count levels off ({band:forecast:2026-12:sites_running} in "
         "2026). That plateau is the "
         "ceiling and the balance of closing and reopening, and no figure after 2013 checks it: a dated count from the "
         "2020s would, and would fit `organisations.abandonment` (a centre closing and reopening within a year or two "
         "looks, in a count, like one that stayed open). Fitted up to 2010, paths through the six pilots and the 22 "
         "centres of 2010 predict both 2013 figures inside their bands: centres {band:holdout:2013-06:sites_running}, "
         "municipalities served {band:holdout:2013-06:places_served}; without reopening they were 0.77 and 0.44 "
         "times their medians."),
    Case("dua", "DUA local agreements on youth employment", "scaling up by a mandate holder; low-need places decline",
         "An offer to every municipality (an `offer` intervention) reaches nearly all of them within two years; "
         "the band is narrow because the offer, not imitation, does the work. The few that stay out are the places "
         "with the least need (the fitted refusal_need): the two that declined are inside the band, but which and how "
         "many places fall under the threshold is as much chance as parameter, so that band is wide."),
    Case("sociala-investeringsfonder", "Sociala investeringsfonder (social investment funds)", "funding that keeps pilots alive",
         "Two first funds in 2010, 64 five years later: a spread that speeds up, which a constant own-initiative rate "
         "cannot give (it put about 10 funds in 2010). Municipalities learning from municipalities "
         "(`organisations.peer_mixing`, fitted) gives the acceleration, and with it a wide band: a spread driven by "
         "imitation amplifies early chance, so whether the peers' thresholds are passed early or late moves the count "
         "by years. The hold-out shows the limit: from the 2010 figure alone the 2015 band spans almost everything; one "
         "early count cannot tell a fast imitation cascade from a slow trickle, and a straight line is no better: the "
         "constant-rate baseline from one new fund in eleven months gives 2-24 (2.75 times its median) and misses the "
         "64. The county councils are the 21 regions' "
         "own bodies (`organisations.regional_bodies`), taking funds up by the same rules as the municipalities: that "
         "2 of 21 had one when 64 of 290 municipalities did is inside the band with no parameter of its own (regions "
         "follow at about the municipalities' rate). The 75 municipalities planning a fund are checked, not fitted: the "
         "model has no stage of intending before adopting, so planning is read as a municipality running it where "
         "nothing has yet reached develop and test (`places_preparing`: understanding, envisioning, mobilising). 75 "
         "is inside the band only at its upper edge, and the median is a sixth of it: the model's elements pass in "
         "months, so only the fastest cascades have that many municipalities still preparing, while planning a fund "
         "took years. The model's process is too quick for this case's early elements; slowing the generic process "
         "to fit one figure would be tuning. After 2015 the forecast climbs towards every municipality: nothing in "
         "the model stops imitation before the eligible pool (all 290) is used up, and no figure after 2015 says "
         "where the real ceiling was; read the later years as what unchecked imitation would give, not as a "
         "forecast of how many funds there are."),
    Case("bostad-forst", "Bostad först (Housing First)", "drift of the core and its effect on value",
         "Slow, nearly linear take-up from two cities (7 by 2013, 22 by 2018), carried by own initiative: imitation q "
         "is not identified (its interval spans most of the prior), as municipalities' ties are mostly local. None of "
         "four large programmes following all eight principles asks for a large core drift (`levers.core_drift`, "
         "fitted: about 0.35). The share of tenants keeping their housing (80 %) is reproduced (median 0.75 from fresh "
         "paths) inside a band that spans nearly everything: by 2013 only a few dozen tenants had finished in the "
         "model, too few to tell a 40 % from an 80 % programme (`population.dropout` only leans low, 90 % interval "
         "0.0004-0.045 of a prior 0-0.1). With 40 particles and four generations the fit stopped 0.21 off the figures "
         "(fresh paths put 2018 at 17, 5-29, and the tenants' share at 0.40); the preset fits 100 particles over eight "
         "ABC-SMC generations and keeps the last population whose effective sample size is at least a fifth of them "
         "(`calibration.min_ess = 0.2`). Fitted so on 2010 and 2013, the 2018 figure lies inside a band about "
         "as wide as its median ({band:holdout:2018-12:places_reached}): seven municipalities in four years fix the "
         "own-initiative rate only to within a factor of about three (90 % interval of `organisations.p` "
         "{interval:holdout:organisations.p}). With 40 particles and four generations (paths 0.26 off the figures "
         "instead of 0.085) the "
         "band was 4-25 (1.4 times); with 40 and eight, 10-25 (1.0 times), but the full fit's 40 particles collapsed "
         "onto a few (effective sample size 5.3). Letting municipalities learn from municipalities "
         "nationally (`organisations.peer_mixing` fitted too, as for the funds) made it wider, 9-47 (1.8 times): with "
         "two early counts an imitation cascade cannot be told from a trickle. The figures' own information sets the "
         "floor: the constant-rate baseline from the same two counts (the honesty table) gives 9-23 around 15, 0.93 "
         "times its median, and holds 22 only at its upper edge; a band much under the median would need knowledge "
         "from outside these figures, such as a dated count between 2013 and 2018. The dated counts found in between "
         "measure something looser: in Öppna jämförelser 2016 'drygt 50' municipalities said they offered housing by "
         "the Housing First principles (SKL, 2017), and in 2021 a fifth of them, about 58, said they worked with the "
         "model (Hem & Hyra, 2022): self-descriptions, over twice the 22 programmes counted in 2018, so neither can "
         "pin the rate of the count fitted here, and the forecast's 2021 (about 28) is of programmes, not of "
         "municipalities describing their work so. Nor is the 2022 national homelessness strategy in the preset "
         "(30 MSEK of grants for Housing First, applied for by about a quarter of municipalities, Hem & Hyra 2022): "
         "the years after 2022 are what the 2010-2018 pace would give without it; a strategist asking what the "
         "grants bought would add them as a `grants` intervention dated 2022-05. The guard is what keeps the band "
         "honest: without it the same fit (same seed, 32 minutes) takes its eighth population, whose weight sits on "
         "two or three particles (effective sample size 2.3 of 100, against 33.7 for the seventh; 130 of 200 draws "
         "continuing a particle's own run), and its band, 11-21 around 14 (0.72 times the median), misses the 22: the "
         "last generation bought the narrowness, and it was false."),
    Case("plug-in", "Plug In (school drop-out, SKR, ESF)", "project funding ending; most sites institutionalised",
         "A project-funded spread to about 80 workshops in about 40 municipalities (local imitation puts about two in "
         "each), every one funded to the project's end, then the ESF money stops everywhere (a `funding_cut` "
         "intervention): how many carry on is fitted to the 75 % that continued, through sites closing while funded "
         "(`organisations.abandonment`) and carrying on unfunded (`funding.continue_unfunded`). The hold-out is the "
         "lesson: the figures up to the project's end say little about what happens after it (carrying on unfunded "
         "keeps most of its prior range, 90 % interval 0.05-0.93), so the forecast of the workshops left half a year "
         "later is only as narrow as the fit is converged. With four ABC-SMC generations (paths within 0.10 of the "
         "figures, about two noise SDs of the 80 workshops) the band was 1.1 times its median; the preset fits eight "
         "(within 0.034, 34 minutes for the hold-out) and the 60 workshops of December 2015 are inside 33-83, around "
         "58, 0.86 times the median. A quarter of the draws (44 of 200) found no path that close in 40 fresh tries "
         "and continue the run their particle was accepted with, itself a path through the figures with those "
         "parameters, so the band stays exact. Survival after funding has to be observed, or argued, not "
         "extrapolated from growth: it is the widest part of the band. The 7,800 young people are reproduced with the "
         "workshops' recruiting fitted (`population.outreach`). Six parameters need more particles: at 50 the "
         "posterior's weight sat on two or three of them (effective sample size 2.6), so its band was one parameter "
         "set's chance; the preset fits 150 (effective sample size about 80)."),
)


def case_keys() -> list[str]:
    """Keys of the cases that have both a preset and observed figures."""
    return [c.key for c in CASES if (SCENARIO_DIR / "cases" / f"{c.key}.toml").exists()]


def preset_path(key: str) -> Path:
    """``scenarios/cases/<key>.toml``."""
    return SCENARIO_DIR / "cases" / f"{key}.toml"


def observed_path(key: str) -> Path:
    """The observed figures of a case, from the installed package (``sim/validation/data/cases/<key>.csv``)."""
    return Path(str(resources.files("sim.validation").joinpath("data", "cases", f"{key}.csv")))


def holdout_date(key: str) -> str | None:
    """The date before the last date of a fitted figure (fit up to it, predict the last), or None with one date.

    Figures marked ``fit = no`` (checked only) do not count: they are never fitted.
    """
    import pandas as pd

    from sim.validation.observed import parse_fit

    df = pd.read_csv(observed_path(key), dtype={"date": str, "fit": str}, keep_default_na=False)
    if "fit" in df.columns:
        df = df[[parse_fit(v) for v in df["fit"]]]
    dates = sorted(set(df["date"]))
    return dates[-2] if len(dates) >= 2 else None


def _band_words(s: dict) -> str:
    """How a stored forecast's predictive paths were drawn, in words (``forecast.json``'s ``predictive``)."""
    p = s.get("predictive", {"conditioned": False})
    if not p["conditioned"]:
        return "fresh paths from the start"
    return (f"each through the fitted figures within {p['tolerance']:.3g}, {p['screening_runs']} runs tried"
            + (f", {p['recorded_taken']} continuing their particle's accepted fit run" if p.get("recorded_taken") else "")
            + (f", {p['closest_taken']} taking their closest" if p["closest_taken"] else ""))


def run_case(key: str, workers: int = 2, holdout: bool = False) -> int:
    """Run ``sim forecast`` for a case (or its hold-out fit) into ``docs/img/cases/``; return the exit code."""
    out = RESULTS / (f"{key}-holdout" if holdout else key)
    args = [sys.executable, "-m", "sim", "forecast", str(preset_path(key)), "--observed", str(observed_path(key)),
            "--until", UNTIL, "--out", str(out), "--overwrite", "--workers", str(workers)]
    # both bands are the forecast from where the path stood at the last fitted figure; the full fit also runs
    # the replicate check (fresh paths from the start: can the model produce the figures? a test it can fail)
    if not holdout:
        args += ["--replicate-check"]
    if holdout:
        fit_until = holdout_date(key)
        if fit_until is None:
            return 0
        args += ["--fit-until", fit_until]
    return subprocess.run(args, check=False).returncode


def store_medians(key: str) -> dict[str, float]:
    """Write the stored posterior medians of a case into its preset (its point values); return them.

    Each fitted ``section.field`` line is replaced in its ``[section]`` table (or the table is added
    before ``[[interventions]]``/``[calibration]``), so the preset runs at the calibrated values.
    """
    import re

    s = _summary(key)
    if s is None:
        return {}
    from sim.params import numeric_field_is_int

    medians = {k: (int(round(v["q50"])) if numeric_field_is_int(k) else float(f"{v['q50']:.3g}"))
               for k, v in s["parameters"].items()}
    path = preset_path(key)
    lines = path.read_text(encoding="utf-8").splitlines()
    for dotted, value in medians.items():
        if dotted.count(".") == 2:  # an entry of a table (organisations.eligible_share.public)
            _store_entry(lines, dotted, value)
            continue
        section, field = dotted.split(".")
        body, header_at = _section_lines(lines, section)
        done = False
        for i in body:
            if re.match(rf"^{field}\s*=", lines[i]):
                lines[i] = f"{field} = {value!r}  # posterior median (docs/cases.md)"
                done = True
                break
        if not done and header_at is not None:
            lines.insert(header_at + 1, f"{field} = {value!r}  # posterior median (docs/cases.md)")
        elif not done:
            at = next(i for i, ln in enumerate(lines) if ln.startswith(("[[interventions]]", "[calibration]")))
            lines[at:at] = [f"[{section}]", f"{field} = {value!r}  # posterior median (docs/cases.md)", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return medians


def _section_lines(lines: list[str], section: str) -> tuple[list[int], int | None]:
    """Indices of the lines inside ``[section]`` of a TOML text (its header excluded), and the header's index."""
    import re

    table, header_at, body = None, None, []
    for i, ln in enumerate(lines):
        m = re.match(r"^\[+([\w.]+)\]+\s*$", ln)
        if m:
            table = m.group(1)
            header_at = i if table == section and header_at is None else header_at
        elif table == section:
            body.append(i)
    return body, header_at


def _store_entry(lines: list[str], dotted: str, value: float) -> None:
    """Set ``section.table.entry`` in the preset's ``[section]``.

    Inside the inline table ``table = { ... }`` if the preset states one (the comment after it says which entry is
    the posterior median), else as a dotted key; ValueError if the preset has no ``[section]``.
    """
    import re

    section, field, entry = dotted.split(".")
    note = f"  # {entry}: posterior median (docs/cases.md)"
    body_lines, header_at = _section_lines(lines, section)
    for i in body_lines:
        ln = lines[i]
        inline = re.match(rf"^({field}\s*=\s*\{{)([^}}]*)(\}})", ln)
        if inline:
            body, n = re.subn(rf"(\b{entry}\s*=\s*)[^,}}]+", lambda mm: f"{mm.group(1)}{value!r}", inline.group(2))
            cells = [c.strip() for c in body.split(",") if c.strip()] + ([] if n else [f"{entry} = {value!r}"])
            lines[i] = f"{inline.group(1)} {', '.join(cells)} {inline.group(3)}{note}"
            return
        if re.match(rf"^{field}\.{entry}\s*=", ln):
            lines[i] = f"{field}.{entry} = {value!r}{note}"
            return
    if header_at is None:
        raise ValueError(f"{dotted}: the preset has no [{section}] table to write the posterior median into")
    lines.insert(header_at + 1, f"{field}.{entry} = {value!r}{note}")


def later_checked(summary: dict) -> list[dict]:
    """Figures found after the calibration: kept out of the fit (``fit = no``), dated after every fitted one.

    ``summary``: a stored fit's ``forecast.json``. These are a forecast's real test.
    """
    last_fit = max(o["date"] for o in summary["observed"] if o["fitted"])
    return [o for o in summary["observed"] if o.get("check_only") and o["date"] > last_fit]


def _summary(key: str, holdout: bool = False) -> dict | None:
    p = RESULTS / (f"{key}-holdout" if holdout else key) / "forecast.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _kept_words(summary: dict) -> str:
    """Words naming the population kept when ``min_ess`` chose an earlier one than the last, else ''."""
    run = summary.get("populations_run", summary["populations"])
    if summary["populations"] == run:
        return ""
    later = ", ".join(f"{e:.1f}" for e in summary["effective_sample_sizes"][summary["populations"]:])
    return (f"population {summary['populations']} of {run}, kept by `calibration.min_ess` {summary['min_ess']:g} "
            f"as the later ones fell to {later}; ")


QUOTE = r"\{(band|interval):(forecast|holdout|replicate|holdout-replicate):([^:}]+)(?::([a-z_]+))?\}"
"""A number a case's text quotes from its stored results, so a refit cannot leave the words behind:
``{band:SOURCE:YYYY-MM}`` (or ``{band:SOURCE:YYYY-MM:output}``, default ``orgs_adopted``) is the 90 % band
there, ``{interval:SOURCE:section.field}`` a fitted parameter's 90 % interval; SOURCE is ``forecast``
(through the fitted figures), ``replicate`` (fresh from the start), ``holdout`` or ``holdout-replicate``."""


def quote_results(key: str, text: str) -> str:
    """``text`` with every :data:`QUOTE` replaced by its figures from case ``key``'s stored results.

    A band reads ``lo-hi about median, w times its median``; an interval ``lo-hi``. Raises
    ``KeyError`` naming the quote if the stored results lack it (a stale text fails, not drifts).
    """
    import re

    def one(m: re.Match[str]) -> str:
        kind, source, where, output = m.group(1), m.group(2), m.group(3), m.group(4) or "orgs_adopted"
        fc = _stored(key, holdout=source.startswith("holdout"))
        if fc is None:
            raise KeyError(f"{key}: {m.group(0)} quotes a result that is not stored")
        if kind == "interval":
            v = fc.summary["parameters"].get(where)
            if v is None:
                raise KeyError(f"{key}: {m.group(0)}: no fitted parameter {where}")
            return f"{v['q05']:.2g}-{v['q95']:.2g}"
        band = fc.replicate if source.endswith("replicate") else fc.band
        rows = None if band is None else band[(band["date"] == where) & (band["output"] == output)]
        if rows is None or rows.empty:
            raise KeyError(f"{key}: {m.group(0)}: no band row at {where} for {output}")
        r = rows.iloc[0]
        return (f"{_fmt(r['lo90'])}-{_fmt(r['hi90'])} about {_fmt(r['median'])}, "
                f"{(r['hi90'] - r['lo90']) / r['median']:.2f} times its median")

    return re.sub(QUOTE, one, text)


def _stored(key: str, holdout: bool = False) -> Forecast | None:
    """A case's stored result (:func:`sim.validation.forecast.read_forecast`), or None if it has none."""
    from sim.validation.forecast import read_forecast

    folder = RESULTS / (f"{key}-holdout" if holdout else key)
    return read_forecast(folder) if (folder / "forecast.json").exists() else None


def _forecast_words(fc: Forecast) -> str:
    """A stored full fit's forecast at its last month, per fitted output: through the figures, and fresh."""
    if fc.replicate is None:
        return ""
    band, fresh = fc.band, fc.replicate
    last = band["date"].iloc[-1]
    fitted = list(dict.fromkeys(o["output"] for o in fc.summary.get("observed", []) if o.get("fitted", True)))
    parts = []
    for out in fitted:
        b = band[(band["date"] == last) & (band["output"] == out)].iloc[0]
        f = fresh[(fresh["date"] == last) & (fresh["output"] == out)].iloc[0]
        parts.append(f"`{out}` median {_fmt(b['median'])}, band {_fmt(b['lo90'])} - {_fmt(b['hi90'])} (fresh paths: "
                     f"{_fmt(f['lo90'])} - {_fmt(f['hi90'])})")
    return f" Forecast for {last}, from paths through every figure: " + "; ".join(parts) + "."


def _baseline(fc: Forecast, o: dict) -> BaselineBand | None:
    """The constant-rate baseline (:mod:`sim.validation.baseline`) for a held-out figure ``o`` of hold-out ``fc``.

    Its points: the run's first month (the stored band's median, the case's start) and the fitted
    figures of the same output. ``None`` when that output has no fitted figure (nothing to learn a
    rate from) or its figures are not a growing count.
    """
    from sim.validation.baseline import constant_rate_band

    fitted = sorted((f["date"], float(f["value"])) for f in fc.summary["observed"]
                    if f["fitted"] and f["output"] == o["output"])
    own = fc.band[fc.band["output"] == o["output"]]
    if not fitted or own.empty:
        return None
    points = [(str(own["date"].iloc[0]), float(own["median"].iloc[0])), *fitted]
    values = [v for _, v in points]
    if values != sorted(values) or any(v != int(v) for v in values) or fitted[-1][0] >= o["date"]:
        return None
    return constant_rate_band(points, o["date"])


def replot(key: str, holdout: bool = False) -> bool:
    """Redraw a stored result's ``forecast.png`` from its files (no refit); False if there is none.

    The title and intervention markers are the ones ``sim forecast`` draws, so the plot is the one
    a rerun with the current plotting code would write.
    """
    from sim.interventions import markers
    from sim.scenario import load_scenario
    from sim.validation.forecast import forecast_title, plot_forecast

    fc = _stored(key, holdout)
    if fc is None:
        return False
    sc = load_scenario(f"cases/{key}")
    plot_forecast(fc, RESULTS / (f"{key}-holdout" if holdout else key) / "forecast.png", forecast_title(sc.name),
                  markers(sc))
    return True


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"


def write_docs(path: Path = DOCS / "cases.md") -> None:
    """``docs/cases.md`` from the stored results, the presets' headers and :data:`CASES`."""
    from sim.validation.forecast import replicate_band

    lines = [
        "# The case library: Swedish scaling histories reproduced",
        "",
        "Generated by `python -m sim.validation.cases` (which also reruns every calibration; `--docs-only` only",
        "rewrites this page, `--replot` also redraws the stored plots without refitting). Each case is a preset",
        "in `scenarios/cases/` (extending `sweden-youth-employment`),",
        "with its figures as data in `data/cases/<case>.csv` (`date,output,value,source`, shipped in the package",
        "as `sim/validation/data/cases/`; an optional column `fit` = `no` marks a figure that is checked against",
        "its band but not fitted: a figure the model should reproduce with no parameter of its own). Every",
        "calibration is `sim forecast` (ABC-SMC with pyabc, uniform priors",
        "on the preset's `[calibration]` ranges, RMSE of the figures on the square-root scale, where counts have about",
        "equal noise (`stabilise`); `sim/validation/forecast.py`). Every band drawn is the forecast (`--band",
        "conditioned`, the default): every path keeps its posterior parameters and passes through the fitted figures",
        "as closely as the fit's accepted runs did (a parameter set that finds no such path in 40 fresh tries",
        "continues the run it was accepted with), then goes on, so the forecast starts where the figures put it. The",
        "figures themselves are judged by the replicate check (`--replicate-check`: the same parameters run from the",
        "start with fresh seeds, free to miss them; could the model produce the figures at all? the hatched band):",
        "",
        "```",
        "sim forecast scenarios/cases/<case>.toml --observed data/cases/<case>.csv --until 2026-12 --out DIR \\",
        "    --replicate-check",
        "```",
        "",
        "A figure dated `YYYY-MM` is compared with the model at the end of that month. *Band*: the 5 % and 95 %",
        "quantiles of the posterior predictive; *held out*: the honesty check, a fit on the figures before the",
        "last date that predicts the last one (`python -m sim.validation.cases` runs the full fits with",
        "`--replicate-check` and the hold-outs without it).",
        "The presets run at their posterior medians (`sim run cases/<case>`);",
        "they are listed with the other presets (`sim presets`, the UI's preset picker) as `cases/<case>`:",
        "`sim.scenario.list_presets` lists `scenarios/cases/*.toml` too.",
        "",
        "How well calibrated is such a band? `tests/test_forecast.py` fits replicate synthetic series simulated with",
        "a known parameter and checks that the 90 % band holds the held-out truth at its nominal rate (within",
        "binomial error) and that its width stays under the median, and that paths through the figures give a band",
        "clearly narrower than fresh paths a quarter after the last figure (a count then is the count at the figure",
        "plus a quarter's adoptions: fresh paths also carry all the spread built up before it). ABC-SMC with few",
        "particles errs wide: the bands below are, if anything, conservative.",
        "A rerun with the same `--seed` gives the same bands, whatever",
        "`--workers` (every ABC candidate has its own seed, `sim/explore/abc_sampler.py`), but they depend on the",
        "seed: at 40 particles a hold-out band's width moves by a third or more from one seed to the next. The",
        "presets draw 200 predictive runs, so each end of a band rests on about ten of them (at 60 it rested on",
        "three). An interrupted rerun resumes: `sim forecast` keeps each fit's ABC-SMC history beside its folder",
        "until the forecast is written, and the same command continues from it (README, `sim forecast`). An",
        "adaptive distance (`sim forecast --distance adaptive` or `calibration.distance`: each figure divided by",
        "the median absolute deviation of its simulations, pyabc's `AdaptivePNormDistance`; its band is",
        "covered at the nominal rate in `tests/test_forecast.py`) was tried on every case and did not narrow the",
        "hold-out bands overall (Plug In 1.6 to 1.1 times the median, Barnahus' centres 0.8 to 1.4, the others about",
        "the same), so the presets keep the plain distance.",
        "More generations are no free lunch: each shrinks epsilon, but in a few dimensions with few particles the",
        "weight can collapse onto a handful of them, and a band drawn from those is their chance, narrower than the",
        "figures allow (Bostad först below: effective sample size 2.3 of 100 at the eighth generation, and a band that",
        "missed). `sim forecast` warns when the effective sample size is under a fifth of the particles, and",
        "`--min-ess 0.2` (`calibration.min_ess`) keeps the last population above that share instead (Bostad först's",
        "preset sets it); every stored posterior here keeps at least a fifth (the effective sample sizes are in each",
        "section), and the other presets, whose last populations all do, leave it at 0.",
        "",
        "Five cases needed a mechanism the model lacked, each a general scenario field (docs/scenarios.md), not a",
        "case-specific switch: `organisations.peer_mixing` (municipalities learn from municipalities nationally, not",
        "only along local ties: social investment funds), `organisations.host_places` (a regional service has one",
        "site per catchment: Barnahus), `organisations.region_share` (a solution that needs a regional partner runs",
        "only in the regions that take part: family centres), `organisations.regional_bodies` (each county's",
        "county council is an organisation that can adopt, counted apart from the municipalities: social",
        "investment funds) and, for Plug In and the family centres,",
        "`organisations.cross_place_share` in the fit (imitation along local ties puts new sites where there are",
        "sites). Each is fitted, with a prior range, where the figures can identify it.",
        "",
        "Figures that are not counts of sites or places are compared with outputs made for them (`sim/results.py`):",
        "`places_served` (municipalities in the labour-market region of a running site: a Barnahus serves its",
        "region), `regions_reached` (counties), `regional_bodies_adopted` (county councils), `places_preparing`",
        "(places running it where nothing has yet reached develop and test: planning it),",
        "`share_meeting_criteria` (running sites whose every core component",
        "is within `solution.criteria_tolerance` of the design: a fidelity review's verdict), `share_benefiting` (of",
        "the participants who finished, the share who benefited: tenants keeping their housing) and",
        "`persons_reached` (people who ever took part). A share that is undefined in a run (no running site) counts",
        "as 0 in the fit.",
        "",
        "## Honesty check: early figures predict the later ones",
        "",
        "HOLDOUT_TABLE",
        "",
    ]
    holdout_rows: list[str] = []
    holdout_ok: list[tuple[bool, bool]] = []  # (inside the band, band narrower than its median) per held-out figure
    for case in CASES:
        if not preset_path(case.key).exists():
            continue
        lines += [f"## {case.title}", "", f"Shows: {case.shows}. Preset: `scenarios/cases/{case.key}.toml`.", ""]
        header = [ln[2:] if ln.startswith("# ") else ln[1:] for ln in
                  preset_path(case.key).read_text(encoding="utf-8").splitlines() if ln.startswith("#")]
        lines += ["Documented figures and how the preset uses them (from the preset's header):", "", "```",
                  *header[2:], "```", ""]
        fc = _stored(case.key)
        s = None if fc is None else fc.summary
        if s is None:
            lines += ["*Not calibrated yet* (`python -m sim.validation.cases " + case.key + "`).", ""]
        else:
            lines += ["| date | output | documented | fitted | simulated median | 90 % band | inside | source |",
                      "|---|---|---:|---|---:|---|---|---|"]
            for o in s["observed"]:
                r = replicate_band(o)
                lines.append(f"| {o['date']} | `{o['output']}` | {_fmt(o['value'])} | "
                             f"{'no (checked)' if o.get('check_only') else 'yes'} | {_fmt(r['median'])} | "
                             f"{_fmt(r['lo90'])} - {_fmt(r['hi90'])} | {'yes' if r['covered'] else '**no**'} | "
                             f"{o['source']} |")
            lines += ["", "Simulated: the replicate check (the posterior's parameters run from the start with fresh "
                      "seeds, free to miss the figures)." + _forecast_words(fc)]
            pars = ", ".join(f"`{k}` {v['q50']:.3g} [{v['q05']:.3g}, {v['q95']:.3g}]" for k, v in s["parameters"].items())
            cost = f"{s['seconds']:.0f} s wall" + (f", {s['cpu_seconds']:.0f} s CPU" if "cpu_seconds" in s else "")
            ess = s["effective_sample_size"]
            lines += ["", f"Posterior (median [90 % interval]): {pars}; {s['populations']} ABC-SMC populations of "
                      f"{s['population_size']} ({_kept_words(s)}effective sample size {ess:.1f}), final epsilon "
                      f"{s['epsilons'][-1]:.3g} "
                      f"(RMSE of sqrt(figure / largest of its output)), {s['draws']} predictive runs "
                      f"({_band_words(s)}), {cost}.", "",
                      f"![{case.key}](img/cases/{case.key}/forecast.png)", ""]
        hf = _stored(case.key, holdout=True)
        h = None if hf is None else hf.summary
        if hf is not None:
            held = [o for o in h["observed"] if not o["fitted"] and not o.get("check_only", False)]
            for o in held:
                width = o["hi90"] - o["lo90"]
                holdout_ok.append((bool(o["covered"]), width < o["median"]))
                base = _baseline(hf, o)
                base_cells = ("- | -" if base is None else f"{_fmt(base.lo)} - {_fmt(base.hi)}"
                              f"{'' if base.lo <= o['value'] <= base.hi else ' (**misses**)'} | "
                              f"{base.width_over_median:.2f}")
                holdout_rows.append(
                    f"| {case.key} | {h['fit_until']} | {o['date']} `{o['output']}` | {_fmt(o['value'])} | "
                    f"{_fmt(o['median'])} | {_fmt(o['lo90'])} - {_fmt(o['hi90'])} | {'yes' if o['covered'] else '**no**'} | "
                    f"{width / o['median']:.2f} | {'yes' if width < o['median'] else '**no**'} | {base_cells} |")
                lines.append(f"Held out: fitted up to {h['fit_until']}, the {o['date']} figure {_fmt(o['value'])} "
                             f"(`{o['output']}`) predicted at median {_fmt(o['median'])}, band {_fmt(o['lo90'])} - "
                             f"{_fmt(o['hi90'])}: {'inside' if o['covered'] else '**outside**'}; band width "
                             f"{_fmt(width)} is {'under' if width < o['median'] else '**over**'} the median "
                             f"(posterior: {_kept_words(h)}effective sample size {h['effective_sample_size']:.1f} of "
                             f"{h['population_size']}; "
                             f"{h['draws']} predictive runs, {_band_words(h)}).")
            lines += ["", f"![{case.key} held out](img/cases/{case.key}-holdout/forecast.png)", ""]
        lines += [f"What it teaches: {quote_results(case.key, case.teaches)}", ""]
    table = ["| case | fitted up to | held-out figure | documented | predicted median | 90 % band | inside | "
             "width / median | width under median | constant-rate baseline band | its width / median |",
             "|---|---|---|---:|---:|---|---|---:|---|---|---:|", *holdout_rows]
    if not holdout_rows:
        table = ["*No hold-out fits stored yet.*"]
    single = [c.key for c in CASES if preset_path(c.key).exists() and holdout_date(c.key) is None]
    pending = [c.key for c in CASES if preset_path(c.key).exists() and holdout_date(c.key) is not None
               and _summary(c.key, holdout=True) is None]
    n_in, n_narrow = sum(c for c, _ in holdout_ok), sum(w for _, w in holdout_ok)
    if holdout_rows:
        table += ["", f"Held-out figures inside their 90 % band: {n_in} of {len(holdout_rows)}; bands narrower than "
                  f"their median: {n_narrow} of {len(holdout_rows)}. A wide band here is the honest answer when the "
                  "early figures cannot tell the later ones (each case's section says why); it is not narrowed by "
                  "hand.", "",
                  "How narrow could a band honestly be? The *constant-rate baseline* (`sim/validation/baseline.py`) "
                  "is the simplest honest forecaster of a count that only grows: new adoptions at a constant rate, "
                  "learnt from the fitted figures of the same output and the case's start (the run's first month), "
                  "with Jeffreys' prior on the rate; its band is the gamma-Poisson (negative binomial) predictive, "
                  "and `tests/test_baseline_forecast.py` checks it covers at the rate it claims. It knows nothing "
                  "of imitation, ceilings or interventions, so it can be off (it is a straight line); what it "
                  "shows is the figures' own information. Where even this baseline's band is about as wide as its "
                  "median, the early figures alone are too few for a band under the median: a narrower one has to "
                  "come from what the model brings (its structure and priors) and is only as good as that ('-': "
                  "the held-out output has no fitted figure to learn a rate from)."]
    later = [(c.key, o) for c in CASES if (fs := _summary(c.key)) is not None for o in later_checked(fs)]
    if later:
        table += ["", "Figures found after the calibration (checked only, dated after every fitted figure: a forecast's "
                  "real test), against the forecast through the fitted figures: " + "; ".join(
                      f"{k} {o['date']} `{o['output']}` {_fmt(o['value'])}: {_fmt(o['lo90'])} - {_fmt(o['hi90'])} "
                      f"around {_fmt(o['median'])}, " + ("inside" if o["lo90"] <= o["value"] <= o["hi90"] else "**misses**")
                      for k, o in later) + " (each case's section says why)."]
    table += ["", f"One date only, so no hold-out: {', '.join(single) or 'none'}. Hold-out fit not stored yet "
              f"(`python -m sim.validation.cases CASE`): {', '.join(pending) or 'none'}."]
    text = "\n".join(lines).replace("HOLDOUT_TABLE", "\n".join(table))
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Rerun the calibrations (and hold-out checks) of the named cases (default all), then write the docs."""
    ap = argparse.ArgumentParser(prog="python -m sim.validation.cases", description=__doc__)
    ap.add_argument("cases", nargs="*", help=f"case keys (default all: {', '.join(case_keys())})")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--docs-only", action="store_true", help="only rewrite docs/cases.md from stored results")
    ap.add_argument("--no-holdout", action="store_true", help="skip the hold-out (honesty) fits")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the stored results' plots (no refit) and rewrite docs/cases.md")
    a = ap.parse_args(argv)
    bad = [k for k in a.cases if k not in case_keys()]
    if bad:
        print(f"unknown case(s) {bad}; allowed: {case_keys()}", file=sys.stderr)
        return 2
    code = 0
    if a.replot:
        for key in a.cases or case_keys():
            replot(key)
            replot(key, holdout=True)
    elif not a.docs_only:
        for key in a.cases or case_keys():
            rc = run_case(key, a.workers)
            code |= rc
            if rc == 0:
                store_medians(key)
            if not a.no_holdout:
                code |= run_case(key, a.workers, holdout=True)
    write_docs()
    if not (a.docs_only or a.replot):
        from sim import odd

        odd.main()  # docs/odd.md lists every preset's values, the cases' new medians too
    return code


if __name__ == "__main__":
    raise SystemExit(main())
