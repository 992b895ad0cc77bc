"""Data rights: finding a person, exporting everything held about them, and erasing it so it shows nowhere."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import accounts, audit
from app.cli import cli
from app.config import ErasureMode, get_settings
from app.datarights import FORMER_MEMBER, erase_person, placeholder_email
from app.errors import Conflict
from app.models import (
    AuditLog,
    Complaint,
    ComplaintStatus,
    ContactRequest,
    ContactStatus,
    ContentStatus,
    ContentType,
    Finding,
    Flag,
    MailOutbox,
    ModerationItem,
    Pilot,
    Review,
    Role,
    Severity,
    Supplier,
    User,
    UserSession,
    utcnow,
)
from tests.factories import BIRMINGHAM, LEEDS, csrf, make_pilot, make_review, make_supplier, make_user
from tests.factories import sign_in as sign_in_by_mail
from tests.html import error_summary, validate_page

PERSON_NAME = "Perpetua Vandersloot"
PERSON_EMAIL = "perpetua.vandersloot@harrow.gov.uk"
THIRD_PARTY = "Dr Quentin Marsh"
PHONE = "020 7946 0321"
# What must never be on a page after erasure: the name, each part of it, the email and its local part.
SECRETS = ("perpetua", "vandersloot", PERSON_EMAIL)
OWN_TEXT = f"Ask {PERSON_NAME} ({PERSON_EMAIL}) about the payroll rollout, or {THIRD_PARTY} on {PHONE}."
PEER_EMAIL = "peer.officer@birmingham.gov.uk"
ASKER_EMAIL = "asker.officer@leeds.gov.uk"
MODERATOR_EMAIL = "moderator@harrow.gov.uk"
ADMIN_EMAIL = "admin@harrow.gov.uk"


def sign_in(client: TestClient, session: Session, email: str) -> None:
    client.cookies.clear()
    sign_in_by_mail(client, session, email)


def bearer(session: Session, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(session, email=email, settings=get_settings())}"}


def reload(session: Session, model: type[User], user_id: int) -> User:
    session.expire_all()
    found = session.get(model, user_id)
    assert found is not None
    return found


def own(content: Review | Pilot, person: User) -> Review | Pilot:
    """Move a factory-made contribution to the person."""
    content.author_id = person.id or 0
    content.council_id = person.council_id
    content.author_role = "Payroll systems lead"
    return content


class World:
    """A person with published and pending contributions, contact requests both ways, mail and a flag."""

    def __init__(self, session: Session) -> None:
        self.supplier: Supplier = make_supplier(session)
        self.person = make_user(session, email=PERSON_EMAIL, name=PERSON_NAME, job_title="Payroll systems lead")
        self.person.open_to_contact = True
        session.add(self.person)
        self.peer = make_user(session, email=PEER_EMAIL, gss_code=BIRMINGHAM, name="Pat Peer", job_title="Head of IT")
        self.asker = make_user(session, email=ASKER_EMAIL, gss_code=LEEDS, name="Ash Asker", job_title="CIO")
        self.moderator = make_user(session, email=MODERATOR_EMAIL, role=Role.moderator, name="Mo Derator")
        self.admin = make_user(session, email=ADMIN_EMAIL, role=Role.admin, name="Ada Admin")
        self.published = own(make_review(session, self.supplier, headline="Reliable payroll"), self.person)
        self.published.worked_well = OWN_TEXT
        pending = make_review(session, self.supplier, headline="Second payroll review", status=ContentStatus.pending)
        self.pending = own(pending, self.person)
        self.pending.advice = f"Contact me, {PERSON_NAME}, for the detail."
        self.pilot = own(make_pilot(session, self.supplier, title="Payroll pilot"), self.person)
        self.pilot.lessons = f"{PERSON_NAME} ran it."
        session.add_all([self.published, self.pending, self.pilot])
        session.commit()
        self.item = ModerationItem(content_type=ContentType.review, content_id=self.pending.id or 0)
        session.add(self.item)
        email_at = OWN_TEXT.index(PERSON_EMAIL)
        session.add(
            Finding(
                content_type=ContentType.review,
                content_id=self.published.id or 0,
                field="worked_well",
                detector="email",
                category="personal_data",
                severity=Severity.medium,
                start=email_at,
                end=email_at + len(PERSON_EMAIL),
            )
        )
        # The peer asked to be put in touch and the person accepted: both see each other's details.
        self.accepted = ContactRequest(
            requester_id=self.peer.id or 0,
            peer_id=self.person.id or 0,
            about_type=ContentType.review,
            about_id=self.published.id or 0,
            message="How long did the payroll migration take?",
            status=ContactStatus.accepted,
            peer_note=f"Happy to help, ask for {PERSON_NAME.split()[0]}",
            decided_at=utcnow(),
            expires_at=utcnow() + timedelta(days=14),
        )
        self.waiting = ContactRequest(
            requester_id=self.asker.id or 0,
            peer_id=self.person.id or 0,
            about_type=ContentType.pilot,
            about_id=self.pilot.id or 0,
            message="Did the pilot go live?",
            expires_at=utcnow() + timedelta(days=14),
        )
        session.add_all([self.accepted, self.waiting])
        session.add(
            Flag(
                content_type=ContentType.review,
                content_id=self.published.id or 0,
                user_id=self.person.id or 0,
                reason="something_else",
                message=f"Flagged by {PERSON_NAME}",
            )
        )
        session.add(MailOutbox(to_address=PERSON_EMAIL, subject="Your sign-in link", body_text="link", kind="sign_in"))
        session.add(
            MailOutbox(
                to_address=PEER_EMAIL,
                subject="Your contact request was accepted",
                body_text=f"{PERSON_NAME}, Payroll systems lead, {PERSON_EMAIL}",
                kind="contact_accepted",
            )
        )
        audit.record(
            session, actor=self.person, action="submitted", entity_type="review", entity_id=self.pending.id or 0
        )
        session.commit()
        for row in (self.person, self.published, self.pending, self.pilot, self.item, self.accepted, self.waiting):
            session.refresh(row)
        # Kept as numbers: erasure may delete the rows behind them.
        self.published_id, self.pending_id = self.published.id or 0, self.pending.id or 0
        self.pilot_id, self.item_id = self.pilot.id or 0, self.item.id or 0


def world(session: Session) -> World:
    return World(session)


Seen = dict[str, tuple[int, str]]


def pages_as_officer(client: TestClient, session: Session, w: World) -> Seen:
    """What another officer gets from every page and API response that could show the person or their words."""
    sign_in(client, session, PEER_EMAIL)
    headers = bearer(session, PEER_EMAIL)
    urls = [
        f"/vendors/{w.supplier.slug}",
        "/search?q=payroll&index=reviews",
        "/search?q=payroll&index=pilots",
        "/account/contributions",
        "/account/contacts",
    ]
    seen = {url: (r.status_code, r.text) for url in urls for r in [client.get(url)]}
    api = [
        f"/api/v1/vendors/{w.supplier.slug}",
        f"/api/v1/vendors/{w.supplier.slug}/reviews",
        f"/api/v1/reviews/{w.published_id}",
        f"/api/v1/pilots/{w.pilot_id}",
        "/api/v1/search?index=reviews&q=payroll",
        "/api/v1/search?index=pilots&q=payroll",
        "/api/v1/contact-requests",
        f"/api/v1/contact-requests/{w.accepted.id}",
    ]
    seen.update({url: (r.status_code, r.text) for url in api for r in [client.get(url, headers=headers)]})
    return seen


def pages_as_moderator(client: TestClient, session: Session, w: World) -> Seen:
    sign_in(client, session, MODERATOR_EMAIL)
    urls = [
        "/moderation",
        "/moderation?status=decided",
        f"/moderation/items/{w.item_id}",
        f"/moderation/contacts/{w.accepted.id}",
        f"/moderation/contacts/{w.waiting.id}",
    ]
    seen = {url: (r.status_code, r.text) for url in urls for r in [client.get(url)]}
    api = client.get("/api/v1/moderation/items", headers=bearer(session, MODERATOR_EMAIL))
    seen["/api/v1/moderation/items"] = (api.status_code, api.text)
    return seen


def leaks(seen: Seen, secrets: tuple[str, ...] = SECRETS) -> list[tuple[str, str]]:
    return [(url, secret) for url, (_, text) in seen.items() for secret in secrets if secret.lower() in text.lower()]


def search_hits(client: TestClient, session: Session, index: str, q: str) -> list[object]:
    response = client.get("/api/v1/search", params={"index": index, "q": q}, headers=bearer(session, PEER_EMAIL))
    assert response.status_code == 200, response.text
    hits: list[object] = response.json()["hits"]
    return hits


def erase_through_the_pages(client: TestClient, session: Session, person: User) -> None:
    sign_in(client, session, ADMIN_EMAIL)
    found = client.get("/admin/people", params={"email": PERSON_EMAIL.upper()}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].endswith(f"/admin/people/{person.id}")
    page = validate_page(client.get(found.headers["location"]).text)
    assert PERSON_NAME in page.select_one(".app-person").get_text()
    erase_page = validate_page(client.get(f"/admin/people/{person.id}/erase").text)
    assert erase_page.select_one(".govuk-warning-text") is not None
    token = erase_page.select_one("input[name=csrf_token]")["value"]

    wrong = client.post(
        f"/admin/people/{person.id}/erase", data={"csrf_token": token, "confirm_email": "someone@harrow.gov.uk"}
    )
    assert wrong.status_code == 422
    soup = validate_page(wrong.text)
    assert error_summary(soup) == ["The email address you typed does not match this person's"]
    assert soup.select_one("#confirm_email")["value"] == "someone@harrow.gov.uk"
    assert reload(session, User, person.id or 0).erased_at is None

    done = client.post(
        f"/admin/people/{person.id}/erase",
        data={"csrf_token": token, "confirm_email": f" {PERSON_EMAIL} "},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = validate_page(client.get(done.headers["location"]).text)
    assert "data is erased" in after.select_one(".govuk-notification-banner").get_text()


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_after_erasure_no_page_search_or_api_response_shows_the_person(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("ERASURE_MODE", mode)
    get_settings.cache_clear()
    w = world(session)
    sign_in(client, session, PERSON_EMAIL)
    person_cookies = dict(client.cookies)

    # Before: the person is there to be found, so the checks below can fail.
    before = {**pages_as_officer(client, session, w), **pages_as_moderator(client, session, w)}
    assert ("/account/contacts", PERSON_EMAIL) in leaks(before)
    assert (f"/vendors/{w.supplier.slug}", "vandersloot") in leaks(before)
    assert ("/api/v1/search?index=reviews&q=payroll", "vandersloot") in leaks(before)
    assert (f"/moderation/items/{w.item_id}", PERSON_EMAIL) in leaks(before)
    assert len(search_hits(client, session, "reviews", "Vandersloot")) == 1
    audit_before = len(session.exec(select(AuditLog)).all())

    erase_through_the_pages(client, session, w.person)

    after = {**pages_as_officer(client, session, w), **pages_as_moderator(client, session, w)}
    assert leaks(after) == []
    assert leaks(after, ("Quentin Marsh", PHONE)) == []
    assert [url for url, (status, _) in after.items() if status >= 500] == []
    assert search_hits(client, session, "reviews", "Vandersloot") == []
    assert search_hits(client, session, "pilots", "Vandersloot") == []
    session.expire_all()
    person = reload(session, User, w.person.id or 0)
    assert person.email == placeholder_email(person.id or 0)
    assert (person.name, person.job_title, person.open_to_contact, person.disabled) == (None, None, False, True)
    assert person.erased_at is not None
    # Sessions ended: the person's browser is signed out.
    client.cookies.clear()
    client.cookies.update(person_cookies)
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert (
        session.exec(
            select(UserSession).where(UserSession.user_id == person.id, col(UserSession.ended_at).is_(None))
        ).all()
        == []
    )
    # The waiting request is withdrawn; the accepted one stays, without the person's name.
    assert session.get(ContactRequest, w.waiting.id).status == ContactStatus.withdrawn
    assert "Perpetua" not in (session.get(ContactRequest, w.accepted.id).peer_note or "")
    # Mail to them is gone; mail to others no longer names them.
    assert session.exec(select(MailOutbox).where(MailOutbox.to_address == PERSON_EMAIL)).all() == []
    assert all(
        PERSON_NAME not in m.body_text and PERSON_EMAIL not in m.body_text
        for m in session.exec(select(MailOutbox)).all()
    )
    assert all(PERSON_NAME not in (f.message or "") for f in session.exec(select(Flag)).all())
    # The audit log only grew, with who erased whom.
    entries = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert len(entries) > audit_before
    erased = [e for e in entries if e.action == "erased"]
    assert len(erased) == 1 and erased[0].entity_id == str(person.id) and erased[0].detail["mode"] == mode
    assert all(PERSON_EMAIL not in json.dumps(e.detail) for e in entries)

    published = session.get(Review, w.published_id)
    if mode == "anonymise":
        assert published is not None and published.status == ContentStatus.published
        assert published.author_role == FORMER_MEMBER
        assert published.worked_well == (
            "Ask [removed: personal data] ([removed: personal data]) about the payroll rollout, "
            "or [removed: personal data] on [removed: personal data]."
        )
        assert session.get(Review, w.pending_id).status == ContentStatus.withdrawn
        assert session.get(ModerationItem, w.item_id).status.value == "decided"
        sign_in(client, session, PEER_EMAIL)
        profile = validate_page(client.get(f"/vendors/{w.supplier.slug}").text)
        assert FORMER_MEMBER in profile.get_text()
    else:
        assert published is None and session.get(Review, w.pending_id) is None
        assert session.get(Pilot, w.pilot_id) is None
        assert session.get(ModerationItem, w.item_id) is None
        assert session.exec(select(Finding)).all() == [] and session.exec(select(Flag)).all() == []
        purged = [e for e in entries if e.action == "purged"]
        assert {(e.entity_type, e.entity_id) for e in purged} == {
            ("review", str(w.published_id)),
            ("review", str(w.pending_id)),
            ("pilot", str(w.pilot_id)),
        }


def test_erasure_is_for_admins_and_needs_the_email_typed(client: TestClient, session: Session) -> None:
    w = world(session)
    sign_in(client, session, MODERATOR_EMAIL)
    assert client.get("/admin/people").status_code == 403
    assert client.get(f"/admin/people/{w.person.id}/export.json").status_code == 403
    sign_in(client, session, ADMIN_EMAIL)
    token = csrf(client, f"/admin/people/{w.person.id}/erase")
    empty = client.post(f"/admin/people/{w.person.id}/erase", data={"csrf_token": token, "confirm_email": ""})
    assert empty.status_code == 422
    assert error_summary(validate_page(empty.text)) == ["Type the person's email address to confirm"]
    own = validate_page(client.get(f"/admin/people/{w.admin.id}").text)
    assert "Another administrator must erase it" in own.get_text()
    assert own.select_one(f"a[href$='/admin/people/{w.admin.id}/erase']") is None
    refused = client.post(f"/admin/people/{w.admin.id}/erase", data={"csrf_token": token, "confirm_email": ADMIN_EMAIL})
    assert refused.status_code == 403
    assert client.get("/admin/people/999999").status_code == 404
    assert reload(session, User, w.admin.id or 0).erased_at is None


def test_finding_people_by_part_of_an_email_and_the_errors(client: TestClient, session: Session) -> None:
    world(session)
    sign_in(client, session, ADMIN_EMAIL)
    page = validate_page(client.get("/admin/people").text)
    assert page.select_one("form.app-people-search input#email") is not None
    several = validate_page(client.get("/admin/people", params={"email": "officer@"}).text)
    assert [a.get_text() for a in several.select("table.app-people a")] == [ASKER_EMAIL, PEER_EMAIL]
    empty = client.get("/admin/people", params={"email": "  "})
    assert empty.status_code == 422
    assert error_summary(validate_page(empty.text)) == ["Enter an email address, or part of one"]
    missing = client.get("/admin/people", params={"email": "nobody@nowhere"})
    assert missing.status_code == 422
    soup = validate_page(missing.text)
    assert error_summary(soup) == ["No one has an email address that contains “nobody@nowhere”"]
    assert soup.select_one("#email")["value"] == "nobody@nowhere"


def test_the_export_holds_everything_about_the_person_and_is_audited(client: TestClient, session: Session) -> None:
    w = world(session)
    session.add(UserSession(id="secret-session-id", user_id=w.person.id or 0, expires_at=utcnow() + timedelta(days=1)))
    session.commit()
    sign_in(client, session, ADMIN_EMAIL)
    page = validate_page(client.get(f"/admin/people/{w.person.id}").text)
    link = page.select_one("a.app-export-link")
    assert link.get_text() == "Download everything held (JSON)"
    response = client.get(link["href"])
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="person-{w.person.id}.json"'
    data = response.json()
    assert data["account"]["email"] == PERSON_EMAIL and data["account"]["name"] == PERSON_NAME
    assert data["account"]["council"] == "London Borough of Harrow"
    assert "secret-session-id" not in response.text and len(data["sessions"]) == 1
    assert set(data["sessions"][0]) == {"created_at", "expires_at", "ended_at"}
    assert {r["headline"] for r in data["reviews"]} == {"Reliable payroll", "Second payroll review"}
    published = next(r for r in data["reviews"] if r["id"] == w.published_id)
    assert [f["detector"] for f in published["findings"]] == ["email"]
    pending = next(r for r in data["reviews"] if r["id"] == w.pending_id)
    assert [m["status"] for m in pending["moderation"]] == ["open"]
    assert [p["title"] for p in data["pilots"]] == ["Payroll pilot"]
    assert [c["id"] for c in data["contact_requests_received"]] == [w.accepted.id, w.waiting.id]
    assert data["contact_requests_sent"] == []
    assert [f["reason"] for f in data["flags"]] == ["something_else"]
    assert [m["subject"] for m in data["mail"]] == ["Your sign-in link"]
    assert any(a["action"] == "submitted" and a["actor_id"] == w.person.id for a in data["audit"])

    session.expire_all()
    exported = session.exec(select(AuditLog).where(AuditLog.action == "personal_data_exported")).all()
    assert [(e.actor_id, e.entity_type, e.entity_id) for e in exported] == [(w.admin.id, "user", str(w.person.id))]


def test_the_command_line_erases_with_the_mode_asked_for(client: TestClient, session: Session) -> None:
    w = world(session)
    refused = CliRunner().invoke(cli, ["erase", PERSON_EMAIL, "--mode", "shred", "--yes"])
    assert refused.exit_code == 2 and "anonymise or delete" in refused.output
    unknown = CliRunner().invoke(cli, ["erase", "nobody@harrow.gov.uk", "--yes"])
    assert unknown.exit_code == 2
    declined = CliRunner().invoke(cli, ["erase", PERSON_EMAIL], input="n\n")
    assert declined.exit_code == 1
    assert reload(session, User, w.person.id or 0).erased_at is None

    result = CliRunner().invoke(cli, ["erase", PERSON_EMAIL, "--mode", "delete", "--yes"])
    assert result.exit_code == 0, result.output
    assert "0 contributions anonymised, 3 deleted, 0 kept for a complaint case; 1 contact requests withdrawn" in (
        result.output
    )
    session.expire_all()
    assert reload(session, User, w.person.id or 0).erased_at is not None
    assert session.exec(select(Review).where(Review.author_id == w.person.id)).all() == []
    again = CliRunner().invoke(cli, ["erase", placeholder_email(w.person.id or 0), "--yes"])
    assert again.exit_code == 2 and "already been erased" in again.output


def test_deleting_keeps_content_under_a_recent_complaint_anonymised_and_out_of_view(session: Session) -> None:
    w = world(session)
    session.add(
        Complaint(
            status=ComplaintStatus.awaiting_poster,
            content_type=ContentType.review,
            content_id=w.published_id,
            complainant_name="Carla Complainant",
            complainant_email="carla@example.com",
            statement="Ask Perpetua",
            location=f"/vendors/{w.supplier.slug}",
            why_defamatory="Untrue",
            meaning="That we are slow",
            inaccurate_parts="All",
        )
    )
    session.commit()
    report = erase_person(session, w.person, w.admin, ErasureMode.delete, settings=get_settings())

    assert (report.deleted, report.kept_for_case, report.anonymised) == (2, 1, 0)
    session.expire_all()
    kept = session.get(Review, w.published_id)
    assert kept is not None and kept.status == ContentStatus.removed and kept.author_role == FORMER_MEMBER
    assert PERSON_NAME not in (kept.worked_well or "") and PERSON_EMAIL not in (kept.worked_well or "")
    removal = session.exec(
        select(AuditLog).where(AuditLog.entity_id == str(w.published_id), AuditLog.action == "removed")
    ).one()
    assert removal.actor_id == w.admin.id and removal.detail["basis"] == "policy_other"
    with pytest.raises(Conflict, match="already been erased"):
        erase_person(session, session.get(User, w.person.id), w.admin, ErasureMode.delete, settings=get_settings())


def test_a_name_is_redacted_as_a_whole_word_only(session: Session) -> None:
    supplier = make_supplier(session)
    person = make_user(session, email="al.ng@harrow.gov.uk", name="Al Ng", job_title="Buyer")
    review = own(make_review(session, supplier, headline="Totally fine"), person)
    review.worked_well = "Totally normal rollout; Al Ng and AL NG helped, as did al.ng."
    session.add(review)
    session.commit()
    erase_person(session, person, None, ErasureMode.anonymise, settings=get_settings())
    session.expire_all()
    assert session.get(Review, review.id).worked_well == (
        "Totally normal rollout; [removed: personal data] and [removed: personal data] helped, "
        "as did [removed: personal data]."
    )
