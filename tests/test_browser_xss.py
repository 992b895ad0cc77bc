"""XSS in a real browser: a published review whose text is made of attacks, read where people read it.

An officer's review holds script tags, event handlers, SVG onload and javascript: links; a moderator opens it in
the queue and approves it; then the supplier page, the search results (with the matches highlighted) and the
moderation item page are opened in chromium. No dialog may open, and no element the payloads would create may
exist in the page.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.browser import (
    MODERATOR,
    DemoServer,
    Person,
    browser_fixture,
    chromium_path_fixture,
    run_python,
    running_server,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture)  # from tests.browser, for pytest to find here

WRITER = Person("xavier.writer@harrow.gov.uk", "Xavier Writer", "Digital lead")
MARKER = "Quokkazap"  # a word to search for, so the results highlight the text around the payloads
HEADLINE = f"{MARKER} <img src=x id=xss-img onerror=alert('img')> <svg id=xss-svg onload=alert('svg')>"
WORKED_WELL = (
    f"{MARKER} worked. <script id=xss-script>alert('script')</script> "
    "<a id=xss-link href=\"javascript:alert('link')\">click</a> "
    "<iframe id=xss-frame src=\"javascript:alert('frame')\"></iframe> "
    "<details id=xss-details open ontoggle=alert('toggle')>x</details> "
    "\"><body onload=alert('body')> '><input id=xss-input autofocus onfocus=alert('focus')> "
    "{{ 7777*7 }} <math><mi xlink:href=\"data:x,<script>alert('math')</script>\">m</mi></math>"
)
INJECTED = "#xss-img, #xss-svg, #xss-script, #xss-link, #xss-frame, #xss-details, #xss-input"

_FIRST_SUPPLIER = """
from sqlmodel import Session, col, select
from app.db import get_engine
from app.models import ContentStatus, Supplier
with Session(get_engine()) as session:
    supplier = session.exec(
        select(Supplier).where(col(Supplier.status) == ContentStatus.published).order_by(col(Supplier.id))
    ).first()
    print(supplier.slug)
"""

_APPROVE = """
import sys
from sqlmodel import Session, select
from app.db import get_engine
from app.models import ModerationItem, User
from app.moderation import queue
with Session(get_engine()) as session:
    moderator = session.exec(select(User).where(User.email == sys.argv[1])).one()
    item = session.get(ModerationItem, int(sys.argv[2]))
    queue.decide(session, moderator=moderator, item_id=item.id, version=item.version, action=queue.Action.approve)
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, str, int]]:
    """A server of its own (the shared demo one keeps its counts), the review's supplier and its queue item."""
    with running_server(tmp_path_factory.mktemp("xss")) as live:
        server = DemoServer(live=live, cookies={})
        server.add_people(WRITER, MODERATOR)
        slug = run_python(live, _FIRST_SUPPLIER).strip()
        review = server.submit_review(WRITER, HEADLINE, WORKED_WELL, slug=slug)
        assert review["item"], f"a new author's review waits for a moderator: {json.dumps(review)}"
        yield server, slug, int(review["item"])


def open_and_check(page: Page, path: str, dialogs: list[str]) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # time for any handler (onload, autofocus, ontoggle) to have fired
    assert dialogs == [], f"a dialog opened on {path}: {dialogs}"
    assert page.locator(INJECTED).count() == 0, f"an injected element exists on {path}"
    assert page.locator("[onerror], [onload], [onfocus], [ontoggle], [onclick]").count() == 0, path
    own = [src for src in page.locator("script").evaluate_all("nodes => nodes.map(n => n.src)")]
    assert own and all("/static/" in src for src in own), f"a script that is not ours on {path}: {own}"
    assert "54439" not in page.content(), f"template syntax was evaluated on {path}"


def test_a_published_review_made_of_attacks_runs_nothing(
    browser: Browser, published: tuple[DemoServer, str, int], tmp_path: Path
) -> None:
    server, slug, item = published
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    moderator = server.context(browser, MODERATOR)
    moderator.on("dialog", record)
    page = moderator.new_page()
    open_and_check(page, f"/moderation/items/{item}", dialogs)  # what the moderator reads before approving
    assert MARKER in page.content()
    run_python(server.live, _APPROVE, MODERATOR.email, str(item))

    writer = server.context(browser, WRITER)
    writer.on("dialog", record)
    reader = writer.new_page()
    open_and_check(reader, f"/vendors/{slug}", dialogs)
    assert reader.get_by_text(MARKER, exact=False).count() > 0, "the review is published on the supplier page"
    open_and_check(reader, f"/search?index=reviews&q={MARKER.lower()}", dialogs)
    assert reader.locator("mark").count() > 0, "the search results highlight the match"
    open_and_check(page, f"/moderation/items/{item}", dialogs)  # and the decided item, as moderators see it later
    moderator.close()
    writer.close()
