"""Swedish and English texts of the workshop pages, the debrief and the report (``sv`` is the default)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["sv", "en"]

TEXTS: dict[str, tuple[str, str]] = {
    # key: (sv, en)
    "title": ("Workshop: social innovation i rundor", "Workshop: social innovation in rounds"),
    "facilitator": ("Samtalsledare", "Facilitator"),
    "join": ("Gå med", "Join"),
    "room_code": ("Rumskod", "Room code"),
    "your_name": ("Ditt namn", "Your name"),
    "role": ("Roll", "Role"),
    "any_free_role": ("Valfri ledig roll", "Any free role"),
    "round": ("Runda", "Round"),
    "month": ("månad", "month"),
    "phase_lobby": ("Väntar på start", "Waiting to start"),
    "phase_open": ("Rundan är öppen: besluta nu", "The round is open: decide now"),
    "phase_waiting": ("Rundan har körts", "The round has run"),
    "phase_ended": ("Spelet är slut: eftersnack", "The game has ended: debrief"),
    "paused": ("Pausat av samtalsledaren", "Paused by the facilitator"),
    "send": ("Skicka beslut", "Send decision"),
    "sent": ("Beslut mottaget för runda", "Decision received for round"),
    "your_decision": ("Ditt beslut", "Your decision"),
    "your_agents": ("Dina organisationer", "Your organisations"),
    "your_place": ("Din ort", "Your place"),
    "no_role": ("Du har ingen roll än: samtalsledaren tilldelar en.", "You have no role yet: the facilitator assigns one."),
    "removed": ("Du har tagits bort ur rummet.", "You have been removed from the room."),
    "shared": ("Gemensamt läge", "Shared picture"),
    "others": ("Andra orter", "Other places"),
    "hidden": ("Dolt tills eftersnacket", "Hidden until the debrief"),
    "open_round": ("Öppna rundan", "Open the round"),
    "close_round": ("Stäng och kör rundan", "Close and run the round"),
    "pause": ("Pausa", "Pause"),
    "resume": ("Fortsätt", "Resume"),
    "reveal": ("Visa andras värden", "Reveal others' values"),
    "hide": ("Dölj andras värden", "Hide others' values"),
    "round_length": ("Rundans längd (steg)", "Round length (steps)"),
    "set": ("Ändra", "Set"),
    "restart_round": ("Starta om rundan", "Restart the round"),
    "end_game": ("Avsluta spelet", "End the game"),
    "participants": ("Deltagare", "Participants"),
    "kick": ("Ta bort", "Remove"),
    "assign": ("Tilldela", "Assign"),
    "decided": ("har beslutat", "has decided"),
    "refusals": ("Nekade försök", "Refused attempts"),
    "debrief": ("Eftersnack", "Debrief"),
    "room_run": ("Rummet", "Room"),
    "autopilot": ("Autopilot", "Autopilot"),
    "timeline": ("Beslut per roll och runda", "Decisions per role and round"),
    "identical": ("Identiskt med autopiloten fram till första beslutet (månad {m})",
                  "Identical to the autopilot until the first decision (month {m})"),
    "no_decision": ("Inga beslut fattades: rummet är autopiloten.", "No decision was taken: the room is the autopilot."),
    "export_html": ("Rapport (HTML)", "Report (HTML)"),
    "export_parquet": ("Alla beslut (Parquet)", "Every decision (Parquet)"),
    "join_at": ("Gå med på", "Join at"),
    "source_submitted": ("beslutat", "decided"),
    "source_kept": ("behåller förra", "kept last"),
    "source_auto": ("modellens regel", "model's rule"),
    "status": ("Status", "Status"),
    "element": ("Element", "Element"),
    "funding": ("Finansiering", "Funding"),
    "people_benefiting": ("Personer som fått nytta", "People benefiting"),
    "orgs_adopted": ("Organisationer som infört", "Organisations adopted"),
    "sites_running": ("Verksamheter igång", "Sites running"),
    "value_social": ("Socialt värde", "Social value"),
    "visible_value": ("Synligt värde", "Visible value"),
    "value_here": ("Socialt värde här", "Social value here"),
    "policy": ("Nationell politik", "National policy"),
    "in_force": ("i kraft", "in force"),
    "not_in_force": ("inte i kraft", "not in force"),
    "applicants": ("Ansökningar denna runda", "Applications this round"),
    "grants": ("Projektbidrag igång", "Project grants running"),
    "name": ("Namn", "Name"),
    "s_not_adopted": ("inte infört", "not adopted"),
    "s_running": ("igång", "running"),
    "s_discontinued": ("avslutad pilot", "pilot discontinued"),
    "s_abandoned": ("nedlagd", "abandoned"),
    "fu_none": ("ingen", "none"),
    "fu_project": ("projektbidrag", "project grant"),
    "fu_ordinary_budget": ("ordinarie budget", "ordinary budget"),
    "last_round": ("Förra rundan ändrade ditt beslut {n} av dina organisationer",
                   "Last round your decision changed {n} of your organisations"),
    # roles
    "role_municipality": ("Kommunen (offentlig organisation) i {place}", "The municipality (public organisation) of {place}"),
    "role_civil_society": ("Civilsamhällets organisation i {place}", "The civil-society organisation of {place}"),
    "role_funder": ("Finansiär", "Funder"),
    "role_national": ("Nationell mandatbärare", "National mandate holder"),
    # decision fields and options
    "f_adopt": ("Införa lösningen", "Adopt the solution"),
    "f_adaptation": ("Anpassa (%) i stället för att hålla kärnan", "Adapt (%) rather than keep the core"),
    "f_focus": ("Arbeta med", "Work on"),
    "f_apply": ("Söka projektmedel", "Apply for project money"),
    "f_permanent": ("Göra piloten permanent", "Make the pilot permanent"),
    "f_grant": ("Bevilja ansökningar", "Grant the applications"),
    "f_renew": ("Förlänga bidrag som tar slut", "Renew grants that end"),
    "f_grant_months": ("Bidragets längd (månader)", "Length of a grant (months)"),
    "f_scale_up": ("Skala upp nationellt", "Scale up nationally"),
    "f_support": ("Stöd för att permanenta (%)", "Support for making permanent (%)"),
    "f_offer": ("Erbjuda överenskommelser till alla kommuner", "Offer agreements to every municipality"),
    "o_auto": ("modellens regel / som förut", "model's rule / as before"),
    "o_start": ("starta", "start"),
    "o_stop": ("avsluta", "stop"),
    "o_yes": ("ja", "yes"),
    "o_now": ("nu", "now"),
    "o_all": ("alla, nu", "all, now"),
    "o_understand": ("förstå behoven", "understand the needs"),
    "o_envision": ("visionera", "envision"),
    "o_mobilise": ("mobilisera: resurser och allianser", "mobilise: resources and alliances"),
    "o_develop": ("utveckla och testa", "develop and test"),
    "o_spread": ("sprida", "spread"),
    "o_value": ("mäta och visa värde", "measure and show value"),
}


def tr(key: str, lang: Lang | str = "sv", **kw: object) -> str:
    """The text ``key`` in ``lang`` (unknown keys come back as the key), formatted with ``kw``."""
    pair = TEXTS.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


def table(lang: Lang | str) -> dict[str, str]:
    """All texts in ``lang`` (sent to the pages)."""
    return {k: tr(k, lang) for k in TEXTS}
