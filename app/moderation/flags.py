"""Officers reporting published reviews and pilots ("flags"), and how a report reaches the moderation queue.

The policy (`moderation.md`, MOD-2, MOD-6):
- Only signed-in officers report, only published content, never their own, once per piece of content.
- A message is required for confidential information, inaccurate or defamatory, and something else.
- Each report adds its reason's score to the ONE open queue item for the content: a new item (source "flags") if
  none is open, otherwise the open one grows. Reports never hide content by themselves: a moderator decides.
- Whoever is defamed can also send a statutory notice of complaint (Defamation Act 2013 s5); the form says where.
- Reports are rate-limited per officer; flaggers never learn who wrote what they reported.
"""

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import audit
from app.contributions import Contribution, content_type_of, open_item_for
from app.errors import InvalidInput, NotAllowed, NotFound
from app.models import (
    ContentStatus,
    ContentType,
    Flag,
    ModerationItem,
    Pilot,
    Review,
    Severity,
    Supplier,
    User,
    utcnow,
)
from app.moderation.sanitize import clean_text
from app.ratelimit import limiter

MESSAGE_LIMIT = 2000
RATE_LIMIT = 20  # reports per officer per hour: far more than honest use, and it stops a flood
RATE_WINDOW_SECONDS = 3600
RATE_LIMIT_MESSAGE = "You have sent a lot of reports in the last hour. Try again later."
ALREADY_REPORTED = "You have already reported this"


@dataclass(frozen=True)
class Reason:
    label: str
    hint: str
    score: int
    severity: Severity
    message_required: bool


# In the order the form offers them. Personal data, confidential information and possible defamation weigh more:
# they are the legal risks the queue must reach first.
REASONS: dict[str, Reason] = {
    "inappropriate": Reason(
        "It is inappropriate or offensive", "For example rude, abusive or off topic", 3, Severity.medium, False
    ),
    "personal_data": Reason(
        "It contains personal data",
        "For example a person's name, email address or phone number",
        8,
        Severity.high,
        False,
    ),
    "confidential": Reason(
        "It contains confidential information",
        "For example prices or terms under a non-disclosure agreement",
        8,
        Severity.high,
        True,
    ),
    "inaccurate_or_defamatory": Reason(
        "It is inaccurate or defamatory",
        "A statement of fact that is wrong, or that could harm someone's reputation",
        10,
        Severity.high,
        True,
    ),
    "other": Reason("Something else", "Tell us what is wrong", 3, Severity.medium, True),
}
OUTCOMES = ("agreed", "disagreed")
SEVERITY_ORDER = [Severity.low, Severity.medium, Severity.high, Severity.critical]


@dataclass
class Subject:
    """What an officer is reporting, as the form shows it: never its author's name."""

    content_type: ContentType
    content: Contribution
    supplier: Supplier
    already_reported: bool

    @property
    def title(self) -> str:
        return self.content.headline if isinstance(self.content, Review) else self.content.title

    @property
    def complaint_url(self) -> str:
        return complaint_url(self.content_type, self.content.id or 0)


def complaint_url(content_type: ContentType, content_id: int) -> str:
    """The statutory notice of complaint form, about this content."""
    return f"/complaints/new?about={content_type.value}:{content_id}"


def _published(session: Session, content_type: ContentType, content_id: int, *, lock: bool = False) -> Contribution:
    # Locking the content row (PostgreSQL; SQLite has one writer anyway) makes two reports arriving together
    # queue one after the other, so they can never open two items for the same content.
    content: Contribution | None = (
        session.get(Review, content_id, with_for_update=lock)
        if content_type == ContentType.review
        else session.get(Pilot, content_id, with_for_update=lock)
    )
    if content is None or content.status != ContentStatus.published:
        noun = "review" if content_type == ContentType.review else "pilot record"
        raise NotFound(f"There is no published {noun} at this address.")
    return content


def _existing(session: Session, *, user: User, content_type: ContentType, content_id: int) -> Flag | None:
    return session.exec(
        select(Flag).where(Flag.user_id == user.id, Flag.content_type == content_type, Flag.content_id == content_id)
    ).first()


def get_subject(
    session: Session, *, user: User, content_type: ContentType, content_id: int, lock: bool = False
) -> Subject:
    """The published content an officer wants to report; 403 for their own."""
    content = _published(session, content_type, content_id, lock=lock)
    if content.author_id == user.id:
        raise NotAllowed("You cannot report your own contribution. You can change or withdraw it yourself.")
    supplier = session.get(Supplier, content.supplier_id)
    assert supplier is not None
    already = _existing(session, user=user, content_type=content_type, content_id=content_id) is not None
    return Subject(content_type, content, supplier, already)


def create_flag(
    session: Session, *, user: User, content_type: ContentType, content_id: int, reason: str, message: str = ""
) -> Flag:
    """Record one officer's report and add its score to the content's one open queue item."""
    subject = get_subject(session, user=user, content_type=content_type, content_id=content_id, lock=True)
    errors: dict[str, str] = {}
    chosen = REASONS.get(reason)
    text = clean_text(message or "").strip()
    if subject.already_reported:
        errors["reason"] = ALREADY_REPORTED
    elif chosen is None:
        errors["reason"] = "Select why you are reporting this"
    elif chosen.message_required and not text:
        errors["message"] = "Tell us what is wrong, so that a moderator can check it"
    if len(text) > MESSAGE_LIMIT:
        errors["message"] = f"Your message must be {MESSAGE_LIMIT:,} characters or fewer (it has {len(text):,})"
    if errors:
        raise InvalidInput(errors)
    assert chosen is not None
    limiter.hit(f"flag:{user.id}", limit=RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS, message=RATE_LIMIT_MESSAGE)
    item = _add_to_queue(session, content=subject.content, reason=chosen)
    flag = Flag(
        item_id=item.id,
        content_type=content_type,
        content_id=content_id,
        user_id=user.id or 0,
        reason=reason,
        message=text or None,
    )
    session.add(flag)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="flagged",
        entity_type=content_type.value,
        entity_id=content_id,
        from_state=subject.content.status.value,
        to_state=subject.content.status.value,
        detail={"item": item.id, "flag": flag.id, "reason": reason, "score": chosen.score},
    )
    session.commit()
    session.refresh(flag)
    return flag


def _add_to_queue(session: Session, *, content: Contribution, reason: Reason) -> ModerationItem:
    """One open item per content: a new one for the first report, otherwise the open one's score grows."""
    content_type = content_type_of(content)
    item = open_item_for(session, content_type=content_type, content_id=content.id or 0)
    if item is None:
        item = ModerationItem(
            content_type=content_type, content_id=content.id or 0, source="flags", severity=reason.severity
        )
    else:
        item.version += 1  # a page showing the item before this report is out of date
        if SEVERITY_ORDER.index(reason.severity) > SEVERITY_ORDER.index(item.severity):
            item.severity = reason.severity
    item.score += reason.score
    session.add(item)
    session.flush()
    return item


@dataclass
class FlagSummary:
    """An item's open reports as a moderator sees them: counts per reason and each message."""

    flags: list[Flag]

    @property
    def counts(self) -> list[tuple[str, int]]:
        counter = Counter(f.reason for f in self.flags)
        return [(REASONS[r].label if r in REASONS else r, n) for r, n in counter.most_common()]

    @property
    def score(self) -> int:
        return sum(REASONS[f.reason].score for f in self.flags if f.reason in REASONS)


def open_flags(session: Session, *, item_ids: list[int]) -> dict[int, list[Flag]]:
    """The unresolved reports on each of these items, oldest first (one query)."""
    found: dict[int, list[Flag]] = {}
    if not item_ids:
        return found
    for flag in session.exec(
        select(Flag)
        .where(col(Flag.item_id).in_(item_ids), col(Flag.resolved_at).is_(None))
        .order_by(col(Flag.created_at), col(Flag.id))
    ).all():
        found.setdefault(flag.item_id or 0, []).append(flag)
    return found


def item_flags(session: Session, *, item_id: int) -> list[Flag]:
    """Every report on one item, resolved or not, oldest first."""
    return list(
        session.exec(select(Flag).where(Flag.item_id == item_id).order_by(col(Flag.created_at), col(Flag.id))).all()
    )


def resolve(session: Session, *, flags: list[Flag], outcome: str) -> None:
    """Close reports as agreed or disagreed by a moderator (committed by the caller)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown flag outcome {outcome!r}")
    now = utcnow()
    for flag in flags:
        if flag.resolved_at is None:
            flag.resolved_at = now
            flag.outcome = outcome
            session.add(flag)
