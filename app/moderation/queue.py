"""The moderation queue: one open item per contribution, ordered by severity then age, and the decisions on it.

Rules (`moderation.md`): moderators never rewrite what an officer wrote, they only redact spans to
"[removed: reason]"; nobody decides on their own contribution; a critical finding needs two different moderators
to approve; every action carries the item's version and a stale one changes nothing (409).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from app import audit
from app.contributions import Contribution, text_fields
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.mail import queue_mail
from app.models import (
    ContentStatus,
    ContentType,
    Council,
    Finding,
    ModerationDecision,
    ModerationItem,
    Pilot,
    QueueStatus,
    Redaction,
    Review,
    Severity,
    Supplier,
    User,
    utcnow,
)
from app.moderation.sanitize import redact

OVERDUE_WORKING_DAYS = 3


class Action(StrEnum):
    approve = "approve"
    redact_and_approve = "redact_and_approve"
    send_back = "send_back"
    reject = "reject"


REJECT_REASONS: dict[str, str] = {
    "personal_data": "It contains personal data",
    "confidential_commercial": "It contains confidential commercial information",
    "unsubstantiated_allegation": "It makes an allegation that is not backed by facts",
    "criminal_allegation": "It alleges criminal conduct",
    "conflict_of_interest": "The author has a conflict of interest",
    "not_first_hand": "It is not a first-hand account",
    "off_topic": "It is not about working with this supplier",
    "other": "Another reason, explained in the note",
}

SEVERITY_RANK = {Severity.critical: 0, Severity.high: 1, Severity.medium: 2, Severity.low: 3}


@dataclass(frozen=True)
class RedactionRequest:
    field: str
    start: int
    end: int
    reason: str


@dataclass
class QueueEntry:
    item: ModerationItem
    content: Contribution
    supplier: Supplier
    overdue: bool
    council: str = ""  # the author's council, shown with their role
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ItemDetail:
    item: ModerationItem
    content: Contribution
    supplier: Supplier
    author: User
    findings: list[Finding]
    decisions: list[ModerationDecision]
    council: str = ""

    @property
    def approvals(self) -> int:
        return len({d.moderator_id for d in self.decisions if d.action in ("approve", "redact_and_approve")})


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days (Monday to Friday) from `start` to `end`."""
    days, day = 0, start.date()
    while day < end.date():
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def _load(session: Session, content_type: ContentType, content_id: int) -> Contribution:
    if content_type not in (ContentType.review, ContentType.pilot):
        # A proposed supplier's item must never be read as the pilot that happens to share its id.
        raise NotFound("This item is not a review or a pilot record.")
    content: Contribution | None = (
        session.get(Review, content_id) if content_type == ContentType.review else session.get(Pilot, content_id)
    )
    if content is None:
        raise NotFound("The contribution behind this item no longer exists.")
    return content


def list_items(session: Session, *, status: QueueStatus = QueueStatus.open, limit: int = 200) -> list[QueueEntry]:
    """Queue items, most severe first, then oldest first; with their contributions (a fixed number of queries)."""
    rank = case(
        *[(col(ModerationItem.severity) == severity, position) for severity, position in SEVERITY_RANK.items()],
        else_=9,
    )
    order = (
        [rank, col(ModerationItem.opened_at)] if status == QueueStatus.open else [col(ModerationItem.decided_at).desc()]
    )
    items = session.exec(
        select(ModerationItem).where(ModerationItem.status == status).order_by(*order).limit(limit)
    ).all()
    review_ids = [i.content_id for i in items if i.content_type == ContentType.review]
    pilot_ids = [i.content_id for i in items if i.content_type == ContentType.pilot]
    contents: dict[tuple[ContentType, int], Contribution] = {}
    for review in session.exec(select(Review).where(col(Review.id).in_(review_ids))).all():
        contents[(ContentType.review, review.id or 0)] = review
    for pilot in session.exec(select(Pilot).where(col(Pilot.id).in_(pilot_ids))).all():
        contents[(ContentType.pilot, pilot.id or 0)] = pilot
    supplier_ids = {c.supplier_id for c in contents.values()}
    suppliers = {s.id: s for s in session.exec(select(Supplier).where(col(Supplier.id).in_(supplier_ids))).all()}
    council_ids = {c.council_id for c in contents.values()}
    councils = dict(session.exec(select(Council.id, Council.name).where(col(Council.id).in_(council_ids))).all())
    findings: dict[tuple[ContentType, int], list[Finding]] = {}
    for kind, ids in ((ContentType.review, review_ids), (ContentType.pilot, pilot_ids)):
        for finding in session.exec(
            select(Finding)
            .where(Finding.content_type == kind, col(Finding.content_id).in_(ids))
            .order_by(col(Finding.field), col(Finding.start))
        ).all():
            findings.setdefault((kind, finding.content_id), []).append(finding)
    now = utcnow()
    entries = []
    for item in items:
        content = contents.get((item.content_type, item.content_id))
        if content is None:
            continue
        overdue = status == QueueStatus.open and working_days_between(item.opened_at, now) > OVERDUE_WORKING_DAYS
        key = (item.content_type, item.content_id)
        entries.append(
            QueueEntry(
                item,
                content,
                suppliers[content.supplier_id],
                overdue,
                council=councils.get(content.council_id, ""),
                findings=findings.get(key, []),
            )
        )
    return entries


def get_item(session: Session, *, item_id: int) -> ItemDetail:
    """One queue item with its contribution, author, findings and the decisions taken so far."""
    item = session.get(ModerationItem, item_id)
    if item is None:
        raise NotFound("There is no moderation item at this address.")
    content = _load(session, item.content_type, item.content_id)
    findings = session.exec(
        select(Finding)
        .where(Finding.content_type == item.content_type, Finding.content_id == item.content_id)
        .order_by(col(Finding.field), col(Finding.start))
    ).all()
    decisions = session.exec(
        select(ModerationDecision).where(ModerationDecision.item_id == item_id).order_by(col(ModerationDecision.id))
    ).all()
    supplier = session.get(Supplier, content.supplier_id)
    author = session.get(User, content.author_id)
    council = session.get(Council, content.council_id)
    assert supplier is not None and author is not None
    return ItemDetail(
        item, content, supplier, author, list(findings), list(decisions), council=council.name if council else ""
    )


def _claim_version(session: Session, item: ModerationItem, version: int) -> None:
    """Move the item to its next version only if nobody else did first: one atomic UPDATE."""
    result = session.execute(
        update(ModerationItem)
        .where(col(ModerationItem.id) == item.id, col(ModerationItem.version) == version)
        .values(version=version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("Someone else acted on this item first. Reload it to see what changed.")
    session.refresh(item)


def _apply_redactions(
    session: Session, *, moderator: User, content: Contribution, redactions: Sequence[RedactionRequest]
) -> None:
    content_type = ContentType.review if isinstance(content, Review) else ContentType.pilot
    allowed = text_fields(content_type)
    errors: dict[str, str] = {}
    by_field: dict[str, list[RedactionRequest]] = {}
    for r in redactions:
        text = getattr(content, r.field, None) if r.field in allowed else None
        if text is None:
            errors["redactions"] = f"There is no text field called {r.field!r} to redact"
        elif not (0 <= r.start < r.end <= len(text)):
            errors["redactions"] = f"The span {r.start}–{r.end} is outside the {r.field} text"
        elif not r.reason.strip() or len(r.reason) > 120:
            errors["redactions"] = "Give each redaction a short reason (up to 120 characters)"
        else:
            by_field.setdefault(r.field, []).append(r)
    if not redactions:
        errors["redactions"] = "Choose at least one span to redact"
    if errors:
        raise InvalidInput(errors)
    for name, spans in by_field.items():
        text = getattr(content, name)
        for r in spans:
            session.add(
                Redaction(
                    content_type=content_type,
                    content_id=content.id or 0,
                    field=name,
                    start=r.start,
                    end=r.end,
                    reason=r.reason.strip(),
                    original=text[r.start : r.end],
                    moderator_id=moderator.id or 0,
                )
            )
        setattr(content, name, redact(text, [(r.start, r.end, r.reason.strip()) for r in spans]))
    # Spans of findings in a redacted field no longer point at the same text.
    for finding in session.exec(
        select(Finding).where(
            Finding.content_type == content_type,
            Finding.content_id == content.id,
            col(Finding.field).in_(list(by_field)),
        )
    ).all():
        session.delete(finding)


def _tell_author(session: Session, *, author: User, content: Contribution, subject: str, body: str) -> None:
    queue_mail(session, to=author.email, subject=subject, body_text=body, kind="moderation_outcome")


def _title(content: Contribution) -> str:
    return content.headline if isinstance(content, Review) else content.title


def decide(
    session: Session,
    *,
    moderator: User,
    item_id: int,
    version: int,
    action: Action,
    reason_code: str | None = None,
    note: str | None = None,
    redactions: Sequence[RedactionRequest] = (),
) -> ItemDetail:
    """Take one decision on a queue item; the author is told the outcome and the reason."""
    detail = get_item(session, item_id=item_id)
    item, content = detail.item, detail.content
    if content.author_id == moderator.id:
        raise NotAllowed("You cannot decide on your own contribution: another moderator must.")
    if item.status != QueueStatus.open:
        raise Conflict("This item has already been decided.")
    note = (note or "").strip()[:2000] or None
    if action == Action.reject and reason_code not in REJECT_REASONS:
        raise InvalidInput({"reason_code": "Select a reason for rejecting"})
    if action == Action.reject and reason_code == "other" and not note:
        raise InvalidInput({"note": "Explain the reason for rejecting"})
    if action == Action.send_back and not note:
        raise InvalidInput({"note": "Tell the author what to change"})
    if item.version != version:
        raise Conflict("Someone else acted on this item first. Reload it to see what changed.")
    _claim_version(session, item, version)

    before = content.status
    if action == Action.redact_and_approve:
        try:
            _apply_redactions(session, moderator=moderator, content=content, redactions=redactions)
        except InvalidInput:
            session.rollback()  # give the claimed version back: an invalid action changes nothing
            raise
    session.add(
        ModerationDecision(
            item_id=item.id or 0,
            moderator_id=moderator.id or 0,
            action=action.value,
            reason_code=reason_code,
            note=note,
        )
    )
    approving = action in (Action.approve, Action.redact_and_approve)
    earlier = {d.moderator_id for d in detail.decisions if d.action in ("approve", "redact_and_approve")}
    if approving and item.needs_two_moderators and not (earlier - {moderator.id}):
        # Four eyes: the first approval of a critical item waits for a second moderator.
        audit_action = "first_approval"
    else:
        audit_action = action.value
        item.status = QueueStatus.decided
        item.decided_at = utcnow()
        title = _title(content)
        if approving:
            content.status = ContentStatus.published
            content.published_at = content.published_at or utcnow()
            body = f"Your contribution “{title}” on {detail.supplier.name} is now published."
            if action == Action.redact_and_approve:
                body += " A moderator removed some words that could not be published; the rest is as you wrote it."
            _tell_author(
                session, author=detail.author, content=content, subject="Your contribution is published", body=body
            )
        elif action == Action.send_back:
            content.status = ContentStatus.sent_back
            original = "\n\n".join(
                f"{name}:\n{getattr(content, name)}"
                for name in text_fields(item.content_type)
                if getattr(content, name)
            )
            _tell_author(
                session,
                author=detail.author,
                content=content,
                subject="Your contribution needs a change before it can be published",
                body=f"A moderator asks you to change “{title}” on {detail.supplier.name}:\n\n{note}\n\n"
                f"What you wrote:\n\n{original}\n\nChange it under My contributions.",
            )
        else:
            content.status = ContentStatus.rejected
            reason = REJECT_REASONS[reason_code or "other"]
            _tell_author(
                session,
                author=detail.author,
                content=content,
                subject="Your contribution was not published",
                body=f"A moderator did not publish “{title}” on {detail.supplier.name}.\n\nReason: {reason}."
                + (f"\n\n{note}" if note else ""),
            )
        content.version += 1
    session.add(item)
    session.add(content)
    audit.record(
        session,
        actor=moderator,
        action=audit_action,
        entity_type=item.content_type.value,
        entity_id=content.id or 0,
        from_state=before.value,
        to_state=content.status.value,
        detail={"item": item.id, "reason_code": reason_code, "redactions": len(redactions)},
    )
    session.commit()
    return get_item(session, item_id=item_id)
