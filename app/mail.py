"""Outgoing mail: every message is written to the mail outbox in the caller's transaction, then delivered.

By default delivery is the outbox itself plus a line in the log (the development outbox is at /dev/mail).
With SMTP_HOST set, delivery goes through that server, and nothing is lost while it is down:

- Each attempt is claimed in the database before the message is sent (attempts + 1, `next_attempt_at` pushed
  back), so two processes never send the same message and a message that just failed is not retried at once.
- The wait doubles after each failed attempt (1, 2, 4 ... minutes, at most 4 hours); after `MAX_ATTEMPTS` the
  message is given up: kept, with the reason in `last_error`, and logged as an error.
- `deliver_queued` runs after each request that queues mail, so it must stay quick when the server is down: a short
  SMTP timeout, and the first failure ends the batch. `supplier-intel send-mail` (from a timer) sends the rest.

Every message goes out with a plain-text part and an HTML part in the shared layout (templates/mail/).
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

from markupsafe import Markup
from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.config import Settings
from app.models import MailOutbox, utcnow
from app.templating import SERVICE_NAME, environment

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500
MAX_ATTEMPTS = 10
FIRST_RETRY_DELAY = timedelta(minutes=1)
LONGEST_RETRY_DELAY = timedelta(hours=4)
SMTP_TIMEOUT_SECONDS = 5
BATCH_SIZE = 50
FOOTER = f"You get this email because you use {SERVICE_NAME}."
GIVE_UP_PREFIX = "Gave up"


class Mailer(Protocol):
    def deliver(self, message: MailOutbox) -> None: ...


class OutboxMailer:
    """Keeps mail in the outbox table and writes it to the log: the embedded default."""

    def __init__(self, settings: Settings) -> None:
        self.log_bodies = settings.is_development

    def deliver(self, message: MailOutbox) -> None:
        log.info("Mail #%s to %s: %s", message.id, message.to_address, message.subject)
        if self.log_bodies:
            # Development only: the body can hold a sign-in link.
            log.info("Mail #%s body:\n%s", message.id, message.body_text)


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def deliver(self, message: MailOutbox) -> None:
        email = build_email(message, sender=self.settings.MAIL_FROM)
        host, port = self.settings.SMTP_HOST or "localhost", self.settings.SMTP_PORT
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if port != 25 and smtp.has_extn("starttls"):
                smtp.starttls()
            if self.settings.SMTP_USER:
                smtp.login(self.settings.SMTP_USER, self.settings.SMTP_PASSWORD or "")
            smtp.send_message(email)


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.SMTP_HOST else OutboxMailer(settings)


def build_email(message: MailOutbox, *, sender: str) -> EmailMessage:
    """The email for an outbox message: a plain-text part and an HTML alternative, both with the footer."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    # The same id on every attempt, so a copy sent twice (a crash between sending and recording) reads as one.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<mail-{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    email.set_content(f"{message.body_text.rstrip()}\n\n-- \n{FOOTER}\n")
    email.add_alternative(render_html(message), subtype="html")
    return email


def render_html(message: MailOutbox) -> str:
    """The HTML part: the message's own HTML, or its text escaped into paragraphs with clickable links."""
    paragraphs = [block.strip().splitlines() for block in message.body_text.replace("\r\n", "\n").split("\n\n")]
    return environment.get_template("mail/message.html").render(
        subject=message.subject,
        # body_html is written by our own code (never by users), so it is trusted as HTML.
        body_html=Markup(message.body_html) if message.body_html else None,
        paragraphs=[lines for lines in paragraphs if lines],
        footer=FOOTER,
    )


def queue_mail(
    session: Session, *, to: str, subject: str, body_text: str, kind: str, body_html: str | None = None
) -> MailOutbox:
    """Add a message to the outbox; it is sent by `deliver_queued` after the caller commits.

    `body_html`, if given, is the inside of the shared layout (trusted HTML); without it the HTML part is made from
    `body_text`.
    """
    message = MailOutbox(to_address=to, subject=subject, body_text=body_text, body_html=body_html, kind=kind)
    session.add(message)
    return message


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts: doubling from a minute, at most four hours."""
    return min(FIRST_RETRY_DELAY * 2 ** max(attempts - 1, 0), LONGEST_RETRY_DELAY)


def deliver_queued(session: Session, mailer: Mailer, *, limit: int = BATCH_SIZE) -> int:
    """Deliver the messages that are due, oldest first, until one fails; return how many were delivered."""
    due = session.exec(_undelivered().where(_is_due(utcnow())).order_by(col(MailOutbox.id)).limit(limit)).all()
    delivered = 0
    for message in due:
        if not _claim_attempt(session, message):
            continue  # another process is delivering it
        try:
            mailer.deliver(message)
        except (OSError, smtplib.SMTPException, ValueError) as error:  # ValueError: a header email refuses
            _record_failure(session, message, error)
            break  # most likely the server is down: the rest wait rather than each time out
        message.sent_at = utcnow()
        message.last_error = None
        session.add(message)
        session.commit()
        delivered += 1
    return delivered


def count_waiting(session: Session) -> int:
    """How many messages are not delivered yet but will be tried again (now or later)."""
    return session.exec(select(func.count()).select_from(_undelivered().subquery())).one()


def count_given_up(session: Session) -> int:
    """How many messages failed `MAX_ATTEMPTS` times and are no longer tried."""
    query = select(func.count()).where(col(MailOutbox.sent_at).is_(None), col(MailOutbox.attempts) >= MAX_ATTEMPTS)
    return session.exec(query).one()


def list_recent(session: Session, *, limit: int = 50) -> list[MailOutbox]:
    """The newest messages first, for the development outbox page."""
    return list(session.exec(select(MailOutbox).order_by(col(MailOutbox.id).desc()).limit(limit)).all())


def _undelivered() -> SelectOfScalar[MailOutbox]:
    return select(MailOutbox).where(col(MailOutbox.sent_at).is_(None), col(MailOutbox.attempts) < MAX_ATTEMPTS)


def _is_due(now: datetime) -> ColumnElement[bool]:
    return col(MailOutbox.next_attempt_at).is_(None) | (col(MailOutbox.next_attempt_at) <= now)


def _claim_attempt(session: Session, message: MailOutbox) -> bool:
    """Count the attempt and schedule the next one before sending; False if another process got there first."""
    attempts = message.attempts + 1
    claimed = session.execute(
        update(MailOutbox)
        .where(
            col(MailOutbox.id) == message.id,
            col(MailOutbox.sent_at).is_(None),
            col(MailOutbox.attempts) == message.attempts,
        )
        .values(attempts=attempts, next_attempt_at=utcnow() + retry_delay(attempts))
    )
    session.commit()
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _record_failure(session: Session, message: MailOutbox, error: Exception) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        message.last_error = f"{GIVE_UP_PREFIX} after {message.attempts} attempts: {error}"[:MAX_ERROR_LENGTH]
        log.error("Mail #%s to %s given up: %s", message.id, message.to_address, message.last_error)
    else:
        message.last_error = str(error)[:MAX_ERROR_LENGTH]
        log.warning(
            "Mail #%s not delivered (attempt %s of %s, next at %s): %s",
            message.id,
            message.attempts,
            MAX_ATTEMPTS,
            message.next_attempt_at,
            error,
        )
    session.add(message)
    session.commit()
