"""A real browser through the legal-safety journeys, each with JavaScript and without: a notice of complaint about
a published review (refused without an email address, then defective, then complete), the poster's reply and the
moderator's case file; and an admin looking after the watched terms (add, test some text, change, see it censored,
export, a bad import, remove). With JavaScript only: an htmx control that gets an error answer shows the service's
error page, and a search filter ticked straight after typing is kept.

Every state a journey reaches, error states among them, is checked by axe-core. Without JavaScript the site's scripts
are served empty (`tests.browser.open_as` with `axe`), so the page is what a browser without JavaScript shows and axe
can still run. They share the demo server of `tests.browser`; each run has its own officers, reviews and terms.
Notices of complaint are limited to 10 an hour from one address (`app.complaints.RATE_LIMIT`), and every browser test
sends them from 127.0.0.1: these tests send 6 of them.
"""

import csv
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Locator, Page, Route, expect

from tests.browser import (
    ADMIN,
    DEMO_SLUG,
    DEMO_SUPPLIER,
    MODERATOR,
    OFFICER,
    DemoServer,
    assert_no_axe_violations,
    browser_fixture,
    chromium_path_fixture,
    contexts_fixture,
    demo_fixture,
    heading,
    js_fixture,
    officer,
    open_as,
    open_email,
    unexpected,
    watch,
)

pytestmark = pytest.mark.browser
# From tests.browser, for pytest to find here.
FIXTURES = (browser_fixture, chromium_path_fixture, contexts_fixture, demo_fixture, js_fixture)

NOTICE_FORM = "Report a statement you say is defamatory"


def variant_of(js: bool) -> str:
    return "js" if js else "nojs"


def review_on_supplier_page(page: Page, headline: str) -> Locator:
    """The review with this headline, on the demo supplier's page (the newest reviews come first)."""
    page.goto(f"/vendors/{DEMO_SLUG}")
    heading(page, f"{DEMO_SUPPLIER} Demo")
    review = page.get_by_role("article").filter(has=page.get_by_role("heading", name=headline))
    expect(review).to_be_visible()
    return review


def fill_notice(page: Page, fields: dict[str, str], *, consent: str = "No") -> None:
    """Fill the notice form: `fields` by label (left as they are when absent), the confirmation and the consent."""
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("I confirm I do not have enough information").check()
    consent_group = page.get_by_role(
        "group", name="May we give your name and email address to the person who posted it?"
    )
    consent_group.get_by_label(consent, exact=True).check()


def test_notice_of_complaint_reply_and_case_file(
    browser: Browser, demo: DemoServer, js: bool, contexts: list[BrowserContext]
) -> None:
    variant = variant_of(js)
    poster = officer("poster", js)
    demo.add_people(poster)
    headline = f"Migration ran months late ({variant})"
    published = demo.submit_review(
        poster, headline, "Their project manager ignored every deadline we set.", publish=True
    )
    assert published["status"] == "published", published
    complainant_email = f"legal.{variant}@quillmere.example"
    complainant = "Quillmere Case Systems Ltd"
    notice = {
        "Your full name": complainant,
        "What does the statement say?": "Their project manager ignored every deadline we set.",
        "Why is the statement defamatory of you?": "Councils choose suppliers on delivery: it costs us tenders.",
        "What do you understand the statement to mean?": "That we do not deliver what we promise.",
        "Which parts are factually inaccurate?": "Every milestone was agreed in writing and met.",
    }

    # 1. From the review on the supplier page, "Report a statement" opens the notice form with its address filled in.
    page, problems = open_as(contexts, browser, demo, OFFICER, js=js, axe=True)
    review = review_on_supplier_page(page, headline)
    review.get_by_role("link", name=re.compile("^Report a statement")).click()
    heading(page, NOTICE_FORM)
    location = f"{demo.url}/vendors/{DEMO_SLUG}#review-{published['id']}"
    expect(page.get_by_label("Where was it posted?")).to_have_value(location)
    assert_no_axe_violations(page, "notice of complaint form")

    # 2. Without an email address it is refused, with everything typed kept.
    fill_notice(page, notice)
    page.get_by_role("button", name="Send notice of complaint").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(["Enter your email address, so that we can reply to you"])
    expect(page).to_have_title(re.compile("^Error: "))
    for label, value in notice.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("Where was it posted?")).to_have_value(location)
    expect(page.get_by_label("I confirm I do not have enough information")).to_be_checked()
    expect(page.get_by_role("radio", name="No", exact=True)).to_be_checked()
    assert_no_axe_violations(page, "notice of complaint form, no email address")

    # 3. Without the meaning it is received as defective: the confirmation says what is missing.
    page.get_by_label("Your email address").fill(complainant_email)
    page.get_by_label("What do you understand the statement to mean?").fill("")
    page.get_by_role("button", name="Send notice of complaint").click()
    heading(page, "Your notice is missing information")
    expect(page.locator(".app-missing li")).to_have_text(["The meaning you say the statement has"])
    expect(page.get_by_role("main")).to_contain_text(complainant_email)
    defective_id = int(page.locator(".govuk-caption-l").inner_text().removeprefix("Reference "))
    assert_no_axe_violations(page, "notice of complaint, defective")

    # 4. A complete notice: received, and passed to the poster.
    page.get_by_role("link", name="Send a complete notice of complaint").click()
    heading(page, NOTICE_FORM)
    fill_notice(
        page, {**notice, "Your email address": complainant_email, "Where was it posted?": location}, consent="No"
    )
    page.get_by_role("button", name="Send notice of complaint").click()
    heading(page, "Notice of complaint received")
    reference = page.locator(".govuk-panel__body").inner_text()
    complaint_id = int(re.fullmatch(r"Your reference number is (\d+)", reference.strip()).group(1))  # type: ignore[union-attr]
    assert complaint_id != defective_id
    expect(page.get_by_role("main")).to_contain_text(
        "We have passed your notice to the person who posted the statement"
    )
    assert_no_axe_violations(page, "notice of complaint received")
    assert problems == ["expected 422"]

    # 5. The poster, signed in, opens the reply link from their email: the complainant's name is left out.
    p_page, p_problems = open_as(contexts, browser, demo, poster, js=js, axe=True)
    body = open_email(p_page, poster.email, re.compile("^A complaint about your review: reply by "))
    assert notice["What does the statement say?"] in body
    assert complainant not in body and complainant_email not in body
    p_page.locator(".app-mail-body a", has_text=f"/complaints/{complaint_id}/reply").click()
    heading(p_page, f"Reply to a complaint about your review of {DEMO_SUPPLIER}: “{headline}”")
    expect(p_page.locator(".govuk-warning-text")).to_contain_text("The statement will be removed unless you reply by")
    expect(p_page.locator(".app-notice")).to_contain_text(notice["What do you understand the statement to mean?"])
    expect(p_page.locator(".app-notice")).not_to_contain_text(complainant)
    assert_no_axe_violations(p_page, "the poster's reply form")

    # 6. They object, with their name and address, and do not agree to them going to the complainant.
    p_page.get_by_label("No, I object to it being removed").check()
    p_page.get_by_label("Full name").fill(f"Poster {variant.title()}")
    p_page.get_by_label("Postal address").fill("1 Civic Centre\nStation Road\nHarrow HA1 2XY")
    p_page.get_by_role("group", name="May we give your name and postal address to the complainant?").get_by_label(
        "No", exact=True
    ).check()
    p_page.get_by_role("button", name="Send reply").click()
    expect(p_page.locator(".govuk-notification-banner")).to_contain_text("Your reply has been sent")
    expect(p_page.locator(".app-reply-status")).to_contain_text("The statement stays on the website.")
    expect(p_page.get_by_role("button", name="Send reply")).to_have_count(0)
    assert_no_axe_violations(p_page, "the poster's reply sent")
    assert unexpected(p_problems) == []

    # 7. A moderator sees both notices with their state and deadlines, then the case file.
    m_page, m_problems = open_as(contexts, browser, demo, MODERATOR, js=js, axe=True)
    m_page.goto("/moderation/complaints")
    heading(m_page, "Notices of complaint")
    row = m_page.locator(f"#complaint-{complaint_id}")
    expect(row).to_contain_text(f"review of {DEMO_SUPPLIER}: “{headline}”")
    expect(row).to_contain_text("Statement kept")
    expect(row.locator(".app-next-deadline")).to_have_text("Nothing due")
    expect(m_page.locator(f"#complaint-{defective_id}")).to_contain_text("Defective notice")
    assert_no_axe_violations(m_page, "notices of complaint")

    row.get_by_role("link", name=f"Complaint {complaint_id}").click()
    heading(m_page, f"Complaint {complaint_id}")
    expect(m_page.locator(".app-case-summary")).to_contain_text("Statement kept")
    deadlines = m_page.locator(".app-deadlines tbody tr")
    expect(deadlines.locator("td:first-child")).to_have_text(
        [
            "Send the notice to the poster",
            "Acknowledge the complainant",
            "Poster's reply",
            "Tell the complainant the outcome",
        ]
    )
    expect(deadlines.locator(".govuk-tag")).to_have_text(["Done"] * 4)
    reply = m_page.locator(".app-reply")
    for text in ("Wants the statement removed", f"Poster {variant.title()}", "Harrow HA1 2XY", "Agrees to disclosure"):
        expect(reply).to_contain_text(text)
    expect(reply.locator(".govuk-summary-list__row").filter(has_text="Agrees to disclosure")).to_contain_text("No")
    messages = m_page.locator(".app-message summary")
    for whom, address, subject in (
        ("poster", poster.email, "A complaint about your review: reply by"),
        ("complainant", complainant_email, "Your notice of complaint has been passed to the poster"),
        ("complainant", complainant_email, "The person who posted the statement objects to its removal"),
    ):
        expect(messages.filter(has_text=subject)).to_contain_text(f"to the {whom} ({address})")
    outcome = m_page.locator(".app-message").filter(has_text="objects to its removal")
    outcome.locator("summary").click()
    expect(outcome.locator(".govuk-details__text")).to_contain_text("did not agree to us giving you their name")
    expect(outcome.locator(".govuk-details__text")).not_to_contain_text("Harrow HA1 2XY")
    assert_no_axe_violations(m_page, "a complaint's case file")
    assert unexpected(m_problems) == []


def watched_row(page: Page, action: str, term: str) -> Locator:
    return page.locator(f"table[data-action={action}] tbody tr").filter(
        has=page.get_by_role("rowheader", name=term, exact=True)
    )


def test_admin_looks_after_the_watched_terms(
    browser: Browser, demo: DemoServer, js: bool, contexts: list[BrowserContext]
) -> None:
    variant = variant_of(js)
    term = f"blarnwort{variant}"
    page, problems = open_as(contexts, browser, demo, ADMIN, js=js, axe=True)
    page.goto("/admin/watched-terms")
    heading(page, "Watched terms")

    # 1. Add a block term: it is listed under Block.
    page.get_by_label("Word or phrase").fill(term)
    page.get_by_role("group", name=re.compile("^What happens when it is found")).get_by_label("Block").check()
    page.get_by_role("button", name="Add term").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"“{term}” is added to Block.")
    expect(watched_row(page, "block", term)).to_have_count(1)
    assert_no_axe_violations(page, "watched terms, a term added")

    # 2. "Test this text": in place, and said by the status line, with JavaScript; a page of its own without.
    status = page.locator("#watched-test-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    page.evaluate("() => { window.stillThisPage = true }")
    page.get_by_label("Text to test").fill(f"The {term} module failed twice.")
    page.get_by_role("button", name="Test this text").click()
    result = page.locator(".app-watched-test-result")
    expect(result.get_by_role("heading", level=3)).to_have_text("The watched terms found 1 match")
    expect(result.locator("[data-action=block]")).to_contain_text(f"“{term}”")
    expect(page.get_by_label("Text to test")).to_have_value(f"The {term} module failed twice.")
    if js:
        assert page.evaluate("() => window.stillThisPage === true"), "the page was loaded again"
        expect(status).to_have_text("The watched terms found 1 match")
    else:
        expect(page).to_have_url(re.compile(r"/admin/watched-terms/test(#watched-test)?$"))
        heading(page, "Watched terms")
    assert_no_axe_violations(page, "watched terms, text tested")

    # 3. Change it to censor.
    watched_row(page, "block", term).get_by_role("link", name=f"Change “{term}”").click()
    heading(page, f"Change “{term}”")
    expect(page.get_by_label("Word or phrase")).to_have_value(term)
    assert_no_axe_violations(page, "change a watched term")
    page.get_by_role("group", name=re.compile("^What happens when it is found")).get_by_label("Censor").check()
    page.get_by_role("button", name="Save changes").click()
    heading(page, "Watched terms")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"“{term}”")
    expect(watched_row(page, "censor", term)).to_have_count(1)
    expect(watched_row(page, "block", term)).to_have_count(0)
    assert_no_axe_violations(page, "watched terms, a term changed")

    # 4. A published review that contains it shows ■ in its place on the supplier page.
    author = officer("censored", js)
    demo.add_people(author)
    headline = f"Helpdesk was quick ({variant})"
    published = demo.submit_review(author, headline, f"The {term} module never failed us.", publish=True)
    assert published["status"] == "published", published
    review = review_on_supplier_page(page, headline)
    expect(review).to_contain_text(f"The {'■' * len(term)} module never failed us.")
    expect(review).not_to_contain_text(term)
    assert_no_axe_violations(page, "a supplier page with a censored review")

    # 5. Export every term as CSV.
    page.goto("/admin/watched-terms")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all terms as a CSV file").click()
    download = download_info.value
    assert download.suggested_filename == "watched-terms.csv"
    with open(download.path(), encoding="utf-8", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert {"term": term, "action": "censor"}.items() <= next(r for r in rows if r["term"] == term).items()

    # 6. A CSV with a bad row: the error names its line, and nothing is imported.
    other = f"snarfle{variant}"
    upload = f"term,action,replacement,category,case_sensitive\n{other},flag,,,\n{term}x,silence,,,\n".encode()
    csv_file: FilePayload = {"name": "terms.csv", "mimeType": "text/csv", "buffer": upload}
    page.get_by_label("Import a CSV file").set_input_files(files=[csv_file])
    page.get_by_role("button", name="Import terms").click()
    message = "Nothing was imported. Line 3: Select what happens when the term is found"
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text([message])
    expect(page.locator("#file-error")).to_contain_text(message)
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_role("rowheader", name=other, exact=True)).to_have_count(0)
    assert_no_axe_violations(page, "watched terms, a bad import")

    # 7. Remove it.
    page.goto("/admin/watched-terms")
    watched_row(page, "censor", term).get_by_role("button", name=f"Remove “{term}”").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"“{term}” is removed from the watched terms.")
    expect(page.get_by_role("rowheader", name=term, exact=True)).to_have_count(0)
    assert_no_axe_violations(page, "watched terms, a term removed")
    expect(review_on_supplier_page(page, headline)).to_contain_text(f"The {term} module never failed us.")
    assert problems == ["expected 422"]


def test_an_htmx_error_answer_shows_the_error_page(
    browser: Browser, demo: DemoServer, contexts: list[BrowserContext]
) -> None:
    """The sign-in form is sent by htmx. Five refused addresses come back as errors drawn in place (422); the sixth
    attempt for the same address is over the limit, a 429 answer htmx would not draw: the service's error page is
    shown, and its heading takes focus."""
    context: BrowserContext = demo.context(browser)
    contexts.append(context)
    problems = watch(context, demo.url, expected=lambda _url, status: status in (422, 429))
    page = context.new_page()
    page.goto("/sign-in")
    page.evaluate("() => { window.stillThisPage = true }")
    for _ in range(5):
        page.get_by_label("Council work email address").fill("too.many.tries@gmail.com")
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert problems == ["expected 422"] * 5
    page.get_by_role("button", name="Email me a sign-in link").click()
    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text("Too many requests")
    expect(title).to_be_focused()
    expect(page).to_have_title(re.compile("^Too many requests"))
    expect(page.get_by_role("main")).to_contain_text("You have asked for too many sign-in links")
    assert page.evaluate("() => window.stillThisPage === true"), "drawn by the page's script, not loaded"
    assert_no_axe_violations(page, "an error page drawn for htmx")
    assert problems == ["expected 422"] * 5 + ["expected 429"]


def test_a_filter_ticked_right_after_typing_is_kept(
    browser: Browser, demo: DemoServer, contexts: list[BrowserContext]
) -> None:
    """Type, leave the box and tick a filter at once, over a slow network (each search takes a second more): the
    tick stays, and the results are filtered by it. A tick while a search is on its way wins over that search."""
    context = demo.context(browser, OFFICER)
    contexts.append(context)
    problems = watch(context, demo.url)
    page = context.new_page()
    page.goto("/search?index=reviews")
    heading(page, "Search")
    count = page.locator("#results-count")
    expect(count).to_contain_text(re.compile(r"^\s*\d+ reviews\s*$"))

    def slow_network(route: Route) -> None:
        page.wait_for_timeout(1000)
        route.continue_()

    page.route(re.compile(r"/search\?"), slow_network)
    box = page.get_by_label("Search suppliers, pilots and reviews")
    box.fill("quillmere")
    box.press("Tab")
    page.get_by_role("checkbox", name=re.compile("^Live contract")).check()

    expect(count).to_contain_text("for “quillmere”")
    expect(page).to_have_url(re.compile(r"relationship=Live%20contract"))
    page.wait_for_load_state("networkidle")
    ticked = page.get_by_role("checkbox", name=re.compile("^Live contract"))
    expect(ticked).to_be_checked()
    label = page.locator(f"label[for='{ticked.get_attribute('id')}']").inner_text()
    wanted = int(re.search(r"\((\d+)\)", label).group(1))  # type: ignore[union-attr]
    expect(count).to_contain_text(re.compile(rf"^\s*{wanted} reviews? for “quillmere”"))
    assert problems == []

    # A tick made while the search for what was typed is on its way: that search is dropped for the newer one.
    relationship = page.get_by_role("group", name=re.compile("^Relationship with the supplier"))
    other = relationship.get_by_role("checkbox", checked=False).first
    other_value = other.get_attribute("value") or ""
    with page.expect_request(re.compile(r"/search\?q=Quillmere&")):
        box.fill("Quillmere")
    other.check()
    expect(page).to_have_url(re.compile(rf"q=Quillmere&.*relationship={re.escape(quote(other_value))}"))
    page.wait_for_load_state("networkidle")
    for value in ("Live contract", other_value):
        expect(relationship.locator(f"input[value='{value}']")).to_be_checked()
    expect(count).to_contain_text("for “Quillmere”")
    assert_no_axe_violations(page, "search results, filtered while typing")
    # The dropped search is the one failed request, and htmx logs that it was aborted.
    assert [problem for problem in problems if "ERR_ABORTED" in problem] == [
        f"request failed: GET {demo.url}/search?q=Quillmere&index=reviews&relationship=Live%20contract&sort=relevance:"
        " net::ERR_ABORTED"
    ]
    assert [p for p in problems if "ERR_ABORTED" not in p and not re.search(r"htmx:(afterRequest|sendAbort),", p)] == []
