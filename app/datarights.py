"""Data rights under UK GDPR: everything held about a person (subject access), and erasure.

Policy (`research/moderation-legal.md`, GDPR-3 and GDPR-4; the privacy notice says the same to users):

- `export_person` gathers every record about a person: the account, sessions (times only), sign-in requests,
  their reviews and pilots in every state with findings, redactions and the moderation of each, decisions they
  took as a moderator, contact requests both ways, flags, complaints (as complainant, or about their content, with
  the complainant's details withheld unless the complainant agreed to share them), mail sent to them and audit
  entries where they are the actor or the subject. Every export is audited: who exported whom.
- `erase_person` erases the account in place: the row stays, because the append-only audit log points at it, but
  the email becomes a non-deliverable placeholder, the name and job title go, sessions end, the account is closed
  and pending contact requests are withdrawn. Their name and email are redacted wherever they appear literally
  in contact messages, flags and stored mail; mail addressed to them is deleted.
- Their contributions follow `ERASURE_MODE`. `anonymise`: the author's role becomes "Former member", the free
  text is screened again and every name, email and phone number found is redacted, with the person's own name and
  email wherever they appear; this cannot be undone (no original is kept). Those still waiting for a moderator or
  for the author's changes are withdrawn: nobody can answer for them any more. `delete`: each contribution is
  deleted with its findings, redactions, queue items, decisions and flags (`purge_contribution`).
- Not erased (the legal claims exemption, DEF-10): content that is part of a notice-of-complaint case younger than
  `RETENTION_CASE_FILE_MONTHS` is anonymised and taken out of view instead of deleted, and complaint case files
  where the person is the complainant stay until the case-file period ends.
- The audit log is never changed (the database refuses it). Its entries hold ids, states and counts, not the
  personal data itself, so erasure leaves them as they are and adds its own entry.
"""

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape
from sqlmodel import Session, SQLModel, col, delete, func, or_, select

from app import audit
from app.config import ErasureMode, Settings
from app.contributions import Contribution, content_type_of, text_fields
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.models import (
    AuditLog,
    Complaint,
    ContactRequest,
    ContactStatus,
    ContentStatus,
    ContentType,
    Council,
    Finding,
    Flag,
    MailOutbox,
    ModerationDecision,
    ModerationItem,
    Pilot,
    QueueStatus,
    Redaction,
    Review,
    SignInToken,
    User,
    UserSession,
    utcnow,
)
from app.moderation import screening
from app.moderation.sanitize import redact
from app.moderation.takedown import take_down

FORMER_MEMBER = "Former member"
ERASED_DOMAIN = "erased.invalid"  # .invalid can never be delivered to (RFC 2606)
REDACTION_REASON = "personal data"
USER_ENTITY = "user"
# Text columns with a length limit that a redaction, longer than the words it replaces, could overflow.
FIELD_LIMITS = {"headline": 200, "title": 200}
CASE_FILE_MAIL = "complaint:"  # mail about a complaint case belongs to the case file


def placeholder_email(user_id: int) -> str:
    """The address an erased account keeps: unique, and never deliverable."""
    return f"erased-{user_id}@{ERASED_DOMAIN}"


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# --- finding people --------------------------------------------------------------------------------------------


@dataclass
class PersonSummary:
    """What the admin page shows about a person: the account and how many records of each kind are held."""

    user: User
    council: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def erased(self) -> bool:
        return self.user.erased_at is not None


def get_person(session: Session, *, user_id: int) -> User:
    """The account with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no person with this id.")
    return user


def find_people(session: Session, *, query: str, limit: int = 20) -> list[User]:
    """Accounts whose email address is `query`, or else contains it; InvalidInput if there is nothing to look for."""
    text = (query or "").strip().lower()
    if not text:
        raise InvalidInput({"email": "Enter an email address, or part of one"})
    if len(text) > 320:
        raise InvalidInput({"email": "Email address must be 320 characters or fewer"})
    exact = session.exec(select(User).where(User.email == text)).first()
    if exact is not None:
        return [exact]
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = session.exec(
        select(User).where(col(User.email).like(pattern, escape="\\")).order_by(col(User.email)).limit(limit)
    ).all()
    if not found:
        raise InvalidInput({"email": f"No one has an email address that contains “{query.strip()}”"})
    return list(found)


def _count(session: Session, model: type[SQLModel], *conditions: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*conditions)).one())


def summarise(session: Session, *, user: User) -> PersonSummary:
    """The account and a count of each kind of record held about the person."""
    council = session.get(Council, user.council_id)
    counts = {
        "Reviews": _count(session, Review, Review.author_id == user.id),
        "Pilot records": _count(session, Pilot, Pilot.author_id == user.id),
        "Contact requests": _count(
            session, ContactRequest, or_(ContactRequest.requester_id == user.id, ContactRequest.peer_id == user.id)
        ),
        "Flags": _count(session, Flag, Flag.user_id == user.id),
        "Moderation decisions taken": _count(session, ModerationDecision, ModerationDecision.moderator_id == user.id),
        "Complaints made": _count(session, Complaint, Complaint.complainant_email == user.email),
        "Emails sent to them": _count(session, MailOutbox, MailOutbox.to_address == user.email),
        "Audit entries": _count(session, AuditLog, *_audit_conditions(user)),
    }
    return PersonSummary(user=user, council=council.name if council else "", counts=counts)


# --- subject access ----------------------------------------------------------------------------------------------


def _row(obj: SQLModel, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude=set(exclude))


def _audit_conditions(user: User) -> list[Any]:
    return [
        or_(
            AuditLog.actor_id == user.id,
            (col(AuditLog.entity_type) == USER_ENTITY) & (col(AuditLog.entity_id) == str(user.id)),
        )
    ]


def _contribution_record(session: Session, content: Contribution) -> dict[str, Any]:
    content_type = content_type_of(content)
    record = _row(content)
    record["type"] = content_type.value
    record["findings"] = [
        _row(f, exclude=("content_type", "content_id"))
        for f in session.exec(
            select(Finding)
            .where(Finding.content_type == content_type, Finding.content_id == content.id)
            .order_by(col(Finding.id))
        ).all()
    ]
    record["redactions"] = [
        _row(r, exclude=("content_type", "content_id", "moderator_id"))
        for r in session.exec(
            select(Redaction)
            .where(Redaction.content_type == content_type, Redaction.content_id == content.id)
            .order_by(col(Redaction.id))
        ).all()
    ]
    items = session.exec(
        select(ModerationItem)
        .where(ModerationItem.content_type == content_type, ModerationItem.content_id == content.id)
        .order_by(col(ModerationItem.id))
    ).all()
    record["moderation"] = []
    for item in items:
        decisions = session.exec(
            select(ModerationDecision).where(ModerationDecision.item_id == item.id).order_by(col(ModerationDecision.id))
        ).all()
        # Which moderator decided is the moderator's own data, not the author's.
        entry = _row(item, exclude=("content_type", "content_id", "claimed_by_id", "claimed_at"))
        entry["decisions"] = [_row(d, exclude=("item_id", "moderator_id")) for d in decisions]
        record["moderation"].append(entry)
    return record


def _own_content_ids(session: Session, user: User) -> dict[ContentType, list[int]]:
    return {
        ContentType.review: [i for i in session.exec(select(Review.id).where(Review.author_id == user.id)) if i],
        ContentType.pilot: [i for i in session.exec(select(Pilot.id).where(Pilot.author_id == user.id)) if i],
    }


def _complaints(session: Session, user: User) -> list[dict[str, Any]]:
    records = [
        {"role": "complainant", **_row(complaint)}
        for complaint in session.exec(
            select(Complaint).where(Complaint.complainant_email == user.email).order_by(col(Complaint.id))
        ).all()
    ]
    made = {r["id"] for r in records}
    for content_type, ids in _own_content_ids(session, user).items():
        for complaint in session.exec(
            select(Complaint)
            .where(Complaint.content_type == content_type, col(Complaint.content_id).in_(ids))
            .order_by(col(Complaint.id))
        ).all():
            if complaint.id in made:
                continue
            # The complainant's identity is theirs to share, not ours (the 2013 Regulations, regulation 3).
            hidden = () if complaint.consent_to_share else ("complainant_name", "complainant_email")
            records.append({"role": "poster", **_row(complaint, exclude=hidden)})
    return records


def export_person(session: Session, user: User, *, actor: User | None = None) -> dict[str, Any]:
    """Everything held about a person, as JSON-ready data; the export is recorded in the audit log."""
    assert user.id is not None
    council = session.get(Council, user.council_id)
    reviews = session.exec(select(Review).where(Review.author_id == user.id).order_by(col(Review.id))).all()
    pilots = session.exec(select(Pilot).where(Pilot.author_id == user.id).order_by(col(Pilot.id))).all()
    contacts = session.exec(
        select(ContactRequest)
        .where(or_(ContactRequest.requester_id == user.id, ContactRequest.peer_id == user.id))
        .order_by(col(ContactRequest.id))
    ).all()
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "account": {**_row(user), "council": council.name if council else None},
        # A session's id is what its cookie carries, so only its times are exported.
        "sessions": [
            _row(s, exclude=("id", "user_id"))
            for s in session.exec(
                select(UserSession).where(UserSession.user_id == user.id).order_by(col(UserSession.created_at))
            ).all()
        ],
        "sign_in_links": [
            _row(t, exclude=("jti",))
            for t in session.exec(
                select(SignInToken).where(SignInToken.email == user.email).order_by(col(SignInToken.created_at))
            ).all()
        ],
        "reviews": [_contribution_record(session, r) for r in reviews],
        "pilots": [_contribution_record(session, p) for p in pilots],
        "moderation_decisions_taken": [
            _row(d)
            for d in session.exec(
                select(ModerationDecision)
                .where(ModerationDecision.moderator_id == user.id)
                .order_by(col(ModerationDecision.id))
            ).all()
        ],
        "contact_requests_sent": [_row(c) for c in contacts if c.requester_id == user.id],
        "contact_requests_received": [_row(c) for c in contacts if c.peer_id == user.id],
        "flags": [_row(f) for f in session.exec(select(Flag).where(Flag.user_id == user.id).order_by(col(Flag.id)))],
        "complaints": _complaints(session, user),
        "mail": [
            _row(m, exclude=("body_html", "attempts", "next_attempt_at", "last_error"))
            for m in session.exec(
                select(MailOutbox).where(MailOutbox.to_address == user.email).order_by(col(MailOutbox.id))
            ).all()
        ],
        "audit": [
            _row(a)
            for a in session.exec(select(AuditLog).where(*_audit_conditions(user)).order_by(col(AuditLog.id))).all()
        ],
    }
    audit.record(
        session,
        actor=actor,
        action="personal_data_exported",
        entity_type=USER_ENTITY,
        entity_id=user.id,
        detail={"records": sum(len(v) for v in data.values() if isinstance(v, list))},
    )
    session.commit()
    return data


# --- erasure -----------------------------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What erasing one person did, for the admin page and the command line."""

    user_id: int
    mode: ErasureMode
    anonymised: int = 0
    deleted: int = 0
    kept_for_case: int = 0
    contacts_withdrawn: int = 0
    sessions_ended: int = 0
    mail_deleted: int = 0


def _identity_patterns(user: User) -> list[re.Pattern[str]]:
    """The person's email, its local part and their name (whole and each part), as they may appear in text."""
    patterns = [re.compile(re.escape(user.email), re.IGNORECASE)]
    local = user.email.split("@", 1)[0]
    if len(local) >= 4:
        patterns.append(re.compile(rf"(?<![\w.]){re.escape(local)}(?![\w])", re.IGNORECASE))
    name = (user.name or "").strip()
    if name:
        patterns.append(re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE))
        parts = set(name.split()) | {piece for part in name.split() for piece in part.split("-")}
        for part in sorted(parts):
            if len(part) >= 3 and part[0].isupper():
                # Case-sensitive, whole word: "Officer" as a surname, never "officer" as a job.
                patterns.append(re.compile(rf"(?<![\w-]){re.escape(part)}(?![\w-])"))
    return patterns


def _identity_spans(text: str, patterns: Sequence[re.Pattern[str]]) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), REDACTION_REASON) for p in patterns for m in p.finditer(text) if m.end() > m.start()]


def _scrub(text: str | None, patterns: Sequence[re.Pattern[str]]) -> str | None:
    """The text with every appearance of the person's name or email redacted."""
    if not text:
        return text
    spans = _identity_spans(text, patterns)
    return redact(text, spans) if spans else text


def _fit(name: str, text: str) -> str:
    limit = FIELD_LIMITS.get(name)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def anonymise_contribution(
    session: Session, content: Contribution, *, patterns: Sequence[re.Pattern[str]], actor: User | None
) -> int:
    """Irreversibly anonymise a contribution; return how many spans were redacted. Flushed, not committed."""
    content_type = content_type_of(content)
    names = text_fields(content_type)
    allowlist = screening.load_allowlist(session)
    hits = screening.screen_fields({name: getattr(content, name) for name in names}, allowlist=allowlist)
    redacted = 0
    for name in names:
        text = getattr(content, name)
        if not text:
            continue
        spans = [
            (h.start, h.end, REDACTION_REASON)
            for h in hits
            if h.field == name and h.category == screening.PERSONAL_DATA
        ]
        spans += _identity_spans(text, patterns)
        if spans:
            redacted += len(spans)
            setattr(content, name, _fit(name, redact(text, spans)))
    content.author_role = FORMER_MEMBER
    content.version += 1
    session.add(content)
    # The earlier findings point at spans of the old text; what screening finds now replaces them.
    session.exec(
        delete(Finding).where(col(Finding.content_type) == content_type, col(Finding.content_id) == content.id)
    )
    for redaction in session.exec(
        select(Redaction).where(Redaction.content_type == content_type, Redaction.content_id == content.id)
    ).all():
        redaction.original = _scrub(redaction.original, patterns) or ""
        session.add(redaction)
    fresh = screening.screen_fields({name: getattr(content, name) for name in names}, allowlist=allowlist)
    for hit in fresh:
        session.add(
            Finding(
                content_type=content_type,
                content_id=content.id or 0,
                field=hit.field,
                detector=hit.detector,
                category=hit.category,
                severity=hit.severity,
                start=hit.start,
                end=hit.end,
            )
        )
    audit.record(
        session,
        actor=actor,
        action="anonymised",
        entity_type=content_type.value,
        entity_id=content.id or 0,
        from_state=content.status.value,
        to_state=content.status.value,
        detail={"redactions": redacted},
    )
    session.flush()
    return redacted


def _withdraw_contact(session: Session, request: ContactRequest, *, actor: User | None, basis: str) -> None:
    request.status = ContactStatus.withdrawn
    request.decided_at = utcnow()
    session.add(request)
    audit.record(
        session,
        actor=actor,
        action="contact_withdrawn",
        entity_type="contact_request",
        entity_id=request.id or 0,
        from_state=ContactStatus.pending.value,
        to_state=ContactStatus.withdrawn.value,
        detail={"basis": basis},
    )


def _delete_about(
    session: Session, model: type[Finding] | type[Redaction], content_type: ContentType, content_id: int
) -> None:
    session.exec(delete(model).where(col(model.content_type) == content_type, col(model.content_id) == content_id))


def purge_contribution(session: Session, content: Contribution, *, actor: User | None, basis: str) -> int:
    """Delete a contribution with its findings, redactions, queue items, decisions and flags; audited, not committed.

    Contact requests about it that wait for an answer are withdrawn; return how many. The audit log keeps its
    entries about the contribution, and gains a "purged" one.
    """
    content_type, content_id, before = content_type_of(content), content.id or 0, content.status
    item_ids = list(
        session.exec(
            select(ModerationItem.id).where(
                ModerationItem.content_type == content_type, ModerationItem.content_id == content_id
            )
        ).all()
    )
    # Children before parents: flags and decisions point at queue items.
    session.exec(
        delete(Flag).where(
            or_(
                col(Flag.item_id).in_(item_ids),
                (col(Flag.content_type) == content_type) & (col(Flag.content_id) == content_id),
            )
        )
    )
    session.exec(delete(ModerationDecision).where(col(ModerationDecision.item_id).in_(item_ids)))
    session.exec(delete(ModerationItem).where(col(ModerationItem.id).in_(item_ids)))
    session.exec(
        delete(Finding).where(col(Finding.content_type) == content_type, col(Finding.content_id) == content_id)
    )
    session.exec(
        delete(Redaction).where(col(Redaction.content_type) == content_type, col(Redaction.content_id) == content_id)
    )
    waiting = session.exec(
        select(ContactRequest).where(
            ContactRequest.about_type == content_type,
            ContactRequest.about_id == content_id,
            ContactRequest.status == ContactStatus.pending,
        )
    ).all()
    for request in waiting:
        _withdraw_contact(session, request, actor=actor, basis=basis)
    session.delete(content)
    audit.record(
        session,
        actor=actor,
        action="purged",
        entity_type=content_type.value,
        entity_id=content_id,
        from_state=before.value,
        to_state="purged",
        detail={"basis": basis},
    )
    session.flush()
    return len(waiting)


def case_last_step(complaint: Complaint) -> datetime:
    """When anything last happened in a complaint case: its retention period runs from then (DEF-10)."""
    steps = [
        complaint.received_at,
        complaint.acknowledged_at,
        complaint.poster_notified_at,
        complaint.poster_replied_at,
        complaint.removed_at,
        complaint.complainant_told_at,
        complaint.closed_at,
    ]
    return max(aware(step) for step in steps if step is not None)


def under_case_file(
    session: Session, *, content_type: ContentType, content_id: int, now: datetime, months: int
) -> bool:
    """Whether the content is part of a complaint case whose last step is younger than `months` (DEF-10)."""
    cutoff = months_before(now, months)
    complaints = session.exec(
        select(Complaint).where(Complaint.content_type == content_type, Complaint.content_id == content_id)
    ).all()
    return any(case_last_step(complaint) > cutoff for complaint in complaints)


def _close_open_item(session: Session, content: Contribution) -> None:
    for item in session.exec(
        select(ModerationItem).where(
            ModerationItem.content_type == content_type_of(content),
            ModerationItem.content_id == content.id,
            ModerationItem.status == QueueStatus.open,
        )
    ).all():
        item.status = QueueStatus.decided
        item.decided_at = utcnow()
        item.version += 1
        session.add(item)


def _withdraw_unpublished(session: Session, content: Contribution, *, actor: User | None) -> None:
    """A contribution waiting for a moderator or for its author's changes: nobody can answer for it any more."""
    if content.status not in (ContentStatus.pending, ContentStatus.sent_back):
        return
    before = content.status
    content.status = ContentStatus.withdrawn
    content.version += 1
    session.add(content)
    _close_open_item(session, content)
    audit.record(
        session,
        actor=actor,
        action="withdrawn",
        entity_type=content_type_of(content).value,
        entity_id=content.id or 0,
        from_state=before.value,
        to_state=ContentStatus.withdrawn.value,
        detail={"basis": "erasure"},
    )


def _erase_contributions(
    session: Session,
    user: User,
    *,
    actor: User | None,
    mode: ErasureMode,
    patterns: Sequence[re.Pattern[str]],
    settings: Settings,
    report: ErasureReport,
) -> None:
    now = utcnow()
    contents: list[Contribution] = [*session.exec(select(Review).where(Review.author_id == user.id)).all()]
    contents += session.exec(select(Pilot).where(Pilot.author_id == user.id)).all()
    for content in contents:
        kept = mode == ErasureMode.delete and under_case_file(
            session,
            content_type=content_type_of(content),
            content_id=content.id or 0,
            now=now,
            months=settings.RETENTION_CASE_FILE_MONTHS,
        )
        if mode == ErasureMode.delete and not kept:
            report.contacts_withdrawn += purge_contribution(session, content, actor=actor, basis="erasure")
            report.deleted += 1
            continue
        anonymise_contribution(session, content, patterns=patterns, actor=actor)
        _withdraw_unpublished(session, content, actor=actor)
        if kept:
            report.kept_for_case += 1
            if content.status in (ContentStatus.published, ContentStatus.hidden):
                take_down(
                    session,
                    content=content,
                    status=ContentStatus.removed,
                    basis="policy_other",
                    actor=actor,
                    note="The author's data was erased; kept for a complaint case",
                )
        else:
            report.anonymised += 1


def erase_person(
    session: Session, user: User, actor: User | None, mode: ErasureMode, *, settings: Settings
) -> ErasureReport:
    """Erase a person's data: the account anonymised and closed, their contributions anonymised or deleted."""
    assert user.id is not None
    if user.erased_at is not None:
        raise Conflict("This person's data has already been erased.")
    if actor is not None and actor.id == user.id:
        raise NotAllowed("You cannot erase your own account. Ask another administrator.")
    report = ErasureReport(user_id=user.id, mode=mode)
    patterns = _identity_patterns(user)
    email = user.email
    _erase_contributions(session, user, actor=actor, mode=mode, patterns=patterns, settings=settings, report=report)

    for request in session.exec(
        select(ContactRequest).where(or_(ContactRequest.requester_id == user.id, ContactRequest.peer_id == user.id))
    ).all():
        if request.status == ContactStatus.pending:
            _withdraw_contact(session, request, actor=actor, basis="erasure")
            report.contacts_withdrawn += 1
        request.message = _scrub(request.message, patterns) or ""
        request.peer_note = _scrub(request.peer_note, patterns)
        session.add(request)
    for flag in session.exec(select(Flag).where(Flag.user_id == user.id)).all():
        flag.message = _scrub(flag.message, patterns)
        session.add(flag)

    for record in session.exec(
        select(UserSession).where(UserSession.user_id == user.id, col(UserSession.ended_at).is_(None))
    ).all():
        record.ended_at = utcnow()
        session.add(record)
        report.sessions_ended += 1
    session.exec(delete(SignInToken).where(col(SignInToken.email) == email))

    # Mail to them goes (a complaint's mail belongs to its case file); mail to others loses their name and email.
    to_them = session.exec(
        select(MailOutbox).where(
            MailOutbox.to_address == email,
            or_(col(MailOutbox.ref).is_(None), ~col(MailOutbox.ref).startswith(CASE_FILE_MAIL)),
        )
    ).all()
    for message in to_them:
        session.delete(message)
    report.mail_deleted = len(to_them)
    needles = [email] + ([user.name.strip()] if user.name and user.name.strip() else [])
    mentions = session.exec(
        select(MailOutbox).where(or_(*[col(MailOutbox.body_text).contains(n) for n in needles]))
    ).all()
    html_patterns = [*patterns, *(re.compile(re.escape(str(escape(n))), re.IGNORECASE) for n in needles)]
    for message in mentions:
        if message.ref and message.ref.startswith(CASE_FILE_MAIL):
            continue
        message.subject = _scrub(message.subject, patterns) or ""
        message.body_text = _scrub(message.body_text, patterns) or ""
        message.body_html = _scrub(message.body_html, html_patterns)
        session.add(message)

    user.email = placeholder_email(user.id)
    user.name = None
    user.job_title = None
    user.open_to_contact = False
    user.disabled = True
    user.erased_at = utcnow()
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="erased",
        entity_type=USER_ENTITY,
        entity_id=user.id,
        to_state="erased",
        detail={
            "mode": mode.value,
            "anonymised": report.anonymised,
            "deleted": report.deleted,
            "kept_for_case": report.kept_for_case,
            "contacts_withdrawn": report.contacts_withdrawn,
        },
    )
    session.commit()
    session.refresh(user)
    return report


def confirm_erasure(
    session: Session, *, user: User, actor: User, typed_email: str, settings: Settings
) -> ErasureReport:
    """Erase a person once the admin has typed their email address exactly, with the configured mode."""
    if user.erased_at is not None:
        raise Conflict("This person's data has already been erased.")
    typed = (typed_email or "").strip().lower()
    if not typed:
        raise InvalidInput({"confirm_email": "Type the person's email address to confirm"})
    if typed != user.email:
        raise InvalidInput({"confirm_email": "The email address you typed does not match this person's"})
    return erase_person(session, user, actor, settings.ERASURE_MODE, settings=settings)


# --- the audit log of one item, for legal use ------------------------------------------------------------------

AUDIT_COLUMNS = ("at", "actor_id", "actor_role", "action", "from_state", "to_state", "detail")
ENTITY_TYPE = re.compile(r"[a-z_]{1,40}")
ENTITY_ID = re.compile(r"[A-Za-z0-9_:.\-]{1,64}")


def audit_rows(session: Session, *, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
    """Every audit entry about one item, oldest first, as rows: actors by id and role, never by email."""
    if not ENTITY_TYPE.fullmatch(entity_type) or not ENTITY_ID.fullmatch(entity_id):
        raise NotFound("There is no audit history at this address.")
    entries = audit.history(session, entity_type=entity_type, entity_id=entity_id)
    if not entries:
        raise NotFound(f"The audit log has nothing about {entity_type.replace('_', ' ')} {entity_id}.")
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    roles = dict(session.exec(select(User.id, User.role).where(col(User.id).in_(actor_ids))).all())
    return [
        {
            "at": aware(e.at).isoformat(),
            "actor_id": e.actor_id,
            "actor_role": str(roles[e.actor_id]) if e.actor_id in roles else "system",
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "detail": e.detail,
        }
        for e in entries
    ]
