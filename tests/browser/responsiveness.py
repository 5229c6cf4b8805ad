"""Helpers to measure how fast the live page answers, for the browser tests and the measurement script.

``busy_loops(n)`` keeps ``n`` CPU-bound Python processes running (background load);
``pause_probe(page)`` clicks Pause inside the page and reports, in the page's own clock,
when the button answered and when the step counter last moved.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

WATCH_JS = """
() => {
  const el = document.querySelector('.sim-step-counter');
  const log = window.__simSteps = [];
  const read = () => { const m = (document.querySelector('.sim-step-counter') || {}).innerText || '';
                       const d = m.match(/(\\d+)/); return d ? +d[1] : null; };
  log.push([performance.now(), read()]);
  if (window.__simObs) window.__simObs.disconnect();
  window.__simObs = new MutationObserver(() => {
    const v = read(); if (v !== log[log.length - 1][1]) log.push([performance.now(), v]);
  });
  window.__simObs.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""

CLICK_PAUSE_JS = """
() => new Promise((resolve) => {
  const btn = document.querySelector('.sim-play');
  const before = window.__simSteps[window.__simSteps.length - 1][1];
  const t0 = performance.now();
  let answered = null;
  const label = () => ((document.querySelector('.sim-play') || {}).innerText || '');
  const obs = new MutationObserver(() => {
    if (answered === null && /play|spela/i.test(label())) answered = performance.now() - t0;
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  btn.click();
  setTimeout(() => {
    obs.disconnect();
    const log = window.__simSteps.filter((e) => e[0] >= t0);
    const last = log.length ? log[log.length - 1] : [t0, before];
    resolve({button_s: answered === null ? null : answered / 1000, before: before, final: last[1], observed_s: %d / 1000,
             last_change_s: (last[0] - t0) / 1000, changes: log.map((e) => [(e[0] - t0) / 1000, e[1]])});
  }, %d);
})
"""


@contextlib.contextmanager
def busy_loops(n: int) -> Iterator[list[subprocess.Popen]]:
    """``n`` Python processes spinning on the CPU for the duration of the block."""
    procs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
        for _ in range(n)
    ]
    try:
        time.sleep(0.3 if n else 0)
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def pause_probe(page, observe_ms: int = 3000) -> dict:
    """Click Pause in ``page`` (playing) and watch for ``observe_ms``.

    Returns ``button_s`` (seconds until the button read Play again, None if never),
    ``before`` (the counter shown at the click), ``final`` (the counter at the end),
    ``last_change_s`` (seconds from the click to the counter's last change) and
    ``changes`` (``[seconds, counter]`` after the click).
    """
    page.evaluate(WATCH_JS)
    return page.evaluate(CLICK_PAUSE_JS % (observe_ms, observe_ms))
