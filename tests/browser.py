"""Shared pieces of the browser tests: the real server in a subprocess, Debian's chromium, screenshots.

The server runs `supplier-intel init`, then `supplier-intel serve`, on a fresh SQLite file in development mode, so
the mail outbox at /dev/mail exists. Debian's chromium is driven by Playwright; install it with `make browser`.
Test modules import the `*_fixture` functions they use from here.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from app.accounts import SESSION_COOKIE

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


# Chrome logs every 4xx/5xx answer as a console error too, and htmx logs each error answer to its requests.
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d{3}) \([^)]*\)")
# A page's styles, fonts and images still loading when a test goes on to the next page are cancelled by that
# navigation (net::ERR_ABORTED): not a failure of the service. An aborted document or htmx request is still reported.
CANCELLED_BY_NAVIGATION = frozenset({"stylesheet", "font", "image", "media", "script"})
HTMX_ERROR = re.compile(r"Response Status Error Code (\d{3}) from (\S+?)(?:, .*)?")


def _nothing_expected(_url: str, _status: int) -> bool:
    return False


def watch(
    target: Page | BrowserContext, base_url: str, *, expected: Callable[[str, int], bool] = _nothing_expected
) -> list[str]:
    """Record console errors (CSP violations among them), failed same-origin requests and same-origin 4xx/5xx
    answers. An answer that `expected(url, status)` allows is recorded as "expected NNN" instead, and Chrome's (and
    htmx's) console error for it is left out, so that a test can count it."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        failed = FAILED_LOAD.fullmatch(message.text)
        if failed and expected(url, int(failed.group(1))):
            return
        htmx_failed = HTMX_ERROR.fullmatch(message.text)
        if htmx_failed and expected(urljoin(base_url, htmx_failed.group(2)), int(htmx_failed.group(1))):
            return
        problems.append(f"console error: {message.text} ({url})")

    def on_request_failed(request: Request) -> None:
        if not request.url.startswith(base_url):
            return
        if request.failure == "net::ERR_ABORTED" and request.resource_type in CANCELLED_BY_NAVIGATION:
            return
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


# --- accessibility --------------------------------------------------------------------------------------------

# WCAG 2.2 A and AA, as axe-core tags them (2.2 adds AA rules only; its A rules are in wcag2a and wcag21a).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


_AXE = Axe()
_EXPANDED_NOT_ALLOWED = re.compile(r'ARIA attributes? (is|are) not allowed: aria-expanded="(true|false)"')


def _govuk_conditional_reveal(violation: dict[str, Any], node: dict[str, Any]) -> bool:
    """GOV.UK Frontend's script sets aria-expanded on radios and checkboxes that reveal a question. ARIA does not
    list it for those roles, so axe reports it, but GOV.UK keeps it on purpose: screen readers announce it and
    research found it helps (alphagov/govuk-frontend issue 979, a known issue of the Design System). It is the one
    finding let through, and only on those inputs and only for that attribute."""
    if violation["id"] != "aria-allowed-attr":
        return False
    if not re.match(r'<input class="govuk-(radios|checkboxes)__input', node.get("html", "")):
        return False
    messages = [check["message"] for key in ("all", "any", "none") for check in node.get(key, [])]
    return bool(messages) and all(_EXPANDED_NOT_ALLOWED.fullmatch(message) for message in messages)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds on the page as it is now, at WCAG 2.2 A and AA (less GOV.UK's conditional reveals)."""
    options = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations"]}
    found = []
    for violation in _AXE.run(page, options=options).response["violations"]:
        nodes = [node for node in violation["nodes"] if not _govuk_conditional_reveal(violation, node)]
        if nodes:
            found.append({**violation, "nodes": nodes})
    return found


def assert_no_axe_violations(page: Page, context: str) -> None:
    """Fail with every violation axe-core finds, each with its rule, impact, elements and help page.

    axe needs JavaScript to run: a page opened without JavaScript is checked in a context from `scripts_off`, where
    scripting is on for axe but the page's own scripts are empty, so the page is exactly what a browser without
    JavaScript shows."""
    violations = axe_violations(page)
    if not violations:
        return
    lines = [f"{len(violations)} accessibility violation(s) on {context} ({page.url}):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  * {' '.join(str(part) for part in node['target'])}")
            lines.append(f"    {node.get('failureSummary', '').replace(chr(10), ' ')}")
    pytest.fail("\n".join(lines), pytrace=False)


def scripts_off(context: BrowserContext, base_url: str) -> None:
    """Serve every script of the site empty in this context: the page behaves as without JavaScript, while
    Playwright and axe can still run their own."""

    def empty(route: Route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body="")

    context.route(re.compile(rf"^{re.escape(base_url)}/.*\.m?js(\?.*)?$"), empty)


# --- a server with the demo data and signed-in people ----------------------------------------------------------

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 375, "height": 812}
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
DEMO_SUPPLIER = "Quillmere Case Systems (demo)"
DEMO_SLUG = "quillmere-case-systems-demo"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    job_title: str
    role: str = "officer"
    open_to_contact: bool = False


OFFICER = Person("olive.officer@harrow.gov.uk", "Olive Officer", "Digital lead", open_to_contact=True)
PEER = Person("bea.peer@birmingham.gov.uk", "Bea Peer", "Head of ICT", open_to_contact=True)
MODERATOR = Person("mo.moderator@harrow.gov.uk", "Mo Moderator", "Information governance officer", "moderator")
SECOND_MODERATOR = Person("max.moderator@leeds.gov.uk", "Max Moderator", "Data protection officer", "moderator")
ADMIN = Person("ada.admin@harrow.gov.uk", "Ada Admin", "Service owner", "admin")
PEOPLE = (OFFICER, PEER, MODERATOR, SECOND_MODERATOR, ADMIN)

# Creates people with their details and starts a session for each: argv[1] is a JSON list of Person fields;
# prints {email: session cookie}.
_SESSIONS = """
import json, sys
from sqlmodel import Session
from app import accounts
from app.config import get_settings
from app.db import get_engine
from app.models import Role

cookies = {}
with Session(get_engine()) as session:
    for person in json.loads(sys.argv[1]):
        user = accounts.create_user(session, raw_email=person["email"], role=Role(person["role"]), name=person["name"])
        user.job_title, user.open_to_contact = person["job_title"], person["open_to_contact"]
        session.add(user)
        cookies[user.email] = accounts.start_session(session, user=user, settings=get_settings())
        session.commit()
print(json.dumps(cookies))
"""

_SEED_DEMO = """
from sqlmodel import Session
from app import demo
from app.db import get_engine
from app.search import documents, indexer
from app.search.service import backend_for

engine = get_engine()
backend, _ = backend_for(engine)
with Session(engine) as session:
    demo.seed_demo(session)
    for name in documents.INDEX_NAMES:
        indexer.reindex(session, backend, index=name)
"""

# Submits a review through the same service as the form, so it is screened and queued as an officer's would be:
# argv is the author's email, the supplier's slug, the headline, what worked, and "publish" to have MODERATOR
# approve it. Prints {"id", "status", "item"}.
_SUBMIT_REVIEW = """
import json, sys
from sqlmodel import Session, select
from app import contributions
from app.db import get_engine
from app.models import ContentType, Supplier, User
from app.moderation import queue

email, slug, headline, worked_well, publish = sys.argv[1:6]
raw = {
    "relationship": "live_contract", "service_area": "ICT infrastructure", "implementation": "4",
    "customisation_cost": "3", "fit": "4", "support": "4", "value": "3", "partnership": "3", "data_exit": "na",
    "overall": "7", "recommend": "yes", "headline": headline, "worked_well": worked_well,
}
with Session(get_engine()) as session:
    author = session.exec(select(User).where(User.email == email)).one()
    supplier = session.exec(select(Supplier).where(Supplier.slug == slug)).one()
    data = contributions.parse_review(session, supplier=supplier, raw=raw)
    done = contributions.submit_review(session, author=author, supplier=supplier, data=data)
    item = contributions.open_item_for(session, content_type=ContentType.review, content_id=done.content.id)
    status = done.status.value
    if publish == "publish" and item is not None:
        moderator = session.exec(select(User).where(User.email == "%s")).one()
        queue.decide(session, moderator=moderator, item_id=item.id, version=item.version, action=queue.Action.approve)
        status, item = "published", None
    print(json.dumps({"id": done.content.id, "status": status, "item": item.id if item else None}))
"""


def run_python(live: LiveServer, script: str, *args: str) -> str:
    """Run a Python snippet against the server's database, as `supplier-intel` would; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=live.env,
        cwd=live.workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the seeding script failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class DemoServer:
    """A running server with the demo data, searchable, and a signed-in session for each of `PEOPLE`."""

    live: LiveServer
    cookies: dict[str, str]

    @property
    def url(self) -> str:
        return self.live.url

    def add_people(self, *people: Person) -> None:
        """Create more people (or change their role) and sign each of them in."""
        fields = [person.__dict__ for person in people]
        self.cookies.update(json.loads(run_python(self.live, _SESSIONS, json.dumps(fields))))

    def submit_review(
        self, author: Person, headline: str, worked_well: str, *, slug: str = DEMO_SLUG, publish: bool = False
    ) -> dict[str, Any]:
        """Submit a review as `author` would from the form, and with `publish` have a moderator approve it;
        {"id", "status", "item" (the open queue item or None)}."""
        script = _SUBMIT_REVIEW % MODERATOR.email
        output = run_python(self.live, script, author.email, slug, headline, worked_well, "publish" if publish else "")
        answer: dict[str, Any] = json.loads(output)
        return answer

    def context(
        self,
        browser: Browser,
        person: Person | None = None,
        *,
        js: bool = True,
        viewport: ViewportSize = DESKTOP,
    ) -> BrowserContext:
        """A browser context, signed in as `person` (or nobody), with or without JavaScript."""
        context = browser.new_context(base_url=self.url, java_script_enabled=js, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        if person is not None:
            context.add_cookies([{"name": SESSION_COOKIE, "value": self.cookies[person.email], "url": self.url}])
        return context


_demo_servers: dict[int, DemoServer] = {}


@pytest.fixture(scope="module", name="demo")
def demo_fixture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DemoServer:
    """One server with the demo data for the whole run, shared by the modules that ask for it: starting and seeding
    one takes about 20 seconds. Tests that change things use their own people or their own contributions."""
    key = id(request.config)
    if key not in _demo_servers:
        stack = ExitStack()
        request.config.add_cleanup(stack.close)
        live = stack.enter_context(running_server(tmp_path_factory.mktemp("demo")))
        run_python(live, _SEED_DEMO)
        demo = DemoServer(live=live, cookies={})
        demo.add_people(*PEOPLE)
        _demo_servers[key] = demo
        request.config.add_cleanup(lambda: _demo_servers.pop(key, None))
    return _demo_servers[key]


# --- journeys: each test with JavaScript and without, in contexts of its own ----------------------------------


@pytest.fixture(name="js", params=[True, False], ids=["js", "nojs"])
def js_fixture(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(name="contexts")
def contexts_fixture(browser: Browser, demo: DemoServer) -> Iterator[list[BrowserContext]]:
    """Contexts the test opens with `open_as`; closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_as(
    contexts: list[BrowserContext],
    browser: Browser,
    demo: DemoServer,
    person: Person | None,
    *,
    js: bool,
    axe: bool = False,
) -> tuple[Page, list[str]]:
    """A page as `person` (None: signed out) in a new context, watched for errors, 422 answers expected.

    Without `js` the site's scripts do not run: JavaScript is off, or, for a test that runs axe-core, on for
    Playwright and axe only, with every script of the site served empty (`scripts_off`)."""
    context = demo.context(browser, person, js=js or axe)
    if axe and not js:
        scripts_off(context, demo.url)
    contexts.append(context)
    problems = watch(context, demo.url, expected=lambda _url, status: status == 422)
    return context.new_page(), problems


def unexpected(problems: list[str]) -> list[str]:
    return [problem for problem in problems if not problem.startswith("expected ")]


def officer(tag: str, js: bool, *, open_to_contact: bool = False) -> Person:
    """A new officer for one run of a test."""
    variant = "js" if js else "nojs"
    return Person(
        f"{tag}.{variant}@harrow.gov.uk", f"{tag.title()} {variant.title()}", "Systems lead", "officer", open_to_contact
    )


def open_email(page: Page, to: str, subject: str | re.Pattern[str]) -> str:
    """Open the newest email to `to` with `subject` in the development outbox; its text."""
    page.goto("/dev/mail")
    heading(page, "Mail outbox")
    row = page.get_by_role("row").filter(has_text=to).filter(has=page.get_by_role("link", name=subject)).first
    row.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    return page.locator(".app-mail-body").inner_text()
