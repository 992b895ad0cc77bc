"""Administration (admins only): the search synonyms."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from app import synonyms
from app.deps import AdminUser, SearchDep, SessionDep, require_admin
from app.errors import InvalidInput
from app.routers.account import redirect
from app.templating import render

router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])

SynonymId = Annotated[int, Path(ge=1, le=2**31 - 1)]

DONE_MESSAGES = {
    "added": "The synonyms are saved. Search uses them now.",
    "removed": "The term is removed from the synonyms. Search no longer uses it.",
    "pending": "The change is saved, but the search server did not answer. Search will use it once the indexes are "
    "next set up (at start-up, or with supplier-intel reindex).",
}


def _page(request: Request, session: SessionDep, **context: object) -> HTMLResponse:
    status = 422 if context.get("errors") else 200
    rows = synonyms.list_synonyms(session)
    return render(
        request,
        "admin/synonyms.html",
        {"rows": rows, "max_terms": synonyms.MAX_TERMS_IN_GROUP, **context},
        status_code=status,
    )


@router.get("/synonyms", name="admin:synonyms")
def synonyms_page(request: Request, session: SessionDep, done: str = "") -> HTMLResponse:
    return _page(request, session, done=DONE_MESSAGES.get(done), values={})


@router.post("/synonyms", name="admin:add_synonyms")
def add_synonyms(
    request: Request,
    session: SessionDep,
    backend: SearchDep,
    admin: AdminUser,
    terms: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    try:
        change = synonyms.add_group(session, backend=backend, actor=admin, text=terms)
    except InvalidInput as error:
        return _page(request, session, errors=error.errors, values={"terms": terms})
    url = request.url_for("admin:synonyms").include_query_params(done="added" if change.applied else "pending")
    return redirect(str(url), request)


@router.post("/synonyms/{synonym_id}/delete", name="admin:delete_synonym")
def delete_synonym(
    request: Request, session: SessionDep, backend: SearchDep, admin: AdminUser, synonym_id: SynonymId
) -> Response:
    change = synonyms.delete_term(session, backend=backend, actor=admin, synonym_id=synonym_id)
    url = request.url_for("admin:synonyms").include_query_params(done="removed" if change.applied else "pending")
    return redirect(str(url), request)
