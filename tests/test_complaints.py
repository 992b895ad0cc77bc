"""Notices of complaint (Defamation Act 2013 s5): every path from the form to the outcome, the case file, the clock."""

from datetime import datetime, timedelta
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import accounts, audit, complaints
from app.cli import cli
from app.clock import UK, add_statutory_hours, poster_reply_deadline
from app.config import get_settings
from app.models import (
    Complaint,
    ComplaintStatus,
    ContentStatus,
    ContentType,
    MailOutbox,
    Pilot,
    Review,
    Role,
    Supplier,
    User,
    utcnow,
)
from tests.factories import BIRMINGHAM, csrf, make_pilot, make_review, make_supplier, make_user
from tests.factories import sign_in as sign_in_by_mail
from tests.html import error_summary, parse, validate_page

POSTER_EMAIL = "poppy.poster@birmingham.gov.uk"
POSTER_NAME = "Poppy Poster-Quill"
POSTER_ADDRESS = "12 Example Street\nBirmingham\nB1 1AA"
READER_EMAIL = "reader@harrow.gov.uk"
MODERATOR_EMAIL = "moderator@harrow.gov.uk"
COMPLAINANT_NAME = "Fenella Ledger-Smythe"
COMPLAINANT_EMAIL = "legal@fenwick-ledger.example"
HEADLINE = "Quokkaflux migration went badly"
STATEMENT = "Fenwick Ledger Systems lied about the migration and lost our data."


def sign_in(client: TestClient, session: Session, email: str) -> None:
    client.cookies.clear()
    sign_in_by_mail(client, session, email)


def setup(session: Session) -> tuple[User, Supplier, Review]:
    poster = make_user(session, email=POSTER_EMAIL, gss_code=BIRMINGHAM, name="Poppy Poster", job_title="Finance lead")
    make_user(session, email=READER_EMAIL)
    make_user(session, email=MODERATOR_EMAIL, role=Role.moderator, name="Mo Derator")
    supplier = make_supplier(session)
    review = make_review(session, supplier, gss_code=BIRMINGHAM, headline=HEADLINE)
    review.did_not_work = STATEMENT
    review.author_id = poster.id or 0
    session.add(review)
    session.commit()
    session.refresh(review)
    return poster, supplier, review


def notice(review: Review | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete notice about `review`, as the form sends it."""
    values: dict[str, Any] = {
        "complainant_name": COMPLAINANT_NAME,
        "complainant_email": COMPLAINANT_EMAIL,
        "statement": STATEMENT,
        "location": f"http://testserver/vendors/fenwick-ledger-systems#review-{review.id}" if review else "",
        "why_defamatory": "It says we are dishonest; two councils paused a procurement.",
        "meaning": "That we deceive our customers and lose their data.",
        "inaccurate_parts": "No data was lost: it was all returned on 3 March.",
        "unsupported_opinion": "",
        "cannot_identify_poster": "yes",
        "consent_to_share": "no",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def send(client: TestClient, values: dict[str, Any]) -> Any:
    return client.post("/complaints/new", data={**values, "csrf_token": csrf(client, "/complaints/new")})


def mails(session: Session, complaint_id: int, to: str | None = None) -> list[MailOutbox]:
    session.expire_all()
    query = select(MailOutbox).where(MailOutbox.ref == f"complaint:{complaint_id}").order_by(col(MailOutbox.id))
    return [m for m in session.exec(query).all() if to is None or m.to_address == to]


def only_complaint(session: Session) -> Complaint:
    session.expire_all()
    return session.exec(select(Complaint)).one()


def content(session: Session, review: Review) -> Review:
    session.expire_all()
    found = session.get(Review, review.id)
    assert found is not None
    return found


def visible(client: TestClient, session: Session, supplier: Supplier, review: Review) -> dict[str, bool]:
    """Whether the review shows on the supplier page, in search and in the API, to another officer."""
    sign_in(client, session, READER_EMAIL)
    token = accounts.issue_api_token(session, email=READER_EMAIL, settings=get_settings())
    page = client.get(f"/vendors/{supplier.slug}").text
    results = parse(client.get("/search", params={"q": "Quokkaflux", "index": "reviews"}).text)
    found = " ".join(results.get_text(" ").split())
    api = client.get(f"/api/v1/reviews/{review.id}", headers={"Authorization": f"Bearer {token}"})
    listed = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers={"Authorization": f"Bearer {token}"})
    return {
        "page": HEADLINE in page,
        "search": HEADLINE in found,
        "api": api.status_code == 200,
        "api_list": HEADLINE in listed.text,
    }


def reply_as_poster(client: TestClient, session: Session, complaint_id: int, **fields: str) -> Any:
    sign_in(client, session, POSTER_EMAIL)
    page = client.get(f"/complaints/{complaint_id}/reply")
    assert page.status_code == 200, page.text
    validate_page(page.text)
    token = parse(page.text).find("input", attrs={"name": "csrf_token"})["value"]
    return client.post(
        f"/complaints/{complaint_id}/reply", data={**fields, "csrf_token": token}, follow_redirects=False
    )


def send_valid(client: TestClient, session: Session, review: Review, **overrides: Any) -> Complaint:
    response = send(client, notice(review, **overrides))
    assert response.status_code == 200, response.text  # followed to the confirmation page
    validate_page(response.text)
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.awaiting_poster
    assert complaint.response_due_at == add_statutory_hours(complaint.received_at)
    notified = _aware(complaint.poster_notified_at)
    assert notified <= _aware(complaint.response_due_at)
    assert complaint.acknowledged_at == notified
    assert complaint.poster_reply_due_at == poster_reply_deadline(notified)
    return complaint


def told_outcome(session: Session, complaint: Complaint) -> MailOutbox:
    outcome = [m for m in mails(session, complaint.id or 0, COMPLAINANT_EMAIL) if m.kind == "complaint_outcome"]
    assert len(outcome) == 1
    return outcome[0]


def actions(session: Session, complaint_id: int) -> list[str]:
    return [e.action for e in audit.history(session, entity_type="complaint", entity_id=complaint_id)]


def removal_basis(session: Session, review: Review) -> str:
    entries = audit.history(session, entity_type="review", entity_id=review.id or 0)
    removed = [e for e in entries if e.action == "removed"]
    assert removed, "the review's own audit has no removal"
    return str(removed[-1].detail["basis"])


# --- the form --------------------------------------------------------------------------------------


def test_the_report_link_on_reviews_and_pilots_prefills_the_form(client: TestClient, session: Session) -> None:
    _, supplier, review = setup(session)
    pilot = make_pilot(session, supplier, title="Quokka pilot")
    sign_in(client, session, READER_EMAIL)
    page = parse(client.get(f"/vendors/{supplier.slug}").text)
    review_link = page.select_one(f"#review-{review.id} .app-report-link a")
    pilot_link = page.select_one(f"#pilot-{pilot.id} .app-report-link a")
    assert (
        review_link is not None
        and review_link["href"] == f"http://testserver/complaints/new?about=review%3A{review.id}"
    )
    assert pilot_link is not None and pilot_link["href"].endswith(f"/complaints/new?about=pilot%3A{pilot.id}")
    client.cookies.clear()  # the form needs no sign-in
    form = validate_page(client.get(str(review_link["href"])).text)
    location = form.find("input", attrs={"name": "location"})
    assert location["value"] == f"http://testserver/vendors/{supplier.slug}#review-{review.id}"
    assert form.find("input", attrs={"name": "consent_to_share", "type": "radio"}) is not None
    assert form.find("input", attrs={"name": "cannot_identify_poster", "type": "checkbox"}) is not None
    assert len(form.select("fieldset")) >= 4
    # Unpublished content, or nonsense, pre-fills nothing.
    hidden = make_pilot(session, supplier, title="Hidden pilot", status=ContentStatus.hidden)
    for about in (f"pilot:{hidden.id}", "review:999999", "supplier:1", "nonsense"):
        page = parse(client.get("/complaints/new", params={"about": about}).text)
        assert page.find("input", attrs={"name": "location"}).get("value", "") == ""


def test_a_notice_without_an_email_is_a_form_error_that_keeps_what_was_typed(
    client: TestClient, session: Session
) -> None:
    _, _, review = setup(session)
    for email, message in (
        ("", "Enter your email address, so that we can reply to you"),
        ("not-an-email", "Enter an email address in the correct format, like name@example.com"),
    ):
        response = send(client, notice(review, complainant_email=email, consent_to_share="yes"))
        assert response.status_code == 422
        page = validate_page(response.text)
        assert error_summary(page) == [message]
        assert page.select_one("#complainant_email-error") is not None
        assert page.find("input", attrs={"name": "complainant_name"})["value"] == COMPLAINANT_NAME
        assert page.find("textarea", attrs={"name": "statement"}).get_text() == STATEMENT
        assert page.find("input", attrs={"name": "consent_to_share", "value": "yes"}).has_attr("checked")
        assert page.find("input", attrs={"name": "cannot_identify_poster"}).has_attr("checked")
        assert page.title is not None and page.title.get_text().startswith("Error:")
    session.expire_all()
    assert session.exec(select(Complaint)).first() is None


def test_overlong_text_is_a_form_error(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    response = send(client, notice(review, meaning="x" * 5001))
    assert response.status_code == 422
    assert error_summary(validate_page(response.text)) == [
        "The meaning must be 5,000 characters or fewer (it has 5,001)"
    ]


def test_a_defective_notice_is_accepted_answered_and_starts_nothing(client: TestClient, session: Session) -> None:
    poster, supplier, review = setup(session)
    response = send(client, notice(review, meaning="", consent_to_share=None, cannot_identify_poster=None))
    assert response.status_code == 200  # not a form error: the notice is received
    page = validate_page(response.text)
    assert page.h1 is not None and page.h1.get_text(strip=True) == "Your notice is missing information"
    assert [li.get_text(strip=True) for li in page.select(".app-missing li")] == [
        "The meaning you say the statement has",
        "Confirmation that you cannot identify the poster",
        "Whether we may give your name and email address to the poster",
    ]
    assert COMPLAINANT_EMAIL in page.get_text()
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.defective
    assert complaint.missing == ["meaning", "cannot_identify_poster", "consent_to_share"]
    assert complaint.content_type == ContentType.review and complaint.content_id == review.id
    assert complaint.response_due_at == add_statutory_hours(complaint.received_at)
    # One email, to the complainant, sent at once (well within its 48-hour deadline).
    sent = mails(session, complaint.id or 0)
    assert [m.to_address for m in sent] == [COMPLAINANT_EMAIL]
    body = sent[0].body_text
    assert (
        "The meaning you say the statement has" in body
        and "Why the statement is defamatory" not in body.split("A notice of complaint must contain")[0]
    )
    for requirement in complaints.REQUIREMENTS:
        assert requirement.requirement in body
    assert "http://testserver/complaints/new" in body
    assert complaint.acknowledged_at is not None and complaint.acknowledged_at <= _aware(complaint.response_due_at)
    # Nothing else starts: no mail to the poster, the review stays up.
    assert not session.exec(select(MailOutbox).where(MailOutbox.to_address == poster.email)).all()
    assert complaint.poster_notified_at is None and complaint.poster_reply_due_at is None
    assert content(session, review).status == ContentStatus.published
    assert actions(session, complaint.id or 0) == ["complaint_received", "complaint_told_defective"]
    # The confirmation link works only for whoever holds it.
    assert client.get("/complaints/received", params={"token": "forged"}).status_code == 404


def _aware(value: datetime | None) -> datetime:
    assert value is not None
    return value


def test_missing_both_inaccuracy_and_opinion_makes_it_defective(session: Session) -> None:
    _, _, review = setup(session)
    complaint = complaints.receive(
        session, raw=notice(review, inaccurate_parts="", unsupported_opinion=""), settings=get_settings()
    )
    assert complaint.missing == ["inaccurate_or_unsupported"]
    complaint2 = complaints.receive(
        session,
        raw=notice(review, inaccurate_parts="", unsupported_opinion="Calling it 'hopeless' has no basis."),
        settings=get_settings(),
    )
    assert complaint2.status == ComplaintStatus.awaiting_poster


# --- a valid notice and its clock ------------------------------------------------------------------------------------


def test_no_reply_by_the_deadline_removes_the_statement_everywhere(client: TestClient, session: Session) -> None:
    poster, supplier, review = setup(session)
    received = datetime(2027, 6, 7, 10, 0, tzinfo=UK)  # a Monday
    complaint = complaints.receive(session, raw=notice(review), settings=get_settings(), now=received)
    assert complaint.status == ComplaintStatus.awaiting_poster
    assert complaint.response_due_at == datetime(2027, 6, 9, 10, 0, tzinfo=UK)  # 48 hours, Mon to Wed
    assert complaint.poster_notified_at == received and complaint.acknowledged_at == received
    # Midnight at the end of Saturday 12 June, the fifth day after Monday.
    assert complaint.poster_reply_due_at == datetime(2027, 6, 13, 0, 0, tzinfo=UK)

    to_poster = mails(session, complaint.id or 0, POSTER_EMAIL)
    assert len(to_poster) == 1
    body = to_poster[0].body_text
    assert COMPLAINANT_NAME not in body and COMPLAINANT_EMAIL not in body  # no consent
    assert "Ledger-Smythe" not in to_poster[0].subject + body
    assert STATEMENT in body
    assert (
        "will be removed unless you reply in writing within 5 days, by midnight at the end of Saturday 12 June 2027"
        in body
    )
    assert "full name and postal address" in body
    assert f"http://testserver/complaints/{complaint.id}/reply" in body
    ack = mails(session, complaint.id or 0, COMPLAINANT_EMAIL)
    assert [m.subject for m in ack] == ["Your notice of complaint has been passed to the poster"]

    assert visible(client, session, supplier, review) == {"page": True, "search": True, "api": True, "api_list": True}
    assert complaints.run_due(session, now=datetime(2027, 6, 12, 23, 59, 59, tzinfo=UK)) == []
    done = complaints.run_due(session, now=datetime(2027, 6, 13, 0, 0, tzinfo=UK))
    assert done == [complaints.DueAction(complaint_id=complaint.id or 0, action="s5_no_response")]
    assert complaints.run_due(session, now=datetime(2027, 6, 14, tzinfo=UK)) == []  # once only

    session.expire_all()
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.removed and complaint.outcome == "s5_no_response"
    assert complaint.removed_at == datetime(2027, 6, 13, 0, 0, tzinfo=UK)
    # The removal deadline: 48 statutory hours from the reply deadline (Sunday skipped; Mon and Tue count).
    assert complaint.removal_due_at == datetime(2027, 6, 16, 0, 0, tzinfo=UK)
    assert complaint.complainant_told_at == complaint.removed_at
    assert content(session, review).status == ContentStatus.removed
    assert removal_basis(session, review) == "s5_no_response"
    outcome = told_outcome(session, complaint)
    assert "removed" in outcome.subject and "did not reply to your notice in time" in outcome.body_text
    assert [m.kind for m in mails(session, complaint.id or 0, POSTER_EMAIL)] == [
        "complaint_to_poster",
        "complaint_removed_poster",
    ]
    assert visible(client, session, supplier, review) == {
        "page": False,
        "search": False,
        "api": False,
        "api_list": False,
    }
    assert actions(session, complaint.id or 0) == [
        "complaint_received",
        "complaint_sent_to_poster",
        "complaint_acknowledged",
        "complaint_statement_removed",
        "complaint_told_outcome",
    ]
    # A reply after the deadline is recorded as late and changes nothing.
    late = complaints.poster_reply(
        session,
        complaint_id=complaint.id or 0,
        poster=poster,
        raw={
            "wants_removal": "no",
            "full_name": POSTER_NAME,
            "postal_address": POSTER_ADDRESS,
            "consents_disclosure": "no",
        },
        now=datetime(2027, 6, 14, 9, 0, tzinfo=UK),
    )
    assert late.status == ComplaintStatus.removed and late.outcome == "s5_no_response"
    assert late.poster_full_name == POSTER_NAME
    assert content(session, review).status == ContentStatus.removed


def test_the_clock_runner_command(session: Session) -> None:
    _, _, review = setup(session)
    complaints.receive(session, raw=notice(review), settings=get_settings(), now=utcnow() - timedelta(days=7))
    result = CliRunner().invoke(cli, ["complaints-due"])
    assert result.exit_code == 0, result.output
    assert "1 statement removed after no reply." in result.output
    assert content(session, review).status == ContentStatus.removed
    again = CliRunner().invoke(cli, ["complaints-due"])
    assert "0 statements removed" in again.output


def test_the_poster_asks_for_removal(client: TestClient, session: Session) -> None:
    _, supplier, review = setup(session)
    complaint = send_valid(client, session, review)
    response = reply_as_poster(client, session, complaint.id or 0, wants_removal="yes")
    assert response.status_code == 303
    done = client.get(response.headers["location"])
    assert "Your reply has been sent" in validate_page(done.text).get_text()
    session.expire_all()
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.removed and complaint.outcome == "s5_poster_request"
    assert complaint.poster_wants_removal is True and complaint.poster_full_name is None
    replied = _aware(complaint.poster_replied_at)
    assert complaint.removal_due_at == add_statutory_hours(replied)
    assert _aware(complaint.removed_at) <= _aware(complaint.removal_due_at)
    assert "asked for it to be removed" in told_outcome(session, complaint).body_text
    assert content(session, review).status == ContentStatus.removed
    assert removal_basis(session, review) == "s5_poster_request"
    assert not any(visible(client, session, supplier, review).values())


def test_an_objection_without_a_postal_address_is_inadequate(client: TestClient, session: Session) -> None:
    _, supplier, review = setup(session)
    complaint = send_valid(client, session, review)
    response = reply_as_poster(
        client, session, complaint.id or 0, wants_removal="no", full_name=POSTER_NAME, consents_disclosure="yes"
    )
    assert response.status_code == 303
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.removed and complaint.outcome == "s5_inadequate"
    assert complaint.poster_wants_removal is False and complaint.poster_address is None
    assert complaint.removal_due_at == add_statutory_hours(_aware(complaint.poster_replied_at))
    outcome = told_outcome(session, complaint)
    assert "did not give their full name and postal address" in outcome.body_text
    assert POSTER_NAME not in outcome.body_text
    assert removal_basis(session, review) == "s5_inadequate"
    assert not any(visible(client, session, supplier, review).values())
    poster_mails = mails(session, complaint.id or 0, POSTER_EMAIL)
    assert [m.kind for m in poster_mails] == [
        "complaint_to_poster",
        "complaint_reply_received",
        "complaint_removed_poster",
    ]


def test_an_objection_with_details_that_refuses_disclosure_keeps_the_statement(
    client: TestClient, session: Session
) -> None:
    _, supplier, review = setup(session)
    complaint = send_valid(client, session, review)
    response = reply_as_poster(
        client,
        session,
        complaint.id or 0,
        wants_removal="no",
        full_name=POSTER_NAME,
        postal_address=POSTER_ADDRESS,
        consents_disclosure="no",
    )
    assert response.status_code == 303
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.kept and complaint.outcome == "kept_details_withheld"
    assert complaint.poster_full_name == POSTER_NAME and complaint.poster_address == POSTER_ADDRESS
    assert complaint.poster_consents_disclosure is False
    assert complaint.removal_due_at is None and complaint.removed_at is None
    assert complaint.complainant_told_at is not None
    outcome = told_outcome(session, complaint)
    assert "objects" in outcome.subject
    assert "did not agree" in outcome.body_text and "court" in outcome.body_text
    for secret in (POSTER_NAME, "Example Street", "B1 1AA", POSTER_EMAIL):
        assert all(secret not in m.body_text for m in mails(session, complaint.id or 0, COMPLAINANT_EMAIL))
    assert content(session, review).status == ContentStatus.published
    assert all(visible(client, session, supplier, review).values())
    # The form is gone once answered; a second reply is refused.
    sign_in(client, session, POSTER_EMAIL)
    page = validate_page(client.get(f"/complaints/{complaint.id}/reply").text)
    assert page.select_one("form[action$='/reply']") is None
    assert "The statement stays on the website" in page.get_text()
    again = client.post(
        f"/complaints/{complaint.id}/reply",
        data={"wants_removal": "yes", "csrf_token": csrf(client, f"/complaints/{complaint.id}/reply")},
    )
    assert again.status_code == 409
    assert content(session, review).status == ContentStatus.published


def test_an_objection_with_details_and_consent_sends_them_to_the_complainant(
    client: TestClient, session: Session
) -> None:
    _, supplier, review = setup(session)
    complaint = send_valid(client, session, review, consent_to_share="yes")
    to_poster = mails(session, complaint.id or 0, POSTER_EMAIL)[0]
    assert COMPLAINANT_NAME in to_poster.body_text and COMPLAINANT_EMAIL in to_poster.body_text  # they consented
    response = reply_as_poster(
        client,
        session,
        complaint.id or 0,
        wants_removal="no",
        full_name=POSTER_NAME,
        postal_address=POSTER_ADDRESS,
        consents_disclosure="yes",
    )
    assert response.status_code == 303
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.kept and complaint.outcome == "kept_details_disclosed"
    outcome = told_outcome(session, complaint)
    assert POSTER_NAME in outcome.body_text and POSTER_ADDRESS in outcome.body_text
    assert content(session, review).status == ContentStatus.published
    assert all(visible(client, session, supplier, review).values())


def test_the_reply_form_errors_keep_what_was_chosen(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    complaint = send_valid(client, session, review)
    response = reply_as_poster(client, session, complaint.id or 0, full_name=POSTER_NAME)
    assert response.status_code == 422
    page = validate_page(response.text)
    assert error_summary(page) == ["Select whether you want the statement removed"]
    assert page.find("input", attrs={"name": "full_name"})["value"] == POSTER_NAME
    response = client.post(
        f"/complaints/{complaint.id}/reply",
        data={
            "wants_removal": "no",
            "full_name": POSTER_NAME,
            "postal_address": POSTER_ADDRESS,
            "csrf_token": csrf(client, f"/complaints/{complaint.id}/reply"),
        },
    )
    assert response.status_code == 422
    page = validate_page(response.text)
    assert error_summary(page) == ["Select whether we may give your name and address to the complainant"]
    assert page.find("input", attrs={"name": "wants_removal", "value": "no"}).has_attr("checked")
    assert page.find("textarea", attrs={"name": "postal_address"}).get_text() == POSTER_ADDRESS
    assert only_complaint(session).status == ComplaintStatus.awaiting_poster


def test_only_the_author_can_open_the_reply_form(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    complaint = send_valid(client, session, review)
    client.cookies.clear()
    assert client.get(f"/complaints/{complaint.id}/reply", follow_redirects=False).status_code == 303  # sign in
    for email in (READER_EMAIL, MODERATOR_EMAIL):
        sign_in(client, session, email)
        assert client.get(f"/complaints/{complaint.id}/reply").status_code == 404
        token = csrf(client, "/complaints/new")
        posted = client.post(f"/complaints/{complaint.id}/reply", data={"wants_removal": "yes", "csrf_token": token})
        assert posted.status_code == 404
    assert only_complaint(session).status == ComplaintStatus.awaiting_poster
    sign_in(client, session, POSTER_EMAIL)
    page = validate_page(client.get(f"/complaints/{complaint.id}/reply").text)
    assert STATEMENT in page.get_text() and COMPLAINANT_NAME not in page.get_text()
    assert client.get("/complaints/999999/reply").status_code == 404


def test_a_poster_who_cannot_be_contacted_means_removal_at_once(client: TestClient, session: Session) -> None:
    poster, supplier, review = setup(session)
    pilot = make_pilot(session, supplier, title="Quokkaflux pilot")
    pilot.author_id = poster.id or 0
    poster.erased_at = utcnow()
    session.add_all([pilot, poster])
    session.commit()
    response = send(client, notice(location=f"pilot:{pilot.id}"))
    assert "We could not contact the person who posted the statement" in validate_page(response.text).get_text()
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.removed and complaint.outcome == "s5_no_contact_route"
    assert complaint.poster_notified_at is None
    assert complaint.removal_due_at == complaint.response_due_at
    assert [m.to_address for m in mails(session, complaint.id or 0)] == [COMPLAINANT_EMAIL]
    assert "could not contact" in told_outcome(session, complaint).body_text
    session.expire_all()
    assert session.get(Pilot, pilot.id).status == ContentStatus.removed  # type: ignore[union-attr]


def test_a_location_that_names_nothing_waits_for_a_moderator_to_link_it(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    response = send(client, notice(location="The review about migration on your site, posted in May"))
    assert "A moderator will find the statement" in validate_page(response.text).get_text()
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.open and complaint.content_id is None
    assert [m.subject for m in mails(session, complaint.id or 0)] == ["We have received your notice of complaint"]
    sign_in(client, session, MODERATOR_EMAIL)
    listing = validate_page(client.get("/moderation/complaints").text)
    assert "Find the statement and send the notice to the poster" in listing.get_text()
    page = validate_page(client.get(f"/moderation/complaints/{complaint.id}").text)
    form = page.select_one("form.app-link-form")
    assert form is not None
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    bad = client.post(str(form["action"]), data={**data, "location": "https://elsewhere.example/x"})
    assert bad.status_code == 422
    assert error_summary(validate_page(bad.text))[0].startswith("Enter the address of a review or pilot")
    done = client.post(str(form["action"]), data={**data, "location": f"review:{review.id}"}, follow_redirects=False)
    assert done.status_code == 303
    complaint = only_complaint(session)
    assert complaint.status == ComplaintStatus.awaiting_poster and complaint.content_id == review.id
    assert len(mails(session, complaint.id or 0, POSTER_EMAIL)) == 1
    assert "complaint_linked" in actions(session, complaint.id or 0)


# --- moderators ------------------------------------------------------------------------------------


def test_the_case_file_shows_the_notice_deadlines_messages_and_audit(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    complaint = complaints.receive(
        session, raw=notice(review), settings=get_settings(), now=datetime(2027, 6, 7, 10, 0, tzinfo=UK)
    )
    sign_in(client, session, MODERATOR_EMAIL)
    queue = validate_page(client.get("/moderation").text)
    assert queue.find("a", string="Notices of complaint")["href"].endswith("/moderation/complaints")
    listing = validate_page(client.get("/moderation/complaints").text)
    row = listing.select_one(f"#complaint-{complaint.id}")
    assert row is not None
    assert "Waiting for the poster" in row.get_text()
    assert "Poster's reply: midnight at the end of Saturday 12 June 2027" in " ".join(row.get_text().split())
    page = validate_page(client.get(f"/moderation/complaints/{complaint.id}").text)
    text = " ".join(page.get_text().split())
    assert STATEMENT in text and COMPLAINANT_NAME in text  # moderators see the whole notice
    deadlines = [" | ".join(td.get_text(strip=True) for td in tr.select("td")) for tr in page.select(".app-deadline")]
    assert deadlines == [
        "Send the notice to the poster | 10:00am on Wednesday 9 June 2027 | 10:00am on Monday 7 June 2027 | Done",
        "Acknowledge the complainant | 10:00am on Wednesday 9 June 2027 | 10:00am on Monday 7 June 2027 | Done",
        "Poster's reply | midnight at the end of Saturday 12 June 2027 | Not yet | Due",
    ]
    messages = [s.get_text(" ", strip=True) for s in page.select(".app-message summary")]
    assert len(messages) == 2
    assert POSTER_EMAIL in messages[0] and COMPLAINANT_EMAIL in messages[1]
    history = [tr.select("td")[2].get_text(strip=True) for tr in page.select(".app-history tbody tr")]
    assert history == ["Received", "Sent to poster", "Acknowledged"]


def test_overdue_deadlines_are_tagged(session: Session) -> None:
    _, _, review = setup(session)
    complaint = complaints.receive(session, raw=notice(review, location="somewhere else"), settings=get_settings())
    later = _aware(complaint.response_due_at) + timedelta(minutes=1)
    rows = complaints.list_cases(session, now=later)
    assert rows[0].overdue and rows[0].next_deadline is not None
    assert rows[0].next_deadline.tag == ("Overdue", "red")
    assert not complaints.list_cases(session, now=_aware(complaint.received_at))[0].overdue


def test_hide_while_considering_and_a_stale_hide_gets_409(client: TestClient, session: Session) -> None:
    poster, supplier, review = setup(session)
    complaint = send_valid(client, session, review)
    sign_in(client, session, MODERATOR_EMAIL)
    page = validate_page(client.get(f"/moderation/complaints/{complaint.id}").text)
    form = page.select_one("form.app-hide-form")
    assert form is not None
    stale = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    # Meanwhile the page goes stale: another moderator hides it, then it is put back under policy.
    other = make_user(session, email="other.moderator@harrow.gov.uk", role=Role.moderator)
    complaints.hide_pending(session, complaint_id=complaint.id or 0, moderator=other, version=int(stale["version"]))
    from app.moderation.takedown import restore

    restore(session, content=content(session, review), actor=other)
    session.commit()
    conflict = client.post(str(form["action"]), data=stale)
    assert conflict.status_code == 409
    assert "Someone else changed this complaint first" in validate_page(conflict.text).get_text()
    assert content(session, review).status == ContentStatus.published
    # A fresh page hides it.
    page = validate_page(client.get(f"/moderation/complaints/{complaint.id}").text)
    form = page.select_one("form.app-hide-form")
    assert form is not None
    fresh = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    done = client.post(str(form["action"]), data=fresh, follow_redirects=False)
    assert done.status_code == 303
    assert content(session, review).status == ContentStatus.hidden
    entries = audit.history(session, entity_type="review", entity_id=review.id or 0)
    assert [e.detail.get("basis") for e in entries if e.action == "hidden"][-1] == "policy_complaint_pending"
    assert not any(visible(client, session, supplier, review).values())
    # Hiding does not end the statutory procedure: the poster can still reply.
    assert only_complaint(session).status == ComplaintStatus.awaiting_poster
    sign_in(client, session, MODERATOR_EMAIL)
    page = validate_page(client.get(f"/moderation/complaints/{complaint.id}").text)
    assert page.select_one("form.app-hide-form") is None


def test_officers_cannot_see_the_complaints_pages(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    complaint = send_valid(client, session, review)
    sign_in(client, session, READER_EMAIL)
    assert client.get("/moderation/complaints").status_code == 403
    assert client.get(f"/moderation/complaints/{complaint.id}").status_code == 403


def test_too_many_notices_from_one_address(client: TestClient, session: Session) -> None:
    setup(session)
    token = csrf(client, "/complaints/new")
    for _ in range(complaints.RATE_LIMIT):
        assert client.post("/complaints/new", data={"csrf_token": token, "complainant_email": ""}).status_code == 422
    limited = client.post("/complaints/new", data={"csrf_token": token, "complainant_email": ""})
    assert limited.status_code == 429
    assert "too many notices" in BeautifulSoup(limited.text, "html.parser").get_text()
