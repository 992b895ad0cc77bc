"""The moderation queue: one open item per contribution, ordered by severity then age, and the decisions on it.

Rules (`moderation.md`): moderators never rewrite what an officer wrote, they only redact spans to
"[removed: reason]"; nobody decides on their own contribution; a critical finding needs two different moderators
to approve; every action carries the item's version and a stale one changes nothing (409).

- Items waiting for publication get approve, approve with redactions, send back or reject. Items about published
  content (reports from officers, `flags.py`) get agree (keep, hide, redact and keep) or disagree (keep or put
  back, optionally telling the author). The server computes which actions an item allows (MOD-10).
- A moderator can claim an item so that others see "Being handled by ..." and do not decide on it. A claim older
  than `CLAIM_STALE_AFTER` (2 hours) is stale: another moderator may take it over. Deciding releases the claim.
  Claims and releases are version-checked and audited (MOD-8, MOD-11).
- An item is overdue after 3 working days in the queue (MOD-14): Monday to Friday, bank holidays left out.
- Any published review or pilot can be hidden or removed, with a basis (`takedown.BASES`), and put back; all of it
  goes through `takedown.py`, so it leaves (or re-enters) the supplier page, the score, search and the API at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from app import audit, clock
from app.contributions import Contribution, content_type_of, text_fields
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.mail import queue_mail
from app.models import (
    AuditLog,
    ContentStatus,
    ContentType,
    Council,
    Finding,
    Flag,
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
from app.moderation import flags as flag_policy
from app.moderation import takedown
from app.moderation.sanitize import redact

OVERDUE_WORKING_DAYS = 3
CLAIM_STALE_AFTER = timedelta(hours=2)


class Action(StrEnum):
    # Before publication.
    approve = "approve"
    redact_and_approve = "redact_and_approve"
    send_back = "send_back"
    reject = "reject"
    # On published content that officers reported: agree (keep, hide, redact and keep) or disagree.
    keep = "keep"
    hide = "hide"
    redact_and_keep = "redact_and_keep"
    disagree = "disagree"


PRE_PUBLICATION_ACTIONS = (Action.approve, Action.redact_and_approve, Action.send_back, Action.reject)
PUBLISHED_ACTIONS = (Action.keep, Action.hide, Action.redact_and_keep, Action.disagree)
APPROVING = (Action.approve, Action.redact_and_approve)


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
class Claim:
    """Who is handling an item, and whether their claim is old enough for someone else to take over."""

    moderator_id: int
    name: str
    at: datetime
    stale: bool


@dataclass
class QueueEntry:
    item: ModerationItem
    content: Contribution
    supplier: Supplier
    overdue: bool
    council: str = ""  # the author's council, shown with their role
    findings: list[Finding] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # unresolved reports from officers
    claim: Claim | None = None

    @property
    def flag_counts(self) -> list[tuple[str, int]]:
        return flag_policy.FlagSummary(self.flags).counts


@dataclass
class ItemDetail:
    item: ModerationItem
    content: Contribution
    supplier: Supplier
    author: User
    findings: list[Finding]
    decisions: list[ModerationDecision]
    council: str = ""
    flags: list[Flag] = field(default_factory=list)  # every report on the item, resolved or not
    claim: Claim | None = None

    @property
    def approvals(self) -> int:
        return len({d.moderator_id for d in self.decisions if d.action in ("approve", "redact_and_approve")})

    @property
    def open_flags(self) -> list[Flag]:
        return [f for f in self.flags if f.resolved_at is None]

    @property
    def flag_counts(self) -> list[tuple[str, int]]:
        return flag_policy.FlagSummary(self.open_flags).counts

    @property
    def actions(self) -> tuple[Action, ...]:
        return allowed_actions(self.item, self.content)


def allowed_actions(item: ModerationItem, content: Contribution) -> tuple[Action, ...]:
    """The actions an open item allows: publication decisions while pending, report decisions once published."""
    if item.status != QueueStatus.open:
        return ()
    if content.status == ContentStatus.pending:
        return PRE_PUBLICATION_ACTIONS
    if content.status in (ContentStatus.published, *takedown.TAKEN_DOWN):
        return PUBLISHED_ACTIONS
    return ()


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def display_name(user: User | None) -> str:
    """How moderators name each other: their name, or their email address if they have not given one."""
    if user is None:
        return "a moderator who has left"
    return user.name or user.email


def _claim(item: ModerationItem, claimer: User | None, now: datetime) -> Claim | None:
    if item.claimed_by_id is None or item.claimed_at is None:
        return None
    at = _aware(item.claimed_at)
    return Claim(item.claimed_by_id, display_name(claimer), at, now - at > CLAIM_STALE_AFTER)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from `start` to `end`, counted in UK days: Monday to Friday, leaving out Good Friday,
    Christmas Day and England and Wales bank holidays (`app/clock.py`)."""
    days, day = 0, clock.uk_time(_aware(start)).date()
    last = clock.uk_time(_aware(end)).date()
    while day < last:
        day += timedelta(days=1)
        if not clock.is_excluded_day(day):
            days += 1
    return days


def is_overdue(opened_at: datetime, now: datetime) -> bool:
    """Waiting for more than 3 working days (MOD-14): weekends and bank holidays do not count."""
    return working_days_between(_aware(opened_at), now) > OVERDUE_WORKING_DAYS


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
    flags = flag_policy.open_flags(session, item_ids=[i.id or 0 for i in items]) if status == QueueStatus.open else {}
    claimer_ids = {i.claimed_by_id for i in items if i.claimed_by_id is not None}
    claimers = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(claimer_ids))).all()}
    now = utcnow()
    entries = []
    for item in items:
        content = contents.get((item.content_type, item.content_id))
        if content is None:
            continue
        overdue = status == QueueStatus.open and is_overdue(item.opened_at, now)
        key = (item.content_type, item.content_id)
        entries.append(
            QueueEntry(
                item,
                content,
                suppliers[content.supplier_id],
                overdue,
                council=councils.get(content.council_id, ""),
                findings=findings.get(key, []),
                flags=flags.get(item.id or 0, []),
                claim=_claim(item, claimers.get(item.claimed_by_id), now),
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
    claimer = session.get(User, item.claimed_by_id) if item.claimed_by_id else None
    return ItemDetail(
        item,
        content,
        supplier,
        author,
        list(findings),
        list(decisions),
        council=council.name if council else "",
        flags=flag_policy.item_flags(session, item_id=item_id),
        claim=_claim(item, claimer, utcnow()),
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


def find_span(content: Contribution, *, field: str, words: str, reason: str) -> RedactionRequest:
    """A redaction of the first place `words` appear in a text field, for a span a moderator chose themselves."""
    allowed = text_fields(content_type_of(content))
    text = getattr(content, field, None) if field in allowed else None
    words = words.strip()
    if text is None:
        raise InvalidInput({"redact_field": "Select the part of the text the words are in"})
    if not words:
        raise InvalidInput({"redact_words": "Enter the words to remove, exactly as they appear"})
    start = text.find(words)
    if start < 0:
        raise InvalidInput({"redact_words": "Those words are not in that part of the text. Copy them exactly."})
    return RedactionRequest(field=field, start=start, end=start + len(words), reason=reason)


def _check_claim(item: ModerationItem, moderator: User, now: datetime) -> None:
    if item.claimed_by_id is None or item.claimed_by_id == moderator.id or item.claimed_at is None:
        return
    if now - _aware(item.claimed_at) <= CLAIM_STALE_AFTER:
        raise NotAllowed(
            "Another moderator is handling this item. Wait for them to release it, or take it over once their "
            "claim is more than 2 hours old."
        )


def _release(item: ModerationItem) -> None:
    item.claimed_by_id = None
    item.claimed_at = None


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
    notify_author: bool = False,
) -> ItemDetail:
    """Take one decision on a queue item; the author is told the outcome and the reason."""
    detail = get_item(session, item_id=item_id)
    item, content = detail.item, detail.content
    if content.author_id == moderator.id:
        raise NotAllowed("You cannot decide on your own contribution: another moderator must.")
    if item.status != QueueStatus.open:
        raise Conflict("This item has already been decided.")
    if item.version != version:
        raise Conflict("Someone else acted on this item first. Reload it to see what changed.")
    if action not in detail.actions:
        raise NotAllowed("That action is not available for this item.")
    _check_claim(item, moderator, utcnow())
    note = (note or "").strip()[:2000] or None
    if action == Action.reject and reason_code not in REJECT_REASONS:
        raise InvalidInput({"reason_code": "Select a reason for rejecting"})
    if action == Action.reject and reason_code == "other" and not note:
        raise InvalidInput({"note": "Explain the reason for rejecting"})
    if action == Action.send_back and not note:
        raise InvalidInput({"note": "Tell the author what to change"})
    _claim_version(session, item, version)

    before = content.status
    if action in (Action.redact_and_approve, Action.redact_and_keep):
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
    earlier = {d.moderator_id for d in detail.decisions if d.action in ("approve", "redact_and_approve")}
    if action in APPROVING and item.needs_two_moderators and not (earlier - {moderator.id}):
        # Four eyes: the first approval of a critical item waits for a second moderator.
        audit_action = "first_approval"
        _release(item)
    else:
        audit_action = action.value
        item.status = QueueStatus.decided
        item.decided_at = utcnow()
        _release(item)
        if action in PUBLISHED_ACTIONS:
            _decide_reported(
                session, moderator=moderator, detail=detail, action=action, note=note, notify_author=notify_author
            )
        else:
            _decide_pending(session, detail=detail, action=action, reason_code=reason_code, note=note)
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
        detail={
            "item": item.id,
            "reason_code": reason_code,
            "redactions": len(redactions),
            **({"flags": len(detail.open_flags)} if detail.open_flags else {}),
        },
    )
    session.commit()
    return get_item(session, item_id=item_id)


def _decide_pending(
    session: Session, *, detail: ItemDetail, action: Action, reason_code: str | None, note: str | None
) -> None:
    """Publish, send back or reject content that was waiting for a moderator, and tell its author."""
    item, content = detail.item, detail.content
    title = _title(content)
    if action in APPROVING:
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
            f"{name}:\n{getattr(content, name)}" for name in text_fields(item.content_type) if getattr(content, name)
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
    # Reports made before the author changed it are settled by the same decision.
    outcome = "disagreed" if action == Action.approve else "agreed"
    flag_policy.resolve(session, flags=detail.open_flags, outcome=outcome)


FLAGGER_OUTCOMES = {
    Action.keep: "A moderator looked at it and it stays published.",
    Action.hide: "A moderator agreed with the report and has hidden it.",
    Action.redact_and_keep: "A moderator agreed with the report and removed some words from it.",
    Action.disagree: "A moderator looked at it and it stays published.",
}


def _decide_reported(
    session: Session, *, moderator: User, detail: ItemDetail, action: Action, note: str | None, notify_author: bool
) -> None:
    """Settle officers' reports on published content: agree (keep, hide, redact) or disagree (keep or put back)."""
    content = detail.content
    title = _title(content)
    noun = "review" if isinstance(content, Review) else "pilot record"
    where = f"“{title}” on {detail.supplier.name}"
    if action == Action.hide:
        if content.status == ContentStatus.published:
            takedown.take_down(
                session,
                content=content,
                status=ContentStatus.hidden,
                basis="policy_flagged",
                actor=moderator,
                note=note,
            )
            reasons = ", ".join(label.lower() for label, _ in detail.flag_counts) or "a report"
            _tell_author(
                session,
                author=detail.author,
                content=content,
                subject=f"Your {noun} has been hidden",
                body=f"A moderator hid your {noun} {where} after officers reported it ({reasons}). "
                "It no longer appears on the service." + (f"\n\n{note}" if note else ""),
            )
    elif action == Action.redact_and_keep:
        _tell_author(
            session,
            author=detail.author,
            content=content,
            subject=f"A moderator removed some words from your {noun}",
            body=f"After a report, a moderator removed some words from your {noun} {where}. They are replaced by "
            "“[removed: reason]”; the rest is as you wrote it and stays published.",
        )
    elif action == Action.disagree:
        if content.status in takedown.TAKEN_DOWN:
            takedown.restore(
                session, content=content, actor=moderator, note=note or "A moderator disagreed with a report"
            )
            _tell_author(
                session,
                author=detail.author,
                content=content,
                subject=f"Your {noun} is published again",
                body=f"A moderator looked at the reports about your {noun} {where} and put it back on the service.",
            )
        elif notify_author:
            _tell_author(
                session,
                author=detail.author,
                content=content,
                subject=f"A report about your {noun} was looked at",
                body=f"An officer reported your {noun} {where}. A moderator looked at it and made no change.",
            )
    reports = detail.open_flags
    flag_policy.resolve(session, flags=reports, outcome="disagreed" if action == Action.disagree else "agreed")
    _tell_flaggers(session, reports=reports, noun=noun, where=where, outcome=FLAGGER_OUTCOMES[action])


def _tell_flaggers(session: Session, *, reports: list[Flag], noun: str, where: str, outcome: str) -> None:
    """Each officer who reported it hears the outcome; never who wrote it."""
    ids = {f.user_id for f in reports}
    for flagger in session.exec(select(User).where(col(User.id).in_(ids))).all():
        queue_mail(
            session,
            to=flagger.email,
            subject=f"Your report about a {noun}",
            body_text=f"Thank you for reporting the {noun} {where}.\n\n{outcome}",
            kind="flag_outcome",
        )


# --- claiming -----------------------------------------------------------------------------------------------------


def claim(session: Session, *, moderator: User, item_id: int, version: int) -> ItemDetail:
    """Mark an open item as being handled by this moderator; a stale claim of someone else's is taken over."""
    detail = get_item(session, item_id=item_id)
    item = detail.item
    if item.status != QueueStatus.open:
        raise Conflict("This item has already been decided.")
    if item.version != version:
        raise Conflict("Someone else acted on this item first. Reload it to see what changed.")
    if detail.content.author_id == moderator.id:
        raise NotAllowed("You cannot handle your own contribution: another moderator must.")
    if item.claimed_by_id == moderator.id:
        return detail
    now = utcnow()
    _check_claim(item, moderator, now)
    previous = item.claimed_by_id
    _claim_version(session, item, version)
    item.claimed_by_id = moderator.id
    item.claimed_at = now
    session.add(item)
    audit.record(
        session,
        actor=moderator,
        action="claim_taken_over" if previous else "claimed",
        entity_type=item.content_type.value,
        entity_id=item.content_id,
        detail={"item": item.id, **({"from_moderator": previous} if previous else {})},
    )
    session.commit()
    return get_item(session, item_id=item_id)


def release(session: Session, *, moderator: User, item_id: int, version: int) -> ItemDetail:
    """Give up a claim, so that any moderator can pick the item up."""
    detail = get_item(session, item_id=item_id)
    item = detail.item
    if item.version != version:
        raise Conflict("Someone else acted on this item first. Reload it to see what changed.")
    if item.claimed_by_id is None:
        return detail
    if item.claimed_by_id != moderator.id:
        raise NotAllowed("Only the moderator handling this item can release it.")
    _claim_version(session, item, version)
    _release(item)
    session.add(item)
    audit.record(
        session,
        actor=moderator,
        action="released",
        entity_type=item.content_type.value,
        entity_id=item.content_id,
        detail={"item": item.id},
    )
    session.commit()
    return get_item(session, item_id=item_id)


# --- published content: look up, take down, put back ------------------------------------------------------------


@dataclass
class HistoryEntry:
    entry: AuditLog
    actor: str


@dataclass
class ContentDetail:
    content_type: ContentType
    content: Contribution
    supplier: Supplier
    author: User
    council: str
    history: list[HistoryEntry]
    open_item: ModerationItem | None
    flags: list[Flag]

    @property
    def title(self) -> str:
        return _title(self.content)


def _content(session: Session, content_type: ContentType, content_id: int, *, lock: bool = False) -> Contribution:
    if content_type not in (ContentType.review, ContentType.pilot):
        raise NotFound("Only reviews and pilot records can be looked up here.")
    content: Contribution | None = (
        session.get(Review, content_id, with_for_update=lock)
        if content_type == ContentType.review
        else session.get(Pilot, content_id, with_for_update=lock)
    )
    if content is None:
        raise NotFound("There is no review or pilot record with this number.")
    return content


def get_content(session: Session, *, viewer: User, content_type: ContentType, content_id: int) -> ContentDetail:
    """A review or pilot in any state, as a moderator sees it: its state, its history and its open queue item."""
    content = _content(session, content_type, content_id)
    supplier = session.get(Supplier, content.supplier_id)
    author = session.get(User, content.author_id)
    council = session.get(Council, content.council_id)
    assert supplier is not None and author is not None
    entries = audit.history(session, entity_type=content_type.value, entity_id=content_id)
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    actors = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(actor_ids))).all()}

    def who(actor_id: int | None) -> str:
        if actor_id is None:
            return "The service"
        if actor_id == viewer.id:
            return "You"
        if actor_id == content.author_id:
            return "The author"
        return display_name(actors.get(actor_id))

    item = open_item_for_content(session, content_type=content_type, content_id=content_id)
    return ContentDetail(
        content_type=content_type,
        content=content,
        supplier=supplier,
        author=author,
        council=council.name if council else "",
        history=[HistoryEntry(e, who(e.actor_id)) for e in entries],
        open_item=item,
        flags=flag_policy.item_flags(session, item_id=item.id or 0) if item else [],
    )


def open_item_for_content(session: Session, *, content_type: ContentType, content_id: int) -> ModerationItem | None:
    return session.exec(
        select(ModerationItem).where(
            ModerationItem.content_type == content_type,
            ModerationItem.content_id == content_id,
            ModerationItem.status == QueueStatus.open,
        )
    ).first()


def _check_note(note: str | None, message: str) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidInput({"note": message})
    if len(text) > 2000:
        raise InvalidInput({"note": f"The note must be 2,000 characters or fewer (it has {len(text):,})"})
    return text


def take_down_content(
    session: Session,
    *,
    moderator: User,
    content_type: ContentType,
    content_id: int,
    version: int,
    status: str,
    basis: str,
    note: str | None,
) -> Contribution:
    """Hide or remove a published review or pilot, with a basis and a note; gone everywhere once this returns."""
    content = _content(session, content_type, content_id, lock=True)
    if content.version != version:
        raise Conflict("Someone else changed this first. Reload it to see what changed.")
    if content.author_id == moderator.id:
        raise NotAllowed("You cannot decide on your own contribution: another moderator must.")
    errors: dict[str, str] = {}
    if status not in (ContentStatus.hidden.value, ContentStatus.removed.value):
        errors["status"] = "Select whether to hide it or remove it"
    if basis not in takedown.BASES:
        errors["basis"] = "Select why it is being taken down"
    try:
        note = _check_note(note, "Add a note for the record: what is wrong with it")
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    target = ContentStatus(status)
    allowed_from = (
        (ContentStatus.published,)
        if target == ContentStatus.hidden
        else (
            ContentStatus.published,
            ContentStatus.hidden,
        )
    )
    if content.status not in allowed_from:
        raise NotAllowed(
            "Only published content can be hidden, and only published or hidden content removed. "
            "Content waiting for a moderator is decided in the queue."
        )
    takedown.take_down(
        session, content=content, status=target, basis=basis, actor=moderator, version=version, note=note
    )
    author = session.get(User, content.author_id)
    supplier = session.get(Supplier, content.supplier_id)
    assert author is not None and supplier is not None
    noun = "review" if isinstance(content, Review) else "pilot record"
    verb = "hid" if target == ContentStatus.hidden else "removed"
    _tell_author(
        session,
        author=author,
        content=content,
        subject=f"Your {noun} has been {'hidden' if target == ContentStatus.hidden else 'removed'}",
        body=f"A moderator {verb} your {noun} “{_title(content)}” on {supplier.name}. It no longer appears on the "
        f"service.\n\nReason: {takedown.BASES[basis]}.",
    )
    session.commit()
    return content


def restore_content(
    session: Session, *, moderator: User, content_type: ContentType, content_id: int, version: int, note: str | None
) -> Contribution:
    """Put a hidden or removed review or pilot back; it is back everywhere once this returns."""
    content = _content(session, content_type, content_id, lock=True)
    if content.version != version:
        raise Conflict("Someone else changed this first. Reload it to see what changed.")
    if content.author_id == moderator.id:
        raise NotAllowed("You cannot decide on your own contribution: another moderator must.")
    note = _check_note(note, "Add a note for the record: why it can be published again")
    takedown.restore(session, content=content, actor=moderator, version=version, note=note)
    author = session.get(User, content.author_id)
    supplier = session.get(Supplier, content.supplier_id)
    assert author is not None and supplier is not None
    noun = "review" if isinstance(content, Review) else "pilot record"
    _tell_author(
        session,
        author=author,
        content=content,
        subject=f"Your {noun} is published again",
        body=f"A moderator put your {noun} “{_title(content)}” on {supplier.name} back on the service.",
    )
    session.commit()
    return content
