"""Writing reviews and pilot records, the screening preview, and "My contributions"."""

import re
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app.models import (
    ContentStatus,
    ContentType,
    Finding,
    ModerationItem,
    NdaStatus,
    Pilot,
    Product,
    Relationship,
    Review,
    Supplier,
    User,
    utcnow,
)
from app.standard import DIMENSIONS
from tests.factories import csrf, make_user, sign_in
from tests.html import error_summary, fragment, parse, validate_page

HTMX = {"HX-Request": "true"}
SUBMITTED = re.compile(r"/account/contributions/(review|pilot)/(\d+)/submitted")

VALID_REVIEW = {
    "relationship": "live_contract",
    "service_area": "Housing",
    "time_used": "1 to 2 years",
    "implementation": "4",
    "customisation_cost": "2",
    "fit": "4",
    "support": "3",
    "value": "3",
    "partnership": "na",
    "data_exit": "5",
    "overall": "7",
    "recommend": "yes",
    "headline": "Solid housing system, slow to change",
    "worked_well": "The migration of tenancy records went smoothly and the training was good.",
    "did_not_work": "Every report change needed a change request and took weeks.",
    "advice": "Agree the reporting needs before you sign.",
}

VALID_PILOT = {
    "title": "Online repairs reporting",
    "service_area": "Housing",
    "problem": "Tenants could only report repairs by phone, and the queue was long.",
    "start_date-day": "1",
    "start_date-month": "4",
    "start_date-year": "2025",
    "end_date-day": "30",
    "end_date-month": "9",
    "end_date-year": "2025",
    "pilot_status": "completed",
    "outcome": "adopted",
    "cost_band": "5k_25k",
    "nda": "yes",
    "lessons": "Involve the repairs team from the first week.",
    "open_to_contact": "yes",
}


# --- helpers --------------------------------------------------------------------------------------------------------


def a_supplier(session: Session) -> Supplier:
    supplier = session.exec(
        select(Supplier).where(col(Supplier.status) == ContentStatus.published).order_by(col(Supplier.id))
    ).first()
    assert supplier is not None, "the reference data has no supplier"
    return supplier


def officer(client: TestClient, session: Session, email: str = "officer@harrow.gov.uk") -> User:
    user = make_user(session, email=email)
    sign_in(client, session, email)
    return user


def trust(session: Session, user: User, supplier: Supplier, count: int = 3) -> None:
    """Three earlier contributions that a moderator approved."""
    assert user.id is not None and supplier.id is not None
    for number in range(count):
        session.add(
            Review(
                supplier_id=supplier.id,
                author_id=user.id,
                council_id=user.council_id,
                author_role="Digital lead",
                overall=7,
                recommend=True,
                relationship=Relationship.live_contract,
                service_area="Housing",
                headline=f"Earlier review {number}",
                status=ContentStatus.published,
                published_at=utcnow(),
            )
        )
    session.commit()


def post(client: TestClient, path: str, data: dict[str, str], *, htmx: bool = False) -> Response:
    token = csrf(client, "/account/contributions")
    return client.post(path, data={**data, "csrf_token": token}, headers=HTMX if htmx else {}, follow_redirects=False)


def submitted_id(response: Response) -> int:
    assert response.status_code == 303, response.text
    match = SUBMITTED.search(response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(2))


def words(tag: BeautifulSoup | Any) -> str:
    """The text of a tag as a reader sees it, whitespace collapsed."""
    return " ".join(tag.get_text(" ").split())


def checked(page: BeautifulSoup, name: str) -> list[str]:
    return [str(tag["value"]) for tag in page.find_all("input", attrs={"name": name}) if tag.has_attr("checked")]


def selected(page: BeautifulSoup, name: str) -> str:
    select_tag = page.find("select", attrs={"name": name})
    assert select_tag is not None, name
    chosen = select_tag.find("option", selected=True)
    return "" if chosen is None else str(chosen.get("value", ""))


def field_value(page: BeautifulSoup, name: str) -> str:
    tag = page.find(["input", "textarea"], attrs={"name": name})
    assert tag is not None, name
    return tag.get_text() if tag.name == "textarea" else str(tag.get("value", ""))


def assert_blank(page: BeautifulSoup) -> None:
    """A new form starts empty: no text, nothing checked, the empty choice selected."""
    form = page.select_one("#contribution-form form")
    assert all(textarea.get_text() == "" for textarea in form.find_all("textarea"))
    assert all(not tag.get("value") for tag in form.select("input[type=text], input[type=url]"))
    assert form.select("input[checked]") == []
    assert all(selected(form, str(tag["name"])) == "" for tag in form.find_all("select"))


def summary_targets_exist(page: BeautifulSoup) -> None:
    links = page.select(".govuk-error-summary__list a")
    assert links, "no error summary links"
    for link in links:
        target = str(link["href"])
        assert target.startswith("#") and page.find(id=target[1:]) is not None, f"{target} points at nothing"


def review_row(session: Session, review_id: int) -> Review:
    session.expire_all()
    review = session.get(Review, review_id)
    assert review is not None
    return review


def mine_rows(client: TestClient) -> list[list[str]]:
    page = validate_page(client.get("/account/contributions").text)
    return [
        [cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])]
        for row in page.select("tbody.govuk-table__body tr")
    ]


# --- the review form ------------------------------------------------------------------------------------------------


def test_the_review_form_shows_the_seven_dimensions_with_their_descriptors(
    client: TestClient, session: Session
) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    page = validate_page(client.get(f"/vendors/{supplier.slug}/reviews/new").text)
    assert page.h1.get_text(strip=True) == "Write a review"
    assert_blank(page)
    assert supplier.name in page.select_one(".govuk-caption-l").get_text()
    for dimension in DIMENSIONS:
        first = page.find("input", id=dimension.key)
        assert first is not None and first["name"] == dimension.key
        fieldset = first.find_parent("fieldset")
        assert fieldset.legend.get_text(strip=True) == dimension.label
        hint = fieldset.select_one(".govuk-hint").get_text(" ", strip=True)
        for descriptor in (dimension.at_1, dimension.at_3, dimension.at_5):
            assert descriptor in hint
        values = [str(radio["value"]) for radio in fieldset.find_all("input", type="radio")]
        assert values == ["1", "2", "3", "4", "5", "na"]
    assert [str(r["value"]) for r in page.find_all("input", attrs={"name": "overall"})] == [
        str(n) for n in range(1, 11)
    ]
    assert [str(r["value"]) for r in page.find_all("input", attrs={"name": "recommend"})] == ["yes", "no"]
    for name in ("headline", "worked_well", "did_not_work", "advice", "framework_lot", "exact_cost"):
        assert page.find(attrs={"name": name}) is not None, name
    for part in ("day", "month", "year"):
        assert page.find("input", id=f"contract_end-{part}", attrs={"name": f"contract_end-{part}"}) is not None
    details = page.find("details", id="contract-facts")
    assert "shown only to signed-in officers" in details.summary.get_text()
    assert not details.has_attr("open")
    assert "Keep my written comments private" in words(page)
    guidance = page.select_one(".app-guidance").get_text(" ", strip=True)
    assert "names of people" in guidance and "contact details" in guidance and "allegations" in guidance
    panel = page.find(id="screening-preview")
    assert panel["aria-live"] == "polite" and panel["hx-post"].endswith(f"/vendors/{supplier.slug}/reviews/preview")
    check = page.find("button", string=re.compile("Check my review"))
    assert check["formaction"].split("#")[0].endswith(f"/vendors/{supplier.slug}/reviews/preview")
    assert check["hx-target"] == "#contribution-form"  # the button redraws the form, clearing old errors
    assert (check["name"], check["value"]) == ("check", "form")


def test_visitors_are_sent_to_sign_in_and_unknown_suppliers_are_404(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    response = client.get(f"/vendors/{supplier.slug}/reviews/new", follow_redirects=False)
    assert response.status_code == 303 and "/sign-in" in response.headers["location"]
    officer(client, session)
    assert client.get("/vendors/no-such-supplier/reviews/new").status_code == 404
    assert client.get("/account/contributions/supplier/1/edit").status_code == 404


def invalid_review(supplier: Supplier, product: Product) -> dict[str, str]:
    return {
        "service_area": "Housing",
        "product_id": str(product.id),
        "time_used": "2 to 5 years",
        "implementation": "4",
        "fit": "na",
        "support": "7",  # out of range
        "recommend": "no",
        "headline": "   ",
        "worked_well": "Support was quick to answer <b>most</b> calls.",
        "advice": "Test the reports early.",
        "cost_band": "25k_100k",
        "contract_end-day": "31",
        "contract_end-month": "2",
        "contract_end-year": "2027",
        "exact_cost": "12500",
    }


def add_product(session: Session, supplier: Supplier) -> Product:
    assert supplier.id is not None
    product = Product(supplier_id=supplier.id, name="Housing Manager")
    session.add(product)
    session.commit()
    session.refresh(product)
    return product


def assert_invalid_review_kept(page: BeautifulSoup, data: dict[str, str]) -> None:
    messages = error_summary(page)
    assert "Select how your council has worked with this supplier" in messages
    assert "Rate support and service levels from 1 to 5, or choose not applicable" in messages
    assert "Give an overall score from 1 to 10" in messages
    assert "Enter a headline that sums up your experience" in messages
    assert "Contract end date must be a real date" in messages
    assert any("already published" in message for message in messages)
    assert messages.index("Select how your council has worked with this supplier") == 0  # in the order of the page
    summary_targets_exist(page)
    assert page.find(id="support-error") is not None  # the message beside the field too
    assert checked(page, "implementation") == ["4"]
    assert checked(page, "fit") == ["na"]
    assert checked(page, "recommend") == ["no"]
    assert checked(page, "cost_band") == ["25k_100k"]
    assert checked(page, "relationship") == []
    assert selected(page, "service_area") == "Housing"
    assert selected(page, "product_id") == data["product_id"]
    assert selected(page, "time_used") == "2 to 5 years"
    assert field_value(page, "worked_well") == data["worked_well"]  # exactly as typed, tags and all, as text
    assert field_value(page, "advice") == "Test the reports early."
    assert field_value(page, "exact_cost") == "12500"
    for part in ("day", "month", "year"):
        assert field_value(page, f"contract_end-{part}") == data[f"contract_end-{part}"]
    assert page.find("details", id="contract-facts").has_attr("open")  # its errors are visible


def test_an_invalid_review_is_shown_again_with_every_value_kept(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    product = add_product(session, supplier)
    officer(client, session)
    data = invalid_review(supplier, product)
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", data)
    assert response.status_code == 422
    page = validate_page(response.text)
    assert page.title.get_text().startswith("Error:")
    assert_invalid_review_kept(page, data)
    assert page.find("b") is None  # what was typed is text in the textarea, never markup
    assert session.exec(select(Review)).first() is None


def test_the_htmx_review_form_gets_its_fragment_with_the_errors(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    product = add_product(session, supplier)
    officer(client, session)
    data = invalid_review(supplier, product)
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", data, htmx=True)
    assert response.status_code == 422
    assert response.headers["vary"] == "HX-Request"
    part = fragment(response.text)
    assert part.title.get_text().startswith(f"Error: Write a review of {supplier.name}")
    assert_invalid_review_kept(part, data)
    assert part.find("input", attrs={"name": "csrf_token"}) is not None


def test_a_clean_review_by_a_new_officer_waits_for_a_moderator(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW)
    review_id = submitted_id(response)
    review = review_row(session, review_id)
    assert review.status == ContentStatus.pending
    assert review.partnership is None and review.implementation == 4 and review.recommend is True
    item = session.exec(select(ModerationItem).where(ModerationItem.content_id == review_id)).one()
    assert item.content_type == ContentType.review

    page = validate_page(client.get(response.headers["location"]).text)
    assert page.h1.get_text(strip=True) == "Your review will be checked by a moderator"
    assert "first three contributions" in words(page)
    assert page.select_one(".app-findings") is None  # screening found nothing

    rows = mine_rows(client)
    assert len(rows) == 1
    assert supplier.name in rows[0][0] and VALID_REVIEW["headline"] in rows[0][1]
    assert rows[0][2] == "Waiting for a moderator"
    assert "Change" in rows[0][4] and "Withdraw" in rows[0][4]


def test_htmx_submission_redirects_with_hx_redirect(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW, htmx=True)
    assert response.status_code == 204
    assert SUBMITTED.search(response.headers["HX-Redirect"])


def test_a_trusted_officers_clean_review_is_published_at_once(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    user = officer(client, session)
    trust(session, user, supplier)
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW)
    review = review_row(session, submitted_id(response))
    assert review.status == ContentStatus.published and review.published_at is not None
    page = validate_page(client.get(response.headers["location"]).text)
    assert page.h1.get_text(strip=True) == "Your review is published"
    link = page.find("a", string=supplier.name)
    assert link is not None and link["href"].endswith(f"/vendors/{supplier.slug}")
    assert mine_rows(client)[0][2] == "Published"


def test_the_preview_highlights_a_price_and_a_priced_review_waits_with_its_finding(
    client: TestClient, session: Session
) -> None:
    supplier = a_supplier(session)
    user = officer(client, session)
    trust(session, user, supplier)  # trusted, so only the finding sends it to a moderator
    data = {**VALID_REVIEW, "worked_well": "We pay £12,500 per year and <b>support</b> is good."}
    path = f"/vendors/{supplier.slug}/reviews/preview"

    # Without JavaScript: the whole form again, every value kept, the findings above the submit button.
    page = validate_page(post(client, path, data).text)
    panel = page.find(id="screening-preview")
    marks = panel.find_all("mark")
    assert [mark.get_text() for mark in marks] == ["£12,500 per year"]
    assert "app-finding--high" in marks[0]["class"]
    assert "This looks like a price" in words(panel)
    assert "a moderator will read it" in words(panel)
    assert panel.find("b") is None  # the highlighted text is plain text plus <mark>, nothing else
    assert field_value(page, "worked_well") == data["worked_well"]
    assert checked(page, "implementation") == ["4"] and selected(page, "service_area") == "Housing"
    assert panel.find_next("button").get_text(strip=True) == "Submit review"

    # With htmx: only the panel's content.
    response = post(client, path, data, htmx=True)
    assert response.status_code == 200 and response.headers["vary"] == "HX-Request"
    part = fragment(response.text)
    assert [mark.get_text() for mark in part.find_all("mark")] == ["£12,500 per year"]
    assert part.find("form") is None and part.find("title") is None

    # The "Check" button with htmx: the whole form again, so errors shown earlier are gone.
    redrawn = fragment(post(client, path, {**data, "check": "form"}, htmx=True).text)
    assert redrawn.find("form") is not None and redrawn.select_one(".govuk-error-summary") is None
    assert not redrawn.select(".govuk-error-message")
    assert redrawn.title.get_text().startswith("Write a review")
    assert [mark.get_text() for mark in redrawn.find(id="screening-preview").find_all("mark")] == ["£12,500 per year"]

    created = post(client, f"/vendors/{supplier.slug}/reviews/new", data)
    review = review_row(session, submitted_id(created))
    assert review.status == ContentStatus.pending
    findings = session.exec(select(Finding).where(Finding.content_id == review.id)).all()
    assert [(f.field, f.detector) for f in findings] == [("worked_well", "unit_price")]
    assert review.worked_well is not None
    assert review.worked_well[findings[0].start : findings[0].end] == "£12,500 per year"
    page = validate_page(client.get(created.headers["location"]).text)
    assert page.h1.get_text(strip=True) == "Your review will be checked by a moderator"
    findings_list = page.select_one(".app-findings").get_text(" ", strip=True)
    assert "What worked" in findings_list and "This looks like a price" in findings_list
    assert "first three" not in words(page)  # a trusted officer: only the finding is the reason


def test_a_clean_preview_says_whether_a_moderator_reads_it_anyway(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    user = officer(client, session)
    path = f"/vendors/{supplier.slug}/reviews/preview"
    part = fragment(post(client, path, VALID_REVIEW, htmx=True).text)
    assert part.h2.get_text(strip=True) == "Screening found nothing to check"
    assert "first three" in words(part)
    trust(session, user, supplier)
    part = fragment(post(client, path, VALID_REVIEW, htmx=True).text)
    assert "published straight away" in words(part)


def test_html_in_free_text_is_stored_as_plain_text_and_shown_escaped(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>Helpful team'
    data = {**VALID_REVIEW, "headline": "Good <i>onboarding</i>", "worked_well": attack, "advice": "£99 <b>x</b>"}

    preview = validate_page(post(client, f"/vendors/{supplier.slug}/reviews/preview", data).text)
    assert preview.find("img") is None and preview.find("i") is None and preview.find("b") is None
    assert field_value(preview, "worked_well") == attack  # kept as typed, as text
    assert [mark.get_text() for mark in preview.find(id="screening-preview").find_all("mark")] == ["£99"]

    created = post(client, f"/vendors/{supplier.slug}/reviews/new", data)
    review = review_row(session, submitted_id(created))
    assert review.headline == "Good onboarding"
    assert review.worked_well is not None and "<" not in review.worked_well and "Helpful team" in review.worked_well
    for path in (
        created.headers["location"],
        "/account/contributions",
        f"/account/contributions/review/{review.id}/edit",
    ):
        page = validate_page(client.get(path).text)  # also: no inline script anywhere
        assert page.find("img") is None and page.find("i") is None
    edit = validate_page(client.get(f"/account/contributions/review/{review.id}/edit").text)
    assert field_value(edit, "headline") == "Good onboarding"


# --- changing and withdrawing ---------------------------------------------------------------------------------------


def test_editing_a_published_review_screens_it_again(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    user = officer(client, session)
    trust(session, user, supplier)
    data = {
        **VALID_REVIEW,
        "keep_text_private": "yes",
        "contract_end-day": "31",
        "contract_end-month": "3",
        "contract_end-year": "2027",
    }
    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", data))
    assert review_row(session, review_id).status == ContentStatus.published

    path = f"/account/contributions/review/{review_id}/edit"
    form = validate_page(client.get(path).text)
    assert form.h1.get_text(strip=True) == "Change your review"
    assert "goes back to a moderator" in words(form.select_one(".govuk-warning-text"))
    assert checked(form, "implementation") == ["4"] and checked(form, "partnership") == ["na"]
    assert checked(form, "overall") == ["7"] and checked(form, "recommend") == ["yes"]
    assert checked(form, "relationship") == ["live_contract"] and checked(form, "keep_text_private") == ["yes"]
    assert selected(form, "service_area") == "Housing" and selected(form, "time_used") == "1 to 2 years"
    assert field_value(form, "headline") == VALID_REVIEW["headline"]
    assert field_value(form, "advice") == VALID_REVIEW["advice"]
    assert [field_value(form, f"contract_end-{p}") for p in ("day", "month", "year")] == ["31", "3", "2027"]
    assert form.select_one("#contribution-form form")["action"].endswith(path)

    changed = {**data, "advice": "Ask for the product lead, jo.bloggs@example.com, before you sign."}
    preview = fragment(post(client, f"/account/contributions/review/{review_id}/preview", changed, htmx=True).text)
    assert [mark.get_text() for mark in preview.find_all("mark")] == ["jo.bloggs@example.com"]
    assert "goes back to a moderator" in words(preview)

    no_js = validate_page(post(client, f"/account/contributions/review/{review_id}/preview", changed).text)
    assert [mark.get_text() for mark in no_js.find(id="screening-preview").find_all("mark")] == [
        "jo.bloggs@example.com"
    ]
    assert no_js.select_one("#contribution-form form")["action"].endswith(path)  # still changing this review
    assert field_value(no_js, "advice") == changed["advice"]

    for htmx in (False, True):
        bad = post(client, path, {**changed, "overall": "11"}, htmx=htmx)
        assert bad.status_code == 422
        page = fragment(bad.text) if htmx else validate_page(bad.text)
        assert error_summary(page) == ["Give an overall score from 1 to 10"]
        assert field_value(page, "advice") == changed["advice"] and checked(page, "keep_text_private") == ["yes"]
    assert review_row(session, review_id).status == ContentStatus.published  # nothing changed yet

    response = post(client, path, changed)
    assert submitted_id(response) == review_id
    review = review_row(session, review_id)
    assert review.status == ContentStatus.pending and review.advice == changed["advice"]
    page = validate_page(client.get(response.headers["location"]).text)
    assert page.h1.get_text(strip=True) == "Your changes will be checked by a moderator"
    assert "This looks like an email address" in words(page.select_one(".app-findings"))


def test_an_officer_withdraws_a_review(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW))
    path = f"/account/contributions/review/{review_id}/withdraw"
    confirm = validate_page(client.get(path).text)
    assert confirm.h1.get_text(strip=True) == "Withdraw your review?"
    assert VALID_REVIEW["headline"] in words(confirm)

    response = post(client, path, {})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/account/contributions?done=withdrawn")
    page = validate_page(client.get(response.headers["location"]).text)
    banner = page.select_one(".govuk-notification-banner--success")
    assert banner is not None and "Withdrawn" in words(banner)
    row = [cell.get_text(" ", strip=True) for cell in page.select("tbody tr")[0].find_all(["td", "th"])]
    assert row[2] == "Withdrawn" and "Change" not in row[4] and "Withdraw" not in row[4]
    assert review_row(session, review_id).status == ContentStatus.withdrawn
    item = session.exec(select(ModerationItem).where(ModerationItem.content_id == review_id)).one()
    assert item.decided_at is not None  # it left the queue
    assert client.get(f"/account/contributions/review/{review_id}/edit").status_code == 403

    htmx = post(client, path, {}, htmx=True)  # withdrawing twice changes nothing
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith("?done=withdrawn")


def test_another_officers_contribution_is_not_found(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session, "author@harrow.gov.uk")
    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW))
    client.cookies.clear()
    officer(client, session, "someone.else@harrow.gov.uk")
    base = f"/account/contributions/review/{review_id}"
    for path in (f"{base}/edit", f"{base}/withdraw", f"{base}/submitted"):
        assert client.get(path).status_code == 404, path
    for path in (f"{base}/edit", f"{base}/withdraw", f"{base}/preview"):
        assert post(client, path, VALID_REVIEW).status_code == 404, path
    assert review_row(session, review_id).status == ContentStatus.pending
    assert review_row(session, review_id).headline == VALID_REVIEW["headline"]
    assert mine_rows(client) == []


def test_forms_that_change_something_need_the_csrf_token(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    no_token = client.post(f"/vendors/{supplier.slug}/reviews/new", data=VALID_REVIEW)
    assert no_token.status_code == 403
    assert "This form has expired" in validate_page(no_token.text).get_text()
    assert session.exec(select(Review)).first() is None
    review_id = submitted_id(post(client, f"/vendors/{supplier.slug}/reviews/new", VALID_REVIEW))
    forged = client.post(f"/account/contributions/review/{review_id}/withdraw", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert review_row(session, review_id).status == ContentStatus.pending


# --- pilots ---------------------------------------------------------------------------------------------------------


def test_an_officer_records_a_pilot_under_an_nda(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    form = validate_page(client.get(f"/vendors/{supplier.slug}/pilots/new").text)
    assert form.h1.get_text(strip=True) == "Record a pilot"
    assert_blank(form)
    nda = form.find("input", id="nda").find_parent("fieldset")
    assert [str(radio["value"]) for radio in nda.find_all("input", type="radio")] == ["yes", "no", "unknown"]
    assert "only officers signed in" in words(nda.select_one(".govuk-hint"))
    for part in ("day", "month", "year"):
        assert form.find("input", id=f"start_date-{part}") is not None
        assert form.find("input", id=f"end_date-{part}") is not None

    response = post(client, f"/vendors/{supplier.slug}/pilots/new", VALID_PILOT)
    assert SUBMITTED.search(response.headers["location"]).group(1) == "pilot"
    session.expire_all()
    pilot = session.exec(select(Pilot)).one()
    assert pilot.nda == NdaStatus.yes and pilot.open_to_contact is True
    assert pilot.status == ContentStatus.pending
    assert str(pilot.start_date) == "2025-04-01" and str(pilot.end_date) == "2025-09-30"
    page = validate_page(client.get(response.headers["location"]).text)
    assert page.h1.get_text(strip=True) == "Your pilot record will be checked by a moderator"
    rows = mine_rows(client)
    assert "Pilot record" in rows[0][1] and VALID_PILOT["title"] in rows[0][1]

    edit = validate_page(client.get(f"/account/contributions/pilot/{pilot.id}/edit").text)
    assert checked(edit, "nda") == ["yes"] and checked(edit, "open_to_contact") == ["yes"]
    assert field_value(edit, "end_date-month") == "9"


def test_a_pilot_that_ends_before_it_starts_is_refused_with_its_values_kept(
    client: TestClient, session: Session
) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    data: dict[str, Any] = {**VALID_PILOT, "end_date-year": "2024", "problem": "", "nda": "unknown"}
    for htmx in (False, True):
        response = post(client, f"/vendors/{supplier.slug}/pilots/new", data, htmx=htmx)
        assert response.status_code == 422
        page = fragment(response.text) if htmx else validate_page(response.text)
        assert error_summary(page) == [
            "Describe the problem the pilot addressed",
            "End date must be the same as or after the start date",
        ]
        summary_targets_exist(page)
        assert page.select_one(".govuk-error-summary a")["href"] == "#problem"
        assert page.select(".govuk-error-summary a")[1]["href"] == "#end_date-day"
        assert field_value(page, "end_date-year") == "2024" and field_value(page, "start_date-day") == "1"
        assert checked(page, "nda") == ["unknown"] and checked(page, "pilot_status") == ["completed"]
        assert checked(page, "open_to_contact") == ["yes"] and selected(page, "service_area") == "Housing"
        assert field_value(page, "lessons") == VALID_PILOT["lessons"]
    assert session.exec(select(Pilot)).first() is None


def test_the_pilot_preview_flags_a_name(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    data = {**VALID_PILOT, "lessons": "Mr Preston at the supplier was helpful."}
    path = f"/vendors/{supplier.slug}/pilots/preview"
    page = validate_page(post(client, path, data).text)
    assert [m.get_text() for m in page.find(id="screening-preview").find_all("mark")] == ["Mr Preston"]
    assert page.h1.get_text(strip=True) == "Record a pilot"
    part = fragment(post(client, path, data, htmx=True).text)
    assert "Lessons learned" in words(part) and part.find("mark").get_text() == "Mr Preston"


def test_my_contributions_is_empty_at_first(client: TestClient, session: Session) -> None:
    officer(client, session)
    page = validate_page(client.get("/account/contributions").text)
    assert page.h1.get_text(strip=True) == "My contributions"
    assert page.find("table") is None
    assert page.select_one(".govuk-notification-banner") is None
    assert parse(client.get("/account/contributions?done=other").text).select_one(".govuk-notification-banner") is None


def test_tampered_values_get_a_clear_error_never_a_500(client: TestClient, session: Session) -> None:
    supplier = a_supplier(session)
    officer(client, session)
    data = {**VALID_REVIEW, "product_id": "99999999999999999999", "contract_end-day": "1" + "0" * 20}
    data |= {"contract_end-month": "1", "contract_end-year": "2027", "overall": "1e9", "relationship": "<x>"}
    response = post(client, f"/vendors/{supplier.slug}/reviews/new", data)
    assert response.status_code == 422
    page = validate_page(response.text)
    assert set(error_summary(page)) == {
        "Select how your council has worked with this supplier",
        "Select one of this supplier's products, or none",
        "Give an overall score from 1 to 10",
        "Contract end date must be a real date",
    }
    summary_targets_exist(page)
    assert field_value(page, "contract_end-day") == data["contract_end-day"]
    assert client.get(f"/account/contributions/review/{2**40}/edit").status_code in (400, 404)
    assert client.get("/account/contributions/review/not-a-number/edit").status_code in (400, 404)
