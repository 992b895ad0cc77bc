"""A real browser through issue 3's journey: an officer writes a review, a moderator redacts a price, it is published.

Once with JavaScript (htmx swaps the errors and the screening preview in, the error summary takes focus) and once
without (every step is a full page). Each run has a fresh server, so the officer's first sign-in asks for their
details both times and the review is their first, which always goes to a moderator.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser import (
    TIMEOUT_MS,
    LiveServer,
    browser_fixture,
    chromium_path_fixture,
    heading,
    running_server,
    screenshot,
    watch,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture)  # from tests.browser, for pytest to find here

OFFICER = "someone@harrow.gov.uk"
MODERATOR = "mod@harrow.gov.uk"
SUPPLIER = "Symantec Ltd"
HEADLINE = "Reliable endpoint protection, slow to change"
PRICE = "£12,500"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 390, "height": 844}
RATINGS = {
    "Implementation and delivery": "4",
    "Cost of customisation and change": "2",
    "Fit to requirements": "4",
    "Support and service levels": "5",
    "Value for money": "4",
    "Partnership and improvement": "3",
    "Data, integration and exit": "Not applicable",
}


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    with running_server(tmp_path) as live:
        yield live


def new_context(browser: Browser, live: LiveServer, *, java_script_enabled: bool) -> BrowserContext:
    context = browser.new_context(base_url=live.url, java_script_enabled=java_script_enabled, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def empty_form_refused(base_url: str) -> Callable[[str, int], bool]:
    """The 422 answer to the review form submitted empty, which the test causes on purpose."""
    form = re.compile(rf"{re.escape(base_url)}/vendors/[a-z0-9-]+/reviews/new")
    return lambda url, status: status == 422 and form.fullmatch(url) is not None


def both_sizes(page: Page, name: str) -> None:
    screenshot(page, name)
    page.set_viewport_size(MOBILE)
    screenshot(page, f"{name}-mobile")
    page.set_viewport_size(DESKTOP)


def sign_in(page: Page, live: LiveServer, email: str, name: str, job_title: str) -> None:
    """Follow a link from `supplier-intel login-link`, then give the details a first sign-in asks for."""
    page.goto(live.cli("login-link", email).strip())
    heading(page, "Sign in to Supplier Intelligence Exchange")
    page.get_by_role("button", name="Continue").click()
    heading(page, "Your details")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Job title").fill(job_title)
    page.get_by_role("button", name="Save your details").click()
    heading(page, "Your account")


def write_review(page: Page, *, js: bool, shot: str) -> str:
    """From the signed-in account page to the confirmation; returns the supplier page's address."""
    page.get_by_role("navigation").get_by_role("link", name="Suppliers").click()
    page.get_by_label("Supplier name").fill("symantec")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=SUPPLIER, exact=True).click()
    heading(page, SUPPLIER)
    supplier_url = page.url
    page.get_by_role("button", name="Write a review").click()
    heading(page, "Write a review")

    page.get_by_role("button", name="Submit review").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link", name="Select how your council has worked with this supplier")).to_be_visible()
    expect(summary.get_by_role("link", name="Enter a headline that sums up your experience")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    if js:  # app.js moves focus to the summary after the htmx swap, as the GOV.UK pattern asks
        expect(page.locator(":focus")).to_contain_text("There is a problem")
    screenshot(page, f"{shot}-form-errors")

    page.get_by_label("Live contract").check()
    page.get_by_label("Service area").select_option("ICT infrastructure")
    for legend, value in RATINGS.items():
        page.get_by_role("group", name=legend).get_by_label(value, exact=True).check()
    page.get_by_role("group", name="Overall score").get_by_label("8", exact=True).check()
    page.get_by_role("group", name="Would you recommend this supplier").get_by_label("Yes").check()
    page.get_by_label("Headline", exact=True).fill(HEADLINE)
    page.get_by_label("What worked", exact=True).fill(f"Good value at {PRICE} per year")
    page.get_by_label("What did not work", exact=True).fill("Policy changes took weeks to roll out to every device.")
    both_sizes(page, f"{shot}-form")

    page.get_by_role("button", name="Check my review").click()
    expect(page.get_by_role("heading", name="Screening found 1 thing to check")).to_be_visible()
    expect(page.locator("#screening-preview mark", has_text=PRICE)).to_be_visible()
    expect(page.get_by_label("What worked", exact=True)).to_have_value(f"Good value at {PRICE} per year")
    screenshot(page, f"{shot}-preview")

    page.get_by_role("button", name="Submit review").click()
    heading(page, "Your review will be checked by a moderator")
    expect(page.get_by_role("main")).to_contain_text("This looks like a price")
    screenshot(page, f"{shot}-submitted")
    return supplier_url


def moderate(page: Page, live: LiveServer, *, shot: str) -> None:
    """A moderator who did not write the review removes the price and publishes the rest."""
    sign_in(page, live, MODERATOR, "Morgan Moderator", "Information governance officer")
    page.get_by_role("navigation").get_by_role("link", name="Moderation").click()
    heading(page, "Moderation queue")
    page.get_by_role("link", name=HEADLINE).click()
    heading(page, HEADLINE)
    expect(page.get_by_role("main").locator("mark", has_text=PRICE)).to_be_visible()
    screenshot(page, f"{shot}-moderation-item")
    page.get_by_label("Approve with redactions").check()
    page.get_by_label(re.compile(rf"^Remove this: .*{PRICE}")).check()
    page.get_by_role("button", name="Confirm decision").click()
    heading(page, "Moderation queue")
    expect(page.get_by_role("alert")).to_contain_text("The redactions are made and the contribution is published")
    expect(page.get_by_role("link", name=HEADLINE)).to_have_count(0)
    screenshot(page, f"{shot}-moderation-done")


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "nojs"])
def test_review_is_moderated_then_published_redacted(
    browser: Browser, live_server: LiveServer, java_script_enabled: bool
) -> None:
    shot = f"contribute-{'js' if java_script_enabled else 'nojs'}"
    officer = new_context(browser, live_server, java_script_enabled=java_script_enabled)
    moderator = new_context(browser, live_server, java_script_enabled=java_script_enabled)
    try:
        officer_problems = watch(officer, live_server.url, expected=empty_form_refused(live_server.url))
        moderator_problems = watch(moderator, live_server.url)
        page = officer.new_page()

        # 1. The officer writes a review that mentions a price.
        sign_in(page, live_server, OFFICER, "Sam Someone", "Digital lead")
        supplier_url = write_review(page, js=java_script_enabled, shot=shot)

        # 2. Not published until a moderator approves it.
        page.get_by_role("link", name=SUPPLIER).click()
        heading(page, SUPPLIER)
        expect(page.get_by_role("article")).to_have_count(0)
        expect(page.get_by_text(HEADLINE)).to_have_count(0)

        # 3. The moderator removes the price and publishes the rest.
        live_server.cli("create-user", MODERATOR, "--role", "moderator")
        moderate(moderator.new_page(), live_server, shot=shot)

        # 4. The officer sees it published, with the price removed.
        page.goto(supplier_url)
        review = page.get_by_role("article").filter(has=page.get_by_role("heading", name=HEADLINE))
        expect(review).to_contain_text("Good value at [removed:")
        expect(page.locator("body")).not_to_contain_text(PRICE)
        both_sizes(page, f"{shot}-published")
        page.get_by_role("navigation").get_by_role("link", name="My contributions").click()
        heading(page, "My contributions")
        expect(page.get_by_role("row").filter(has_text=HEADLINE)).to_contain_text("Published")
    finally:
        officer.close()
        moderator.close()
    assert officer_problems == ["expected 422"]  # the empty form, and nothing else
    assert moderator_problems == []
