"""The room's web server: a small Starlette app (served by uvicorn).

A join page, a facilitator page and a JSON API. Every participant action carries its token in the request body and is checked by
:meth:`sim.workshop.room.Room.decide` on the server; every facilitator action carries the facilitator key.
Tokens and keys are never put in a URL, except the facilitator key of the facilitator's own page and exports.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sim.codes import FUNDING_NAMES, STATUS_NAMES, Funding
from sim.scenario import ELEMENTS, SECTORS
from sim.workshop import pages
from sim.workshop.charts import COLOURS, Line, line_chart
from sim.workshop.debrief import DECISIONS_FILE, debrief_data, decisions_frame, report_html, role_label, write_decisions
from sim.workshop.decisions import FIELDS
from sim.workshop.i18n import table, tr
from sim.workshop.room import Room, RoomError

MAX_BODY = 16_384
"""Largest request body accepted [bytes]."""
SHARED_COLUMNS = ("orgs_adopted", "people_benefiting")


def _lang(body: dict[str, Any]) -> str:
    return "en" if body.get("lang") == "en" else "sv"


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise RoomError(f"request: at most {MAX_BODY} bytes", 413)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise RoomError("request: the body is not JSON", 400) from None
    if not isinstance(data, dict):
        raise RoomError("request: the body is a JSON object", 400)
    return data


def _error(err: RoomError) -> JSONResponse:
    return JSONResponse({"error": str(err)}, status_code=err.status)


def shared_charts(room: Room, lang: str) -> list[str]:
    """The charts every participant sees: the room's national totals (no autopilot until the debrief)."""
    rows = room.model.collector.rows
    month = [r["month"] for r in rows]
    marks = [(r.start_step * room.scenario.run.dt, f"{tr('round', lang)} {r.number}") for r in room.played]
    return [line_chart(tr(c, lang), [Line(tr(c, lang), month, [float(r[c]) for r in rows], COLOURS[i])], marks)
            for i, c in enumerate(SHARED_COLUMNS)]


def places_table(room: Room) -> list[dict[str, Any]]:
    """Every place's running sites and social value [persons] (what reveal shows)."""
    s = room.model.state
    sites = np.bincount(s.orgs.place[s.orgs.running], minlength=s.places.n)
    return [{"place": str(s.places.name[i]), "sites": int(sites[i]), "value": round(float(s.accounts.social[i]), 1)}
            for i in range(s.places.n)]


def role_situation(room: Room, key: str) -> dict[str, Any]:
    """What happened to a role's own agents and place (or, for funder and national, its scope)."""
    s = room.model.state
    o = s.orgs
    role = room.role(key)
    if role.kind in ("municipality", "civil_society"):
        agents = [{"id": i, "sector": SECTORS[o.sector[i]], "status": STATUS_NAMES[o.status[i]],
                   "funding": FUNDING_NAMES[o.funding[i]], "element": ELEMENTS[o.element[i]] if o.element[i] >= 0 else "",
                   "fidelity": None if np.isnan(o.fidelity[i]) else round(float(o.fidelity[i]), 3),
                   "fit": None if np.isnan(o.fit[i]) else round(float(o.fit[i]), 3)} for i in role.agents]
        return {"agents": agents, "place": role.place_name,
                "value_here": round(float(s.accounts.social[role.place]), 1),
                "sites_here": int((o.running & (o.place == role.place)).sum()),
                "last_changed": len(room.played[-1].changed.get(key, [])) if room.played else None}
    if role.kind == "funder":
        applicants = [k for k, d in room.pending.items() if d.get("apply") == "yes"]
        return {"grants": int((o.running & (o.funding == Funding.PROJECT)).sum()), "applicants": applicants}
    return {"policy_in_force": s.policy.in_force, "places_reached": int((~np.isnan(s.first_reached)).sum()),
            "places": s.places.n}


def participant_view(room: Room, token: Any, lang: str) -> dict[str, Any]:
    """The state a participant's page shows (RoomError 401 for an unknown or removed token)."""
    with room.lock:
        p = room.participant(token)
        view: dict[str, Any] = {
            "name": p.name, "phase": room.phase, "paused": room.paused, "reveal": room.reveal, "round": room.round_no,
            "rounds_played": len(room.played), "round_steps": room.round_steps, "month": room.model.month,
            "role": None, "charts": shared_charts(room, lang),
            "others": places_table(room) if room.reveal or room.phase == "ended" else None,
        }
        if p.role is not None:
            role = room.role(p.role)
            decision, source = room.current_decision(role.key)
            view.update(role={"key": role.key, "kind": role.kind, "label": role_label(room, role.key, lang)},
                        fields=[f.to_json() for f in FIELDS[role.kind]], decision=decision, source=source,
                        submitted=role.key in room.pending, situation=role_situation(room, role.key))
        if room.phase == "ended":
            view["debrief"] = debrief_data(room, lang)
        return view


def facilitator_view(room: Room, join_url: str, qr_svg: str, lang: str) -> dict[str, Any]:
    """The state the facilitator's page shows."""
    with room.lock:
        view = {
            "code": room.code, "join_url": join_url, "qr": qr_svg, "phase": room.phase, "paused": room.paused,
            "reveal": room.reveal, "round": room.round_no, "rounds_played": len(room.played),
            "round_steps": room.round_steps, "month": room.model.month, "scenario": room.scenario.name,
            "participants": [{"pid": p.pid, "name": p.name, "role": p.role, "decided": p.role in room.pending}
                             for p in room.participants.values()],
            "roles": [{"key": r.key, "label": role_label(room, r.key, lang),
                       "holder": h.name if (h := room.holder(r.key)) else None} for r in room.roles],
            "refusals": room.refusals[-20:], "charts": shared_charts(room, lang), "places": places_table(room),
        }
        if room.phase == "ended":
            view["debrief"] = debrief_data(room, lang)
        return view


FACILITATOR_ACTIONS = ("open", "close", "pause", "resume", "reveal", "hide", "round_steps", "restart", "end", "kick",
                       "assign")


def create_app(room: Room, join_url: str, qr_svg: str = "") -> Starlette:
    """The Starlette app of ``room`` (``join_url``: the address participants open; ``qr_svg``: its QR code)."""

    def check_key(body_or_query: Any) -> None:
        key = body_or_query.get("key")
        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), room.facilitator_key.encode()):
            raise RoomError("facilitator key: wrong or missing", 403)

    async def join_page(request: Request) -> Response:
        return HTMLResponse(pages.participant_page())

    async def facilitator_page(request: Request) -> Response:
        return HTMLResponse(pages.facilitator_page())

    async def texts(request: Request) -> Response:
        return JSONResponse(table(request.query_params.get("lang", "sv")))

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _body(request)
                # in a worker thread: running a round does not stop the server answering (the room's lock orders actions)
                return JSONResponse(await run_in_threadpool(handler, body))
            except RoomError as err:
                return _error(err)
        return endpoint

    def roles(body: dict[str, Any]) -> dict[str, Any]:
        room.check_code(body.get("room"))
        lang = _lang(body)
        return {"roles": [{"key": r.key, "label": role_label(room, r.key, lang)} for r in room.roles
                          if r.key in room.free_roles()]}

    def join(body: dict[str, Any]) -> dict[str, Any]:
        token, p = room.join(body.get("room"), body.get("name"), body.get("role"), _lang(body))
        return {"token": token, "role": p.role, "name": p.name}

    def state(body: dict[str, Any]) -> dict[str, Any]:
        return participant_view(room, body.get("token"), _lang(body))

    def decide(body: dict[str, Any]) -> dict[str, Any]:
        d = room.decide(body.get("token"), body.get("role"), body.get("round"), body.get("decision"))
        return {"ok": True, "round": room.round_no, "decision": d}

    def fac_state(body: dict[str, Any]) -> dict[str, Any]:
        check_key(body)
        return facilitator_view(room, join_url, qr_svg, _lang(body))

    def fac_action(body: dict[str, Any]) -> dict[str, Any]:
        check_key(body)
        action = body.get("action")
        if action not in FACILITATOR_ACTIONS:
            raise RoomError(f"action: allowed {', '.join(FACILITATOR_ACTIONS)}; got {action!r}", 422)
        {
            "open": room.open_round, "close": room.close_round, "end": room.end, "restart": room.restart_round,
            "pause": lambda: room.set_paused(True), "resume": lambda: room.set_paused(False),
            "reveal": lambda: room.set_reveal(True), "hide": lambda: room.set_reveal(False),
            "round_steps": lambda: room.set_round_steps(body.get("steps")),
            "kick": lambda: room.kick(body.get("pid")), "assign": lambda: room.assign(body.get("pid"), body.get("role")),
        }[action]()
        if action in ("close", "restart", "end"):  # the decisions in force, also as a table beside room.json
            with room.lock:
                write_decisions(room, room.folder / DECISIONS_FILE)
        return {"ok": True}

    async def report(request: Request) -> Response:
        try:
            check_key(request.query_params)
        except RoomError as err:
            return _error(err)
        with room.lock:
            html = report_html(room, request.query_params.get("lang", "sv"))
        return HTMLResponse(html, headers={"Content-Disposition": 'attachment; filename="report.html"'})

    async def decisions(request: Request) -> Response:
        try:
            check_key(request.query_params)
        except RoomError as err:
            return _error(err)
        import io

        buf = io.BytesIO()
        with room.lock:
            decisions_frame(room).to_parquet(buf, index=False)
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": 'attachment; filename="decisions.parquet"'})

    routes = [
        Route("/", join_page), Route("/facilitator", facilitator_page), Route("/api/texts", texts),
        Route("/api/roles", guarded(roles), methods=["POST"]), Route("/api/join", guarded(join), methods=["POST"]),
        Route("/api/state", guarded(state), methods=["POST"]), Route("/api/decide", guarded(decide), methods=["POST"]),
        Route("/api/facilitator/state", guarded(fac_state), methods=["POST"]),
        Route("/api/facilitator/action", guarded(fac_action), methods=["POST"]),
        Route("/api/report.html", report), Route("/api/decisions.parquet", decisions),
    ]
    return Starlette(routes=routes)
