"""The notice-of-complaint API: sending a notice without signing in, and the moderators' view with UK-time deadlines."""

from datetime import datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import accounts, complaints
from app.clock import UK
from app.config import get_settings
from app.models import Complaint, ComplaintStatus, ContentStatus, Review
from tests.test_complaints import (
    COMPLAINANT_EMAIL,
    COMPLAINANT_NAME,
    MODERATOR_EMAIL,
    POSTER_EMAIL,
    READER_EMAIL,
    STATEMENT,
    mails,
    notice,
    setup,
    visible,
)


def body(review: Review, **overrides: object) -> dict[str, object]:
    """A complete notice as JSON: booleans for the confirmation and the consent."""
    values: dict[str, object] = {
        **notice(review),
        "location": f"review:{review.id}",
        "cannot_identify_poster": True,
        "consent_to_share": False,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def bearer(session: Session, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(session, email=email, settings=get_settings())}"}


def test_a_complete_notice_needs_no_sign_in_and_goes_to_the_poster(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    response = client.post("/api/v1/complaints", json=body(review))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["status"] == "awaiting_poster" and data["missing"] == []
    complaint = session.get(Complaint, data["id"])
    assert complaint is not None
    assert data["poster_reply_due_at"] == complaint.poster_reply_due_at.astimezone(UK).isoformat()  # type: ignore[union-attr]
    to_poster = mails(session, data["id"], POSTER_EMAIL)
    assert len(to_poster) == 1
    assert COMPLAINANT_NAME not in to_poster[0].body_text and COMPLAINANT_EMAIL not in to_poster[0].body_text
    assert [m.subject for m in mails(session, data["id"], COMPLAINANT_EMAIL)] == [
        "Your notice of complaint has been passed to the poster"
    ]


def test_a_defective_notice_is_201_with_what_is_missing(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    response = client.post("/api/v1/complaints", json=body(review, meaning=None, consent_to_share=None))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["status"] == "defective"
    assert data["missing"] == ["meaning", "consent_to_share"]
    assert data["poster_reply_due_at"] is None
    assert [m.to_address for m in mails(session, data["id"])] == [COMPLAINANT_EMAIL]


def test_a_missing_or_invalid_email_is_422_with_field_errors(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    missing = client.post("/api/v1/complaints", json=body(review, complainant_email=None))
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": {"errors": {"complainant_email": "Enter your email address, so that we can reply to you"}}
    }
    invalid = client.post("/api/v1/complaints", json=body(review, complainant_email="nobody"))
    assert invalid.status_code == 422
    assert "correct format" in invalid.json()["detail"]["errors"]["complainant_email"]
    wrong_type = client.post("/api/v1/complaints", json=body(review, consent_to_share="perhaps"))
    assert wrong_type.status_code == 422
    assert "consent_to_share" in wrong_type.json()["detail"]["errors"]
    unknown = client.post("/api/v1/complaints", json={**body(review), "complainant_nmae": "typo"})
    assert unknown.status_code == 422 and "complainant_nmae" in unknown.json()["detail"]["errors"]
    not_an_object = client.post("/api/v1/complaints", json=["a list"])
    assert not_an_object.status_code == 422


def test_the_api_is_rate_limited_per_address(client: TestClient, session: Session) -> None:
    setup(session)
    for _ in range(complaints.RATE_LIMIT):
        assert client.post("/api/v1/complaints", json={}).status_code == 422
    limited = client.post("/api/v1/complaints", json={})
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_moderators_read_a_case_with_deadlines_in_uk_time(client: TestClient, session: Session) -> None:
    _, _, review = setup(session)
    # Thursday 24 December 2026 at 10:00: Christmas Day, the weekend and the Boxing Day substitute are skipped.
    complaint = complaints.receive(
        session,
        raw=body(review),
        settings=get_settings(),
        now=datetime(2026, 12, 24, 10, 0, tzinfo=UK),
    )
    url = f"/api/v1/complaints/{complaint.id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(session, READER_EMAIL)).status_code == 403
    response = client.get(url, headers=bearer(session, MODERATOR_EMAIL))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["received_at"] == "2026-12-24T10:00:00+00:00"
    assert data["response_due_at"] == "2026-12-30T10:00:00+00:00"
    assert data["poster_notified_at"] == "2026-12-24T10:00:00+00:00"
    assert data["poster_reply_due_at"] == "2026-12-30T00:00:00+00:00"  # the end of Tuesday 29 December
    assert data["statement"] == STATEMENT
    assert {d["step"] for d in data["deadlines"]} >= {"Send the notice to the poster", "Poster's reply"}
    assert client.get("/api/v1/complaints/999999", headers=bearer(session, MODERATOR_EMAIL)).status_code == 404


def test_a_case_in_summer_time_has_a_plus_one_offset(client: TestClient, session: Session) -> None:
    _, supplier, review = setup(session)
    complaint = complaints.receive(
        session, raw=body(review), settings=get_settings(), now=datetime(2027, 6, 7, 10, 0, tzinfo=UK)
    )
    data = client.get(f"/api/v1/complaints/{complaint.id}", headers=bearer(session, MODERATOR_EMAIL)).json()
    assert data["status"] == ComplaintStatus.awaiting_poster.value
    assert data["response_due_at"] == "2027-06-09T10:00:00+01:00"
    assert data["poster_reply_due_at"] == "2027-06-13T00:00:00+01:00"
    assert [d["state"] for d in data["deadlines"]] == ["done", "done", "due"]
    # Removed through the clock, the review leaves the API, the page and search.
    complaints.run_due(session, now=datetime(2027, 6, 13, 0, 0, tzinfo=UK))
    data = client.get(f"/api/v1/complaints/{complaint.id}", headers=bearer(session, MODERATOR_EMAIL)).json()
    assert data["status"] == "removed" and data["outcome"] == "s5_no_response"
    assert data["removal_due_at"] == "2027-06-16T00:00:00+01:00"
    session.expire_all()
    assert session.get(Review, review.id).status == ContentStatus.removed  # type: ignore[union-attr]
    assert not any(visible(client, session, supplier, review).values())
