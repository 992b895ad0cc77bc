"""Peer contact by double opt-in: the whole journey, the leak test, the guards, links, expiry and moderation."""

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import accounts, audit
from app.cli import cli
from app.config import get_settings
from app.models import ContactRequest, ContactStatus, ContentStatus, MailOutbox, Review, Role, Supplier, User, utcnow
from tests.factories import BIRMINGHAM, HARROW, csrf, last_mail, make_pilot, make_review, make_supplier, make_user
from tests.factories import sign_in as sign_in_by_mail
from tests.html import parse, validate_page

PEER_NAME = "Priya Peerson-Quill"
PEER_EMAIL = "priya.peerson@birmingham.gov.uk"
PEER_JOB = "Head of Revenues Transformation"
PEER_ROLE = "Revenues lead"  # the role the review shows: public already
ASKER_NAME = "Samir Askwith-Vane"
ASKER_EMAIL = "samir.askwith@harrow.gov.uk"
ASKER_JOB = "Digital lead"
MESSAGE = "How long did the data migration take, and what would you do differently?"
DECISION_LINK = re.compile(r"http://testserver(/contacts/decide/[A-Za-z0-9._\-]+)")


def sign_in(client: TestClient, session: Session, email: str) -> None:
    client.cookies.clear()
    sign_in_by_mail(client, session, email)


def people(session: Session) -> tuple[User, User]:
    peer = make_user(session, email=PEER_EMAIL, gss_code=BIRMINGHAM, name=PEER_NAME, job_title=PEER_JOB)
    peer.open_to_contact = True
    session.add(peer)
    session.commit()
    asker = make_user(session, email=ASKER_EMAIL, gss_code=HARROW, name=ASKER_NAME, job_title=ASKER_JOB)
    return peer, asker


def review_by(session: Session, supplier: Supplier, peer: User, headline: str = "Solid finance system") -> Review:
    review = make_review(session, supplier, gss_code=BIRMINGHAM, role=PEER_ROLE, headline=headline)
    review.author_id = peer.id or 0
    review.council_id = peer.council_id
    session.add(review)
    session.commit()
    session.refresh(review)
    return review


def setup(session: Session) -> tuple[User, User, Supplier, Review]:
    peer, asker = people(session)
    supplier = make_supplier(session)
    return peer, asker, supplier, review_by(session, supplier, peer)


def bearer(session: Session, email: str) -> dict[str, str]:
    token = accounts.issue_api_token(session, email=email, settings=get_settings())
    return {"Authorization": f"Bearer {token}"}


def api_request(client: TestClient, session: Session, email: str, review: Review, message: str = MESSAGE) -> Response:
    return client.post(
        "/api/v1/contact-requests",
        json={"about_type": "review", "about_id": review.id, "message": message},
        headers=bearer(session, email),
    )


def mails_to(session: Session, email: str) -> list[MailOutbox]:
    session.expire_all()
    return list(session.exec(select(MailOutbox).where(MailOutbox.to_address == email)).all())


def request_row(session: Session, request_id: int) -> ContactRequest:
    session.expire_all()
    row = session.get(ContactRequest, request_id)
    assert row is not None
    return row


def everything_the_requester_sees(
    client: TestClient, session: Session, supplier: Supplier, review: Review, request_id: int
) -> list[str]:
    """Every page, API response and email the requester can get about this request (signed in as them)."""
    headers = bearer(session, ASKER_EMAIL)
    texts = [
        client.get("/account/contacts").text,
        client.get(f"/vendors/{supplier.slug}").text,
        client.get(f"/api/v1/reviews/{review.id}", headers=headers).text,
        client.get("/api/v1/contact-requests", headers=headers).text,
        client.get(f"/api/v1/contact-requests/{request_id}", headers=headers).text,
    ]
    # Searching for the peer's name finds nothing of theirs (the search page and API echo the words searched for).
    for index in ("reviews", "pilots", "vendors"):
        found = client.get("/api/v1/search", params={"index": index, "q": PEER_NAME}, headers=headers)
        assert found.status_code == 200, found.text
        texts.append(json.dumps({key: value for key, value in found.json().items() if key != "query"}))
    texts.append(client.get("/search", params={"q": PEER_NAME}).text.replace(PEER_NAME, "(the words searched for)"))
    texts += [f"{m.subject}\n{m.body_text}\n{m.body_html or ''}" for m in mails_to(session, ASKER_EMAIL)]
    return texts


def assert_nothing_about_the_peer(texts: list[str]) -> None:
    for text in texts:
        for secret in (PEER_NAME, "Peerson", PEER_EMAIL, PEER_JOB):
            assert secret not in text, f"{secret!r} leaked into: {text[:300]}"


def test_council_domains_of_both_officers(session: Session) -> None:
    assert accounts.council_for_email(session, "a@harrow.gov.uk").gss_code == HARROW
    assert accounts.council_for_email(session, "b@birmingham.gov.uk").gss_code == BIRMINGHAM


def test_the_whole_journey_by_http(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    sign_in(client, session, ASKER_EMAIL)
    profile = parse(client.get(f"/vendors/{supplier.slug}").text)
    link = profile.select_one(f"#review-{review.id} .app-contact-link a")
    assert link is not None and link.get_text(strip=True).startswith("Request a peer contact")
    form_page = client.get(str(link["href"]))
    assert form_page.status_code == 200
    soup = validate_page(form_page.text)
    assert PEER_ROLE in soup.get_text() and "Birmingham" in soup.get_text()
    token = csrf(client, str(link["href"]))
    sent = client.post(
        "/contacts",
        data={"about_type": "review", "about_id": review.id, "message": MESSAGE, "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("/account/contacts")
    row = session.exec(select(ContactRequest)).one()
    assert row.status == ContactStatus.pending and row.peer_id == peer.id

    # The peer's email: the requester's role, council and message, and two links, but not who they are.
    mail = last_mail(session, PEER_EMAIL)
    assert ASKER_JOB in mail.body_text and "London Borough of Harrow" in mail.body_text and MESSAGE in mail.body_text
    assert ASKER_NAME not in mail.body_text and ASKER_EMAIL not in mail.body_text
    assert len(DECISION_LINK.findall(mail.body_text)) == 2
    assert "http://testserver/account/profile" in mail.body_text  # where to stop getting requests

    assert_nothing_about_the_peer(everything_the_requester_sees(client, session, supplier, review, row.id or 0))

    # The peer answers on the site.
    sign_in(client, session, PEER_EMAIL)
    page = client.get("/account/contacts")
    soup = validate_page(page.text)
    incoming = soup.select_one(f"#contact-{row.id}")
    assert incoming is not None
    assert ASKER_JOB in incoming.get_text() and "London Borough of Harrow" in incoming.get_text()
    assert ASKER_NAME not in page.text and ASKER_EMAIL not in page.text
    accept_form = incoming.find("form", action=re.compile(r"/accept$"))
    accepted = client.post(
        accept_form["action"],
        data={"note": "Happy to talk, mornings are best.", "csrf_token": csrf(client, "/account/contacts")},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert request_row(session, row.id or 0).status == ContactStatus.accepted
    peer_page = client.get("/account/contacts").text
    assert ASKER_NAME in peer_page and ASKER_EMAIL in peer_page
    to_peer = next(m.body_text for m in mails_to(session, PEER_EMAIL) if m.kind == "contact_accepted")
    assert ASKER_NAME in to_peer and ASKER_EMAIL in to_peer and "London Borough of Harrow" in to_peer

    # Now the requester sees the peer, on the site, in the API and by email.
    sign_in(client, session, ASKER_EMAIL)
    mine = client.get("/account/contacts").text
    for detail in (PEER_NAME, PEER_EMAIL, PEER_JOB, "Birmingham City Council", "mornings are best"):
        assert detail in mine
    got = client.get(f"/api/v1/contact-requests/{row.id}", headers=bearer(session, ASKER_EMAIL)).json()
    assert got["status"] == "accepted" and got["peer"]["email"] == PEER_EMAIL and got["peer"]["name"] == PEER_NAME
    to_asker = next(m.body_text for m in mails_to(session, ASKER_EMAIL) if m.kind == "contact_accepted")
    assert PEER_NAME in to_asker and PEER_EMAIL in to_asker and PEER_JOB in to_asker
    actions = [e.action for e in audit.history(session, entity_type="contact_request", entity_id=row.id or 0)]
    assert actions == ["contact_requested", "contact_accepted"]


def test_nothing_about_the_peer_leaks_when_declined(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    created = api_request(client, session, ASKER_EMAIL, review)
    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert created.json()["peer"] is None
    request_id = created.json()["id"]
    declined = client.post(f"/api/v1/contact-requests/{request_id}/decline", headers=bearer(session, PEER_EMAIL))
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    sign_in(client, session, ASKER_EMAIL)
    texts = everything_the_requester_sees(client, session, supplier, review, request_id)
    assert_nothing_about_the_peer(texts)
    assert "Declined" in client.get("/account/contacts").text
    assert any(m.subject == "Your contact request was declined" for m in mails_to(session, ASKER_EMAIL))


def test_nothing_about_the_peer_leaks_when_expired(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    row = request_row(session, request_id)
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    session.commit()
    result = CliRunner().invoke(cli, ["expire-contacts"])
    assert result.exit_code == 0, result.output
    assert "1 contact request expired" in result.output
    assert request_row(session, request_id).status == ContactStatus.expired
    sign_in(client, session, ASKER_EMAIL)
    assert_nothing_about_the_peer(everything_the_requester_sees(client, session, supplier, review, request_id))
    assert any(m.subject == "Your contact request has expired" for m in mails_to(session, ASKER_EMAIL))
    actions = [e.action for e in audit.history(session, entity_type="contact_request", entity_id=request_id)]
    assert actions == ["contact_requested", "contact_expired"]


def test_a_pending_request_past_its_date_is_expired_on_read(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    row = request_row(session, request_id)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    got = client.get(f"/api/v1/contact-requests/{request_id}", headers=bearer(session, ASKER_EMAIL))
    assert got.json()["status"] == "expired"
    assert request_row(session, request_id).status == ContactStatus.expired
    # The peer can no longer accept it.
    late = client.post(f"/api/v1/contact-requests/{request_id}/accept", headers=bearer(session, PEER_EMAIL))
    assert late.status_code == 422


def test_emailed_links_confirm_first_and_work_once(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    accept_path, decline_path = DECISION_LINK.findall(last_mail(session, PEER_EMAIL).body_text)
    assert "accept" not in accept_path  # the action is inside the signed token, not the address
    # Opening the link (a mail scanner, say) changes nothing: it shows a page with a button.
    page = client.get(accept_path)
    assert page.status_code == 200
    soup = validate_page(page.text)
    assert ASKER_JOB in soup.get_text() and MESSAGE in soup.get_text()
    assert request_row(session, request_id).status == ContactStatus.pending
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    done = client.post(accept_path, data={"csrf_token": token, "note": "Call me"})
    assert done.status_code == 200 and "You accepted the request" in done.text
    assert request_row(session, request_id).status == ContactStatus.accepted
    # Both links are dead once the request is answered.
    assert client.post(accept_path, data={"csrf_token": token}).status_code == 400
    assert client.get(decline_path).status_code == 400
    assert client.post(decline_path, data={"csrf_token": token}).status_code == 400
    assert request_row(session, request_id).status == ContactStatus.accepted
    # A token for another purpose, or tampered with, is refused.
    session_token = bearer(session, PEER_EMAIL)["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/contacts/decide/{session_token}").status_code == 400
    assert client.get(accept_path[:-3] + "abc").status_code == 400


def test_a_decline_link_declines(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    _, decline_path = DECISION_LINK.findall(last_mail(session, PEER_EMAIL).body_text)
    token = parse(client.get(decline_path).text).find("input", attrs={"name": "csrf_token"})["value"]
    assert client.post(decline_path, data={"csrf_token": token}).status_code == 200
    assert request_row(session, request_id).status == ContactStatus.declined


def test_only_the_peer_can_answer(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    make_user(session, email="other@harrow.gov.uk")
    own = client.post(f"/api/v1/contact-requests/{request_id}/accept", headers=bearer(session, ASKER_EMAIL))
    assert own.status_code == 403
    other = client.post(f"/api/v1/contact-requests/{request_id}/accept", headers=bearer(session, "other@harrow.gov.uk"))
    assert other.status_code == 404
    assert (
        client.get(f"/api/v1/contact-requests/{request_id}", headers=bearer(session, "other@harrow.gov.uk")).status_code
        == 404
    )
    assert request_row(session, request_id).status == ContactStatus.pending
    accepted = client.post(
        f"/api/v1/contact-requests/{request_id}/accept", json={"note": "Hello"}, headers=bearer(session, PEER_EMAIL)
    )
    assert accepted.status_code == 200
    assert accepted.json()["requester"]["email"] == ASKER_EMAIL and accepted.json()["note"] == "Hello"
    again = client.post(f"/api/v1/contact-requests/{request_id}/decline", headers=bearer(session, PEER_EMAIL))
    assert again.status_code == 422


def test_at_most_five_pending_requests(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    reviews = [review] + [review_by(session, supplier, peer, headline=f"Review {n}") for n in range(5)]
    for item in reviews[:5]:
        assert api_request(client, session, ASKER_EMAIL, item).status_code == 201
    sixth = api_request(client, session, ASKER_EMAIL, reviews[5])
    assert sixth.status_code == 422
    assert "5 contact requests waiting" in sixth.json()["detail"]["errors"]["message"]


def test_a_repeat_returns_the_pending_request_and_sends_nothing(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    first = api_request(client, session, ASKER_EMAIL, review)
    repeat = api_request(client, session, ASKER_EMAIL, review, message="Another message")
    assert first.status_code == 201 and repeat.status_code == 200
    assert repeat.json()["id"] == first.json()["id"] and repeat.json()["message"] == MESSAGE
    assert len(mails_to(session, PEER_EMAIL)) == 1
    assert len(session.exec(select(ContactRequest)).all()) == 1


def test_no_request_to_yourself(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    refused = api_request(client, session, PEER_EMAIL, review)
    assert refused.status_code == 403 and "yourself" in refused.json()["detail"]
    sign_in(client, session, PEER_EMAIL)
    page = client.get(f"/contacts/new?about_type=review&about_id={review.id}")
    assert page.status_code == 403 and "yourself" in page.text


def test_an_officer_not_open_to_contact_cannot_be_asked(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    peer.open_to_contact = False
    session.add(peer)
    session.commit()
    refused = api_request(client, session, ASKER_EMAIL, review)
    assert refused.status_code == 403 and "not taking contact requests" in refused.json()["detail"]
    sign_in(client, session, ASKER_EMAIL)
    assert parse(client.get(f"/vendors/{supplier.slug}").text).select_one(".app-contact-link") is None
    page = client.get(f"/contacts/new?about_type=review&about_id={review.id}")
    assert page.status_code == 403 and "not taking contact requests" in page.text


def test_pilots_need_the_record_and_its_author_open_to_contact(client: TestClient, session: Session) -> None:
    peer, asker = people(session)
    supplier = make_supplier(session)
    pilots = []
    for open_record in (True, False):
        pilot = make_pilot(session, supplier, title=f"Pilot open {open_record}", open_to_contact=open_record)
        pilot.author_id = peer.id or 0
        session.add(pilot)
        pilots.append(pilot)
    session.commit()
    sign_in(client, session, ASKER_EMAIL)
    soup = parse(client.get(f"/vendors/{supplier.slug}").text)
    assert soup.select_one(f"#pilot-{pilots[0].id} .app-contact-link") is not None
    assert soup.select_one(f"#pilot-{pilots[1].id} .app-contact-link") is None
    headers = bearer(session, ASKER_EMAIL)
    for pilot, expected in zip(pilots, (201, 403), strict=True):
        body = {"about_type": "pilot", "about_id": pilot.id, "message": MESSAGE}
        assert client.post("/api/v1/contact-requests", json=body, headers=headers).status_code == expected


def test_turning_contact_off_declines_pending_requests_politely(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    sign_in(client, session, PEER_EMAIL)
    saved = client.post(
        "/account/profile",
        data={"name": PEER_NAME, "job_title": PEER_JOB, "csrf_token": csrf(client, "/account/profile")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert request_row(session, request_id).status == ContactStatus.declined
    mail = last_mail(session, ASKER_EMAIL)
    assert mail.subject == "Your contact request was declined" and "Thank you" in mail.body_text
    assert PEER_NAME not in mail.body_text
    entry = audit.history(session, entity_type="contact_request", entity_id=request_id)[-1]
    assert entry.action == "contact_declined" and entry.detail == {"reason": "not_open_to_contact"}


def test_requests_are_rate_limited(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    for _ in range(10):
        assert api_request(client, session, ASKER_EMAIL, review).status_code in (200, 201)
    limited = api_request(client, session, ASKER_EMAIL, review)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    sign_in(client, session, ASKER_EMAIL)
    token = csrf(client, f"/contacts/new?about_type=review&about_id={review.id}")
    page = client.post(
        "/contacts", data={"about_type": "review", "about_id": review.id, "message": MESSAGE, "csrf_token": token}
    )
    assert page.status_code == 429 and "Retry-After" in page.headers
    validate_page(page.text)


def test_messages_are_checked_and_screened(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    sign_in(client, session, ASKER_EMAIL)
    path = f"/contacts/new?about_type=review&about_id={review.id}"
    for message, expected in [
        ("", "Enter what you would like to learn"),
        ("x" * 1001, "1,000 characters or fewer"),
        ("Email me at sam@example.com please", "email address"),
    ]:
        page = client.post(
            "/contacts",
            data={"about_type": "review", "about_id": review.id, "message": message, "csrf_token": csrf(client, path)},
        )
        assert page.status_code == 422
        assert expected in validate_page(page.text).select_one(".govuk-error-summary").get_text()
    assert session.exec(select(ContactRequest)).all() == []
    stored = api_request(client, session, ASKER_EMAIL, review, message="<b>What</b> did you pay per user?")
    assert stored.status_code == 201 and stored.json()["message"] == "What did you pay per user?"


def test_a_moderator_sees_a_request_only_on_the_audited_page(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    make_user(session, email="mod@harrow.gov.uk", role=Role.moderator, name="Mo Derator")
    assert (
        client.get(f"/api/v1/contact-requests/{request_id}", headers=bearer(session, "mod@harrow.gov.uk")).status_code
        == 404
    )
    sign_in(client, session, ASKER_EMAIL)
    assert client.get(f"/moderation/contacts/{request_id}").status_code == 403
    sign_in(client, session, "mod@harrow.gov.uk")
    page = client.get(f"/moderation/contacts/{request_id}")
    assert page.status_code == 200
    text = validate_page(page.text).get_text()
    assert PEER_NAME in text and ASKER_NAME in text and MESSAGE in text
    entry = audit.history(session, entity_type="contact_request", entity_id=request_id)[-1]
    moderator = session.exec(select(User).where(User.email == "mod@harrow.gov.uk")).one()
    assert entry.action == "contact_viewed_by_moderator" and entry.actor_id == moderator.id


def test_forms_need_the_csrf_token(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    sign_in(client, session, ASKER_EMAIL)
    refused = client.post("/contacts", data={"about_type": "review", "about_id": review.id, "message": MESSAGE})
    assert refused.status_code == 403
    assert session.exec(select(ContactRequest)).all() == []
    request_id = api_request(client, session, ASKER_EMAIL, review).json()["id"]
    sign_in(client, session, PEER_EMAIL)
    assert client.post(f"/account/contacts/{request_id}/accept", data={"note": ""}).status_code == 403
    request_mail = next(m for m in mails_to(session, PEER_EMAIL) if m.kind == "contact_request")
    accept_path, _ = DECISION_LINK.findall(request_mail.body_text)
    assert client.post(accept_path, data={}).status_code == 403
    assert request_row(session, request_id).status == ContactStatus.pending


def test_pages_need_sign_in_and_the_list_is_valid(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    assert client.get("/account/contacts", follow_redirects=False).status_code == 303
    sign_in(client, session, ASKER_EMAIL)
    soup = validate_page(client.get("/account/contacts").text)
    nav = [a.get_text(strip=True) for a in soup.select(".govuk-service-navigation__link")]
    assert "Contact requests" in nav
    unknown = client.get("/contacts/new?about_type=review&about_id=999999")
    assert unknown.status_code == 404
    assert client.get("/contacts/new?about_type=supplier&about_id=1").status_code == 404


def test_unpublished_items_cannot_be_asked_about(client: TestClient, session: Session) -> None:
    peer, asker, supplier, review = setup(session)
    pending = review_by(session, supplier, peer, headline="Not yet")
    pending.status = ContentStatus.pending
    session.add(pending)
    session.commit()
    assert api_request(client, session, ASKER_EMAIL, pending).status_code == 404
    assert session.exec(select(ContactRequest).where(col(ContactRequest.about_id) == pending.id)).first() is None
