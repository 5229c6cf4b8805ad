"""The benchmark suite is collected only with ``--benchmark-only`` (the normal test run never imports it).

Run it (about 3 minutes here, half of it the ABC-SMC fits; writes the JSON that ``docs/performance.md`` is made from)::

    .venv/bin/python -m pytest tests/benchmarks --benchmark-only --benchmark-json=docs/benchmarks.json
    .venv/bin/python -m sim.perf.report docs/benchmarks.json docs/performance.md
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name.startswith("test_") and not config.getoption("benchmark_only", False):
        return True
    return None
