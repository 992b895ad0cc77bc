"""The moderation pages: the queue, an item with its findings highlighted, and the one decision form."""

from datetime import timedelta
from typing import Any

import httpx
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import audit
from app.models import (
    ContentStatus,
    ContentType,
    MailOutbox,
    ModerationDecision,
    ModerationItem,
    Redaction,
    Review,
    Role,
    Severity,
    Supplier,
    User,
    utcnow,
)
from tests.factories import csrf, last_mail, make_user, sign_in
from tests.html import error_summary, validate_page
from tests.test_api_contributions import (
    PRICE_TEXT,
    act,
    api_user,
    make_supplier,
    pilot_body,
    post_review,
    review_body,
)

ALLEGATION = "Mr Smith lied about the figures."


def item_page(client: TestClient, item_id: int) -> BeautifulSoup:
    response = client.get(f"/moderation/items/{item_id}")
    assert response.status_code == 200, response.text
    return validate_page(response.text)


def decide(client: TestClient, page: BeautifulSoup, **fields: Any) -> httpx.Response:
    """Submit the item's decision form as a browser would: its hidden fields, plus what the moderator chose."""
    form = page.select_one("form.app-decision-form")
    assert form is not None, "no decision form on the page"
    data: dict[str, Any] = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(str(form["action"]), data=data, follow_redirects=False)


def item_for(session: Session, review_id: int) -> ModerationItem:
    session.expire_all()
    return session.exec(
        select(ModerationItem).where(
            ModerationItem.content_type == ContentType.review, ModerationItem.content_id == review_id
        )
    ).one()


def review(session: Session, review_id: int) -> Review:
    session.expire_all()
    found = session.get(Review, review_id)
    assert found is not None
    return found


def moderator(session: Session, email: str = "moderator@harrow.gov.uk") -> User:
    return make_user(session, email=email, role=Role.moderator, name="Mo Derator")


# --- the scenario of the issue, through the pages -----------------------------------------------------------------


def test_a_price_is_redacted_through_the_form_before_the_review_is_published(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    officer, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    assert submitted["status"] == "pending_moderation"
    assert any(f["category"] == "commercial_confidentiality" for f in submitted["findings"])

    sign_in(client, session, officer.email)
    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    assert "£12,500" not in profile.get_text() and "Solid housing system" not in profile.get_text()
    assert client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=headers).json()["total"] == 0
    assert client.get(f"/api/v1/vendors/{supplier.slug}", headers=headers).json()["score"]["count"] == 0

    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    queue_page = validate_page(client.get("/moderation").text)
    row = queue_page.select_one("tr.app-queue__item")
    assert row is not None and row.select_one(".app-severity").get_text(strip=True) == "High"
    assert "Digital lead, London Borough of Harrow" in row.get_text()
    page = item_page(client, int(row["data-item-id"]))
    assert page.h1.get_text(strip=True) == "Solid housing system"
    assert officer.email in page.select_one(".app-item-author").get_text()
    marks = page.select(".app-free-text[data-field=worked_well] mark.app-finding")
    assert [m.get_text() for m in marks] == ["£12,500 per year"]
    assert "app-finding--high" in marks[0]["class"]
    findings = page.select(".app-finding-row")
    assert len(findings) == 1 and "looks like a price" in findings[0].get_text()
    checkbox = page.select_one("input[name=remove]")
    reason = page.select_one("select[name=reason] option[selected]")
    assert reason.get_text() == "confidential commercial information"
    assert reason["value"] == f"{checkbox['value']}=confidential commercial information"

    response = decide(
        client,
        page,
        action="redact_and_approve",
        remove=[checkbox["value"]],
        reason=[reason["value"]],
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/moderation?done=redacted")
    done = validate_page(client.get(response.headers["location"]).text)
    assert "redactions are made" in done.select_one(".govuk-notification-banner").get_text()
    assert done.select("tr.app-queue__item") == []

    removed = "Good value at [removed: confidential commercial information] for the whole council."
    profile = validate_page(client.get(f"/vendors/{supplier.slug}").text)
    assert "£12,500" not in profile.get_text()
    assert removed in profile.select_one(".app-review").get_text()
    api_reviews = client.get(f"/api/v1/vendors/{supplier.slug}/reviews", headers=headers).json()
    assert [r["worked_well"] for r in api_reviews["reviews"]] == [removed]
    assert client.get(f"/api/v1/vendors/{supplier.slug}", headers=headers).json()["score"]["count"] == 1
    assert review(session, submitted["id"]).worked_well == removed

    # The removed words are kept for the legal record only, and the author is told.
    record = session.exec(select(Redaction)).one()
    assert record.original == "£12,500 per year" and record.field == "worked_well"
    assert "is now published" in last_mail(session, officer.email).body_text
    actions = [(e.action, e.to_state) for e in audit.history(session, entity_type="review", entity_id=submitted["id"])]
    assert actions == [("submitted", None), ("screened", "pending"), ("redact_and_approve", "published")]
    screened = audit.history(session, entity_type="review", entity_id=submitted["id"])[1]
    assert "£12,500" not in str(screened.detail)


# --- the queue ----------------------------------------------------------------------------------------------------


def queued(session: Session, supplier: Supplier, author: User, severity: Severity, age: timedelta, title: str) -> int:
    """A pending review in the queue at `severity`, waiting for `age`."""
    pending = Review(
        supplier_id=supplier.id or 0,
        author_id=author.id or 0,
        council_id=author.council_id,
        author_role="Digital lead",
        overall=7,
        recommend=True,
        relationship="live_contract",
        service_area="Housing",
        headline=title,
    )
    session.add(pending)
    session.flush()
    item = ModerationItem(
        content_type=ContentType.review,
        content_id=pending.id or 0,
        severity=severity,
        needs_two_moderators=severity == Severity.critical,
        opened_at=utcnow() - age,
    )
    session.add(item)
    session.commit()
    return item.id or 0


def test_the_queue_puts_the_most_severe_first_then_the_oldest_and_marks_overdue_items(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    author = make_user(session)
    ids = {
        "low, old": queued(session, supplier, author, Severity.low, timedelta(days=20), "Low and old"),
        "high, new": queued(session, supplier, author, Severity.high, timedelta(hours=2), "High and new"),
        "critical, new": queued(session, supplier, author, Severity.critical, timedelta(minutes=5), "Critical"),
        "high, old": queued(session, supplier, author, Severity.high, timedelta(days=10), "High and old"),
        "low, new": queued(session, supplier, author, Severity.low, timedelta(days=1), "Low and new"),
    }
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    page = validate_page(client.get("/moderation").text)
    rows = page.select("tr.app-queue__item")
    order = {item_id: name for name, item_id in ids.items()}
    assert [order[int(row["data-item-id"])] for row in rows] == [
        "critical, new",
        "high, old",
        "high, new",
        "low, old",
        "low, new",
    ]
    overdue = {order[int(row["data-item-id"])] for row in rows if row.select_one(".app-overdue")}
    assert overdue == {"high, old", "low, old"}
    four_eyes = {order[int(row["data-item-id"])] for row in rows if row.select_one(".app-four-eyes")}
    assert four_eyes == {"critical, new"}
    assert [row.select_one(".app-severity").get_text(strip=True) for row in rows][:2] == ["Critical", "High"]
    assert rows[0].select_one("a")["href"].endswith(f"/moderation/items/{ids['critical, new']}")
    assert "20 days" in rows[3].get_text()
    assert page.select_one("a[aria-current=page]").get_text(strip=True) == "Waiting for a decision"

    # A decision moves the item to the second tab.
    _, mod_headers = api_user(session, email="second@harrow.gov.uk", role=Role.moderator)
    assert act(client, mod_headers, ids["low, new"], action="approve", version=1).status_code == 200
    decided = validate_page(client.get("/moderation", params={"status": "decided"}).text)
    assert [int(row["data-item-id"]) for row in decided.select("tr.app-queue__item")] == [ids["low, new"]]
    assert "Published" in decided.select_one("tr.app-queue__item").get_text()
    assert client.get("/moderation", params={"status": "sideways"}).status_code == 400


def test_officers_get_the_403_page(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    officer, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier))
    item = item_for(session, submitted["id"])
    assert client.get("/moderation", follow_redirects=False).status_code == 303  # signed out: sign in first
    sign_in(client, session, officer.email)
    for path in ("/moderation", f"/moderation/items/{item.id}", "/moderation?status=decided"):
        response = client.get(path)
        assert response.status_code == 403
        assert "permission" in validate_page(response.text).h1.get_text()
    refused = client.post(
        f"/moderation/items/{item.id}/decide",
        data={"csrf_token": csrf(client, "/"), "version": "1", "action": "approve"},
    )
    assert refused.status_code == 403
    assert item_for(session, submitted["id"]).version == 1
    assert review(session, submitted["id"]).status == ContentStatus.pending


def test_a_moderator_cannot_decide_on_their_own_contribution(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    item = item_for(session, submitted["id"])
    sign_in(client, session, "moderator@harrow.gov.uk")
    page = item_page(client, item.id or 0)
    assert page.select_one("form.app-decision-form") is None
    assert "another moderator must decide" in page.get_text()
    response = client.post(
        f"/moderation/items/{item.id}/decide",
        data={"csrf_token": csrf(client, "/"), "version": "1", "action": "approve"},
    )
    assert response.status_code == 403
    validate_page(response.text)
    assert item_for(session, submitted["id"]).status == "open"
    assert session.exec(select(ModerationDecision)).first() is None


def test_a_stale_version_gets_the_409_page_and_changes_nothing(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    item_id = item_for(session, submitted["id"]).id or 0
    page = item_page(client, item_id)  # version 1 in the form

    _, other = api_user(session, email="quicker@harrow.gov.uk", role=Role.moderator)
    quick = act(client, other, item_id, action="send_back", version=1, note="Take the price out, please.")
    assert quick.status_code == 200

    response = decide(client, page, action="approve")
    assert response.status_code == 409
    conflict = validate_page(response.text)
    assert conflict.h1.get_text(strip=True) == "Someone else acted on this first"
    assert conflict.select_one(f"main a[href$='/moderation/items/{item_id}']") is not None
    assert review(session, submitted["id"]).status == ContentStatus.sent_back
    assert len(session.exec(select(ModerationDecision)).all()) == 1
    reloaded = item_page(client, item_id)
    assert reloaded.select_one("form.app-decision-form") is None
    assert "Sent back for revision by another moderator" in reloaded.select_one(".app-decisions").get_text()


# --- the decisions ------------------------------------------------------------------------------------------------


def test_sending_back_needs_a_note_and_mails_the_author_the_reason_and_their_text(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    officer, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    item_id = item_for(session, submitted["id"]).id or 0
    page = item_page(client, item_id)

    missing = decide(client, page, action="send_back", send_back_note="  ")
    assert missing.status_code == 422
    again = validate_page(missing.text)
    assert again.title.get_text().startswith("Error:")
    assert error_summary(again) == ["Tell the author what to change"]
    assert again.select_one(".govuk-error-summary a")["href"] == "#send_back_note"
    assert again.select_one("input[name=action][value=send_back]").has_attr("checked")
    assert item_for(session, submitted["id"]).version == 1

    note = "Please remove the annual price: it is not published."
    response = decide(client, again, action="send_back", send_back_note=note)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=sent_back")
    assert review(session, submitted["id"]).status == ContentStatus.sent_back
    mail = session.exec(
        select(MailOutbox).where(MailOutbox.to_address == officer.email, MailOutbox.kind == "moderation_outcome")
    ).one()
    assert note in mail.body_text and PRICE_TEXT in mail.body_text and "Solid housing system" in mail.body_text
    assert mail.sent_at is not None  # delivered once the decision was committed
    history = audit.history(session, entity_type="review", entity_id=submitted["id"])
    assert history[-1].action == "send_back" and history[-1].to_state == "sent_back"


def test_rejecting_needs_a_reason_code_and_keeps_what_was_chosen(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    officer, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    page = item_page(client, item_for(session, submitted["id"]).id or 0)
    codes = [radio["value"] for radio in page.select("input[name=reason_code]")]
    assert codes[:2] == ["personal_data", "confidential_commercial"] and "other" in codes

    missing = decide(client, page, action="reject", reject_note="Not first-hand, I think.")
    assert missing.status_code == 422
    again = validate_page(missing.text)
    assert error_summary(again) == ["Select a reason for rejecting"]
    assert again.select_one("input[name=action][value=reject]").has_attr("checked")
    assert again.select_one("textarea[name=reject_note]").get_text() == "Not first-hand, I think."
    assert review(session, submitted["id"]).status == ContentStatus.pending

    response = decide(client, again, action="reject", reason_code="confidential_commercial", reject_note="")
    assert response.status_code == 303 and response.headers["location"].endswith("?done=rejected")
    assert review(session, submitted["id"]).status == ContentStatus.rejected
    mail = last_mail(session, officer.email)
    assert "It contains confidential commercial information" in mail.body_text
    decision = session.exec(select(ModerationDecision)).one()
    assert decision.action == "reject" and decision.reason_code == "confidential_commercial"
    history = audit.history(session, entity_type="review", entity_id=submitted["id"])
    assert history[-1].action == "reject" and history[-1].to_state == "rejected"


def test_approving_with_redactions_needs_a_span_and_an_invalid_choice_changes_nothing(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=PRICE_TEXT))
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    item_id = item_for(session, submitted["id"]).id or 0
    page = item_page(client, item_id)

    nothing = decide(client, page, action="redact_and_approve")
    assert nothing.status_code == 422
    assert error_summary(validate_page(nothing.text)) == ["Choose at least one span to redact"]
    real = page.select_one("input[name=remove]")["value"]
    forged = decide(client, page, action="redact_and_approve", remove=[real, "worked_well:0:9999"])
    assert forged.status_code == 422
    page_again = validate_page(forged.text)
    assert error_summary(page_again) == ["The span 0–9999 is outside the worked_well text"]
    assert page_again.select_one("input[name=version]")["value"] == "1"
    assert page_again.select_one("#redactions .govuk-error-message") is not None
    assert page_again.select_one("input[name=action][value=redact_and_approve]").has_attr("checked")
    assert page_again.select_one(f"input[name=remove][value='{real}']").has_attr("checked")
    blank = decide(client, page, action="redact_and_approve", remove=[real], reason=[f"{real}= "])
    assert error_summary(validate_page(blank.text)) == ["Give each redaction a short reason (up to 120 characters)"]
    chosen = validate_page(blank.text).select_one("select[name=reason] option[selected]")
    assert chosen["value"] == f"{real}=confidential commercial information"
    assert decide(client, page, action="redact_and_approve", remove=["junk"]).status_code == 422
    assert decide(client, page, action="").status_code == 422
    assert decide(client, page, action="approve", version="latest").status_code == 409
    assert item_for(session, submitted["id"]).version == 1
    assert review(session, submitted["id"]).worked_well == PRICE_TEXT
    assert session.exec(select(Redaction)).first() is None


def test_four_eyes_a_critical_review_needs_two_different_moderators(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=ALLEGATION))
    item = item_for(session, submitted["id"])
    assert item.severity == Severity.critical and item.needs_two_moderators

    moderator(session, "first@harrow.gov.uk")
    moderator(session, "second@harrow.gov.uk")
    sign_in(client, session, "first@harrow.gov.uk")
    page = item_page(client, item.id or 0)
    assert page.select_one(".app-four-eyes") is not None
    assert page.select_one(".app-approvals").get_text(strip=True) == "0 of 2 approvals"
    marked = page.select(".app-free-text[data-field=worked_well] mark")
    assert [m.get_text() for m in marked] == [ALLEGATION]  # the whole sentence, as critical
    assert "app-finding--critical" in marked[0]["class"]
    rows = [
        (
            row.select_one("td:nth-of-type(3) .govuk-body-s").get_text(),
            row.select_one("td:nth-of-type(4)").get_text(strip=True),
        )
        for row in page.select(".app-finding-row")
    ]
    assert ("Legal risk", "Critical") in rows  # in plain words, not the detector's internal name

    first = decide(client, page, action="approve")
    assert first.status_code == 303 and first.headers["location"].endswith("?done=first_approval")
    assert review(session, submitted["id"]).status == ContentStatus.pending
    page = item_page(client, item.id or 0)
    assert page.select_one(".app-approvals").get_text(strip=True) == "1 of 2 approvals; another moderator must approve"
    assert "You have approved this" in page.get_text()

    # The same moderator again does not count as the second pair of eyes.
    assert decide(client, page, action="approve").status_code == 303
    assert review(session, submitted["id"]).status == ContentStatus.pending
    assert item_for(session, submitted["id"]).status == "open"
    assert (
        item_page(client, item.id or 0).select_one(".app-approvals").get_text(strip=True)
        == "1 of 2 approvals; another moderator must approve"
    )

    sign_in(client, session, "second@harrow.gov.uk")
    page = item_page(client, item.id or 0)
    assert decide(client, page, action="approve").headers["location"].endswith("?done=approved")
    assert review(session, submitted["id"]).status == ContentStatus.published
    assert ALLEGATION in client.get(f"/vendors/{supplier.slug}").text
    actions = [e.action for e in audit.history(session, entity_type="review", entity_id=submitted["id"])]
    assert actions == ["submitted", "screened", "first_approval", "first_approval", "approve"]
    moderators = session.exec(select(ModerationDecision.moderator_id).order_by(col(ModerationDecision.id))).all()
    assert len(set(moderators)) == 2


def test_user_text_is_escaped_around_the_highlights(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    text = "It costs &lt;b&gt;£500&lt;/b&gt; per user & more."
    submitted = post_review(client, headers, review_body(supplier, worked_well=text))
    stored = review(session, submitted["id"]).worked_well or ""
    assert "<b>" in stored  # stored as plain text, so it must be escaped on the way out
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    page = item_page(client, item_for(session, submitted["id"]).id or 0)
    paragraph = page.select_one(".app-free-text[data-field=worked_well]")
    assert paragraph.find("b") is None
    assert paragraph.get_text() == stored
    assert [m.get_text() for m in paragraph.select("mark")] == ["£500"]
    assert "&lt;b&gt;" in str(paragraph) and "&amp; more" in str(paragraph)


def test_a_proposed_supplier_item_is_never_taken_for_a_pilot_with_the_same_id(
    client: TestClient, session: Session
) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    pilot = client.post("/api/v1/pilots", json=pilot_body(supplier), headers=headers).json()
    odd = ModerationItem(content_type=ContentType.supplier, content_id=pilot["id"])
    session.add(odd)
    session.commit()
    moderator(session)
    sign_in(client, session, "moderator@harrow.gov.uk")
    assert client.get(f"/moderation/items/{odd.id}").status_code == 404
    _, mod_headers = api_user(session, email="second@harrow.gov.uk", role=Role.moderator)
    assert act(client, mod_headers, odd.id or 0, action="approve", version=1).status_code == 404
    assert client.get(f"/api/v1/pilots/{pilot['id']}", headers=headers).json()["status"] == "pending"
