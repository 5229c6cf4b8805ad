"""``sim forecast``: the band covers a known truth at its nominal rate, is not uselessly wide; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.api import run
from sim.scenario import apply_overrides, read_scenario_data, resolve_scenario_path, scenario_from_dict
from sim.validation.forecast import effective_sample_size, forecast
from sim.validation.observed import load_observed

ROOT = Path(__file__).resolve().parents[1]
START = "2020-01"
# One district of 60 organisations, all eligible; quarterly steps keep a run at about 0.05 s.
SYNTHETIC = [f'run.start="{START}"', "run.dt=3.0", "organisations.p=0.005", "places.population_mean=5000.0",
             "organisations.eligible_share={public=1.0,civil_society=1.0,private=1.0,academia=1.0}"]
TRUE_Q = 0.3
FIT_DATES = ("2020-06", "2020-12", "2021-06")  # model months 6, 12, 18 (end of each month)
CHECK_DATE, CHECK_MONTH = "2022-06", 30  # held out: predicted, never fitted
REPLICATES = 8
NOMINAL = 0.9


def _base() -> dict:
    return apply_overrides(read_scenario_data(resolve_scenario_path("district"))[0], SYNTHETIC)


def _truth_series(seed: int) -> pd.DataFrame:
    sc = scenario_from_dict(apply_overrides(_base(), {"organisations.q": TRUE_Q}), "<truth>")
    return run(sc, seed=seed, steps=CHECK_MONTH // 3).model.set_index("month")


@pytest.mark.parametrize("distance", ["rmse", "adaptive"])
def test_band_covers_held_out_truth_at_nominal_rate(tmp_path: Path, distance: str) -> None:
    """Fit q on months 6-18 of replicate series simulated with q = 0.3; check the month-30 value.

    Each replicate is one independent Bernoulli trial (its month-30 value inside the 90 %
    band or not), so the count covered is Binomial(8, 0.9) if the band is calibrated. We
    refuse below the binomial 1 % quantile (P(X <= 5) = 0.038, P(X <= 4) = 0.005: refuse at
    <= 4, a false alarm at most 0.5 %); ABC's approximate posterior errs wide, so the check
    against too-wide bands is the width test below. Both distances (``calibration.distance``):
    the plain RMSE and the adaptive one (each figure divided by the MAD of its simulations).
    """
    covered, rel_width, q_in = 0, [], 0
    for r in range(REPLICATES):
        truth = _truth_series(1000 + r)
        obs = pd.DataFrame({"date": list(FIT_DATES), "output": "orgs_adopted", "source": "synthetic",
                            "value": [float(truth.loc[m, "orgs_adopted"]) for m in (6.0, 12.0, 18.0)]})
        csv = tmp_path / f"obs{r}.csv"
        obs.to_csv(csv, index=False)
        observed = load_observed(csv, START, {"orgs_adopted"})
        assert observed["month"].tolist() == [6.0, 12.0, 18.0]
        fc = forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, CHECK_DATE, tmp_path / f"abc{r}.db",
                      start=START, population=16, generations=2, draws=30, seed=r, distance=distance)
        assert ("MAD" in fc.summary["distance"]) == (distance == "adaptive")
        row = fc.band[(fc.band["date"] == CHECK_DATE) & (fc.band["output"] == "orgs_adopted")].iloc[0]
        value = float(truth.loc[float(CHECK_MONTH), "orgs_adopted"])
        covered += int(row["lo90"] <= value <= row["hi90"])
        rel_width.append((row["hi90"] - row["lo90"]) / row["median"])
        q = fc.summary["parameters"]["organisations.q"]
        q_in += int(q["q05"] <= TRUE_Q <= q["q95"])
    refuse_at = int(stats.binom.ppf(0.01, REPLICATES, NOMINAL)) - 1  # largest count with P(X <= k) < 1 %
    assert stats.binom.cdf(refuse_at, REPLICATES, NOMINAL) < 0.01
    assert covered > refuse_at, f"band covered the held-out truth in {covered}/{REPLICATES} series"
    assert q_in > refuse_at, f"90 % posterior interval held the true q in {q_in}/{REPLICATES} series"
    assert np.median(rel_width) < 1.0, f"band width / median at the check month: {rel_width}"


def test_predictive_paths_pass_through_the_fitted_figures() -> None:
    """Each predictive path went through the fitted figures (within the tolerance), and what the early figures ruled
    out is gone from the band: a quarter after the last figure it is narrower than fresh runs of the same parameters.

    One known parameter (q = 0.3, weight 1), so the band holds only the model's chance. A count a quarter on is the
    count at the last figure plus a quarter's adoptions: fresh paths carry the whole spread built up since the start,
    conditioned ones only the quarter's (and the tolerance), so the conditioned band must be clearly narrower (at
    most 0.8 of the fresh width; with 120 draws each 90 % end rests on about six runs, an error of about a tenth of
    the width). The same draws with 1 and 2 workers are the same arrays.
    """
    from sim.validation.forecast import CaseSimulator, conditioned_predictive, stabilise

    truth = _truth_series(1000)
    months, ahead = (6.0, 12.0, 18.0), 21.0
    values = np.array([float(truth.loc[m, "orgs_adopted"]) for m in months])
    scales = (float(values.max()),) * 3
    fit_sim = CaseSimulator(_base(), ("orgs_adopted",) * 3, months, scales)
    pred_sim = CaseSimulator(_base(), ("orgs_adopted",), (ahead,), (1.0,))
    target = stabilise(values, np.asarray(scales))
    post = pd.DataFrame({"organisations.q": [TRUE_Q], "weight": [1.0]})
    rng = np.random.default_rng(7)
    fresh = np.stack([pred_sim.trajectory({"organisations.q": TRUE_Q}, int(s), ahead)[0]
                      for s in rng.integers(2**31, 2**62, size=120)])
    fresh_d = np.sqrt(np.mean((stabilise(fresh[:, [5, 11, 17]], np.asarray(scales)) - target) ** 2, axis=1))
    # a quarter of all paths pass: about 4 tries a draw, and P(none in 40 tries) = 0.75**40 = 1e-5 per draw
    tol = float(np.quantile(fresh_d, 0.25))
    paths, summary = conditioned_predictive(fit_sim, pred_sim, post, target, tol, draws=120, horizon=ahead, seed=3,
                                            workers=2)
    assert summary["closest_taken"] == 0 and summary["screening_runs"] > 120
    arr = np.stack(paths)[:, 0, :]  # draws x months 1..21
    at_fit = stabilise(arr[:, [5, 11, 17]], np.asarray(scales))  # the trajectory's own values at months 6, 12, 18
    assert np.all(np.sqrt(np.mean((at_fit - target) ** 2, axis=1)) <= tol + 1e-12)
    again, _ = conditioned_predictive(fit_sim, pred_sim, post, target, tol, draws=120, horizon=ahead, seed=3, workers=1)
    assert np.array_equal(np.stack(again), np.stack(paths))
    width = np.subtract(*np.quantile(arr[:, -1], [0.95, 0.05]))
    fresh_width = np.subtract(*np.quantile(fresh[:, -1], [0.95, 0.05]))
    print(f"tolerance {tol:.3f}, acceptance {summary['acceptance']}, band width {width:.1f} against {fresh_width:.1f}")
    assert width <= 0.8 * fresh_width, (width, fresh_width)


def test_a_draw_that_finds_no_path_continues_its_particles_own_fit_run() -> None:
    """A parameter set that rarely passes through the figures falls back to the run it was accepted with, not the closest.

    The figures are one run's own counts (seed 12345) and the tolerance is zero, so a fresh seed passes only by
    repeating them exactly: rare (checked: at most 5 % of 100 fresh seeds), so of 12 draws with 40 tries each some
    find none. With the particle's recorded seed those continue the accepted run and every path goes through the
    figures (a closest-try fallback would leave them off); the fallbacks are counted, no closest is taken.
    """
    from sim.validation.forecast import CaseSimulator, conditioned_predictive, stabilise

    months, ahead, own = (6.0, 12.0, 18.0), 21.0, 12345
    base = _base()
    probe = CaseSimulator(base, ("orgs_adopted",) * 3, months, (1.0,) * 3)
    theta = {"organisations.q": TRUE_Q}
    values = np.round(probe(theta, own) ** 2)  # back from the fit's scale (scale 1): the run's own counts
    scales = (float(values.max()),) * 3
    fit_sim = CaseSimulator(base, ("orgs_adopted",) * 3, months, scales)
    pred_sim = CaseSimulator(base, ("orgs_adopted",), (ahead,), (1.0,))
    target = stabilise(values, np.asarray(scales))
    same = np.mean([np.array_equal(fit_sim(theta, int(s)), target)
                    for s in np.random.default_rng(11).integers(2**31, 2**62, size=100)])
    print(f"share of fresh seeds repeating the run's figures: {same:.2f}")
    assert same <= 0.05
    post = pd.DataFrame({"organisations.q": [TRUE_Q], "weight": [1.0]})
    paths, summary = conditioned_predictive(fit_sim, pred_sim, post, target, 0.0, draws=12, horizon=ahead, seed=5,
                                            workers=2, recorded=[own])
    assert summary["closest_taken"] == 0 and summary["recorded_taken"] >= 1, summary
    arr = np.stack(paths)[:, 0, :]
    assert np.array_equal(arr[:, [5, 11, 17]], np.tile(values, (12, 1)))  # every path through the figures


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


def _scenario(tmp: Path, extra: str = "") -> Path:
    p = tmp / "s.toml"
    p.write_text(f'extends = "district"\n[run]\nstart = "{START}"\ndt = 3.0\nsteps = 24\n{extra}', encoding="utf-8")
    return p


def test_cli_writes_whole_folder(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, '[calibration]\nparams = { "organisations.q" = [0.1, 0.6] }\npopulation = 10\n'
                             'generations = 1\ndraws = 10\n')
    obs = tmp_path / "obs.csv"
    obs.write_text("date,output,value,source\n2020-12,orgs_adopted,5,a\n2021-06,orgs_adopted,7,b\n", encoding="utf-8")
    r = sim("forecast", str(sc), "--observed", str(obs), "--until", "2022-12", "--out", "fc", "--workers", "1",
            "--replicate-check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    band = pd.read_csv(tmp_path / "fc" / "forecast.csv")
    assert list(band.columns) == ["date", "output", "median", "lo90", "hi90"]
    replicate = pd.read_csv(tmp_path / "fc" / "replicate.csv")
    assert list(replicate.columns) == list(band.columns) and replicate["date"].tolist() == band["date"].tolist()
    assert "replicate check (fresh paths from the start)" in " ".join(r.stderr.split())
    assert band["date"].iloc[0] == START and band["date"].iloc[-1] == "2022-12" and len(band) == 36
    assert (band["lo90"] <= band["median"]).all() and (band["median"] <= band["hi90"]).all()
    post = pd.read_csv(tmp_path / "fc" / "posterior.csv")
    assert post["organisations.q"].between(0.1, 0.6).all() and len(post) == 10
    summary = json.loads((tmp_path / "fc" / "forecast.json").read_text())
    assert set(summary["parameters"]) == {"organisations.q"}
    w = post["weight"].to_numpy(float)
    assert summary["effective_sample_size"] == pytest.approx(w.sum() ** 2 / (w**2).sum(), abs=0.01)
    assert 1.0 <= summary["effective_sample_size"] <= 10.0
    assert (tmp_path / "fc" / "forecast.png").stat().st_size > 1000
    again = sim("forecast", str(sc), "--observed", str(obs), "--out", "fc", cwd=tmp_path)
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_the_replicate_check_judges_the_figures_against_fresh_paths(tmp_path: Path) -> None:
    """Beside the forecast (paths through the figures), fresh paths of the same parameters check every figure.

    Paths through the figures hold them to the fit's tolerance, so at the last fitted figure their band is narrower
    than the fresh paths' (which carry all the chance since the start); a figure far off the model (999 places) is
    outside the fresh band, so the check can fail. With ``band = "fresh"`` the check is the band itself.
    """
    text = ("date,output,value,source,fit\n2020-06,orgs_adopted,{},a,yes\n2020-12,orgs_adopted,{},a,yes\n"
            "2021-06,orgs_adopted,{},a,yes\n2021-06,places_reached,999,c,no\n")
    truth = _truth_series(1001)
    (tmp_path / "o.csv").write_text(text.format(*(int(truth.loc[m, "orgs_adopted"]) for m in (6.0, 12.0, 18.0))),
                                    encoding="utf-8")
    observed = load_observed(tmp_path / "o.csv", START, {"orgs_adopted", "places_reached"})
    fits = {band: forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, "2021-12", tmp_path / f"{band}.db",
                           start=START, population=16, generations=2, draws=60, workers=2, seed=4, band=band,
                           replicate_check=True) for band in ("conditioned", "fresh")}
    fc = fits["conditioned"]
    assert fc.replicate is not None and fc.summary["replicate_check"]["figures"] == 4
    o = fc.observed.set_index(["date", "output"])
    last = o.loc[("2021-06", "orgs_adopted")]
    assert last["hi90"] - last["lo90"] < last["replicate_hi90"] - last["replicate_lo90"], last
    assert not o.loc[("2021-06", "places_reached"), "replicate_covered"]
    assert fc.summary["replicate_check"]["covered"] == int(o["replicate_covered"].sum()) <= 3
    fresh = fits["fresh"]
    pd.testing.assert_frame_equal(fresh.replicate, fresh.band)
    assert (fresh.observed["replicate_lo90"] == fresh.observed["lo90"]).all()
    plain = forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, "2021-12", tmp_path / "conditioned.db",
                     start=START, population=16, generations=2, draws=60, workers=2, seed=4)
    assert plain.replicate is None and plain.summary["replicate_check"] is None and "replicate_lo90" not in plain.observed
    pd.testing.assert_frame_equal(plain.band, fc.band)  # the check runs beside the forecast, never changes it


def test_effective_sample_size_is_kish() -> None:
    assert effective_sample_size(np.ones(40)) == pytest.approx(40.0)
    assert effective_sample_size(np.r_[1.0, np.zeros(9)]) == pytest.approx(1.0)
    assert effective_sample_size(np.array([3.0, 1.0])) == pytest.approx(16.0 / 10.0)  # (3 + 1)^2 / (9 + 1)


def test_a_checked_figure_gets_a_band_but_no_say_in_the_fit(tmp_path: Path) -> None:
    """A figure with ``fit = no`` is banded and judged, but the posterior is the same as without it (same seed)."""
    base = "date,output,value,source,fit\n2020-12,orgs_adopted,5,a,yes\n2021-06,orgs_adopted,7,b,\n"
    checked = base + "2021-06,places_reached,999,c,no\n"  # far off: it would move the fit if it counted
    outputs = {"orgs_adopted", "places_reached"}
    fits = []
    for name, text in (("plain", base), ("checked", checked)):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        observed = load_observed(tmp_path / f"{name}.csv", START, outputs)
        fits.append(forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, "2021-12", tmp_path / f"{name}.db",
                             start=START, population=20, generations=2, draws=12, workers=1, seed=5))
    plain, with_check = fits
    pd.testing.assert_frame_equal(plain.posterior, with_check.posterior, check_exact=True)
    row = with_check.observed[with_check.observed["output"] == "places_reached"].iloc[0]
    assert bool(row["check_only"]) and not bool(row["fitted"]) and not bool(row["covered"])
    assert row["lo90"] <= row["median"] <= row["hi90"] < 999
    assert with_check.observed.loc[with_check.observed["output"] == "orgs_adopted", "fitted"].all()
    assert set(with_check.band["output"]) == outputs and set(plain.band["output"]) == {"orgs_adopted"}


@pytest.mark.parametrize(
    ("csv", "args", "needle"),
    [
        ("date,output,value\n2020-12,orgs_adopted,5\n", [], "missing column"),
        ("date,output,value,source\n2020-13,orgs_adopted,5,a\n", [], "field date"),
        ("date,output,value,source\n2019-12,orgs_adopted,5,a\n", [], "before run.start"),
        ("date,output,value,source\n2020-12,orgs_adoptd,5,a\n", [], "field output"),
        ("date,output,value,source\n2020-12,orgs_adopted,five,a\n", [], "field value"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--until", "2021-06"], "--until"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--param", "organisations.q=0.1:1.5"], "allowed range"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--param", "organisations.network=0:1"], "numeric"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--param", "organisations.host_places=0.5:3"],
         "whole numbers"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", [], "nothing to fit"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--distance", "euclid"], "--distance"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--band", "wide"], "allowed conditioned or fresh"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n", ["--min-ess", "1.5"], "--min-ess 1.5: allowed 0 to 1"),
        ("date,output,value,source,fit\n2021-12,orgs_adopted,5,a,maybe\n", [], "field fit"),
        ("date,output,value,source,fit\n2021-12,orgs_adopted,5,a,no\n", [], "at least one figure must be fitted"),
        # a row with one field too many: pandas would take the dates for an index and shift every column
        ("date,output,value,source\n2021-12,orgs_adopted,5,a, b\n", [], "row 2: 5 fields, the header has 4"),
        ("date,output,value,source\n2021-12,orgs_adopted\n", [], "row 2: 2 fields"),
        ("date,output,value,source\n2021-12,orgs_adopted,-1,a\n", [], "allowed: 0 or more"),
        ("date,output,value,source\n2021-12,share_meeting_criteria,1.5,a\n", [], "allowed: 0 to 1"),
        ("date,output,value,source\n2021-12,orgs_adopted,5,a\n2021-12,orgs_adopted,6,b\n", [], "repeat row 2"),
        # the district is one place: two places reached is a figure the model can never produce
        ("date,output,value,source\n2021-12,places_reached,2,a\n", [],
         "more than places_reached can reach in this scenario (the scenario's 1 places); allowed: 0 to 1"),
        ("date,output,value,source\n2021-12,places_reached,6,a\n", ["--set", "places.n=5"], "allowed: 0 to 5"),
        ("date,output,value,source\n2021-12,regional_bodies_adopted,1,a\n", [], "0 regional bodies"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path, csv: str, args: list[str], needle: str) -> None:
    sc = _scenario(tmp_path)
    obs = tmp_path / "obs.csv"
    obs.write_text(csv, encoding="utf-8")
    default = [] if "--param" in args or needle == "nothing to fit" else ["--param", "organisations.q=0.1:0.6"]
    r = sim("forecast", str(sc), "--observed", str(obs), *default, *args, "--out", "fc", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr, r.stderr
    assert not (tmp_path / "fc").exists() and not list(tmp_path.glob(".fc.*"))


def test_observed_ranges_follow_the_outputs(tmp_path: Path) -> None:
    """A net value may be negative, a share may not exceed 1, a count may not be negative."""
    from sim.validation.observed import ForecastError, output_range

    assert output_range("net_economic") == (-np.inf, np.inf)
    assert output_range("share_meeting_criteria") == output_range("mean_fidelity") == (0.0, 1.0)
    assert output_range("orgs_adopted") == (0.0, np.inf)
    ok = tmp_path / "ok.csv"
    ok.write_text("\ufeffdate,output,value,source\n2021-12,net_economic,-5e6,a\n2021-12,orgs_adopted,0,b\n",
                  encoding="utf-8")  # with a byte-order mark, as spreadsheets write it
    obs = load_observed(ok, START, {"net_economic", "orgs_adopted"})
    assert sorted(obs["value"]) == [-5e6, 0.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,output,value,source\n2021-12,mean_fidelity,-0.1,a\n", encoding="utf-8")
    with pytest.raises(ForecastError, match=r"bad.csv: row 2: field value -0.1 .* allowed: 0 to 1"):
        load_observed(bad, START, {"mean_fidelity"})


def test_every_preset_output_stays_in_the_range_observed_figures_are_checked_against() -> None:
    """The ranges :func:`output_range` infers from names hold for what the model writes, in every preset.

    A new output that can go negative or past 1 under a name the rule reads otherwise would make
    ``sim forecast`` reject real figures of it (or accept impossible ones): this fails first.
    """
    from sim.api import build_model, result_of
    from sim.results import count_limits
    from sim.scenario import list_presets, load_scenario
    from sim.validation.observed import output_range

    seen = 0
    for name in list_presets():
        m = build_model(load_scenario(name), seed=1)
        limits = count_limits(m.state)
        for _ in range(36):
            m.step()
        model = result_of(m).model
        for col in model.columns.difference(["step", "month", "date"]):
            v = model[col].to_numpy(float)
            v = v[np.isfinite(v)]  # an undefined share (no running site) is NaN
            lo, hi = output_range(col)
            hi = min(hi, limits.get(col, (np.inf, ""))[0])  # and a count of places or counties: at most theirs
            assert v.size == 0 or (v.min() >= lo and v.max() <= hi), (name, col, v.min(), v.max(), lo, hi)
            seen += 1
    assert seen >= 20 * len(list_presets())


def test_count_limits_are_reached_where_every_place_adopts() -> None:
    """The limits observed figures are checked against are the real ones: a world where every organisation
    adopts at once reaches every place and county (and, with regional bodies, every body); Sweden has 290
    municipalities in 21 counties, each with its regional body."""
    from sim.api import build_model, result_of
    from sim.results import count_limits
    from sim.scenario import load_scenario

    sc = scenario_from_dict({"places": {"n": 6, "population_mean": 2000.0},
                             "organisations": {"base_per_place": 3, "initial_adopters": 18, "regional_bodies": True}},
                            source="<all adopt>")
    m = build_model(sc, seed=3)
    limits = count_limits(m.state)
    m.step()
    last = result_of(m).model.iloc[-1]
    assert limits["places_reached"][0] == 6 and last["places_reached"] == 6
    assert 1 <= limits["regions_reached"][0] == last["regions_reached"]
    assert limits["regional_bodies_adopted"][0] == limits["regions_reached"][0] == last["regional_bodies_adopted"]
    sweden = count_limits(build_model(load_scenario("cases/sociala-investeringsfonder"), seed=0).state)
    assert [sweden[k][0] for k in ("places_reached", "regions_reached", "regional_bodies_adopted")] == [290, 21, 21]


def test_calibration_table_is_validated(tmp_path: Path) -> None:
    for table, needle in (('{ "organisations.qq" = [0.1, 0.6] }', "not a numeric field"),
                          ('{ "organisations.q" = [0.1, 1.6] }', "allowed range [0, 1]"),
                          ('{ "organisations.q" = [0.6, 0.1] }', "lo < hi"),
                          ('{ "organisations.host_places" = [1.5, 9] }', "whole numbers")):
        sc = _scenario(tmp_path, f"[calibration]\nparams = {table}\n")
        r = sim("forecast", str(sc), "--observed", "missing.csv", "--out", "fc", cwd=tmp_path)
        assert r.returncode == 2 and "calibration.params" in r.stderr and needle in r.stderr, r.stderr
    sc = _scenario(tmp_path, '[calibration]\ndistance = "euclid"\n')
    r = sim("forecast", str(sc), "--observed", "missing.csv", "--out", "fc", cwd=tmp_path)
    assert r.returncode == 2 and "calibration.distance" in r.stderr and "adaptive" in r.stderr, r.stderr
    sc = _scenario(tmp_path, "[calibration]\nmin_ess = 1.2\n")
    r = sim("forecast", str(sc), "--observed", "missing.csv", "--out", "fc", cwd=tmp_path)
    assert r.returncode == 2 and "calibration.min_ess" in r.stderr and "1" in r.stderr, r.stderr


def test_last_population_with_ess_keeps_the_last_one_above_the_share() -> None:
    from sim.explore.calibrate import last_population_with_ess

    ess = [40.0, 30.0, 12.0, 9.0, 3.0]  # population 0 is the prior sample: ESS = its size
    assert last_population_with_ess(ess, 40, 0.0) == 4
    assert last_population_with_ess(ess, 40, 0.2) == 3  # 8 particles needed: 9 of population 3 is the last above
    assert last_population_with_ess(ess, 40, 0.3) == 2  # 12 needed: exactly met by population 2
    assert last_population_with_ess(ess, 40, 1.0) == 0
    assert last_population_with_ess([40.0, 41.0, 5.0, 20.0], 40, 0.5) == 3  # a later recovery counts: the last one above
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match="allowed 0 to 1"):
            last_population_with_ess(ess, 40, bad)


def test_min_ess_takes_an_earlier_population_as_the_posterior(tmp_path: Path) -> None:
    """With ``min_ess`` the posterior, its epsilons, the predictive tolerance and the recorded seeds all come from
    the population chosen, not the last: here ``min_ess = 1`` (only the equal-weight prior sample qualifies)."""
    import pyabc

    from sim.validation.forecast import fit_tolerance, stabilise

    truth = _truth_series(7)
    obs = pd.DataFrame({"date": list(FIT_DATES), "output": "orgs_adopted", "source": "synthetic",
                        "value": [float(truth.loc[m, "orgs_adopted"]) for m in (6.0, 12.0, 18.0)]})
    csv = tmp_path / "obs.csv"
    obs.to_csv(csv, index=False)
    observed = load_observed(csv, START, {"orgs_adopted"})
    db = tmp_path / "abc.db"
    kw = {"start": START, "population": 16, "generations": 3, "draws": 20, "seed": 3}
    last = forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, CHECK_DATE, db, **kw)
    assert last.summary["populations"] == 3 and "populations_run" not in last.summary  # min_ess 0: output unchanged
    first = forecast(_base(), observed, {"organisations.q": (0.05, 0.95)}, CHECK_DATE, db, min_ess=1.0, **kw)
    s = first.summary
    assert s["populations"] == 1 and s["populations_run"] == 3 and len(s["epsilons"]) == 1
    assert s["epsilons"] == last.summary["epsilons"][:1]
    assert len(s["effective_sample_sizes"]) == 3 and s["effective_sample_sizes"][0] == pytest.approx(16.0)
    assert s["effective_sample_sizes"][2] == pytest.approx(last.summary["effective_sample_size"], abs=0.01)
    hist = pyabc.History(f"sqlite:///{db}")
    df, w = hist.get_distribution(m=0, t=0)
    assert np.sort(first.posterior["organisations.q"].to_numpy()) == pytest.approx(np.sort(df.iloc[:, 0].to_numpy()))
    assert first.posterior["weight"].to_numpy() == pytest.approx(np.asarray(w))
    target = stabilise(observed["value"].to_numpy(float), np.full(3, observed["value"].max()))
    tol0, tol2 = fit_tolerance(db, hist.id, target, 0), fit_tolerance(db, hist.id, target, 2)
    assert tol0 != tol2
    assert s["predictive"]["tolerance"] == pytest.approx(tol0, abs=2e-6)
    assert last.summary["predictive"]["tolerance"] == pytest.approx(tol2, abs=2e-6)


def test_the_fit_scale_gives_counts_equal_noise() -> None:
    """On the square-root scale a Poisson count has variance 1/4 + O(1/mean) whatever its mean, so a figure of 20
    and one of 400 weigh alike relative to their noise (on the linear scale their variances differ 20-fold). The
    sample variance of 20,000 draws has a standard error of about 0.25 * sqrt(2 / 20,000) = 0.0025; tolerance 4 SE
    plus the first-order bias 3 / (32 mean)."""
    from sim.validation.forecast import stabilise

    rng = np.random.default_rng(7)
    for mean in (20.0, 80.0, 400.0):
        v = np.var(stabilise(rng.poisson(mean, 20_000).astype(float), np.ones(20_000)))
        assert abs(v - 0.25) < 4 * 0.0025 + 3 / (32 * mean), (mean, v)
    # monotone, sign-keeping, unit-free
    x = np.array([-9.0, 0.0, 1.0, 4.0, 16.0])
    np.testing.assert_allclose(stabilise(x, np.full(5, 4.0)), [-1.5, 0.0, 0.5, 1.0, 2.0])



def test_an_interrupted_fit_resumes_and_gives_the_same_bytes(tmp_path: Path) -> None:
    """Kill ``sim forecast`` (SIGKILL) once its first population is stored; the same command resumes it.

    The rerun says it resumes, leaves no checkpoint or temporary folder behind, and writes the
    same ``posterior.csv`` and ``forecast.csv`` as a run that was never interrupted. A run
    with other inputs (another seed) does not pick up the checkpoint and deletes it.
    """
    import os
    import signal
    import sqlite3
    import time

    from sim.validation.forecast_command import _stored_populations

    sc = _scenario(tmp_path, '[calibration]\nparams = { "organisations.q" = [0.1, 0.6] }\npopulation = 12\n'
                             'generations = 3\ndraws = 10\n')
    obs = tmp_path / "obs.csv"
    obs.write_text("date,output,value,source\n2020-12,orgs_adopted,5,a\n2021-06,orgs_adopted,7,b\n", encoding="utf-8")
    args = ["forecast", str(sc), "--observed", str(obs), "--until", "2022-06", "--workers", "1"]
    assert sim(*args, "--out", "whole", cwd=tmp_path).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args, "--out", "cut"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, ckpt = time.monotonic() + 240, None
    while time.monotonic() < deadline and proc.poll() is None:
        ckpt = next(tmp_path.glob(".cut.forecast-*.abc.db"), None)
        try:
            if ckpt is not None and _stored_populations(ckpt) >= 1:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "the fit finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert ckpt is not None and _stored_populations(ckpt) in (1, 2) and not (tmp_path / "cut").exists()
    r = sim(*args, "--out", "cut", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resuming the interrupted fit" in " ".join((r.stdout + r.stderr).split())  # the console is stderr
    for name in ("posterior.csv", "forecast.csv"):
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert _stored_populations(tmp_path / "cut" / "abc.db") == 3
    assert not list(tmp_path.glob(".cut.*"))  # no checkpoint, no temporary folder
    # a checkpoint of other inputs is not resumed: another seed fits afresh and removes it
    stale = tmp_path / ".other.forecast-0000000000000000.abc.db"
    stale.write_bytes((tmp_path / "cut" / "abc.db").read_bytes())
    r = sim(*args, "--out", "other", "--seed", "7", cwd=tmp_path)
    assert r.returncode == 0 and "resuming" not in r.stdout + r.stderr and not stale.exists(), r.stderr


def test_the_fit_key_changes_with_the_model_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint is resumed only by the same code: editing, adding or renaming a source changes the key."""
    import shutil

    import sim as pkg
    import sim.api
    from sim.validation.forecast_command import fit_key

    root = tmp_path / "sim"
    shutil.copytree(Path(pkg.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert sim.api.source_fingerprint(root) == sim.api.code_fingerprint()
    seen = {sim.api.source_fingerprint(root)}
    model_py = root / "model.py"
    model_py.write_bytes(model_py.read_bytes() + b"\n")  # a one-byte edit
    seen.add(sim.api.source_fingerprint(root))
    (root / "extra.py").write_text("", encoding="utf-8")
    seen.add(sim.api.source_fingerprint(root))
    (root / "extra.py").rename(root / "extra2.py")
    seen.add(sim.api.source_fingerprint(root))
    assert len(seen) == 4
    obs = pd.DataFrame({"date": ["2020-12"], "output": ["orgs_adopted"], "value": [5.0], "check_only": [False]})
    args = ({"run": {"steps": 10}}, obs, {"organisations.q": (0.1, 0.6)})
    kw = {"seed": 0, "population": 10, "distance": "rmse", "fit_until": None}
    key = fit_key(*args, **kw)
    monkeypatch.setattr(sim.api, "code_fingerprint", lambda: "another model")
    assert fit_key(*args, **kw) != key
    monkeypatch.undo()
    assert fit_key(*args, **kw) == key


def test_cli_reports_each_held_out_figure_with_its_band_and_width(tmp_path: Path) -> None:
    """With --fit-until the console names every later figure: its band, median, width over the median, verdict."""
    sc = _scenario(tmp_path, '[calibration]\nparams = { "organisations.q" = [0.1, 0.6] }\npopulation = 10\n'
                             'generations = 1\ndraws = 10\n')
    obs = tmp_path / "obs.csv"
    obs.write_text("date,output,value,source\n2020-12,orgs_adopted,5,a\n2021-06,orgs_adopted,7,b\n"
                   "2022-03,orgs_adopted,12,c\n2022-03,places_reached,0,d\n", encoding="utf-8")
    r = sim("forecast", str(sc), "--observed", str(obs), "--fit-until", "2021-12", "--out", "fc", "--workers", "1",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = " ".join((r.stdout + r.stderr).split())
    assert "to 2 figures (2 held out) (ABC-SMC" in text, text  # what is fitted, said before the fit starts
    stored = {o["output"]: o for o in json.loads((tmp_path / "fc" / "forecast.json").read_text())["observed"]
              if not o["fitted"]}
    assert set(stored) == {"orgs_adopted", "places_reached"}
    for out, o in stored.items():
        width = (o["hi90"] - o["lo90"]) / o["median"]
        verdict = "inside" if o["covered"] else "OUTSIDE"
        assert f"held out: 2022-03 {out} {o['value']:g}: band {o['lo90']:.4g}-{o['hi90']:.4g}" in text, text
        assert f"width {width:.2f} x the median), {verdict}" in text, text
    assert not stored["places_reached"]["covered"]  # none reached, where the district's first adopters run it from month 0


def test_an_entry_of_a_table_can_be_fitted(tmp_path: Path) -> None:
    """``--param value.site_cost_sek.project=LO:HI`` (or ``[calibration] params``) fits one entry of a numeric table:
    the range is checked against the entry's own (a share in [0, 1], a cost of 0 or more), an entry the table lacks
    is named, and each candidate run changes that entry only (the table's others stay the schema's defaults)."""
    from sim.params import CalibrationParams
    from sim.scenario import ValueParams
    from sim.validation.forecast import CaseSimulator
    from sim.validation.observed import ForecastError, parse_param

    assert parse_param("value.site_cost_sek.project=1e4:2e5") == ("value.site_cost_sek.project", (1e4, 2e5))
    assert parse_param("organisations.eligible_share.public=0:1")[1] == (0.0, 1.0)
    with pytest.raises(ForecastError, match=r"leaves the field's allowed range \[0, 1\]"):
        parse_param("organisations.eligible_share.public=0:2")
    with pytest.raises(ForecastError, match=r"'projects' is not a key of value\.site_cost_sek; allowed: project"):
        parse_param("value.site_cost_sek.projects=0:1")
    assert CalibrationParams(params={"value.site_cost_sek.alliance": [1.0, 9.0]}).params
    with pytest.raises(ValueError, match="leaves the field's allowed range"):
        CalibrationParams(params={"value.site_cost_sek.alliance": [-1.0, 9.0]})

    data = read_scenario_data(resolve_scenario_path("teaching"))[0]
    assert "site_cost_sek" not in data.get("value", {})
    sim = CaseSimulator(apply_overrides(data, {"run.start": "2020-01"}), ("cost",), (12.0,), (1.0,))
    cheap, dear = (sim._run({"value.site_cost_sek.project": c}, seed=5, months=12.0) for c in (10_000.0, 190_000.0))
    assert (cheap["orgs_adopted"].to_numpy() == dear["orgs_adopted"].to_numpy()).all()  # the cost moves no adoption here
    assert dear["cost"].iloc[-1] > cheap["cost"].iloc[-1] > 0
    sc = scenario_from_dict(apply_overrides(data, {"value.site_cost_sek.project": 190_000.0}), "<t>")
    assert sc.value.site_cost_sek == {**ValueParams().site_cost_sek, "project": 190_000.0}
