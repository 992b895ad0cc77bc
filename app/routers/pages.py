"""Public pages: the start page, about the data, privacy, accessibility and terms."""

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import ModeratorUser, OptionalUser
from app.templating import render

router = APIRouter()

# Route name: (path, template). Each is a plain page that reads nothing but who is signed in.
PAGES = {
    "pages:home": ("/", "pages/home.html"),
    "pages:about_data": ("/about-the-data", "pages/about_data.html"),
    "pages:privacy": ("/privacy", "pages/privacy.html"),
    "pages:accessibility": ("/accessibility", "pages/accessibility.html"),
    "pages:terms": ("/terms", "pages/terms.html"),
}


def _page(template: str) -> Callable[[Request, OptionalUser], HTMLResponse]:
    def show(request: Request, user: OptionalUser) -> HTMLResponse:
        return render(request, template)

    return show


for name, (path, template) in PAGES.items():
    router.add_api_route(path, _page(template), methods=["GET"], name=name, response_class=HTMLResponse)


@router.get("/moderation/guidance", name="pages:guidance", response_class=HTMLResponse)
def guidance(request: Request, user: ModeratorUser) -> HTMLResponse:
    """What may not be published and why: for moderators only, linked from the queue."""
    return render(request, "pages/guidance.html")
