"""Mail: the outbox by default, a real SMTP server when SMTP_HOST is set, nothing lost when it is down."""

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.models import MailOutbox
from tests.factories import csrf


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    get_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()


def test_sign_in_mail_goes_to_the_outbox_by_default(client: TestClient, session: Session) -> None:
    client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    message = session.exec(select(MailOutbox)).one()
    assert message.kind == "sign_in" and message.sent_at is not None and message.attempts == 1


def test_sign_in_mail_is_sent_through_smtp_when_configured(
    client: TestClient, session: Session, smtp_server: Inbox
) -> None:
    response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    assert response.status_code == 200
    [received] = smtp_server.messages
    assert received["To"] == "a@harrow.gov.uk"
    assert received["Subject"] == "Your sign-in link for Supplier Intelligence Exchange"
    assert "http://testserver/sign-in/" in received.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert session.exec(select(MailOutbox)).one().sent_at is not None


def test_mail_waits_in_the_outbox_while_the_smtp_server_is_down(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    get_settings.cache_clear()
    response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
    assert response.status_code == 200  # the officer is not shown the mail server's problem
    message = session.exec(select(MailOutbox)).one()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
