"""Development helpers: the mail outbox, so sign-in links can be followed without a mail server."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import mail
from app.deps import OptionalUser, SessionDep, SettingsDep
from app.errors import NotFound
from app.models import MailOutbox
from app.templating import render

router = APIRouter(prefix="/dev")


def _only_in_development(settings: SettingsDep) -> None:
    if not settings.is_development:
        raise NotFound()


@router.get("/mail", name="dev:mail")
def outbox(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser) -> HTMLResponse:
    _only_in_development(settings)
    return render(request, "dev/mail.html", {"messages": mail.list_recent(session)})


@router.get("/mail/{message_id}", name="dev:message")
def message(
    request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser, message_id: int
) -> HTMLResponse:
    _only_in_development(settings)
    found = session.get(MailOutbox, message_id)
    if found is None:
        raise NotFound()
    return render(request, "dev/message.html", {"message": found})
