"""Shared pieces of the browser tests: the real server in a subprocess, Debian's chromium, screenshots.

The server runs `supplier-intel init`, then `supplier-intel serve`, on a fresh SQLite file in development mode, so
the mail outbox at /dev/mail exists. Debian's chromium is driven by Playwright; install it with `make browser`.
Test modules import the `*_fixture` functions they use from here.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "browser-test-secret-key-that-is-long-enough-0123456789abcdef"
STARTUP_SECONDS = 30
TIMEOUT_MS = 10_000
COMMAND = str(Path(sys.executable).parent / "supplier-intel")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL, and the environment and folder its `supplier-intel` commands need."""

    url: str
    env: dict[str, str]
    workdir: Path

    def cli(self, *args: str) -> str:
        """Run `supplier-intel ARGS` against this server's database; its standard output."""
        done = subprocess.run(
            [COMMAND, *args], env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"`supplier-intel {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@contextmanager
def running_server(workdir: Path) -> Iterator[LiveServer]:
    """The real service on a free port with a fresh database in `workdir` (its working directory too, so no
    `.env` file is read)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    for name in ("MEILI_URL", "MEILI_MASTER_KEY", "SMTP_HOST"):
        env.pop(name, None)
    env.update(
        APP_ENV="development",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite:///{workdir / 'b.db'}",
        BASE_URL=base_url,
        PORT=str(port),
    )
    live = LiveServer(url=base_url, env=env, workdir=workdir)
    live.cli("init")
    log = (workdir / "server.log").open("w+")
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                state = f"exited with {process.returncode}" if process.poll() is not None else "is not answering"
                pytest.fail(f"The server on {base_url} {state} after {STARTUP_SECONDS} s:\n{log.read()}")
            time.sleep(0.1)
        yield live
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# Named `*_fixture` so that the test modules that import them can take `server` and `browser` as arguments.
@pytest.fixture(scope="module", name="chromium_path")
def chromium_path_fixture() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium for the browser tests"
        print(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module", name="server")
def server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service, shared by a module's tests; yields its base URL."""
    with running_server(tmp_path_factory.mktemp("browser")) as live:
        yield live.url


@pytest.fixture(scope="module", name="browser")
def browser_fixture(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


# Chrome logs every 4xx/5xx answer as a console error too.
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d{3}) \([^)]*\)")


def _nothing_expected(_url: str, _status: int) -> bool:
    return False


def watch(
    target: Page | BrowserContext, base_url: str, *, expected: Callable[[str, int], bool] = _nothing_expected
) -> list[str]:
    """Record console errors (CSP violations among them), failed same-origin requests and same-origin 4xx/5xx
    answers. An answer that `expected(url, status)` allows is recorded as "expected NNN" instead, and Chrome's console
    error for it is left out, so that a test can count it."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        failed = FAILED_LOAD.fullmatch(message.text)
        if not (failed and expected(url, int(failed.group(1)))):
            problems.append(f"console error: {message.text} ({url})")

    def on_request_failed(request: Request) -> None:
        if request.url.startswith(base_url):
            problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        if not response.url.startswith(base_url) or response.status < 400:
            return
        if expected(response.url, response.status):
            problems.append(f"expected {response.status}")
        else:
            problems.append(f"{response.request.method} {response.url} answered {response.status}")

    target.on("console", on_console)
    target.on("requestfailed", on_request_failed)
    target.on("response", on_response)
    return problems
