"""``sim ui``: serve the Solara app on this machine (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

APP = "sim.ui.app"
VIEWS = {"main": APP, "mesa": "sim.ui.mesa_view"}
"""``sim ui --view NAME``: the module served (``mesa``: the secondary page on Mesa's SolaraViz)."""


def assets_dir() -> Path:
    """Where Solara looks for its front-end files before a CDN (``<prefix>/share/solara/cdn``)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def assets_installed() -> bool:
    """Whether the front-end files Solara needs are on disk (see ``scripts/install_ui_assets.sh``)."""
    cdn = assets_dir()
    return any(cdn.glob("@widgetti/solara-vuetify-app@*/dist/solara-vuetify-app8.min.js")) and any(
        cdn.glob("requirejs@*/require.js")
    )


def server_command(host: str, port: int, production: bool = True, view: str = "main") -> list[str]:
    """The ``solara run`` command line that serves the app (``view``: a key of :data:`VIEWS`)."""
    cmd = [sys.executable, "-m", "solara", "run", VIEWS[view], "--host", host, "--port", str(port), "--no-open"]
    if production:
        cmd.append("--production")
    return cmd


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for an offline server: no telemetry; a missing asset fails fast instead of going to a CDN."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_ASSETS_CDN", "http://127.0.0.1:9/")
    # the plain loader: no "This website runs on Solara" badge over the charts
    env.setdefault("SOLARA_THEME_LOADER", "plain")
    return env


def register(app: typer.Typer) -> None:
    """Add the ``ui`` command to ``app``."""

    @app.command("ui")
    def ui_cmd(
        host: Annotated[
            str, typer.Option("--host", help="Address to listen on (default: this machine only).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
        dev: Annotated[bool, typer.Option("--dev", help="Solara development mode (auto-reload).")] = False,
        view: Annotated[
            str,
            typer.Option(
                "--view",
                help="Which page: 'main' (the workshop/strategist interface) or 'mesa' "
                "(the model in Mesa's SolaraViz, for researchers who know Mesa).",
            ),
        ] = "main",
    ) -> None:
        """Serve the interactive interface (workshops, strategists) in the browser; works offline."""
        try:
            import solara  # noqa: F401
        except ImportError:
            typer.echo("error: the interface needs the 'ui' extra: pip install -e '.[ui]'", err=True)
            raise typer.Exit(2) from None
        if view not in VIEWS:
            typer.echo(f"error: --view must be one of {', '.join(VIEWS)}, not {view!r}", err=True)
            raise typer.Exit(2)
        if not assets_installed():
            typer.echo(
                f"error: Solara's front-end files are not installed in {assets_dir()}; "
                "run scripts/install_ui_assets.sh (needs npm once, then works offline)",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo(f"sim ui: http://{host}:{port}/  (Ctrl-C stops)", err=True)
        cmd = server_command(host, port, production=not dev, view=view)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(cmd[0], cmd, server_env())
