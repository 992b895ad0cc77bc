"""Browsing suppliers and reading a supplier's profile (signed-in officers only)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from app import vendors
from app.deps import SessionDep, get_current_user
from app.models import Relationship
from app.templating import render

router = APIRouter(prefix="/vendors", dependencies=[Depends(get_current_user)])
PILOT_RESULTS = "pilot-results"  # the id of the element that holds a profile's page of pilots


def _blank_is_none(value: Any) -> Any:
    return value or None


# A filter form sends an empty value for "Any".
OptionalRelationship = Annotated[Relationship | None, BeforeValidator(_blank_is_none), Query()]


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
def profile(
    request: Request,
    session: SessionDep,
    slug: str,
    council_type: str = Query("", max_length=8),
    region: str = Query("", max_length=80),
    relationship: OptionalRelationship = None,
    service_area: str = Query("", max_length=120),
    band: vendors.Band = Query(""),
    sort: vendors.Sort = Query("newest"),
    page: int = Query(1, ge=1, le=100000),
    pilots_page: int = Query(1, ge=1, le=100000),
) -> HTMLResponse:
    filters = vendors.ReviewFilters(
        council_type=council_type,
        region=region,
        relationship=relationship,
        service_area=service_area,
        band=band,
        sort=sort,
    )
    result = vendors.get_supplier_profile(session, slug=slug, filters=filters, page=page, pilots_page=pilots_page)
    # The pilots' page links swap the pilots (their htmx target); the filters and review page links, the reviews.
    fragment = "vendors/_pilots.html" if request.headers.get("HX-Target") == PILOT_RESULTS else "vendors/_reviews.html"
    return render(request, "vendors/profile.html", {"profile": result}, fragment=fragment)
