"""Browsing suppliers and reading a supplier's profile (signed-in officers only)."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app import vendors
from app.deps import SessionDep, get_current_user
from app.templating import render

router = APIRouter(prefix="/vendors", dependencies=[Depends(get_current_user)])


@router.get("", name="vendors:list")
def list_vendors(
    request: Request,
    session: SessionDep,
    q: str = Query("", max_length=200),
    page: int = Query(1, ge=1, le=100000),
) -> HTMLResponse:
    result = vendors.list_suppliers(session, q=q, page=page)
    return render(request, "vendors/list.html", {"result": result, "q": q}, fragment="vendors/_results.html")


@router.get("/{slug}", name="vendors:profile")
def profile(request: Request, session: SessionDep, slug: str) -> HTMLResponse:
    return render(request, "vendors/profile.html", {"profile": vendors.get_supplier_profile(session, slug=slug)})
