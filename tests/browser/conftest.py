"""A real Hearth server, set up the way `make demo` does, for the browser tests.

The server runs from a temporary HEARTH_VAR_DIR with its own SQLite database (DATABASE_URL is dropped, so a
PostgreSQL run of the suite still gives the server SQLite), demo data and freshly collected static files.
Chromium is the machine's own (/usr/bin/chromium, from Debian's packages: `make browser-deps`); Playwright
never downloads a browser here.
"""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "var" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
VENDOR_CSS = REPO / "static_build" / "vendor" / "bootstrap.min.css"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 375, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
# Variables of the developer's or CI's shell that would point the server elsewhere than its own var dir.
ENV_DROPPED = [
    "DATABASE_URL",
    "HEARTH_SQLITE_PATH",
    "HEARTH_DEBUG",
    "HEARTH_ALLOWED_HOSTS",
    "HEARTH_SECURE_COOKIES",
]
STARTUP_SECONDS = 30


def _bin_dir() -> Path:
    venv = REPO / ".venv" / "bin"
    return venv if (venv / "python").exists() else Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def browser_prerequisites():
    """Skip (with the reason) before any slow setup when the machine cannot run the browser tests."""
    pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (pip -e '.[dev]')"
    )
    if not VENDOR_CSS.exists():
        pytest.skip(f"static assets not built ({VENDOR_CSS.relative_to(REPO)} missing): run `make assets`")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: run `make browser-deps` (installs Debian's chromium)")


@pytest.fixture(scope="session")
def demo_server(browser_prerequisites, tmp_path_factory):
    """migrate, collectstatic, load_demo, gunicorn and the task worker (as `make demo`), in a temp var dir."""
    var_dir = tmp_path_factory.mktemp("hearth-var")
    log_path = var_dir / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROPPED}
    env.update(
        HEARTH_VAR_DIR=str(var_dir),
        HEARTH_DEMO="1",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        HEARTH_SECRET_KEY=secrets.token_urlsafe(50),
        PYTHONUNBUFFERED="1",
    )
    bin_dir = _bin_dir()
    python = str(bin_dir / "python")

    def manage(*args):
        return subprocess.Popen(
            [python, "manage.py", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def finish(step, *args):
        output, _ = step.communicate()
        if step.returncode != 0:
            pytest.fail(f"manage.py {' '.join(args)} failed:\n{output}")

    # collectstatic touches no database: it runs beside migrate; load_demo needs the migrated database.
    collect_args = ("collectstatic", "--no-input", "-v", "0")
    collect = manage(*collect_args)
    try:
        migrate_args = ("migrate", "--no-input", "-v", "0")
        finish(manage(*migrate_args), *migrate_args)
        finish(collect, *collect_args)
    finally:
        if collect.poll() is None:
            collect.kill()
            collect.wait()
    finish(manage("load_demo"), "load_demo")
    assert (var_dir / "hearth.sqlite3").exists(), "the server must use its own SQLite database"

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        # Imports and partner-list matching are background tasks (django-tasks' database backend): without
        # a worker, as scripts/serve runs beside gunicorn, their progress bars would never finish.
        worker = subprocess.Popen(
            [python, "manage.py", "db_worker", "--interval", "0.5", "--no-reload", "--no-startup-delay"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(f"{base_url}/login/"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer on {base_url}:\n{_tail(log_path)}")
            if worker.poll() is not None:
                pytest.fail(f"the task worker exited:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield base_url
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser(browser_prerequisites):
    """Module-scoped: Playwright's event loop is gone before the rest of the suite touches the database."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Screen:
    """One browser context at one width, collecting console errors and uncaught page errors."""

    def __init__(self, browser, base_url: str, kind: str):
        self.kind = kind
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url, locale="zh-CN", reduced_motion="reduce", **VIEWPORTS[kind]
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror on {self.page.url}: {exc}"))
        self.page.on("response", self._response)

    def _console(self, msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url") or self.page.url
            self.errors.append(f"console error on {where}: {msg.text}")

    def _response(self, response):
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status} for {response.url}")

    def assert_no_errors(self):
        assert not self.errors, "errors in the browser:\n" + "\n".join(self.errors)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.kind}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        with contextlib.suppress(Exception):
            self.context.close()


@pytest.fixture
def screen_factory(browser, demo_server):
    screens: list[Screen] = []

    def make(kind: str) -> Screen:
        screen = Screen(browser, demo_server, kind)
        screens.append(screen)
        return screen

    yield make
    for screen in screens:
        screen.close()
