"""The retention schedule: one run purges or anonymises exactly what is past its period, and nothing newer."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import audit
from app.cli import cli
from app.config import get_settings
from app.datarights import FORMER_MEMBER, months_before, placeholder_email
from app.models import (
    AuditLog,
    Complaint,
    ComplaintStatus,
    ContentStatus,
    ContentType,
    Finding,
    Flag,
    MailOutbox,
    ModerationDecision,
    ModerationItem,
    Pilot,
    QueueStatus,
    Redaction,
    Review,
    Role,
    Severity,
    Supplier,
    User,
    utcnow,
)
from app.retention import RetentionReport, run
from tests.factories import make_pilot, make_review, make_supplier, make_user


def rejected(session: Session, supplier: Supplier, moderator: User, *, at: datetime, reason: str, headline: str) -> int:
    """A review a moderator rejected at `at`, with a finding, a redaction, a flag and the audit of it all."""
    review = make_review(session, supplier, headline=headline, status=ContentStatus.rejected)
    item = ModerationItem(
        content_type=ContentType.review, content_id=review.id or 0, status=QueueStatus.decided, decided_at=at
    )
    session.add(item)
    session.flush()
    session.add(
        ModerationDecision(
            item_id=item.id or 0, moderator_id=moderator.id or 0, action="reject", reason_code=reason, created_at=at
        )
    )
    session.add(
        Finding(
            content_type=ContentType.review,
            content_id=review.id or 0,
            field="headline",
            detector="allegation",
            category="legal_risk",
            severity=Severity.high,
            start=0,
            end=3,
        )
    )
    session.add(
        Redaction(
            content_type=ContentType.review,
            content_id=review.id or 0,
            field="advice",
            start=0,
            end=6,
            reason="personal data",
            original="Advice",
            moderator_id=moderator.id or 0,
        )
    )
    session.add(
        Flag(
            item_id=item.id,
            content_type=ContentType.review,
            content_id=review.id or 0,
            user_id=moderator.id or 0,
            reason="inappropriate",
        )
    )
    audit.record(session, actor=moderator, action="reject", entity_type="review", entity_id=review.id or 0)
    session.commit()
    return review.id or 0


def complaint(
    session: Session, *, about: int | None, status: ComplaintStatus, received: datetime, last: datetime
) -> int:
    case = Complaint(
        status=status,
        content_type=ContentType.review if about else None,
        content_id=about,
        complainant_name="Carla Complainant",
        complainant_email="carla@example.com",
        statement="They lied.",
        location="a review",
        why_defamatory="It is untrue.",
        meaning="That we lie.",
        inaccurate_parts="All of it.",
        received_at=received,
        closed_at=None if status in (ComplaintStatus.open, ComplaintStatus.awaiting_poster) else last,
    )
    session.add(case)
    session.commit()
    session.add(
        MailOutbox(
            to_address="carla@example.com",
            subject="We got your notice",
            body_text="Thank you.",
            kind="complaint_received",
            ref=f"complaint:{case.id}",
        )
    )
    session.commit()
    return case.id or 0


def officer(session: Session, email: str, *, created: datetime, signed_in: datetime | None) -> int:
    user = make_user(session, email=email, name="Ina Active", job_title="Buyer")
    user.created_at, user.last_sign_in_at = created, signed_in
    session.add(user)
    session.commit()
    return user.id or 0


def test_one_run_purges_and_anonymises_exactly_what_is_past_each_limit(session: Session) -> None:
    settings = get_settings()
    now = utcnow()
    day = timedelta(days=1)
    supplier = make_supplier(session)
    moderator = make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator, name="Mo Derator")
    moderator.last_sign_in_at = now
    session.add(moderator)
    reject = {
        "old": rejected(session, supplier, moderator, at=now - 91 * day, reason="off_topic", headline="Old"),
        "new": rejected(session, supplier, moderator, at=now - 89 * day, reason="off_topic", headline="New"),
        "old_criminal": rejected(
            session, supplier, moderator, at=now - 31 * day, reason="criminal_allegation", headline="Old crime"
        ),
        "new_criminal": rejected(
            session, supplier, moderator, at=now - 29 * day, reason="criminal_allegation", headline="New crime"
        ),
        "in_case": rejected(
            session, supplier, moderator, at=now - 200 * day, reason="criminal_allegation", headline="In a case"
        ),
        "stale_case": rejected(
            session, supplier, moderator, at=now - 200 * day, reason="off_topic", headline="Stale case"
        ),
    }
    # Rejected, then sent back and rejected again: the latest rejection counts.
    item = session.exec(select(ModerationItem).where(ModerationItem.content_id == reject["new"])).one()
    session.add(
        ModerationDecision(
            item_id=item.id or 0,
            moderator_id=moderator.id or 0,
            action="reject",
            reason_code="off_topic",
            created_at=now - 300 * day,
        )
    )
    no_decision = make_pilot(session, supplier, title="Rejected long ago", status=ContentStatus.rejected)
    no_decision.updated_at = now - 100 * day
    published = make_review(session, supplier, headline="Published long ago", published_at=now - 900 * day)
    session.add(no_decision)
    session.commit()
    months = settings.RETENTION_CASE_FILE_MONTHS
    young_case = complaint(
        session,
        about=reject["in_case"],
        status=ComplaintStatus.removed,
        received=months_before(now, 5),
        last=months_before(now, 4),
    )
    stale_case = complaint(
        session,
        about=reject["stale_case"],
        status=ComplaintStatus.closed,
        received=months_before(now, months + 6),
        last=months_before(now, months + 1),
    )
    recent_closed = complaint(
        session,
        about=None,
        status=ComplaintStatus.kept,
        received=months_before(now, months + 3),
        last=months_before(now, months - 1),
    )
    old_open = complaint(
        session,
        about=None,
        status=ComplaintStatus.awaiting_poster,
        received=months_before(now, months + 3),
        last=months_before(now, months + 3),
    )
    years = settings.RETENTION_INACTIVE_YEARS
    users = {
        "lapsed": officer(
            session, "lapsed@harrow.gov.uk", created=now - 2000 * day, signed_in=months_before(now, 12 * years) - day
        ),
        "active": officer(
            session, "active@harrow.gov.uk", created=now - 2000 * day, signed_in=months_before(now, 12 * years) + day
        ),
        "never_old": officer(
            session, "never.old@harrow.gov.uk", created=months_before(now, 12 * years) - day, signed_in=None
        ),
        "never_new": officer(session, "never.new@harrow.gov.uk", created=now - 400 * day, signed_in=None),
    }
    audit_before = len(session.exec(select(AuditLog)).all())

    report = run(session, settings=settings, now=now)

    assert report == RetentionReport(
        purged_rejected=3, purged_criminal=1, kept_for_case=1, purged_case_files=1, anonymised_accounts=2
    )
    session.expire_all()
    remaining = {r.id for r in session.exec(select(Review)).all()}
    assert remaining == {reject["new"], reject["new_criminal"], reject["in_case"], published.id}
    assert session.get(Pilot, no_decision.id) is None
    for kind in (Finding, Redaction):
        assert {row.content_id for row in session.exec(select(kind)).all()} == remaining - {published.id}
    items = session.exec(select(ModerationItem)).all()
    assert {i.content_id for i in items} == remaining - {published.id}
    assert {f.item_id for f in session.exec(select(Flag)).all()} == {i.id for i in items}
    assert {d.item_id for d in session.exec(select(ModerationDecision)).all()} == {i.id for i in items}

    assert {c.id for c in session.exec(select(Complaint)).all()} == {young_case, recent_closed, old_open}
    refs = {m.ref for m in session.exec(select(MailOutbox).where(col(MailOutbox.ref).is_not(None))).all()}
    assert f"complaint:{stale_case}" not in refs and f"complaint:{young_case}" in refs

    for key in ("lapsed", "never_old"):
        user = session.get(User, users[key])
        assert user is not None and user.erased_at is not None and user.disabled
        assert (user.email, user.name) == (placeholder_email(users[key]), None)
    for key in ("active", "never_new"):
        user = session.get(User, users[key])
        assert user is not None and user.erased_at is None and not user.disabled
    assert session.get(User, moderator.id).erased_at is None

    # The audit log lost nothing, and says what was purged and on which basis.
    entries = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert len(entries) > audit_before
    purged = {(e.entity_type, e.entity_id): e.detail["basis"] for e in entries if e.action == "purged"}
    assert purged == {
        ("review", str(reject["old"])): "retention_rejected",
        ("review", str(reject["old_criminal"])): "retention_criminal_allegation",
        ("review", str(reject["stale_case"])): "retention_rejected",
        ("pilot", str(no_decision.id)): "retention_rejected",
        ("complaint", str(stale_case)): "retention_case_file",
    }
    assert len([e for e in entries if e.entity_type == "review" and e.action == "reject"]) == 6

    assert run(session, settings=settings, now=now) == RetentionReport(kept_for_case=1)


def test_an_anonymised_account_keeps_its_published_reviews_as_a_former_member(session: Session) -> None:
    now = utcnow()
    supplier = make_supplier(session)
    review = make_review(session, supplier, headline="Still useful")
    author = session.get(User, review.author_id)
    assert author is not None
    author.created_at = now - timedelta(days=4000)
    session.add(author)
    session.commit()

    assert run(session, settings=get_settings(), now=now).anonymised_accounts == 1
    session.expire_all()
    kept = session.get(Review, review.id)
    assert kept is not None and kept.status == ContentStatus.published and kept.author_role == FORMER_MEMBER


def test_the_retention_command_prints_what_it_did(session: Session) -> None:
    supplier = make_supplier(session)
    moderator = make_user(session, email="moderator@harrow.gov.uk", role=Role.moderator)
    moderator.last_sign_in_at = utcnow()
    session.add(moderator)
    session.commit()
    rejected(session, supplier, moderator, at=utcnow() - timedelta(days=120), reason="other", headline="Gone")

    result = CliRunner().invoke(cli, ["retention"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Purged 1 rejected submission and 0 rejected for a criminal allegation; kept 0 that are part of a "
        "complaint case; deleted 0 complaint case files; anonymised 0 inactive accounts."
    )
