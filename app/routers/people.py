"""People's data (admins only): find a person, export everything held about them, erase it; and the audit log of
one item for legal use (moderators and admins)."""

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app import datarights
from app.deps import AdminUser, SessionDep, SettingsDep, require_admin, require_moderator
from app.errors import InvalidInput
from app.routers.account import redirect
from app.templating import render

router = APIRouter(prefix="/admin/people", dependencies=[Depends(require_admin)])
audit_router = APIRouter(prefix="/admin/audit", dependencies=[Depends(require_moderator)])

UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EntityType = Annotated[str, Path(max_length=40)]
EntityId = Annotated[str, Path(max_length=64)]

DONE_MESSAGES = {
    "erased": "This person's data is erased. Their account is closed and cannot be used to sign in.",
}


@router.get("", name="people:find")
def find(request: Request, session: SessionDep, email: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    if email is None:
        return render(request, "admin/people.html", {"values": {}, "people": None})
    try:
        people = datarights.find_people(session, query=email)
    except InvalidInput as error:
        context = {"values": {"email": email}, "people": None, "errors": error.errors}
        return render(request, "admin/people.html", context, status_code=422)
    if len(people) == 1 and people[0].email == email.strip().lower():
        return redirect(str(request.url_for("people:person", user_id=people[0].id)), request)
    return render(request, "admin/people.html", {"values": {"email": email}, "people": people})


@router.get("/{user_id}", name="people:person")
def person(
    request: Request, session: SessionDep, settings: SettingsDep, user_id: UserId, done: str = ""
) -> HTMLResponse:
    user = datarights.get_person(session, user_id=user_id)
    summary = datarights.summarise(session, user=user)
    context = {"summary": summary, "person": user, "mode": settings.ERASURE_MODE.value, "done": DONE_MESSAGES.get(done)}
    return render(request, "admin/people_person.html", context)


@router.get("/{user_id}/export.json", name="people:export")
def export(session: SessionDep, admin: AdminUser, user_id: UserId) -> JSONResponse:
    user = datarights.get_person(session, user_id=user_id)
    data = datarights.export_person(session, user, actor=admin)
    headers = {"Content-Disposition": f'attachment; filename="person-{user_id}.json"'}
    return JSONResponse(data, headers=headers)


def _erase_page(
    request: Request, session: SessionDep, settings: SettingsDep, user_id: int, **context: object
) -> HTMLResponse:
    user = datarights.get_person(session, user_id=user_id)
    summary = datarights.summarise(session, user=user)
    status = 422 if context.get("errors") else 200
    page = {"summary": summary, "person": user, "mode": settings.ERASURE_MODE.value, "values": {}, **context}
    return render(request, "admin/people_erase.html", page, status_code=status)


@router.get("/{user_id}/erase", name="people:erase")
def erase_page(request: Request, session: SessionDep, settings: SettingsDep, user_id: UserId) -> HTMLResponse:
    return _erase_page(request, session, settings, user_id)


@router.post("/{user_id}/erase", name="people:confirm_erase")
def erase(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    user_id: UserId,
    confirm_email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    user = datarights.get_person(session, user_id=user_id)
    try:
        datarights.confirm_erasure(session, user=user, actor=admin, typed_email=confirm_email, settings=settings)
    except InvalidInput as error:
        return _erase_page(
            request, session, settings, user_id, errors=error.errors, values={"confirm_email": confirm_email}
        )
    url = request.url_for("people:person", user_id=user_id).include_query_params(done="erased")
    return redirect(str(url), request)


@audit_router.get("/{entity_type}/{entity_id}.json", name="audit:json")
def audit_json(session: SessionDep, entity_type: EntityType, entity_id: EntityId) -> JSONResponse:
    rows = datarights.audit_rows(session, entity_type=entity_type, entity_id=entity_id)
    data = {"entity_type": entity_type, "entity_id": entity_id, "entries": rows}
    headers = {"Content-Disposition": f'attachment; filename="audit-{entity_type}-{entity_id}.json"'}
    return JSONResponse(data, headers=headers)


@audit_router.get("/{entity_type}/{entity_id}.csv", name="audit:csv")
def audit_csv(session: SessionDep, entity_type: EntityType, entity_id: EntityId) -> Response:
    rows = datarights.audit_rows(session, entity_type=entity_type, entity_id=entity_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=datarights.AUDIT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "detail": json.dumps(row["detail"], sort_keys=True, ensure_ascii=False)})
    headers = {"Content-Disposition": f'attachment; filename="audit-{entity_type}-{entity_id}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
