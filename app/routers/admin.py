"""Administration (admins only): the search synonyms and the watched terms of moderation."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import synonyms
from app.deps import AdminUser, SearchDep, SessionDep, require_admin
from app.errors import InvalidInput
from app.models import WatchedAction, WatchedTerm
from app.moderation import watched
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


# --- watched terms (`app/moderation/watched.py`) --------------------------------------------------------------------
# Admins only, like the rest of this router: the lists decide what officers may publish, so moderators ask an admin.

WatchedTermId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TermForm = Annotated[str, Form(max_length=1000)]


def _term_values(term: str, action: str, replacement: str, category: str, case_sensitive: str) -> dict[str, str]:
    return {
        "term": term,
        "action": action,
        "replacement": replacement,
        "category": category,
        "case_sensitive": case_sensitive,
    }


def _watched_page(
    request: Request, session: Session, *, status_code: int | None = None, **context: object
) -> HTMLResponse:
    errors = context.get("errors") or context.get("test_errors") or context.get("import_errors")
    return render(
        request,
        "admin/watched_terms.html",
        {
            "lists": watched.list_terms(session),
            "labels": watched.ACTION_LABELS,
            "hints": watched.ACTION_HINTS,
            "categories": watched.CATEGORIES,
            "values": {},
            **context,
        },
        fragment="admin/_watched_terms_test.html" if "result" in context or "test_errors" in context else None,
        status_code=status_code or (422 if errors else 200),
    )


WATCHED_DONE = {
    "added": "“{term}” is added to {action}.",
    "moved": "“{term}” is moved to {action}.",
    "saved": "“{term}” is saved ({action}).",
    "removed": "“{term}” is removed from the watched terms.",
    "imported": "The file is imported: {added} terms added, {changed} changed, {unchanged} unchanged.",
}


def _done_message(params: dict[str, str]) -> str | None:
    template = WATCHED_DONE.get(params.get("done", ""))
    if template is None:
        return None
    try:
        action = watched.ACTION_LABELS[WatchedAction(params.get("action", ""))]
    except ValueError:
        action = "its list"
    counts = {name: int(params[name]) if params.get(name, "").isdigit() else 0 for name in ("added", "changed")}
    unchanged = int(params["unchanged"]) if params.get("unchanged", "").isdigit() else 0
    return template.format(term=params.get("term", "")[:100], action=action, unchanged=unchanged, **counts)


@router.get("/watched-terms", name="admin:watched_terms")
def watched_terms_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _watched_page(request, session, done=_done_message(dict(request.query_params)))


@router.post("/watched-terms", name="admin:add_watched_term")
def add_watched_term(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    term: TermForm = "",
    action: TermForm = "",
    replacement: TermForm = "",
    category: TermForm = "",
    case_sensitive: TermForm = "",
) -> Response:
    values = _term_values(term, action, replacement, category, case_sensitive)
    try:
        saved = watched.add_term(session, actor=admin, data=watched.parse_term(values))
    except InvalidInput as error:
        return _watched_page(request, session, errors=error.errors, values=values)
    return _saved(request, saved)


def _saved(request: Request, saved: watched.Saved) -> Response:
    done = "added" if saved.created else "moved" if saved.moved_from is not None else "saved"
    return _watched_done(request, done=done, term=saved.row.term, action=saved.row.action.value)


def _watched_done(request: Request, **params: str | int) -> Response:
    return redirect(str(request.url_for("admin:watched_terms").include_query_params(**params)), request)


def _edit_page(
    request: Request, row: WatchedTerm, values: dict[str, str], errors: dict[str, str] | None = None
) -> HTMLResponse:
    context = {
        "row": row,
        "values": values,
        "errors": errors,
        "labels": watched.ACTION_LABELS,
        "hints": watched.ACTION_HINTS,
        "categories": watched.CATEGORIES,
    }
    return render(request, "admin/watched_terms_edit.html", context, status_code=422 if errors else 200)


@router.get("/watched-terms/{term_id}/edit", name="admin:edit_watched_term")
def edit_watched_term(request: Request, session: SessionDep, term_id: WatchedTermId) -> HTMLResponse:
    row = watched.get_term(session, term_id=term_id)
    values = _term_values(
        row.term, row.action.value, row.replacement or "", row.category or "", "yes" if row.case_sensitive else ""
    )
    return _edit_page(request, row, values)


@router.post("/watched-terms/{term_id}/edit", name="admin:update_watched_term")
def update_watched_term(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    term_id: WatchedTermId,
    term: TermForm = "",
    action: TermForm = "",
    replacement: TermForm = "",
    category: TermForm = "",
    case_sensitive: TermForm = "",
) -> Response:
    values = _term_values(term, action, replacement, category, case_sensitive)
    try:
        saved = watched.update_term(session, actor=admin, term_id=term_id, data=watched.parse_term(values))
    except InvalidInput as error:
        return _edit_page(request, watched.get_term(session, term_id=term_id), values, error.errors)
    return _saved(request, saved)


@router.post("/watched-terms/{term_id}/delete", name="admin:delete_watched_term")
def delete_watched_term(request: Request, session: SessionDep, admin: AdminUser, term_id: WatchedTermId) -> Response:
    term = watched.delete_term(session, actor=admin, term_id=term_id)
    return _watched_done(request, done="removed", term=term)


@router.post("/watched-terms/test", name="admin:test_watched_terms")
def test_watched_terms(
    request: Request, session: SessionDep, text: Annotated[str, Form(max_length=50000)] = ""
) -> HTMLResponse:
    try:
        result = watched.check_text(session, text=text)
    except InvalidInput as error:
        return _watched_page(request, session, test_errors=error.errors, test_text=text)
    return _watched_page(request, session, result=result, test_text=text)


@router.get("/watched-terms.csv", name="admin:export_watched_terms")
def export_watched_terms(session: SessionDep) -> Response:
    return Response(
        watched.export_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="watched-terms.csv"'},
    )


@router.post("/watched-terms/import", name="admin:import_watched_terms")
def import_watched_terms(
    request: Request, session: SessionDep, admin: AdminUser, file: UploadFile | None = None
) -> Response:
    content = file.file.read(watched.MAX_IMPORT_BYTES + 1) if file is not None and file.filename else b""
    try:
        if not content:
            raise InvalidInput({"file": "Select a CSV file of watched terms"})
        result = watched.import_csv(session, actor=admin, content=content)
    except InvalidInput as error:
        return _watched_page(request, session, import_errors=error.errors)
    return _watched_done(
        request, done="imported", added=result.added, changed=result.changed, unchanged=result.unchanged
    )
