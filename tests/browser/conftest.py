"""Browser-test harness: headless Debian Chromium via Playwright (sync API).

Fixtures
--------
chromium_browser   session-scoped Playwright Browser (/usr/bin/chromium); skips if absent.
page               a fresh Page per test. Records every request URL (``page_log.urls``),
                   aborts and FAILS the test on any request to a host other than
                   127.0.0.1/localhost/[::1], and fails it on any ``pageerror`` or
                   console error. Tolerate a known console message with
                   ``page_log.allow_console(r"regex")``.
page_log           the recorder behind ``page`` (urls, offsite, page_errors, console_errors).
start_server       factory: ``start_server(cmd, path="/")`` runs ``cmd`` (``{port}`` is
                   replaced by a free port), waits until it answers HTTP, kills it at teardown.
solara_server      factory: ``solara_server("app.py")`` = ``solara run`` on 127.0.0.1, offline.
screenshot         ``screenshot("name")`` saves docs/img/ui/name.png (dir overridable with
                   $UI_SCREENSHOT_DIR) and returns its path.

Solara's front-end must be installed locally first: scripts/install_ui_assets.sh.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# schemes that never touch the network
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(os.environ.get("UI_SCREENSHOT_DIR", REPO_ROOT / "docs" / "img" / "ui"))


def is_local_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_browser(playwright_session):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class PageLog:
    urls: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    allowed_console: list[re.Pattern] = field(default_factory=list)

    def allow_console(self, pattern: str) -> None:
        """Tolerate console errors matching ``pattern`` (re.search)."""
        self.allowed_console.append(re.compile(pattern))

    def problems(self) -> list[str]:
        out = [f"non-local request: {u}" for u in self.offsite]
        out += [f"pageerror: {e}" for e in self.page_errors]
        out += [
            f"console error: {e}"
            for e in self.console_errors
            if not any(p.search(e) for p in self.allowed_console)
        ]
        return out

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise AssertionError("browser page problems:\n  " + "\n  ".join(problems))


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(chromium_browser, page_log):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 900}, service_workers="block")
    log = page_log

    def guard(route):
        url = route.request.url
        if is_local_url(url):
            route.continue_()
        else:  # never let it leave the machine; record it and fail the test
            log.offsite.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    pg = context.new_page()
    pg.on("request", lambda req: log.urls.append(req.url))
    pg.on("pageerror", lambda err: log.page_errors.append(str(err)))

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            log.console_errors.append(f"{msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

    pg.on("console", on_console)
    pg._sim_page_log = log  # lets the hook below find the log
    try:
        yield pg
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not just its teardown) on offsite requests or page errors."""
    pg = getattr(item, "funcargs", {}).get("page")
    log = getattr(pg, "_sim_page_log", None)
    try:
        result = yield
    except BaseException:
        if log is not None and (log.problems() or log.urls):
            item.add_report_section("call", "browser", "\n".join(log.problems() + ["requests:"] + log.urls))
        raise
    if log is not None:
        log.check()
    return result


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_http(url: str, proc: subprocess.Popen, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
            last = e
        except (urllib.error.URLError, OSError) as e:
            last = e
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last}):\n{log_path.read_text(errors='replace')[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    # the server runs in its own session/process group that we created: end just that group
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def offline_server_env(extra: dict | None = None) -> dict:
    """Environment for a Solara server that must never reach the internet."""
    env = dict(os.environ)
    env.update(
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
        # a missing local asset then fails fast (a 500 the page test reports),
        # instead of the server trying the public CDN
        SOLARA_ASSETS_CDN="http://127.0.0.1:9/",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _server_factory(basetemp: Path):
    """Yield ``_start(cmd, path="/", env=None, cwd=None, timeout=90.0) -> Server``; stop all started at the end.

    ``{port}`` in ``cmd`` is replaced by a free port; ``_start`` returns once ``path``
    answers HTTP. Each server runs in its own process group, stopped at teardown.
    """
    started: list[Server] = []

    def _start(cmd, path="/", env=None, cwd=None, timeout=90.0) -> Server:
        port = free_port()
        argv = [str(a).replace("{port}", str(port)) for a in cmd]
        log_path = Path(tempfile.mkstemp(prefix="server-", suffix=".log", dir=basetemp)[1])
        with open(log_path, "wb") as fh:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = Server(proc=proc, port=port, url=f"http://127.0.0.1:{port}", log_path=log_path)
        started.append(server)
        _wait_http(server.url + path, proc, timeout, log_path)
        return server

    yield _start
    for server in reversed(started):
        _stop(server.proc)


@pytest.fixture
def start_server(tmp_path_factory):
    yield from _server_factory(tmp_path_factory.getbasetemp())


@pytest.fixture
def solara_server(start_server):
    """``solara_server(app, **env)``: serve a Solara app file/module on 127.0.0.1, offline."""

    def _run(app, production=True, env=None, cwd=None, timeout=90.0) -> Server:
        solara_bin = shutil.which("solara", path=str(Path(sys.executable).parent)) or "solara"
        cmd = [solara_bin, "run", str(app), "--host", "127.0.0.1", "--port", "{port}", "--no-open"]
        if production:
            cmd.append("--production")
        return start_server(cmd, env=offline_server_env(env), cwd=cwd, timeout=timeout)

    return _run


# --------------------------------------------------------------------------- screenshots


@pytest.fixture
def screenshot(page):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def _shot(name: str, target=None, full_page: bool = True) -> Path:
        path = SCREENSHOT_DIR / (name if name.endswith(".png") else f"{name}.png")
        if target is None or hasattr(target, "goto"):  # a Page
            (target or page).screenshot(path=str(path), full_page=full_page)
        else:  # a Locator / ElementHandle
            target.screenshot(path=str(path))
        return path

    return _shot


# --------------------------------------------------------------------------- shared servers


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """Factory for a server shared by every test of one module: ``module_server(cmd, path="/")``.

    Same contract as ``start_server`` (``{port}`` replaced, waits for HTTP, stops the
    process group at the end of the module). Use it only where the tests do not
    depend on server-side state left by each other (e.g. one Solara session per page).
    """
    yield from _server_factory(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def offline_env() -> dict:
    """The environment of an offline server (see ``offline_server_env``)."""
    return offline_server_env()
