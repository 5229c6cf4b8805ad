"""Workshop rooms without a browser: the decision layer, the room's rounds, tokens, saving and replay."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.api import build_model
from sim.codes import Funding, Status
from sim.scenario import ELEMENTS, load_scenario
from sim.workshop.debrief import decisions_frame, first_decision, identical_until, report_html
from sim.workshop.decisions import (
    FIELDS,
    Context,
    DecisionError,
    apply_round,
    auto_decision,
    org_snapshot,
    validate_decision,
)
from sim.workshop.roles import default_roles
from sim.workshop.room import CODE_ALPHABET, CODE_LENGTH, ROOM_FILE, Room, RoomError, new_room_code


@pytest.fixture(scope="module")
def teaching():
    return load_scenario("teaching")


def same_rows(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(all(x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k])) for k in x)
                                    for x, y in zip(a, b, strict=True))


def stepped(sc, steps: int):
    m = build_model(sc, None)
    for _ in range(steps):
        m.step()
    return m


# --------------------------------------------------------------------------- validation

@pytest.mark.parametrize(("kind", "data", "needle"), [
    ("municipality", {"adaptation": "30"}, "municipality.adaptation: got '30'; allowed 'auto' or an integer in [0, 100] %"),
    ("municipality", {"adaptation": True}, "municipality.adaptation: got True"),
    ("municipality", {"adaptation": 101}, "[0, 100]"),
    ("civil_society", {"permanent": "yes"}, "civil_society.permanent: unknown field"),
    ("funder", {"grant_months": 5}, "funder.grant_months: got 5; allowed 'auto' or an integer in [6, 36] months"),
    ("national", {"scale_up": "later"}, "national.scale_up: got 'later'; allowed 'auto', 'now'"),
    ("municipality", ["adopt"], "a decision is an object of fields"),
    ("mayor", {}, "role kind 'mayor'"),
])
def test_bad_decisions_name_the_field_and_the_allowed_values(kind, data, needle):
    with pytest.raises(DecisionError) as err:
        validate_decision(kind, data)
    assert needle in str(err.value)


def test_a_decision_is_completed_with_auto():
    d = validate_decision("municipality", {"focus": "value", "adaptation": 0})
    assert d == {**auto_decision("municipality"), "focus": "value", "adaptation": 0}
    assert set(d) == {f.name for f in FIELDS["municipality"]}


# --------------------------------------------------------------------------- decision -> state change

def diff_rows(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> set[int]:
    n = len(before["place"])
    out = np.zeros(n, bool)
    for k, a in before.items():
        b = after[k]
        eq = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
        out |= ~eq.reshape(n, -1).all(axis=1)
    return set(np.flatnonzero(out).tolist())


SITE_DECISIONS = [
    {"adopt": "start"},
    {"adopt": "start", "adaptation": 100, "focus": "mobilise", "apply": "yes"},
    {"adopt": "start", "adaptation": 0, "focus": "value"},
]


@pytest.mark.parametrize("role_key", ["municipality", "civil_society"])
@pytest.mark.parametrize("decision", SITE_DECISIONS)
def test_a_site_holders_decision_changes_only_its_own_organisations(teaching, role_key, decision):
    m = stepped(teaching, 12)
    roles = default_roles(build_model(teaching, None).state)
    role = next(r for r in roles if r.key == role_key)
    decisions = {role_key: validate_decision(role.kind, decision)}
    if role_key == "civil_society":  # a public solution: the municipality opens the place (applied first)
        decisions["municipality"] = validate_decision("municipality", {"adopt": "start"})
    before = org_snapshot(m.state)
    people_before = m.state.people.state.copy()
    changed = apply_round(m.state, roles, decisions, Context(m.params, 12, m.seed, 2, []))
    touched = diff_rows(before, org_snapshot(m.state))
    assert touched == set().union(*map(set, changed.values()))
    assert set(changed[role_key]) <= set(role.agents)
    assert changed[role_key], "the decision changed nothing"  # the played place is closed at month 12
    assert np.array_equal(people_before, m.state.people.state)
    own = np.asarray(role.agents)
    running = own[m.state.orgs.running[own]]
    assert len(running)
    if "focus" in decision:
        assert (m.state.orgs.element[running] == ELEMENTS.index(decision["focus"])).all()
    if decision.get("adaptation") == 0:
        sol = m.state.solution
        assert np.allclose(m.state.orgs.variant[running][:, sol.core], sol.c0[sol.core])


def test_civil_society_cannot_open_a_closed_place_alone(teaching):
    m = stepped(teaching, 12)
    roles = default_roles(m.state)
    changed = apply_round(m.state, roles, {"civil_society": validate_decision("civil_society", {"adopt": "start"})},
                          Context(m.params, 12, m.seed, 2, []))
    assert changed["civil_society"] == []  # the model's public gate: the municipality opens its place


def test_adopt_stop_and_permanence_only_touch_own_running_sites(teaching):
    m = stepped(teaching, 12)
    roles = default_roles(m.state)
    mun = roles[0]
    ctx = Context(m.params, 12, m.seed, 2, [])
    apply_round(m.state, roles, {"municipality": validate_decision("municipality", {"adopt": "start"})}, ctx)
    own = np.asarray(mun.agents)
    assert m.state.orgs.running[own].all()
    before = org_snapshot(m.state)
    apply_round(m.state, roles, {"municipality": validate_decision("municipality", {"permanent": "yes"})}, ctx)
    assert (m.state.orgs.funding[own] == Funding.ORDINARY).all()
    assert diff_rows(before, org_snapshot(m.state)) <= set(mun.agents)
    apply_round(m.state, roles, {"municipality": validate_decision("municipality", {"adopt": "stop"})}, ctx)
    assert (m.state.orgs.status[own] == Status.ABANDONED).all()


def test_the_funder_grants_only_applicants_and_renews_ending_grants(teaching):
    m = stepped(teaching, 12)
    roles = default_roles(m.state)
    decisions = {
        "municipality": validate_decision("municipality", {"adopt": "start", "permanent": "yes", "apply": "yes"}),
        "civil_society": validate_decision("civil_society", {"adopt": "start", "apply": "yes"}),
        "funder": validate_decision("funder", {"grant": "yes", "grant_months": 18}),
    }
    changed = apply_round(m.state, roles, decisions, Context(m.params, 12, m.seed, 2, []))
    o = m.state.orgs
    applicants = set(roles[0].agents) | set(roles[1].agents)
    assert set(changed["funder"]) <= applicants and changed["funder"]
    granted = np.asarray(changed["funder"])
    assert (o.funding[granted] == Funding.PROJECT).all() and np.allclose(o.project_end[granted], m.state.month + 18)
    # renewal: every grant ending within the round is extended by grant_months, no other row changes
    horizon = m.state.month + 12
    ending = np.flatnonzero(o.running & (o.funding == Funding.PROJECT) & (o.project_end <= horizon))
    ends = o.project_end[ending].copy()
    before = org_snapshot(m.state)
    changed = apply_round(m.state, roles, {"funder": validate_decision("funder", {"renew": "yes"})},
                          Context(m.params, 12, m.seed, 3, []))
    assert set(changed["funder"]) == set(ending.tolist())
    assert np.allclose(o.project_end[ending], ends + 24)
    assert diff_rows(before, org_snapshot(m.state)) == set(ending.tolist())


def test_the_national_mandate_holder_scales_up_and_sets_support(teaching):
    m = stepped(teaching, 12)
    roles = default_roles(m.state)
    assert not m.state.policy.in_force
    ctx = Context(m.params, 12, m.seed, 2, [])
    apply_round(m.state, roles, {"national": validate_decision("national", {"scale_up": "now", "support": 70})}, ctx)
    assert m.state.policy.in_force and m.state.policy.month == m.state.month
    assert ctx.params.levers.institutionalisation_support == pytest.approx(0.7)
    assert m.params.levers.institutionalisation_support != pytest.approx(0.7)  # the caller installs ctx.params


def test_all_auto_changes_nothing(teaching):
    m = stepped(teaching, 6)
    roles = default_roles(m.state)
    before = org_snapshot(m.state)
    changed = apply_round(m.state, roles, {r.key: auto_decision(r.kind) for r in roles}, Context(m.params, 12, 7, 1, []))
    assert changed == {r.key: [] for r in roles} and diff_rows(before, org_snapshot(m.state)) == set()


# --------------------------------------------------------------------------- the room

@pytest.fixture
def room(teaching, tmp_path):
    return Room.create(teaching, None, tmp_path / "room", "teaching")


def play(room: Room, decisions: dict[str, tuple[str, dict]] | None = None) -> None:
    room.open_round()
    for key, (token, d) in (decisions or {}).items():
        room.decide(token, key, room.round_no, d)
    room.close_round()


def test_room_codes_are_random_and_unambiguous():
    codes = {new_room_code() for _ in range(200)}
    assert len(codes) == 200  # 31**6 codes: a collision among 200 has probability ~2e-5
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(CODE_ALPHABET)


def test_the_facilitator_chooses_the_played_place(teaching, tmp_path):
    room = Room.create(teaching, None, tmp_path / "r", place="place 4")
    mun, civ = room.roles[:2]
    o = room.model.state.orgs
    assert mun.place_name == civ.place_name == "Place 4" and mun.agents
    assert (o.place[list(mun.agents)] == mun.place).all() and (o.sector[list(mun.agents)] == 0).all()
    assert Room.load(room.folder).roles == room.roles


def test_a_room_without_decisions_is_its_autopilot(room):
    for _ in range(3):
        play(room)
    assert first_decision(room) is None
    assert identical_until(room) == 36
    assert same_rows(room.model.collector.rows, stepped(room.scenario, 36).collector.rows)


def test_room_equals_autopilot_until_the_first_decision_then_differs(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    play(room)
    play(room, {"municipality": (token, {"adopt": "start", "focus": "value"})})
    assert first_decision(room) == (12, 12.0)
    assert identical_until(room) == 12  # rows 0..12 equal, row 13 (after the first decided step) not
    auto = stepped(room.scenario, 24).collector.rows
    assert same_rows(room.model.collector.rows[:13], auto[:13])
    assert not same_rows(room.model.collector.rows[13:], auto[13:])


def test_the_national_offer_is_made_once_and_replays(room):
    """"Offer agreements to all" adds one offer intervention at the round's month (kept decisions do not add more);
    places sign in the following months, and a reloaded room replays to the same rows."""
    token, _ = room.join(room.code, "Nils", "national")
    play(room)
    play(room, {"national": (token, {"offer": "all"})})
    play(room)  # the decision is kept: still one offer
    rt = room.model.interventions
    assert rt is not None and [iv.kind for iv in rt.items] == ["offer"] and rt.begin.tolist() == [12.0]
    rows = room.model.collector.rows
    assert rows[12].get("agreements", 0) == 0 and rows[-1]["agreements"] > 0
    again = Room.load(room.folder)
    assert same_rows(again.model.collector.rows, rows)
    assert room.autopilot.interventions is None  # the autopilot twin plays no decision


def test_undecided_roles_keep_their_last_choice(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    play(room, {"municipality": (token, {"focus": "mobilise"})})
    play(room)
    r1, r2 = room.played
    assert r1.sources["municipality"] == "submitted" and r2.sources["municipality"] == "kept"
    assert r2.decisions["municipality"] == r1.decisions["municipality"]
    assert r2.sources["funder"] == "auto"


def test_forged_requests_are_refused_and_logged(room):
    t_mun, _ = room.join(room.code, "Ann", "municipality")
    t_civ, _ = room.join(room.code, "Bo", "civil_society")
    room.open_round()
    with pytest.raises(RoomError) as err:
        room.decide(t_civ, "municipality", 1, {"adopt": "stop"})
    assert err.value.status == 403
    assert "municipality" not in room.pending
    log = (room.folder / "security.log").read_text()
    assert "Bo holds 'civil_society' and may not act for 'municipality'" in log
    assert room.refusals[-1]["participant"] == "Bo"
    with pytest.raises(RoomError) as err:
        room.decide("not-a-token", "municipality", 1, {})
    assert err.value.status == 401
    with pytest.raises(RoomError) as err:
        room.join("WRONG1", "Eve")
    assert err.value.status == 403
    with pytest.raises(RoomError) as err:
        room.decide(t_mun, "municipality", 2, {})  # not the open round
    assert err.value.status == 409
    with pytest.raises(RoomError) as err:
        room.decide(t_mun, "municipality", 1, {"adaptation": 500})
    assert err.value.status == 422 and "municipality.adaptation" in str(err.value)


def test_tokens_are_kept_only_as_hashes(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    text = (room.folder / ROOM_FILE).read_text()
    assert token not in text and len(json.loads(text)["participants"][0]["token_hash"]) == 64


def test_a_killed_room_resumes_from_its_file_with_every_decision(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    play(room)
    play(room, {"municipality": (token, {"adopt": "start", "adaptation": 40})})
    room.open_round()
    room.decide(token, "municipality", 3, {"focus": "value"})  # submitted, round not yet run
    again = Room.load(room.folder)  # what a restarted server does
    assert again.round_no == 3 and again.phase == "open" and again.pending == room.pending
    assert [r.decisions for r in again.played] == [r.decisions for r in room.played]
    assert same_rows(again.model.collector.rows, room.model.collector.rows)
    assert same_rows(again.autopilot.collector.rows, room.autopilot.collector.rows)
    assert again.participant(token).role == "municipality"  # the same token still works


def test_restarting_a_round_takes_it_back(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    play(room)
    rows = [dict(r) for r in room.model.collector.rows]
    play(room, {"municipality": (token, {"adopt": "start"})})
    room.restart_round()
    assert room.round_no == 2 and room.phase == "open" and room.pending["municipality"]["adopt"] == "start"
    assert same_rows(room.model.collector.rows, rows)


def test_facilitator_controls(room):
    token, p = room.join(room.code, "Ann")
    assert p.role == "municipality"  # the first free role
    room.set_paused(True)
    room.open_round()
    with pytest.raises(RoomError, match="paused"):
        room.decide(token, "municipality", 1, {})
    with pytest.raises(RoomError, match="paused"):
        room.close_round()
    room.set_paused(False)
    room.assign(p.pid, "funder")
    assert room.holder("funder") is p and "municipality" in room.free_roles()
    room.set_round_steps(6)
    with pytest.raises(RoomError, match=r"round_steps: allowed an integer in \[1, 60\]"):
        room.set_round_steps(0)
    room.close_round()
    assert room.model.state.clock.step == 6
    room.kick(p.pid)
    with pytest.raises(RoomError) as err:
        room.participant(token)
    assert err.value.status == 401
    room.end()
    assert room.phase == "ended"


def test_report_and_decision_table(room):
    token, _ = room.join(room.code, "Ann", "municipality")
    play(room)
    play(room, {"municipality": (token, {"adopt": "start"})})
    html = report_html(room, "en")
    assert html.count("<svg") == 5 and "Autopilot" in html
    assert "Identical to the autopilot until the first decision (month 12)" in html
    df = decisions_frame(room)
    n_fields = sum(len(FIELDS[r.kind]) for r in room.roles)
    assert len(df) == 2 * n_fields
    row = df[(df["round"] == 2) & (df["role"] == "municipality") & (df["field"] == "adopt")]
    assert row["value"].tolist() == ["start"] and row["source"].tolist() == ["submitted"]
    assert row["changed_organisations"].iloc[0] == len(room.played[1].changed["municipality"]) > 0
    assert "Rummet" in report_html(room, "sv")


# --------------------------------------------------------------------------- the command

def test_sim_workshop_refuses_bad_input(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["workshop", "teaching", "--round-steps", "0", "--dir", str(tmp_path / "a")])
    assert res.exit_code == 2 and "--round-steps: allowed range [1, 60]" in res.output
    res = runner.invoke(app, ["workshop", "teaching", "--set", "organisations.q=7", "--dir", str(tmp_path / "b")])
    assert res.exit_code == 2 and "organisations.q" in res.output
    (tmp_path / "file").write_text("x")
    res = runner.invoke(app, ["workshop", "--dir", str(tmp_path / "file")])
    assert res.exit_code == 2 and "is a file" in res.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing written
    res = runner.invoke(app, ["workshop", "--place", "Atlantis", "--dir", str(tmp_path / "d")])
    assert res.exit_code == 2
    assert "--place 'Atlantis': not a place with an eligible public organisation; allowed: Place" in res.output
    assert not (tmp_path / "d").exists()
    Room.create(load_scenario("teaching"), None, tmp_path / "c")
    res = runner.invoke(app, ["workshop", "district", "--dir", str(tmp_path / "c")])
    assert res.exit_code == 2 and "holds a room already" in res.output


def test_serving_beyond_this_machine_is_warned(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sim", "workshop", "--host", "0.0.0.0", "--port", str(port), "--dir",
                             str(tmp_path / "r")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline()  # the warning comes first, before the room is built
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert line.startswith(f"warning: --host 0.0.0.0 serves the room to the network: anyone who can reach it on port {port}")


def test_a_room_on_a_scenario_with_interventions(tmp_path):
    from sim.scenario import Scenario

    base = load_scenario("teaching").model_dump(mode="json")
    sc = Scenario.model_validate({**base, "interventions": [
        {"kind": "measurement", "month": 6, "level": 0.6, "label": "measure everywhere"},
        {"kind": "set", "month": 30, "lever": "levers.guardrails", "value": 0.7},
    ]})
    room = Room.create(sc, None, tmp_path / "room")
    token, _ = room.join(room.code, "Nat", "national")
    play(room)
    play(room, {"national": (token, {"support": 90})})
    play(room)
    assert room.model.interventions.base.levers.institutionalisation_support == pytest.approx(0.9)
    assert room.model.interventions.params_at(36).levers.guardrails == pytest.approx(0.7)  # its set lever still acts
    assert identical_until(room) >= 12
    assert same_rows(room.autopilot.collector.rows, stepped(sc, 36).collector.rows)  # the autopilot runs them too
    again = Room.load(room.folder)
    assert same_rows(again.model.collector.rows, room.model.collector.rows)
    assert "measure everywhere" in report_html(room, "en")
