# ruff: noqa: N802 - Solara components are named in CamelCase, like React components
""""About the model": the six elements and every lever, in Swedish and English.

Nothing here repeats the model's numbers by hand: a lever's unit and range come from the
scenario schema (:class:`sim.params.LeverParams`, its ``description`` and bounds), its
expected effect from the lever registry :data:`sim.explore.levers.LEVERS` (the same one
``sim levers`` checks and docs/levers.md reports), its name and one-line help from
:mod:`sim.ui.i18n`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import solara

from sim.explore.levers import LEVERS as LEVER_REGISTRY
from sim.params import LeverParams
from sim.scenario import ELEMENTS
from sim.ui import logic
from sim.ui.i18n import Lang, element_name, fmt_number, lever_text, tr

ELEMENT_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    # element: {lang: (what happens, as Mötesplats Social Innovation describes it; what it does in the model)}
    "understand": {
        "sv": ("Behoven identifieras i dialog mellan berörda målgrupper och aktörer, tematiskt (ohälsa, segregation) "
               "eller geografiskt (en stadsdel, en park), med många perspektiv och sektorer.",
               "Organisationens förståelse av de lokala behoven växer, snabbare ju mer de berörda är delaktiga och ju "
               "fler sektorer dess partner kommer från. God förståelse gör att lösningen anpassas mot det verkliga "
               "behovet, inte mot en felaktig uppskattning."),
        "en": ("Needs are identified in dialogue between affected target groups and actors, framed by theme "
               "(ill-health, segregation) or place (a district, a park), with many perspectives and sectors.",
               "An organisation's understanding of local needs grows, faster the more affected people are involved "
               "and the more sectors its partners come from. Good understanding makes the solution adapt toward the "
               "true need rather than a noisy estimate."),
    },
    "envision": {
        "sv": ("Alternativa framtider tas fram och begränsande normer utmanas.",
               "Visionens tydlighet minskar hur mycket kärnan glider slumpmässigt. Normarbete gör orten mer öppen "
               "över tid (skalning på djupet), vilket sänker trösklarna för att införa och höjer deltagandet."),
        "en": ("Alternative futures are imagined and limiting norms challenged.",
               "Vision clarity reduces the random drift of the core. Norm work makes a place more open over time "
               "(scaling deep), which lowers adoption thresholds and raises participation."),
    },
    "mobilise": {
        "sv": ("Målgrupper, aktörer och resurser (kunskap, arbetskraft, pengar) kopplas ihop; de som har mandat för "
               "långsiktig förändring involveras.",
               "Brobyggare skapar kontakter mellan sektorer, organisationer går samman i allianser, en partner med "
               "mandat gör det troligare att verksamheten permanentas. Pengarna kommer som tidsbegränsade "
               "projektmedel eller ordinarie budget."),
        "en": ("Target groups, actors and resources (knowledge, labour, funding) are connected; those with a mandate "
               "for long-term change are involved.",
               "Brokers create cross-sector ties, organisations pool resources in alliances, a partner with a mandate "
               "makes institutionalisation likelier. Money comes as time-limited project grants or ordinary budget."),
    },
    "develop": {
        "sv": ("Idéer tas fram, prototyper byggs och testas tillsammans; stuprör överbryggas.",
               "Lösningens yttre delar anpassas mot de lokala behoven (anpassningstakten), kärnan glider slumpmässigt "
               "mindre med tydlig vision och med stöd för trohet mot kärnan. Försök kan höja effekten, lärdomar "
               "sprids längs kontakterna."),
        "en": ("Ideas are generated, prototyped and tested together; silos are bridged.",
               "The periphery adapts toward local need (the adaptation rate); the core drifts less with a clear "
               "vision and with fidelity support (guardrails). Experiments can raise the effect; learning spreads "
               "along ties."),
    },
    "spread": {
        "sv": ("En långsiktig form hittas (tvärsektoriell allians, ny organisation, intern enhet) i stället för ett "
               "tidsbegränsat projekt; lösningen sprids till nya platser och målgrupper och anpassas lokalt med "
               "kärnan och kvaliteten kvar.",
               "Organisationer inför lösningen genom egen drivkraft och genom att se andra göra det (Bass). När "
               "projektmedlen tar slut blir en pilot permanent eller läggs ned; sannolikheten stiger med synligt "
               "värde, mandat, lokal anpassning, allians och stöd för att permanenta. Skalning uppåt: när tillräckligt "
               "många platser nåtts gör en mandatbärare lösningen till policy."),
        "en": ("A long-term form is found (cross-sector alliance, new organisation, internal unit) instead of a "
               "time-limited project; the solution spreads to new places and target groups, adapted locally while "
               "keeping its core purpose and quality.",
               "Organisations adopt on their own initiative and by seeing others do it (Bass). When project money "
               "ends a pilot becomes permanent or is discontinued, likelier to last with visible value, a mandate, "
               "local fit, an alliance and institutionalisation support. Scaling up: once enough places are reached "
               "a mandate holder makes it policy."),
    },
    "value": {
        "sv": ("Socialt, miljömässigt och ekonomiskt värde skapas och synliggörs: följa upp, mäta, kommunicera.",
               "Deltagare som får nytta ger socialt värde; en del av det mäts och blir synligt (mätinsatsen), och "
               "synligt värde lockar nya organisationer och finansiärer. Undvikna offentliga kostnader minus "
               "verksamhetens kostnad ger det ekonomiska nettovärdet."),
        "en": ("Social, environmental and economic value is created and made visible: follow up, measure, "
               "communicate.",
               "Participants who benefit create social value; part of it is measured and made visible (measurement "
               "effort), and visible value attracts new organisations and funders. Avoided public cost minus the "
               "sites' cost gives the net economic value."),
    },
}

UNIT_NAMES: dict[str, dict[str, str]] = {
    "-": {"sv": "andel, 0 till 1", "en": "share, 0 to 1"},
    "1/month": {"sv": "per månad", "en": "per month"},
    "months": {"sv": "månader", "en": "months"},
    "": {"sv": "sannolikhet per månad", "en": "probability per month"},
}

OUTPUT_NAMES: dict[str, dict[str, str]] = {
    **logic.METRIC_LABELS,
    "value_social": {"en": "social value (persons)", "sv": "socialt värde (personer)"},
    "sites_discontinued": {"en": "pilots discontinued", "sv": "nedlagda piloter"},
    "scaled_up_month": {"en": "month of scaling up", "sv": "månad för skalning uppåt"},
}


@dataclass(frozen=True)
class LeverHelp:
    """Everything the page says about one lever: name, one line, unit, range, effects."""

    name: str
    summary: str
    unit: str
    lo: float
    hi: float
    description: str
    effects: tuple[str, ...]


def schema_unit(field: str) -> str:
    """The unit in brackets at the end of a :class:`LeverParams` field's description (``""`` if none)."""
    desc = LeverParams.model_fields[field].description or ""
    m = re.search(r"\[([^\]]*)\]\s*\.?\s*$", desc)
    return m.group(1) if m else ""


def lever_help(spec: logic.LeverSpec, lang: Lang) -> LeverHelp:
    """The help of a UI lever, from the schema and the lever registry."""
    name, summary = lever_text(spec.key, lang)
    field = spec.fields[0].split(".")[1]
    unit = schema_unit(field)
    desc = " ".join(LeverParams.model_fields[f.split(".")[1]].description or "" for f in spec.fields)
    effects = []
    for lv in LEVER_REGISTRY:
        if lv.key not in spec.fields:
            continue
        for claim in lv.claims:
            out = OUTPUT_NAMES.get(claim.output, {}).get(lang, claim.output)
            out = out[0].lower() + out[1:]
            up = claim.direction > 0
            digits = logic.lever_digits(spec)
            low, high = fmt_number(lv.low, lang, digits), fmt_number(lv.high, lang, digits)
            if lang == "sv":
                text = f"Från {low} till {high}: {out} {'ökar' if up else 'minskar'}."
            else:
                text = f"From {low} to {high}: {out} {'rises' if up else 'falls'} ({claim.rationale})."
            effects.append(text)
    return LeverHelp(name, summary, UNIT_NAMES.get(unit, {}).get(lang, unit), spec.lo, spec.hi, desc, tuple(effects))


@solara.component
def LeverHelpBox(spec: logic.LeverSpec, lang: Lang, horizon: int | None = None) -> None:
    """A lever's full help: unit, range and expected effect (opened from its "?" button)."""
    h = lever_help(spec, lang)
    digits = logic.lever_digits(spec)
    hi = min(h.hi, float(horizon)) if horizon is not None and spec.key == "project_length" else h.hi
    rng = f"{fmt_number(h.lo, lang, digits)}\u2013{fmt_number(hi, lang, digits)}"
    with solara.Column(gap="2px", classes=["sim-lever-helpbox"],
                       style={"background": "#f4f1f8", "padding": "6px 8px", "border-radius": "4px",
                              "margin": "0 0 8px 0", "font-size": "13px"}):
        solara.Text(f"{tr('unit', lang)}: {h.unit} \u00b7 {tr('range', lang)}: {rng}")
        for e in h.effects:
            solara.Text(f"{tr('expected', lang)}: {e}")
        if not h.effects:
            solara.Text(h.summary)


@solara.component
def AboutView(lang: Lang) -> None:
    """The six elements and the levers, in the chosen language."""
    with solara.Column(classes=["sim-about"], style={"max-width": "1100px", "font-size": "16px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=tr("about_title", lang))
        solara.Text(tr("about_intro", lang), style={"font-size": "16px"})
        for i, e in enumerate(ELEMENTS, start=1):
            what, model = ELEMENT_TEXTS[e][lang]
            with solara.Card(f"{i}. {element_name(e, lang)}", classes=["sim-about-element", f"sim-about-{e}"]):
                solara.Text(what, style={"font-size": "16px", "display": "block"})
                solara.Text(f"{tr('in_the_model', lang)}: {model}",
                            style={"font-size": "16px", "display": "block", "margin-top": "6px", "color": "#333"})
        solara.HTML(tag="h3", unsafe_innerHTML=tr("levers", lang))
        for spec in logic.LEVERS:
            h = lever_help(spec, lang)
            with solara.Card(h.name, classes=["sim-about-lever", f"sim-about-lever-{spec.key}"]):
                solara.Text(h.summary, style={"font-size": "16px", "display": "block"})
                LeverHelpBox(spec, lang)
