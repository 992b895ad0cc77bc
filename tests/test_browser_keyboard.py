"""Keyboard only: the skip link, searching and the review form, with the Tab and Enter keys and nothing else.

What a keyboard user depends on: the skip link is the first stop and takes them to the content; focus moves in
reading order and is always visible; after a form comes back with errors, focus is on the error summary and each
of its links takes them to the field.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import (
    DEMO_SLUG,
    OFFICER,
    DemoServer,
    browser_fixture,
    chromium_path_fixture,
    demo_fixture,
    watch,
)

pytestmark = pytest.mark.browser
FIXTURES = (browser_fixture, chromium_path_fixture, demo_fixture)  # from tests.browser, for pytest to find here

MAX_TABS = 80

# The focused element, described for the assertions; `visible` is GOV.UK's focus style (a yellow outline or a
# box-shadow underline) or any other outline or shadow.
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {
    tag: element.tagName.toLowerCase(), id: element.id, text: (element.textContent || "").trim().slice(0, 80),
    name: element.getAttribute("name"), inMain: Boolean(element.closest("main")),
    inHits: Boolean(element.closest(".app-search-hits")),
    visible: outline || style.boxShadow !== "none",
  };
}"""

# Whether the previously focused element (marked) comes before the focused one in the document.
IN_ORDER = """() => {
  const previous = document.querySelector("[data-tab-order]");
  const current = document.activeElement;
  if (previous) previous.removeAttribute("data-tab-order");
  current.setAttribute("data-tab-order", "");
  return !previous || previous === current
    || Boolean(previous.compareDocumentPosition(current) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


@pytest.fixture(name="page", params=[True, False], ids=["js", "nojs"])
def page_fixture(request: pytest.FixtureRequest, browser: Browser, demo: DemoServer) -> Iterator[Page]:
    context = demo.context(browser, OFFICER, js=bool(request.param))
    problems = watch(context, demo.url, expected=lambda _url, status: status == 422)
    yield context.new_page()
    context.close()
    assert [problem for problem in problems if not problem.startswith("expected ")] == []


def js_on(page: Page) -> bool:
    return bool(page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')"))


def tab(page: Page) -> dict[str, object]:
    """Press Tab; the newly focused element, which must show that it has focus and follow the last in reading order."""
    page.keyboard.press("Tab")
    focused: dict[str, object] = page.evaluate(FOCUSED)
    assert focused["visible"], f"no visible focus on {focused}"
    assert page.evaluate(IN_ORDER), f"focus went back up the page to {focused}"
    return focused


def tab_until(page: Page, wanted: str) -> dict[str, object]:
    """Tab until the focused element has `wanted` true; fails after MAX_TABS."""
    for _ in range(MAX_TABS):
        focused = tab(page)
        if focused[wanted]:
            return focused
    pytest.fail(f"{MAX_TABS} presses of Tab did not reach {wanted}")


def skip_to_main(page: Page) -> None:
    """The first Tab stop is the skip link; Enter on it moves focus to the main content."""
    first = tab(page)
    assert first["text"] == "Skip to main content", first
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.url.split('#')[0]}#main-content")
    if js_on(page):  # GOV.UK Frontend's skip link focuses <main> itself
        expect(page.locator("main")).to_be_focused()


def test_skip_link_then_search_and_results_by_tab(page: Page) -> None:
    page.goto("/search")
    skip_to_main(page)
    search_box = tab(page)
    assert search_box["id"] == "q", search_box
    page.keyboard.type("case management")
    if js_on(page):  # search as you type
        expect(page.locator("#results-count")).to_contain_text("for “case management”")
    else:
        page.keyboard.press("Enter")
        expect(page.locator("#results-count")).to_contain_text("for “case management”")
        expect(page.locator("#q")).to_have_value("case management")
        page.locator("#q").focus()
    page.evaluate("() => document.querySelector('[data-tab-order]')?.removeAttribute('data-tab-order')")
    hit = tab_until(page, "inHits")
    assert hit["tag"] == "a" and hit["text"], hit
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Search")


def test_review_form_errors_take_focus_and_lead_to_each_field(page: Page, demo: DemoServer) -> None:
    page.goto(f"/vendors/{DEMO_SLUG}/reviews/new")
    skip_to_main(page)
    # Through the form in reading order to its submit button, then submit it empty with Enter.
    submit = tab_until(page, "inMain")
    while not (submit["tag"] == "button" and submit["text"] == "Submit review"):
        submit = tab(page)
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    links = summary.get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert len(hrefs) >= 5, hrefs
    for href in hrefs:  # every error names a field that is on the page
        assert page.locator(href).count() == 1, f"the error link {href} leads nowhere"
    if js_on(page):
        expect(summary).to_be_focused()  # GOV.UK Frontend focuses the summary after the htmx swap
        page.evaluate("() => document.querySelector('[data-tab-order]')?.removeAttribute('data-tab-order')")
    else:  # a whole new page: the summary is the first thing in the content, the first stop after the skip link
        skip_to_main(page)
    tab(page)
    expect(links.first).to_be_focused()
    for index, href in enumerate(hrefs):  # Enter on each link puts the cursor in its field
        links.nth(index).focus()
        assert page.evaluate(FOCUSED)["visible"]
        page.keyboard.press("Enter")
        expect(page.locator(href)).to_be_focused()
