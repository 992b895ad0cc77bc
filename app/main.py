"""The application: static files, routers and error handlers. No logic lives here."""

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import PROJECT_ROOT, get_settings
from app.errors import DomainError, Moved, NotSignedIn
from app.routers import (
    account,
    admin,
    api,
    api_complaints,
    api_flags,
    complaints,
    contacts,
    contribute,
    dev,
    moderation,
    pages,
    people,
    search,
    suppliers,
    vendors,
)
from app.templating import SERVICE_NAME, render
from app.web import SecurityMiddleware, csrf_protect

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: "There is a problem with the address",
    401: "Sign in to continue",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "Page not found",
    409: "Someone else changed this first",
    422: "There is a problem",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
}


NOT_FOUND_MESSAGE = "If you typed the web address, check it is correct. If you pasted it, check you copied all of it."


def create_app() -> FastAPI:
    get_settings()  # refuse to start with unsafe settings
    app = FastAPI(
        title=f"{SERVICE_NAME} API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.add_middleware(SecurityMiddleware)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static", check_dir=False), name="static")
    # GOV.UK Frontend's stylesheet asks for its fonts and images under /assets.
    app.mount(
        "/assets",
        StaticFiles(directory=PROJECT_ROOT / "static" / "vendor" / "govuk-frontend" / "assets", check_dir=False),
        name="assets",
    )
    html_routers = (
        pages.router,
        account.router,
        suppliers.router,  # before vendors: /vendors/add is not a supplier called "add"
        vendors.router,
        contribute.router,
        moderation.router,
        moderation.flags_router,  # any signed-in officer: reporting published reviews and pilots
        contacts.router,
        contacts.moderation_router,  # moderators only: gated inside the router with require_moderator
        complaints.router,  # public form and poster replies; its /moderation/complaints pages need a moderator
        dev.router,
        search.router,
        admin.router,  # admins only: gated inside the router with require_admin
        people.router,  # admins only: gated inside the router with require_admin
        people.audit_router,  # moderators and admins: gated inside the router with require_moderator
    )
    for router in html_routers:
        app.include_router(router, include_in_schema=False, dependencies=[Depends(csrf_protect)])
    app.include_router(api.router)
    app.include_router(api_flags.router)
    app.include_router(api_complaints.router)  # sending a notice needs no sign-in
    app.include_router(api.health_router)
    app.add_exception_handler(DomainError, handle_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, handle_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, handle_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, handle_unexpected_error)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The same error as JSON for the API and as a GOV.UK page for people."""
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status_code, headers=headers)
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": ERROR_TITLES.get(status_code, "There is a problem"), "message": message},
        status_code=status_code,
        headers=headers,
    )


async def handle_domain_error(request: Request, error: DomainError) -> Response:
    if isinstance(error, Moved):
        path = request.url.path.replace(f"/{error.old}", f"/{error.new}", 1)
        return RedirectResponse(str(request.url.replace(path=path)), status_code=301)
    if isinstance(error, NotSignedIn) and not _is_api(request):
        target = request.url_for("account:sign_in").include_query_params(next=request.url.path)
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": str(target)})
        return RedirectResponse(str(target), status_code=303)
    headers = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else None
    if isinstance(error, NotSignedIn):
        headers = {"WWW-Authenticate": "Bearer"}
    return error_response(request, error.status_code, error.message or error.title, headers)


async def handle_http_error(request: Request, error: StarletteHTTPException) -> Response:
    if _is_api(request):
        return error_response(request, error.status_code, str(error.detail), getattr(error, "headers", None))
    # People get a 404 for a wrong method too: to them it is a page that does not exist.
    status = 404 if error.status_code == 405 else error.status_code
    message = NOT_FOUND_MESSAGE if status == 404 else str(error.detail)
    return error_response(request, status, message, getattr(error, "headers", None))


async def handle_validation_error(request: Request, error: RequestValidationError) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": jsonable_errors(error)}, status_code=422)
    fields = ", ".join(sorted({str(e["loc"][-1]) for e in error.errors() if e.get("loc")}))
    return error_response(
        request, 400, f"The address has a value that is not valid ({fields}). Check it and try again."
    )


def jsonable_errors(error: RequestValidationError) -> list[dict[str, object]]:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in error.errors()]


async def handle_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(request, 500, "Try again later. If the problem continues, contact the service team.")


app = create_app()
