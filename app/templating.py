"""Jinja2 templates with the GOV.UK Frontend macros, and the one `render` helper every route uses."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from app import security
from app.config import PROJECT_ROOT, get_settings

SERVICE_NAME = "Supplier Intelligence Exchange"

environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(PROJECT_ROOT / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["service_name"] = SERVICE_NAME
templates = Jinja2Templates(env=environment)


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser, to put in a hidden field of every form that changes something."""
    return security.csrf_token_for(request.state.csrf_secret, secret=get_settings().SECRET_KEY)


def wants_fragment(request: Request) -> bool:
    """An htmx request, but not a history restore (which needs the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(
    request: Request,
    page: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render the full page, or only its fragment for an htmx request; page and fragment share one partial."""
    name = fragment if fragment and wants_fragment(request) else page
    ctx = {
        "is_fragment": name != page,
        "current_user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "settings": get_settings(),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request"
    return response
