"""Public pages: the start page, about the data, privacy, accessibility and terms."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import OptionalUser
from app.templating import render

router = APIRouter()


@router.get("/", name="pages:home")
def home(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "pages/home.html")


@router.get("/about-the-data", name="pages:about_data")
def about_data(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "pages/about_data.html")


@router.get("/privacy", name="pages:privacy")
def privacy(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "pages/privacy.html")


@router.get("/accessibility", name="pages:accessibility")
def accessibility(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "pages/accessibility.html")


@router.get("/terms", name="pages:terms")
def terms(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "pages/terms.html")
