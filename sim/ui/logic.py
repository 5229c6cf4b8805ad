"""Pure functions behind the interface: settings, scenarios, chart series, geometry, comparisons.

Nothing here imports Solara, so all of it is tested without a browser.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.codes import Funding
from sim.explore.compare import paired_difference, run_replicates
from sim.explore.design import replicate_seeds
from sim.results import PLACE_STATES, place_states, places_frame
from sim.scenario import ELEMENTS, LeverParams, Scenario, dump_toml, list_presets, load_scenario
from sim.ui.i18n import Lang, element_names, fmt_number, place_label, tr

if TYPE_CHECKING:
    from sim.model import SocialInnovationModel

LIGHT = "@light"
LIGHT_OVERRIDES: dict[str, Any] = {"places.target_scale": 0.1}
"""The light Sweden variant: one simulated member per ten young people (same places and organisations)."""

ELEMENT_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#b07aa1")
STATE_COLOURS = {"not_reached": "#c8c8c8", "pilot": "#f0a030", "permanent": "#2e9e55", "discontinued": "#c0392b"}
NO_DATA = "#e6e6e6"
SPEEDS: tuple[str, ...] = ("1", "5", "10", "20", "max")
"""Speed choices in steps per second ("max": as fast as the machine allows)."""

SEED_MAX = 2**63 - 1


# --------------------------------------------------------------------------- presets and levers


def preset_keys() -> list[str]:
    """Picker entries: every preset, and a light variant of Sweden right after the small ones."""
    names = list_presets()
    order = ["teaching", "district"]
    keys = [n for n in order if n in names]
    if "sweden-youth-employment" in names:
        keys += ["sweden-youth-employment" + LIGHT, "sweden-youth-employment"]
    keys += [n for n in names if n not in keys]
    return keys


def split_preset(key: str) -> tuple[str, dict[str, Any]]:
    """``(preset name, overrides)`` of a picker key (``name`` or ``name@light``)."""
    if key.endswith(LIGHT):
        return key[: -len(LIGHT)], dict(LIGHT_OVERRIDES)
    return key, {}


@dataclass(frozen=True)
class LeverSpec:
    """One lever control: the scenario field(s) it sets and its allowed range."""

    key: str
    fields: tuple[str, ...]
    lo: float
    hi: float
    step: float


def _field_range(name: str) -> tuple[float, float]:
    info = LeverParams.model_fields[name]
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return float(lo), float(hi)


def _spec(key: str, fields: tuple[str, ...], step: float) -> LeverSpec:
    lo, hi = _field_range(fields[0].split(".")[1])
    return LeverSpec(key, fields, lo, hi, step)


LEVERS: tuple[LeverSpec, ...] = (
    _spec("involvement", ("levers.involvement",), 0.05),
    _spec("vision_clarity", ("levers.vision_clarity",), 0.05),
    _spec("brokering", ("levers.brokering",), 0.01),
    _spec("project_length", ("levers.project_length_min", "levers.project_length_max"), 1.0),
    _spec("institutionalisation_support", ("levers.institutionalisation_support",), 0.05),
    _spec("guardrails", ("levers.guardrails",), 0.05),
    _spec("adaptation_rate", ("levers.adaptation_rate",), 0.01),
    _spec("measurement_effort", ("levers.measurement_effort",), 0.05),
    _spec("scaling_up_threshold", ("levers.scaling_up_threshold",), 0.05),
)
LEVER_BY_KEY = {s.key: s for s in LEVERS}


def lever_digits(spec: LeverSpec) -> int:
    """Decimals to show for a lever's value (as many as its slider step has)."""
    text = f"{spec.step:g}"
    return len(text.split(".")[1]) if "." in text else 0


def lever_value(scenario: Scenario, spec: LeverSpec) -> float | tuple[float, float]:
    """The current value of a lever in ``scenario`` (a pair for a range lever)."""
    vals = [float(getattr(scenario.levers, f.split(".")[1])) for f in spec.fields]
    return (vals[0], vals[1]) if len(vals) == 2 else vals[0]


def lever_overrides(spec: LeverSpec, value: float | Sequence[float]) -> dict[str, float]:
    """Dotted overrides that set ``spec`` to ``value`` (clipped to its range)."""
    vals = [value] if isinstance(value, (int, float)) else list(value)
    if len(vals) != len(spec.fields):
        raise ValueError(f"{spec.key}: expected {len(spec.fields)} value(s), got {len(vals)}")
    clipped = [min(spec.hi, max(spec.lo, float(v))) for v in vals]
    if len(clipped) == 2:
        clipped = sorted(clipped)
    return {f: round(v, 6) for f, v in zip(spec.fields, clipped, strict=True)}


@dataclass(frozen=True)
class Settings:
    """What defines a live model: preset, seed and lever overrides (hashable, so it can key a memo)."""

    preset: str = "teaching"
    seed: int | None = None
    overrides: tuple[tuple[str, float], ...] = ()

    def with_lever(self, spec: LeverSpec, value: float | Sequence[float]) -> Settings:
        """A copy with one lever set."""
        d = dict(self.overrides)
        d.update(lever_overrides(spec, value))
        return Settings(self.preset, self.seed, tuple(sorted(d.items())))

    def with_seed(self, seed: int | None) -> Settings:
        """A copy with another seed."""
        return Settings(self.preset, seed, self.overrides)

    def with_preset(self, preset: str) -> Settings:
        """A copy with another preset: lever changes are dropped, the preset's own seed is used."""
        return Settings(preset, None, ())

    def scenario(self) -> Scenario:
        """The validated scenario (may raise :class:`sim.scenario.ScenarioError`)."""
        name, extra = split_preset(self.preset)
        return load_scenario(name, {**extra, **dict(self.overrides)})

    def changed_levers(self) -> dict[str, float]:
        """Lever overrides that differ from the preset's own values."""
        base = Settings(self.preset).scenario()
        out = {}
        for k, v in self.overrides:
            if float(getattr(base.levers, k.split(".")[1])) != float(v):
                out[k] = v
        return out


def scenario_toml(settings: Settings) -> str:
    """The full resolved scenario of ``settings`` as TOML (``sim run`` reads it), seed included."""
    sc = settings.scenario()
    data = sc.to_toml_dict()
    if settings.seed is not None:
        data["run"]["seed"] = settings.seed
    return dump_toml(data)


INTERVENTION_KINDS_SV: dict[str, str] = {
    "offer": "erbjudande", "grants": "projektmedel", "training": "utbildning", "measurement": "mätning",
    "seed": "startstöd", "funding_cut": "indragna medel", "set": "ändring",
}
"""Swedish names of the intervention kinds (for the model's own labels ``kind: places``)."""


def marker_spec(markers: Sequence[Any], lang: Lang, prefix: str = "") -> list[dict[str, Any]]:
    """Chart marks of interventions (:func:`sim.interventions.markers`): x, end, label and hover title.

    ``prefix`` (e.g. a variant's name) is put before each label.
    """
    out = []
    for m in markers:
        when = m.date or f"{tr('month', lang)} {fmt_number(m.month, lang, 0)}"
        text = str(m.label)
        if lang == "sv" and text.startswith(f"{m.kind}:"):  # the model's own English label: kind and places
            text = INTERVENTION_KINDS_SV.get(m.kind, m.kind) + text[len(m.kind):].replace("all places", "alla platser")
        label = f"{prefix}{text}"
        out.append({
            "x": float(m.month), "x2": None if m.end_month is None else float(m.end_month),
            "label": label, "title": f"{label} ({when})", "kind": m.kind,
        })
    return out


def scenario_markers(scenario: Scenario) -> list[Any]:
    """The intervention markers of ``scenario`` (empty when it has none, or before interventions exist)."""
    try:
        from sim.interventions import markers
    except ImportError:  # pragma: no cover - the module lands on main with issue 11
        return []
    return list(markers(scenario))


def parse_whole_number(text: str, lo: int = 0, hi: int = SEED_MAX) -> int:
    """Parse a typed whole number in ``[lo, hi]``; raise :class:`ValueError` otherwise."""
    raw = str(text).strip().replace(" ", "").replace("_", "")
    if not raw or not (raw.isdigit() or (raw[0] in "+-" and raw[1:].isdigit())):
        raise ValueError(text)
    value = int(raw)
    if not lo <= value <= hi:
        raise ValueError(text)
    return value


def seed_error(text: str, lang: Lang) -> str | None:
    """A message if ``text`` is not a valid seed, else None."""
    try:
        parse_whole_number(text)
    except ValueError:
        return tr("bad_number", lang, field=tr("seed", lang), value=str(text), lo=0, hi=SEED_MAX)
    return None


def new_random_seed(rng: np.random.Generator | None = None) -> int:
    """A fresh seed for the "new seed" button (small enough to read out in a workshop)."""
    rng = rng or np.random.default_rng()
    return int(rng.integers(1, 100_000))


# --------------------------------------------------------------------------- chart series


def _clean(values: Sequence[float], scale: float = 1.0, digits: int = 4) -> list[float | None]:
    """JSON-safe list: NaN becomes None (a gap), numbers rounded for a small message."""
    out: list[float | None] = []
    for v in values:
        fv = float(v)
        out.append(None if math.isnan(fv) or math.isinf(fv) else round(fv * scale, digits))
    return out


def months(rows: Sequence[dict[str, float]]) -> list[float]:
    """The month of each collected row."""
    return [round(float(r["month"]), 4) for r in rows]


def elements_series(rows: Sequence[dict[str, float]], lang: Lang) -> list[dict[str, Any]]:
    """Six stacked series: running organisations in each element over time."""
    names = element_names(lang)
    return [
        {"name": names[i], "color": ELEMENT_COLOURS[i], "values": [int(r[f"orgs_in_{e}"]) for r in rows]}
        for i, e in enumerate(ELEMENTS)
    ]


def adoption_series(
    rows: Sequence[dict[str, float]], n_orgs: int, n_places: int, n_people: int, lang: Lang
) -> list[dict[str, Any]]:
    """Adoption curves as percentages: organisations, places, people aware and benefited."""
    def pct(col: str, total: int) -> list[float | None]:
        return _clean([r[col] for r in rows], 100.0 / max(total, 1), 3)

    return [
        {"name": tr("orgs_adopted", lang), "color": "#4e79a7", "values": pct("orgs_adopted", n_orgs)},
        {"name": tr("places_reached", lang), "color": "#f28e2b", "values": pct("places_reached", n_places)},
        {"name": tr("people_aware", lang), "color": "#9c9c9c", "values": pct("people_aware", n_people)},
        {"name": tr("people_benefiting", lang), "color": "#2e9e55", "values": pct("people_benefiting", n_people)},
    ]


def social_value_series(rows: Sequence[dict[str, float]], lang: Lang) -> list[dict[str, Any]]:
    """Social value realised and visible (persons)."""
    return [
        {"name": tr("realised", lang), "color": "#2e9e55", "values": _clean([r["value_social"] for r in rows], 1, 1)},
        {"name": tr("visible", lang), "color": "#4e79a7", "values": _clean([r["visible_value"] for r in rows], 1, 1)},
    ]


def economic_value_series(rows: Sequence[dict[str, float]], lang: Lang) -> list[dict[str, Any]]:
    """Economic account in million SEK: avoided cost, cost and net."""
    m = 1e-6
    return [
        {"name": tr(key, lang), "color": colour, "values": _clean([r[col] for r in rows], m, 3)}
        for key, colour, col in (
            ("avoided_cost", "#2e9e55", "value_economic"),
            ("cost", "#c0392b", "cost"),
            ("net", "#333333", "net_economic"),
        )
    ]


def fidelity_fit_series(rows: Sequence[dict[str, float]], lang: Lang) -> list[dict[str, Any]]:
    """The path of mean (fit, fidelity) over time, as x/y pairs."""
    pts = [
        [round(float(r["mean_fit"]), 4), round(float(r["mean_fidelity"]), 4)]
        for r in rows
        if not (math.isnan(float(r["mean_fit"])) or math.isnan(float(r["mean_fidelity"])))
    ]
    return [{"name": tr("fidfit_mean", lang), "color": "#333333", "xy": pts}]


def fidelity_fit_points(model: SocialInnovationModel, lang: Lang, limit: int = 1500) -> list[dict[str, Any]]:
    """Running sites as points (x = local fit, y = core fidelity), coloured pilot/permanent."""
    return site_points(running_sites(model, limit), list(model.places.name), lang)


def running_sites(model: SocialInnovationModel, limit: int = 1500) -> np.ndarray:
    """Running sites of ``model`` as ``(fit, fidelity, funding, place)`` rows, evenly thinned to ``limit``."""
    o = model.orgs
    idx = np.flatnonzero(o.running)
    if len(idx) > limit:
        idx = idx[np.linspace(0, len(idx) - 1, limit).astype(np.int64)]
    if not len(idx):
        return np.zeros((0, 4))
    return np.column_stack(
        [o.fit[idx].astype(float), o.fidelity[idx].astype(float), o.funding[idx].astype(float),
         o.place[idx].astype(float)]
    )


def site_points(sites: np.ndarray, place_names: Sequence[str], lang: Lang) -> list[dict[str, Any]]:
    """Scatter points of running sites given as rows ``(fit, fidelity, funding code, place index)``."""
    colours = {int(Funding.PROJECT): STATE_COLOURS["pilot"], int(Funding.ORDINARY): STATE_COLOURS["permanent"]}
    pilot, perm = tr("pilot", lang), tr("permanent", lang)
    out = []
    for fit, fid, funding, place in np.asarray(sites, dtype=np.float64).reshape(-1, 4):
        f = int(funding)
        out.append(
            {
                "x": round(float(fit), 4),
                "y": round(float(fid), 4),
                "color": colours.get(f, "#888888"),
                "label": f"{place_label(place_names[int(place)], lang)}: {perm if f == int(Funding.ORDINARY) else pilot}",
            }
        )
    return out


# --------------------------------------------------------------------------- map


def map_layout(model: SocialInnovationModel) -> list[dict[str, Any]]:
    """Static place positions (km, north up) and radii (area by population)."""
    pl = model.places
    pop = pl.population.astype(np.float64)
    r = 3.0 + 13.0 * np.sqrt(pop / max(pop.max(), 1.0))
    return [
        {"x": round(float(pl.x_km[i]), 2), "y": round(float(pl.y_km[i]), 2), "r": round(float(r[i]), 2)}
        for i in range(pl.n)
    ]


def _ramp(v: float) -> str:
    """A colour-blind-safe sequential ramp (viridis end points) for 0..1."""
    stops = [
        (0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)), (1.0, (253, 231, 37))
    ]
    v = min(1.0, max(0.0, v))
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if v <= b:
            t = (v - a) / (b - a)
            c = [round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*c)
    return "#fde725"


def map_legend(by: str, lang: Lang) -> list[dict[str, str]]:
    """Legend entries for a colouring (``state``, ``fidelity`` or ``fit``)."""
    if by == "state":
        return [{"label": tr(s, lang), "color": STATE_COLOURS[s]} for s in PLACE_STATES]
    return [{"label": f"{v:.2f}", "color": _ramp(v)} for v in (0.0, 0.25, 0.5, 0.75, 1.0)] + [
        {"label": tr("no_sites", lang), "color": NO_DATA}
    ]


def _fmt_int(v: float, lang: Lang) -> str:
    return fmt_number(v, lang, 0)


def map_state(model: SocialInnovationModel, by: str, lang: Lang) -> tuple[list[str], list[str]]:
    """``(colours, hover texts)`` of every place of ``model`` now (see :func:`map_colours`)."""
    return map_colours(places_frame(model.state), place_states(model.state), by, lang)


def map_colours(frame: pd.DataFrame, states: np.ndarray, by: str, lang: Lang) -> tuple[list[str], list[str]]:
    """``(colours, hover texts)`` of every place from its :func:`sim.results.places_frame` and state codes."""
    f = frame
    if by == "state":
        colours = [STATE_COLOURS[PLACE_STATES[int(s)]] for s in states]
    else:
        col = "mean_fidelity" if by == "fidelity" else "mean_fit"
        colours = [NO_DATA if math.isnan(v) else _ramp(float(v)) for v in f[col].to_numpy()]
    texts = []
    # plain lists, not itertuples: this runs on every redraw while playing, and itertuples builds a
    # namedtuple class per call (a third of a redraw's time)
    columns = ("name", "population", "state", "sites_running", "mean_fidelity", "mean_fit",
               "people_participating", "people_benefiting")
    for name, population, state, sites, fidelity, fit_v, participating, benefiting in zip(
        *(f[c].tolist() for c in columns), strict=True
    ):
        fid = "-" if math.isnan(fidelity) else fmt_number(fidelity, lang, 2)
        fit = "-" if math.isnan(fit_v) else fmt_number(fit_v, lang, 2)
        texts.append(
            f"{place_label(name, lang)}\n{tr('population', lang)}: {_fmt_int(population, lang)}\n"
            f"{tr(state, lang)}; {tr('sites', lang)}: {sites}\n"
            f"{tr('fidelity', lang)}: {fid}; {tr('fit', lang)}: {fit}\n"
            f"{tr('participating', lang)}: {_fmt_int(participating, lang)}; "
            f"{tr('benefited', lang)}: {_fmt_int(benefiting, lang)}"
        )
    return colours, texts


# --------------------------------------------------------------------------- flow view


def flow_geometry(
    flows_total: np.ndarray, counts: Sequence[int], lang: Lang, size: float = 420.0
) -> dict[str, Any]:
    """Six element nodes on a circle and one curved arrow per direction, width by number of moves.

    Returns ``{"nodes": [...], "arrows": [...], "back_share": float}``; an arrow goes
    "back" when it leads to an earlier element (e.g. develop -> understand).
    """
    names = element_names(lang)
    cx = cy = size / 2
    rad = size * 0.36
    angles = [-math.pi / 2 + 2 * math.pi * k / 6 for k in range(6)]
    pos = [(cx + rad * math.cos(a), cy + rad * math.sin(a)) for a in angles]
    counts = [int(c) for c in counts]
    cmax = max(max(counts), 1)
    nodes = [
        {
            "label": names[k], "count": counts[k], "x": round(pos[k][0], 1), "y": round(pos[k][1], 1),
            "r": round(16 + 18 * math.sqrt(counts[k] / cmax), 1), "color": ELEMENT_COLOURS[k],
        }
        for k in range(6)
    ]
    flows = np.asarray(flows_total, dtype=np.float64)
    total = float(flows.sum() - np.trace(flows))
    fmax = max(float((flows - np.diag(np.diag(flows))).max()), 1.0)
    back = 0.0
    arrows = []
    for i in range(6):
        for j in range(6):
            n = float(flows[i, j])
            if i == j or n <= 0:
                continue
            if j < i:
                back += n
            (x1, y1), (x2, y2) = pos[i], pos[j]
            dx, dy = x2 - x1, y2 - y1
            length = math.hypot(dx, dy)
            ux, uy = dx / length, dy / length
            r1, r2 = nodes[i]["r"] + 2, nodes[j]["r"] + 8
            sx, sy = x1 + ux * r1, y1 + uy * r1
            ex, ey = x2 - ux * r2, y2 - uy * r2
            # bend to the right of the direction of travel: the two directions never overlap
            bend = 0.18 * length
            mx, my = (sx + ex) / 2 - uy * bend, (sy + ey) / 2 + ux * bend
            arrows.append(
                {
                    "d": f"M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}",
                    "w": round(1.0 + 9.0 * n / fmax, 2),
                    "n": int(n),
                    "back": j < i,
                    "lx": round((sx + ex) / 4 + mx / 2, 1),
                    "ly": round((sy + ey) / 4 + my / 2, 1),
                    "title": f"{names[i]} \u2192 {names[j]}: {int(n)}",
                }
            )
    return {"nodes": nodes, "arrows": arrows, "back_share": back / total if total else 0.0, "size": size}


# --------------------------------------------------------------------------- comparison

COMPARE_METRICS: tuple[str, ...] = (
    "people_benefiting", "places_reached", "sites_running", "sites_permanent", "orgs_adopted",
    "mean_fidelity", "mean_fit", "value_economic", "net_economic", "visible_value",
)
METRIC_LABELS: dict[str, dict[str, str]] = {
    "people_benefiting": {"en": "People benefited", "sv": "Personer som fått nytta"},
    "places_reached": {"en": "Places reached", "sv": "Nådda platser"},
    "sites_running": {"en": "Running sites", "sv": "Verksamheter i gång"},
    "sites_permanent": {"en": "Permanent sites", "sv": "Permanenta verksamheter"},
    "orgs_adopted": {"en": "Organisations adopted", "sv": "Organisationer som infört lösningen"},
    "mean_fidelity": {"en": "Mean core fidelity", "sv": "Genomsnittlig programtrohet"},
    "mean_fit": {"en": "Mean local fit", "sv": "Genomsnittlig lokal anpassning"},
    "value_economic": {"en": "Avoided public cost (SEK)", "sv": "Undvikna offentliga kostnader (kr)"},
    "net_economic": {"en": "Net economic value (SEK)", "sv": "Ekonomiskt nettovärde (kr)"},
    "visible_value": {"en": "Visible social value (persons)", "sv": "Synligt socialt värde (personer)"},
}


def metric_label(metric: str, lang: Lang) -> str:
    """The label of a comparison figure."""
    return METRIC_LABELS.get(metric, {}).get(lang, metric)


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: a name, a preset and lever overrides."""

    name: str
    preset: str
    overrides: tuple[tuple[str, float], ...] = ()

    def scenario(self) -> Scenario:
        """The validated scenario of this variant."""
        s = Settings(self.preset, None, self.overrides).scenario()
        return s.model_copy(update={"name": self.name})

    def with_lever(self, spec: LeverSpec, value: float | Sequence[float]) -> Variant:
        """A copy with one lever set."""
        d = dict(self.overrides)
        d.update(lever_overrides(spec, value))
        return Variant(self.name, self.preset, tuple(sorted(d.items())))


def compare_seeds(base_seed: int, replicates: int) -> list[int]:
    """The common random numbers: replicate r of every variant runs with the r-th seed spawned from ``base_seed``.

    The same rule as ``sim compare --root-seed`` (:func:`sim.explore.design.replicate_seeds`).
    """
    return replicate_seeds(base_seed, replicates)


def run_comparison(
    variants: Sequence[Variant],
    replicates: int,
    steps: int,
    base_seed: int,
    on_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Run every variant ``replicates`` times with the same seeds; one row per variant, replicate and step.

    The runs go through :func:`sim.explore.compare.run_replicates` (the seed rule of ``sim compare``).
    """
    return run_replicates(
        [(v.name, v.scenario()) for v in variants], replicates, steps, base_seed, on_progress, cancelled
    )


def compare_bands(df: pd.DataFrame, metric: str, lo: float = 0.1, hi: float = 0.9) -> pd.DataFrame:
    """Per variant and month: mean, ``lo`` and ``hi`` quantiles of ``metric`` over replicates."""
    g = df.groupby(["variant", "month"], sort=False)[metric]
    out = g.agg(mean="mean", lo=lambda s: s.quantile(lo), hi=lambda s: s.quantile(hi)).reset_index()
    return out


def compare_differences(
    df: pd.DataFrame, metric: str, baseline: str, lo: float = 0.1, hi: float = 0.9
) -> pd.DataFrame:
    """Paired differences from ``baseline`` (same seed, same month), with mean and quantile band."""
    wide = df.pivot_table(index=["seed", "month"], columns="variant", values=metric, aggfunc="first", sort=False)
    rows = []
    for name in df["variant"].unique():
        if name == baseline:
            continue
        d = (wide[name] - wide[baseline]).rename("diff").reset_index()
        g = d.groupby("month")["diff"]
        agg = g.agg(mean="mean", lo=lambda s: s.quantile(lo), hi=lambda s: s.quantile(hi)).reset_index()
        agg.insert(0, "variant", name)
        rows.append(agg)
    if not rows:
        return pd.DataFrame(columns=["variant", "month", "mean", "lo", "hi"])
    return pd.concat(rows, ignore_index=True)


def band_series(bands: pd.DataFrame, colours: dict[str, str]) -> tuple[list[float], list[dict[str, Any]]]:
    """Chart input (x, series with lo/hi bands) from :func:`compare_bands` or :func:`compare_differences`."""
    x = sorted(float(m) for m in bands["month"].unique())
    series = []
    for name, g in bands.groupby("variant", sort=False):
        g = g.set_index("month").reindex(x)
        series.append(
            {
                "name": str(name), "color": colours.get(str(name), "#333333"),
                "values": _clean(g["mean"].to_numpy(), 1, 4),
                "lo": _clean(g["lo"].to_numpy(), 1, 4), "hi": _clean(g["hi"].to_numpy(), 1, 4),
            }
        )
    return [round(v, 4) for v in x], series


def final_summary(df: pd.DataFrame, baseline: str, metrics: Sequence[str] = COMPARE_METRICS) -> pd.DataFrame:
    """At the last step: mean per variant and paired difference from ``baseline`` for each figure.

    ``diff_lo``/``diff_hi``: 10th and 90th percentile of the per-seed differences (their
    spread); ``ci_lo``/``ci_hi``: 95 % paired t-interval of the mean difference (as in
    ``sim compare``), which narrows with more replicates.
    """
    last = df[df["step"] == df["step"].max()]
    rows = []
    for metric in metrics:
        means = last.groupby("variant", sort=False)[metric].mean()
        base = last[last["variant"] == baseline].set_index("seed")[metric]
        for name, mean in means.items():
            other = last[last["variant"] == name].set_index("seed")[metric].reindex(base.index)
            d = (other - base).dropna()
            pair = paired_difference(base.to_numpy(float), other.to_numpy(float))
            rows.append(
                {
                    "figure": metric, "variant": name, "mean": float(mean),
                    "diff_mean": pair["diff"],
                    "diff_lo": float(d.quantile(0.1)) if len(d) else float("nan"),
                    "diff_hi": float(d.quantile(0.9)) if len(d) else float("nan"),
                    "ci_lo": pair["ci_low"], "ci_hi": pair["ci_high"],
                }
            )
    return pd.DataFrame(rows)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as CSV."""
    return df.to_csv(index=False).encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """The table as Parquet."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def safe_filename(name: str) -> str:
    """A file name made of letters, digits, ``-`` and ``_`` only."""
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower())
    return keep.strip("-") or "variant"


def scenarios_zip(variants: Sequence[Variant], replicates: int, steps: int, base_seed: int) -> bytes:
    """The comparison as scenario files: one TOML per variant (``sim run`` reads each) and a README.

    Each file holds the full resolved scenario (preset, light option and levers applied),
    with ``run.steps`` and ``run.seed`` set to the comparison's steps and first replicate's seed.
    """
    buf = io.BytesIO()
    seeds = compare_seeds(base_seed, replicates)
    used: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        files = []
        for v in variants:
            data = v.scenario().to_toml_dict()
            data["description"] = (
                f"Variant '{v.name}' of a comparison saved from sim ui: preset {v.preset}; levers "
                + (", ".join(f"{k}={val:g}" for k, val in v.overrides) or "as in the preset")
                + f"; replicates with the seeds spawned from root seed {base_seed} (sim compare --root-seed {base_seed})."
            )
            data["run"]["steps"] = steps
            data["run"]["seed"] = seeds[0]
            fname = safe_filename(v.name)
            while fname in used:
                fname += "-2"
            used.add(fname)
            z.writestr(f"{fname}.toml", dump_toml(data))
            files.append(f"{fname}.toml")
        readme = {
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
            "variants": files,
            "replicates": replicates,
            "root_seed": base_seed,
            "seeds": seeds,
            "steps": steps,
            "rerun": [f"sim run {f} --seed {s} --steps {steps}" for f in files for s in seeds[:1]]
            + [f"sim compare {' '.join(files)} --replicates {replicates} --root-seed {base_seed} --steps {steps}"],
        }
        z.writestr("comparison.json", json.dumps(readme, indent=2))
    return buf.getvalue()


def variant_colours(names: Sequence[str]) -> dict[str, str]:
    """A stable colour per variant name."""
    palette = ("#333333", "#e15759", "#4e79a7", "#59a14f", "#b07aa1", "#f28e2b")
    return {n: palette[i % len(palette)] for i, n in enumerate(names)}
