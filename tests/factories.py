"""Test data from plain functions."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from app.models import (
    ContentStatus,
    Council,
    MailOutbox,
    NdaStatus,
    Pilot,
    PilotStatus,
    Relationship,
    Review,
    Role,
    Supplier,
    User,
)
from app.reference import supplier_name_key
from app.standard import DIMENSIONS
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


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HARROW = "E09000015"  # London Borough of Harrow: LBO, London
SURREY = "E10000030"  # Surrey County Council: CTY, South East
BIRMINGHAM = "E08000025"  # Birmingham City Council: MD, West Midlands
LEEDS = "E08000035"  # Leeds City Council: MD, Yorkshire and The Humber
AUTHOR_NAME = "Morwenna Trelawney-Quist"  # a name that must never appear on a page


def make_supplier(session: Session, name: str = "Fenwick Ledger Systems", **fields: Any) -> Supplier:
    slug = "-".join(name.lower().split())
    values = {"description": f"{name} makes software.", **fields}
    supplier = Supplier(slug=slug, name=name, name_key=supplier_name_key(name), **values)
    session.add(supplier)
    session.commit()
    session.refresh(supplier)
    return supplier


def author(session: Session, gss_code: str = HARROW) -> User:
    """One author per council, with a name and an email address that pages must never show."""
    email = f"author.{gss_code.lower()}@author.invalid"
    found = session.exec(select(User).where(User.email == email)).first()
    if found is not None:
        return found
    user = User(email=email, name=AUTHOR_NAME, job_title="Digital lead", council_id=council(session, gss_code).id or 0)
    session.add(user)
    session.flush()
    return user


def _scores(text: str) -> dict[str, int | None]:
    values = [None if part == "-" else int(part) for part in text.split()]
    assert len(values) == len(DIMENSIONS)
    return {d.key: value for d, value in zip(DIMENSIONS, values, strict=True)}


def make_review(
    session: Session,
    supplier: Supplier,
    *,
    overall: int = 7,
    scores: str = "4 3 4 4 3 3 3",
    gss_code: str = HARROW,
    status: ContentStatus = ContentStatus.published,
    published_at: datetime | None = None,
    recommend: bool = True,
    relationship: Relationship = Relationship.live_contract,
    service_area: str = "Finance",
    headline: str = "A review",
    role: str = "Digital lead",
    commit: bool = True,
    **fields: Any,
) -> Review:
    """A review of `supplier`; the seven scores as in the demo data ("4 - 3 ...", "-" for not applicable)."""
    writer = author(session, gss_code)
    assert supplier.id is not None and writer.id is not None
    review = Review(
        supplier_id=supplier.id,
        author_id=writer.id,
        council_id=writer.council_id,
        author_role=role,
        status=status,
        overall=overall,
        recommend=recommend,
        relationship=relationship,
        service_area=service_area,
        headline=headline,
        worked_well=f"What worked for {headline}.",
        did_not_work=f"What did not work for {headline}.",
        advice=f"Advice from {headline}.",
        published_at=published_at if published_at is not None or status != ContentStatus.published else NOW,
        **_scores(scores),
        **fields,
    )
    session.add(review)
    if commit:
        session.commit()
        session.refresh(review)
    return review


def make_pilot(
    session: Session,
    supplier: Supplier,
    *,
    title: str = "A pilot",
    gss_code: str = HARROW,
    status: ContentStatus = ContentStatus.published,
    nda: NdaStatus = NdaStatus.no,
    commit: bool = True,
    **fields: Any,
) -> Pilot:
    writer = author(session, gss_code)
    assert supplier.id is not None and writer.id is not None
    values: dict[str, Any] = {
        "service_area": "Finance",
        "problem": f"The problem {title} addressed.",
        "lessons": f"The lessons of {title}.",
        "pilot_status": PilotStatus.completed,
        "start_date": date(2025, 1, 6),
        "end_date": date(2025, 4, 4),
        "published_at": NOW - timedelta(days=30),
        **fields,
    }
    pilot = Pilot(
        supplier_id=supplier.id,
        author_id=writer.id,
        council_id=writer.council_id,
        author_role="Service lead",
        status=status,
        title=title,
        nda=nda,
        **values,
    )
    session.add(pilot)
    if commit:
        session.commit()
        session.refresh(pilot)
    return pilot


@contextmanager
def counting_queries(engine: Engine) -> Iterator[Callable[[], int]]:
    """Count the SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
