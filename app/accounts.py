"""Who may sign in, and how: one-time links to council work email addresses, sessions and API tokens.

A council email domain is proof of employment only when it is an exact council domain (or a subdomain of one)
from the reference data. Wildcards such as `*.gov.uk` never count.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import contacts, security
from app.config import Settings
from app.errors import InvalidInput, NotFound
from app.mail import queue_mail
from app.models import Council, CouncilDomain, Role, SignInToken, User, UserSession, utcnow

SESSION_COOKIE = "si_session"
SESSION_MAX_AGE = int(security.SESSION_LIFETIME.total_seconds())

GENERIC_GOVERNMENT_DOMAINS = {"gov.uk", "gov.scot", "gov.wales", "llyw.cymru", "nhs.uk", "nhs.net", "police.uk"}


@dataclass(frozen=True)
class SignInLink:
    url: str
    email: str
    council: Council


def normalise_email(raw: str) -> str:
    """Validate an email address's syntax and return it in lower case, or raise InvalidInput."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput({"email": "Enter your council work email address"})
    if len(text) > 254:
        raise InvalidInput({"email": "Email address must be 254 characters or fewer"})
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(
            {"email": "Enter an email address in the correct format, like name@yourcouncil.gov.uk"}
        ) from None
    return checked.normalized.lower()


def council_for_email(session: Session, email: str) -> Council:
    """The council whose email domain the address belongs to; raise InvalidInput with the reason if none."""
    domain = email.rsplit("@", 1)[1]
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    rows = session.exec(
        select(CouncilDomain, Council)
        .join(Council, col(Council.id) == col(CouncilDomain.council_id))
        .where(col(CouncilDomain.domain).in_(candidates))
    ).all()
    if rows:
        # The most specific domain wins (a district's own domain over a county's).
        _, council = max(rows, key=lambda row: len(row[0].domain))
        return council
    if domain in GENERIC_GOVERNMENT_DOMAINS or any(domain.endswith("." + g) for g in GENERIC_GOVERNMENT_DOMAINS):
        message = (
            f"{domain} is not the email domain of a UK council. A government address alone does not show "
            "that you work for a council: use your council work email address"
        )
    else:
        message = (
            f"{domain} is not the email domain of a UK council. Sign in with your council work email "
            "address, like name@yourcouncil.gov.uk"
        )
    raise InvalidInput({"email": message})


def request_sign_in(session: Session, *, raw_email: str, settings: Settings, next_path: str = "") -> SignInLink:
    """Check the address, record a single-use token and queue the email with the sign-in link."""
    link = create_sign_in_link(session, raw_email=raw_email, settings=settings, next_path=next_path)
    queue_mail(
        session,
        to=link.email,
        subject="Your sign-in link for Supplier Intelligence Exchange",
        body_text=(
            f"Use this link to sign in to Supplier Intelligence Exchange as an officer of {link.council.name}:\n\n"
            f"{link.url}\n\n"
            "The link works once, for 15 minutes. If you did not ask to sign in, you can ignore this email.\n"
        ),
        kind="sign_in",
    )
    session.commit()
    return link


def create_sign_in_link(session: Session, *, raw_email: str, settings: Settings, next_path: str = "") -> SignInLink:
    """Record a single-use sign-in token for a council address and return its link (no email is sent)."""
    email = normalise_email(raw_email)
    council = council_for_email(session, email)
    token, claims = security.create_token(
        secret=settings.SECRET_KEY,
        audience=security.SIGN_IN_AUDIENCE,
        subject=email,
        lifetime=security.SIGN_IN_LIFETIME,
    )
    session.add(SignInToken(jti=claims.token_id, email=email, expires_at=claims.expires_at))
    session.flush()
    url = f"{settings.BASE_URL}/sign-in/{token}"
    if next_path:
        url += "?" + urlencode({"next": next_path})
    return SignInLink(url=url, email=email, council=council)


SIGN_IN_LINK_PROBLEM = (
    "This sign-in link has expired or has already been used. Links work once, for 15 minutes: ask for a new one."
)


def check_sign_in_token(session: Session, *, token: str, settings: Settings) -> SignInToken:
    """The unused token record behind a sign-in link, or InvalidInput saying the link cannot be used."""
    try:
        claims = security.read_token(token, secret=settings.SECRET_KEY, audience=security.SIGN_IN_AUDIENCE)
    except security.InvalidToken:
        raise InvalidInput({"token": SIGN_IN_LINK_PROBLEM}) from None
    record = session.get(SignInToken, claims.token_id)
    if record is None or record.used_at is not None or record.email != claims.subject:
        raise InvalidInput({"token": SIGN_IN_LINK_PROBLEM})
    return record


def complete_sign_in(session: Session, *, token: str, settings: Settings) -> tuple[User, str]:
    """Use a sign-in link once: find or create the officer and start a session; return it as a cookie value."""
    record = check_sign_in_token(session, token=token, settings=settings)
    # Mark the token used in the same statement that checks it, so two clicks cannot both succeed.
    used = session.execute(
        update(SignInToken)
        .where(col(SignInToken.jti) == record.jti, col(SignInToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput({"token": SIGN_IN_LINK_PROBLEM})
    council = council_for_email(session, record.email)
    user = session.exec(select(User).where(User.email == record.email)).first()
    if user is None:
        user = User(email=record.email, council_id=council.id or 0, role=Role.officer)
    elif user.disabled:
        raise InvalidInput({"token": "This account has been closed. Contact the service team."})
    user.last_sign_in_at = utcnow()
    session.add(user)
    session.flush()
    cookie = start_session(session, user=user, settings=settings)
    session.commit()
    return user, cookie


def start_session(session: Session, *, user: User, settings: Settings) -> str:
    """Record a new session for `user` and return the signed cookie value naming it."""
    token, claims = security.create_token(
        secret=settings.SECRET_KEY,
        audience=security.SESSION_AUDIENCE,
        subject=str(user.id),
        lifetime=security.SESSION_LIFETIME,
    )
    assert user.id is not None
    session.add(UserSession(id=claims.token_id, user_id=user.id, expires_at=claims.expires_at))
    return token


def _live_session(session: Session, *, cookie: str, settings: Settings) -> UserSession | None:
    """The session record a cookie names, if the cookie is genuine and the session has not ended or expired."""
    try:
        claims = security.read_token(cookie, secret=settings.SECRET_KEY, audience=security.SESSION_AUDIENCE)
    except security.InvalidToken:
        return None
    record = session.get(UserSession, claims.token_id)
    if record is None or record.ended_at is not None or record.expires_at <= utcnow():
        return None
    return record


def user_for_session(session: Session, *, cookie: str, settings: Settings) -> User | None:
    """The signed-in user behind a session cookie, or None if it is invalid, expired or ended."""
    record = _live_session(session, cookie=cookie, settings=settings)
    user = session.get(User, record.user_id) if record else None
    if user is None or user.disabled:
        return None
    return user


def end_session(session: Session, *, cookie: str, settings: Settings) -> None:
    """Sign out: the session cookie stops working even if someone kept a copy."""
    record = _live_session(session, cookie=cookie, settings=settings)
    if record is not None:
        record.ended_at = utcnow()
        session.add(record)
        session.commit()


def issue_api_token(session: Session, *, email: str, settings: Settings) -> str:
    """A bearer token for the JSON API, valid for 90 days, for an existing user."""
    user = get_user_by_email(session, email=email)
    token, _ = security.create_token(
        secret=settings.SECRET_KEY,
        audience=security.API_AUDIENCE,
        subject=str(user.id),
        lifetime=security.API_TOKEN_LIFETIME,
    )
    return token


def user_for_api_token(session: Session, *, token: str, settings: Settings) -> User | None:
    """The user a bearer token was issued to, or None if the token is invalid."""
    try:
        claims = security.read_token(token, secret=settings.SECRET_KEY, audience=security.API_AUDIENCE)
    except security.InvalidToken:
        return None
    user = session.get(User, int(claims.subject)) if claims.subject.isdigit() else None
    if user is None or user.disabled:
        return None
    return user


def get_user_by_email(session: Session, *, email: str) -> User:
    """The user with this email address, or NotFound."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user has the email address {email}. Create one with: supplier-intel create-user")
    return user


def create_user(session: Session, *, raw_email: str, role: Role, name: str | None = None) -> User:
    """Create a user (or change the role of an existing one); the council comes from the email domain."""
    email = normalise_email(raw_email)
    council = council_for_email(session, email)
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, council_id=council.id or 0, role=role, name=name)
    else:
        user.role = role
        user.name = name or user.name
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def update_profile(session: Session, *, user: User, name: str, job_title: str, open_to_contact: bool) -> User:
    """Save the officer's name, job title and whether peers may ask to contact them."""
    errors = {}
    name, job_title = name.strip(), job_title.strip()
    if not name:
        errors["name"] = "Enter your full name"
    elif len(name) > 200:
        errors["name"] = "Full name must be 200 characters or fewer"
    if not job_title:
        errors["job_title"] = "Enter your job title"
    elif len(job_title) > 200:
        errors["job_title"] = "Job title must be 200 characters or fewer"
    if errors:
        raise InvalidInput(errors)
    if user.open_to_contact and not open_to_contact:
        contacts.decline_all_pending(session, peer=user)
    user.name, user.job_title, user.open_to_contact = name, job_title, open_to_contact
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def council_of(session: Session, user: User) -> Council:
    council = session.get(Council, user.council_id)
    assert council is not None
    return council
