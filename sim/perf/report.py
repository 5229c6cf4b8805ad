"""Make ``docs/performance.md`` from the benchmark suite's JSON.

Usage::

    python -m sim.perf.report docs/benchmarks.json docs/performance.md

Every figure is a median over the rounds of one ``pytest-benchmark`` run, so the
ratios compare measurements taken side by side in one process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sim.perf.probes import KERNEL_BYTES_PER_MEMBER, STREAM_BYTES_PER_MEMBER

GOAL_FLOOR = 3.0
GOAL_FLOOR_STRETCH = 1.5
GOAL_MESA = 300.0
GOAL_FULL = 2.0
GOAL_BYTES = 150.0
GOAL_SCALING = 1.5
GOAL_SWEEP = 0.10
"""Most CPU time the sweep machinery may add over the same runs done bare (a share)."""


def _by_group(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for b in data["benchmarks"]:
        out.setdefault(b["group"], {})[b["extra_info"].get("kind", b["name"])] = b
    return out


def _ms(b: dict[str, Any]) -> float:
    return float(b["stats"]["median"]) * 1e3


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def figures(data: dict[str, Any]) -> dict[str, Any]:
    """The goal figures from a benchmark JSON: floors, ratios, scaling, memory, sweep overhead, ABC-SMC speed-up."""
    g = _by_group(data)
    out: dict[str, Any] = {"floor": {}, "mesa": {}}
    for label in ("1e5", "1e6", "1e7"):
        grp = g.get(f"floor-{label}")
        if not grp or "target_step" not in grp:
            continue
        n = grp["target_step"]["extra_info"]["n"]
        stream = _ms(grp["probe_stream"]) * grp["probe_stream"]["extra_info"]["stream_bytes"] / grp["probe_stream"][
            "extra_info"]["bytes"]
        floor = stream + _ms(grp["probe_gather"]) + _ms(grp["probe_draws"])
        step = _ms(grp["target_step"])
        out["floor"][label] = {
            "n": n, "step_ms": step, "stream_ms": stream, "gather_ms": _ms(grp["probe_gather"]),
            "draws_ms": _ms(grp["probe_draws"]), "floor_ms": floor, "ratio": step / floor,
            "ns_per_member": step * 1e6 / n, "bytes_per_member": grp["target_step"]["extra_info"]["bytes_per_member"],
            "backend": grp["target_step"]["extra_info"].get("backend"),
        }
    for label in ("1e4", "1e5"):
        grp = g.get(f"mesa-{label}")
        if grp and "mesa" in grp and "vectorised" in grp:
            out["mesa"][label] = {
                "mesa_ms": _ms(grp["mesa"]), "vectorised_ms": _ms(grp["vectorised"]),
                "speedup": _ms(grp["mesa"]) / _ms(grp["vectorised"]),
            }
    sw = g.get("sweden", {})
    if "full_model_step" in sw and "target_step" in sw:
        out["sweden"] = {
            "n": sw["target_step"]["extra_info"]["n"],
            "organisations": sw["full_model_step"]["extra_info"]["organisations"],
            "full_ms": _ms(sw["full_model_step"]), "target_ms": _ms(sw["target_step"]),
            "ratio": _ms(sw["full_model_step"]) / _ms(sw["target_step"]),
            "bytes_per_member": sw["target_step"]["extra_info"]["bytes_per_member"],
        }
    net = g.get("network-1e6", {})
    out["network"] = {k: _ms(v) for k, v in net.items()}
    abc = g.get("abc-workers", {})
    if "workers_1" in abc and "workers_2" in abc:
        one, two = abc["workers_1"], abc["workers_2"]
        out["abc"] = {
            "one_s": _ms(one) / 1e3, "two_s": _ms(two) / 1e3, "speedup": _ms(one) / _ms(two),
            "identical": one["extra_info"]["digest"] == two["extra_info"]["digest"],
            **{k: one["extra_info"][k] for k in ("population", "generations", "draws")},
        }
    sweep = g.get("sweep-overhead", {})
    if "test_bench_bare_runs" in sweep and "test_bench_sweep_in_process" in sweep:
        bare, swept = sweep["test_bench_bare_runs"], sweep["test_bench_sweep_in_process"]
        out["sweep"] = {"bare_s": _ms(bare) / 1e3, "sweep_s": _ms(swept) / 1e3,
                        "overhead_cpu": float(swept["extra_info"]["overhead_vs_bare_cpu"])}
    fl = out["floor"]
    if "1e5" in fl and "1e7" in fl:
        out["scaling"] = fl["1e7"]["ns_per_member"] / fl["1e5"]["ns_per_member"]
    return out


def _notes(f: dict[str, Any]) -> list[str]:
    """Why a goal is not met, or why a figure looks too good."""
    out = ["", "Notes:", ""]
    fl = f["floor"]
    if "1e6" in fl and fl["1e6"]["ratio"] < 1:
        v = fl["1e6"]
        own = v["stream_ms"] * KERNEL_BYTES_PER_MEMBER / STREAM_BYTES_PER_MEMBER + v["draws_ms"]
        out.append(
            "* The step runs *below* the floor: the floor is that of the plain pull step, which re-reads every "
            "tie every step; the optimised step updates neighbour counts only where states changed, so it never "
            "pays the `N x degree` gathers. Against the floor of its own memory traffic "
            f"({KERNEL_BYTES_PER_MEMBER} B per member streamed plus the draws: {own:.2f} ms at N = 10^6; "
            f"`sim bench` reports it as `kernel_floor_ms`) the step takes {v['step_ms'] / own:.1f}x."
        )
    if "scaling" in f and not (1 / GOAL_SCALING <= f["scaling"] <= GOAL_SCALING):
        out.append(
            f"* Scaling is not linear within {GOAL_SCALING:g}x from 10^5 to 10^7 (time per member grows "
            f"{f['scaling']:.2f}x). At 10^5 the step's working set (about 2.5 MB) stays in cache; at 10^7 "
            "(about 250 MB touched per step) every pass streams from main memory, and the frontier's +-1 "
            "updates of neighbour counts become random accesses that miss the cache. The floor grows "
            "even faster (its ratio to the step falls with N), so this is the memory system, not extra work; "
            "between 10^6 and 10^7 the growth per member is smaller. On this shared two-core machine the "
            "figures also vary by up to 2x between runs."
        )
    return out if len(out) > 3 else []


def _abc_section(f: dict[str, Any]) -> list[str]:
    """The ABC-SMC section: one fit with one and with two worker processes (group ``abc-workers``)."""
    if "abc" not in f:
        return []
    ab = f["abc"]
    same = ("byte-identical to 1 worker" if ab["identical"]
            else "**differ from 1 worker** (a defect: the sampler must not depend on the number of workers)")
    return [
        "",
        "## ABC-SMC with two workers (`sim forecast`, `sim calibrate-abc`)",
        "",
        "The sampler (`sim/explore/abc_sampler.py`) seeds every candidate from the root seed, its generation",
        "and its number, and accepts in candidate order, so the second worker changes the speed and nothing",
        f"else. Measured: `forecast()` fitting Fritidsbanken to 2018 (ABC-SMC {ab['population']} x {ab['generations']},",
        f"then {ab['draws']} predictive paths to 2020), a fresh history each round; the posterior and forecast",
        "tables of the two are compared by their SHA-256.",
        "",
        "| workers | wall time | posterior, forecast |",
        "|---:|---:|---|",
        f"| 1 | {ab['one_s']:.1f} s | - |",
        f"| 2 | {ab['two_s']:.1f} s ({ab['speedup']:.2f} times faster) | {same} |",
        "",
        "Model runs are the work and are shared; what a second worker does not shrink is fixed: a process pool",
        "forked for each generation's sampling and for the predictive paths, pyabc's bookkeeping between",
        "generations, and a batch's last candidates leaving a worker idle. So a bigger fit gains more (2.05",
        "times on a Fritidsbanken fit of 20 x 3 by hand on 2026-12-01). pyabc's own multicore sampler, used",
        "before, was about 1.55 times faster with 2 workers on a smaller synthetic fit, and gave another",
        "posterior on every rerun.",
    ]


def render(data: dict[str, Any]) -> str:
    """The Markdown page."""
    f = figures(data)
    mi = data.get("machine_info", {})
    cpu = mi.get("cpu", {})
    lines = [
        "# Performance",
        "",
        "Generated by `python -m sim.perf.report docs/benchmarks.json docs/performance.md` from the benchmark",
        "suite's JSON; run the suite with",
        "",
        "```bash",
        ".venv/bin/python -m pytest tests/benchmarks --benchmark-only --benchmark-json=docs/benchmarks.json",
        "```",
        "",
        "Every figure is a median over rounds, and every ratio compares benchmarks of one run (one process,",
        "side by side). `sim bench --json` prints the same kind of figures for one size in a few seconds.",
        "",
        "Run to run on this shared two-core machine the ratios move: on 2026-11-27 three runs gave the full",
        "Sweden step at 1.47x-2.21x the bare step (the cohort turnover was counted on the model side only in",
        "the 2.21x run) and scaling 10^5 -> 10^7 at 1.18x-2.07x (the highest under heavy load from other",
        "work). A goal near its limit can read *met* in one run and *not met* in the next: rerun before",
        "concluding.",
        "",
        "## Machine",
        "",
        f"* CPU: {cpu.get('brand_raw', mi.get('processor', '?'))}, {cpu.get('count', '?')} logical cores "
        f"(shared virtual machine, other work running: timings are noisy)",
        f"* Python {mi.get('python_version', '?')} ({mi.get('python_implementation', '')}), "
        f"run {data.get('datetime', '?')}",
        f"* commit: {data.get('commit_info', {}).get('id', '?')} "
        f"(dirty: {data.get('commit_info', {}).get('dirty', '?')})",
        "",
        "## Goals",
        "",
        "| goal | target | measured | status |",
        "|---|---|---|---|",
    ]
    fl = f["floor"]
    if "1e6" in fl:
        r = fl["1e6"]["ratio"]
        lines.append(
            f"| bare target-group step, N = 10^6, degree 10, vs floor | <= {GOAL_FLOOR:g}x (stretch "
            f"{GOAL_FLOOR_STRETCH:g}x) | {r:.2f}x ({fl['1e6']['step_ms']:.2f} ms vs {fl['1e6']['floor_ms']:.2f} ms)"
            f" | {_ok(r <= GOAL_FLOOR)}{' (stretch met)' if r <= GOAL_FLOOR_STRETCH else ''} |"
        )
    if "1e5" in f["mesa"]:
        s = f["mesa"]["1e5"]["speedup"]
        lines.append(f"| faster than the per-agent Mesa reference, N = 10^5 | >= {GOAL_MESA:g}x | {s:,.0f}x | "
                     f"{_ok(s >= GOAL_MESA)} |")
    if "sweden" in f:
        sw = f["sweden"]
        lines.append(
            f"| full Sweden model step vs bare target-group step, same population | <= {GOAL_FULL:g}x | "
            f"{sw['ratio']:.2f}x ({sw['full_ms']:.2f} ms vs {sw['target_ms']:.2f} ms) | "
            f"{_ok(sw['ratio'] <= GOAL_FULL)} |"
        )
    sizes = [v["bytes_per_member"] for v in fl.values()]
    bpm = max(sizes + ([f["sweden"]["bytes_per_member"]] if "sweden" in f else []))
    lines.append(f"| memory per member incl. network (degree 10) | <= {GOAL_BYTES:g} B | {bpm:.0f} B "
                 f"(10^7 members: {bpm * 1e7 / 1e9:.2f} GB) | {_ok(bpm <= GOAL_BYTES)} |")
    if "scaling" in f:
        sc = f["scaling"]
        lines.append(f"| linear scaling 10^5 -> 10^7 (time per member, 10^7 vs 10^5) | within {GOAL_SCALING:g}x | "
                     f"{sc:.2f}x | {_ok(sc <= GOAL_SCALING and sc >= 1 / GOAL_SCALING)} |")
    if "sweep" in f:
        sw = f["sweep"]
        lines.append(f"| `sim sweep` machinery over the same 8 teaching runs done bare (in-process, CPU time) | "
                     f"within {GOAL_SWEEP:.0%} | {sw['overhead_cpu']:+.1%} (wall {sw['sweep_s']:.2f} s vs "
                     f"{sw['bare_s']:.2f} s) | {_ok(sw['overhead_cpu'] < GOAL_SWEEP)} |")
    if "abc" in f:
        ab = f["abc"]
        lines.append(f"| ABC-SMC fit, 2 workers vs 1, same posterior to the byte | faster, identical | "
                     f"{ab['speedup']:.2f}x, {'identical' if ab['identical'] else 'differ'} | "
                     f"{_ok(ab['speedup'] > 1 and ab['identical'])} |")
    lines += _notes(f)
    lines += [
        "",
        "## Bare target-group step vs the floor",
        "",
        "Floor = streaming 10 B per member at the measured copy bandwidth + `N x degree` random one-byte",
        "gathers (gather probe, index array streamed) + `N` float32 draws (draw probe), all measured at the same",
        "size. This is the floor of the plain *pull* step (every member reads its ties' states). The optimised step",
        "keeps each member's count of active ties and updates it only from members whose state changed, so it",
        "does not pay the gathers every step and can run below this floor.",
        "",
        "| N | step [ms] | stream [ms] | gathers [ms] | draws [ms] | floor [ms] | ratio | ns/member | B/member |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in fl.values():
        lines.append(
            f"| {v['n']:,} | {v['step_ms']:.2f} | {v['stream_ms']:.2f} | {v['gather_ms']:.2f} | {v['draws_ms']:.2f} | "
            f"{v['floor_ms']:.2f} | {v['ratio']:.2f} | {v['ns_per_member']:.2f} | {v['bytes_per_member']:.0f} |"
        )
    lines += ["", "## Per-agent Mesa reference vs vectorised (same rule: adopt with p + q x, stop with delta)", "",
              "| N | Mesa [ms/step] | vectorised [ms/step] | speed-up |", "|---|---|---|---|"]
    for label, v in f["mesa"].items():
        lines.append(f"| 10^{label[-1]} | {v['mesa_ms']:,.1f} | {v['vectorised_ms']:.3f} | {v['speedup']:,.0f}x |")
    if "sweden" in f:
        sw = f["sweden"]
        lines += ["", "## Sweden preset", "",
                  f"{sw['n']:,} target-group members, {sw['organisations']:,} organisations, 290 municipalities; "
                  "timed from step 60 of the run (most places served).", "",
                  "| full model step [ms] | bare target-group step (member step + cohort turnover), "
                  "same population and service [ms] | ratio |",
                  "|---|---|---|", f"| {sw['full_ms']:.2f} | {sw['target_ms']:.2f} | {sw['ratio']:.2f} |"]
    if f["network"]:
        lines += ["", "## Network construction, N = 10^6, degree 10", "", "| step | ms |", "|---|---|"]
        for k, v in f["network"].items():
            lines.append(f"| {k.replace('_', ' ')} | {v:.0f} |")
    lines += _abc_section(f)
    lines += [
        "",
        "## How",
        "",
        "* Incremental word of mouth: each member's number of active ties (`uint16`) is updated from the",
        "  transposed network by the members whose active flag changed (the frontier), instead of re-reading",
        "  every tie every step.",
        "* Counts per place and state are kept, so places without a running site (and without participants)",
        "  are skipped, and the step needs no full `bincount`.",
        "* A fused numba kernel (`sim/population/kernels.py`, optional extra `fast`): a branch-free, vectorised",
        "  decision pass per place; it repeats NumPy's float32/float64 operations one by one, so results are",
        "  bit-identical to the straightforward step (`sim/population/naive.py`; tests in `tests/test_perf.py`).",
        "  Without numba, or with `dt != 1` or `rate_mode = \"rate\"`, a NumPy path over the members that can",
        "  move gives the same results.",
        "* One float32 uniform per member per step, drawn in member order into a reused buffer: the random",
        "  sequence, and so every result, is unchanged.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.perf.report BENCH_JSON [OUT_MD]`` (prints to stdout without OUT_MD)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit("usage: python -m sim.perf.report BENCH_JSON [OUT_MD]")
    text = render(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
