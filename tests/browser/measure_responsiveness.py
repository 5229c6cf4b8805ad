"""Measure Pause latency of `sim ui` with the model stepping in a worker process or in a thread.

    .venv/bin/python tests/browser/measure_responsiveness.py [--load 3] [--modes process,thread]

For each stepper mode (``SIM_UI_STEPPER``) it starts a server, then, with ``--load``
busy Python loops beside it: plays one tab
(teaching at 20 steps/s, Sweden full at "max") and four tabs of teaching at 10 steps/s, clicks Pause in each and reports, in the
page's clock, when the button answered and when the step counter last moved. The
numbers in docs/ui.md come from this script. Not a test (pytest does not collect it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from responsiveness import busy_loops, pause_probe  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mode: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SIM_UI_STEPPER=mode, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
               SOLARA_ASSETS_CDN="http://127.0.0.1:9/")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "ui", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def counter(page) -> int:
    return int(re.search(r"(\d+)", page.locator(".sim-step-counter").inner_text()).group(1))


def open_tab(ctx, url: str):
    page = ctx.new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(url + "/", timeout=120_000)
    page.wait_for_selector(".sim-step-counter", timeout=120_000)
    page.locator(".sim-lang").get_by_text("English").click()
    page.wait_for_selector(".sim-step-counter:has-text('Step')", timeout=30_000)
    return page


def pick(page, label: str) -> None:
    page.locator(".sim-preset").click()
    page.locator(".menuable__content__active .v-list-item", has_text=label).first.click()
    page.wait_for_selector(f".sim-status-seed:has-text('{label}')", timeout=120_000)


def play(page, speed: str) -> None:
    page.locator(".sim-speed").get_by_text(speed, exact=True).click()
    page.locator(".sim-play").click()


def run(mode: str, load: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    proc, url = start_server(mode)
    out = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ctx = browser.new_context()
            tabs = [open_tab(ctx, url) for _ in range(4)]
            with busy_loops(load):
                for label, speed in (("Teaching", "20"), ("Sweden, full", "max")):
                    page = tabs[0]
                    if label != "Teaching":
                        pick(page, label)
                    else:
                        page.locator(".sim-reset").click()
                        time.sleep(1.0)
                    play(page, speed)
                    time.sleep(3.0)
                    r = pause_probe(page, 3000)
                    out.append({"mode": mode, "load": load, "case": f"1 tab, {label}, {speed}", **r})
                    page.locator(".sim-reset").click()
                    time.sleep(1.0)
                pick(tabs[0], "Teaching")
                for t in tabs:
                    play(t, "10")
                time.sleep(4.0)
                for i, t in enumerate(tabs):
                    r = pause_probe(t, 2000)
                    out.append({"mode": mode, "load": load, "case": f"4 tabs, teaching, 10/s, tab {i + 1}", **r})
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", type=int, default=3, help="busy Python loops beside the server")
    ap.add_argument("--modes", default="thread,process")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for mode in args.modes.split(","):
        rows += run(mode, args.load)
    for r in rows:
        btn = "never" if r["button_s"] is None else f"{r['button_s']:.2f}"
        print(f"{r['mode']:8} load {r['load']}  {r['case']:38} button {btn:>6} s  counter stopped "
              f"{r['last_change_s']:.2f} s after the click, +{r['final'] - r['before']} steps")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
