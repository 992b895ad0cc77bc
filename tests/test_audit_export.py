"""The audit log of one item, exported for legal use as CSV and JSON: what the log says, actors by id and role."""

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import audit
from app.models import ContentStatus, ContentType, ModerationItem, Role, User
from tests.factories import make_review, make_supplier, make_user
from tests.factories import sign_in as sign_in_by_mail
from tests.html import validate_page

MODERATOR_EMAIL = "moderator@harrow.gov.uk"
OFFICER_EMAIL = "officer@harrow.gov.uk"
ADMIN_EMAIL = "admin@harrow.gov.uk"


def sign_in(client: TestClient, session: Session, email: str) -> None:
    client.cookies.clear()
    sign_in_by_mail(client, session, email)


def history_of_a_review(session: Session) -> tuple[int, int, User, User]:
    """A pending review in the queue, with the audit entries of a submission, a flag, a redaction and a rejection."""
    officer = make_user(session, email=OFFICER_EMAIL, name="Olive Officer")
    moderator = make_user(session, email=MODERATOR_EMAIL, role=Role.moderator, name="Mo Derator")
    review = make_review(session, make_supplier(session), status=ContentStatus.pending, headline="Slow support")
    item = ModerationItem(content_type=ContentType.review, content_id=review.id or 0)
    session.add(item)
    review_id = review.id or 0
    audit.record(session, actor=officer, action="submitted", entity_type="review", entity_id=review_id)
    audit.record(
        session,
        actor=officer,
        action="screened",
        entity_type="review",
        entity_id=review_id,
        from_state=None,
        to_state="pending",
        detail={"findings": [{"detector": "money", "field": "advice", "start": 3, "end": 10}]},
    )
    audit.record(
        session,
        actor=moderator,
        action="reject",
        entity_type="review",
        entity_id=review_id,
        from_state="pending",
        to_state="rejected",
        detail={"item": 1, "reason_code": "off_topic", "note": "Not about “the supplier”, sorry, ünïcode"},
    )
    audit.record(session, actor=None, action="contact_expired", entity_type="contact_request", entity_id=review_id)
    audit.record(
        session,
        actor=None,
        action="purged",
        entity_type="review",
        entity_id=review_id,
        from_state="rejected",
        to_state="purged",
        detail={"basis": "retention_rejected"},
    )
    session.commit()
    session.refresh(item)
    return review_id, item.id or 0, officer, moderator


def test_the_csv_parses_and_matches_the_log(client: TestClient, session: Session) -> None:
    review_id, item_id, officer, moderator = history_of_a_review(session)
    sign_in(client, session, MODERATOR_EMAIL)
    page = validate_page(client.get(f"/moderation/items/{item_id}").text)
    links = {a.get_text(strip=True): a["href"] for a in page.select(".app-audit-export a")}
    assert links == {
        "download as CSV": f"http://testserver/admin/audit/review/{review_id}.csv",
        "JSON": f"http://testserver/admin/audit/review/{review_id}.json",
    }

    response = client.get(links["download as CSV"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="audit-review-{review_id}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    log = audit.history(session, entity_type="review", entity_id=review_id)
    assert list(rows[0]) == ["at", "actor_id", "actor_role", "action", "from_state", "to_state", "detail"]
    assert len(rows) == len(log) == 4
    roles = {officer.id: "officer", moderator.id: "moderator", None: "system"}
    for row, entry in zip(rows, log, strict=True):
        assert row["at"].startswith(entry.at.isoformat()[:19])
        assert row["at"].endswith("+00:00")
        assert row["actor_id"] == (str(entry.actor_id) if entry.actor_id else "")
        assert row["actor_role"] == roles[entry.actor_id]
        assert (row["action"], row["from_state"], row["to_state"]) == (
            entry.action,
            entry.from_state or "",
            entry.to_state or "",
        )
        assert json.loads(row["detail"]) == entry.detail
    assert [row["action"] for row in rows] == ["submitted", "screened", "reject", "purged"]
    assert json.loads(rows[2]["detail"])["note"] == "Not about “the supplier”, sorry, ünïcode"
    for secret in (OFFICER_EMAIL, MODERATOR_EMAIL, "Olive Officer", "Mo Derator"):
        assert secret not in response.text

    data = client.get(links["JSON"]).json()
    assert (data["entity_type"], data["entity_id"]) == ("review", str(review_id))
    assert [e["action"] for e in data["entries"]] == ["submitted", "screened", "reject", "purged"]
    assert data["entries"][2]["actor_id"] == moderator.id and data["entries"][2]["actor_role"] == "moderator"
    assert data["entries"][1]["detail"] == log[1].detail


def test_only_moderators_and_admins_can_export_and_unknown_items_are_not_found(
    client: TestClient, session: Session
) -> None:
    review_id, _, _, _ = history_of_a_review(session)
    make_user(session, email=ADMIN_EMAIL, role=Role.admin)
    url = f"/admin/audit/review/{review_id}.csv"
    assert client.get(url, follow_redirects=False).status_code == 303  # to sign in
    sign_in(client, session, OFFICER_EMAIL)
    assert client.get(url).status_code == 403
    assert client.get(f"/admin/audit/review/{review_id}.json").status_code == 403
    sign_in(client, session, ADMIN_EMAIL)
    assert client.get(url).status_code == 200
    missing = client.get("/admin/audit/review/999999.csv")
    assert missing.status_code == 404
    assert "The audit log has nothing about review 999999." in validate_page(missing.text).get_text()
    assert client.get("/admin/audit/Review%3Cscript%3E/1.json").status_code == 404
    assert client.get(f"/admin/audit/review/{review_id}.xml").status_code == 404


def test_the_person_page_links_to_the_audit_of_the_account(client: TestClient, session: Session) -> None:
    make_user(session, email=ADMIN_EMAIL, role=Role.admin)
    officer = make_user(session, email=OFFICER_EMAIL)
    audit.record(
        session,
        actor=None,
        action="role_changed",
        entity_type="user",
        entity_id=officer.id or 0,
        from_state="officer",
        to_state="moderator",
    )
    session.commit()
    sign_in(client, session, ADMIN_EMAIL)
    page = validate_page(client.get(f"/admin/people/{officer.id}").text)
    csv_link = page.find("a", string="CSV")
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link["href"]).text)))
    assert [(r["action"], r["from_state"], r["to_state"], r["actor_role"]) for r in rows] == [
        ("role_changed", "officer", "moderator", "system")
    ]
