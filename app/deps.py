"""Dependencies for routes, as `Annotated` aliases; tests override `get_session`, `get_settings`, `get_mailer`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app import accounts
from app.config import Settings, get_settings
from app.db import get_engine, get_session
from app.errors import NotAllowed, NotSignedIn
from app.mail import Mailer, mailer_for
from app.models import Role, User
from app.search.base import SearchBackend
from app.search.service import backend_for

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_mailer(settings: SettingsDep) -> Mailer:
    return mailer_for(settings)


MailerDep = Annotated[Mailer, Depends(get_mailer)]


def get_search_backend() -> SearchBackend:
    """The search backend for the application's database (tests override this to swap it)."""
    backend, _ = backend_for(get_engine())
    return backend


SearchDep = Annotated[SearchBackend, Depends(get_search_backend)]


def get_optional_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    cookie = request.cookies.get(accounts.SESSION_COOKIE)
    user = accounts.user_for_session(session, cookie=cookie, settings=settings) if cookie else None
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise NotSignedIn("Sign in with your council email address to see this page.")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_moderator(user: CurrentUser) -> User:
    if user.role not in (Role.moderator, Role.admin):
        raise NotAllowed("Only moderators can see this page.")
    return user


def require_admin(user: CurrentUser) -> User:
    if user.role != Role.admin:
        raise NotAllowed("Only administrators can see this page.")
    return user


ModeratorUser = Annotated[User, Depends(require_moderator)]
AdminUser = Annotated[User, Depends(require_admin)]

bearer = HTTPBearer(auto_error=False, description="A token from `supplier-intel api-token EMAIL`")


def get_api_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise NotSignedIn("Send a bearer token: Authorization: Bearer <token>.")
    user = accounts.user_for_api_token(session, token=credentials.credentials, settings=settings)
    if user is None:
        raise NotSignedIn("The bearer token is invalid or has expired.")
    return user


ApiUser = Annotated[User, Depends(get_api_user)]
