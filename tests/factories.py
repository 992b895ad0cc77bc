"""Test data from plain functions."""

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import Council, MailOutbox, Role, User
from tests.html import parse

LINK = re.compile(r"http://testserver(/sign-in/[A-Za-z0-9._\-]+(?:\?\S*)?)")


def council(session: Session, gss_code: str) -> Council:
    found = session.exec(select(Council).where(Council.gss_code == gss_code)).one()
    return found


def make_user(
    session: Session,
    *,
    email: str = "officer@harrow.gov.uk",
    role: Role = Role.officer,
    gss_code: str = "E09000015",
    name: str | None = "Sam Officer",
    job_title: str | None = "Digital lead",
) -> User:
    user = User(email=email, role=role, council_id=council(session, gss_code).id or 0, name=name, job_title=job_title)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def csrf(client: TestClient, path: str = "/sign-in") -> str:
    """The CSRF token a form on `path` carries for this client's browser."""
    field = parse(client.get(path).text).find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF field on {path}"
    return str(field["value"])


def last_mail(session: Session, to: str) -> MailOutbox:
    session.expire_all()
    return session.exec(
        select(MailOutbox).where(MailOutbox.to_address == to).order_by(col(MailOutbox.id).desc())
    ).first() or _missing(to)


def _missing(to: str) -> MailOutbox:
    raise AssertionError(f"no mail to {to}")


def sign_in_link_from_mail(session: Session, to: str) -> str:
    """The path of the sign-in link in the newest email to `to`."""
    match = LINK.search(last_mail(session, to).body_text)
    assert match, "the email has no sign-in link"
    return match.group(1)


def sign_in(client: TestClient, session: Session, email: str) -> None:
    """Sign in through the real journey: ask for a link, open it from the outbox, continue."""
    response = client.post("/sign-in", data={"email": email, "csrf_token": csrf(client)})
    assert response.status_code in (200, 303), response.text
    path = sign_in_link_from_mail(session, email)
    page = parse(client.get(path).text)
    form = next(
        (f for f in page.find_all("form", method="post") if urlsplit(f["action"]).path == urlsplit(path).path),
        None,
    )
    assert form is not None, "no Continue form on the sign-in page"
    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    done = client.post(form["action"], data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303, done.text
