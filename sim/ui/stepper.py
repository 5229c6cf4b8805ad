"""Where the live model steps: a worker process of its own per browser session.

The page (Solara, in the serving process) never holds the model. It sends commands
(``build``, ``play``, ``pause``, ``step``, ``speed``) down a pipe to a worker, and the
worker answers with :class:`Snapshot` objects: immutable pictures of the model after one
step, everything the live view draws. So

* a step never holds the serving process's interpreter lock: Pause, Step and Reset are
  handled at once however heavy the preset and however many tabs are playing;
* the status line and every chart read one snapshot, so they never mix two steps;
* every snapshot carries the build number (``gen``) of the settings it was built from:
  the page shows "building the model" (controls disabled) until a snapshot of the
  settings in the picker arrives, so the picker and the model never disagree;
* the render interval is set by the page: while playing, the worker sends a snapshot at
  most every :data:`RENDER_INTERVAL` seconds and only once the page has drawn the
  previous one (``drawn``), so a slow page is never flooded and the pipe never fills.

``SIM_UI_STEPPER=thread`` runs the same loop in a thread of the serving process instead
(the earlier design, kept to measure against; see docs/ui.md "How it stays responsive").
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.results import place_states, places_frame
from sim.ui import logic

RENDER_INTERVAL = 0.2
"""Seconds between two snapshots while playing, at least (at most five redraws per second)."""

SITE_LIMIT = 1500
"""Running sites sent for the fidelity/fit scatter, at most (an even thinning keeps the picture)."""

MODES = ("process", "thread")


def stepper_mode() -> str:
    """``process`` (default) or ``thread``, from ``SIM_UI_STEPPER``."""
    mode = os.environ.get("SIM_UI_STEPPER", "process").strip().lower()
    if mode not in MODES:
        raise ValueError(f"SIM_UI_STEPPER must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


@dataclass(frozen=True)
class Snapshot:
    """The live model after one step: all the live view draws, read at one moment.

    Attributes:
        gen: build number of the settings this model was built from (see :class:`Stepper`).
        settings: those settings.
        seed: the model's root seed.
        steps: steps made (0 = the initial state).
        month: model month after ``steps`` steps.
        horizon: the scenario's last step (``run.steps``).
        rows: collected rows, one per step (row 0 = initial state).
        flows_total: 6x6 moves between elements so far (from, to).
        places: :func:`sim.results.places_frame` of this step.
        states: :func:`sim.results.place_states` codes of this step.
        sites: running sites as rows ``(fit, fidelity, funding code, place index)``, at most :data:`SITE_LIMIT`.
        layout: map positions and radii (:func:`sim.ui.logic.map_layout`).
        n_orgs, n_places, n_people: totals of the model.
        sweden: whether the places are Sweden's municipalities.
        markers: the scenario's interventions (:class:`sim.interventions.Marker`), for marks on the time charts.
        playing: whether the worker is playing after this step.
        rate: steps per second measured in the worker over the last seconds (0 when not playing).
    """

    gen: int
    settings: logic.Settings
    seed: int
    steps: int
    month: float
    horizon: int
    rows: tuple[dict[str, float], ...]
    flows_total: np.ndarray
    places: pd.DataFrame
    states: np.ndarray
    sites: np.ndarray
    layout: tuple[dict[str, float], ...]
    n_orgs: int
    n_places: int
    n_people: int
    sweden: bool
    playing: bool = False
    rate: float = 0.0
    markers: tuple = ()


def take_snapshot(
    model: Any, gen: int, settings: logic.Settings, layout: tuple[dict[str, float], ...],
    playing: bool = False, rate: float = 0.0, markers: tuple = (),
) -> Snapshot:
    """A :class:`Snapshot` of ``model`` now (call it between steps)."""
    return Snapshot(
        gen=gen, settings=settings, seed=int(model.seed), steps=int(model.steps), month=float(model.month),
        horizon=int(model.params.run.steps), rows=tuple(dict(r) for r in model.collector.rows),
        flows_total=np.array(model.state.flows_total, copy=True), places=places_frame(model.state),
        states=np.asarray(place_states(model.state)).copy(), sites=logic.running_sites(model, SITE_LIMIT),
        layout=layout,
        n_orgs=int(model.orgs.n), n_places=int(model.places.n), n_people=int(model.people.n),
        sweden=model.params.places.source == "sweden", playing=playing, rate=rate, markers=markers,
    )


@dataclass
class PlayStats:
    """Steps per second while playing (over the last few seconds)."""

    times: deque[float] = field(default_factory=lambda: deque(maxlen=400))

    def note_step(self, t: float) -> None:
        """Record that a step finished at time ``t`` (seconds, ``time.perf_counter``)."""
        self.times.append(t)

    def rate(self, window: float = 3.0) -> float:
        """Steps per second over the last ``window`` seconds (0 if fewer than two steps)."""
        if len(self.times) < 2:
            return 0.0
        last = self.times[-1]
        recent = [t for t in self.times if t >= last - window]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def clear(self) -> None:
        """Forget all steps (a new model, or paused)."""
        self.times.clear()


def _coalesce(cmds: list[tuple]) -> list[tuple]:
    """Commands to carry out: everything before the last ``build`` is superseded by it (``quit`` never is)."""
    if any(c[0] == "quit" for c in cmds):
        return [("quit",)]
    last_build = max((i for i, c in enumerate(cmds) if c[0] == "build"), default=0)
    return cmds[last_build:]


def serve(conn: Any, render_interval: float = RENDER_INTERVAL) -> None:
    """The worker loop: carry out commands from ``conn`` and answer with snapshots, until ``quit`` or EOF.

    Commands: ``("build", gen, settings)``, ``("play", speed)``, ``("pause",)``, ``("step",)``,
    ``("speed", speed)``, ``("drawn",)`` (the page drew the last snapshot), ``("quit",)``.
    Answers: ``("building", gen)``, ``("snap", Snapshot)``, ``("error", gen, message)``.
    ``speed`` is one of :data:`sim.ui.logic.SPEEDS` (steps per second, or ``"max"``).
    """
    from sim.model import SocialInnovationModel

    model: Any = None
    gen, settings, layout, marks = 0, logic.Settings(), (), ()
    playing, speed = False, "10"
    stats = PlayStats()
    in_flight = False  # a snapshot sent while playing that the page has not drawn yet
    last_sent = 0.0
    due = time.perf_counter()

    def send_snap(final: bool) -> None:
        nonlocal in_flight, last_sent
        conn.send(("snap", take_snapshot(model, gen, settings, layout, playing, stats.rate() if playing else 0.0,
                                         marks)))
        last_sent = time.perf_counter()
        in_flight = not final

    while True:
        if not playing:
            timeout: float | None = None
        elif speed == "max":
            timeout = 0.0
        else:
            timeout = max(0.0, due - time.perf_counter())
        try:
            ready = conn.poll(timeout)
            cmds = []
            while ready:
                cmds.append(conn.recv())
                ready = conn.poll(0)
        except (EOFError, OSError):
            return  # the page is gone
        if cmds:
            for cmd in _coalesce(cmds):
                kind = cmd[0]
                if kind == "quit":
                    return
                if kind == "build":
                    gen, settings = cmd[1], cmd[2]
                    playing, model, in_flight = False, None, False
                    stats.clear()
                    conn.send(("building", gen))
                    try:
                        model = SocialInnovationModel(settings.scenario(), seed=settings.seed)
                        layout = tuple(logic.map_layout(model))
                        marks = tuple(logic.scenario_markers(model.params))
                    except Exception as err:  # noqa: BLE001 - shown to the user instead of a traceback
                        model = None
                        conn.send(("error", gen, f"{type(err).__name__}: {err}"))
                        continue
                    send_snap(final=True)
                elif kind == "drawn":
                    in_flight = False
                elif kind == "speed":
                    speed = cmd[1]
                elif kind == "play" and model is not None:
                    speed = cmd[1]
                    playing = model.steps < model.params.run.steps
                    stats.clear()
                    due = time.perf_counter()
                    if not playing:
                        send_snap(final=True)
                elif kind == "pause" and model is not None:
                    if playing:
                        playing = False
                        send_snap(final=True)
                elif kind == "step" and model is not None and not playing:
                    if model.steps < model.params.run.steps:
                        try:
                            model.step()
                        except Exception as err:  # noqa: BLE001
                            conn.send(("error", gen, f"{type(err).__name__}: {err}"))
                    send_snap(final=True)
            continue
        if not playing or model is None:
            continue
        # one step of play
        if speed != "max":
            period = 1.0 / float(speed)
            due = max(due + period, time.perf_counter() - period)
        try:
            model.step()
        except Exception as err:  # noqa: BLE001
            playing = False
            conn.send(("error", gen, f"{type(err).__name__}: {err}"))
            send_snap(final=True)
            continue
        now = time.perf_counter()
        stats.note_step(now)
        if model.steps >= model.params.run.steps:
            playing = False
            send_snap(final=True)
        elif not in_flight and now - last_sent >= render_interval:
            send_snap(final=False)


class _QueueEnd:
    """One end of an in-process duplex channel with the ``Connection`` methods :func:`serve` uses."""

    def __init__(self, inbox: queue.Queue, outbox: queue.Queue) -> None:
        self._in, self._out = inbox, outbox
        self._peeked: list[Any] = []

    def send(self, obj: Any) -> None:
        self._out.put(obj)

    def poll(self, timeout: float | None = 0.0) -> bool:
        if self._peeked:
            return True
        try:
            self._peeked.append(self._in.get(timeout=timeout) if timeout != 0 else self._in.get_nowait())
        except queue.Empty:
            return False
        return True

    def recv(self) -> Any:
        if self._peeked:
            return self._peeked.pop(0)
        return self._in.get()

    def close(self) -> None:
        self._out.put(("quit",))


_FORKSERVER_READY = False
_START_LOCK = threading.Lock()


@contextmanager
def _no_main_module() -> Iterator[None]:
    """Hide the ``__main__`` module while a worker starts.

    Otherwise multiprocessing re-runs the serving program's main module (``solara``,
    ``pytest``) in every worker before :func:`serve`; the worker needs only this module.
    """
    with _START_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _context() -> Any:
    """The ``forkserver`` context: workers are forked from a clean, single-threaded server with the model imported."""
    global _FORKSERVER_READY
    ctx = mp.get_context("forkserver")
    if not _FORKSERVER_READY:
        ctx.set_forkserver_preload(["sim.ui.stepper", "sim.model"])
        _FORKSERVER_READY = True
    return ctx


class Stepper:
    """The page's handle on its model's worker: send commands, receive answers.

    Args:
        mode: ``"process"`` (a worker process, the default) or ``"thread"`` (a thread of this process).
        render_interval: seconds between two snapshots while playing, at least.

    ``send`` may be called from any thread; ``poll``/``recv`` from one receiving thread only.
    """

    def __init__(self, mode: str | None = None, render_interval: float = RENDER_INTERVAL) -> None:
        self.mode = mode or stepper_mode()
        self._lock = threading.Lock()
        self.closed = False
        if self.mode == "process":
            ctx = _context()
            self._conn, child = ctx.Pipe(duplex=True)
            self._worker: Any = ctx.Process(target=serve, args=(child, render_interval), daemon=True,
                                            name="sim-ui-model")
            with _no_main_module():
                self._worker.start()
            child.close()
        else:
            down, up = queue.Queue(), queue.Queue()
            self._conn = _QueueEnd(up, down)
            self._worker = threading.Thread(
                target=serve, args=(_QueueEnd(down, up), render_interval), daemon=True, name="sim-ui-model"
            )
            self._worker.start()

    def send(self, *cmd: Any) -> None:
        """Send one command (see :func:`serve`); ignored once closed."""
        with self._lock:
            if self.closed:
                return
            try:
                self._conn.send(cmd)
            except (OSError, EOFError, BrokenPipeError):
                self.closed = True

    def poll(self, timeout: float) -> bool:
        """Whether an answer is waiting (waits up to ``timeout`` seconds)."""
        if self.closed:
            return False
        return self._conn.poll(timeout)

    def recv(self) -> tuple:
        """The next answer (raises ``EOFError`` if the worker is gone)."""
        return self._conn.recv()

    def alive(self) -> bool:
        """Whether the worker still runs."""
        return self._worker.is_alive()

    def close(self) -> None:
        """Stop the worker (its model is freed with it)."""
        self.send("quit")
        with self._lock:
            self.closed = True
        self._worker.join(timeout=2.0)
        if self.mode == "process" and self._worker.is_alive():
            self._worker.terminate()
            self._worker.join(timeout=2.0)
        if self.mode == "process":
            self._conn.close()
