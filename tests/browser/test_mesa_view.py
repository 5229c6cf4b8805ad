"""`sim ui --view mesa` (the model in Mesa's SolaraViz) in a real browser, offline.

The `page` fixture fails a test on any request leaving 127.0.0.1, any page error and
any console error. The test saves docs/img/ui/mesa-view.png.
"""

from __future__ import annotations

import sys
import time

import pytest

pytestmark = pytest.mark.browser

TIMEOUT = 60_000  # ms; the first page of a fresh server imports the model and builds it
PLOTS = ".v-window-item--active img"  # SolaraViz's page 0: five Mesa plots and the place map


@pytest.fixture(scope="module")
def mesa_ui(module_server, offline_env):
    """`sim ui --view mesa --port N` (default host), started the way a user starts it."""
    return module_server([sys.executable, "-m", "sim", "ui", "--view", "mesa", "--port", "{port}"], env=offline_env)


def image_sources(page) -> list[str]:
    return page.locator(PLOTS).evaluate_all("imgs => imgs.map(i => i.src)")


def wait_images_change(page, before: list[str], timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = image_sources(page)
        if len(now) == len(before) and now != before:
            return now
        time.sleep(0.1)
    raise AssertionError("no plot image changed")


def test_mesa_view_steps_and_resets_offline(page, page_log, mesa_ui, screenshot):
    page.set_viewport_size({"width": 1400, "height": 1650})  # the whole page 0 in one screenshot
    page.goto(mesa_ui.url + "/", timeout=TIMEOUT)
    page.get_by_text("Time: 0.0").wait_for(timeout=TIMEOUT)
    page.locator(PLOTS).nth(5).wait_for(timeout=TIMEOUT)
    assert page.locator(PLOTS).count() == 6
    assert page.get_by_text("Mesa view: sim").first.is_visible()
    for label in ("Guardrails (fidelity support)", "Measurement effort", "Preset", "Seed"):
        assert page.get_by_text(label).first.is_visible(), label

    before = image_sources(page)
    step = page.get_by_role("button", name="Step", exact=True)
    step.click()
    page.get_by_text("Time: 1.0").wait_for(timeout=TIMEOUT)
    after = wait_images_change(page, before)
    for _ in range(11):
        step.click()
    page.get_by_text("Time: 12.0").wait_for(timeout=TIMEOUT)
    wait_images_change(page, after)
    time.sleep(0.5)  # let the last images arrive
    screenshot("mesa-view")

    # a lever takes effect on Reset (SolaraViz's rule): a new model, from time 0
    thumb = page.locator(".v-slider__thumb-container").nth(2)  # play interval, render interval, guardrails
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text("0.45").first.wait_for(timeout=10_000)  # the slider's thumb label
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Time: 0.0").wait_for(timeout=TIMEOUT)
    assert "Traceback" not in page.locator("body").inner_text()
    assert page_log.urls and all(u.startswith(mesa_ui.url) or u.startswith(("data:", "blob:")) for u in page_log.urls)
