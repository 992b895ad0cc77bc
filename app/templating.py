"""Jinja2 templates with the GOV.UK Frontend macros, and the one `render` helper every route uses."""

from collections.abc import Iterable, Iterator
from typing import Any
from weakref import finalize

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    pass_context,
    select_autoescape,
)
from starlette.datastructures import URL, URLPath
from starlette.routing import NoMatchFound

from app import security
from app.config import PROJECT_ROOT, get_settings
from app.moderation import watched

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
# Watched terms with the censor action, applied to contributors' text as it is shown (`app/moderation/watched.py`).
environment.filters["censor"] = watched.censor_filter


# --- url_for with the route lookup cached ----------------------------------------------------------------------------
# Starlette's `url_for` tries every route in turn until one has the name, on every call: a page that links each of
# its items to a few named routes paid for thousands of route checks. The route found for a name (and the names of
# its parameters) is remembered per router, so each later call asks that one route to build its path.
_ROUTE_CACHE: dict[int, dict[tuple[str, tuple[str, ...]], Any]] = {}  # by id of the router (routers are unhashable)
_NOT_CACHED = object()  # a name that no single route answers for as the full lookup does: always look it up


def _routes_in_order(routes: Iterable[Any]) -> Iterator[Any]:
    """A router's routes in the order its own lookup tries them, an included router's routes in its place."""
    for route in routes:
        nested = getattr(route, "effective_route_contexts", None)
        if nested is not None:
            yield from nested()
        else:
            yield route


def _find_route(router: Any, name: str, params: dict[str, Any]) -> Any:
    """The route that builds this name's path, as the router's full lookup would find it, or `_NOT_CACHED`."""
    expected = router.url_path_for(name, **params)  # raises NoMatchFound, as Starlette does, for an unknown name
    for route in _routes_in_order(getattr(router, "routes", ())):
        try:
            found = route.url_path_for(name, **params)
        except NoMatchFound:
            continue
        return route if found == expected else _NOT_CACHED
    return _NOT_CACHED


def url_path_for(router: Any, name: str, /, **params: Any) -> URLPath:
    """`router.url_path_for(name, **params)`, with the route for the name found once per router and remembered."""
    routes = _ROUTE_CACHE.get(id(router))
    if routes is None:
        routes = _ROUTE_CACHE[id(router)] = {}
        finalize(router, _ROUTE_CACHE.pop, id(router), None)  # forgotten with the router (each test builds an app)
    key = (name, tuple(sorted(params)))
    route = routes.get(key)
    if route is None:
        route = routes[key] = _find_route(router, name, params)
    if route is not _NOT_CACHED:
        try:
            path: URLPath = route.url_path_for(name, **params)
            return path
        except NoMatchFound:  # a value this route's converters refuse: the full lookup decides
            pass
    full: URLPath = router.url_path_for(name, **params)
    return full


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """The template global `url_for`: what `request.url_for` gives, without a scan of every route per call."""
    request: Request = context["request"]
    router = request.scope.get("router") or request.scope.get("app")
    return url_path_for(router, name, **path_params).make_absolute_url(base_url=request.base_url)


environment.globals["url_for"] = url_for  # set before Jinja2Templates, which only adds its own when none is set
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
