"""Generate bad (and valid extreme) inputs and run each through the real ``sim`` command line.

Usage (from the repository root)::

    .venv/bin/python scripts/fuzz_cli.py                   # every generated case, forked CLI processes
    .venv/bin/python scripts/fuzz_cli.py --subprocess 100  # plus 100 of them as fresh `python -m sim` processes
    .venv/bin/python scripts/fuzz_cli.py --json out.json   # the per-case results

Kinds of bad input: every field of every preset mutated (strings for numbers,
booleans for numbers, numbers for booleans, NaN, infinities, -0.0, out of range,
lists and tables where a value belongs, bad table entries), the same through
``--set``, malformed overrides, cross-field errors (thresholds length, place
names), scenarios too large for memory, files that are not UTF-8 TOML (Latin-1,
UTF-16, binary, huge, deeply nested), directories named ``x.toml``, FIFOs, a
symlink to ``/dev/zero``, an ``--out`` that is a file or holds another run, and
experiment files for ``sim sweep`` (bad grid values, bounds, keys, outputs).

Each case runs in a fresh folder holding only its inputs. It passes when the
command exits 2 within the time limit, names the file (and the field, where the
input has one), prints no traceback and leaves the folder as it was (no ``--out``,
no temporary). Valid extreme inputs must exit 0 or fail with a clear exit-2 error.
Forked cases run the real entry point (``sim.cli.main``) in a child process forked
from a parent that has imported the package, which is the same code path as
``python -m sim`` without the interpreter start-up; ``--subprocess N`` checks that.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.scenario import Scenario  # noqa: E402

TIMEOUT_S = 60.0


@dataclass
class Case:
    """One command line with its input files; ``file``/``field``: what the message must name."""

    kind: str
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    file: str | None = None
    field: str | None = None  # alternatives separated by "|" (the first error found is reported)
    special: str | None = None  # "fifo", "devzero", "dir", "outfile", "outrun"
    valid: bool = False  # a valid extreme input: exit 0, or 2 with a clear message


@dataclass
class Outcome:
    case: int
    kind: str
    args: list[str]
    code: int | None
    seconds: float
    ok: bool
    problems: list[str]
    stderr: str


# ---------------------------------------------------------------------- the schema's fields


def _fields() -> list[tuple[str, Any, float | None, float | None]]:
    """(dotted, annotation, low, high) of every scalar or table field of the schema."""
    out = []
    for sec, info in Scenario.model_fields.items():
        sub = getattr(info.annotation, "model_fields", None)
        if not sub:
            out.append((sec, info.annotation, None, None))
            continue
        for name, f in sub.items():
            lo = next((m.ge for m in f.metadata if getattr(m, "ge", None) is not None), None)
            hi = next((m.le for m in f.metadata if getattr(m, "le", None) is not None), None)
            out.append((f"{sec}.{name}", f.annotation, lo, hi))
    return out


def _bad_values(ann: Any, lo: float | None, hi: float | None) -> list[Any]:
    """Values of the wrong type, non-finite or out of range for a field of type ``ann``."""
    nan, inf = math.nan, math.inf
    origin = get_origin(ann)
    if ann is float:
        vals: list[Any] = ["0.5", "abc", "", True, False, nan, inf, -inf, [0.1], {"a": 1.0}]
        if lo is not None and lo >= 0:
            vals.append(-0.0)
        if lo is not None:
            vals.append(lo - 1.0)
        if hi is not None:
            vals.append(hi * 10 + 1.0)
        return vals
    if ann is int:
        vals = ["3", True, 2.5, nan, inf, [1], {"a": 1}]
        if lo is not None:
            vals.append(int(lo) - 1)
        if hi is not None:
            vals.append(int(hi) * 10 + 1)
        return vals
    if ann is bool:
        return [1, 0, "yes", "true", 1.0, [True]]
    if ann is str:
        return [5, True, 1.5, ["x"], "x" * 1_000_000]
    if origin is Literal:
        return [1, True, "nonsense", [get_args(ann)[0]], ""]
    if origin is dict:
        inner = get_args(ann)[1]
        if get_origin(inner) is dict:  # process.transitions
            return [{"understand": {"envision": nan}}, {"understand": {"envision": "0.2"}}, {"nowhere": {"envision": 0.1}},
                    {"understand": {"envision": 0.9, "mobilise": 0.9}}, {"understand": {"envision": True}}, 5, "x",
                    {"understand": {"envision": -0.0}}, {"understand": {"envision": inf}}]
        return ["x", 5]  # entries are mutated by _table_cases
    if origin in (list,) or (get_origin(ann) is not None and list in [get_origin(a) for a in get_args(ann)]):
        return [[nan], ["a"], [2.0], [True], [-0.0], [inf], "0.1", 0.1]
    return []


def _toml_value(v: Any) -> str:
    """``v`` as TOML text (NaN and infinities spelt as TOML spells them)."""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _is_toml_value(text: str) -> bool:
    """Whether ``--set key=TEXT`` would read TEXT as a TOML value (``0.5`` is a number, ``abc`` a string)."""
    try:
        tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))  # deep copy (presets are plain)
    parts = dotted.split(".")
    node = out
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


def _dump(data: dict[str, Any]) -> bytes:
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{json.dumps(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------- the cases


def _presets() -> dict[str, dict[str, Any]]:
    return {p.stem: tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "scenarios").glob("*.toml"))}


def scenario_cases(rng: random.Random) -> list[Case]:
    """Every field of every preset mutated, in a file and through ``--set``."""
    cases: list[Case] = []
    presets = _presets()
    for dotted, ann, lo, hi in _fields():
        for v in _bad_values(ann, lo, hi):
            preset = rng.choice(sorted(presets))
            data = _set_dotted(presets[preset], dotted, v)
            cases.append(Case("file-field", ["run", "bad.toml", "--out", "out", "--steps", "2"], {"bad.toml": _dump(data)},
                              "bad.toml", dotted))
            if isinstance(v, str) and len(v) > 1000:
                continue
            bare = isinstance(v, str) and rng.random() < 0.5 and not _is_toml_value(v)
            text = v if bare else _toml_value(v)  # a bare word is read as a string too
            cases.append(Case("set-field", ["run", preset, "--set", f"{dotted}={text}", "--out", "out", "--steps", "2"],
                              {}, f"{preset}.toml", dotted))
    # entries of the table-valued fields
    tables = {
        "organisations.sector_shares": ["public", "civil_society", "private", "academia"],
        "value.site_cost_sek": ["project", "alliance", "new_organisation", "internal_unit"],
        "value.form_abandonment": ["project", "alliance", "new_organisation", "internal_unit"],
    }
    for dotted, keys in tables.items():
        for bad in (math.nan, math.inf, -math.inf, -0.0, -1.0, "1", True, [1.0], {"x": 1.0}):
            for key in keys:
                preset = rng.choice(sorted(presets))
                good = {k: 1.0 for k in keys}
                good[key] = bad
                data = _set_dotted(presets[preset], dotted, good)
                cases.append(Case("table-entry", ["run", "bad.toml", "--out", "out"], {"bad.toml": _dump(data)},
                                  "bad.toml", dotted))
                cases.append(Case("set-table-entry", ["run", preset, "--set", f"{dotted}.{key}={_toml_value(bad)}",
                                                      "--out", "out"], {}, f"{preset}.toml", dotted))
        for preset in presets:
            data = _set_dotted(presets[preset], dotted, {**{k: 1.0 for k in keys}, "church": 1.0})
            cases.append(Case("table-key", ["run", "bad.toml", "--out", "out"], {"bad.toml": _dump(data)}, "bad.toml", dotted))
    # unknown keys, sections as values
    for preset, data in presets.items():
        for sec in [s for s, i in Scenario.model_fields.items() if getattr(i.annotation, "model_fields", None)]:
            cases.append(Case("unknown-key", ["run", "bad.toml", "--out", "out"],
                              {"bad.toml": _dump(_set_dotted(data, f"{sec}.no_such_key", 1.0))}, "bad.toml",
                              f"{sec}.no_such_key"))
            cases.append(Case("section-as-value", ["run", "bad.toml", "--out", "out"],
                              {"bad.toml": _dump({**data, sec: 5})}, "bad.toml", sec))
            cases.append(Case("set-unknown-key", ["run", preset, "--set", f"{sec}.no_such_key=1", "--out", "out"], {},
                              f"{preset}.toml", f"{sec}.no_such_key"))
        cases.append(Case("unknown-section", ["run", "bad.toml", "--out", "out"],
                          {"bad.toml": _dump({**data, "nowhere": {"x": 1}})}, "bad.toml", "nowhere"))
    return cases


def cross_field_cases() -> list[Case]:
    """Checks that need the places: thresholds length, place names, the memory a run needs."""
    cases = []
    presets = _presets()
    for preset in presets:
        for n in (0, 1, 2, 7):
            cases.append(Case("thresholds-length", ["run", preset, "--set", f"organisations.thresholds={[0.1] * n}",
                                                    "--out", "out"], {}, f"{preset}.toml", "organisations.thresholds"))
        for place in ("Atlantis", "", "place 1", "x" * 150):
            cases.append(Case("initial-place", ["run", preset, "--set", f'organisations.initial_place="{place}"',
                                                "--out", "out"], {}, f"{preset}.toml", "organisations.initial_place"))
        big = [("places.source", '"synthetic"'), ("places.n", "100000"), ("places.population_mean", "1e8")]
        cases.append(Case("too-big-members", ["run", preset, *sum((["--set", f"{k}={v}"] for k, v in big), []),
                                              "--out", "out"], {}, f"{preset}.toml", "places|organisations.initial_place"))
        orgs = [("places.source", '"synthetic"'), ("places.n", "100000"), ("organisations.base_per_place", "10000")]
        cases.append(Case("too-big-orgs", ["run", preset, *sum((["--set", f"{k}={v}"] for k, v in orgs), []),
                                           "--out", "out"], {}, f"{preset}.toml", "organisations"))  # initial_place too
        cases.append(Case("project-lengths", ["run", preset, "--set", "levers.project_length_min=40", "--set",
                                              "levers.project_length_max=30", "--out", "out"], {}, f"{preset}.toml",
                          "levers.project_length_min"))
    return cases


def override_syntax_cases() -> list[Case]:
    """Malformed ``--set`` options."""
    bad = ["organisations.q", "=1", ".q=1", "organisations..q=1", "organisations.=1", "run.steps.x=1",
           "organisations.q=" + "[" * 200 + "]" * 200, "name.x=1", "organisations.q=[1, 2", "organisations.q="]
    cases = []
    for preset in _presets():
        for b in bad:
            field_ = b.split("=", 1)[0] or "--set"
            cases.append(Case("set-syntax", ["run", preset, "--set", b, "--out", "out"], {}, None, field_[:40] or "--set"))
    return cases


def file_cases() -> list[Case]:
    """Files that are not UTF-8 TOML text, or not files at all."""
    teaching = (ROOT / "scenarios" / "teaching.toml").read_text(encoding="utf-8")
    cases = [
        Case("latin-1", ["run", "bad.toml", "--out", "out"], {"bad.toml": 'name = "Malmö"\n'.encode("latin-1")}, "bad.toml"),
        Case("latin-1-preset", ["run", "bad.toml", "--out", "out"],
             {"bad.toml": (teaching + '\ndescription = "Göteborg"\n').encode("latin-1", "replace")}, "bad.toml"),
        Case("utf-16", ["run", "bad.toml", "--out", "out"], {"bad.toml": teaching.encode("utf-16")}, "bad.toml"),
        Case("utf-16-le", ["run", "bad.toml", "--out", "out"], {"bad.toml": teaching.encode("utf-16-le")}, "bad.toml"),
        Case("utf-16-be", ["run", "bad.toml", "--out", "out"], {"bad.toml": teaching.encode("utf-16-be")}, "bad.toml"),
        Case("binary", ["run", "bad.toml", "--out", "out"], {"bad.toml": bytes(range(256)) * 4}, "bad.toml"),
        Case("nul-bytes", ["run", "bad.toml", "--out", "out"], {"bad.toml": b'name = "a\x00b"\n'}, "bad.toml"),
        Case("bad-toml", ["run", "bad.toml", "--out", "out"], {"bad.toml": b"[run\nsteps = = 3\n"}, "bad.toml"),
        Case("deep-arrays", ["run", "bad.toml", "--out", "out"], {"bad.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n"},
             "bad.toml"),
        Case("deep-arrays-100", ["run", "bad.toml", "--out", "out"], {"bad.toml": b"x = " + b"[" * 100 + b"]" * 100 + b"\n"},
             "bad.toml"),
        Case("deep-tables", ["run", "bad.toml", "--out", "out"],
             {"bad.toml": ("[" + ".".join(f"t{i}" for i in range(60)) + "]\nx = 1\n").encode()}, "bad.toml"),
        Case("huge", ["run", "bad.toml", "--out", "out"], {"bad.toml": b"# " + b"x" * (33 * 2**20) + b"\n"}, "bad.toml"),
        Case("huge-name", ["run", "bad.toml", "--out", "out"], {"bad.toml": b'name = "' + b"x" * 2**20 + b'"\n'}, "bad.toml",
             "name"),
        Case("markup-name", ["run", "bad.toml", "--out", "out"],
             {"bad.toml": b'name = "[bold red]x[/]"\n[run]\nsteps = "[red]"\n'}, "bad.toml", "run.steps"),
        Case("directory", ["run", "dir.toml", "--out", "out"], {}, "dir.toml", special="dir"),
        Case("fifo", ["run", "fifo.toml", "--out", "out"], {}, "fifo.toml", special="fifo"),
        Case("dev-zero", ["run", "zero.toml", "--out", "out"], {}, "zero.toml", special="devzero"),
        Case("missing", ["run", "missing.toml", "--out", "out"], {}, "missing.toml"),
        Case("no-such-preset", ["run", "no-such-preset", "--out", "out"], {}, "no-such-preset"),
        Case("long-name-arg", ["run", "y" * 5000 + ".toml", "--out", "out"], {}, "yyyyyyyy"),
        Case("out-is-file", ["run", "teaching", "--out", "out", "--steps", "1"], {}, "--out", "out", special="outfile"),
        Case("out-holds-run", ["run", "teaching", "--out", "out", "--steps", "1"], {}, "--out", "out", special="outrun"),
        Case("out-holds-other", ["run", "teaching", "--out", "out", "--steps", "1", "--overwrite"], {}, "--out", "out",
             special="outother"),
        Case("compare-bad", ["compare", "teaching", "bad.toml", "--out", "out", "--replicates", "2"],
             {"bad.toml": b'[organisations]\nq = "0.3"\n'}, "bad.toml", "organisations.q"),
        Case("compare-out-file", ["compare", "teaching", "district", "--out", "out", "--replicates", "2"], {}, "--out", "out",
             special="outfile"),
        Case("report-missing", ["report", "nothing"], {}, "nothing"),
        Case("steps-option", ["run", "teaching", "--steps", "0", "--out", "out"], {}, None, "--steps"),
        Case("seed-option", ["run", "teaching", "--seed", "-1", "--out", "out"], {}, None, "--seed"),
    ]
    # a file for each kind as an experiment too
    for c in list(cases[:14]):
        cases.append(Case(c.kind + "-experiment", ["sweep", "bad.toml", "--out", "out", "--in-process"], c.files, "bad.toml"))
    return cases


EXPERIMENT = {
    "scenario": "teaching", "design": "grid", "replicates": 1, "steps": 2, "outputs": ["orgs_adopted"],
    "parameters": {"organisations.q": [0.2, 0.4]},
}


def experiment_cases() -> list[Case]:
    """Experiment files for ``sim sweep`` with bad values, keys, bounds and outputs."""
    nan, inf = math.nan, math.inf
    edits: list[tuple[str, dict[str, Any], str]] = []
    for v in ("abc", True, nan, inf, -inf, [0.1], {"a": 1}, "0.3"):
        edits.append(("grid-float", {"parameters": {"organisations.q": [0.2, v]}}, "parameters.organisations.q"))
    for v in ("3", True, 2.5, nan):
        edits.append(("grid-int", {"parameters": {"places.n": [2, v]}}, "parameters.places.n"))
    for v in (1, "yes", 0.0):
        edits.append(("grid-bool", {"parameters": {"scaling_up.enabled": [True, v]}}, "parameters.scaling_up.enabled"))
    for v in (nan, "x", True, -0.0):
        edits.append(("grid-entry", {"parameters": {"organisations.sector_shares.public": [0.2, v]}},
                      "parameters.organisations.sector_shares.public"))
    edits.append(("grid-table", {"parameters": {"organisations.sector_shares": [{"public": 1.0}]}},
                  "parameters.organisations.sector_shares"))
    edits.append(("grid-list", {"parameters": {"organisations.thresholds": [[0.1]]}}, "parameters.organisations.thresholds"))
    for design in ("lhs", "sobol", "morris"):
        for b in ([nan, 1.0], [0.0, inf], [1.0, 0.0], ["a", 1.0], [True, 1.0], [0.1], [0.1, 0.2, 0.3]):
            edits.append((f"{design}-bounds", {"design": design, "samples": 4, "parameters": {"organisations.q": b}},
                          "parameters.organisations.q"))
        edits.append((f"{design}-bool", {"design": design, "samples": 4, "parameters": {"scaling_up.enabled": [0, 1]}},
                      "parameters.scaling_up.enabled"))
    edits.append(("linked-length", {"parameters": {"levers.project_length_min,levers.project_length_max": [[12, 12], [24]]}},
                  "parameters.levers.project_length_min"))
    edits.append(("linked-lhs", {"design": "lhs", "parameters": {"levers.project_length_min,levers.project_length_max":
                                                                  [[12, 12], [24, 36]]}}, "parameters.levers.project_length_min"))
    edits.append(("unknown-param", {"parameters": {"organisations.qq": [0.1]}}, "parameters.organisations.qq"))
    edits.append(("section-param", {"parameters": {"organisations": [0.1]}}, "parameters.organisations"))
    edits.append(("empty-grid", {"parameters": {"organisations.q": []}}, "parameters.organisations.q"))
    edits.append(("no-params", {"parameters": {}}, "parameters"))
    edits.append(("huge-grid", {"parameters": {f"levers.{k}": [0.1] * 30 for k in
                                               ("involvement", "vision_clarity", "norm_work", "brokering", "guardrails",
                                                "core_leak")}}, "parameters"))
    for k, v in (("replicates", "3"), ("replicates", True), ("replicates", 0), ("replicates", 2.5), ("samples", True),
                 ("steps", "2"), ("steps", 0), ("root_seed", -1), ("root_seed", "1"), ("timeseries", 1),
                 ("timeseries", "yes"), ("design", "halton"), ("design", 1), ("outputs", ["nope"]), ("outputs", "orgs"),
                 ("outputs", []), ("outputs", ["orgs_adopted", "orgs_adopted"]), ("name", 5), ("name", "x" * 300_000),
                 ("bogus", 1), ("levels", 1), ("second_order", "no")):
        edits.append((f"key-{k}", {k: v}, k))
    for k, v in (("organisations.q", "0.5"), ("organisations.q", nan), ("scaling_up.enabled", 1), ("nowhere.x", 1),
                 ("organisations.thresholds", [0.1, 0.2]), ("organisations.initial_place", "Atlantis"),
                 ("places.population_sigma", -0.0)):
        edits.append((f"set-{k}", {"set": {k: v}}, k))
    edits.append(("scenario-missing", {"scenario": "no/such/file.toml"}, "scenario"))
    edits.append(("scenario-bad", {"scenario": "base.toml"}, "organisations.q"))
    cases = []
    for kind, edit, field_ in edits:
        data = {**EXPERIMENT, **edit}
        for sched in ([], ["--in-process"]):
            cases.append(Case(f"experiment-{kind}", ["sweep", "exp.toml", "--out", "out", *sched],
                              {"exp.toml": _dump(data), "base.toml": b'[organisations]\nq = "0.3"\n'},
                              "base.toml" if kind == "scenario-bad" else "exp.toml", field_))
    cases.append(Case("sweep-out-file", ["sweep", "exp.toml", "--out", "out", "--in-process"],
                      {"exp.toml": _dump(EXPERIMENT)}, "--out", "out", special="outfile"))
    cases.append(Case("sweep-scheduler", ["sweep", "exp.toml", "--out", "out", "--scheduler", "tcp://127.0.0.1:9"],
                      {"exp.toml": _dump(EXPERIMENT)}, "--scheduler", "tcp://127.0.0.1:9"))
    return cases


def valid_extreme_cases() -> list[Case]:
    """Valid inputs at the edges of the ranges: they run, or stop with a clear exit-2 error."""
    sets = [
        ["places.n=1", "organisations.base_per_place=1", "organisations.per_10k_population=0", "run.steps=1"],
        ["organisations.initial_adopters=0", "run.steps=3"],
        ["organisations.initial_adopters=1000000", "run.steps=3"],
        ["run.dt=0.001", "run.steps=3"], ["run.dt=12", "run.steps=3"],
        ["population.degree=0", "run.steps=3"], ["organisations.degree=0", "run.steps=3"],
        ["places.population_sigma=0", "places.need_spread=0", "organisations.threshold_sd=0", "run.steps=3"],
        ["places.target_share=0", "run.steps=3"], ["places.target_scale=0.000001", "run.steps=3"],
        ["organisations.network=\"full\"", "run.steps=3"], ["funding.intercept=-0.0", "run.steps=3"],
        ["places.n=100000", "places.population_mean=1", "organisations.base_per_place=0",
         "organisations.per_10k_population=0", "run.steps=1"],
        ["places.n=100000", "places.population_mean=1e8", "run.steps=1"],  # refused: too large
        ["solution.k_core=100", "solution.k_periphery=100", "run.steps=2"],
        ["name=\"" + "n" * 200 + "\"", "run.steps=1"],
    ]
    return [Case("valid-extreme", ["run", "teaching", *sum((["--set", s] for s in ss), []), "--out", "out", "--no-report"],
                 {}, None, None, valid=True) for ss in sets]


def all_cases(seed: int = 16) -> list[Case]:
    """Every generated case (deterministic in ``seed``)."""
    rng = random.Random(seed)
    return scenario_cases(rng) + cross_field_cases() + override_syntax_cases() + file_cases() + experiment_cases()


# ---------------------------------------------------------------------- running


def _prepare(case: Case, folder: Path) -> None:
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    if case.special == "dir":
        (folder / "dir.toml").mkdir()
    elif case.special == "fifo":
        os.mkfifo(folder / "fifo.toml")
    elif case.special == "devzero":
        (folder / "zero.toml").symlink_to("/dev/zero")
    elif case.special == "outfile":
        (folder / "out").write_text("not a folder\n")
    elif case.special == "outrun":
        (folder / "out").mkdir()
        (folder / "out" / "manifest.json").write_text("{}\n")
    elif case.special == "outother":
        (folder / "out").mkdir()
        (folder / "out" / "notes.txt").write_text("mine\n")


def _snapshot(folder: Path) -> dict[str, int]:
    snap = {}
    for p in folder.rglob("*"):
        try:
            st = p.lstat()
        except OSError:
            continue
        snap[str(p.relative_to(folder))] = int(st.st_mtime_ns)
    return snap


def _run_forked(args: list[str], folder: Path) -> tuple[int | None, str, float]:
    err_path = folder.parent / f"{folder.name}.stderr"
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child: the real entry point, as `sim ARGS`
        code = 1
        try:
            os.chdir(folder)
            fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            sys.argv = ["sim", *args]
            from sim.cli import main

            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            sys.stderr.flush()
            os._exit(code)
    code: int | None = None
    while time.monotonic() - t0 < TIMEOUT_S:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.005)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    secs = time.monotonic() - t0
    text = err_path.read_text(errors="replace") if err_path.exists() else ""
    err_path.unlink(missing_ok=True)
    return code, text, secs


def _run_subprocess(args: list[str], folder: Path) -> tuple[int | None, str, float]:
    t0 = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    try:
        r = subprocess.run([sys.executable, "-m", "sim", *args], cwd=folder, capture_output=True, timeout=TIMEOUT_S, env=env)
        return r.returncode, r.stderr.decode(errors="replace"), time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - t0


def judge(case: Case, code: int | None, stderr: str, before: dict[str, int], after: dict[str, int]) -> list[str]:
    """What is wrong with how ``case`` went (empty: it passed)."""
    problems = []
    text = " ".join(stderr.split())
    if code is None:
        problems.append("hang (killed after the time limit)")
    if "Traceback" in stderr or "╭─" in stderr:
        problems.append("traceback")
    if "[bold red]error" in stderr:
        problems.append("raw markup")
    if len(stderr) > 5000:
        problems.append(f"message of {len(stderr):,} characters")
    if case.valid:
        if code not in (0, 2):
            problems.append(f"exit {code}")
        if code == 2 and "error:" not in text:
            problems.append("exit 2 without a message")
        return problems
    if code != 2:
        problems.append(f"exit {code}")
    if case.file and case.file[:8] not in text:
        problems.append(f"file {case.file[:40]!r} not named")
    if case.field and not any(f[:40] in text for f in case.field.split("|")):
        problems.append(f"field {case.field[:40]!r} not named")
    if before != after:
        new = sorted(set(after) - set(before))
        changed = sorted(k for k in set(after) & set(before) if after[k] != before[k])
        problems.append(f"left or changed files: {(new + changed)[:5]}")
    return problems


def main() -> int:
    """Run the cases; print the counts; exit 1 if any case failed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subprocess", type=int, default=0, metavar="N", help="also run N cases as `python -m sim`")
    ap.add_argument("--json", type=Path, help="write every case's outcome here")
    ap.add_argument("--limit", type=int, default=0, help="run only the first N cases (quick look)")
    ap.add_argument("--only", default="", help="run only the cases whose kind starts with this")
    ap.add_argument("--seed", type=int, default=16)
    opts = ap.parse_args()
    import pandas  # noqa: F401 - imported once in the parent so forked children do not pay for it

    import sim.cli  # noqa: F401
    import sim.preflight  # noqa: F401
    import sim.world.places  # noqa: F401
    from sim.explore.experiment import output_names

    output_names()  # cached in the parent: forked `sim sweep` children do not each build a model for it

    warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a process with (idle) pyarrow threads
    cases = all_cases(opts.seed)
    if opts.only:
        cases = [c for c in cases if c.kind.startswith(opts.only)]
    if opts.limit:
        cases = cases[: opts.limit]
    extreme = valid_extreme_cases()
    work = Path(tempfile.mkdtemp(prefix="sim-fuzz-"))
    outcomes: list[Outcome] = []
    rng = random.Random(opts.seed)
    sub_ids = set(rng.sample(range(len(cases)), min(opts.subprocess, len(cases))))
    plan = [(i, c, "fork") for i, c in enumerate(cases)] + [(i, cases[i], "subprocess") for i in sorted(sub_ids)]
    plan += [(len(cases) + j, c, "subprocess") for j, c in enumerate(extreme)]
    t0 = time.monotonic()
    for k, (i, case, how) in enumerate(plan):
        folder = work / f"case-{k:05d}"
        folder.mkdir()
        _prepare(case, folder)
        before = _snapshot(folder)
        code, stderr, secs = (_run_forked if how == "fork" else _run_subprocess)(case.args, folder)
        after = _snapshot(folder)
        problems = judge(case, code, stderr, before, after)
        outcomes.append(Outcome(i, f"{case.kind} ({how})", [a[:80] for a in case.args], code, round(secs, 3),
                                not problems, problems, stderr[:600]))
        shutil.rmtree(folder, ignore_errors=True)
        if problems:
            print(f"FAIL {case.kind} ({how}) {[a[:60] for a in case.args]}: {problems}\n  {stderr[:300]!r}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    bad = [o for o in outcomes if "valid-extreme" not in o.kind]
    ext = [o for o in outcomes if "valid-extreme" in o.kind]
    forked = [o for o in bad if o.kind.endswith("(fork)")]
    sub = [o for o in bad if o.kind.endswith("(subprocess)")]
    print(f"\n{len(forked)} bad inputs through the forked CLI: {sum(o.ok for o in forked)} passed "
          f"({sum(o.code == 2 for o in forked)} exit 2, {sum('traceback' in o.problems for o in forked)} tracebacks, "
          f"{sum(o.code is None for o in forked)} hangs, {sum(any('left' in p for p in o.problems) for o in forked)} "
          f"with files left); slowest {max((o.seconds for o in forked), default=0):.2f} s")
    if sub:
        print(f"{len(sub)} of them again as `python -m sim`: {sum(o.ok for o in sub)} passed")
    print(f"{len(ext)} valid extreme inputs: {sum(o.ok for o in ext)} ran or stopped clearly "
          f"({sum(o.code == 0 for o in ext)} exit 0, {sum(o.code == 2 for o in ext)} exit 2)")
    kinds: dict[str, int] = {}
    for o in forked:
        kinds[o.kind.split(" (")[0]] = kinds.get(o.kind.split(" (")[0], 0) + 1
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(f"in {time.monotonic() - t0:.0f} s")
    if opts.json:
        opts.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
