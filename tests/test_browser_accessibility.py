"""axe-core on every page, with JavaScript and without, and on the states htmx draws: zero violations at WCAG 2.2
A and AA.

`PAGES` is the one list of what is checked: a new page is one line. Each row is opened as its person (or signed
out), brought into its state by `setup` (a form submitted with errors, a preview...), then checked by axe-core
(`tests.browser.assert_no_axe_violations`). Without JavaScript the site's scripts are served empty
(`tests.browser.scripts_off`), so the page is the one a browser without JavaScript gets, and axe can still run.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import (
    ADMIN,
    DEMO_SLUG,
    MODERATOR,
    OFFICER,
    PEER,
    DemoServer,
    Person,
    assert_no_axe_violations,
    browser_fixture,
    chromium_path_fixture,
    demo_fixture,
    scripts_off,
    watch,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture, demo_fixture)  # from tests.browser, for pytest to find here

PRICE_TEXT = "Good value at £12,500 per year, and the helpdesk answered within the hour."


def error_summary(page: Page) -> None:
    expect(page.get_by_role("alert").get_by_role("heading", name="There is a problem")).to_be_visible()


def press(button: str) -> Callable[[Page], None]:
    """Submit the page's form with `button` as it is: the required fields are empty, so it comes back with errors."""

    def setup(page: Page) -> None:
        page.get_by_role("button", name=button, exact=True).click()
        error_summary(page)

    return setup


def sign_in_refused(page: Page) -> None:
    page.get_by_label("Council work email address").fill("someone@gmail.com")
    press("Email me a sign-in link")(page)


def check_your_email(page: Page) -> None:
    page.get_by_label("Council work email address").fill("axe.checker@harrow.gov.uk")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")


def profile_errors(page: Page) -> None:
    page.get_by_label("Full name").fill("")
    press("Save your details")(page)


def screening_preview(page: Page) -> None:
    page.get_by_label("What worked", exact=True).fill(PRICE_TEXT)
    page.get_by_role("button", name="Check my review").click()
    expect(page.get_by_role("heading", name="Screening found 1 thing to check")).to_be_visible()


def contact_request(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Request a peer contact")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a peer contact")


def contact_request_errors(page: Page) -> None:
    contact_request(page)
    press("Send request")(page)


def first_message(page: Page) -> None:
    page.locator("main tbody a").first.click()
    expect(page.locator(".app-mail-body")).to_be_visible()


def typed_search(page: Page) -> None:
    """Search as you type: htmx swaps the results in (with JavaScript); without, the form is submitted."""
    page.get_by_label("Search suppliers, pilots and reviews").fill("case management")
    if not page.evaluate("() => Boolean(window.htmx)"):
        page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#results-count")).to_contain_text("for “case management”")


def filtered_reviews(page: Page) -> None:
    page.get_by_label("Sort by").select_option("highest")
    page.get_by_label("Relationship with the supplier").select_option("live_contract")
    if not page.evaluate("() => Boolean(window.htmx)"):
        page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".app-review-count")).to_contain_text("match your filters")


def watched_test(page: Page) -> None:
    page.get_by_label("Text to test").fill("The renewal was handled by the account team.")
    page.get_by_role("button", name="Test this text").click()
    expect(page.locator(".app-watched-test-result")).to_be_visible()


def watched_bad_import(page: Page) -> None:
    bad = b"term,action,replacement,category,case_sensitive\naxe-check,silence,,,\n"
    page.get_by_label("Import a CSV file").set_input_files(
        files=[{"name": "terms.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    press("Import terms")(page)


def change_watched_term(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Change")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Change “"))


def change_watched_term_errors(page: Page) -> None:
    change_watched_term(page)
    page.get_by_label("Word or phrase").fill("")
    press("Save changes")(page)


@dataclass(frozen=True)
class Case:
    """A page in a state: open `path` as `who` (None: signed out), then `setup`. `status` is the answer expected
    for the page itself or for the form that `setup` submits, when it is not a success."""

    name: str
    path: str
    who: Person | None
    setup: Callable[[Page], None] | None = None
    status: int | None = None


PAGES = [
    # Public
    Case("home", "/", None),
    Case("about the data", "/about-the-data", None),
    Case("privacy", "/privacy", None),
    Case("accessibility statement", "/accessibility", None),
    Case("terms", "/terms", None),
    Case("sign in", "/sign-in", None),
    Case("sign in, refused address", "/sign-in", None, sign_in_refused, 422),
    Case("check your email", "/sign-in", None, check_your_email),
    Case("signed out", "/signed-out", None),
    Case("page not found", "/vendors/no-such-supplier", OFFICER, status=404),
    Case("complaint form", "/complaints/new", None),
    Case("complaint form, errors", "/complaints/new", None, press("Send notice of complaint"), 422),
    # Officers
    Case("your account", "/account", OFFICER),
    Case("your details", "/account/profile", OFFICER),
    Case("your details, errors", "/account/profile", OFFICER, profile_errors, 422),
    Case("search", "/search", OFFICER),
    Case("search, typed", "/search", OFFICER, typed_search),
    Case("search reviews, filtered", "/search?index=reviews&q=support&sort=newest", OFFICER),
    Case("suppliers", "/vendors", OFFICER),
    Case("suppliers, found", "/vendors?q=quillmere", OFFICER),
    Case("supplier", f"/vendors/{DEMO_SLUG}", OFFICER),
    Case("supplier, reviews filtered", f"/vendors/{DEMO_SLUG}", OFFICER, filtered_reviews),
    Case("write a review", f"/vendors/{DEMO_SLUG}/reviews/new", OFFICER),
    Case("write a review, errors", f"/vendors/{DEMO_SLUG}/reviews/new", OFFICER, press("Submit review"), 422),
    Case("write a review, screening preview", f"/vendors/{DEMO_SLUG}/reviews/new", OFFICER, screening_preview),
    Case("record a pilot", f"/vendors/{DEMO_SLUG}/pilots/new", OFFICER),
    Case("record a pilot, errors", f"/vendors/{DEMO_SLUG}/pilots/new", OFFICER, press("Submit pilot record"), 422),
    Case("my contributions", "/account/contributions", OFFICER),
    Case("contact requests", "/account/contacts", OFFICER),
    Case("request a peer contact", f"/vendors/{DEMO_SLUG}", OFFICER, contact_request),
    Case("request a peer contact, errors", f"/vendors/{DEMO_SLUG}", OFFICER, contact_request_errors, 422),
    Case("propose a supplier", "/vendors/add", OFFICER),
    Case("propose a supplier, errors", "/vendors/add", OFFICER, press("Add supplier"), 422),
    Case("not allowed", "/moderation", OFFICER, status=403),
    Case("mail outbox", "/dev/mail", OFFICER),
    Case("an email", "/dev/mail", OFFICER, first_message),
    # Moderators
    Case("moderation queue", "/moderation", MODERATOR),
    Case("moderation item", "/moderation/items/{item}", MODERATOR),
    Case("moderation item, errors", "/moderation/items/{item}", MODERATOR, press("Confirm decision"), 422),
    Case("moderator guidance", "/moderation/guidance", MODERATOR),
    Case("complaints received", "/moderation/complaints", MODERATOR),
    # Admins
    Case("synonyms", "/admin/synonyms", ADMIN),
    Case("edit a supplier", f"/admin/suppliers/{DEMO_SLUG}/edit", ADMIN),
    Case("merge a supplier", f"/admin/suppliers/{DEMO_SLUG}/merge", ADMIN),
    Case("watched terms", "/admin/watched-terms", ADMIN),
    Case("watched terms, text tested", "/admin/watched-terms", ADMIN, watched_test),
    Case("watched terms, test errors", "/admin/watched-terms", ADMIN, press("Test this text"), 422),
    Case("watched terms, bad import", "/admin/watched-terms", ADMIN, watched_bad_import, 422),
    Case("change a watched term", "/admin/watched-terms", ADMIN, change_watched_term),
    Case("change a watched term, errors", "/admin/watched-terms", ADMIN, change_watched_term_errors, 422),
    Case("people", "/admin/people", ADMIN),
]


@pytest.fixture(scope="module", name="item")
def item_fixture(demo: DemoServer) -> int:
    """A review waiting for a moderator, with a price screening found."""
    submitted = demo.submit_review(PEER, "Helpful support desk, long contract", PRICE_TEXT)
    assert submitted["item"], submitted
    return int(submitted["item"])


@pytest.fixture(name="context", params=[True, False], ids=["js", "nojs"])
def context_fixture(request: pytest.FixtureRequest, browser: Browser, demo: DemoServer) -> Iterator[BrowserContext]:
    """Signed in as the case's person; the site's scripts run (js) or are served empty (nojs)."""
    case: Case = request.node.callspec.params["case"]
    context = demo.context(browser, case.who)
    if not request.param:
        scripts_off(context, demo.url)
    yield context
    context.close()


@pytest.mark.parametrize("case", PAGES, ids=[case.name for case in PAGES])
def test_no_axe_violations(case: Case, context: BrowserContext, demo: DemoServer, item: int) -> None:
    problems = watch(context, demo.url, expected=lambda _url, status: status == case.status)
    page = context.new_page()
    answer = page.goto(case.path.format(item=item))
    assert answer is not None
    if case.setup is None:
        assert answer.status == (case.status or 200), f"{case.path} answered {answer.status}"
    else:
        assert answer.ok, f"{case.path} answered {answer.status}"
        case.setup(page)
    expect(page.get_by_role("main")).to_be_visible()
    assert_no_axe_violations(page, case.name)
    assert [problem for problem in problems if not problem.startswith("expected ")] == []


def test_htmx_updates_are_announced(browser: Browser, demo: DemoServer) -> None:
    """Where htmx changes the page, a polite live region's text changes with it, so a screen reader says so; and
    each of those states passes axe too."""
    context = demo.context(browser, OFFICER)
    problems = watch(context, demo.url, expected=lambda _url, status: status == 422)
    try:
        page = context.new_page()
        # Search as you type: the results are a polite live region.
        page.goto("/search")
        results = page.locator("#search-results")
        expect(results).to_have_attribute("aria-live", "polite")
        before = results.inner_text()
        page.get_by_label("Search suppliers, pilots and reviews").press_sequentially("case management", delay=20)
        expect(results.locator("#results-count")).to_contain_text("for “case management”")
        assert results.inner_text() != before
        assert_no_axe_violations(page, "search results after typing")

        # Screening while typing: the preview panel is a polite live region.
        page.goto(f"/vendors/{DEMO_SLUG}/reviews/new")
        panel = page.locator("#screening-preview")
        expect(panel).to_have_attribute("aria-live", "polite")
        expect(panel).to_have_text("")
        page.get_by_label("What worked", exact=True).press_sequentially(PRICE_TEXT, delay=5)
        expect(panel).to_contain_text("Screening found 1 thing to check")
        assert_no_axe_violations(page, "screening preview while typing")

        # "Check my review" redraws the whole form: the status line outside it says what screening found.
        status = page.locator("#contribution-status")
        expect(status).to_have_attribute("role", "status")
        expect(status).to_have_attribute("aria-live", "polite")
        expect(status).to_have_text("")
        page.get_by_role("button", name="Check my review").click()
        expect(status).to_have_text("Screening found 1 thing to check")
        expect(page.get_by_role("heading", name="Screening found 1 thing to check")).to_be_visible()

        # Errors drawn in place: the summary is an alert and takes focus.
        page.get_by_role("button", name="Submit review").click()
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(page.get_by_role("alert")).to_contain_text("There is a problem")
        assert_no_axe_violations(page, "review form errors drawn by htmx")
    finally:
        context.close()
    assert problems == ["expected 422"]
