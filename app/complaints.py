"""Notices of complaint about a review or pilot (Defamation Act 2013 s5; the Operators of Websites Regulations 2013).

Policy (`design/moderation.md`, "Notice of complaint"; DEF-0 to DEF-10 in `research/moderation-legal.md`):

- Anyone may send a notice, signed in or not. Without an email address we cannot reply at all, so that is the only
  thing a form refuses. A notice missing any statutory item (`REQUIREMENTS`) is accepted as *defective*: the
  complainant is emailed at once with what is missing and every requirement, and nothing else starts.
- A valid notice starts the 48-hour statutory clock (`app.clock`). We do not wait for it: at once the poster (the
  author of the review or pilot) is sent the notice, with the complainant's name and email hidden unless they
  consented, a warning that the statement will be removed unless they reply within five days, what the reply must
  contain and a link to the reply form; and the complainant is told it was passed to the poster. A poster we cannot
  contact (account erased or disabled) means the statement is removed at once.
- The poster's reply decides the outcome (DEF-6): asked for removal, or objected without a full name and postal
  address, or no reply by the deadline (`run_due`): the statement is removed and the complainant told. Objected with
  details: the statement stays; the complainant gets the poster's name and address only if the poster consented,
  otherwise they are told that a court can order disclosure.
- A notice whose location names no review or pilot on this site waits for a moderator to link it (`link_content`).
- Removal always goes through `app.moderation.takedown.take_down`, so the statement leaves the supplier page, the
  score, search and the API at once, and its basis (s5 or site policy, DEF-8) is on record.
- Every email is queued with `ref="complaint:<id>"`, and every step is in the audit log (entity "complaint"): with
  the notice itself and its deadlines they are the case file a moderator sees (DEF-10).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from app import audit, security
from app.clock import add_statutory_hours, format_uk, poster_reply_deadline, uk_time
from app.config import Settings
from app.contributions import Contribution, content_type_of
from app.errors import Conflict, InvalidInput, NotFound
from app.mail import queue_mail
from app.models import (
    AuditLog,
    Complaint,
    ComplaintStatus,
    ContentStatus,
    ContentType,
    Council,
    MailOutbox,
    Pilot,
    Review,
    Supplier,
    User,
    utcnow,
)
from app.moderation.sanitize import TextTooLong, clean_text
from app.moderation.takedown import BASES, take_down
from app.ratelimit import limiter

ENTITY = "complaint"
RECEIPT_AUDIENCE = "complaint-receipt"  # the link to a notice's confirmation page, for whoever sent it
TEXT_LIMIT = 5000
NAME_LIMIT = 200
LOCATION_LIMIT = 500
ADDRESS_LIMIT = 1000
RATE_LIMIT = 10  # notices an hour from one address
RATE_WINDOW_SECONDS = 3600
RATE_LIMIT_MESSAGE = "You have sent too many notices of complaint. Wait an hour, then try again."
NOT_FOUND = "There is no notice of complaint at this address."


@dataclass(frozen=True)
class Requirement:
    key: str
    missing: str  # how the item is named when it is missing
    requirement: str  # the full requirement, as the defective-notice email sets it out


# The statutory content of a notice (s5(6) of the Act and reg 2 of the Regulations), in the order of the form.
REQUIREMENTS = (
    Requirement("complainant_name", "Your name", "Your name (s5(6)(a))."),
    Requirement(
        "statement",
        "The statement you are complaining about",
        "The words of the statement you are complaining about (s5(6)(b)).",
    ),
    Requirement(
        "why_defamatory",
        "Why the statement is defamatory of you",
        "Why the statement is defamatory of you (s5(6)(b)).",
    ),
    Requirement(
        "location",
        "Where the statement was posted",
        "Where on the website the statement was posted, ideally its web address (s5(6)(c)).",
    ),
    Requirement(
        "meaning",
        "The meaning you say the statement has",
        "The meaning you attribute to the statement (reg 2(b)).",
    ),
    Requirement(
        "inaccurate_or_unsupported",
        "Which parts are factually inaccurate, or opinions not supported by fact",
        "The aspects of the statement you believe are factually inaccurate, or are opinions not supported by "
        "fact, or both (reg 2(c)).",
    ),
    Requirement(
        "cannot_identify_poster",
        "Confirmation that you cannot identify the poster",
        "Confirmation that you do not have enough information about the person who posted it to bring legal "
        "proceedings against them (reg 2(d)).",
    ),
    Requirement(
        "consent_to_share",
        "Whether we may give your name and email address to the poster",
        "Whether you consent to us giving your name and email address to the person who posted it (reg 2(e)).",
    ),
)
REQUIREMENT_BY_KEY = {r.key: r for r in REQUIREMENTS}

KEPT_DISCLOSED = "kept_details_disclosed"
KEPT_WITHHELD = "kept_details_withheld"
OUTCOMES = {
    **{basis: f"Removed: {text[0].lower()}{text[1:]}" for basis, text in BASES.items() if basis.startswith("s5_")},
    KEPT_DISCLOSED: "Kept: the poster objects and agreed to their name and address going to the complainant",
    KEPT_WITHHELD: "Kept: the poster objects and did not agree to their name and address going to the complainant",
}
STATUS_LABELS = {
    ComplaintStatus.defective: "Defective notice",
    ComplaintStatus.open: "Needs a moderator",
    ComplaintStatus.awaiting_poster: "Waiting for the poster",
    ComplaintStatus.removed: "Statement removed",
    ComplaintStatus.kept: "Statement kept",
    ComplaintStatus.closed: "Closed",
}


def ref_of(complaint: Complaint) -> str:
    return f"{ENTITY}:{complaint.id}"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


# --- reading a notice ----------------------------------------------------------------------------


@dataclass
class NoticeInput:
    """A notice as sent: cleaned values, what is missing, and where the statement is if it is ours."""

    values: dict[str, Any]
    missing: list[str]
    content_type: ContentType | None
    content_id: int | None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"yes": True, "true": True, "on": True, "no": False, "false": False}.get(str(value or "").strip().lower())


def _clean(raw: Mapping[str, Any], name: str, limit: int, label: str, errors: dict[str, str]) -> str:
    value = raw.get(name)
    try:
        return clean_text(str(value) if value is not None else "", max_length=limit)
    except TextTooLong as error:
        errors[name] = f"{label} must be {limit:,} characters or fewer (it has {error.length:,})"
        return ""


def normalise_email(raw: Any) -> str:
    """The complainant's email address, or InvalidInput: without it we cannot reply at all."""
    text = str(raw or "").strip()
    if not text:
        raise InvalidInput({"complainant_email": "Enter your email address, so that we can reply to you"})
    if len(text) > 254:
        raise InvalidInput({"complainant_email": "Email address must be 254 characters or fewer"})
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(
            {"complainant_email": "Enter an email address in the correct format, like name@example.com"}
        ) from None


def parse_notice(session: Session, *, raw: Mapping[str, Any], settings: Settings) -> NoticeInput:
    """Check a notice: InvalidInput for what a form must refuse (no email, overlong text), else what is missing."""
    errors: dict[str, str] = {}
    try:
        email = normalise_email(raw.get("complainant_email"))
    except InvalidInput as error:
        errors.update(error.errors)
        email = ""
    values: dict[str, Any] = {
        "complainant_email": email,
        "complainant_name": _clean(raw, "complainant_name", NAME_LIMIT, "Your name", errors),
        "location": _clean(raw, "location", LOCATION_LIMIT, "Where it was posted", errors),
    }
    for name, label in (
        ("statement", "The statement"),
        ("why_defamatory", "Why it is defamatory"),
        ("meaning", "The meaning"),
        ("inaccurate_parts", "What is factually inaccurate"),
        ("unsupported_opinion", "Which opinions are not supported by fact"),
    ):
        values[name] = _clean(raw, name, TEXT_LIMIT, label, errors)
    if errors:
        raise InvalidInput(errors)
    values["cannot_identify_poster"] = _bool(raw.get("cannot_identify_poster")) is True
    values["consent_to_share"] = _bool(raw.get("consent_to_share"))
    present = {
        "complainant_name": bool(values["complainant_name"]),
        "statement": bool(values["statement"]),
        "why_defamatory": bool(values["why_defamatory"]),
        "location": bool(values["location"]),
        "meaning": bool(values["meaning"]),
        "inaccurate_or_unsupported": bool(values["inaccurate_parts"] or values["unsupported_opinion"]),
        "cannot_identify_poster": values["cannot_identify_poster"],
        "consent_to_share": values["consent_to_share"] is not None,
    }
    missing = [r.key for r in REQUIREMENTS if not present[r.key]]
    found = resolve_location(session, values["location"], settings=settings) if values["location"] else None
    return NoticeInput(
        values=values,
        missing=missing,
        content_type=found[0] if found else None,
        content_id=found[1] if found else None,
    )


def _content(session: Session, content_type: ContentType | None, content_id: int | None) -> Contribution | None:
    if content_id is None or content_type not in (ContentType.review, ContentType.pilot):
        return None
    if content_type == ContentType.review:
        return session.get(Review, content_id)
    return session.get(Pilot, content_id)


def _parse_about(text: str) -> tuple[ContentType, int] | None:
    kind, _, number = text.strip().partition(":")
    if kind not in ("review", "pilot") or not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    return ContentType(kind), int(number)


def resolve_location(session: Session, text: str, *, settings: Settings) -> tuple[ContentType, int] | None:
    """The review or pilot a location names (its address on this site, or "review:12"), if it exists."""
    found = _parse_about(text)
    if found is None:
        parts = urlsplit(text.strip())
        own = urlsplit(settings.BASE_URL)
        if parts.scheme and (parts.scheme not in ("http", "https") or parts.netloc != own.netloc):
            return None
        if not parts.scheme and (parts.netloc or not parts.path.startswith("/")):
            return None
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) == 2 and segments[0] == "vendors":
            kind, _, number = parts.fragment.partition("-")
            found = _parse_about(f"{kind}:{number}")
            if found is not None:
                content = _content(session, *found)
                supplier = session.get(Supplier, content.supplier_id) if content else None
                if supplier is None or supplier.slug != segments[1]:
                    return None
        elif len(segments) == 4 and segments[:2] == ["api", "v1"] and segments[2] in ("reviews", "pilots"):
            found = _parse_about(f"{segments[2][:-1]}:{segments[3]}")
    if found is None or _content(session, *found) is None:
        return None
    return found


def location_for(session: Session, *, about: str, settings: Settings) -> str:
    """The address of a published review or pilot ("review:12"), to pre-fill a notice; empty if there is none."""
    found = _parse_about(about)
    content = _content(session, *found) if found else None
    if found is None or content is None or content.status != ContentStatus.published:
        return ""
    supplier = session.get(Supplier, content.supplier_id)
    return f"{settings.BASE_URL}/vendors/{supplier.slug}#{found[0].value}-{found[1]}" if supplier else ""


# --- receiving a notice --------------------------------------------------------------------------


def check_rate(client: str) -> None:
    """Count one notice from a client address; TooManyRequests past the hourly limit."""
    limiter.hit(
        f"complaint:ip:{client}", limit=RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS, message=RATE_LIMIT_MESSAGE
    )


def receive(session: Session, *, raw: Mapping[str, Any], settings: Settings, now: datetime | None = None) -> Complaint:
    """Record a notice; reply to a defective one, or start the statutory procedure for a valid one."""
    now = _now(now)
    notice = parse_notice(session, raw=raw, settings=settings)
    v = notice.values
    complaint = Complaint(
        status=ComplaintStatus.defective if notice.missing else ComplaintStatus.open,
        content_type=notice.content_type,
        content_id=notice.content_id,
        complainant_name=v["complainant_name"],
        complainant_email=v["complainant_email"],
        statement=v["statement"],
        location=v["location"],
        why_defamatory=v["why_defamatory"],
        meaning=v["meaning"],
        inaccurate_parts=v["inaccurate_parts"],
        unsupported_opinion=v["unsupported_opinion"] or None,
        cannot_identify_poster=v["cannot_identify_poster"],
        consent_to_share=v["consent_to_share"] is True,
        missing=notice.missing,
        received_at=now,
        response_due_at=add_statutory_hours(now),
    )
    session.add(complaint)
    session.flush()
    about = f"{notice.content_type.value}:{notice.content_id}" if notice.content_type else None
    audit.record(
        session,
        actor=None,
        action="complaint_received",
        entity_type=ENTITY,
        entity_id=complaint.id or 0,
        to_state=complaint.status.value,
        detail={"missing": notice.missing} if notice.missing else {"content": about},
    )
    if notice.missing:
        _tell_defective(session, complaint, settings=settings, now=now)
    elif complaint.content_id is None:
        _tell_received(session, complaint)
    else:
        _start(session, complaint, settings=settings, now=now)
    session.commit()
    session.refresh(complaint)
    return complaint


def _mail(session: Session, complaint: Complaint, *, to: str, subject: str, body: str, kind: str) -> MailOutbox:
    message = queue_mail(session, to=to, subject=subject, body_text=body, kind=kind)
    message.ref = ref_of(complaint)
    return message


def _step(
    session: Session,
    complaint: Complaint,
    action: str,
    *,
    actor: User | None = None,
    before: ComplaintStatus | None = None,
    **detail: Any,
) -> None:
    complaint.version += 1  # every step makes a moderator's open page stale
    session.add(complaint)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=complaint.id or 0,
        from_state=before.value if before else None,
        to_state=complaint.status.value,
        detail=detail,
    )


def _tell_defective(session: Session, complaint: Complaint, *, settings: Settings, now: datetime) -> None:
    missing = "\n".join(f"- {REQUIREMENT_BY_KEY[key].missing}" for key in complaint.missing)
    every = "\n".join(f"{n}. {r.requirement}" for n, r in enumerate(REQUIREMENTS, start=1))
    _mail(
        session,
        complaint,
        to=complaint.complainant_email,
        subject="Your notice of complaint is missing information",
        body=(
            f"We received your notice of complaint (reference {complaint.id}), but it does not include everything "
            "a notice of complaint must contain, so we cannot act on it yet.\n\n"
            f"What is missing:\n\n{missing}\n\n"
            f"A notice of complaint must contain:\n\n{every}\n\n"
            "You must also give an email address we can reply to.\n\n"
            f"To send a complete notice, fill in the form again: {settings.BASE_URL}/complaints/new\n"
        ),
        kind="complaint_defective",
    )
    complaint.acknowledged_at = now
    session.add(complaint)
    _step(session, complaint, "complaint_told_defective", missing=list(complaint.missing))


def _tell_received(session: Session, complaint: Complaint) -> None:
    """A valid notice whose location names nothing of ours: say it arrived; a moderator finds the statement."""
    _mail(
        session,
        complaint,
        to=complaint.complainant_email,
        subject="We have received your notice of complaint",
        body=(
            f"We have received your notice of complaint (reference {complaint.id}). We could not match where you "
            "say the statement was posted to a review or pilot on our website, so a moderator will find it.\n\n"
            "We will write to you again when we have passed your notice to the person who posted the statement, "
            f"by {format_uk(_deadline(complaint.response_due_at))}.\n"
        ),
        kind="complaint_received",
    )
    _step(session, complaint, "complaint_needs_moderator")


def _deadline(value: datetime | None) -> datetime:
    assert value is not None
    return value


def _poster(session: Session, content: Contribution) -> User | None:
    """The author, if we can still reach them by email (not erased, not disabled)."""
    author = session.get(User, content.author_id)
    if author is None or author.disabled or author.erased_at is not None or not author.email:
        return None
    return author


def _kind(content: Contribution) -> str:
    return "review" if isinstance(content, Review) else "pilot record"


def _about(session: Session, content: Contribution | None) -> str:
    """ "review of Fenwick Ledger Systems: “A review”" """
    if content is None:
        return "statement"
    supplier = session.get(Supplier, content.supplier_id)
    label = _kind(content)
    title = content.headline if isinstance(content, Review) else content.title
    return f"{label} of {supplier.name if supplier else 'a supplier'}: “{title}”"


def _notice_text(complaint: Complaint, *, for_poster: bool) -> str:
    if not for_poster or complaint.consent_to_share:
        who = f"From: {complaint.complainant_name} ({complaint.complainant_email})"
    else:
        who = "From: the complainant did not agree to their name and email address being given to you."
    parts = [
        who,
        f"The statement complained about:\n{complaint.statement}",
        f"Where it was posted:\n{complaint.location}",
        f"Why the complainant says it is defamatory of them:\n{complaint.why_defamatory}",
        f"The meaning they say it has:\n{complaint.meaning}",
    ]
    if complaint.inaccurate_parts:
        parts.append(f"What they say is factually inaccurate:\n{complaint.inaccurate_parts}")
    if complaint.unsupported_opinion:
        parts.append(f"What they say is opinion not supported by fact:\n{complaint.unsupported_opinion}")
    parts.append("They confirm they do not have enough information about the poster to bring legal proceedings.")
    return "\n\n".join(parts)


REPLY_MUST_CONTAIN = (
    "Your reply must say whether you want the statement removed. If you object to it being removed, you must give "
    "your full name and postal address, and say whether you agree to us giving them to the complainant. If you "
    "object but do not give your full name and postal address, we will remove the statement."
)


def _start(session: Session, complaint: Complaint, *, settings: Settings, now: datetime) -> None:
    """Pass a valid notice to the poster and acknowledge it; remove at once if the poster cannot be reached."""
    content = _content(session, complaint.content_type, complaint.content_id)
    assert content is not None
    poster = _poster(session, content)
    if poster is None:
        _remove(session, complaint, content, basis="s5_no_contact_route", trigger=now, now=now)
        complaint.acknowledged_at = now
        return
    before = complaint.status
    complaint.poster_notified_at = now
    complaint.poster_reply_due_at = poster_reply_deadline(now)
    complaint.status = ComplaintStatus.awaiting_poster
    session.add(complaint)
    due = format_uk(complaint.poster_reply_due_at)
    about = _about(session, content)
    _mail(
        session,
        complaint,
        to=poster.email,
        subject=f"A complaint about your {_kind(content)}: reply by {due}",
        body=(
            f"We have received a notice of complaint under the Defamation Act 2013 about your {about}. "
            "The complainant says a statement in it is defamatory of them. Here is their notice:\n\n"
            f"{_notice_text(complaint, for_poster=True)}\n\n"
            f"The statement will be removed unless you reply in writing within 5 days, by {due}.\n\n"
            f"{REPLY_MUST_CONTAIN}\n\n"
            f"Reply here (sign in with your work email address): {settings.BASE_URL}/complaints/{complaint.id}/reply\n"
        ),
        kind="complaint_to_poster",
    )
    reply_due_at = uk_time(complaint.poster_reply_due_at).isoformat()
    _step(session, complaint, "complaint_sent_to_poster", before=before, reply_due_at=reply_due_at)
    _mail(
        session,
        complaint,
        to=complaint.complainant_email,
        subject="Your notice of complaint has been passed to the poster",
        body=(
            f"We have received your notice of complaint (reference {complaint.id}) and passed it to the person who "
            f"posted the statement{'' if complaint.consent_to_share else ', without your name or email address'}.\n\n"
            f"They have until {due} to reply. If they do not reply, or ask for it to be removed, or object without "
            "giving their full name and postal address, we will remove the statement and tell you. "
            "If they object, we will tell you.\n"
        ),
        kind="complaint_acknowledged",
    )
    complaint.acknowledged_at = now
    _step(session, complaint, "complaint_acknowledged", action_taken="passed to the poster")


# --- outcomes ------------------------------------------------------------------------------------

REMOVAL_REASONS = {
    "s5_no_contact_route": "We could not contact the person who posted it.",
    "s5_no_response": "The person who posted it did not reply to your notice in time.",
    "s5_poster_request": "The person who posted it asked for it to be removed.",
    "s5_inadequate": "The person who posted it objected, but did not give their full name and postal address.",
}
POSTER_REMOVAL_REASONS = {
    "s5_no_response": "you did not reply to the notice of complaint by the deadline",
    "s5_poster_request": "you asked us to remove it",
    "s5_inadequate": "you objected but did not give your full name and postal address",
}


def _remove(
    session: Session,
    complaint: Complaint,
    content: Contribution | None,
    *,
    basis: str,
    trigger: datetime,
    now: datetime,
) -> None:
    """Remove the statement under s5 (48 statutory hours from `trigger` at most: we do it now) and say so."""
    complaint.removal_due_at = add_statutory_hours(trigger)
    if content is not None and content.status not in (
        ContentStatus.removed,
        ContentStatus.withdrawn,
        ContentStatus.rejected,
    ):
        take_down(
            session,
            content=content,
            status=ContentStatus.removed,
            basis=basis,
            actor=None,
            note=f"Notice of complaint {complaint.id}",
        )
    before = complaint.status
    complaint.removed_at = now
    complaint.status = ComplaintStatus.removed
    complaint.outcome = basis
    session.add(complaint)
    _step(session, complaint, "complaint_statement_removed", before=before, basis=basis)
    _mail(
        session,
        complaint,
        to=complaint.complainant_email,
        subject="The statement you complained about has been removed",
        body=(
            f"We have removed the statement you complained about in your notice of complaint "
            f"(reference {complaint.id}).\n\n{REMOVAL_REASONS[basis]}\n"
        ),
        kind="complaint_outcome",
    )
    poster = _poster(session, content) if content is not None else None
    if poster is not None and basis in POSTER_REMOVAL_REASONS:
        _mail(
            session,
            complaint,
            to=poster.email,
            subject=f"Your {_kind(content)} has been removed" if content else "Your statement has been removed",
            body=(
                f"We have removed your {_about(session, content)} after a notice of complaint, because "
                f"{POSTER_REMOVAL_REASONS[basis]}.\n"
            ),
            kind="complaint_removed_poster",
        )
    _told(session, complaint, now=now)


def _told(session: Session, complaint: Complaint, *, now: datetime) -> None:
    complaint.complainant_told_at = now
    complaint.closed_at = now
    session.add(complaint)
    _step(session, complaint, "complaint_told_outcome", outcome=complaint.outcome)


def _keep(session: Session, complaint: Complaint, *, now: datetime) -> None:
    """The poster objects with their details: the statement stays and the complainant is told."""
    disclosed = bool(complaint.poster_consents_disclosure)
    before = complaint.status
    complaint.status = ComplaintStatus.kept
    complaint.outcome = KEPT_DISCLOSED if disclosed else KEPT_WITHHELD
    session.add(complaint)
    _step(session, complaint, "complaint_statement_kept", before=before, outcome=complaint.outcome)
    if disclosed:
        details = (
            "They agreed to us giving you their name and postal address:\n\n"
            f"Full name: {complaint.poster_full_name}\n\nPostal address:\n{complaint.poster_address}\n"
        )
    else:
        details = (
            "They did not agree to us giving you their name and postal address, so we will not share them "
            "without a court order. If you want to bring legal proceedings, you can apply to a court for an order "
            "that we disclose who posted the statement.\n"
        )
    _mail(
        session,
        complaint,
        to=complaint.complainant_email,
        subject="The person who posted the statement objects to its removal",
        body=(
            f"We passed your notice of complaint (reference {complaint.id}) to the person who posted the "
            "statement. They object to it being removed, so under the Defamation (Operators of Websites) "
            f"Regulations 2013 it stays on the website.\n\n{details}"
        ),
        kind="complaint_outcome",
    )
    _told(session, complaint, now=now)


# --- the poster's reply --------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterView:
    """A notice as its poster sees it: the complainant hidden unless they consented."""

    complaint: Complaint
    about: str
    notice: str
    due: str
    late: bool
    replied_on: str | None


def _for_poster(session: Session, *, complaint_id: int, poster: User) -> tuple[Complaint, Contribution]:
    complaint = session.get(Complaint, complaint_id)
    content = _content(session, complaint.content_type, complaint.content_id) if complaint else None
    if complaint is None or content is None or content.author_id != poster.id or complaint.poster_notified_at is None:
        raise NotFound(NOT_FOUND)
    return complaint, content


def get_for_poster(session: Session, *, complaint_id: int, poster: User, now: datetime | None = None) -> PosterView:
    """A notice sent to `poster` about their own review or pilot; NotFound for anyone else."""
    now = _now(now)
    run_due(session, now=now)
    complaint, content = _for_poster(session, complaint_id=complaint_id, poster=poster)
    return PosterView(
        complaint=complaint,
        about=_about(session, content),
        notice=_notice_text(complaint, for_poster=True),
        due=format_uk(_deadline(complaint.poster_reply_due_at)),
        late=now >= _deadline(complaint.poster_reply_due_at),
        replied_on=format_uk(complaint.poster_replied_at) if complaint.poster_replied_at else None,
    )


@dataclass(frozen=True)
class PosterReply:
    wants_removal: bool
    full_name: str
    address: str
    consents: bool | None


def parse_reply(raw: Mapping[str, Any]) -> PosterReply:
    """The poster's answers, or InvalidInput for a question a form must have answered."""
    errors: dict[str, str] = {}
    wants_removal = _bool(raw.get("wants_removal"))
    full_name = _clean(raw, "full_name", NAME_LIMIT, "Full name", errors)
    address = _clean(raw, "postal_address", ADDRESS_LIMIT, "Postal address", errors)
    consents = _bool(raw.get("consents_disclosure"))
    if wants_removal is None:
        errors["wants_removal"] = "Select whether you want the statement removed"
    elif not wants_removal and full_name and address and consents is None:
        errors["consents_disclosure"] = "Select whether we may give your name and address to the complainant"
    if errors:
        raise InvalidInput(errors)
    assert wants_removal is not None
    return PosterReply(wants_removal=wants_removal, full_name=full_name, address=address, consents=consents)


def poster_reply(
    session: Session, *, complaint_id: int, poster: User, raw: Mapping[str, Any], now: datetime | None = None
) -> Complaint:
    """Record the poster's reply and act on it (DEF-6); a late reply is recorded but changes nothing."""
    now = _now(now)
    run_due(session, now=now)
    complaint, content = _for_poster(session, complaint_id=complaint_id, poster=poster)
    if complaint.poster_replied_at is not None:
        raise Conflict("You have already replied to this notice of complaint.")
    reply = parse_reply(raw)
    objects = not reply.wants_removal
    complaint.poster_replied_at = now
    complaint.poster_wants_removal = reply.wants_removal
    complaint.poster_full_name = (reply.full_name or None) if objects else None
    complaint.poster_address = (reply.address or None) if objects else None
    complaint.poster_consents_disclosure = reply.consents if objects else None
    session.add(complaint)
    adequate = reply.wants_removal or bool(reply.full_name and reply.address)
    _step(
        session,
        complaint,
        "complaint_poster_replied",
        actor=poster,
        wants_removal=reply.wants_removal,
        gave_name_and_address=bool(reply.full_name and reply.address),
        consents_disclosure=complaint.poster_consents_disclosure,
        late=complaint.status != ComplaintStatus.awaiting_poster,
    )
    if complaint.status != ComplaintStatus.awaiting_poster:
        _mail(
            session,
            complaint,
            to=poster.email,
            subject="We received your reply after the deadline",
            body=(
                f"We received your reply to the notice of complaint about your {_about(session, content)} after "
                f"the deadline ({format_uk(_deadline(complaint.poster_reply_due_at))}), so the statement had "
                "already been removed. Your reply is kept with the complaint.\n"
            ),
            kind="complaint_reply_late",
        )
    elif reply.wants_removal:
        _reply_received(session, complaint, poster, "You asked us to remove the statement, so we have removed it.")
        _remove(session, complaint, content, basis="s5_poster_request", trigger=now, now=now)
    elif not adequate:
        _reply_received(
            session,
            complaint,
            poster,
            "You objected but did not give your full name and postal address, so under the Regulations we have "
            "removed the statement.",
        )
        _remove(session, complaint, content, basis="s5_inadequate", trigger=now, now=now)
    else:
        shared = "will give" if reply.consents else "will not give"
        _reply_received(
            session,
            complaint,
            poster,
            f"You objected, so the statement stays on the website. As you asked, we {shared} your name and postal "
            "address to the complainant.",
        )
        _keep(session, complaint, now=now)
    session.commit()
    session.refresh(complaint)
    return complaint


def _reply_received(session: Session, complaint: Complaint, poster: User, what_happens: str) -> None:
    _mail(
        session,
        complaint,
        to=poster.email,
        subject="We have received your reply to a notice of complaint",
        body=f"Thank you for your reply to the notice of complaint (reference {complaint.id}).\n\n{what_happens}\n",
        kind="complaint_reply_received",
    )


# --- the clock runner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueAction:
    complaint_id: int
    action: str  # the removal basis


def run_due(session: Session, *, now: datetime | None = None) -> list[DueAction]:
    """Remove every statement whose poster did not reply by the deadline, telling each complainant."""
    now = _now(now)
    due = session.exec(
        select(Complaint)
        .where(
            Complaint.status == ComplaintStatus.awaiting_poster,
            col(Complaint.poster_replied_at).is_(None),
            col(Complaint.poster_reply_due_at) <= now,
        )
        .order_by(col(Complaint.id))
    ).all()
    done = []
    for complaint in due:
        content = _content(session, complaint.content_type, complaint.content_id)
        trigger = _deadline(complaint.poster_reply_due_at)
        _remove(session, complaint, content, basis="s5_no_response", trigger=trigger, now=now)
        done.append(DueAction(complaint_id=complaint.id or 0, action="s5_no_response"))
    if done:
        session.commit()
    return done


# --- moderators ------------------------------------------------------------------------------------


def _get(session: Session, complaint_id: int) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(NOT_FOUND)
    return complaint


def _check_version(complaint: Complaint, version: int) -> None:
    if complaint.version != version:
        raise Conflict("Someone else changed this complaint first. Reload it to see what changed.")


def link_content(
    session: Session,
    *,
    complaint_id: int,
    moderator: User,
    location: str,
    version: int,
    settings: Settings,
    now: datetime | None = None,
) -> Complaint:
    """Name the review or pilot a valid notice is about (its location did not), then start the procedure."""
    now = _now(now)
    complaint = _get(session, complaint_id)
    _check_version(complaint, version)
    if complaint.status != ComplaintStatus.open or complaint.content_id is not None:
        raise Conflict("This notice has already been passed on, or is defective.")
    found = resolve_location(session, clean_text(location or ""), settings=settings)
    if found is None:
        raise InvalidInput(
            {
                "location": "Enter the address of a review or pilot on this website, like "
                f"{settings.BASE_URL}/vendors/example#review-12, or review:12"
            }
        )
    complaint.content_type, complaint.content_id = found
    session.add(complaint)
    _step(session, complaint, "complaint_linked", actor=moderator, content=f"{found[0].value}:{found[1]}")
    _start(session, complaint, settings=settings, now=now)
    session.commit()
    session.refresh(complaint)
    return complaint


def hide_pending(session: Session, *, complaint_id: int, moderator: User, version: int) -> Complaint:
    """Hide the statement under site policy while the complaint is considered (DEF-8); 409 if the page is stale."""
    complaint = _get(session, complaint_id)
    _check_version(complaint, version)
    content = _content(session, complaint.content_type, complaint.content_id)
    if content is None or content.status != ContentStatus.published:
        raise InvalidInput({"hide": "The statement is not on the website, so there is nothing to hide"})
    take_down(
        session,
        content=content,
        status=ContentStatus.hidden,
        basis="policy_complaint_pending",
        actor=moderator,
        note=f"Notice of complaint {complaint.id}",
    )
    _step(session, complaint, "complaint_content_hidden", actor=moderator, basis="policy_complaint_pending")
    session.commit()
    session.refresh(complaint)
    return complaint


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime
    done_at: datetime | None
    state: str  # done, late, due or overdue
    ours: bool = True  # False for the poster's reply: passing it is not our failure

    @property
    def due_text(self) -> str:
        return format_uk(self.due_at)

    @property
    def done_text(self) -> str:
        return format_uk(self.done_at) if self.done_at else ""

    @property
    def tag(self) -> tuple[str, str]:
        """The text and colour of the deadline's tag."""
        if self.state == "overdue":
            return ("Overdue", "red") if self.ours else ("Passed", "orange")
        return {
            "done": ("Done", "green"),
            "late": ("Done late", "orange"),
            "due": ("Due", "blue"),
        }[self.state]


def _deadline_row(label: str, due_at: datetime, done_at: datetime | None, now: datetime, ours: bool = True) -> Deadline:
    if done_at is not None:
        state = "done" if done_at <= due_at else "late"
    else:
        state = "overdue" if now > due_at else "due"
    return Deadline(label=label, due_at=due_at, done_at=done_at, state=state, ours=ours)


def deadlines(complaint: Complaint, *, now: datetime) -> list[Deadline]:
    """Every deadline of a case, with what is done, due and overdue."""
    response_due = _deadline(complaint.response_due_at)
    if complaint.status == ComplaintStatus.defective:
        return [_deadline_row("Tell the complainant what is missing", response_due, complaint.acknowledged_at, now)]
    rows = []
    if complaint.outcome == "s5_no_contact_route":
        rows.append(
            _deadline_row("Remove the statement (poster cannot be contacted)", response_due, complaint.removed_at, now)
        )
    else:
        rows.append(_deadline_row("Send the notice to the poster", response_due, complaint.poster_notified_at, now))
    rows.append(_deadline_row("Acknowledge the complainant", response_due, complaint.acknowledged_at, now))
    if complaint.poster_reply_due_at is not None:
        rows.append(
            _deadline_row("Poster's reply", complaint.poster_reply_due_at, complaint.poster_replied_at, now, ours=False)
        )
    if complaint.removal_due_at is not None and complaint.outcome != "s5_no_contact_route":
        rows.append(_deadline_row("Remove the statement", complaint.removal_due_at, complaint.removed_at, now))
    told_due = complaint.removal_due_at
    if told_due is None and complaint.status == ComplaintStatus.kept and complaint.poster_replied_at is not None:
        told_due = add_statutory_hours(complaint.poster_replied_at)
    if told_due is not None:
        rows.append(_deadline_row("Tell the complainant the outcome", told_due, complaint.complainant_told_at, now))
    return rows


@dataclass(frozen=True)
class CaseRow:
    complaint: Complaint
    status: str
    about: str
    received: str
    next_deadline: Deadline | None
    overdue: bool


def list_cases(session: Session, *, now: datetime | None = None) -> list[CaseRow]:
    """Every notice, newest first, with its next deadline; runs the clock first, as any read of the list does."""
    now = _now(now)
    run_due(session, now=now)
    rows = []
    for complaint in session.exec(select(Complaint).order_by(col(Complaint.id).desc())).all():
        content = _content(session, complaint.content_type, complaint.content_id)
        pending = [d for d in deadlines(complaint, now=now) if d.done_at is None]
        if complaint.status == ComplaintStatus.open and content is None:
            pending = [
                _deadline_row(
                    "Find the statement and send the notice to the poster",
                    _deadline(complaint.response_due_at),
                    None,
                    now,
                )
            ]
        rows.append(
            CaseRow(
                complaint=complaint,
                status=STATUS_LABELS[complaint.status],
                about=_about(session, content) if content else complaint.location or "Not given",
                received=format_uk(complaint.received_at),
                next_deadline=pending[0] if pending else None,
                overdue=any(d.state == "overdue" and d.ours for d in pending),
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryEntry:
    entry: AuditLog
    at: str
    actor: str


@dataclass(frozen=True)
class Message:
    mail: MailOutbox
    at: str
    to_whom: str  # complainant, poster or another address


@dataclass(frozen=True)
class CaseFile:
    """Everything about one notice: the notice, deadlines, the reply, the outcome, every message and step."""

    complaint: Complaint
    status: str
    about: str
    notice: str
    missing: list[str]
    content_type: ContentType | None
    content_status: ContentStatus | None
    content_url: str | None
    poster: str | None  # the poster as their content shows them: role and council
    poster_reachable: bool
    deadlines: list[Deadline]
    received: str
    outcome: str | None
    messages: list[Message]
    history: list[HistoryEntry]

    @property
    def can_hide(self) -> bool:
        return self.content_status == ContentStatus.published

    @property
    def can_link(self) -> bool:
        return self.complaint.status == ComplaintStatus.open and self.complaint.content_id is None


def get_case(session: Session, *, complaint_id: int, now: datetime | None = None) -> CaseFile:
    """The full case file of a notice, for moderators."""
    now = _now(now)
    run_due(session, now=now)
    complaint = _get(session, complaint_id)
    content = _content(session, complaint.content_type, complaint.content_id)
    supplier = session.get(Supplier, content.supplier_id) if content else None
    council = session.get(Council, content.council_id) if content else None
    messages = session.exec(
        select(MailOutbox).where(MailOutbox.ref == ref_of(complaint)).order_by(col(MailOutbox.id))
    ).all()
    actors: dict[int, str] = {}
    history = []
    for entry in audit.history(session, entity_type=ENTITY, entity_id=complaint_id):
        if entry.actor_id is not None and entry.actor_id not in actors:
            user = session.get(User, entry.actor_id)
            actors[entry.actor_id] = (user.name or user.email) if user else "Unknown"
        history.append(
            HistoryEntry(
                entry=entry,
                at=format_uk(entry.at),
                actor=actors[entry.actor_id] if entry.actor_id is not None else "The service",
            )
        )
    return CaseFile(
        complaint=complaint,
        status=STATUS_LABELS[complaint.status],
        about=_about(session, content) if content else "No review or pilot identified",
        notice=_notice_text(complaint, for_poster=False),
        missing=[REQUIREMENT_BY_KEY[key].missing for key in complaint.missing if key in REQUIREMENT_BY_KEY],
        content_type=content_type_of(content) if content else None,
        content_status=content.status if content else None,
        content_url=f"/vendors/{supplier.slug}#{content_type_of(content).value}-{content.id}"
        if content and supplier
        else None,
        poster=f"{content.author_role}, {council.name}" if content and council else None,
        poster_reachable=_poster(session, content) is not None if content else False,
        deadlines=deadlines(complaint, now=now),
        received=format_uk(complaint.received_at),
        outcome=OUTCOMES.get(complaint.outcome or ""),
        messages=[
            Message(
                mail=m,
                at=format_uk(m.created_at),
                to_whom="Complainant" if m.to_address == complaint.complainant_email else "Poster",
            )
            for m in messages
        ],
        history=history,
    )


# --- the complainant's confirmation page -------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    complaint_id: int
    status: ComplaintStatus
    email: str
    missing: list[str]
    poster_reply_due: str | None


def receipt_token(complaint: Complaint, *, settings: Settings) -> str:
    """A short-lived signed link to the confirmation page, so that only the sender sees what they sent."""
    token, _ = security.create_token(
        secret=settings.SECRET_KEY, audience=RECEIPT_AUDIENCE, subject=str(complaint.id), lifetime=timedelta(hours=1)
    )
    return token


def get_receipt(session: Session, *, token: str, settings: Settings) -> Receipt:
    """What happened to the notice a confirmation link stands for; NotFound if the link is not valid."""
    try:
        complaint_id = int(security.read_token(token, secret=settings.SECRET_KEY, audience=RECEIPT_AUDIENCE).subject)
    except (security.InvalidToken, ValueError):
        raise NotFound("This confirmation page has expired. We have emailed you about your notice.") from None
    complaint = _get(session, complaint_id)
    return Receipt(
        complaint_id=complaint_id,
        status=complaint.status,
        email=complaint.complainant_email,
        missing=[REQUIREMENT_BY_KEY[key].missing for key in complaint.missing if key in REQUIREMENT_BY_KEY],
        poster_reply_due=format_uk(complaint.poster_reply_due_at) if complaint.poster_reply_due_at else None,
    )
