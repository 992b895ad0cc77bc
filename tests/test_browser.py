"""A real browser through the sign-in journey: ask for a link, follow it from the outbox, land signed in.

The real server and chromium come from `tests.browser`: see there how they are started.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import TIMEOUT_MS, browser_fixture, chromium_path_fixture, heading, screenshot, server_fixture, watch

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture, server_fixture)  # from tests.browser, for pytest to find here


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def request_link(page: Page, email: str, shot: str | None = None) -> None:
    """From the sign-in page: ask for a link, then open it from the outbox; ends on the confirmation page."""
    page.get_by_label("Council work email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    heading(page, "Check your email")
    if shot:
        screenshot(page, f"{shot}-check-email")
    page.get_by_role("link", name="mail outbox").click()
    heading(page, "Mail outbox")
    page.get_by_role("row").filter(has_text=email).first.get_by_role("link").click()
    heading(page, "Your sign-in link for Supplier Intelligence Exchange")
    expect(page.get_by_text(f"To {email}")).to_be_visible()
    if shot:
        screenshot(page, f"{shot}-message")
    page.get_by_role("link", name=re.compile(r"^http.+sign-in")).click()
    heading(page, "Sign in to Supplier Intelligence Exchange")
    expect(page.get_by_text(email)).to_be_visible()


def test_sign_in_journey_with_javascript(page: Page, server: str) -> None:
    problems = watch(page, server)
    email = "someone@harrow.gov.uk"
    page.goto("/")
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))  # app.js ran
    screenshot(page, "01-home")
    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    heading(page, "Sign in")
    screenshot(page, "02-sign-in")

    request_link(page, email, shot="03")
    screenshot(page, "04-confirm")
    page.get_by_role("button", name="Continue").click()

    # The first sign-in has no job title yet, so the officer is asked for their details.
    heading(page, "Your details")
    expect(page).to_have_url(f"{server}/account/profile")
    screenshot(page, "05-your-details")
    page.get_by_label("Full name").fill("Sam Someone")
    page.get_by_label("Job title").fill("Digital lead")
    page.get_by_role("button", name="Save your details").click()

    heading(page, "Your account")
    expect(page).to_have_url(f"{server}/account")
    main = page.get_by_role("main")
    expect(main).to_contain_text("London Borough of Harrow")
    expect(main).to_contain_text(email)
    expect(main).to_contain_text("Digital lead")
    navigation = page.get_by_role("navigation")
    expect(navigation.get_by_role("button", name="Sign out")).to_be_visible()
    expect(navigation.get_by_role("link", name="Sign in")).to_have_count(0)
    screenshot(page, "06-your-account")

    navigation.get_by_role("button", name="Sign out").click()
    heading(page, "You have signed out")
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()
    screenshot(page, "07-signed-out")

    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    heading(page, "Sign in")

    assert problems == []


def test_request_link_without_javascript(browser: Browser, server: str) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
        page.get_by_role("button", name="Sign in with your council email").or_(
            page.get_by_role("link", name="Sign in with your council email")
        ).click()
        heading(page, "Sign in")
        request_link(page, "another.officer@harrow.gov.uk", shot="nojs")
        page.get_by_role("button", name="Continue").click()
        heading(page, "Your details")
        page.get_by_label("Full name").fill("Alex Another")
        page.get_by_label("Job title").fill("Procurement manager")
        page.get_by_role("button", name="Save your details").click()
        heading(page, "Your account")
        expect(page.get_by_role("main")).to_contain_text("London Borough of Harrow")
        screenshot(page, "nojs-your-account")
    finally:
        context.close()


def ask_for_link(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Council work email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("someone@gmail.com", "gmail.com is not the email domain of a UK council"),
        ("someone@cabinetoffice.gov.uk", "cabinetoffice.gov.uk is not the email domain of a UK council"),
    ],
    ids=["gmail", "central-government"],
)
def test_refuses_addresses_that_are_not_council_ones(page: Page, email: str, message: str) -> None:
    ask_for_link(page, email)
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link")).to_contain_text(message)
    # app.js moves focus to the error summary after the htmx swap, as the GOV.UK pattern asks.
    expect(page.locator(":focus")).to_contain_text("There is a problem")
    expect(page.get_by_label("Council work email address")).to_have_value(email)
    screenshot(page, f"error-{email.split('@')[1]}")


def test_error_title_without_javascript(browser: Browser, server: str) -> None:
    context = browser.new_context(base_url=server, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        ask_for_link(page, "someone@gmail.com")
        expect(page.get_by_role("alert")).to_contain_text("gmail.com is not the email domain of a UK council")
        expect(page).to_have_title(re.compile(r"^Error: "))
    finally:
        context.close()


def test_error_title_with_javascript(page: Page) -> None:
    ask_for_link(page, "someone@gmail.com")
    expect(page.get_by_role("alert")).to_contain_text("gmail.com is not the email domain of a UK council")
    expect(page).to_have_title(re.compile(r"^Error: "), timeout=1_000)
