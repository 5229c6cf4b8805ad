"""The server-side room: roles, participants and their tokens, rounds, saving and replay.

A room holds the scenario and seed, the shared model, the autopilot twin (the same scenario
and seed without decisions) and every round played with the decisions in force. The
model is never stored: on resume it is replayed deterministically from the decisions
(:meth:`Room.rebuild`), so a killed server resumes at the next round with no decision lost.
Every participant action goes through :meth:`Room.decide`, which checks that the
participant's token holds the role it acts for; a refusal is logged (``security.log`` in
the room folder) and shown to the facilitator.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.api import build_model
from sim.interventions.runtime import add_intervention
from sim.model import SocialInnovationModel
from sim.scenario import Scenario
from sim.workshop.decisions import (
    AUTO,
    Context,
    DecisionError,
    apply_round,
    auto_decision,
    install_params,
    is_auto,
    validate_decision,
)
from sim.workshop.roles import Role, default_roles

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Room-code symbols: no 0/O or 1/I/L look-alikes (31 symbols)."""
CODE_LENGTH = 6
"""Room-code length: 31**6 ~ 8.9e8 codes."""
ROUND_STEPS_DEFAULT = 12
ROUND_STEPS_RANGE = (1, 60)
NAME_MAX = 40
MAX_PARTICIPANTS = 60
ROOM_FILE = "room.json"
SECURITY_LOG = "security.log"
PHASES = ("lobby", "open", "waiting", "ended")
"""lobby: joining, no round played; open: decisions for ``round_no`` accepted; waiting: a round ran, the
next is not open yet; ended: the debrief."""


def new_room_code() -> str:
    """A random room code of :data:`CODE_LENGTH` letters from :data:`CODE_ALPHABET` (``secrets``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def token_hash(token: str) -> str:
    """SHA-256 of a participant token (only hashes are kept and saved)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RoomError(Exception):
    """A refused action; ``status`` is the HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Participant:
    """One participant: a display name, the hash of its token, its role key (None: no role yet)."""

    pid: str
    name: str
    token_hash: str
    role: str | None = None
    lang: str = "sv"


@dataclass
class PlayedRound:
    """A round that ran.

    Attributes:
        number: round number (1-based); ``start_step``: model step at its start; ``steps``: its length [steps].
        decisions: role key -> the decision in force; ``sources``: role key -> submitted | kept | auto.
        players: role key -> display name of who held it; ``changed``: role key -> organisation ids its decision changed.
    """

    number: int
    start_step: int
    steps: int
    decisions: dict[str, dict[str, Any]]
    sources: dict[str, str]
    players: dict[str, str]
    changed: dict[str, list[int]]


@dataclass
class Room:
    """A workshop room (see the module docstring). Build with :meth:`create` or :meth:`load`."""

    scenario: Scenario
    seed: int
    folder: Path
    code: str
    facilitator_key: str
    scenario_label: str = ""
    round_steps: int = ROUND_STEPS_DEFAULT
    place: str | None = None
    phase: str = "lobby"
    paused: bool = False
    reveal: bool = False
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    played: list[PlayedRound] = field(default_factory=list)
    participants: dict[str, Participant] = field(default_factory=dict)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    model: SocialInnovationModel = field(init=False, repr=False)
    autopilot: SocialInnovationModel = field(init=False, repr=False)
    offered: bool = field(init=False, default=False)
    """Whether the national role's offer to every municipality has been made (rebuilt by replaying the rounds)."""
    roles: list[Role] = field(init=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # ------------------------------------------------------------------ building, saving, resuming
    @classmethod
    def create(cls, scenario: Scenario, seed: int | None, folder: Path, label: str = "",
               round_steps: int = ROUND_STEPS_DEFAULT, place: str | None = None) -> Room:
        """A new room with a fresh code and facilitator key, saved in ``folder``.

        ``place``: name of the place the site-holding roles play (default: see :func:`default_roles`).
        Raises ValueError for a place that cannot be played, before anything is written.
        """
        check_round_steps(round_steps)
        room = cls(scenario, scenario.run.seed if seed is None else int(seed), Path(folder), new_room_code(),
                   secrets.token_urlsafe(18), label, round_steps, place)
        room.rebuild()
        room.save()
        return room

    @classmethod
    def load(cls, folder: Path) -> Room:
        """Resume the room saved in ``folder`` (the model is replayed from its decisions)."""
        path = Path(folder) / ROOM_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        room = cls(
            Scenario.model_validate(data["scenario"]), int(data["seed"]), Path(folder), data["code"],
            data["facilitator_key"], data.get("scenario_label", ""), int(data["round_steps"]), data.get("place"), data["phase"],
            bool(data["paused"]), bool(data["reveal"]), data["pending"],
            [PlayedRound(**r) for r in data["played"]],
            {p["token_hash"]: Participant(**p) for p in data["participants"]}, data["refusals"],
        )
        room.rebuild()
        return room

    def rebuild(self) -> None:
        """Build the model and its autopilot twin and replay every played round (deterministic)."""
        self.model = build_model(self.scenario, self.seed)
        self.autopilot = build_model(self.scenario, self.seed)
        self.offered = False
        self.roles = default_roles(self.model.state, self.place)
        for r in self.played:
            self._run(r.number, r.decisions, r.steps)

    def _run(self, number: int, decisions: dict[str, dict[str, Any]], steps: int) -> dict[str, list[int]]:
        ctx = Context(self.model.params, steps, self.seed, number, [], offered=self.offered)
        changed = apply_round(self.model.state, self.roles, decisions, ctx)
        self.offered = ctx.offered
        install_params(self.model, ctx.params)
        for iv in ctx.new_interventions:  # the national offer: acts from this round's first step
            add_intervention(self.model, iv)
        for _ in range(steps):
            self.model.step()
            self.autopilot.step()
        return changed

    def to_json(self) -> dict[str, Any]:
        """Everything saved (no model: it is replayed)."""
        return {
            "version": 1, "code": self.code, "facilitator_key": self.facilitator_key,
            "scenario": self.scenario.model_dump(mode="json"), "scenario_label": self.scenario_label,
            "seed": self.seed, "round_steps": self.round_steps, "place": self.place, "phase": self.phase, "paused": self.paused,
            "reveal": self.reveal, "pending": self.pending, "played": [asdict(r) for r in self.played],
            "participants": [asdict(p) for p in self.participants.values()], "refusals": self.refusals,
            "roles": [r.to_json() for r in self.roles],
        }

    def save(self) -> None:
        """Write ``room.json`` whole (temporary file, then one rename; readable by the owner only)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / ROOM_FILE
        tmp = path.with_name(f".{ROOM_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    # ------------------------------------------------------------------ participants
    @property
    def round_no(self) -> int:
        """The round being decided, or the next to open (1-based)."""
        return len(self.played) + 1

    def role(self, key: str) -> Role:
        """The role ``key`` (RoomError 404 if there is none)."""
        for r in self.roles:
            if r.key == key:
                return r
        raise RoomError(f"role: {key!r} is not a role here; roles {', '.join(r.key for r in self.roles)}", 404)

    def holder(self, key: str) -> Participant | None:
        """The participant holding role ``key``, if any."""
        return next((p for p in self.participants.values() if p.role == key), None)

    def free_roles(self) -> list[str]:
        """Role keys nobody holds."""
        return [r.key for r in self.roles if self.holder(r.key) is None]

    def check_code(self, code: Any) -> None:
        """Refuse a wrong room code (RoomError 403; compared in constant time)."""
        given = code.strip().upper() if isinstance(code, str) else ""
        if not hmac.compare_digest(given.encode(), self.code.encode()):
            raise RoomError("room code: no room with this code", 403)

    def join(self, code: Any, name: Any, role: Any = None, lang: Any = "sv") -> tuple[str, Participant]:
        """A new participant with a fresh token, holding ``role`` (or the first free role; None if all are taken)."""
        with self.lock:
            self.check_code(code)
            if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX or not name.isprintable():
                raise RoomError(f"name: 1 to {NAME_MAX} printable characters", 422)
            if len(self.participants) >= MAX_PARTICIPANTS:
                raise RoomError(f"room is full ({MAX_PARTICIPANTS} participants)", 409)
            if role not in (None, ""):
                self.role(str(role))
                if self.holder(str(role)) is not None:
                    raise RoomError(f"role: {role!r} is taken; free roles: {', '.join(self.free_roles()) or 'none'}", 409)
            else:
                free = self.free_roles()
                role = free[0] if free else None
            token = secrets.token_urlsafe(24)
            p = Participant(secrets.token_hex(4), name.strip(), token_hash(token), role, lang if lang in ("sv", "en") else "sv")
            self.participants[p.token_hash] = p
            self.save()
            return token, p

    def participant(self, token: Any) -> Participant:
        """The participant holding ``token`` (RoomError 401 if none: unknown, or kicked)."""
        p = self.participants.get(token_hash(token)) if isinstance(token, str) and token else None
        if p is None:
            raise RoomError("token: not a participant of this room (removed, or never joined)", 401)
        return p

    def refuse(self, p: Participant, action: str, detail: str) -> RoomError:
        """Log a refused attempt (security.log and the facilitator's list); returns the error to raise."""
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "participant": p.name, "pid": p.pid,
                 "holds": p.role, "action": action, "detail": detail}
        self.refusals.append(entry)
        security_logger(self.folder).warning(json.dumps(entry, ensure_ascii=False))
        self.save()
        return RoomError(f"refused: {detail}", 403)

    # ------------------------------------------------------------------ decisions
    def decide(self, token: Any, role_key: Any, round_no: Any, data: Any) -> dict[str, Any]:
        """Record a participant's decision for the open round; returns the checked decision.

        Refused (and logged) when the token's participant does not hold ``role_key``.
        """
        with self.lock:
            p = self.participant(token)
            if p.role is None or not isinstance(role_key, str) or role_key != p.role:
                raise self.refuse(p, "decide", f"{p.name} holds {p.role!r} and may not act for {role_key!r}")
            if self.phase != "open":
                raise RoomError(f"round {self.round_no} is not open for decisions", 409)
            if self.paused:
                raise RoomError("the game is paused", 409)
            if round_no != self.round_no:
                raise RoomError(f"round: decisions are for round {self.round_no}, got {round_no!r}", 409)
            try:
                d = validate_decision(self.role(role_key).kind, data)
            except DecisionError as err:
                raise RoomError(str(err), 422) from None
            self.pending[role_key] = d
            self.save()
            return d

    def standing(self, key: str) -> dict[str, Any] | None:
        """The last decision in force for role ``key`` (None if it never decided)."""
        for r in reversed(self.played):
            if r.sources.get(key) in ("submitted", "kept"):
                return r.decisions[key]
        return None

    def current_decision(self, key: str) -> tuple[dict[str, Any], str]:
        """What role ``key`` would play if the round closed now, and why (submitted | kept | auto)."""
        if key in self.pending:
            return self.pending[key], "submitted"
        kept = self.standing(key)
        if kept is not None:
            return kept, "kept"
        return auto_decision(self.role(key).kind), "auto"

    # ------------------------------------------------------------------ the facilitator
    def open_round(self) -> None:
        """Open the next round for decisions."""
        with self.lock:
            if self.phase == "ended":
                raise RoomError("the game has ended")
            self.phase = "open"
            self.save()

    def close_round(self) -> PlayedRound:
        """Close the open round and run it (``round_steps`` steps); saved before returning."""
        with self.lock:
            if self.phase != "open":
                raise RoomError("no round is open")
            if self.paused:
                raise RoomError("the game is paused")
            decisions, sources = {}, {}
            for r in self.roles:
                decisions[r.key], sources[r.key] = self.current_decision(r.key)
                if sources[r.key] == "kept" and is_auto(decisions[r.key]):
                    sources[r.key] = "auto"
            start = self.model.state.clock.step
            changed = self._run(self.round_no, decisions, self.round_steps)
            players = {r.key: (h.name if (h := self.holder(r.key)) else "") for r in self.roles}
            played = PlayedRound(self.round_no, start, self.round_steps, decisions, sources, players, changed)
            self.played.append(played)
            self.pending = {}
            self.phase = "waiting"
            self.save()
            return played

    def restart_round(self) -> None:
        """Restart a round.

        While it is open, forget its decisions; after it ran, take it back (the model is replayed
        without it) and reopen it with the decisions that were submitted in it.
        """
        with self.lock:
            if self.phase == "ended":
                raise RoomError("the game has ended")
            if self.phase == "open" or not self.played:
                self.pending = {}
            else:
                last = self.played.pop()
                self.pending = {k: d for k, d in last.decisions.items() if last.sources[k] == "submitted"}
                self.rebuild()
            self.phase = "open"
            self.save()

    def set_paused(self, paused: bool) -> None:
        """Pause (no decisions, no running) or resume."""
        with self.lock:
            self.paused = bool(paused)
            self.save()

    def set_reveal(self, reveal: bool) -> None:
        """Show (True) or hide other places' and roles' values from participants."""
        with self.lock:
            self.reveal = bool(reveal)
            self.save()

    def set_round_steps(self, steps: Any) -> None:
        """Length of the next rounds [steps]."""
        with self.lock:
            check_round_steps(steps)
            self.round_steps = int(steps)
            self.save()

    def kick(self, pid: Any) -> None:
        """Remove a participant (its token stops working; its role becomes free, its decisions stay)."""
        with self.lock:
            key = next((h for h, p in self.participants.items() if p.pid == pid), None)
            if key is None:
                raise RoomError(f"participant: no participant {pid!r}", 404)
            del self.participants[key]
            self.save()

    def assign(self, pid: Any, role_key: Any) -> None:
        """Give participant ``pid`` role ``role_key`` ("" or None: no role); its previous holder loses it."""
        with self.lock:
            p = next((q for q in self.participants.values() if q.pid == pid), None)
            if p is None:
                raise RoomError(f"participant: no participant {pid!r}", 404)
            if role_key in (None, ""):
                p.role = None
            else:
                self.role(str(role_key))
                if (h := self.holder(str(role_key))) is not None:
                    h.role = None
                p.role = str(role_key)
            self.save()

    def end(self) -> None:
        """End the game: the debrief."""
        with self.lock:
            self.phase = "ended"
            self.pending = {}
            self.save()


def check_round_steps(steps: Any) -> None:
    """Refuse a round length outside :data:`ROUND_STEPS_RANGE` (RoomError 422)."""
    lo, hi = ROUND_STEPS_RANGE
    if not isinstance(steps, int) or isinstance(steps, bool) or not lo <= steps <= hi:
        raise RoomError(f"round_steps: allowed an integer in [{lo}, {hi}] steps; got {steps!r}", 422)


def security_logger(folder: Path) -> logging.Logger:
    """The logger of refused attempts, writing to ``folder/security.log`` (and to stderr)."""
    log = logging.getLogger(f"sim.workshop.security.{folder.resolve()}")
    if not log.handlers:
        folder.mkdir(parents=True, exist_ok=True)
        h = logging.FileHandler(folder / SECURITY_LOG, encoding="utf-8")
        h.setFormatter(logging.Formatter("%(asctime)s refused %(message)s"))
        log.addHandler(h)
        log.addHandler(logging.StreamHandler())
        log.setLevel(logging.INFO)
    return log


__all__ = ["AUTO", "PHASES", "Participant", "PlayedRound", "Room", "RoomError", "new_room_code", "token_hash"]
