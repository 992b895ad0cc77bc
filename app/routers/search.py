"""The search page (signed-in officers only); what it asks and shows is in `app/search/page.py`."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import SearchDep, SessionDep, get_current_user
from app.search.base import SearchQueryError, SearchUnavailable
from app.search.documents import VENDORS
from app.search.page import (
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    PILOT_TEXT,
    REVIEW_TEXT,
    SCOPES,
    Results,
    chosen_values,
    facet_groups,
    highlighted,
    matched,
    run_search,
    snippet,
)
from app.templating import render

router = APIRouter(prefix="/search", dependencies=[Depends(get_current_user)])


@router.get("", name="search:page")
def search_page(
    request: Request,
    session: SessionDep,
    backend: SearchDep,
    q: str = "",
    index: str = VENDORS,
    sort: str = "relevance",
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> HTMLResponse:
    scope = SCOPES.get(index)
    results = Results(
        scope=scope or SCOPES[VENDORS],
        q=q[:MAX_QUERY_LENGTH],
        sort=sort if scope and sort in scope.sorts else "relevance",
        page=page,
    )
    status = 200
    try:
        if scope is None:
            results.errors["index"] = "Select suppliers, pilots or reviews"
            raise SearchQueryError("unknown index", code="index_not_found")
        results.chosen = chosen_values(scope, request.query_params)
        run_search(session, backend, results)
    except SearchQueryError as error:
        status = 400
        if not results.errors:
            key = "filters" if "filter" in error.code or "facet" in error.code else "q"
            results.errors[key] = error.message
        results.facets = facet_groups(results.scope, {}, results.chosen)
    except SearchUnavailable:
        status = 503
        results.unavailable = True
        results.facets = facet_groups(results.scope, {}, results.chosen)
    context = {
        "results": results,
        "scopes": SCOPES,
        "errors": results.errors,
        "highlighted": highlighted,
        "matched": matched,
        "snippet": snippet,
        "review_text": REVIEW_TEXT,
        "pilot_text": PILOT_TEXT,
    }
    return render(request, "search/page.html", context, fragment="search/_results.html", status_code=status)
