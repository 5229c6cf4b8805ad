"""``sim workshop``: start (or resume) a room and serve it with uvicorn (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def join_address(host: str, port: int) -> str:
    """The address participants open: ``host``, or this machine's network address when listening on all."""
    shown = host
    if host in ("0.0.0.0", "::", ""):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
                shown = s.getsockname()[0]
        except OSError:
            shown = socket.gethostname()
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def register(app: typer.Typer) -> None:
    """Add the ``workshop`` command to ``app``."""

    @app.command("workshop")
    def workshop_cmd(
        scenario: Annotated[str | None, typer.Argument(help="Scenario file or preset (default: teaching).")] = None,
        host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this machine only).")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8770,
        room_dir: Annotated[Path, typer.Option("--dir", help="Folder of the room (room.json); an existing room there "
                                               "is resumed.")] = Path("out/workshop"),
        seed: Annotated[int | None, typer.Option("--seed", help="Root random seed (default: the scenario's).")] = None,
        round_steps: Annotated[int, typer.Option("--round-steps", help="Steps per round (1..60; default 12 = a year "
                                                 "of monthly steps).")] = 12,
        set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: dotted.key=value.")] = None,
        place: Annotated[str | None, typer.Option("--place", help="Place the municipality and the civil-society "
                                                  "organisation play (default: the first place not yet reached).")] = None,
        qr: Annotated[bool, typer.Option("--qr/--no-qr", help="Print the join address as a QR code.")] = True,
    ) -> None:
        """Start a workshop room: participants join from phones or laptops, each plays one actor, in rounds."""
        from sim.cli import fail, load_or_exit

        if seed is not None and not 0 <= seed <= 2**63 - 1:
            fail(f"--seed: allowed range [0, 2**63 - 1]; got {seed}")
        if not 1 <= round_steps <= 60:
            fail(f"--round-steps: allowed range [1, 60]; got {round_steps}")
        if room_dir.exists() and not room_dir.is_dir():
            fail(f"--dir {room_dir}: is a file, not a folder")
        if host not in LOCAL_HOSTS:
            typer.echo(f"warning: --host {host} serves the room to the network: anyone who can reach it on port {port} "
                       "and has the room code can join. Use it on a network you trust.", err=True)
        import segno

        try:
            import uvicorn
        except ImportError:
            fail("sim workshop needs the 'ui' extra (starlette, uvicorn): pip install -e '.[ui]'")

        from sim.workshop.room import ROOM_FILE, Room, RoomError
        from sim.workshop.server import create_app

        try:
            if (room_dir / ROOM_FILE).is_file():
                if scenario is not None or set_ or seed is not None or place is not None:
                    fail(f"--dir {room_dir}: holds a room already (resumed as saved); give no scenario, --set, "
                         "--seed or --place, or choose another --dir")
                room = Room.load(room_dir)
                resumed = True
            else:
                sc = load_or_exit(scenario or "teaching", set_)
                room = Room.create(sc, seed, room_dir, scenario or "teaching", round_steps, place)
                resumed = False
        except (OSError, ValueError, KeyError, TypeError, RoomError) as err:
            if str(err).startswith("--place"):
                fail(str(err))
            fail(f"--dir {room_dir}: cannot {'read the room' if (room_dir / ROOM_FILE).is_file() else 'start'} "
                 f"({type(err).__name__}: {err})")
        base = join_address(host, port)
        join_url = f"{base}/?room={room.code}"
        code = segno.make(join_url, error="m")
        out = sys.stdout
        state = f"resumed at round {room.round_no} ({len(room.played)} played)" if resumed else "new room"
        print(f"sim workshop: {room.scenario.name}, seed {room.seed}; {state}; saved in {room_dir}", file=out)
        print(f"room code: {room.code}", file=out)
        print(f"join: {join_url}", file=out)
        print(f"facilitator: {base}/facilitator?key={room.facilitator_key}", file=out)
        if qr:
            code.terminal(out=out, compact=True)
        print("(Ctrl-C stops; the room is saved after every action and resumes with the same --dir)", file=out)
        out.flush()
        uvicorn.run(create_app(room, join_url, code.svg_inline(scale=4)), host=host, port=port, log_level="warning")
