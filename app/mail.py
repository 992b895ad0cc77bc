"""Outgoing mail: every message is written to the mail outbox in the caller's transaction, then delivered.

By default delivery is the outbox itself plus a line in the log (the development outbox is at /dev/mail).
With SMTP_HOST set, delivery goes through that server; a message that fails stays undelivered for a retry.
"""

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from sqlmodel import Session, col, select

from app.config import Settings
from app.models import MailOutbox, utcnow

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500


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
        email = EmailMessage()
        email["From"] = self.settings.MAIL_FROM
        email["To"] = message.to_address
        email["Subject"] = message.subject
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        host, port = self.settings.SMTP_HOST or "localhost", self.settings.SMTP_PORT
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            if port != 25 and smtp.has_extn("starttls"):
                smtp.starttls()
            if self.settings.SMTP_USER:
                smtp.login(self.settings.SMTP_USER, self.settings.SMTP_PASSWORD or "")
            smtp.send_message(email)


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.SMTP_HOST else OutboxMailer(settings)


def queue_mail(
    session: Session, *, to: str, subject: str, body_text: str, kind: str, body_html: str | None = None
) -> MailOutbox:
    """Add a message to the outbox; it is sent by `deliver_queued` after the caller commits."""
    message = MailOutbox(to_address=to, subject=subject, body_text=body_text, body_html=body_html, kind=kind)
    session.add(message)
    return message


def deliver_queued(session: Session, mailer: Mailer, *, limit: int = 50) -> int:
    """Deliver undelivered messages, oldest first; return how many were delivered."""
    pending = session.exec(
        select(MailOutbox).where(col(MailOutbox.sent_at).is_(None)).order_by(col(MailOutbox.id)).limit(limit)
    ).all()
    delivered = 0
    for message in pending:
        message.attempts += 1
        try:
            mailer.deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            message.last_error = str(error)[:MAX_ERROR_LENGTH]
            log.warning("Mail #%s not delivered (attempt %s): %s", message.id, message.attempts, error)
        else:
            message.sent_at = utcnow()
            message.last_error = None
            delivered += 1
        session.add(message)
        session.commit()
    return delivered


def list_recent(session: Session, *, limit: int = 50) -> list[MailOutbox]:
    """The newest messages first, for the development outbox page."""
    return list(session.exec(select(MailOutbox).order_by(col(MailOutbox.id).desc()).limit(limit)).all())
