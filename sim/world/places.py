"""Places: municipalities or districts where the innovation may take root.

A place has a population, a target-group size, a local need profile ``u`` in the
solution's component space, a challenge severity, a norm openness (how receptive it
is to new practices; scaling deep raises it) and coordinates for the map.

Two sources: ``sweden`` loads the 290 Swedish municipalities shipped in
``data/swedish_municipalities.csv`` (SCB population, seat coordinates; see
``data/README.md`` for attribution); ``synthetic`` draws places with log-normal
populations on a 500 km square. Need profiles, severity and openness are drawn
in both cases (the data set carries no need measures): this is a stated
modelling assumption, not data. With ``sweden``, ``places.data`` may replace them
(and the target-group sizes) by a user's own municipal indicators, after the draws
(:mod:`sim.world.place_data`, ``docs/place-data.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.params import OrganisationParams, Scenario
from sim.world.place_data import PlaceValues, apply_place_data
from sim.world.regions import catchments

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
MUNICIPALITIES_CSV = DATA_DIR / "swedish_municipalities.csv"
KM_PER_DEG_LAT = 111.2


@dataclass
class Places:
    """All places as arrays (index = place id)."""

    name: np.ndarray  # str, names
    code: np.ndarray  # str, SCB code or synthetic id
    county: np.ndarray  # str
    population: np.ndarray  # int64 [persons]
    target_size: np.ndarray  # int64 [members simulated]
    lat: np.ndarray  # float64 [deg] (synthetic: pseudo-latitude)
    lon: np.ndarray  # float64 [deg]
    x_km: np.ndarray  # float64 [km], planar projection for distances
    y_km: np.ndarray  # float64 [km]
    need: np.ndarray  # (n, K) float64 in [0, 1]: local need profile u
    severity: np.ndarray  # float64 in [0, 1]
    openness: np.ndarray  # float64 in [0, 1] (changes during a run)
    openness_initial: np.ndarray = field(default_factory=lambda: np.zeros(0))
    catchment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """int64 per place: its catchment (labour-market region, :mod:`sim.world.regions`), 0..m-1."""
    target_scale: float = 1.0
    """Simulated members per target-group person (``places.target_scale``) [-]."""

    @property
    def n(self) -> int:
        """Number of places."""
        return len(self.name)

    def frame(self) -> pd.DataFrame:
        """The static description of places as a table."""
        return pd.DataFrame(
            {
                "place": np.arange(self.n),
                "name": self.name,
                "code": self.code,
                "county": self.county,
                "population": self.population,
                "target_size": self.target_size,
                "lat": self.lat,
                "lon": self.lon,
                "severity": self.severity,
            }
        )


def load_municipalities(path: Path = MUNICIPALITIES_CSV) -> pd.DataFrame:
    """The 290 Swedish municipalities (codes read as text)."""
    return pd.read_csv(path, dtype={"code": str, "county_code": str})


def build_places(scenario: Scenario, rng: np.random.Generator) -> Places:
    """Build the places of a scenario from the ``places`` stream."""
    pp = scenario.places
    k = scenario.solution.k_core + scenario.solution.k_periphery
    if pp.source == "sweden":
        df = load_municipalities()
        name = df["name"].to_numpy(dtype=object)
        code = df["code"].to_numpy(dtype=object)
        county = df["county"].to_numpy(dtype=object)
        population = df["population"].to_numpy(dtype=np.int64)
        lat = df["lat"].to_numpy(dtype=np.float64)
        lon = df["lon"].to_numpy(dtype=np.float64)
    else:
        n = pp.n
        mu = np.log(pp.population_mean) - 0.5 * pp.population_sigma**2
        population = np.maximum(1, np.round(rng.lognormal(mu, pp.population_sigma, n))).astype(np.int64)
        name = np.array([f"Place {i + 1}" for i in range(n)], dtype=object)
        code = np.array([f"S{i + 1:04d}" for i in range(n)], dtype=object)
        county = np.array(["Synthetic"] * n, dtype=object)
        # a 500 km square placed around 60N 15E, so maps and distances behave as in Sweden
        side = 500.0 if n > 1 else 0.0
        x = rng.uniform(0, side, n)
        y = rng.uniform(0, side, n)
        lat = 58.0 + y / KM_PER_DEG_LAT
        lon = 13.0 + x / (KM_PER_DEG_LAT * np.cos(np.radians(60.0)))
    n = len(name)
    target = np.round(population * pp.target_share * pp.target_scale).astype(np.int64)
    lat0 = float(np.mean(lat))
    y_km = (lat - lat0) * KM_PER_DEG_LAT
    x_km = (lon - float(np.mean(lon))) * KM_PER_DEG_LAT * np.cos(np.radians(lat0))
    need_draw = rng.normal(pp.need_mean, pp.need_spread, (n, k))
    need = np.clip(need_draw, 0.0, 1.0)
    severity = _beta(rng, pp.severity_mean, pp.severity_concentration, n)
    openness = _beta(rng, pp.openness_mean, pp.openness_concentration, n)
    if pp.data is not None:  # after every draw: a mapped value changes only itself (common random numbers)
        values = PlaceValues(code=code, name=name, population=population, target_size=target, need=need,
                             severity=severity, openness=openness)
        apply_place_data(values, pp.data, pp.code_column, pp.columns, pp.missing, need_draw - pp.need_mean,
                         pp.target_scale)
    return Places(
        name=name, code=code, county=county, population=population, target_size=target,
        lat=lat, lon=lon, x_km=x_km, y_km=y_km, need=need, severity=severity,
        openness=openness, openness_initial=openness.copy(), catchment=catchments(code),
        target_scale=float(pp.target_scale),
    )


def _beta(rng: np.random.Generator, mean: float, conc: float, n: int) -> np.ndarray:
    """Beta draws with a given mean and concentration; degenerate means give constants."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(n, float(mean))
    return rng.beta(mean * conc, (1.0 - mean) * conc, n)


def organisation_counts(organisations: OrganisationParams, population: np.ndarray) -> np.ndarray:
    """Organisations in each place: ``base_per_place + floor(per_10k_population * population / 10_000)``.

    Args:
        organisations: the scenario's ``organisations`` section.
        population: persons per place (int or float array).

    Returns:
        int64 array, one count per place (>= ``base_per_place``).
    """
    pop = np.asarray(population, dtype=np.float64)
    return organisations.base_per_place + np.floor(organisations.per_10k_population * pop / 10_000).astype(np.int64)
