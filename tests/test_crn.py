"""Common random numbers by construction: every rule's draws are independent of how many others draw.

Each random stream is wrapped so that every draw it makes is logged (method, shape and a
hash of the numbers). Changing a parameter may change what the rules *do* with their
numbers, never *which* numbers they get: the logs of every stream must be identical.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim.model
from sim.model import SocialInnovationModel
from sim.scenario import load_scenario
from sim.streams import Streams


class LoggedGenerator:
    """A ``numpy.random.Generator`` that logs every draw: ``(method, shape, sha1 of the bytes)``."""

    def __init__(self, gen: np.random.Generator, log: list[tuple[str, tuple[int, ...], str]]) -> None:
        self._gen = gen
        self._log = log

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gen, name)
        if not callable(attr):
            return attr

        def logged(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            arr = np.asarray(out)
            self._log.append((name, arr.shape, hashlib.sha1(arr.tobytes()).hexdigest()))
            return out

        return logged


class LoggedStreams(Streams):
    """Streams whose generators log their draws, one log per purpose (``LoggedStreams.last``)."""

    last: LoggedStreams | None = None

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        super().__init__(seed)
        self.logs: dict[str, list[tuple[str, tuple[int, ...], str]]] = {name: [] for name in self._gens}
        self._gens = {name: LoggedGenerator(g, self.logs[name]) for name, g in self._gens.items()}  # type: ignore[misc]
        LoggedStreams.last = self


def logged_run(scenario: Any, steps: int, change_at: int | None = None, change: dict | None = None,
               seed: int = 3) -> tuple[pd.DataFrame, dict[str, list]]:
    """Run ``scenario``; from step ``change_at`` on, with ``change`` applied to its parameters."""
    model = SocialInnovationModel(scenario, seed=seed)
    streams = LoggedStreams.last
    assert streams is not None and model.streams is streams
    for t in range(steps):
        if change_at is not None and t == change_at:
            model.params = load_scenario(scenario.name, change)
        model.step()
    return model.collector.model_frame(), streams.logs


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.model, "Streams", LoggedStreams)


def test_the_log_sees_draws(logged: None) -> None:  # noqa: ARG001
    _, logs = logged_run(load_scenario("teaching"), steps=3)
    assert all(len(logs[p]) > 0 for p in ("organisations", "funding", "process", "people", "solution"))


def test_raising_p_changes_adoption_but_no_stream_draws_differently(logged: None) -> None:  # noqa: ARG001
    """``organisations.p`` 0.01 -> 0.05 changes who adopts; brokering, funding and every other rule draw the same."""
    low, logs_low = logged_run(load_scenario("teaching", {"organisations.p": 0.01}), steps=48)
    high, logs_high = logged_run(load_scenario("teaching", {"organisations.p": 0.05}), steps=48)
    assert not low["orgs_adopted"].equals(high["orgs_adopted"])  # the change acts
    for purpose in logs_low:
        assert logs_low[purpose] == logs_high[purpose], f"stream {purpose!r} drew differently"


def test_a_lever_from_month_m_leaves_every_row_before_m_and_every_draw(logged: None) -> None:  # noqa: ARG001
    """Two runs that differ only in a lever acting from month m: identical rows before m, different after."""
    m = 18
    base = load_scenario("teaching")
    a, logs_a = logged_run(base, steps=60)
    b, logs_b = logged_run(base, steps=60, change_at=m, change={"organisations.p": 0.05, "levers.guardrails": 0.9})
    before = a["month"] <= m  # the row of month m is the state before the change acted
    pd.testing.assert_frame_equal(a[before], b[before])
    assert not a[~before].equals(b[~before])
    for purpose in logs_a:
        assert logs_a[purpose] == logs_b[purpose], f"stream {purpose!r} drew differently"
