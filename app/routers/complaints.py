"""Notices of complaint: the public form, the poster's reply, and the moderators' list and case file."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import complaints
from app.deps import CurrentUser, MailerDep, ModeratorUser, SessionDep, SettingsDep, require_moderator
from app.errors import Conflict, InvalidInput
from app.mail import deliver_queued
from app.routers.account import redirect
from app.templating import render

router = APIRouter()
moderation_router = APIRouter(prefix="/moderation/complaints", dependencies=[Depends(require_moderator)])

ComplaintId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTICE_FIELDS = (
    "complainant_name",
    "complainant_email",
    "statement",
    "why_defamatory",
    "location",
    "meaning",
    "inaccurate_parts",
    "unsupported_opinion",
    "cannot_identify_poster",
    "consent_to_share",
)
REPLY_FIELDS = ("wants_removal", "full_name", "postal_address", "consents_disclosure")


def _new_page(request: Request, values: dict[str, str], errors: dict[str, str] | None = None) -> HTMLResponse:
    context = {"values": values, "errors": errors, "requirements": complaints.REQUIREMENTS}
    return render(request, "complaints/new.html", context, status_code=422 if errors else 200)


@router.get("/complaints/new", name="complaints:new")
def new(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    about: Annotated[str, Query(max_length=30, description="review:12 or pilot:3, from a Report link")] = "",
) -> HTMLResponse:
    location = complaints.location_for(session, about=about, settings=settings) if about else ""
    return _new_page(request, {"location": location})


@router.post("/complaints/new", name="complaints:create")
async def create(request: Request, session: SessionDep, settings: SettingsDep, mailer: MailerDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in NOTICE_FIELDS}
    complaints.check_rate(request.client.host if request.client else "unknown")
    try:
        complaint = complaints.receive(session, raw=values, settings=settings)
    except InvalidInput as error:
        return _new_page(request, values, error.errors)
    deliver_queued(session, mailer)
    token = complaints.receipt_token(complaint, settings=settings)
    return redirect(str(request.url_for("complaints:received").include_query_params(token=token)), request)


@router.get("/complaints/received", name="complaints:received")
def received(
    request: Request, session: SessionDep, settings: SettingsDep, token: Annotated[str, Query(max_length=2000)] = ""
) -> HTMLResponse:
    receipt = complaints.get_receipt(session, token=token, settings=settings)
    return render(request, "complaints/received.html", {"receipt": receipt})


def _reply_page(
    request: Request,
    view: complaints.PosterView,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    done: bool = False,
) -> HTMLResponse:
    context = {"view": view, "values": values, "errors": errors, "done": done}
    return render(request, "complaints/reply.html", context, status_code=422 if errors else 200)


@router.get("/complaints/{complaint_id}/reply", name="complaints:reply_form")
def reply_form(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    complaint_id: ComplaintId,
    done: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    view = complaints.get_for_poster(session, complaint_id=complaint_id, poster=user)
    return _reply_page(request, view, {}, done=done)


@router.post("/complaints/{complaint_id}/reply", name="complaints:reply")
async def reply(
    request: Request, session: SessionDep, mailer: MailerDep, user: CurrentUser, complaint_id: ComplaintId
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in REPLY_FIELDS}
    try:
        complaints.poster_reply(session, complaint_id=complaint_id, poster=user, raw=values)
    except InvalidInput as error:
        view = complaints.get_for_poster(session, complaint_id=complaint_id, poster=user)
        return _reply_page(request, view, values, error.errors)
    deliver_queued(session, mailer)
    url = request.url_for("complaints:reply_form", complaint_id=complaint_id).include_query_params(done="true")
    return redirect(str(url), request)


# --- moderators ------------------------------------------------------------------------------------


@moderation_router.get("", name="complaints:list")
def list_cases(request: Request, session: SessionDep, mailer: MailerDep, user: ModeratorUser) -> HTMLResponse:
    rows = complaints.list_cases(session)
    deliver_queued(session, mailer)  # the clock may just have removed statements and told people
    return render(request, "complaints/list.html", {"rows": rows})


def _case_page(
    request: Request,
    session: SessionDep,
    complaint_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str = "",
) -> HTMLResponse:
    case = complaints.get_case(session, complaint_id=complaint_id)
    context = {"case": case, "errors": errors, "values": values or {}, "done": done}
    return render(request, "complaints/case.html", context, status_code=422 if errors else 200)


@moderation_router.get("/{complaint_id}", name="complaints:case")
def case(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: ModeratorUser,
    complaint_id: ComplaintId,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    page = _case_page(request, session, complaint_id, done=done)
    deliver_queued(session, mailer)
    return page


def _version(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise Conflict("The page you acted on is out of date.")
    return int(text)


def _conflict(request: Request, error: Conflict, complaint_id: int) -> HTMLResponse:
    context = {"message": error.message, "complaint_id": complaint_id}
    return render(request, "complaints/conflict.html", context, status_code=409)


@moderation_router.post("/{complaint_id}/hide", name="complaints:hide")
def hide(
    request: Request,
    session: SessionDep,
    user: ModeratorUser,
    complaint_id: ComplaintId,
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        complaints.hide_pending(session, complaint_id=complaint_id, moderator=user, version=_version(version))
    except Conflict as error:
        return _conflict(request, error, complaint_id)
    except InvalidInput as error:
        return _case_page(request, session, complaint_id, errors=error.errors)
    url = request.url_for("complaints:case", complaint_id=complaint_id).include_query_params(done="hidden")
    return redirect(str(url), request)


@moderation_router.post("/{complaint_id}/link", name="complaints:link")
def link(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    user: ModeratorUser,
    complaint_id: ComplaintId,
    version: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
) -> Response:
    try:
        complaints.link_content(
            session,
            complaint_id=complaint_id,
            moderator=user,
            location=location,
            version=_version(version),
            settings=settings,
        )
    except Conflict as error:
        return _conflict(request, error, complaint_id)
    except InvalidInput as error:
        return _case_page(request, session, complaint_id, errors=error.errors, values={"location": location})
    deliver_queued(session, mailer)
    url = request.url_for("complaints:case", complaint_id=complaint_id).include_query_params(done="linked")
    return redirect(str(url), request)


router.include_router(moderation_router)
