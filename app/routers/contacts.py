"""Peer contact: asking to be put in touch, answering, and the moderator's audited view."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import contacts
from app.deps import CurrentUser, MailerDep, ModeratorUser, OptionalUser, SessionDep, SettingsDep, require_moderator
from app.errors import InvalidInput
from app.mail import deliver_queued
from app.routers.account import redirect
from app.templating import render

router = APIRouter()
moderation_router = APIRouter(prefix="/moderation/contacts", dependencies=[Depends(require_moderator)])

RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/contacts/new", name="contacts:new")
def new(
    request: Request, session: SessionDep, user: CurrentUser, about_type: str = Query(), about_id: ItemId = 0
) -> HTMLResponse:
    subject = contacts.get_subject(
        session, requester=user, about_type=contacts.parse_about_type(about_type), about_id=about_id
    )
    return render(request, "contacts/new.html", {"subject": subject, "values": {"message": ""}})


@router.post("/contacts", name="contacts:create")
def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    user: CurrentUser,
    about_type: Annotated[str, Form()] = "",
    about_id: Annotated[int, Form(ge=1, le=2**31 - 1)] = 1,
    message: Annotated[str, Form()] = "",
) -> Response:
    content_type = contacts.parse_about_type(about_type)
    try:
        contacts.create_request(
            session, requester=user, about_type=content_type, about_id=about_id, message=message, settings=settings
        )
    except InvalidInput as error:
        subject = contacts.get_subject(session, requester=user, about_type=content_type, about_id=about_id)
        return render(
            request,
            "contacts/new.html",
            {"subject": subject, "values": {"message": message}, "errors": error.errors},
            status_code=422,
        )
    deliver_queued(session, mailer)
    return redirect(str(request.url_for("contacts:list")), request)


@router.get("/account/contacts", name="contacts:list")
def list_requests(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return render(request, "contacts/list.html", {"lists": contacts.list_for_user(session, user=user)})


def _answer(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: CurrentUser,
    request_id: int,
    accept: bool,
    note: str,
) -> Response:
    try:
        contacts.decide(session, peer=user, request_id=request_id, accept=accept, note=note)
    except InvalidInput as error:
        return render(
            request,
            "contacts/list.html",
            {"lists": contacts.list_for_user(session, user=user), "errors": error.errors},
            status_code=422,
        )
    deliver_queued(session, mailer)
    return redirect(str(request.url_for("contacts:list")), request)


@router.post("/account/contacts/{request_id}/accept", name="contacts:accept")
def accept(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: CurrentUser,
    request_id: RequestId,
    note: Annotated[str, Form()] = "",
) -> Response:
    return _answer(request, session, mailer, user, request_id, True, note)


@router.post("/account/contacts/{request_id}/decline", name="contacts:decline")
def decline(
    request: Request, session: SessionDep, mailer: MailerDep, user: CurrentUser, request_id: RequestId
) -> Response:
    return _answer(request, session, mailer, user, request_id, False, "")


@router.get("/contacts/decide/{token}", name="contacts:confirm_decision")
def confirm_decision(
    request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser, token: str
) -> HTMLResponse:
    # Opening the link only shows a button: mail scanners that follow links must not answer for the officer.
    try:
        link = contacts.check_decision_token(session, token=token, settings=settings)
    except InvalidInput as error:
        return render(request, "contacts/link_problem.html", {"message": error.errors["token"]}, status_code=400)
    return render(request, "contacts/decide.html", {"link": link, "token": token})


@router.post("/contacts/decide/{token}", name="contacts:decide")
def decide(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    user: OptionalUser,
    token: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        view = contacts.decide_by_token(session, token=token, settings=settings, note=note)
    except InvalidInput as error:
        message = error.errors.get("token") or error.errors.get("note") or contacts.LINK_PROBLEM
        return render(request, "contacts/link_problem.html", {"message": message}, status_code=400)
    deliver_queued(session, mailer)
    return render(request, "contacts/decided.html", {"view": view})


@moderation_router.get("/{request_id}", name="contacts:moderate")
def moderate(request: Request, session: SessionDep, moderator: ModeratorUser, request_id: RequestId) -> HTMLResponse:
    view = contacts.view_as_moderator(session, moderator=moderator, request_id=request_id)
    return render(request, "contacts/moderate.html", {"view": view})
