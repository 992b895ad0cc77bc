"""Peer contact by double opt-in: an officer asks to be put in touch with the author of a review or pilot.

Policy (`design/product.md`, "Peer contact"):

- Nothing identifying the peer (name, email, job title beyond the role shown on the item) reaches the requester,
  on a page, in the API or by email, until the peer accepts. Views of a request are built here, and the peer's
  `User` row is read for the requester only when the request is accepted.
- The peer sees the requester's job title, council and message, and answers on the site or by a signed link in
  the email. A link only shows a confirmation page; the answer is a POST, so mail scanners cannot act on it, and
  it works only while the request is pending, so it is single use.
- A request nobody answers expires after 14 days: by `supplier-intel expire-contacts`, and on any read.
- Guards: 5 pending requests per requester, one pending request per requester, peer and item, none to yourself,
  none to an officer who is not open to contact, 10 attempts an hour. Every step goes in the audit log.
- Messages are screened like any free text: personal data or allegations are refused with the screening advice;
  commercial terms are allowed, since asking what a peer paid is a reason to get in touch.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from app import audit, security
from app.config import Settings
from app.contributions import get_readable
from app.errors import InvalidInput, NotAllowed, NotFound
from app.mail import queue_mail
from app.models import (
    ContactRequest,
    ContactStatus,
    ContentType,
    Council,
    Pilot,
    Review,
    Supplier,
    User,
    utcnow,
)
from app.moderation import screening
from app.moderation.sanitize import clean_text
from app.ratelimit import limiter

LIFETIME = timedelta(days=14)
MAX_PENDING = 5
MESSAGE_LIMIT = 1000
RATE_LIMIT = 10  # attempts per hour per requester
RATE_WINDOW_SECONDS = 3600
ENTITY = "contact_request"
REFUSED_CATEGORIES = (screening.PERSONAL_DATA, screening.LEGAL_RISK)

RATE_LIMIT_MESSAGE = "You have sent too many contact requests. Wait an hour, then try again."
NOT_OPEN_MESSAGE = "The officer who wrote this is not taking contact requests at the moment."
SELF_MESSAGE = "You wrote this yourself, so you cannot ask to be put in touch about it."
LINK_PROBLEM = "This link no longer works: the request has already been answered, or has expired."


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- what each side may see ----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """An officer's contact details, shared only once a request is accepted."""

    name: str
    job_title: str
    council: str
    email: str


@dataclass(frozen=True)
class ContactView:
    """One request as one of its two parties (or a moderator) may see it."""

    id: int
    status: ContactStatus
    about_type: ContentType
    about_id: int
    about: str  # "Review of Fenwick Ledger Systems: A review"
    supplier_slug: str
    author: str  # the item's author as the item shows them: role and council
    requester_role: str
    requester_council: str
    message: str
    peer_note: str | None
    created_at: datetime
    expires_at: datetime
    incoming: bool  # the viewer is the peer
    requester: Person | None  # for the peer once accepted (and for moderators)
    peer: Person | None  # for the requester once accepted (and for moderators)

    @property
    def is_pending(self) -> bool:
        return self.status == ContactStatus.pending


@dataclass(frozen=True)
class ContactLists:
    incoming: list[ContactView]
    outgoing: list[ContactView]


def _council_name(session: Session, council_id: int) -> str:
    council = session.get(Council, council_id)
    return council.name if council else ""


def _person(session: Session, user: User) -> Person:
    return Person(
        name=user.name or "Name not given",
        job_title=user.job_title or "Job title not given",
        council=_council_name(session, user.council_id),
        email=user.email,
    )


def _item(session: Session, request: ContactRequest) -> Review | Pilot | None:
    if request.about_type == ContentType.review:
        return session.get(Review, request.about_id)
    return session.get(Pilot, request.about_id)


def _view(session: Session, request: ContactRequest, *, viewer: User | None) -> ContactView:
    """The request as `viewer` sees it; `viewer=None` is a moderator, who sees both parties."""
    assert request.id is not None
    item = _item(session, request)
    supplier = session.get(Supplier, item.supplier_id) if item else None
    requester = session.get(User, request.requester_id)
    assert requester is not None
    label = "Review" if request.about_type == ContentType.review else "Pilot"
    title = (item.headline if isinstance(item, Review) else item.title) if item else None
    about = f"{label} of {supplier.name if supplier else 'a supplier'}" + (f": {title}" if title else "")
    accepted = request.status == ContactStatus.accepted
    incoming = viewer is not None and viewer.id == request.peer_id
    peer: Person | None = None
    if viewer is None or (accepted and not incoming):
        # The only place the peer's own record is read for the requester: after they accepted.
        peer_user = session.get(User, request.peer_id)
        assert peer_user is not None
        peer = _person(session, peer_user)
    return ContactView(
        id=request.id,
        status=request.status,
        about_type=request.about_type,
        about_id=request.about_id,
        about=about,
        supplier_slug=supplier.slug if supplier else "",
        author=f"{item.author_role}, {_council_name(session, item.council_id)}" if item else "",
        requester_role=requester.job_title or "An officer",
        requester_council=_council_name(session, requester.council_id),
        message=request.message,
        peer_note=request.peer_note if accepted else None,
        created_at=request.created_at,
        expires_at=_aware(request.expires_at),
        incoming=incoming,
        requester=_person(session, requester) if viewer is None or (accepted and incoming) else None,
        peer=peer,
    )


# --- expiry --------------------------------------------------------------------------------------


def _expire(session: Session, request: ContactRequest, *, settings: Settings | None = None) -> None:
    request.status = ContactStatus.expired
    request.decided_at = utcnow()
    session.add(request)
    audit.record(
        session,
        actor=None,
        action="contact_expired",
        entity_type=ENTITY,
        entity_id=request.id or 0,
        from_state=ContactStatus.pending.value,
        to_state=ContactStatus.expired.value,
    )
    requester = session.get(User, request.requester_id)
    if requester is not None:
        queue_mail(
            session,
            to=requester.email,
            subject="Your contact request has expired",
            body_text=(
                "Your request to be put in touch with a peer had no answer within 14 days, so it has expired.\n\n"
                "You can see your requests under Contact requests in Supplier Intelligence Exchange.\n"
            ),
            kind="contact_expired",
        )


def expire_overdue(session: Session) -> int:
    """Mark every pending request past its expiry date as expired, telling each requester; return how many."""
    overdue = session.exec(
        select(ContactRequest).where(
            ContactRequest.status == ContactStatus.pending, col(ContactRequest.expires_at) <= utcnow()
        )
    ).all()
    for request in overdue:
        _expire(session, request)
    if overdue:
        session.commit()
    return len(overdue)


# --- asking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a request would be about: the published item, shown as the item shows its author."""

    about_type: ContentType
    about_id: int
    about: str
    author: str
    peer_id: int


def parse_about_type(raw: str) -> ContentType:
    try:
        return ContentType(raw)
    except ValueError:
        raise NotFound("There is no review or pilot at this address.") from None


def get_subject(session: Session, *, requester: User, about_type: ContentType, about_id: int) -> Subject:
    """The item a request would be about, or an error saying why its author cannot be asked."""
    if about_type not in (ContentType.review, ContentType.pilot):
        raise NotFound("There is no review or pilot at this address.")
    found = get_readable(session, reader=requester, content_type=about_type, content_id=about_id)
    item = found.content
    if item.author_id == requester.id:
        raise NotAllowed(SELF_MESSAGE)
    peer = session.get(User, item.author_id)
    open_item = item.open_to_contact if isinstance(item, Pilot) else True
    if peer is None or peer.disabled or not peer.open_to_contact or not open_item:
        raise NotAllowed(NOT_OPEN_MESSAGE)
    label = "Review" if about_type == ContentType.review else "Pilot"
    title = item.headline if isinstance(item, Review) else item.title
    return Subject(
        about_type=about_type,
        about_id=about_id,
        about=f"{label} of {found.supplier.name}" + (f": {title}" if title else ""),
        author=f"{item.author_role}, {found.council.name}",
        peer_id=peer.id or 0,
    )


def _clean_message(raw: str, *, session: Session) -> str:
    text = clean_text(raw or "")
    if not text:
        raise InvalidInput({"message": "Enter what you would like to learn from them"})
    if len(text) > MESSAGE_LIMIT:
        raise InvalidInput({"message": f"Message must be {MESSAGE_LIMIT:,} characters or fewer (it has {len(text):,})"})
    hits = screening.screen_fields({"message": text}, allowlist=screening.load_allowlist(session))
    refused = [hit for hit in hits if hit.category in REFUSED_CATEGORIES]
    if refused:
        found = text[refused[0].start : refused[0].end]
        raise InvalidInput({"message": f"“{found}”: {refused[0].message}"})
    return text


def _decision_link(settings: Settings, request: ContactRequest, action: str) -> str:
    token, _ = security.create_token(
        secret=settings.SECRET_KEY,
        audience=security.CONTACT_DECISION_AUDIENCE,
        subject=f"{request.id}:{action}",
        lifetime=LIFETIME,
    )
    return f"{settings.BASE_URL}/contacts/decide/{token}"


def create_request(
    session: Session, *, requester: User, about_type: ContentType, about_id: int, message: str, settings: Settings
) -> tuple[ContactRequest, bool]:
    """Ask the author of a published item to be put in touch; return the request and whether it is new.

    A repeat of a pending request returns that request and sends nothing.
    """
    limiter.hit(
        f"contact-request:{requester.id}",
        limit=RATE_LIMIT,
        window_seconds=RATE_WINDOW_SECONDS,
        message=RATE_LIMIT_MESSAGE,
    )
    expire_overdue(session)
    subject = get_subject(session, requester=requester, about_type=about_type, about_id=about_id)
    existing = session.exec(
        select(ContactRequest).where(
            ContactRequest.requester_id == requester.id,
            ContactRequest.peer_id == subject.peer_id,
            ContactRequest.about_type == about_type,
            ContactRequest.about_id == about_id,
            ContactRequest.status == ContactStatus.pending,
        )
    ).first()
    if existing is not None:
        return existing, False
    text = _clean_message(message, session=session)
    pending = session.exec(
        select(func.count())
        .select_from(ContactRequest)
        .where(ContactRequest.requester_id == requester.id, ContactRequest.status == ContactStatus.pending)
    ).one()
    if pending >= MAX_PENDING:
        raise InvalidInput(
            {
                "message": f"You already have {MAX_PENDING} contact requests waiting for an answer. "
                "Wait for an answer, or for one to expire, before you send another"
            }
        )
    request = ContactRequest(
        requester_id=requester.id or 0,
        peer_id=subject.peer_id,
        about_type=about_type,
        about_id=about_id,
        message=text,
        expires_at=utcnow() + LIFETIME,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=requester,
        action="contact_requested",
        entity_type=ENTITY,
        entity_id=request.id or 0,
        to_state=ContactStatus.pending.value,
    )
    peer = session.get(User, subject.peer_id)
    assert peer is not None
    role = requester.job_title or "An officer"
    council = _council_name(session, requester.council_id)
    queue_mail(
        session,
        to=peer.email,
        subject="A peer would like to be put in touch with you",
        body_text=(
            f"{role} at {council} would like to be put in touch with you about your {subject.about.lower()}.\n\n"
            f"Their message:\n\n{text}\n\n"
            "If you accept, you will both get each other's name, job title, council and work email address. "
            "If you decline, they will only see that the request was declined. Nothing about you has been shared.\n\n"
            f"Accept: {_decision_link(settings, request, 'accept')}\n\n"
            f"Decline: {_decision_link(settings, request, 'decline')}\n\n"
            f"You can also answer under Contact requests: {settings.BASE_URL}/account/contacts\n"
            "The request expires in 14 days if you do not answer.\n\n"
            "To stop getting contact requests, untick peer contact in your details: "
            f"{settings.BASE_URL}/account/profile\n"
        ),
        kind="contact_request",
    )
    session.commit()
    session.refresh(request)
    return request, True


# --- reading ---------------------------------------------------------------------------------------


def list_for_user(session: Session, *, user: User) -> ContactLists:
    """The officer's requests: those made to them and those they made, newest first."""
    expire_overdue(session)
    rows = session.exec(
        select(ContactRequest)
        .where((ContactRequest.peer_id == user.id) | (ContactRequest.requester_id == user.id))
        .order_by(col(ContactRequest.id).desc())
    ).all()
    views = [_view(session, row, viewer=user) for row in rows]
    return ContactLists(incoming=[v for v in views if v.incoming], outgoing=[v for v in views if not v.incoming])


def _get(session: Session, request_id: int) -> ContactRequest:
    expire_overdue(session)
    request = session.get(ContactRequest, request_id)
    if request is None:
        raise NotFound("There is no contact request at this address.")
    return request


def get_request(session: Session, *, user: User, request_id: int) -> ContactView:
    """One request, for one of its two parties only (NotFound for anyone else, moderators included)."""
    request = _get(session, request_id)
    if user.id not in (request.requester_id, request.peer_id):
        raise NotFound("There is no contact request at this address.")
    return _view(session, request, viewer=user)


def view_as_moderator(session: Session, *, moderator: User, request_id: int) -> ContactView:
    """A request with both parties, for a moderator handling abuse; the view is audited."""
    request = _get(session, request_id)
    audit.record(
        session,
        actor=moderator,
        action="contact_viewed_by_moderator",
        entity_type=ENTITY,
        entity_id=request_id,
    )
    session.commit()
    return _view(session, request, viewer=None)


# --- answering -------------------------------------------------------------------------------------


def _answer(session: Session, request: ContactRequest, *, peer: User, accept: bool, note: str, reason: str) -> None:
    """Record the peer's answer and queue the emails (the caller commits)."""
    requester = session.get(User, request.requester_id)
    assert requester is not None
    before = request.status
    request.status = ContactStatus.accepted if accept else ContactStatus.declined
    request.decided_at = utcnow()
    request.peer_note = note or None if accept else None
    session.add(request)
    audit.record(
        session,
        actor=peer,
        action="contact_accepted" if accept else "contact_declined",
        entity_type=ENTITY,
        entity_id=request.id or 0,
        from_state=before.value,
        to_state=request.status.value,
        detail={"reason": reason} if reason else None,
    )
    if not accept:
        queue_mail(
            session,
            to=requester.email,
            subject="Your contact request was declined",
            body_text=(
                "Thank you for your contact request. It was declined.\n\n"
                "You can see your requests under Contact requests in Supplier Intelligence Exchange.\n"
            ),
            kind="contact_declined",
        )
        return
    them, you = _person(session, peer), _person(session, requester)

    def details(person: Person) -> str:
        return f"Name: {person.name}\nJob title: {person.job_title}\nCouncil: {person.council}\nEmail: {person.email}\n"

    note_text = f"\nTheir note:\n\n{request.peer_note}\n" if request.peer_note else ""
    queue_mail(
        session,
        to=requester.email,
        subject="Your contact request was accepted",
        body_text=f"Your contact request was accepted. You can now get in touch:\n\n{details(them)}{note_text}",
        kind="contact_accepted",
    )
    queue_mail(
        session,
        to=peer.email,
        subject="You accepted a contact request",
        body_text=f"You accepted a contact request. Here are their details:\n\n{details(you)}",
        kind="contact_accepted",
    )


def decide(session: Session, *, peer: User, request_id: int, accept: bool, note: str = "") -> ContactView:
    """The peer accepts (with an optional note) or declines a pending request."""
    request = _get(session, request_id)
    if request.peer_id != peer.id:
        if request.requester_id == peer.id:
            raise NotAllowed("Only the officer you asked can answer this request.")
        raise NotFound("There is no contact request at this address.")
    if request.status != ContactStatus.pending:
        raise InvalidInput({"request": f"This request has already been {request.status.value}."})
    clean_note = clean_text(note or "")
    if len(clean_note) > MESSAGE_LIMIT:
        raise InvalidInput({"note": f"Note must be {MESSAGE_LIMIT:,} characters or fewer"})
    _answer(session, request, peer=peer, accept=accept, note=clean_note, reason="")
    session.commit()
    session.refresh(request)
    return _view(session, request, viewer=peer)


@dataclass(frozen=True)
class LinkDecision:
    view: ContactView
    accept: bool
    peer: User


def check_decision_token(session: Session, *, token: str, settings: Settings) -> LinkDecision:
    """The pending request and the answer an emailed link stands for, or InvalidInput if it cannot be used."""
    try:
        claims = security.read_token(token, secret=settings.SECRET_KEY, audience=security.CONTACT_DECISION_AUDIENCE)
        raw_id, action = claims.subject.split(":", 1)
        request_id = int(raw_id)
    except (security.InvalidToken, ValueError):
        raise InvalidInput({"token": LINK_PROBLEM}) from None
    if action not in ("accept", "decline"):
        raise InvalidInput({"token": LINK_PROBLEM})
    expire_overdue(session)
    request = session.get(ContactRequest, request_id)
    if request is None or request.status != ContactStatus.pending:
        raise InvalidInput({"token": LINK_PROBLEM})
    peer = session.get(User, request.peer_id)
    assert peer is not None
    return LinkDecision(view=_view(session, request, viewer=peer), accept=action == "accept", peer=peer)


def decide_by_token(session: Session, *, token: str, settings: Settings, note: str = "") -> ContactView:
    """Answer a request from the emailed link: valid once, while the request is pending."""
    link = check_decision_token(session, token=token, settings=settings)
    return decide(session, peer=link.peer, request_id=link.view.id, accept=link.accept, note=note)


def decline_all_pending(session: Session, *, peer: User) -> int:
    """Politely decline every pending request to an officer who stopped taking them (the caller commits)."""
    pending = session.exec(
        select(ContactRequest).where(ContactRequest.peer_id == peer.id, ContactRequest.status == ContactStatus.pending)
    ).all()
    for request in pending:
        _answer(session, request, peer=peer, accept=False, note="", reason="not_open_to_contact")
    return len(pending)
