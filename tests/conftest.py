"""Shared fixtures: small scenarios that build in milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from sim.model import SocialInnovationModel
from sim.scenario import Scenario, apply_overrides, scenario_from_dict

SMALL: dict[str, Any] = {
    "name": "small",
    "run": {"steps": 24, "seed": 3},
    "places": {"source": "synthetic", "n": 3, "population_mean": 4000.0, "population_sigma": 0.3, "target_share": 0.2},
    "organisations": {"base_per_place": 6, "per_10k_population": 0.0, "initial_adopters": 2, "q": 0.4, "p": 0.01},
    "population": {"degree": 6, "site_capacity": 50.0},
    "value": {"visibility_scale": 100.0},
}


def small_scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    """A three-place scenario with 18 organisations and about 2,400 members."""
    return scenario_from_dict(apply_overrides(SMALL, overrides or {}), source="<test>")


@pytest.fixture
def small() -> Scenario:
    return small_scenario()


@pytest.fixture
def small_model() -> SocialInnovationModel:
    return SocialInnovationModel(small_scenario(), seed=1)


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright for the whole session: its sync API refuses to start while another one is running.

    Every browser fixture (tests/browser/conftest.py, the workshop test) launches its Chromium from it.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
    with sync_api.sync_playwright() as pw:
        yield pw
