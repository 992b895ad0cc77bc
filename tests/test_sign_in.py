"""Signing in by one-time link to a council email address, sessions and sign-out."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import security
from app.accounts import SESSION_COOKIE
from app.config import get_settings
from app.models import Council, MailOutbox, SignInToken, User, UserSession
from tests.factories import csrf, last_mail, make_user, sign_in, sign_in_link_from_mail
from tests.html import error_summary, fragment, parse, validate_page


def test_harrow_officer_signs_in_with_a_link_from_their_email(client: TestClient, session: Session) -> None:
    response = client.post("/sign-in", data={"email": "Someone@Harrow.gov.uk", "csrf_token": csrf(client)})
    assert response.status_code == 200
    assert parse(response.text).h1.get_text(strip=True) == "Check your email"

    mail = last_mail(session, "someone@harrow.gov.uk")
    assert "London Borough of Harrow" in mail.body_text
    path = sign_in_link_from_mail(session, "someone@harrow.gov.uk")
    confirm = validate_page(client.get(path).text)
    assert "someone@harrow.gov.uk" in confirm.get_text()
    token = confirm.find("input", attrs={"name": "csrf_token"})["value"]

    done = client.post(path.split("?")[0], data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].endswith("/account/profile")  # a first sign-in asks for name and job title
    cookie = done.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie

    session.expire_all()
    user = session.exec(select(User).where(User.email == "someone@harrow.gov.uk")).one()
    council = session.get(Council, user.council_id)
    assert council is not None and council.gss_code == "E09000015"
    account = validate_page(client.get("/account").text)
    assert "London Borough of Harrow" in account.get_text()


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("someone@gmail.com", "gmail.com is not the email domain of a UK council"),
        ("someone@gov.uk", "gov.uk is not the email domain of a UK council"),
        ("someone@cabinetoffice.gov.uk", "A government address alone does not show"),
        ("someone@harrow.gov.uk.evil.co.uk", "is not the email domain of a UK council"),
        ("not an email", "Enter an email address in the correct format"),
        ("", "Enter your council work email address"),
    ],
)
def test_addresses_that_do_not_prove_council_employment_are_refused(
    client: TestClient, session: Session, email: str, reason: str
) -> None:
    response = client.post("/sign-in", data={"email": email, "csrf_token": csrf(client)})
    assert response.status_code == 422
    page = validate_page(response.text)
    assert page.title.get_text().startswith("Error:")
    assert any(reason in message for message in error_summary(page))
    assert page.find("input", id="email")["value"] == email  # nothing the user typed is lost
    assert session.exec(select(MailOutbox)).first() is None
    assert session.exec(select(SignInToken)).first() is None


def test_the_htmx_form_gets_its_fragment_with_the_errors(client: TestClient) -> None:
    token = csrf(client)
    response = client.post(
        "/sign-in", data={"email": "x@gmail.com", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert response.headers["vary"] == "HX-Request"
    part = fragment(response.text)
    assert part.title.get_text().startswith("Error: Sign in")  # htmx sets the page title from it
    assert part.select_one(".govuk-error-summary") is not None
    assert part.find("input", id="email")["value"] == "x@gmail.com"

    ok = client.post("/sign-in", data={"email": "x@harrow.gov.uk", "csrf_token": token}, headers={"HX-Request": "true"})
    assert ok.status_code == 204 and ok.headers["HX-Redirect"].endswith("/sign-in/check-email")


def test_a_subdomain_of_a_council_domain_belongs_to_that_council(client: TestClient, session: Session) -> None:
    sign_in(client, session, "someone@social.harrow.gov.uk")
    user = session.exec(select(User).where(User.email == "someone@social.harrow.gov.uk")).one()
    council = session.get(Council, user.council_id)
    assert council is not None and council.gss_code == "E09000015"


def test_a_sign_in_link_works_once(client: TestClient, session: Session) -> None:
    client.post("/sign-in", data={"email": "someone@harrow.gov.uk", "csrf_token": csrf(client)})
    path = sign_in_link_from_mail(session, "someone@harrow.gov.uk")
    token = csrf(client, path)
    assert client.post(path, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    again = client.post(path, data={"csrf_token": csrf(client, "/sign-in")}, follow_redirects=False)
    assert again.status_code == 400
    assert "already been used" in validate_page(again.text).get_text()
    assert client.get(path).status_code == 400  # the link page says so too


def test_an_expired_or_tampered_link_is_refused(client: TestClient, session: Session) -> None:
    settings = get_settings()
    expired, claims = security.create_token(
        secret=settings.SECRET_KEY,
        audience=security.SIGN_IN_AUDIENCE,
        subject="someone@harrow.gov.uk",
        lifetime=timedelta(seconds=-1),
    )
    session.add(SignInToken(jti=claims.token_id, email="someone@harrow.gov.uk", expires_at=claims.expires_at))
    session.commit()
    for path in (f"/sign-in/{expired}", f"/sign-in/{expired[:-4]}abcd", "/sign-in/not-a-token"):
        response = client.get(path)
        assert response.status_code == 400
        assert "expired or has already been used" in validate_page(response.text).get_text()


def test_a_session_cookie_cannot_be_used_as_a_sign_in_link(client: TestClient, session: Session) -> None:
    sign_in(client, session, "someone@harrow.gov.uk")
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get(f"/sign-in/{cookie}").status_code == 400


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client: TestClient, session: Session) -> None:
    sign_in(client, session, "someone@harrow.gov.uk")
    copied = client.cookies[SESSION_COOKIE]
    assert client.get("/account", follow_redirects=False).status_code == 200
    token = csrf(client, "/account")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert parse(response.text).h1.get_text(strip=True) == "You have signed out"
    assert client.get("/account", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, copied)
    assert client.get("/account", follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.exec(select(UserSession)).one().ended_at is not None


def test_pages_for_officers_send_visitors_to_sign_in_and_back(client: TestClient, session: Session) -> None:
    response = client.get("/vendors", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/sign-in?next=%2Fvendors"
    form = validate_page(client.get(response.headers["location"]).text)
    assert form.find("input", attrs={"name": "next"})["value"] == "/vendors"
    client.post("/sign-in", data={"email": "a@harrow.gov.uk", "next": "/vendors", "csrf_token": csrf(client)})
    path = sign_in_link_from_mail(session, "a@harrow.gov.uk")
    page = parse(client.get(path).text)
    done = client.post(
        path.split("?")[0],
        data={"csrf_token": page.find("input", attrs={"name": "csrf_token"})["value"], "next": "/vendors"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/vendors"


def test_next_never_leaves_the_site(client: TestClient, session: Session) -> None:
    make_user(session, email="a@harrow.gov.uk")
    client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    path = sign_in_link_from_mail(session, "a@harrow.gov.uk")
    token = parse(client.get(path).text).find("input", attrs={"name": "csrf_token"})["value"]
    done = client.post(path, data={"csrf_token": token, "next": "//evil.co.uk/x"}, follow_redirects=False)
    assert done.headers["location"] == "/"


def test_state_changing_forms_need_the_csrf_token(client: TestClient, session: Session) -> None:
    for data in ({"email": "a@harrow.gov.uk"}, {"email": "a@harrow.gov.uk", "csrf_token": "forged"}):
        response = client.post("/sign-in", data=data)
        assert response.status_code == 403
        assert "This form has expired" in validate_page(response.text).get_text()
    cross_site = client.post(
        "/sign-in",
        data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)},
        headers={"Origin": "https://evil.co.uk"},
    )
    assert cross_site.status_code == 403
    assert session.exec(select(MailOutbox)).first() is None


def test_too_many_sign_in_requests_get_a_429_page_with_retry_after(client: TestClient) -> None:
    token = csrf(client)
    statuses = [
        client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": token}).status_code for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": token})
    assert int(response.headers["retry-after"]) > 0
    assert validate_page(response.text).h1.get_text(strip=True) == "Too many requests"


def test_officers_complete_and_correct_their_details(client: TestClient, session: Session) -> None:
    sign_in(client, session, "someone@harrow.gov.uk")
    token = csrf(client, "/account/profile")
    bad = client.post("/account/profile", data={"name": "Sam Jones", "job_title": "   ", "csrf_token": token})
    assert bad.status_code == 422
    page = validate_page(bad.text)
    assert error_summary(page) == ["Enter your job title"]
    assert page.find("input", id="name")["value"] == "Sam Jones"
    good = client.post(
        "/account/profile",
        data={"name": "Sam Jones", "job_title": "Digital lead", "open_to_contact": "yes", "csrf_token": token},
    )
    assert good.status_code == 200
    text = validate_page(good.text).get_text()
    assert "Sam Jones" in text and "Digital lead" in text
