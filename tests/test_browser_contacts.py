"""A real browser through peer contact by double opt-in: ask the author of a review to be put in touch, and the
peer accepts (both then see each other's details), declines (the requester sees only "Declined") or never answers
(the request expires by `supplier-intel expire-contacts`).

JavaScript is on throughout. The officers sign in for the first time, so each gives their details; the reviews they
are asked about are published straight into the server's database by a small Python subprocess, since writing and
moderating a review through the browser is `test_browser_contribute.py`'s job.
"""

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser import (
    TIMEOUT_MS,
    LiveServer,
    browser_fixture,
    chromium_path_fixture,
    heading,
    open_email,
    running_server,
    screenshot,
    watch,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture)  # from tests.browser, for pytest to find here

SUPPLIER = "Symantec Ltd"
HARROW = "London Borough of Harrow"
BIRMINGHAM = "Birmingham City Council"

# Publishes a review by an existing officer: argv is the author's email, then the headline; prints the review's id.
SEED_REVIEW = """
import sys
from sqlmodel import Session, select
from app.db import get_engine
from app.models import ContentStatus, Relationship, Review, Supplier, User, utcnow

email, headline = sys.argv[1], sys.argv[2]
with Session(get_engine()) as session:
    author = session.exec(select(User).where(User.email == email)).one()
    supplier = session.exec(select(Supplier).where(Supplier.name == "Symantec Ltd")).one()
    review = Review(
        supplier_id=supplier.id, author_id=author.id, council_id=author.council_id, author_role=author.job_title,
        status=ContentStatus.published, implementation=4, customisation_cost=3, fit=4, support=4, value=3,
        partnership=3, data_exit=None, overall=7, recommend=True, relationship=Relationship.live_contract,
        service_area="ICT infrastructure", headline=headline,
        worked_well="Rollout to every device took a fortnight.", published_at=utcnow(),
    )
    session.add(review)
    session.commit()
    print(review.id)
"""


@dataclass(frozen=True)
class Officer:
    email: str
    name: str
    job_title: str
    council: str


@pytest.fixture(scope="module", name="live")
def live_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module: each test has its own officers, so they do not see each other's requests."""
    with running_server(tmp_path_factory.mktemp("contacts")) as live:
        yield live


def seed_review(live: LiveServer, author: Officer, headline: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SEED_REVIEW, author.email, headline],
        env=live.env,
        cwd=live.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"seeding a review failed:\n{done.stdout}\n{done.stderr}"
    return int(done.stdout.strip())


def supplier_slug(live: LiveServer) -> str:
    database = live.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        return str(connection.execute("SELECT slug FROM supplier WHERE name = ?", (SUPPLIER,)).fetchone()[0])


def new_context(browser: Browser, live: LiveServer) -> BrowserContext:
    context = browser.new_context(base_url=live.url, java_script_enabled=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(page: Page, live: LiveServer, officer: Officer, *, open_to_contact: bool = False) -> None:
    """Follow a link from `supplier-intel login-link`, then give the details a first sign-in asks for."""
    page.goto(live.cli("login-link", officer.email).strip())
    heading(page, "Sign in to Supplier Intelligence Exchange")
    page.get_by_role("button", name="Continue").click()
    heading(page, "Your details")
    page.get_by_label("Full name").fill(officer.name)
    page.get_by_label("Job title").fill(officer.job_title)
    if open_to_contact:  # consent is opt-in: without it their reviews show no "Request a peer contact" link
        page.get_by_label("Other officers may ask to be put in touch with me about what I write").check()
    page.get_by_role("button", name="Save your details").click()
    heading(page, "Your account")


def request_contact(page: Page, supplier_url: str, headline: str, message: str, *, shot: str | None = None) -> None:
    """From the supplier page, ask the author of the review `headline` to be put in touch."""
    page.goto(supplier_url)
    heading(page, SUPPLIER)
    review = page.get_by_role("article").filter(has=page.get_by_role("heading", name=headline))
    review.get_by_role("link", name="Request a peer contact").click()
    heading(page, "Request a peer contact")
    expect(page.locator(".govuk-caption-l")).to_have_text(f"Review of {SUPPLIER}: {headline}")
    page.get_by_label("What would you like to learn from them?").fill(message)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Send request").click()
    heading(page, "Contact requests")


def request_block(page: Page, headline: str) -> Locator:
    return page.locator(".app-contact-request").filter(has_text=f"Review of {SUPPLIER}: {headline}")


def outbox(page: Page) -> list[tuple[str, str]]:
    """Every (to, subject) pair in the development outbox."""
    page.goto("/dev/mail")
    heading(page, "Mail outbox")
    rows = page.locator("tbody tr")
    return [
        (rows.nth(i).locator("td").nth(0).inner_text().strip(), rows.nth(i).locator("td").nth(1).inner_text().strip())
        for i in range(rows.count())
    ]


def shows_person(block: Locator, person: Officer) -> None:
    for text in (person.name, person.job_title, person.council, person.email):
        expect(block).to_contain_text(text)


# templates/contacts/_request.html builds the Email row's html as `'<a ...' ~ (email | e) ~ ...`: joining plain
# strings to the Markup that `| e` gives makes Jinja escape the plain parts, so the page shows the <a> tag as text.


def test_accepted_request_shares_both_officers_details(browser: Browser, live: LiveServer) -> None:
    alex = Officer("alex.asker@harrow.gov.uk", "Alex Asker", "Head of ICT", HARROW)
    bea = Officer("bea.peer@birmingham.gov.uk", "Bea Peer", "Endpoint security lead", BIRMINGHAM)
    headline = "Solid protection, slow policy changes"
    message = "How long did the migration from your old antivirus take, and what did you pay per device?"
    note = "Happy to talk: Tuesdays are best."
    asker, peer = new_context(browser, live), new_context(browser, live)
    try:
        asker_problems, peer_problems = watch(asker, live.url), watch(peer, live.url)
        a_page, b_page = asker.new_page(), peer.new_page()
        sign_in(a_page, live, alex)
        sign_in(b_page, live, bea, open_to_contact=True)
        seed_review(live, bea, headline)

        # 1. Alex finds Bea's review, which shows her role and council only, and asks to be put in touch.
        a_page.get_by_role("navigation").get_by_role("link", name="Suppliers").click()
        a_page.get_by_label("Supplier name").fill("symantec")
        a_page.get_by_role("button", name="Find").click()
        a_page.get_by_role("link", name=SUPPLIER, exact=True).click()
        heading(a_page, SUPPLIER)
        supplier_url = a_page.url
        review = a_page.get_by_role("article").filter(has=a_page.get_by_role("heading", name=headline))
        expect(review.locator(".app-review__author")).to_contain_text(f"{bea.job_title}, {BIRMINGHAM}")
        expect(a_page.locator("body")).not_to_contain_text(bea.name)
        request_contact(a_page, supplier_url, headline, message, shot="contacts-request-form")
        mine = request_block(a_page, headline)
        expect(mine).to_contain_text("Pending")
        expect(mine).to_contain_text(f"The author: {bea.job_title}, {BIRMINGHAM}")
        expect(a_page.locator("main")).not_to_contain_text(bea.name)
        expect(a_page.locator("main")).not_to_contain_text(bea.email)

        # 2. Bea gets an email with Alex's role and council, not his name, and follows the accept link.
        body = open_email(b_page, bea.email, "A peer would like to be put in touch with you")
        assert f"{alex.job_title} at {HARROW}" in body
        assert message in body
        assert alex.name not in body and alex.email not in body
        screenshot(b_page, "contacts-email")
        b_page.locator(".app-mail-body a", has_text="/contacts/decide/").first.click()
        heading(b_page, "Accept a contact request")
        expect(b_page.get_by_role("main")).to_contain_text(f"{alex.job_title}, {HARROW} would like to be put in touch")
        expect(b_page.locator(".govuk-inset-text")).to_have_text(message)
        expect(b_page.get_by_role("main")).not_to_contain_text(alex.name)
        b_page.get_by_label("A note for them (optional)").fill(note)
        screenshot(b_page, "contacts-accept-confirm")
        b_page.get_by_role("button", name="Accept and share my details").click()
        heading(b_page, "You accepted the request")

        # 3. Each now sees the other's name, job title, council and work email.
        b_page.get_by_role("link", name="See your contact requests").click()
        heading(b_page, "Contact requests")
        theirs = request_block(b_page, headline)
        expect(theirs).to_contain_text("Accepted")
        shows_person(theirs, alex)
        expect(theirs.get_by_role("button", name="Decline")).to_have_count(0)
        screenshot(b_page, "contacts-accepted-peer")

        a_page.goto("/account/contacts")
        mine = request_block(a_page, headline)
        expect(mine).to_contain_text("Accepted")
        shows_person(mine, bea)
        expect(mine).to_contain_text(note)
        screenshot(a_page, "contacts-accepted-requester")

        # 4. The outbox has the whole exchange, for both of them.
        sent = outbox(a_page)
        for to, subject in [
            (bea.email, "A peer would like to be put in touch with you"),
            (alex.email, "Your contact request was accepted"),
            (bea.email, "You accepted a contact request"),
        ]:
            assert (to, subject) in sent, f"no “{subject}” to {to} in {sent}"
        body = open_email(a_page, alex.email, "Your contact request was accepted")
        for text in (bea.name, bea.job_title, BIRMINGHAM, bea.email, note):
            assert text in body
        body = open_email(b_page, bea.email, "You accepted a contact request")
        for text in (alex.name, alex.job_title, HARROW, alex.email):
            assert text in body
        # The other officer's email is a mailto link, not markup shown as text.
        for page, person in ((a_page, bea), (b_page, alex)):
            page.goto("/account/contacts")
            block = request_block(page, headline)
            assert 'href="mailto:' not in block.inner_text()
            expect(block.get_by_role("link", name=person.email)).to_have_attribute("href", f"mailto:{person.email}")
    finally:
        asker.close()
        peer.close()
    assert asker_problems == []
    assert peer_problems == []


def test_declined_and_expired_requests_share_nothing(browser: Browser, live: LiveServer) -> None:
    cai = Officer("cai.curious@harrow.gov.uk", "Cai Curious", "Revenues systems manager", HARROW)
    dee = Officer("dee.private@birmingham.gov.uk", "Dee Private", "Infrastructure architect", BIRMINGHAM)
    first, second = "Good console, awkward licensing", "Endpoint agent was heavy on old laptops"
    asker, peer = new_context(browser, live), new_context(browser, live)
    try:
        asker_problems = watch(asker, live.url)
        used_link = f"{live.url}/contacts/decide/"
        peer_problems = watch(peer, live.url, expected=lambda url, status: status == 400 and url.startswith(used_link))
        a_page, b_page = asker.new_page(), peer.new_page()
        sign_in(a_page, live, cai)
        sign_in(b_page, live, dee, open_to_contact=True)
        seed_review(live, dee, first)
        supplier_url = f"{live.url}/vendors/{supplier_slug(live)}"
        seed_review(live, dee, second)

        # 1. Cai asks; Dee declines on her Contact requests page.
        request_contact(a_page, supplier_url, first, "What did the licence true-up look like at renewal?")
        b_page.goto("/account/contacts")
        theirs = request_block(b_page, first)
        expect(theirs).to_contain_text(f"{cai.job_title}, {HARROW}")
        expect(theirs).not_to_contain_text(cai.name)
        theirs.get_by_role("button", name="Decline").click()
        heading(b_page, "Contact requests")
        expect(request_block(b_page, first)).to_contain_text("Declined")

        a_page.goto("/account/contacts")
        mine = request_block(a_page, first)
        expect(mine).to_contain_text("Declined")
        page_text = a_page.locator("body").inner_text()
        assert dee.name not in page_text and dee.email not in page_text

        # The emailed accept link is single use: after the decline it only says it cannot be used (a 400).
        open_email(b_page, dee.email, "A peer would like to be put in touch with you")
        b_page.locator(".app-mail-body a", has_text="/contacts/decide/").first.click()
        heading(b_page, "This link cannot be used")
        screenshot(b_page, "contacts-link-used")

        # 2. Cai asks about another review; nobody answers, and `expire-contacts` expires it once it is overdue.
        request_contact(a_page, supplier_url, second, "Did you find a way to make the agent lighter?")
        pending = request_block(a_page, second)
        expect(pending).to_contain_text("Pending")
        request_id = int((pending.get_attribute("id") or "").removeprefix("contact-"))
        database = live.env["DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(database) as connection:
            changed = connection.execute(
                "UPDATE contact_request SET expires_at = '2000-01-01 00:00:00.000000' WHERE id = ?", (request_id,)
            ).rowcount
        assert changed == 1
        assert live.cli("expire-contacts").strip() == "1 contact request expired."

        a_page.reload()
        heading(a_page, "Contact requests")
        expect(request_block(a_page, second)).to_contain_text("Expired")
        expect(request_block(a_page, first)).to_contain_text("Declined")
        page_text = a_page.locator("body").inner_text()
        assert dee.name not in page_text and dee.email not in page_text
        screenshot(a_page, "contacts-declined-expired")
        b_page.goto("/account/contacts")
        expect(request_block(b_page, second)).to_contain_text("Expired")
        expect(b_page.get_by_role("button", name="Accept and share my details")).to_have_count(0)

        sent = outbox(a_page)
        for subject in ("Your contact request was declined", "Your contact request has expired"):
            assert (cai.email, subject) in sent, f"no “{subject}” to {cai.email} in {sent}"
        body = open_email(a_page, cai.email, "Your contact request was declined")
        assert dee.name not in body and dee.email not in body
    finally:
        asker.close()
        peer.close()
    assert asker_problems == []
    assert peer_problems == ["expected 400"]  # the used link, and nothing else
