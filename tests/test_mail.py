"""Mail: the outbox by default, a real SMTP server when SMTP_HOST is set, nothing lost when it is down."""

import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import mail
from app.cli import cli
from app.config import get_settings
from app.mail import MAX_ATTEMPTS, SmtpMailer, deliver_queued, queue_mail
from app.models import MailOutbox, utcnow
from tests.factories import csrf
from tests.html import parse

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a local port, that a test can start late to play a server coming back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[attr-defined,arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """SMTP_HOST points at this server, which is down until the test starts it."""
    server = SmtpServer()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp: SmtpServer) -> SmtpServer:
    smtp.start()
    return smtp


class Clock:
    """The time the mail module sees, moved forward by the test instead of waiting."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(mail, "utcnow", lambda: self.now)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def outbox(session: Session) -> list[MailOutbox]:
    session.expire_all()
    return list(session.exec(select(MailOutbox).order_by(col(MailOutbox.id))).all())


def queue(session: Session, count: int = 1) -> None:
    for number in range(count):
        queue_mail(session, to=f"a{number}@harrow.gov.uk", subject="Hello", body_text="Hello.", kind="test")
    session.commit()


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return str(part.get_content())  # type: ignore[attr-defined]


def test_sign_in_mail_goes_to_the_outbox_by_default(client: TestClient, session: Session) -> None:
    client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    message = session.exec(select(MailOutbox)).one()
    assert message.kind == "sign_in" and message.sent_at is not None and message.attempts == 1


def test_sign_in_mail_is_sent_through_smtp_when_configured(
    client: TestClient, session: Session, smtp_server: SmtpServer
) -> None:
    response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    assert response.status_code == 200
    [received] = smtp_server.messages
    assert received["To"] == "a@harrow.gov.uk"
    assert received["Subject"] == "Your sign-in link for Supplier Intelligence Exchange"
    assert "http://testserver/sign-in/" in text_of(received, "plain")
    link = parse(text_of(received, "html")).find("a")
    assert link is not None and str(link["href"]).startswith("http://testserver/sign-in/")
    assert session.exec(select(MailOutbox)).one().sent_at is not None


def test_every_mail_has_a_text_part_and_an_escaped_html_part(session: Session, smtp_server: SmtpServer) -> None:
    queue_mail(
        session,
        to="a@harrow.gov.uk",
        subject="Hello <script>alert(1)</script>",
        body_text="Dear <b>officer</b> <script>alert(2)</script>\nSee https://example.com/a?b=1&c=2\n\nBye & thanks",
        kind="test",
    )
    session.commit()
    assert deliver_queued(session, SmtpMailer(get_settings())) == 1

    [received] = smtp_server.messages
    assert received.get_content_type() == "multipart/alternative"
    assert received["Subject"] == "Hello <script>alert(1)</script>"
    text = text_of(received, "plain")
    assert "Dear <b>officer</b> <script>alert(2)</script>" in text
    assert text.rstrip().endswith("You get this email because you use Supplier Intelligence Exchange.")

    html = text_of(received, "html")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    page = parse(html)
    assert page.find("script") is None and page.find("b") is None
    assert page.title is not None and page.title.text == "Hello <script>alert(1)</script>"
    paragraphs = [p.get_text() for p in page.find_all("p")]
    assert paragraphs == [
        "Dear <b>officer</b> <script>alert(2)</script>See https://example.com/a?b=1&c=2",
        "Bye & thanks",
        "You get this email because you use Supplier Intelligence Exchange.",
    ]
    assert page.find("br") is not None  # the line break inside the first paragraph is kept
    [link] = page.find_all("a")
    assert link["href"] == "https://example.com/a?b=1&c=2"
    assert "Supplier Intelligence Exchange" in page.find("div").get_text()  # the layout's header


def test_html_given_by_the_caller_goes_inside_the_layout(session: Session, smtp_server: SmtpServer) -> None:
    queue_mail(
        session, to="a@harrow.gov.uk", subject="Hi", body_text="Hi.", body_html="<p><em>Hi.</em></p>", kind="test"
    )
    session.commit()
    deliver_queued(session, SmtpMailer(get_settings()))
    page = parse(text_of(smtp_server.messages[0], "html"))
    assert page.find("em") is not None and "You get this email because" in page.get_text()


def test_mail_waits_while_the_smtp_server_is_down_and_is_sent_once_when_it_is_back(
    client: TestClient, session: Session, smtp: SmtpServer, clock: Clock
) -> None:
    response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    assert response.status_code == 200  # the officer is not shown the mail server's problem
    [message] = outbox(session)
    assert message.sent_at is None and message.attempts == 1 and message.last_error

    smtp.start()
    result = runner.invoke(cli, ["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 0 emails; 1 still waiting." in result.output  # the next attempt is not due yet
    assert smtp.messages == []

    clock.advance(minutes=1, seconds=1)
    result = runner.invoke(cli, ["send-mail"])
    assert "Sent 1 email; 0 still waiting." in result.output
    assert "Sent 0 emails; 0 still waiting." in runner.invoke(cli, ["send-mail"]).output
    assert deliver_queued(session, SmtpMailer(get_settings())) == 0

    [received] = smtp.messages
    assert received["To"] == "a@harrow.gov.uk"
    [message] = outbox(session)
    assert message.sent_at is not None and message.attempts == 2 and message.last_error is None


def test_a_message_that_just_failed_waits_longer_after_each_attempt(
    session: Session, smtp: SmtpServer, clock: Clock
) -> None:
    queue(session)
    mailer = SmtpMailer(get_settings())
    assert deliver_queued(session, mailer) == 0
    assert outbox(session)[0].attempts == 1

    deliver_queued(session, mailer)
    clock.advance(seconds=59)
    deliver_queued(session, mailer)
    assert outbox(session)[0].attempts == 1  # not retried before its minute is up

    clock.advance(seconds=2)
    deliver_queued(session, mailer)
    assert outbox(session)[0].attempts == 2
    clock.advance(minutes=1, seconds=59)
    deliver_queued(session, mailer)
    assert outbox(session)[0].attempts == 2  # now two minutes
    clock.advance(seconds=2)
    deliver_queued(session, mailer)
    assert outbox(session)[0].attempts == 3

    assert [mail.retry_delay(n) for n in (1, 2, 3, 9, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(hours=4),
        timedelta(hours=4),
    ]


def test_one_failure_ends_the_batch_so_requests_stay_quick(session: Session, smtp: SmtpServer) -> None:
    queue(session, 3)
    assert deliver_queued(session, SmtpMailer(get_settings())) == 0
    assert [message.attempts for message in outbox(session)] == [1, 0, 0]
    assert mail.SMTP_TIMEOUT_SECONDS <= 5


def test_mail_is_given_up_after_the_last_attempt_and_kept(
    session: Session, smtp: SmtpServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue(session)
    mailer = SmtpMailer(get_settings())
    with caplog.at_level(logging.WARNING, logger="app.mail"):
        for _ in range(MAX_ATTEMPTS + 2):
            deliver_queued(session, mailer)
            clock.advance(hours=5)
    [message] = outbox(session)
    assert message.attempts == MAX_ATTEMPTS and message.sent_at is None
    assert message.last_error and message.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts: ")
    assert [record.levelname for record in caplog.records if "given up" in record.getMessage()] == ["ERROR"]
    assert mail.count_given_up(session) == 1 and mail.count_waiting(session) == 0

    smtp.start()
    assert deliver_queued(session, mailer) == 0 and smtp.messages == []


def test_two_senders_at_once_send_each_message_once(session: Session, engine: object) -> None:
    queue(session, 2)
    delivered: list[int | None] = []

    class Recording:
        def deliver(self, message: MailOutbox) -> None:
            delivered.append(message.id)
            if len(delivered) == 1:  # another process runs while this one is sending its first message
                with Session(engine) as other:  # type: ignore[arg-type]
                    deliver_queued(other, Recording())

    deliver_queued(session, Recording())
    assert sorted(delivered) == [message.id for message in outbox(session)]
    assert all(message.sent_at is not None and message.attempts == 1 for message in outbox(session))


def test_a_message_email_cannot_carry_is_recorded_not_raised(session: Session, smtp_server: SmtpServer) -> None:
    queue_mail(session, to="a@harrow.gov.uk", subject="Two\nlines", body_text="Hello.", kind="test")
    session.commit()
    assert deliver_queued(session, SmtpMailer(get_settings())) == 0
    [message] = outbox(session)
    assert message.attempts == 1 and message.last_error and smtp_server.messages == []
