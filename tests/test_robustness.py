"""Bad input and faults: never a traceback, a hang, a silent coercion or a half-written folder (issue 16)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import preflight
from sim.cli import app
from sim.outdir import OutputFolderError, clean_stale, output_folder
from sim.scenario import Scenario, ScenarioError, load_scenario, read_toml_file, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "scenarios" / "teaching.toml"


def sim(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ------------------------------------------------------------------ start-up


def test_cli_import_does_not_pull_in_the_model() -> None:
    code = ("import sys, sim.cli; heavy = [m for m in ('mesa', 'pandas', 'scipy', 'numba', 'matplotlib', 'sim.model') "
            "if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert r.stdout.strip() == "[]", r.stdout


# ------------------------------------------------------------------ strict types


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"organisations": {"q": "0.5"}}, "organisations.q", "not a string"),
        ({"organisations": {"q": True}}, "organisations.q", "not a boolean"),
        ({"run": {"steps": True}}, "run.steps", "not a boolean"),
        ({"run": {"steps": "3"}}, "run.steps", "not a string"),
        ({"scaling_up": {"enabled": 1}}, "scaling_up.enabled", "true or false"),
        ({"scaling_up": {"enabled": "yes"}}, "scaling_up.enabled", "true or false"),
        ({"organisations": {"readoption": 0.0}}, "organisations.readoption", "true or false"),
        ({"name": 5}, "name", "a string"),
        ({"organisations": {"q": math.nan}}, "organisations.q", "NaN"),
        ({"value": {"budget_sek": math.inf}}, "value.budget_sek", "infinity"),
        ({"places": {"population_sigma": -0.0}}, "places.population_sigma", "-0.0"),
        ({"places": {"need_spread": -0.0}}, "places.need_spread", "-0.0"),
        ({"organisations": {"threshold_sd": -0.0}}, "organisations.threshold_sd", "-0.0"),
        ({"value": {"site_cost_sek": {"project": math.nan, "alliance": 1.0, "new_organisation": 1.0,
                                      "internal_unit": 1.0}}}, "value.site_cost_sek", "entry project: NaN"),
        ({"organisations": {"sector_shares": {"public": math.nan, "private": 1.0}}}, "organisations.sector_shares",
         "entry public: NaN"),
        ({"organisations": {"sector_shares": {"public": "1"}}}, "organisations.sector_shares", "not a string"),
        ({"value": {"form_abandonment": {"project": -0.0, "alliance": 1.0, "new_organisation": 1.0,
                                         "internal_unit": 1.0}}}, "value.form_abandonment", "-0.0"),
        ({"organisations": {"thresholds": [0.1, math.inf]}}, "organisations.thresholds", "entry [1]: infinity"),
        ({"process": {"transitions": {"understand": {"envision": math.nan}}}}, "process.transitions", "NaN"),
        ({"name": "x" * 1_000_000}, "name", "at most 200 characters"),
    ],
)
def test_no_silent_coercion(data: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml") and f"field {field}" in msg and fragment in msg, msg
    assert len(msg) < 600  # never a dump of the input


def test_valid_values_keep_their_meaning() -> None:
    sc = scenario_from_dict({"organisations": {"q": 1, "initial_adopters": 2.0}, "funding": {"intercept": -0.0},
                             "scaling_up": {"enabled": False}})
    assert sc.organisations.q == 1.0 and isinstance(sc.organisations.q, float)
    assert sc.organisations.initial_adopters == 2 and sc.scaling_up.enabled is False
    assert scenario_from_dict({}) == Scenario()


def test_cross_field_messages_are_short() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"organisations": {"sector_shares": {"church": 1.0}}, "description": "d" * 10_000}, "f.toml")
    assert "field organisations.sector_shares" in str(info.value) and len(str(info.value)) < 300


# ------------------------------------------------------------------ files


def test_files_that_are_not_toml_text_are_refused_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dir.toml").mkdir()
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    (tmp_path / "latin.toml").write_bytes('name = "Malmö"\n'.encode("latin-1"))
    (tmp_path / "u16.toml").write_bytes('name = "x"\n'.encode("utf-16"))
    (tmp_path / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "big.toml").write_text("# " + "x" * 20_000 + "\n")
    (tmp_path / "bom.toml").write_bytes(b'\xef\xbb\xbfname = "ok"\n')
    monkeypatch.setattr("sim.scenario.MAX_FILE_BYTES", 15_000)
    expected = {"dir": "is a directory", "fifo": "not a regular file", "zero": "not a regular file",
                "latin": "not UTF-8", "u16": "UTF-16", "deep": "nested more than", "big": "too large"}
    for stem, fragment in expected.items():
        with pytest.raises(ScenarioError) as info:
            read_toml_file(tmp_path / f"{stem}.toml")
        assert str(info.value).startswith(str(tmp_path / f"{stem}.toml")) and fragment in str(info.value)
    assert read_toml_file(tmp_path / "bom.toml") == {"name": "ok"}


def test_cross_field_checks_at_load_time_name_the_file() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("teaching", ["organisations.thresholds=[0.1, 0.2]"])
    assert "teaching.toml" in str(info.value) and "field organisations.thresholds" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        load_scenario("sweden-youth-employment", ['organisations.initial_place="Atlantis"'])
    assert "sweden-youth-employment.toml" in str(info.value) and "field organisations.initial_place" in str(info.value)
    sc = load_scenario("sweden-youth-employment", ['organisations.initial_place="Lund"'])
    assert sc.organisations.initial_place == "Lund"


def test_thresholds_of_the_right_length_pass_and_match_the_model() -> None:
    from sim.api import build_model
    from sim.streams import Streams
    from sim.world.places import build_places, organisation_counts

    sc = load_scenario("teaching")
    n = int(organisation_counts(sc.organisations, build_places(sc, Streams(sc.run.seed).places).population).sum())
    ok = load_scenario("teaching", [f"organisations.thresholds={[0.5] * n}"])
    assert build_model(ok).orgs.n == n


def test_size_estimate_refuses_what_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    big = ["places.n=100000", "places.population_mean=1e8"]
    with pytest.raises(ScenarioError) as info:
        load_scenario("teaching", big)
    msg = str(info.value)
    assert "teaching.toml" in msg and "--force-size" in msg and "GiB" in msg and "members" in msg
    assert load_scenario("teaching", big, force_size=True).places.n == 100_000  # the override
    monkeypatch.setenv(preflight.FORCE_SIZE_ENV, "1")
    assert load_scenario("teaching", big).places.n == 100_000
    monkeypatch.delenv(preflight.FORCE_SIZE_ENV)
    est = preflight.check_scenario(load_scenario("sweden-youth-employment"), "x")
    assert 1_000_000 < est.members < 1_200_000 and est.organisations > 3000
    assert est.bytes > est.members * preflight.BYTES_PER_MEMBER
    monkeypatch.setattr(preflight, "memory_limit", lambda: est.bytes)  # a machine too small for Sweden
    with pytest.raises(ScenarioError, match="more than 80%"):
        load_scenario("sweden-youth-employment")


# ------------------------------------------------------------------ output folders


def test_output_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with pytest.raises(RuntimeError), output_folder(out) as tmp:
        (tmp / "manifest.json").write_text("{}")
        raise RuntimeError("boom")
    assert listing(tmp_path) == []  # nothing, not even the temporary
    with output_folder(out) as tmp:
        (tmp / "manifest.json").write_text('{"run": 1}')
        (tmp / "a.txt").write_text("1")
    assert listing(tmp_path) == ["o", "o/a.txt", "o/manifest.json"]
    with pytest.raises(OutputFolderError, match="--overwrite"), output_folder(out):
        pass
    with output_folder(out, overwrite=True) as tmp:  # replaced whole: a.txt of the old run is gone
        (tmp / "manifest.json").write_text('{"run": 2}')
    assert listing(tmp_path) == ["o", "o/manifest.json"]
    assert json.loads((out / "manifest.json").read_text()) == {"run": 2}
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file"), output_folder(tmp_path / "file"):
        pass
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(OutputFolderError, match="never replaced"), output_folder(tmp_path / "mine", overwrite=True):
        pass
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    with output_folder(tmp_path / "mine", merge=True) as tmp:  # report commands writing into docs/
        (tmp / "img").mkdir()
        (tmp / "img" / "p.png").write_text("png")
        (tmp / "report.md").write_text("md")
    assert listing(tmp_path / "mine") == ["img", "img/p.png", "notes.txt", "report.md"]
    assert not [p for p in tmp_path.iterdir() if ".out." in p.name]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / f".o.out.tmp-{pid}-abcd").mkdir()
    (tmp_path / f".o.out.old-{pid}-abcd").mkdir()
    (tmp_path / f".o.out.tmp-{os.getpid()}-mine").mkdir()  # a live process's: kept
    assert clean_stale(tmp_path / "o") == 2
    assert [p.name for p in tmp_path.iterdir()] == [f".o.out.tmp-{os.getpid()}-mine"]


def test_run_refuses_a_bad_out_before_simulating(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    r = sim("run", "teaching", "--steps", "2", "--out", "afile", cwd=tmp_path)
    assert r.returncode == 2 and "--out afile: is a file" in r.stderr and "simulating" not in r.stderr
    assert (tmp_path / "afile").read_text() == "mine"
    ok = sim("run", "teaching", "--steps", "2", "--out", "o", "--no-report", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    again = sim("run", "teaching", "--steps", "3", "--out", "o", cwd=tmp_path)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    over = sim("run", "teaching", "--steps", "3", "--out", "o", "--overwrite", cwd=tmp_path)
    assert over.returncode == 0, over.stderr
    assert len(pd.read_parquet(tmp_path / "o" / "model.parquet")) == 4 and (tmp_path / "o" / "report.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "o"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no folder can be made")
@pytest.mark.parametrize("args", [
    ["run", "teaching", "--steps", "2"],
    ["compare", "teaching", "district", "--replicates", "2", "--in-process"],
    ["sweep", str(ROOT / "experiments" / "project_length.toml"), "--in-process"],
    ["levers", "teaching", "--replicates", "2", "--in-process"],
    ["calibrate-abc", "teaching", "--target", "t.csv", "--param", "organisations.q=0.1:0.5", "--point-only"],
    ["forecast", "cases/fritidsbanken", "--observed", str(ROOT / "data" / "cases" / "fritidsbanken.csv")],
], ids=lambda a: a[0])
def test_an_out_that_cannot_be_created_is_refused_before_any_work(tmp_path: Path, args: list[str]) -> None:
    """Even root cannot make folders in /proc: every command says so for --out, exit 2, no traceback, no run.

    (Before, `sim run` simulated and then failed with a traceback when writing.)
    """
    (tmp_path / "t.csv").write_text("month,value\n12,5\n")
    r = sim(*args, "--out", "/proc/sim-cannot-be-here", cwd=tmp_path, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "--out /proc/sim-cannot-be-here: cannot create folders in /proc" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "simulating" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_the_write_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    from sim.outdir import check_writable

    check_writable(tmp_path / "new" / "deeper")
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        check_writable(tmp_path / "f" / "out")


def test_real_processes_refuse_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "latin.toml").write_bytes("[organisations]\ninitial_place = 'Malmö'\n".encode("latin-1"))
    for name in ("fifo.toml", "latin.toml"):
        r = sim("run", name, "--out", "never", cwd=tmp_path, timeout=30)
        assert r.returncode == 2 and name in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("error: ")  # the label rendered, not "[bold red]error:[/]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.toml", "latin.toml"]


COMPLETE = {"model.parquet", "organisations.parquet", "places.parquet", "manifest.json", "report.png", "report.html"}


def _check_whole_or_absent(out: Path) -> str:
    if not out.exists():
        return "absent"
    assert {p.name for p in out.iterdir()} == COMPLETE
    for f in ("model.parquet", "organisations.parquet", "places.parquet"):
        pd.read_parquet(out / f)
    assert json.loads((out / "manifest.json").read_text())["steps"] == 40
    return "complete"


@pytest.mark.slow
def test_sigkill_of_sim_run_leaves_no_folder_or_a_complete_one(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sim", "run", "teaching", "--steps", "40", "--seed", "1", "--out", "o"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen = []
    for moment in ("start", 0.6, 1.2, 2.0, "temporary", "temporary-tables", 3.0, 4.5):
        work = tmp_path / f"k{len(seen)}"
        work.mkdir()
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while proc.poll() is None:
            tmps = list(work.glob(".o.out.tmp-*"))
            if (moment == "start"
                    or (isinstance(moment, float) and time.monotonic() - t0 >= moment)
                    or (moment == "temporary" and tmps)
                    or (moment == "temporary-tables" and tmps and any(tmps[0].glob("*.parquet")))):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait()
        seen.append(_check_whole_or_absent(work / "o"))
        assert not [p for p in work.iterdir() if p.name not in ("o",) and not p.name.startswith(".o.out.tmp-")]
    assert "absent" in seen, seen  # some kills landed before the rename
    # a later run into the same --out removes what killed runs left behind, and succeeds
    work = tmp_path / "k5"
    r = subprocess.run(cmd + ["--overwrite"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _check_whole_or_absent(work / "o") == "complete"
    assert [p.name for p in work.iterdir()] == ["o"]


# ------------------------------------------------------------------ sweeps

EXPERIMENT = """scenario = "teaching"
steps = 2
outputs = ["orgs_adopted"]
[parameters]
"organisations.q" = {values}
"""


@pytest.mark.parametrize(
    ("values", "fragment"),
    [('[0.1, "abc"]', "not a string"), ("[0.1, true]", "not a boolean"), ("[0.1, nan]", "NaN"),
     ("[0.1, [0.2]]", "single values")],
)
def test_sweep_checks_values_before_the_store_exists(tmp_path: Path, values: str, fragment: str) -> None:
    (tmp_path / "e.toml").write_text(EXPERIMENT.format(values=values))
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "e.toml"), "--out", str(tmp_path / "o"), "--in-process"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "e.toml" in text and "parameters.organisations.q" in text and fragment in text, text
    assert listing(tmp_path) == ["e.toml"]


def test_unreachable_scheduler_is_a_quick_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    (tmp_path / "e.toml").write_text(EXPERIMENT.format(values="[0.1, 0.2]"))
    t0 = time.monotonic()
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "e.toml"), "--out", str(tmp_path / "o"),
                                   "--scheduler", "tcp://127.0.0.1:9"])
    assert time.monotonic() - t0 < 25  # the connection attempt gives up after 3 s
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "--scheduler tcp://127.0.0.1:9" in text and "cannot reach" in text, text
    assert listing(tmp_path) == ["e.toml"]


# ------------------------------------------------------------------ property-based fuzzing

_PRESETS = {p.stem: tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "scenarios").glob("*.toml"))}
_NUMERIC = [(f"{s}.{n}", f.annotation) for s, i in Scenario.model_fields.items()
            for n, f in (getattr(i.annotation, "model_fields", None) or {}).items() if f.annotation in (int, float, bool)]
_BAD_FOR = {
    float: st.sampled_from(['"0.5"', '"abc"', "true", "false", "nan", "inf", "-inf", "[0.1]", "{a = 1}", "1e400"]),
    int: st.sampled_from(['"3"', "true", "2.5", "nan", "inf", "[1]", "{a = 1}", "-1e400"]),
    bool: st.sampled_from(["1", "0", '"yes"', '"true"', "1.0", "[true]"]),
}
_ENTRIES = {"organisations.sector_shares": ["public", "civil_society", "private", "academia"],
            "value.site_cost_sek": ["project", "alliance", "new_organisation", "internal_unit"]}


def _toml_lines(data: dict[str, Any], dotted: str, text: str) -> str:
    """The preset ``data`` as TOML with ``dotted`` set to the raw TOML ``text``."""
    sec, name = dotted.split(".", 1)
    lines = [f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    sections = {k: dict(v) for k, v in data.items() if isinstance(v, dict)}
    sections.setdefault(sec, {})
    body = []
    for s, d in sections.items():
        body.append(f"[{s}]")
        for k, v in d.items():
            if s == sec and k == name.split(".")[0]:
                continue
            body.append(f"{k} = {json.dumps(v) if not isinstance(v, dict) else _inline(v)}")
        if s == sec:
            body.append(f"{name} = {text}")
    return "\n".join(lines + body) + "\n"


def _inline(d: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in d.items()) + " }"


@st.composite
def bad_input(draw: st.DrawFn) -> tuple[list[str], dict[str, str], str, str]:
    """``(arguments, files, file named, field named)`` of a bad invocation."""
    preset = draw(st.sampled_from(sorted(_PRESETS)))
    how = draw(st.sampled_from(["file", "set", "entry", "experiment"]))
    if how == "entry":
        dotted = draw(st.sampled_from(sorted(_ENTRIES)))
        key = draw(st.sampled_from(_ENTRIES[dotted]))
        bad = draw(st.sampled_from(["nan", "inf", "-0.0", "-1.0", '"1"', "true"]))
        entries = ", ".join(f"{k} = {bad if k == key else '1.0'}" for k in _ENTRIES[dotted])
        text = _toml_lines(_PRESETS[preset], dotted, "{ " + entries + " }")
        return ["run", "bad.toml", "--out", "out"], {"bad.toml": text}, "bad.toml", dotted
    dotted, ann = draw(st.sampled_from(_NUMERIC))
    value = draw(_BAD_FOR[ann])
    if how == "file":
        return ["run", "bad.toml", "--out", "out"], {"bad.toml": _toml_lines(_PRESETS[preset], dotted, value)}, \
            "bad.toml", dotted
    if how == "set":
        return ["run", preset, "--set", f"{dotted}={value}", "--out", "out"], {}, f"{preset}.toml", dotted
    exp = f'scenario = "{preset}"\nsteps = 2\noutputs = ["orgs_adopted"]\n[parameters]\n"{dotted}" = [{value}]\n'
    if value in ("1e400", "-1e400", "{a = 1}", "[0.1]", "[1]", "[true]"):  # not a scalar grid value: the [set] table
        exp = (f'scenario = "{preset}"\nsteps = 2\noutputs = ["orgs_adopted"]\n[set]\n"{dotted}" = {value}\n'
               '[parameters]\n"organisations.q" = [0.1]\n')
    return ["sweep", "exp.toml", "--out", "out", "--in-process"], {"exp.toml": exp}, "exp.toml", dotted


@settings(max_examples=80, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          database=None)
@given(bad_input())
def test_fuzz_bad_inputs_exit_2_naming_file_and_field(case: tuple[list[str], dict[str, str], str, str]) -> None:
    args, files, file_named, field_named = case
    work = Path(tempfile.mkdtemp(prefix="sim-fuzz-"))
    cwd = os.getcwd()
    try:
        for name, text in files.items():
            (work / name).write_text(text, encoding="utf-8")
        os.chdir(work)
        res = CliRunner().invoke(app, args)
        text = " ".join(res.output.split())
        assert res.exit_code == 2, (args, files, res.output)
        assert isinstance(res.exception, SystemExit), res.exception  # an exit, never an exception escaping
        assert file_named in text and field_named in text, (args, text)
        assert "Traceback" not in res.output and "[bold red]" not in res.output
        assert sorted(p.name for p in work.iterdir()) == sorted(files), "something was written"
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)
