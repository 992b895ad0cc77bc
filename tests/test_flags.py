"""Officers reporting published reviews and pilots, and moderators settling the reports in the queue."""

from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import audit
from app.models import (
    ContentStatus,
    ContentType,
    Flag,
    MailOutbox,
    ModerationItem,
    Pilot,
    QueueStatus,
    Redaction,
    Review,
    Role,
    Severity,
    User,
)
from app.moderation import flags
from tests.factories import AUTHOR_NAME, csrf, make_pilot, make_review, make_supplier, make_user, sign_in
from tests.html import error_summary, fragment, validate_page
from tests.test_api_contributions import token_for

OFFICER = "reporter@harrow.gov.uk"
SECOND = "another.reporter@surreycc.gov.uk"
MODERATOR = "moderator@harrow.gov.uk"


def officer(session: Session, email: str = OFFICER, gss_code: str = "E09000015") -> User:
    return make_user(session, email=email, gss_code=gss_code, name="Rita Reporter")


def flag_form(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return validate_page(response.text)


def send(client: TestClient, page: BeautifulSoup, **fields: Any) -> httpx.Response:
    """Submit the report form as a browser would: its hidden fields, plus what the officer chose."""
    form = page.select_one("form.app-flag-form")
    assert form is not None, "no report form on the page"
    data: dict[str, Any] = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(str(form["action"]), data=data, follow_redirects=False)


def items(session: Session, content_type: ContentType, content_id: int) -> list[ModerationItem]:
    session.expire_all()
    return list(
        session.exec(
            select(ModerationItem).where(
                ModerationItem.content_type == content_type, ModerationItem.content_id == content_id
            )
        ).all()
    )


def flags_on(session: Session, content_id: int) -> list[Flag]:
    session.expire_all()
    return list(session.exec(select(Flag).where(Flag.content_id == content_id).order_by(col(Flag.id))).all())


# --- reporting, through the pages ---------------------------------------------------------------------------------


def test_an_officer_reports_a_review_from_the_supplier_page_and_it_reaches_the_queue_once(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Clear about the costs")
    officer(session)
    sign_in(client, session, OFFICER)

    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    link = profile.select_one(f"#review-{review.id} .app-flag-link a")
    assert link is not None and link.get_text(" ", strip=True).startswith("Report this review")
    assert profile.select_one(".app-moderate-link") is None, "only moderators get the moderation link"
    pages_of_reviews = fragment(client.get(f"/vendors/{supplier.slug}", headers={"HX-Request": "true"}).text)
    assert pages_of_reviews.select_one(f"#review-{review.id} .app-flag-link a")["href"] == link["href"]
    page = flag_form(client, str(link["href"]))
    assert page.h1.get_text(strip=True) == "Report this review"
    assert [r["value"] for r in page.select("input[name=reason]")] == list(flags.REASONS)
    # The defamation option points at the statutory notice of complaint about this very review.
    complaint = page.select_one(".app-complaint-route a")
    assert complaint["href"] == f"/complaints/new?about=review:{review.id}"
    assert AUTHOR_NAME not in page.get_text()

    missing = send(client, page, reason="confidential", message_confidential="  ")
    assert missing.status_code == 422
    again = validate_page(missing.text)
    assert again.title.get_text().startswith("Error:")
    assert error_summary(again) == ["Tell us what is wrong, so that a moderator can check it"]
    assert again.select_one(".govuk-error-summary a")["href"] == "#message_confidential"
    assert again.select_one("input[name=reason][value=confidential]").has_attr("checked")
    nothing = send(client, page)
    assert error_summary(validate_page(nothing.text)) == ["Select why you are reporting this"]
    assert flags_on(session, review.id or 0) == [] and items(session, ContentType.review, review.id or 0) == []

    sent = send(client, again, reason="confidential", message_confidential="It quotes the price we agreed.")
    assert sent.status_code == 303
    done = validate_page(client.get(sent.headers["location"]).text)
    assert "Report sent" in done.h1.get_text()
    assert done.select_one("a.app-complaint-route")["href"] == f"/complaints/new?about=review:{review.id}"

    [item] = items(session, ContentType.review, review.id or 0)
    assert (item.source, item.status, item.score, item.severity) == ("flags", QueueStatus.open, 8, Severity.high)
    [flag] = flags_on(session, review.id or 0)
    assert flag.item_id == item.id and flag.reason == "confidential"
    assert flag.message == "It quotes the price we agreed." and flag.resolved_at is None

    # A second officer's report adds to the same item; a report does not hide anything by itself.
    officer(session, SECOND, "E10000030")
    sign_in(client, session, SECOND)
    page = flag_form(client, f"/reviews/{review.id}/flag")
    assert send(client, page, reason="personal_data").status_code == 303  # no message needed for personal data
    [item] = items(session, ContentType.review, review.id or 0)
    assert item.score == 16 and len(flags_on(session, review.id or 0)) == 2
    assert "Clear about the costs" in client.get(f"/vendors/{supplier.slug}").text

    # One report per officer: the form says so, and a second post changes nothing.
    sign_in(client, session, OFFICER)
    already = flag_form(client, f"/reviews/{review.id}/flag")
    assert already.h1.get_text(strip=True) == "You have already reported this"
    assert already.select_one("form.app-flag-form") is None
    repeat = client.post(
        f"/reviews/{review.id}/flag",
        data={"csrf_token": csrf(client, "/"), "reason": "other", "message_other": "Again"},
    )
    assert repeat.status_code == 422
    assert error_summary(validate_page(repeat.text)) == ["You have already reported this"]
    assert (
        len(flags_on(session, review.id or 0)) == 2
        and items(session, ContentType.review, review.id or 0)[0].score == 16
    )
    actions = [e.action for e in audit.history(session, entity_type="review", entity_id=review.id or 0)]
    assert actions == ["flagged", "flagged"]


def test_a_pilot_can_be_reported_and_a_report_of_an_open_item_grows_it(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    pilot = make_pilot(session, supplier, title="Chatbot trial")
    # Already open for another reason (say a complaint): reports add to that item rather than opening a second one.
    existing = ModerationItem(content_type=ContentType.pilot, content_id=pilot.id or 0, source="complaint", score=5)
    session.add(existing)
    session.commit()
    officer(session)
    sign_in(client, session, OFFICER)
    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    link = profile.select_one(f"#pilot-{pilot.id} .app-flag-link a")
    assert link is not None and link["href"].endswith(f"/pilots/{pilot.id}/flag")
    page = flag_form(client, str(link["href"]))
    assert page.h1.get_text(strip=True) == "Report this pilot record"
    response = send(client, page, reason="inaccurate_or_defamatory", message_inaccurate_or_defamatory="Not true.")
    assert response.status_code == 303
    [item] = items(session, ContentType.pilot, pilot.id or 0)
    assert item.id == existing.id and item.source == "complaint"
    assert item.score == 15 and item.severity == Severity.high and item.version == 2
    assert flags_on(session, pilot.id or 0)[0].item_id == existing.id


def test_authors_cannot_report_their_own_and_only_published_content_can_be_reported(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    reporter = officer(session)
    own = make_review(session, supplier, headline="Mine")
    own.author_id = reporter.id or 0
    session.add(own)
    session.commit()
    pending = make_review(session, supplier, headline="Waiting", status=ContentStatus.pending)
    sign_in(client, session, OFFICER)

    for response in (
        client.get(f"/reviews/{own.id}/flag"),
        client.post(f"/reviews/{own.id}/flag", data={"csrf_token": csrf(client, "/"), "reason": "inappropriate"}),
    ):
        assert response.status_code == 403
        assert "cannot report your own" in validate_page(response.text).get_text()
    for path in (f"/reviews/{pending.id}/flag", "/reviews/999999/flag", "/pilots/999999/flag"):
        response = client.get(path)
        assert response.status_code == 404
        validate_page(response.text)
    assert flags_on(session, own.id or 0) == [] and items(session, ContentType.review, own.id or 0) == []
    client.post("/sign-out", data={"csrf_token": csrf(client, "/")})
    assert client.get(f"/reviews/{pending.id}/flag", follow_redirects=False).status_code == 303  # sign in first


# --- reporting, through the API -----------------------------------------------------------------------------------


def test_the_api_reports_with_the_same_rules_and_messages(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplier = make_supplier(session)
    review = make_review(session, supplier)
    pilot = make_pilot(session, supplier)
    reporter = officer(session)
    headers = token_for(session, reporter)

    def post(path: str, body: Any) -> httpx.Response:
        return client.post(path, json=body, headers=headers)

    invalid = post(f"/api/v1/reviews/{review.id}/flags", {"reason": "other"})
    assert invalid.status_code == 422
    assert invalid.json() == {
        "detail": {"errors": {"message": "Tell us what is wrong, so that a moderator can check it"}}
    }
    assert post(f"/api/v1/reviews/{review.id}/flags", {"reason": "spam"}).json()["detail"]["errors"] == {
        "reason": "Select why you are reporting this"
    }
    assert post(f"/api/v1/reviews/{review.id}/flags", {"reason": "other", "extra": 1}).status_code == 422
    assert client.post(f"/api/v1/reviews/{review.id}/flags", json={"reason": "inappropriate"}).status_code == 401

    created = post(f"/api/v1/reviews/{review.id}/flags", {"reason": "personal_data"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["content_type"] == "review" and body["content_id"] == review.id
    assert body["reason"] == "personal_data" and body["status"] == "received" and body["message"] is None
    assert body["complaint_url"] == f"/complaints/new?about=review:{review.id}"
    assert "author" not in str(body).lower()
    again = post(f"/api/v1/reviews/{review.id}/flags", {"reason": "inappropriate"})
    assert again.status_code == 422 and again.json()["detail"]["errors"] == {"reason": "You have already reported this"}

    piloted = post(f"/api/v1/pilots/{pilot.id}/flags", {"reason": "confidential", "message": "NDA terms quoted."})
    assert piloted.status_code == 201 and piloted.json()["content_type"] == "pilot"
    [item] = items(session, ContentType.pilot, pilot.id or 0)
    assert item.source == "flags" and item.score == 8

    assert post("/api/v1/pilots/999999/flags", {"reason": "inappropriate"}).status_code == 404
    own = make_review(session, supplier, headline="Own")
    own.author_id = reporter.id or 0
    session.add(own)
    session.commit()
    assert post(f"/api/v1/reviews/{own.id}/flags", {"reason": "inappropriate"}).status_code == 403

    # Rate limited per officer.
    monkeypatch.setattr(flags, "RATE_LIMIT", 2)
    third = make_review(session, supplier, headline="Third")
    limited = post(f"/api/v1/reviews/{third.id}/flags", {"reason": "inappropriate"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert flags_on(session, third.id or 0) == []


# --- the queue and the decisions on reports -----------------------------------------------------------------------


def reported_review(client: TestClient, session: Session, text: str = "Ask Dave Jones on 07700 900123.") -> Review:
    """A published review that two officers have reported, with the moderator signed in."""
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Helpful account team")
    review.advice = text
    session.add(review)
    session.commit()
    for email, gss, reason, message in (
        (OFFICER, "E09000015", "personal_data", "It gives a named person's phone number."),
        (SECOND, "E10000030", "other", "Not about the product."),
    ):
        user = officer(session, email, gss)
        flags.create_flag(
            session,
            user=user,
            content_type=ContentType.review,
            content_id=review.id or 0,
            reason=reason,
            message=message,
        )
    make_user(session, email=MODERATOR, role=Role.moderator, name="Mo Derator")
    sign_in(client, session, MODERATOR)
    return review


def open_item_page(client: TestClient, session: Session, review: Review) -> tuple[int, BeautifulSoup]:
    [item] = items(session, ContentType.review, review.id or 0)
    response = client.get(f"/moderation/items/{item.id}")
    assert response.status_code == 200, response.text
    return item.id or 0, validate_page(response.text)


def decide(client: TestClient, page: BeautifulSoup, **fields: Any) -> httpx.Response:
    form = page.select_one("form.app-report-decision-form")
    assert form is not None, "no decision form for reports on the page"
    data: dict[str, Any] = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(str(form["action"]), data=data, follow_redirects=False)


def mails(session: Session, kind: str) -> list[MailOutbox]:
    session.expire_all()
    return list(session.exec(select(MailOutbox).where(MailOutbox.kind == kind).order_by(col(MailOutbox.id))).all())


def test_the_queue_shows_reports_and_agreeing_hides_the_review_everywhere(client: TestClient, session: Session) -> None:
    review = reported_review(client, session)
    queue_page = validate_page(client.get("/moderation").text)
    row = queue_page.select_one("tr.app-queue__item")
    assert row.select_one(".app-flagged") is not None
    summary = row.select_one(".app-flag-summary").get_text(" ", strip=True)
    assert "2 reports, score 11" in summary
    assert "it contains personal data (1)" in summary and "something else (1)" in summary
    assert [q.get_text() for q in row.select(".app-flag-messages q")] == [
        "It gives a named person's phone number.",
        "Not about the product.",
    ]

    item_id, page = open_item_page(client, session, review)
    assert page.select_one(".app-source-flags") is not None
    assert page.select_one(".app-flag-score").get_text(" ", strip=True).startswith("Score 11 from 2 open reports")
    rows = page.select(".app-flag-row")
    assert [r.select_one("td").get_text(strip=True) for r in rows] == ["It contains personal data", "Something else"]
    assert page.select_one("form.app-decision-form input[value=approve]") is None, "no publication actions here"
    actions = [r["value"] for r in page.select("form.app-report-decision-form input[name=action]")]
    assert actions == ["keep", "hide", "redact_and_keep", "disagree"]

    response = decide(client, page, action="hide", hide_note="A phone number of a named person.")
    assert response.status_code == 303 and response.headers["location"].endswith("?done=hidden")
    banner = validate_page(client.get(response.headers["location"]).text).select_one(".govuk-notification-banner")
    assert "hidden everywhere" in banner.get_text()
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.hidden
    supplier_slug = "fenwick-ledger-systems"
    assert "Helpful account team" not in client.get(f"/vendors/{supplier_slug}").text
    item = session.get(ModerationItem, item_id)
    assert item.status == QueueStatus.decided and item.claimed_by_id is None
    assert {(f.outcome, f.resolved_at is not None) for f in flags_on(session, review.id or 0)} == {("agreed", True)}

    # The author hears why; each reporter hears the outcome, never who wrote it.
    [to_author] = [m for m in mails(session, "moderation_outcome") if m.to_address.startswith("author.")]
    assert "hid your review" in to_author.body_text and "A phone number of a named person." in to_author.body_text
    told = mails(session, "flag_outcome")
    assert sorted(m.to_address for m in told) == sorted([OFFICER, SECOND])
    for message in told:
        assert "has hidden it" in message.body_text
        assert AUTHOR_NAME not in message.body_text and "author." not in message.body_text
    history = [(e.action, e.to_state) for e in audit.history(session, entity_type="review", entity_id=review.id or 0)]
    assert history[-2:] == [("hidden", "hidden"), ("hide", "hidden")]
    assert (
        audit.history(session, entity_type="review", entity_id=review.id or 0)[-2].detail["basis"] == "policy_flagged"
    )


def test_disagreeing_keeps_it_and_may_tell_the_author(client: TestClient, session: Session) -> None:
    review = reported_review(client, session)
    _, page = open_item_page(client, session, review)
    assert decide(client, page, action="disagree", notify_author="yes").headers["location"].endswith("?done=disagreed")
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.published
    assert {f.outcome for f in flags_on(session, review.id or 0)} == {"disagreed"}
    [to_author] = mails(session, "moderation_outcome")
    assert "made no change" in to_author.body_text
    assert OFFICER not in to_author.body_text and "Rita" not in to_author.body_text
    assert all("stays published" in m.body_text for m in mails(session, "flag_outcome"))


def test_agreeing_and_keeping_changes_nothing_but_closes_the_reports_quietly(
    client: TestClient, session: Session
) -> None:
    review = reported_review(client, session)
    _, page = open_item_page(client, session, review)
    assert decide(client, page, action="keep").headers["location"].endswith("?done=kept")
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.published
    assert {f.outcome for f in flags_on(session, review.id or 0)} == {"agreed"}
    assert mails(session, "moderation_outcome") == []  # nothing changed for the author
    assert validate_page(client.get("/moderation").text).select("tr.app-queue__item") == []


def test_agreeing_and_redacting_removes_the_words_and_keeps_the_rest_published(
    client: TestClient, session: Session
) -> None:
    review = reported_review(client, session)
    item_id, page = open_item_page(client, session, review)
    wrong = decide(client, page, action="redact_and_keep", redact_field="advice", redact_words="Bob Smith")
    assert wrong.status_code == 422
    again = validate_page(wrong.text)
    assert error_summary(again) == ["Those words are not in that part of the text. Copy them exactly."]
    assert again.select_one("#redact_words")["value"] == "Bob Smith"
    assert again.select_one("input[name=action][value=redact_and_keep]").has_attr("checked")
    assert (
        items(session, ContentType.review, review.id or 0)[0].version == 2
    )  # opened by one report, grown by the other, untouched since

    response = decide(
        client,
        again,
        action="redact_and_keep",
        redact_field="advice",
        redact_words="Dave Jones on 07700 900123",
        redact_reason="personal data",
    )
    assert response.status_code == 303 and response.headers["location"].endswith("?done=redacted_kept")
    session.expire_all()
    kept = session.get(Review, review.id)
    assert kept.status == ContentStatus.published
    assert kept.advice == "Ask [removed: personal data]."
    assert session.exec(select(Redaction)).one().original == "Dave Jones on 07700 900123"
    assert "Ask [removed: personal data]." in client.get("/vendors/fenwick-ledger-systems").text
    assert "07700" not in client.get("/vendors/fenwick-ledger-systems").text
    assert {f.outcome for f in flags_on(session, review.id or 0)} == {"agreed"}
    assert session.get(ModerationItem, item_id).status == QueueStatus.decided


def test_hidden_from_the_content_page_then_disagreed_puts_it_back(client: TestClient, session: Session) -> None:
    review = reported_review(client, session)
    content = validate_page(client.get(f"/moderation/content/review/{review.id}").text)
    assert content.select_one("a.app-open-item") is not None
    form = content.select_one("form.app-takedown-form")
    data = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(status="hidden", basis="policy_complaint_pending", note="Held while we look at the reports.")
    assert client.post(str(form["action"]), data=data, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.hidden

    _, page = open_item_page(client, session, review)
    assert "Disagree: put it back" in page.select_one("form.app-report-decision-form").get_text()
    assert decide(client, page, action="disagree").status_code == 303
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.published
    assert "Helpful account team" in client.get("/vendors/fenwick-ledger-systems").text
    assert {f.outcome for f in flags_on(session, review.id or 0)} == {"disagreed"}
    assert "published again" in mails(session, "moderation_outcome")[-1].subject
    history = [e.action for e in audit.history(session, entity_type="review", entity_id=review.id or 0)]
    assert history[-3:] == ["hidden", "restored", "disagree"]


def test_publication_actions_are_refused_on_a_reported_item(client: TestClient, session: Session) -> None:
    review = reported_review(client, session)
    item_id, page = open_item_page(client, session, review)
    form = page.select_one("form.app-report-decision-form")
    data = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    response = client.post(f"/moderation/items/{item_id}/decide", data={**data, "action": "reject"})
    assert response.status_code == 403
    assert "not available" in validate_page(response.text).get_text()
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.published
    assert session.get(ModerationItem, item_id).status == QueueStatus.open
    assert session.exec(select(Pilot)).first() is None
