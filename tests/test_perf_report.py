"""docs/performance.md is made from docs/benchmarks.json by sim.perf.report, and says what the figures say."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sim.perf import report

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def bench() -> dict:
    return json.loads((DOCS / "benchmarks.json").read_text(encoding="utf-8"))


def test_docs_performance_is_the_report_of_the_stored_benchmarks(bench: dict) -> None:
    text = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert report.render(bench) == text, (
        "docs/performance.md is not what sim.perf.report makes of docs/benchmarks.json: "
        "run `python -m sim.perf.report docs/benchmarks.json docs/performance.md`")


def _with_abc(bench: dict, one_s: float, two_s: float, same: bool) -> dict:
    data = copy.deepcopy(bench)
    data["benchmarks"] = [b for b in data["benchmarks"] if b["group"] != "abc-workers"]
    for w, secs, digest in ((1, one_s, "a" * 64), (2, two_s, ("a" if same else "b") * 64)):
        data["benchmarks"].append({
            "group": "abc-workers", "name": f"test_abc_fit[w{w}]", "stats": {"median": secs},
            "extra_info": {"kind": f"workers_{w}", "workers": w, "digest": digest,
                           "population": 12, "generations": 2, "draws": 4}})
    return data


def test_abc_section_reads_speed_and_identity_from_the_run(bench: dict) -> None:
    text = report.render(_with_abc(bench, 60.0, 40.0, same=True))
    assert "| 1 | 60.0 s | - |" in text
    assert "| 2 | 40.0 s (1.50 times faster) | byte-identical to 1 worker |" in text
    assert "| ABC-SMC fit, 2 workers vs 1, same posterior to the byte | faster, identical | 1.50x, identical | met |" in text


def test_abc_section_flags_a_posterior_that_depends_on_workers(bench: dict) -> None:
    text = report.render(_with_abc(bench, 60.0, 40.0, same=False))
    assert "**differ from 1 worker**" in text
    assert "1.50x, differ | **not met** |" in text
    slower = report.render(_with_abc(bench, 40.0, 60.0, same=True))
    assert "0.67x, identical | **not met** |" in slower


def test_no_abc_section_without_its_benchmarks(bench: dict) -> None:
    data = copy.deepcopy(bench)
    data["benchmarks"] = [b for b in data["benchmarks"] if b["group"] != "abc-workers"]
    text = report.render(data)
    assert "ABC-SMC" not in text


def _with_sweep(bench: dict, overhead: float) -> dict:
    data = copy.deepcopy(bench)
    data["benchmarks"] = [b for b in data["benchmarks"] if b["group"] != "sweep-overhead"]
    data["benchmarks"] += [
        {"group": "sweep-overhead", "name": "test_bench_bare_runs", "stats": {"median": 2.0}, "extra_info": {}},
        {"group": "sweep-overhead", "name": "test_bench_sweep_in_process", "stats": {"median": 2.1},
         "extra_info": {"overhead_vs_bare_cpu": overhead}}]
    return data


def test_sweep_overhead_goal_reads_the_measured_cpu_overhead(bench: dict) -> None:
    """The sweep row gives the CPU overhead measured in the benchmark, judged against 10 %, with both wall times."""
    ok = report.render(_with_sweep(bench, 0.03))
    assert "| within 10% | +3.0% (wall 2.10 s vs 2.00 s) | met |" in ok
    assert "| within 10% | +12.0% (wall 2.10 s vs 2.00 s) | **not met** |" in report.render(_with_sweep(bench, 0.12))
    data = copy.deepcopy(bench)
    data["benchmarks"] = [b for b in data["benchmarks"] if b["group"] != "sweep-overhead"]
    assert "`sim sweep` machinery" not in report.render(data)
