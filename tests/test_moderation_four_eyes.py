"""Four eyes, own content, stale versions, claiming and overdue items in the moderation queue."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app import audit
from app.models import AuditLog, ContentStatus, ModerationDecision, QueueStatus, Role, User, utcnow
from app.moderation import queue
from tests.factories import csrf, make_supplier, make_user, sign_in
from tests.html import validate_page
from tests.test_api_contributions import act, api_user, post_review, review_body, token_for
from tests.test_moderation import ALLEGATION, item_for, review

FIRST = "first@harrow.gov.uk"
SECOND = "second@harrow.gov.uk"


def moderators(session: Session) -> tuple[User, User]:
    return (
        make_user(session, email=FIRST, role=Role.moderator, name="Fatima First"),
        make_user(session, email=SECOND, role=Role.moderator, name="Sean Second"),
    )


def page_of(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return validate_page(response.text)


def post_form(client: TestClient, page: BeautifulSoup, selector: str, **fields: Any) -> httpx.Response:
    form = page.select_one(selector)
    assert form is not None, f"no {selector} on the page"
    data: dict[str, Any] = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(str(form["action"]), data=data, follow_redirects=False)


def snapshot(session: Session, review_id: int) -> tuple[Any, ...]:
    """Everything a refused action must leave alone: item, content, decisions and the audit log."""
    session.expire_all()
    item = item_for(session, review_id)
    content = review(session, review_id)
    decisions = session.exec(select(func.count()).select_from(ModerationDecision)).one()
    audited = session.exec(select(func.count()).select_from(AuditLog)).one()
    return (item.status, item.version, item.claimed_by_id, content.status, content.version, decisions, audited)


def critical_review(client: TestClient, session: Session) -> tuple[int, int, dict[str, str]]:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    submitted = post_review(client, headers, review_body(supplier, worked_well=ALLEGATION))
    item = item_for(session, submitted["id"])
    assert item.needs_two_moderators
    return submitted["id"], item.id or 0, headers


def test_a_critical_review_stays_unpublished_after_one_approval_and_publishes_after_a_second(
    client: TestClient, session: Session
) -> None:
    review_id, item_id, headers = critical_review(client, session)
    moderators(session)
    sign_in(client, session, FIRST)
    first = post_form(
        client, page_of(client, f"/moderation/items/{item_id}"), "form.app-decision-form", action="approve"
    )
    assert first.headers["location"].endswith("?done=first_approval")
    banner = page_of(client, first.headers["location"]).select_one(".govuk-notification-banner")
    assert "A second moderator must approve it" in banner.get_text()

    page = page_of(client, f"/moderation/items/{item_id}")
    assert page.select_one(".app-approvals").get_text(" ", strip=True) == (
        "1 of 2 approvals; another moderator must approve"
    )
    assert review(session, review_id).status == ContentStatus.pending
    # Not published anywhere: the author's own view says pending, the supplier's reviews are empty.
    assert client.get(f"/api/v1/reviews/{review_id}", headers=headers).json()["status"] == "pending"
    assert client.get("/api/v1/vendors/fenwick-ledger-systems/reviews", headers=headers).json()["total"] == 0
    assert ALLEGATION not in client.get("/vendors/fenwick-ledger-systems").text

    # The first moderator again does not count, through the page or the API.
    again = post_form(client, page, "form.app-decision-form", action="approve")
    assert again.headers["location"].endswith("?done=first_approval")
    first_headers = api_token(session, FIRST)
    version = item_for(session, review_id).version
    assert act(client, first_headers, item_id, action="approve", version=version).json()["approvals"] == 1
    assert review(session, review_id).status == ContentStatus.pending

    sign_in(client, session, SECOND)
    page = page_of(client, f"/moderation/items/{item_id}")
    second = post_form(client, page, "form.app-decision-form", action="approve")
    assert second.headers["location"].endswith("?done=approved")
    assert review(session, review_id).status == ContentStatus.published
    assert client.get("/api/v1/vendors/fenwick-ledger-systems/reviews", headers=headers).json()["total"] == 1
    assert ALLEGATION in client.get("/vendors/fenwick-ledger-systems").text
    done = page_of(client, f"/moderation/items/{item_id}")
    assert done.select_one(".app-approvals").get_text(strip=True) == "2 of 2 approvals"


def api_token(session: Session, email: str) -> dict[str, str]:
    user = session.exec(select(User).where(User.email == email)).one()
    return token_for(session, user)


def test_nobody_decides_on_their_own_content_and_is_told_why(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    author, headers = api_user(session, email=FIRST, role=Role.moderator)
    submitted = post_review(client, headers, review_body(supplier, worked_well=ALLEGATION))
    item = item_for(session, submitted["id"])
    sign_in(client, session, FIRST)
    page = page_of(client, f"/moderation/items/{item.id}")
    assert page.select_one("form.app-decision-form") is None
    assert page.select_one(".app-claim form") is None, "nor can they claim it"
    before = snapshot(session, submitted["id"])
    for path, data in (
        (f"/moderation/items/{item.id}/decide", {"version": "1", "action": "approve"}),
        (f"/moderation/items/{item.id}/claim", {"version": "1"}),
    ):
        response = client.post(path, data={"csrf_token": csrf(client, "/"), **data})
        assert response.status_code == 403
        refused = validate_page(response.text)
        assert "another moderator must" in refused.get_text()
    assert act(client, headers, item.id or 0, action="approve", version=1).status_code == 403
    assert snapshot(session, submitted["id"]) == before


def test_a_stale_decision_gets_the_409_page_and_neither_state_nor_audit_changes(
    client: TestClient, session: Session
) -> None:
    review_id, item_id, _ = critical_review(client, session)
    moderators(session)
    sign_in(client, session, FIRST)
    page = page_of(client, f"/moderation/items/{item_id}")  # version 1 in its forms
    second_headers = api_token(session, SECOND)
    assert act(client, second_headers, item_id, action="approve", version=1).status_code == 200
    before = snapshot(session, review_id)

    for fields in ({"action": "reject", "reason_code": "criminal_allegation"}, {"action": "approve"}):
        response = post_form(client, page, "form.app-decision-form", **fields)
        assert response.status_code == 409
        conflict = validate_page(response.text)
        assert conflict.h1.get_text(strip=True) == "Someone else acted on this first"
        assert "nothing changed" in conflict.get_text()
    assert post_form(client, page, ".app-claim form").status_code == 409
    assert snapshot(session, review_id) == before


# --- claiming -----------------------------------------------------------------------------------------------------


def test_a_claimed_item_shows_who_handles_it_and_only_they_decide_until_they_release_it(
    client: TestClient, session: Session
) -> None:
    review_id, item_id, _ = critical_review(client, session)
    first, _ = moderators(session)
    sign_in(client, session, FIRST)
    page = page_of(client, f"/moderation/items/{item_id}")
    assert page.select_one(".app-claim button").get_text(strip=True) == "Claim"
    claimed = post_form(client, page, ".app-claim form")
    assert claimed.status_code == 303 and claimed.headers["location"].endswith("?done=claimed")
    mine = page_of(client, claimed.headers["location"])
    assert "You are handling this item" in mine.select_one(".app-claim").get_text()
    assert mine.select_one(".app-claim button").get_text(strip=True) == "Release"
    assert "You are handling this" in page_of(client, "/moderation").select_one(".app-claimed").get_text()
    item = item_for(session, review_id)
    assert item.claimed_by_id == first.id and item.version == 2

    sign_in(client, session, SECOND)
    queue_row = page_of(client, "/moderation").select_one("tr.app-queue__item")
    assert queue_row.select_one(".app-claimed").get_text(strip=True) == "Being handled by Fatima First"
    theirs = page_of(client, f"/moderation/items/{item_id}")
    assert "Being handled by Fatima First" in theirs.select_one(".app-claim").get_text()
    assert theirs.select_one(".app-claim form") is None and theirs.select_one("form.app-decision-form") is None
    assert "Fatima First is handling this item" in theirs.select_one(".app-claimed-by-other").get_text()
    before = snapshot(session, review_id)
    for path, data in (
        (f"/moderation/items/{item_id}/decide", {"version": "2", "action": "approve"}),
        (f"/moderation/items/{item_id}/claim", {"version": "2"}),
        (f"/moderation/items/{item_id}/release", {"version": "2"}),
    ):
        response = client.post(path, data={"csrf_token": csrf(client, "/"), **data})
        assert response.status_code == 403, path
        validate_page(response.text)
    assert snapshot(session, review_id) == before

    sign_in(client, session, FIRST)
    released = post_form(client, page_of(client, f"/moderation/items/{item_id}"), ".app-claim form")
    assert released.headers["location"].endswith("?done=released")
    assert item_for(session, review_id).claimed_by_id is None
    actions = [e.action for e in audit.history(session, entity_type="review", entity_id=review_id)]
    assert actions[-2:] == ["claimed", "released"]


def test_deciding_releases_the_claim_and_a_stale_claim_can_be_taken_over(client: TestClient, session: Session) -> None:
    review_id, item_id, _ = critical_review(client, session)
    first, second = moderators(session)
    item = item_for(session, review_id)
    item.claimed_by_id, item.claimed_at = first.id, utcnow() - queue.CLAIM_STALE_AFTER - timedelta(minutes=1)
    session.add(item)
    session.commit()

    sign_in(client, session, SECOND)
    page = page_of(client, f"/moderation/items/{item_id}")
    assert "more than 2 hours ago" in page.select_one(".app-claim").get_text()
    assert page.select_one(".app-claim button").get_text(strip=True) == "Take over"
    assert page.select_one("form.app-decision-form") is not None, "a stale claim does not block a decision"
    taken = post_form(client, page, ".app-claim form")
    assert taken.status_code == 303
    assert item_for(session, review_id).claimed_by_id == second.id
    last = audit.history(session, entity_type="review", entity_id=review_id)[-1]
    assert last.action == "claim_taken_over" and last.detail["from_moderator"] == first.id

    decided = post_form(
        client, page_of(client, f"/moderation/items/{item_id}"), "form.app-decision-form", action="approve"
    )
    assert decided.headers["location"].endswith("?done=first_approval")
    item = item_for(session, review_id)
    assert item.claimed_by_id is None and item.claimed_at is None and item.status == QueueStatus.open


# --- overdue ------------------------------------------------------------------------------------------------------


def test_working_days_leave_out_weekends_and_bank_holidays() -> None:
    friday_evening = datetime(2026, 6, 5, 18, 0, tzinfo=UTC)
    assert queue.working_days_between(friday_evening, datetime(2026, 6, 8, 9, tzinfo=UTC)) == 1  # Monday
    assert not queue.is_overdue(friday_evening, datetime(2026, 6, 10, 17, tzinfo=UTC))  # Wednesday: 3 days
    assert queue.is_overdue(friday_evening, datetime(2026, 6, 11, 9, tzinfo=UTC))  # Thursday: 4 days
    # Christmas Eve 2026 is a Thursday: Christmas Day, the weekend and the Boxing Day holiday (Monday 28th) are skipped.
    christmas_eve = datetime(2026, 12, 24, 10, tzinfo=UTC)
    assert queue.working_days_between(christmas_eve, datetime(2026, 12, 31, 10, tzinfo=UTC)) == 3
    assert not queue.is_overdue(christmas_eve, datetime(2026, 12, 31, 10, tzinfo=UTC))
    assert queue.is_overdue(christmas_eve.replace(tzinfo=None), datetime(2027, 1, 4, 10, tzinfo=UTC))  # naive: UTC


def test_the_queue_marks_items_overdue_after_three_working_days(client: TestClient, session: Session) -> None:
    supplier = make_supplier(session)
    _, headers = api_user(session)
    old = post_review(client, headers, review_body(supplier, headline="Waiting for ages"))
    new = post_review(client, headers, review_body(supplier, headline="Just arrived"))
    item = item_for(session, old["id"])
    item.opened_at = utcnow() - timedelta(days=8)  # at least 4 working days, whatever the day and holidays
    session.add(item)
    session.commit()
    moderators(session)
    sign_in(client, session, FIRST)
    rows = {
        row.select_one("a").get_text(strip=True): row
        for row in page_of(client, "/moderation").select("tr.app-queue__item")
    }
    assert rows["Waiting for ages"].select_one(".app-overdue").get_text(strip=True) == "Overdue"
    assert rows["Just arrived"].select_one(".app-overdue") is None
    items = client.get("/api/v1/moderation/items", headers=api_token(session, FIRST)).json()["items"]
    assert {i["content_id"]: i["overdue"] for i in items} == {old["id"]: True, new["id"]: False}
