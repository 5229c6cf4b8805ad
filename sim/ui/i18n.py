"""Swedish and English texts of the interface.

Every visible string goes through :func:`tr`; element names come from
:mod:`sim.elements` so the Swedish view uses Mötesplats Social Innovation's own names.
"""

from __future__ import annotations

import math
from typing import Literal

from sim.elements import ELEMENT_NAMES_EN, ELEMENT_NAMES_SV
from sim.scenario import ELEMENTS

Lang = Literal["en", "sv"]
LANGS: tuple[Lang, ...] = ("sv", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app_title": {"en": "Social innovation: spread and scale", "sv": "Social innovation: spridning och skalning"},
    "tab_live": {"en": "Run live", "sv": "Kör live"},
    "tab_compare": {"en": "Compare", "sv": "Jämför"},
    "tab_about": {"en": "About the model", "sv": "Om modellen"},
    "presentation": {"en": "Presentation", "sv": "Presentation"},
    "language": {"en": "Language", "sv": "Språk"},
    "scenario": {"en": "Scenario", "sv": "Scenario"},
    "seed": {"en": "Seed", "sv": "Slumpfrö"},
    "seed_hint": {
        "en": "Whole number; same seed, same run. Press Enter.", "sv": "Heltal; samma frö, samma körning. Tryck Enter."
    },
    "new_seed": {"en": "New seed", "sv": "Nytt frö"},
    "upload_scenario": {
        "en": "Open a scenario file",
        "sv": "Öppna en scenariofil",
    },
    "download_scenario": {"en": "Download this scenario (.toml)", "sv": "Ladda ner scenariot (.toml)"},
    "controls": {"en": "Run", "sv": "Körning"},
    "step": {"en": "Step", "sv": "Steg"},
    "play": {"en": "Play", "sv": "Spela"},
    "pause": {"en": "Pause", "sv": "Paus"},
    "reset": {"en": "Reset", "sv": "Börja om"},
    "speed": {"en": "Speed (steps per second)", "sv": "Hastighet (steg per sekund)"},
    "levers": {"en": "Levers", "sv": "Påverkansfaktorer"},
    "back_to_preset": {"en": "Back to the preset", "sv": "Tillbaka till förinställningen"},
    "lever_help": {"en": "What does this do?", "sv": "Vad gör den här?"},
    "unit": {"en": "Unit", "sv": "Enhet"},
    "range": {"en": "range", "sv": "intervall"},
    "expected": {"en": "Expected", "sv": "Förväntat"},
    "in_the_model": {"en": "In the model", "sv": "I modellen"},
    "about_title": {"en": "About the model", "sv": "Om modellen"},
    "about_intro": {
        "en": "The model follows Mötesplats Social Innovation's six elements of a social innovation process. They are "
        "not steps in a line: organisations move back and forth between them. Below, each element as Mötesplats "
        "describes it and what it does in the model, then every lever with its unit, range and expected effect.",
        "sv": "Modellen följer Mötesplats Social Innovations sex element i en social innovationsprocess. De är inga "
        "steg på rad: organisationerna rör sig fram och tillbaka mellan dem. Här beskrivs varje element som Mötesplats "
        "beskriver det och vad det gör i modellen, och sedan varje påverkansfaktor med enhet, intervall och förväntad "
        "effekt.",
    },
    "status_step": {"en": "Step", "sv": "Steg"},
    "status_month": {"en": "month", "sv": "månad"},
    "status_of": {"en": "of", "sv": "av"},
    "measured_speed": {"en": "steps/s", "sv": "steg/s"},
    "changed": {"en": "Changed from the preset", "sv": "Ändrat från förinställningen"},
    "unchanged": {"en": "Preset values", "sv": "Förinställda värden"},
    "building": {"en": "Building the model...", "sv": "Bygger modellen..."},
    "elements_title": {"en": "Organisations in each element", "sv": "Organisationer i varje element"},
    "flows_title": {"en": "Moves between elements (so far)", "sv": "Förflyttningar mellan elementen (hittills)"},
    "flows_note": {
        "en": "Arrow width: moves so far. {back}% of the moves go back to an earlier element.",
        "sv": "Pilens bredd: förflyttningar hittills. {back} % av förflyttningarna går tillbaka till ett "
        "tidigare element.",
    },
    "map_title": {"en": "Places", "sv": "Platser"},
    "colour_by": {"en": "Colour by", "sv": "Färg efter"},
    "by_state": {"en": "what happens", "sv": "vad som händer"},
    "by_fidelity": {"en": "fidelity", "sv": "programtrohet"},
    "by_fit": {"en": "fit", "sv": "lokal anpassning"},
    "not_reached": {"en": "not reached", "sv": "ej nådd"},
    "pilot": {"en": "pilot", "sv": "pilot"},
    "permanent": {"en": "permanent", "sv": "permanent"},
    "discontinued": {"en": "discontinued", "sv": "avslutad"},
    "no_sites": {"en": "no running site", "sv": "ingen verksamhet"},
    "population": {"en": "population", "sv": "invånare"},
    "sites": {"en": "running sites", "sv": "verksamheter"},
    "fidelity": {"en": "fidelity", "sv": "programtrohet"},
    "fit": {"en": "fit", "sv": "lokal anpassning"},
    "participating": {"en": "participating", "sv": "deltar"},
    "benefited": {"en": "benefited", "sv": "har fått nytta"},
    "map_note_sweden": {
        "en": "Municipalities at their coordinates. Hover a place for its figures.",
        "sv": "Kommunerna på sina koordinater. Håll muspekaren över en plats för dess siffror.",
    },
    "map_note_synthetic": {
        "en": "Synthetic places in their generated layout. Hover a place for its figures.",
        "sv": "Syntetiska platser i sin genererade placering. Håll muspekaren över en plats för dess siffror.",
    },
    "adoption_title": {"en": "Adoption (share of all)", "sv": "Spridning (andel av alla)"},
    "case_title": {"en": "The case: documented figures and this run",
                   "sv": "Fallet: dokumenterade uppgifter och den här körningen"},
    "case_date": {"en": "date", "sv": "datum"},
    "case_checked": {"en": "checked, not fitted", "sv": "kontrolleras, ej anpassad"},
    "case_out_orgs_adopted": {"en": "sites ever opened", "sv": "verksamheter som startats"},
    "case_out_sites_running": {"en": "sites running", "sv": "verksamheter i drift"},
    "case_out_sites_discontinued": {"en": "pilots ended without a permanent form", "sv": "piloter som lagts ned"},
    "case_out_places_reached": {"en": "municipalities reached", "sv": "kommuner som nåtts"},
    "case_out_places_served": {"en": "municipalities served", "sv": "kommuner som täcks"},
    "case_out_regions_reached": {"en": "regions reached", "sv": "regioner som nåtts"},
    "case_out_regional_bodies_adopted": {"en": "county councils", "sv": "regioner (landsting)"},
    "case_out_places_preparing": {"en": "municipalities planning", "sv": "kommuner som planerar"},
    "case_out_share_meeting_criteria": {"en": "share of sites meeting all criteria",
                                        "sv": "andel verksamheter som uppfyller alla kriterier"},
    "case_out_share_benefiting": {"en": "share of participants who benefited", "sv": "andel deltagare som fått nytta"},
    "case_out_persons_reached": {"en": "people reached", "sv": "personer som nåtts"},
    "case_out_agreements_declined": {"en": "offers declined", "sv": "erbjudanden som avböjts"},
    "case_what": {"en": "figure", "sv": "uppgift"},
    "case_documented": {"en": "documented", "sv": "dokumenterat"},
    "case_run": {"en": "this run", "sv": "den här körningen"},
    "case_band": {"en": "90 % band", "sv": "90 %-intervall"},
    "case_note": {
        "en": "90 % band: the preset's calibration to these figures (sim forecast; docs/cases.md). "
              "The run fills in each figure when it reaches its date.",
        "sv": "90 %-intervall: förinställningens kalibrering mot uppgifterna (sim forecast; docs/cases.md). "
              "Körningen fyller i varje uppgift när den når dess datum.",
    },
    "orgs_adopted": {"en": "organisations adopted", "sv": "organisationer som infört lösningen"},
    "places_reached": {"en": "places reached", "sv": "nådda platser"},
    "people_aware": {"en": "people aware", "sv": "personer som känner till"},
    "people_benefiting": {"en": "people benefited", "sv": "personer som fått nytta"},
    "adoption_totals": {
        "en": "of {orgs} organisations, {places} places, {people} people",
        "sv": "av {orgs} organisationer, {places} platser, {people} personer",
    },
    "fidfit_title": {"en": "Core fidelity against local fit", "sv": "Programtrohet och lokal anpassning"},
    "fidfit_sites": {"en": "running sites", "sv": "verksamheter"},
    "fidfit_mean": {"en": "mean over time", "sv": "medel över tid"},
    "value_social_title": {
        "en": "Social value: realised and visible (persons)", "sv": "Socialt värde: skapat och synligt (personer)"
    },
    "value_econ_title": {"en": "Economic value (million SEK)", "sv": "Ekonomiskt värde (miljoner kr)"},
    "realised": {"en": "realised", "sv": "skapat"},
    "visible": {"en": "visible (measured)", "sv": "synligt (mätt)"},
    "avoided_cost": {"en": "avoided public cost", "sv": "undvikna offentliga kostnader"},
    "cost": {"en": "cost", "sv": "kostnad"},
    "net": {"en": "net", "sv": "netto"},
    "environmental": {"en": "Environmental value", "sv": "Miljövärde"},
    "visibility": {"en": "visibility signal", "sv": "synlighetssignal"},
    "month": {"en": "month", "sv": "månad"},
    "share_pct": {"en": "%", "sv": "%"},
    "error": {"en": "Error", "sv": "Fel"},
    "worker_gone": {
        "en": "The model's worker stopped. Reload the page.", "sv": "Modellens arbetsprocess stannade. Ladda om sidan."
    },
    "permanent_sites": {"en": "permanent sites", "sv": "permanenta verksamheter"},
    "net_msek": {"en": "net value, million SEK", "sv": "nettovärde, miljoner kr"},
    # compare
    "compare_intro": {
        "en": "Run variants side by side with common random numbers: replicate r of every variant uses the same seed, "
        "so differences come from the levers, not from chance.",
        "sv": "Kör varianter sida vid sida med gemensamma slumptal: replikat r av varje variant använder samma frö, "
        "så skillnaderna kommer från påverkansfaktorerna, inte från slumpen.",
    },
    "variant": {"en": "Variant", "sv": "Variant"},
    "variant_name": {"en": "Name", "sv": "Namn"},
    "add_variant": {"en": "Add variant", "sv": "Lägg till variant"},
    "remove_variant": {"en": "Remove", "sv": "Ta bort"},
    "copy_live": {"en": "Copy levers from the live view", "sv": "Kopiera påverkansfaktorerna från liveläget"},
    "replicates": {"en": "Replicates", "sv": "Replikat"},
    "steps": {"en": "Steps", "sv": "Steg"},
    "base_seed": {"en": "Root seed", "sv": "Grundfrö"},
    "run_compare": {"en": "Run comparison", "sv": "Kör jämförelsen"},
    "cancel_compare": {"en": "Cancel", "sv": "Avbryt"},
    "compare_cancelled": {"en": "The comparison was cancelled.", "sv": "Jämförelsen avbröts."},
    "running": {"en": "Running", "sv": "Kör"},
    "metric": {"en": "Figure", "sv": "Mått"},
    "band_note": {
        "en": "Line: mean over replicates; band: 10th to 90th percentile.",
        "sv": "Linje: medel över replikaten; band: 10:e till 90:e percentilen.",
    },
    "diff_title": {"en": "Difference from {base} (paired by seed)", "sv": "Skillnad mot {base} (parvis per frö)"},
    "levels_title": {"en": "{metric} per variant", "sv": "{metric} per variant"},
    "final_table": {"en": "At the last step", "sv": "Vid sista steget"},
    "download_csv": {"en": "Download CSV", "sv": "Ladda ner CSV"},
    "download_parquet": {"en": "Download Parquet", "sv": "Ladda ner Parquet"},
    "save_scenarios": {"en": "Save as scenario files (.zip)", "sv": "Spara som scenariofiler (.zip)"},
    "compare_done": {
        "en": "{variants} variants x {reps} replicates x {steps} steps in {secs} s",
        "sv": "{variants} varianter x {reps} replikat x {steps} steg på {secs} s",
    },
    "mean": {"en": "mean", "sv": "medel"},
    "difference": {"en": "difference", "sv": "skillnad"},
    "band": {"en": "10-90 % of seeds", "sv": "10-90 % av fröna"},
    "ci_mean": {"en": "95 % CI of the mean", "sv": "95 % KI för medelvärdet"},
    "bad_number": {
        "en": "{field}: {value!r} is not a whole number between {lo} and {hi}.",
        "sv": "{field}: {value!r} är inte ett heltal mellan {lo} och {hi}.",
    },
}

PRESET_LABELS: dict[str, dict[str, str]] = {
    "teaching": {"en": "Teaching: 12 towns (fast)", "sv": "Undervisning: 12 orter (snabb)"},
    "district": {"en": "District: one suburb, 60 actors", "sv": "Stadsdel: en förort, 60 aktörer"},
    "sweden-youth-employment@light": {
        "en": "Sweden, light: 290 municipalities, 1 in 10 young people",
        "sv": "Sverige, lätt: 290 kommuner, 1 av 10 unga",
    },
    "sweden-youth-employment": {
        "en": "Sweden, full: 290 municipalities, 1.1 million young people (slow)",
        "sv": "Sverige, full: 290 kommuner, 1,1 miljoner unga (långsam)",
    },
}
_CASES = {  # scenarios/cases/<key>.toml: (name, from year) - the Swedish names are the cases' own
    "fritidsbanken": ("Fritidsbanken", "Fritidsbanken", 2013),
    "familjecentraler": ("Family centres (Familjecentraler)", "Familjecentraler", 2008),
    "barnahus": ("Barnahus", "Barnahus", 2006),
    "dua": ("DUA youth-employment agreements", "DUA-överenskommelser för unga", 2014),
    "sociala-investeringsfonder": ("Social investment funds", "Sociala investeringsfonder", 2010),
    "bostad-forst": ("Housing First (Bostad först)", "Bostad först", 2010),
    "plug-in": ("Plug In (school drop-out)", "Plug In (skolavhopp)", 2012),
}
PRESET_LABELS.update({f"cases/{k}": {"en": f"Case: {en}, {year}-", "sv": f"Fall: {sv}, {year}–"}
                      for k, (en, sv, year) in _CASES.items()})

LEVER_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    # key: {lang: (label, one-line explanation)}
    "involvement": {
        "en": ("Involvement of affected people", "How much the people concerned help understand the need: better fit."),
        "sv": ("Berördas delaktighet", "Hur mycket de berörda hjälper till att förstå behovet: bättre lokal anpassning."),
    },
    "vision_clarity": {
        "en": ("Vision clarity", "How clear the shared vision is from the start: keeps the core from drifting."),
        "sv": ("Visionens tydlighet", "Hur tydlig den gemensamma visionen är från start: kärnan glider mindre."),
    },
    "brokering": {
        "en": ("Brokering", "Monthly chance a mobilising organisation gains a tie to another sector."),
        "sv": ("Brobyggande", "Chans per månad att en mobiliserande organisation får en kontakt i en annan sektor."),
    },
    "project_length": {
        "en": ("Project length (months)", "Shortest and longest time-limited project grant."),
        "sv": ("Projekttid (månader)", "Kortaste och längsta tidsbegränsade projektmedel."),
    },
    "institutionalisation_support": {
        "en": ("Institutionalisation support", "Support to make pilots ordinary operations when project money ends."),
        "sv": ("Stöd för att permanenta", "Stöd att göra piloter till ordinarie verksamhet när projektmedlen tar slut."),
    },
    "guardrails": {
        "en": (
            "Guardrails (fidelity support)",
            "Training, manuals, licensing: keep the core intact but slow own-initiative spread.",
        ),
        "sv": ("Stöd för trohet mot kärnan", "Utbildning, manualer, licens: håller kärnan intakt men bromsar egen spridning."),
    },
    "adaptation_rate": {
        "en": ("Adaptation rate", "How fast sites adapt the solution to local needs (too fast erodes the core)."),
        "sv": ("Anpassningstakt", "Hur snabbt verksamheter anpassar lösningen lokalt (för snabbt urholkar kärnan)."),
    },
    "measurement_effort": {
        "en": ("Measurement effort", "Share of realised value that is measured and made visible (costs money)."),
        "sv": ("Mätinsats", "Andel av skapat värde som mäts och synliggörs (kostar pengar)."),
    },
    "scaling_up_threshold": {
        "en": ("Scaling-up threshold", "Share of places reached that makes a mandate holder make it policy."),
        "sv": ("Tröskel för skalning uppåt", "Andel nådda platser som får en mandatbärare att göra lösningen till policy."),
    },
}


def tr(key: str, lang: Lang, **fmt: object) -> str:
    """The text ``key`` in ``lang`` (English if missing), formatted with ``fmt``."""
    entry = TEXTS.get(key)
    text = key if entry is None else entry.get(lang, entry["en"])
    return text.format(**fmt) if fmt else text


def element_name(element: str, lang: Lang) -> str:
    """The name of one of the six elements (Swedish names in the Swedish view)."""
    return (ELEMENT_NAMES_SV if lang == "sv" else ELEMENT_NAMES_EN)[element]


def element_names(lang: Lang) -> list[str]:
    """The six element names, in :data:`sim.scenario.ELEMENTS` order."""
    return [element_name(e, lang) for e in ELEMENTS]


def preset_label(key: str, lang: Lang) -> str:
    """The picker label of a preset key (``name`` or ``name@light``; an uploaded file shows its name)."""
    entry = PRESET_LABELS.get(key)
    if entry:
        return entry[lang]
    if key.endswith(".toml"):
        return f"{'Fil' if lang == 'sv' else 'File'}: {key.replace(chr(92), '/').rsplit('/', 1)[-1]}"
    return key


def lever_text(key: str, lang: Lang) -> tuple[str, str]:
    """``(label, one-line explanation)`` of a lever."""
    return LEVER_TEXTS[key][lang]


THIN_SPACE = "\u202f"
"""Thousands separator in Swedish (a narrow no-break space, as Språkrådet recommends a space)."""


def fmt_number(value: float, lang: Lang, digits: int = 0, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, never in scientific notation.

    Swedish: decimal comma and a thin space between thousands (``12 345,6``);
    English: ``12,345.6``. NaN and infinities give ``"-"``.
    """
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return "-"
    if digits <= 0 and not sign and v >= 0:  # the common case (counts), fast
        text = f"{round(v):,}"
        return text.replace(",", THIN_SPACE) if lang == "sv" else text
    text = f"{v:{'+' if sign else ''},.{max(0, digits)}f}"
    if text.lstrip("+-").strip("0.,") == "" and text[0] == "-":
        text = text[1:]  # no "-0"
    if lang == "sv":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", THIN_SPACE).replace("-", "\u2212")
    return text


def fmt_sig(value: float, lang: Lang, sig: int = 3, sign: bool = False) -> str:
    """``value`` rounded to about ``sig`` significant figures, in plain notation (``1.22e+04`` -> ``12 200``)."""
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return "-"
    if v == 0:
        return fmt_number(0.0, lang, 0, sign)
    mag = math.floor(math.log10(abs(v)))
    digits = max(0, sig - 1 - mag)
    if digits == 0:
        v = round(v, -(mag - sig + 1)) if mag >= sig else v
    return fmt_number(v, lang, digits, sign)


SYNTHETIC_PLACE_NAMES: tuple[str, ...] = (
    "Björkby", "Åsala", "Lindköping", "Norrvik", "Sjöstad", "Ekdala", "Granhult", "Bergsjö",
    "Älvsta", "Hagaby", "Strandvik", "Mossfors", "Tallnäs", "Ängsala", "Rönnby", "Viksberg",
)
"""Invented town names for the synthetic presets' places ("Place 1" ... in the model)."""


def place_label(name: str, lang: Lang) -> str:
    """A place's name as shown: the synthetic ``Place N`` gets an invented town name (Swedish places keep theirs)."""
    text = str(name)
    if text.startswith("Place ") and text[6:].isdigit():
        k = int(text[6:])
        if 1 <= k <= len(SYNTHETIC_PLACE_NAMES):
            return SYNTHETIC_PLACE_NAMES[k - 1]
        return f"{'Ort' if lang == 'sv' else 'Town'} {k}"
    return text
