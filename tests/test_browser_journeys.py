"""A real browser through the journeys the other browser tests leave out, each with JavaScript and without:
searching (typing, a filter, a sort, the next page), filtering a supplier's reviews, a pilot record that first comes
back with an error, the moderator's send back, reject and four eyes, and a peer declining a contact request.

They share the demo server of `tests.browser` (demo suppliers, reviews and pilots); each run has its own officers,
so that what one test writes does not change what another sees.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import (
    DEMO_SLUG,
    DEMO_SUPPLIER,
    MODERATOR,
    OFFICER,
    SECOND_MODERATOR,
    DemoServer,
    Person,
    browser_fixture,
    chromium_path_fixture,
    contexts_fixture,
    demo_fixture,
    heading,
    js_fixture,
    officer,
    open_as,
    unexpected,
)

pytestmark = pytest.mark.browser
# From tests.browser, for pytest to find here.
FIXTURES = (browser_fixture, chromium_path_fixture, contexts_fixture, demo_fixture, js_fixture)

HARROW = "London Borough of Harrow"


def scores(page: Page, selector: str) -> list[int]:
    texts = page.locator(selector).all_inner_texts()
    return [int(match.group(1)) for text in texts if (match := re.search(r"(\d+) out of 10", text))]


def test_search_typing_filter_sort_and_pages(browser: Browser, demo: DemoServer, js: bool, contexts: list) -> None:
    page, problems = open_as(contexts, browser, demo, OFFICER, js=js)
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    heading(page, "Search")
    count = page.locator("#results-count")

    # Reviews, then a word typed into the box: with JavaScript the results follow the typing.
    page.get_by_role("radio", name="Reviews").check()
    page.get_by_label("Search suppliers, pilots and reviews").fill("quillmere")
    if not js:
        page.get_by_role("button", name="Search", exact=True).click()
    expect(count).to_contain_text(re.compile(r"\b\d+ reviews? for “quillmere”"))
    expect(page).to_have_url(re.compile(r"index=reviews.*q=quillmere|q=quillmere.*index=reviews"))
    found = int(count.inner_text().split()[0])
    assert found > 1
    expect(page.locator(".app-search-hit").first).to_contain_text("Quillmere")

    # A filter narrows the results, and is kept ticked. (A tick made at once after typing is
    # test_browser_legal.py's test_a_filter_ticked_right_after_typing_is_kept.)
    page.get_by_label("Search suppliers, pilots and reviews").blur()
    page.wait_for_load_state("networkidle")
    relationship = page.get_by_role("group", name=re.compile("^Relationship with the supplier"))
    option = relationship.get_by_role("checkbox").first
    label = relationship.locator("label").first.inner_text()
    wanted = int(re.search(r"\((\d+)\)", label).group(1))  # type: ignore[union-attr]
    option.check()
    if not js:
        page.get_by_role("button", name="Apply filters").click()
    expect(count).to_contain_text(re.compile(rf"\b{wanted} reviews? for “quillmere”"))
    expect(
        page.get_by_role("group", name=re.compile("^Relationship with the supplier")).get_by_role("checkbox").first
    ).to_be_checked()
    assert wanted <= found

    # Highest score first.
    page.get_by_label("Sort by").select_option("score")
    if not js:
        page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=score"))
    expect(page.get_by_label("Sort by")).to_have_value("score")
    shown = scores(page, ".app-search-hit__meta")
    assert shown == sorted(shown, reverse=True) and shown, shown

    # Every review, two pages of them: the next page.
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Search suppliers, pilots and reviews").fill("")
    if not js:
        page.get_by_role("button", name="Search", exact=True).click()
    expect(count).to_contain_text(re.compile(r"\b\d+ reviews\s*$"))
    expect(page.locator(".app-pagination-status")).to_have_text(re.compile(r"^Page 1 of \d+$"))
    first_page = page.locator(".app-search-hit h3").all_inner_texts()
    page.get_by_label("Search suppliers, pilots and reviews").blur()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator(".app-pagination-status")).to_have_text(re.compile(r"^Page 2 of \d+$"))
    expect(page).to_have_url(re.compile(r"page=2"))
    assert page.locator(".app-search-hit h3").all_inner_texts() != first_page
    assert unexpected(problems) == []


def test_supplier_page_review_filters(browser: Browser, demo: DemoServer, js: bool, contexts: list) -> None:
    page, problems = open_as(contexts, browser, demo, OFFICER, js=js)
    page.goto(f"/vendors/{DEMO_SLUG}")
    heading(page, f"{DEMO_SUPPLIER} Demo")
    count = page.locator(".app-review-count")
    total = int(re.search(r"of (\d+) reviews", count.inner_text()).group(1))  # type: ignore[union-attr]

    page.get_by_label("Sort by").select_option("highest")
    page.get_by_label("Relationship with the supplier").select_option("live_contract")
    if not js:
        page.get_by_role("button", name="Apply filters").click()
    expect(count).to_contain_text("that match your filters")
    expect(page).to_have_url(re.compile(r"relationship=live_contract"))
    reviews = page.get_by_role("article")
    assert 0 < reviews.count() <= total
    for text in reviews.locator(".app-review__facts").all_inner_texts():
        assert text.startswith("Live contract"), text
    shown = scores(page, ".app-review__overall")
    assert shown == sorted(shown, reverse=True), shown

    page.get_by_role("link", name="Clear filters").click()
    expect(count).not_to_contain_text("match your filters")
    expect(count).to_contain_text(f"of {total} reviews")
    assert unexpected(problems) == []


def test_pilot_record_with_an_error_then_submitted(
    browser: Browser, demo: DemoServer, js: bool, contexts: list
) -> None:
    author = officer("pilot", js)
    demo.add_people(author)
    page, problems = open_as(contexts, browser, demo, author, js=js)
    page.goto(f"/vendors/{DEMO_SLUG}")
    page.get_by_role("button", name="Record a pilot").click()
    heading(page, "Record a pilot")

    title = "Self-service portal for care providers"
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Service area").select_option("Adult social care")
    page.get_by_role("group", name="Status").get_by_label("Completed").check()
    page.get_by_role("group", name=re.compile("non-disclosure agreement")).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Submit pilot record").click()

    # The problem it addressed is required: one error, everything else kept.
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(["Describe the problem the pilot addressed"])
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    expect(page.get_by_role("group", name="Status").get_by_label("Completed")).to_be_checked()
    summary.get_by_role("link").click()
    problem = page.get_by_label("The problem it addressed")
    expect(problem).to_be_focused() if js else expect(problem).to_be_visible()
    problem.fill("Providers phoned the council to confirm every care package change.")
    page.get_by_role("button", name="Submit pilot record").click()

    heading(page, "Your pilot record will be checked by a moderator")
    page.get_by_role("navigation").get_by_role("link", name="My contributions").click()
    expect(page.get_by_role("row").filter(has_text=title)).to_contain_text("Waiting for a moderator")
    assert problems == ["expected 422"]


def decide(page: Page, item: int, action: str, **fields: str) -> None:
    page.goto(f"/moderation/items/{item}")
    page.get_by_label(action, exact=True).check()
    for label, value in fields.items():
        field = page.get_by_label(label)
        if field.get_attribute("type") == "radio":
            field.check()
        else:
            field.fill(value)
    page.get_by_role("button", name="Confirm decision").click()
    heading(page, "Moderation queue")


def test_moderators_send_back_reject_and_approve_with_four_eyes(
    browser: Browser, demo: DemoServer, js: bool, contexts: list
) -> None:
    author = officer("moderated", js)
    demo.add_people(author)
    variant = "js" if js else "nojs"
    plain = demo.submit_review(author, f"Good onboarding ({variant})", "Training was thorough and well paced.")
    dull = demo.submit_review(author, f"Fine overall ({variant})", "It did the job we bought it for.")
    critical = demo.submit_review(
        author, f"Delivery dates missed ({variant})", "The account manager lied to us about the delivery dates."
    )
    assert plain["item"] and dull["item"] and critical["item"]
    first, first_problems = open_as(contexts, browser, demo, MODERATOR, js=js)
    second, second_problems = open_as(contexts, browser, demo, SECOND_MODERATOR, js=js)

    # Send back with a note; the note is required.
    first.goto(f"/moderation/items/{plain['item']}")
    first.get_by_label("Send back for revision").check()
    first.get_by_role("button", name="Confirm decision").click()
    expect(first.get_by_role("alert")).to_contain_text("There is a problem")
    first.get_by_label("What should the author change?").fill("Say which modules you used.")
    first.get_by_role("button", name="Confirm decision").click()
    heading(first, "Moderation queue")
    expect(first.locator(".govuk-notification-banner")).to_contain_text("The contribution is sent back")

    # Reject, with a reason.
    decide(first, dull["item"], "Reject", **{"It is not a first-hand account": ""})
    expect(first.locator(".govuk-notification-banner")).to_contain_text("The contribution is rejected")

    # Four eyes: a critical finding needs a second moderator's approval before it is published.
    decide(first, critical["item"], "Approve and publish")
    expect(first.locator(".govuk-notification-banner")).to_contain_text("A second moderator must approve it")
    expect(first.get_by_role("link", name=f"Delivery dates missed ({variant})")).to_be_visible()
    decide(second, critical["item"], "Approve and publish")
    expect(second.locator(".govuk-notification-banner")).to_contain_text("The contribution is approved and published")
    expect(second.get_by_role("link", name=f"Delivery dates missed ({variant})")).to_have_count(0)

    # The author sees each outcome.
    page, problems = open_as(contexts, browser, demo, author, js=js)
    page.goto("/account/contributions")
    expect(page.get_by_role("row").filter(has_text=f"Good onboarding ({variant})")).to_contain_text("Sent back")
    expect(page.get_by_role("row").filter(has_text=f"Fine overall ({variant})")).to_contain_text("Not published")
    expect(page.get_by_role("row").filter(has_text=f"Delivery dates missed ({variant})")).to_contain_text("Published")
    assert first_problems == ["expected 422"]
    assert unexpected(second_problems) == [] and unexpected(problems) == []


def test_peer_declines_a_contact_request(browser: Browser, demo: DemoServer, js: bool, contexts: list) -> None:
    asker, peer = officer("asker", js), officer("peer", js, open_to_contact=True)
    peer = Person(peer.email.replace("harrow", "birmingham"), peer.name, "Endpoint security lead", "officer", True)
    demo.add_people(asker, peer)
    headline = f"Quick rollout, steep renewal ({'js' if js else 'nojs'})"
    demo.submit_review(peer, headline, "Rollout to every site took a fortnight.", publish=True)
    a_page, a_problems = open_as(contexts, browser, demo, asker, js=js)
    b_page, b_problems = open_as(contexts, browser, demo, peer, js=js)

    a_page.goto(f"/vendors/{DEMO_SLUG}")
    review = a_page.get_by_role("article").filter(has=a_page.get_by_role("heading", name=headline))
    review.get_by_role("link", name=re.compile("^Request a peer contact")).click()
    heading(a_page, "Request a peer contact")
    a_page.get_by_role("button", name="Send request").click()  # empty: refused
    expect(a_page.get_by_role("alert")).to_contain_text("There is a problem")
    a_page.get_by_label("What would you like to learn from them?").fill("How did the renewal negotiation go?")
    a_page.get_by_role("button", name="Send request").click()
    heading(a_page, "Contact requests")

    b_page.goto("/account/contacts")
    theirs = b_page.locator(".app-contact-request").filter(has_text=headline)
    expect(theirs).to_contain_text(f"Systems lead, {HARROW}")
    expect(theirs).not_to_contain_text(asker.name)
    theirs.get_by_role("button", name="Decline").click()
    heading(b_page, "Contact requests")
    expect(b_page.locator(".app-contact-request").filter(has_text=headline)).to_contain_text("Declined")

    a_page.goto("/account/contacts")
    mine = a_page.locator(".app-contact-request").filter(has_text=headline)
    expect(mine).to_contain_text("Declined")
    assert peer.name not in a_page.locator("body").inner_text()
    assert peer.email not in a_page.locator("body").inner_text()
    assert a_problems == ["expected 422"]
    assert unexpected(b_problems) == []
