"""Screenshots of the main pages at desktop (1280 x 800) and mobile (375 x 812) widths, for a reviewer to look at.

Saved as `docs/screenshots/<page>-desktop.png` and `-mobile.png` (whole pages) by every run of the browser tests.
The page list is `SHOTS`; a page that is not there fails the test, so the folder always shows the service as it is.
"""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import (
    DEMO_SLUG,
    DESKTOP,
    DOCS_SCREENSHOTS,
    MOBILE,
    MODERATOR,
    OFFICER,
    PEER,
    DemoServer,
    Person,
    browser_fixture,
    chromium_path_fixture,
    demo_fixture,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture, demo_fixture)  # from tests.browser, for pytest to find here


def nothing(_page: Page) -> None:
    return None


def typed_search(page: Page) -> None:
    page.get_by_label("Search suppliers, pilots and reviews").fill("case management")
    expect(page.locator("#results-count")).to_contain_text("for “case management”")


def review_errors(page: Page) -> None:
    page.get_by_role("button", name="Submit review").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.evaluate("() => document.activeElement.blur()")
    page.evaluate("() => window.scrollTo(0, 0)")


def contact_request(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Request a peer contact")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a peer contact")


# (file name, path, who, what to do once there)
SHOTS: list[tuple[str, str, Person | None, Callable[[Page], None]]] = [
    ("home", "/", None, nothing),
    ("search-results", "/search", OFFICER, typed_search),
    ("supplier", f"/vendors/{DEMO_SLUG}", OFFICER, nothing),
    ("review-form-errors", f"/vendors/{DEMO_SLUG}/reviews/new", OFFICER, review_errors),
    ("contact-request", f"/vendors/{DEMO_SLUG}", OFFICER, contact_request),
    ("moderation-queue", "/moderation", MODERATOR, nothing),
    ("moderation-item", "/moderation/items/{item}", MODERATOR, nothing),
    ("complaint-form", "/complaints/new", None, nothing),
    ("accessibility-statement", "/accessibility", None, nothing),
]


def test_screenshots_of_the_main_pages(browser: Browser, demo: DemoServer) -> None:
    submitted = demo.submit_review(
        PEER, "Clear case recording, slow reports", "Good value at £12,500 per year; reports took a minute to load."
    )
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, who, setup in SHOTS:
        context = demo.context(browser, who)
        try:
            page = context.new_page()
            for width, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
                page.set_viewport_size(viewport)
                answer = page.goto(path.format(item=submitted["item"]))
                assert answer is not None and answer.ok, f"{path} answered {answer and answer.status}"
                setup(page)
                page.wait_for_load_state("networkidle")
                target = DOCS_SCREENSHOTS / f"{name}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                assert target.stat().st_size > 10_000, f"{target} looks empty"
        finally:
            context.close()
