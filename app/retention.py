"""The retention schedule (storage limitation, GDPR-5), applied daily by `supplier-intel retention`.

Policy, with each period a setting (`app/config.py`) shown in the privacy notice's retention table:

- A rejected review or pilot is deleted `RETENTION_REJECTED_DAYS` after its rejection, or
  `RETENTION_CRIMINAL_DAYS` after it when it was rejected for alleging criminal conduct (criminal offence data is
  never published, and not kept longer than the rejection needs). The rejection is the latest "reject" decision
  on the content's queue items; content rejected without one counts from its last change.
- Content that is part of a notice-of-complaint case younger than `RETENTION_CASE_FILE_MONTHS` is kept (DEF-10).
- A closed complaint case file is deleted `RETENTION_CASE_FILE_MONTHS` after its last step: the notice with its
  emails (those whose `ref` names the case). A case still waiting for an answer is never deleted.
- Deleting is `datarights.purge_contribution`: the content with its findings, redactions, queue items, decisions
  and flags. The audit log keeps every entry and gains a "purged" one.
- An account nobody has signed in to for `RETENTION_INACTIVE_YEARS` (counted from creation if never) is anonymised
  through `datarights.erase_person`, in anonymise mode whatever `ERASURE_MODE` says: what the person contributed
  stays useful to other councils without them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from app import audit
from app.config import ErasureMode, Settings
from app.contributions import Contribution
from app.datarights import (
    CASE_FILE_MAIL,
    aware,
    case_last_step,
    erase_person,
    months_before,
    purge_contribution,
    under_case_file,
)
from app.models import (
    Complaint,
    ComplaintStatus,
    ContentStatus,
    ContentType,
    MailOutbox,
    ModerationDecision,
    ModerationItem,
    Pilot,
    Review,
    User,
    utcnow,
)

CRIMINAL_ALLEGATION = "criminal_allegation"
OPEN_CASES = (ComplaintStatus.open, ComplaintStatus.awaiting_poster)


@dataclass
class RetentionReport:
    """What one run did."""

    purged_rejected: int = 0
    purged_criminal: int = 0
    kept_for_case: int = 0
    purged_case_files: int = 0
    anonymised_accounts: int = 0

    def summary(self) -> str:
        return (
            f"Purged {self.purged_rejected} rejected submission{'' if self.purged_rejected == 1 else 's'} "
            f"and {self.purged_criminal} rejected for a criminal allegation; "
            f"kept {self.kept_for_case} that {'is' if self.kept_for_case == 1 else 'are'} part of a complaint case; "
            f"deleted {self.purged_case_files} complaint case file{'' if self.purged_case_files == 1 else 's'}; "
            f"anonymised {self.anonymised_accounts} inactive account{'' if self.anonymised_accounts == 1 else 's'}."
        )


def _rejections(session: Session, content_type: ContentType, ids: list[int]) -> dict[int, tuple[datetime, str | None]]:
    """When each content was last rejected, and why, from the moderators' decisions."""
    rows = session.exec(
        select(ModerationItem.content_id, ModerationDecision.created_at, ModerationDecision.reason_code)
        .join(ModerationItem, col(ModerationItem.id) == col(ModerationDecision.item_id))
        .where(
            ModerationItem.content_type == content_type,
            col(ModerationItem.content_id).in_(ids),
            ModerationDecision.action == "reject",
        )
        .order_by(col(ModerationDecision.created_at), col(ModerationDecision.id))
    ).all()
    return {content_id: (aware(at), reason) for content_id, at, reason in rows}  # the latest wins


def purge_rejected(session: Session, *, settings: Settings, now: datetime, report: RetentionReport) -> None:
    """Delete rejected submissions past their retention period, except those in a complaint case."""
    rejected_limit = now - timedelta(days=settings.RETENTION_REJECTED_DAYS)
    criminal_limit = now - timedelta(days=settings.RETENTION_CRIMINAL_DAYS)
    reviews = session.exec(select(Review).where(Review.status == ContentStatus.rejected).order_by(col(Review.id)))
    pilots = session.exec(select(Pilot).where(Pilot.status == ContentStatus.rejected).order_by(col(Pilot.id)))
    by_type: dict[ContentType, list[Contribution]] = {
        ContentType.review: list(reviews),
        ContentType.pilot: list(pilots),
    }
    for content_type, contents in by_type.items():
        rejections = _rejections(session, content_type, [c.id or 0 for c in contents])
        for content in contents:
            rejected_at, reason = rejections.get(content.id or 0, (aware(content.updated_at), None))
            criminal = reason == CRIMINAL_ALLEGATION
            if rejected_at > (criminal_limit if criminal else rejected_limit):
                continue
            if under_case_file(
                session,
                content_type=content_type,
                content_id=content.id or 0,
                now=now,
                months=settings.RETENTION_CASE_FILE_MONTHS,
            ):
                report.kept_for_case += 1
                continue
            basis = "retention_criminal_allegation" if criminal else "retention_rejected"
            purge_contribution(session, content, actor=None, basis=basis)
            if criminal:
                report.purged_criminal += 1
            else:
                report.purged_rejected += 1
    session.commit()


def purge_case_files(session: Session, *, settings: Settings, now: datetime, report: RetentionReport) -> None:
    """Delete closed complaint case files whose last step is older than the case-file period."""
    cutoff = months_before(now, settings.RETENTION_CASE_FILE_MONTHS)
    candidates = session.exec(
        select(Complaint)
        .where(col(Complaint.status).not_in(OPEN_CASES), col(Complaint.received_at) < cutoff)
        .order_by(col(Complaint.id))
    ).all()
    for complaint in candidates:
        if case_last_step(complaint) > cutoff:
            continue
        before = complaint.status
        session.exec(delete(MailOutbox).where(col(MailOutbox.ref) == f"{CASE_FILE_MAIL}{complaint.id}"))
        session.delete(complaint)
        audit.record(
            session,
            actor=None,
            action="purged",
            entity_type="complaint",
            entity_id=complaint.id or 0,
            from_state=before.value,
            to_state="purged",
            detail={"basis": "retention_case_file"},
        )
        report.purged_case_files += 1
    session.commit()


def anonymise_inactive(session: Session, *, settings: Settings, now: datetime, report: RetentionReport) -> None:
    """Anonymise every account nobody has signed in to for the inactivity period."""
    cutoff = months_before(now, 12 * settings.RETENTION_INACTIVE_YEARS)
    last_seen = func.coalesce(col(User.last_sign_in_at), col(User.created_at))
    inactive = session.exec(
        select(User).where(col(User.erased_at).is_(None), last_seen < cutoff).order_by(col(User.id))
    ).all()
    for user in inactive:
        erase_person(session, user, None, ErasureMode.anonymise, settings=settings)
        report.anonymised_accounts += 1


def run(session: Session, *, settings: Settings, now: datetime | None = None) -> RetentionReport:
    """Apply the whole retention schedule once; return what it did."""
    moment = now or utcnow()
    report = RetentionReport()
    purge_rejected(session, settings=settings, now=moment, report=report)
    purge_case_files(session, settings=settings, now=moment, report=report)
    anonymise_inactive(session, settings=settings, now=moment, report=report)
    return report
