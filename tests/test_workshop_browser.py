"""Acceptance test of workshop rooms in real headless Chromium (Playwright, /usr/bin/chromium).

One facilitator and four participants, each in its own browser context (phones at 390x844),
play three rounds of the ``teaching`` preset served by ``sim workshop``; the server is killed
(SIGKILL) after round 2 and restarted on the same folder; a forged request for another role
is refused and logged; the debrief shows the room beside the autopilot.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage",
        "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
WAIT_MS = 15_000

pytestmark = [pytest.mark.browser]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkshopServer:
    """``sim workshop`` as a child process in its own process group (ended at teardown)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []

    def start(self, *args: str) -> dict[str, str]:
        cmd = [sys.executable, "-m", "sim", "workshop", *args, "--dir", str(self.folder), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     text=True, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        info: dict[str, str] = {}
        deadline = time.monotonic() + 60
        self.lines = []
        while not (self.lines and self.lines[-1].startswith("(Ctrl-C")):
            line = self.proc.stdout.readline()
            assert line or self.proc.poll() is None, "server exited:\n" + "".join(self.lines)
            assert time.monotonic() < deadline, "server did not start:\n" + "".join(self.lines)
            self.lines.append(line)
            if m := re.match(r"(room code|join|facilitator): (\S+)", line):
                info[m.group(1)] = m.group(2)
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2).close()
                return info
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not answer")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def server(tmp_path):
    srv = WorkshopServer(tmp_path / "room", free_port())
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def browser(playwright_session):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    b = playwright_session.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield b
    b.close()


def post(port: int, path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def saved(folder: Path) -> dict:
    return json.loads((folder / "room.json").read_text())


ROLES = ("municipality", "civil_society", "funder", "national")
ROUND2 = {  # field -> value typed into each participant's form in round 2
    "municipality": {"adopt": "start", "adaptation": "20", "focus": "value", "apply": "yes"},
    "civil_society": {"adopt": "start", "focus": "mobilise", "apply": "yes"},
    "funder": {"grant": "yes", "grant_months": "18"},
    "national": {"support": "80"},
}


def fill(page, decision: dict[str, str]) -> None:
    for name, value in decision.items():
        box = page.locator(f"#f-{name}")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)


def send(page, round_no: int) -> None:
    page.locator("#send:not([disabled])").click(timeout=WAIT_MS)
    page.wait_for_function(f"document.getElementById('sent-msg').textContent.endsWith(' {round_no}')", timeout=WAIT_MS)


def wait_round(page, n: int) -> None:
    page.wait_for_function(f"(document.getElementById('status-round')||{{}}).textContent?.endsWith(' {n}')",
                           timeout=WAIT_MS)


def test_four_participants_three_rounds_kill_and_resume(browser, server):
    t0 = time.monotonic()
    info = server.start("teaching")
    code, port = info["room code"], server.port
    assert sum("█" in ln for ln in server.lines) >= 10  # the QR code of the join address, in the terminal
    errors: list[str] = []
    fac_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    fac = fac_ctx.new_page()
    fac.on("pageerror", lambda e: errors.append(str(e)))
    fac.goto(info["facilitator"])
    fac.locator("#code").filter(has_text=code).wait_for(timeout=WAIT_MS)
    players = {}
    for i, role in enumerate(ROLES):
        ctx = browser.new_context(viewport=PHONE, is_mobile=True)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(info["join"])
        pg.wait_for_function(f"document.getElementById('join-code').value === '{code}'", timeout=WAIT_MS)  # from the QR
        pg.locator(f"#join-role option[value='{role}']").wait_for(state="attached", timeout=WAIT_MS)
        pg.locator("#join-name").fill(f"P{i} {role}")
        pg.locator("#join-role").select_option(role)
        pg.locator("#join-btn").click()
        pg.locator("#status").filter(has_text=f"P{i} {role}").wait_for(timeout=WAIT_MS)
        players[role] = pg
    fac.locator("#participants tr[data-pid]").nth(3).wait_for(timeout=WAIT_MS)

    # round 1: everyone sends the form as it comes (all "auto": the model's own rules)
    fac.locator("#open").click()
    for pg in players.values():
        send(pg, 1)
    fac.locator("#participants .ok").nth(3).wait_for(timeout=WAIT_MS)
    fac.locator("#close:not([disabled])").click()
    for pg in players.values():
        wait_round(pg, 2)

    # round 2: real decisions through each participant's own form
    fac.locator("#open:not([disabled])").click()
    for role, pg in players.items():
        pg.locator("#send:not([disabled])").wait_for(timeout=WAIT_MS)
        fill(pg, ROUND2[role])
        send(pg, 2)
    fac.locator("#participants .ok").nth(3).wait_for(timeout=WAIT_MS)
    fac.locator("#close:not([disabled])").click()
    wait_round(players["municipality"], 3)
    before_kill = saved(server.folder)
    table = pd.read_parquet(server.folder / "decisions.parquet")  # also saved as a table after every round
    assert sorted(table["round"].unique()) == [1, 2]
    assert [r["number"] for r in before_kill["played"]] == [1, 2]

    # each participant's decisions reached only its own agents (rows the server saw change when applying them)
    roles = {r["key"]: r for r in before_kill["roles"]}
    r2 = before_kill["played"][1]
    assert r2["sources"] == dict.fromkeys(ROLES, "submitted")
    assert r2["decisions"]["municipality"]["adaptation"] == 20 and r2["decisions"]["funder"]["grant_months"] == 18
    for role in ("municipality", "civil_society"):
        assert set(r2["changed"][role]) <= set(roles[role]["agents"]), role
    assert r2["changed"]["municipality"], "the municipality's decision changed none of its organisations"
    site_agents = set(roles["municipality"]["agents"]) | set(roles["civil_society"]["agents"])
    assert set(r2["changed"]["funder"]) <= site_agents  # grants go to the applicants only
    assert r2["changed"]["national"] == []  # support is a national lever: no organisation row changes
    assert all(c == [] for c in before_kill["played"][0]["changed"].values())

    # a forged request: the civil-society participant acts for the municipality with its own token
    forged = players["civil_society"].evaluate("""async () => {
        const r = await fetch('/api/decide', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({token: localStorage.getItem('ws_token'), role: 'municipality', round: 3,
                                decision: {adopt: 'stop'}})});
        return [r.status, await r.json()]; }""")
    assert forged[0] == 403 and "may not act for 'municipality'" in forged[1]["error"]
    log = (server.folder / "security.log").read_text()
    assert "P1 civil_society" in log and "'municipality'" in log
    fac.locator("#refusals li").filter(has_text="may not act for 'municipality'").wait_for(timeout=WAIT_MS)

    # kill the server after round 2 (SIGKILL: no shutdown code runs) and start it again on the same folder
    server.kill()
    players["municipality"].locator("#offline:not([hidden])").wait_for(timeout=WAIT_MS)
    info2 = server.start()
    assert info2["room code"] == code and info2["facilitator"] == info["facilitator"]
    assert any("resumed at round 3 (2 played)" in ln for ln in server.lines)
    after = saved(server.folder)
    assert after["played"] == before_kill["played"]  # no decision lost
    for pg in players.values():  # the pages reconnect with their tokens: same role, round 3
        wait_round(pg, 3)
        pg.locator("#offline").wait_for(state="hidden", timeout=WAIT_MS)
    assert players["funder"].locator("#status").inner_text().startswith("P2 funder")
    # a participant who drops out (closes the page) and comes back gets its role again; English on request
    ctx = players["national"].context
    players["national"].close()
    pg = players["national"] = ctx.new_page()
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(info["join"])
    pg.locator("#status").filter(has_text="P3 national").wait_for(timeout=WAIT_MS)
    pg.get_by_role("button", name="English").click()
    pg.locator("#status-round").filter(has_text="Round 3").wait_for(timeout=WAIT_MS)
    assert pg.locator("label[for='f-support']").inner_text() == "Support for making permanent (%)"

    # round 3: the municipality does not decide (keeps its last choice); the funder renews grants
    fac.reload()
    fac.locator("#open:not([disabled])").click()
    pg = players["funder"]
    pg.locator("#send:not([disabled])").wait_for(timeout=WAIT_MS)
    assert pg.locator("#f-grant").input_value() == "yes"  # the form shows the decision in force
    fill(pg, {"renew": "yes"})
    send(pg, 3)
    fac.locator("#close:not([disabled])").click()
    wait_round(players["national"], 4)
    fac.locator("#end").click()
    r3 = saved(server.folder)["played"][2]
    assert r3["sources"]["municipality"] == "kept" and r3["decisions"]["municipality"] == r2["decisions"]["municipality"]
    assert r3["decisions"]["funder"]["renew"] == "yes" and r3["sources"]["funder"] == "submitted"

    # debrief: the room beside the autopilot, identical before the first decision (month 12), on every page
    fac.locator("#identical-note").wait_for(timeout=WAIT_MS)
    assert "12" in fac.locator("#identical-note").inner_text()
    assert fac.locator("#debrief-charts svg").count() == 5
    assert fac.locator("#debrief-charts .ws-legend").all_text_contents()[:2] == ["Rummet", "Autopilot"]
    assert fac.locator("#timeline tr[data-role]").count() == 4
    status, view = post(port, "/api/facilitator/state", {"key": info["facilitator"].split("key=")[1]})
    d = view["debrief"]
    assert d["first_decision_step"] == 12 and d["identical_until_step"] >= 12
    room, auto = d["columns"]["orgs_adopted"]["room"], d["columns"]["orgs_adopted"]["autopilot"]
    assert room[:13] == auto[:13] and room != auto  # same before the first decision, the decisions mattered after
    for pg in players.values():
        pg.locator("#identical-note").wait_for(timeout=WAIT_MS)
        assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # readable on a phone
    players["national"].locator("#others table").wait_for(timeout=WAIT_MS)  # others' values shown at the debrief

    # exports: report.html with embedded plots, Parquet of every decision
    key = info["facilitator"].split("key=")[1]
    html = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/report.html?lang=en&key={key}").read().decode()
    assert html.count("<svg") == 5 and "Autopilot" in html and "Decisions per role and round" in html
    raw = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/decisions.parquet?key={key}").read()
    table = pd.read_parquet(io.BytesIO(raw))
    assert sorted(table["round"].unique()) == [1, 2, 3]
    row = table[(table["round"] == 2) & (table["role"] == "municipality") & (table["field"] == "adopt")]
    assert row["value"].tolist() == ["start"] and row["player"].tolist() == ["P0 municipality"]
    assert errors == []
    for ctx in [fac_ctx, *[p.context for p in players.values()]]:
        ctx.close()
    assert time.monotonic() - t0 < 90
