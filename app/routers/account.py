"""Signing in and out, and the officer's own account."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import accounts
from app.deps import CurrentUser, MailerDep, OptionalUser, SessionDep, SettingsDep
from app.errors import InvalidInput
from app.mail import deliver_queued
from app.ratelimit import limiter
from app.templating import render
from app.web import safe_next_path

router = APIRouter()

SIGN_IN_LIMIT_MESSAGE = "You have asked for too many sign-in links. Wait a few minutes, then try again."


def redirect(url: str, request: Request) -> Response:
    """Post/redirect/get: a 303, or HX-Redirect for htmx so the whole page changes."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


@router.get("/sign-in", name="account:sign_in")
def sign_in_form(request: Request, user: OptionalUser, next: str | None = None) -> HTMLResponse:
    return render(request, "account/sign_in.html", {"values": {"next": safe_next_path(next, "")}})


@router.post("/sign-in", name="account:request_link")
def request_link(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    user: OptionalUser,
    email: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    values = {"email": email, "next": safe_next_path(next, "")}
    client = request.client.host if request.client else "unknown"
    limiter.hit(f"sign-in:ip:{client}", limit=30, window_seconds=3600, message=SIGN_IN_LIMIT_MESSAGE)
    limiter.hit(f"sign-in:email:{email.strip().lower()}", limit=5, window_seconds=900, message=SIGN_IN_LIMIT_MESSAGE)
    try:
        accounts.request_sign_in(session, raw_email=email, settings=settings, next_path=values["next"])
    except InvalidInput as error:
        return render(
            request,
            "account/sign_in.html",
            {"values": values, "errors": error.errors},
            fragment="account/_sign_in_form.html",
            status_code=422,
        )
    deliver_queued(session, mailer)
    return redirect(str(request.url_for("account:check_email")), request)


@router.get("/sign-in/check-email", name="account:check_email")
def check_email(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "account/check_email.html")


@router.get("/sign-in/{token}", name="account:confirm")
def confirm_form(
    request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser, token: str, next: str = ""
) -> HTMLResponse:
    # Opening the link only shows a button: mail scanners that follow links must not use it up.
    try:
        record = accounts.check_sign_in_token(session, token=token, settings=settings)
    except InvalidInput as error:
        return render(request, "account/link_problem.html", {"message": error.errors["token"]}, status_code=400)
    council = accounts.council_for_email(session, record.email)
    return render(
        request,
        "account/confirm.html",
        {"email": record.email, "council": council, "token": token, "next": safe_next_path(next, "")},
    )


@router.post("/sign-in/{token}", name="account:complete")
def complete(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        user, cookie = accounts.complete_sign_in(session, token=token, settings=settings)
    except InvalidInput as error:
        return render(request, "account/link_problem.html", {"message": error.errors["token"]}, status_code=400)
    default = str(request.url_for("account:profile")) if not user.job_title else "/"
    response = redirect(safe_next_path(next, default), request)
    response.set_cookie(
        accounts.SESSION_COOKIE,
        cookie,
        max_age=accounts.SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.uses_https,
    )
    return response


@router.post("/sign-out", name="account:sign_out")
def sign_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    cookie = request.cookies.get(accounts.SESSION_COOKIE)
    if cookie:
        accounts.end_session(session, cookie=cookie, settings=settings)
    response = redirect(str(request.url_for("account:signed_out")), request)
    response.delete_cookie(accounts.SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.uses_https)
    return response


@router.get("/signed-out", name="account:signed_out")
def signed_out(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "account/signed_out.html")


@router.get("/account", name="account:show")
def show(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return render(request, "account/show.html", {"council": accounts.council_of(session, user)})


@router.get("/account/profile", name="account:profile")
def profile_form(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    values = {"name": user.name or "", "job_title": user.job_title or "", "open_to_contact": user.open_to_contact}
    return render(request, "account/profile.html", {"values": values, "council": accounts.council_of(session, user)})


@router.post("/account/profile", name="account:update_profile")
def update_profile(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    job_title: Annotated[str, Form()] = "",
    open_to_contact: Annotated[str, Form()] = "",
) -> Response:
    wants_contact = open_to_contact == "yes"
    values = {"name": name, "job_title": job_title, "open_to_contact": wants_contact}
    try:
        accounts.update_profile(session, user=user, name=name, job_title=job_title, open_to_contact=wants_contact)
    except InvalidInput as error:
        return render(
            request,
            "account/profile.html",
            {"values": values, "errors": error.errors, "council": accounts.council_of(session, user)},
            fragment="account/_profile_form.html",
            status_code=422,
        )
    deliver_queued(session, mailer)  # turning contact off declines pending requests, politely, by email
    return redirect(str(request.url_for("account:show")), request)
