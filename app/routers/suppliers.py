"""Adding a missing supplier (officers), and editing and merging suppliers (admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import suppliers
from app.deps import AdminUser, CurrentUser, SessionDep, get_current_user
from app.errors import InvalidInput
from app.routers.account import redirect
from app.templating import render

router = APIRouter(dependencies=[Depends(get_current_user)])


@router.get("/vendors/add", name="suppliers:new")
def new_supplier(request: Request) -> HTMLResponse:
    return render(request, "suppliers/new.html", {"values": {}})


@router.post("/vendors/add", name="suppliers:create")
def create_supplier(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    values = {"name": name, "website": website, "description": description}
    try:
        supplier = suppliers.propose(session, author=user, data=suppliers.parse_supplier(values))
    except InvalidInput as error:
        return render(
            request,
            "suppliers/new.html",
            {"values": values, "errors": error.errors},
            fragment="suppliers/_form.html",
            status_code=422,
        )
    return render(request, "suppliers/proposed.html", {"supplier": supplier})


@router.get("/admin/suppliers/{slug}/edit", name="suppliers:edit")
def edit_form(request: Request, session: SessionDep, admin: AdminUser, slug: str) -> HTMLResponse:
    supplier = suppliers.get_by_slug(session, slug)
    values = {"name": supplier.name, "website": supplier.website or "", "description": supplier.description or ""}
    return render(request, "suppliers/edit.html", {"supplier": supplier, "values": values})


@router.post("/admin/suppliers/{slug}/edit", name="suppliers:update")
def update(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    slug: str,
    name: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    supplier = suppliers.get_by_slug(session, slug)
    values = {"name": name, "website": website, "description": description}
    try:
        suppliers.update_supplier(session, admin=admin, supplier=supplier, data=suppliers.parse_supplier(values))
    except InvalidInput as error:
        return render(
            request,
            "suppliers/edit.html",
            {"supplier": supplier, "values": values, "errors": error.errors},
            status_code=422,
        )
    return redirect(str(request.url_for("vendors:profile", slug=supplier.slug)), request)


@router.get("/admin/suppliers/{slug}/merge", name="suppliers:merge_form")
def merge_form(request: Request, session: SessionDep, admin: AdminUser, slug: str) -> HTMLResponse:
    supplier = suppliers.get_by_slug(session, slug)
    return render(request, "suppliers/merge.html", {"supplier": supplier, "values": {}})


@router.post("/admin/suppliers/{slug}/merge", name="suppliers:merge")
def merge(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    slug: str,
    target: Annotated[str, Form()] = "",
) -> Response:
    source = suppliers.get_by_slug(session, slug)
    values = {"target": target}
    try:
        into = suppliers.find_by_name(session, target) if target.strip() else None
        if into is None:
            raise InvalidInput({"target": "Enter the name of the supplier to merge into, as it is listed"})
        merged = suppliers.merge(session, admin=admin, source=source, target=into)
    except InvalidInput as error:
        return render(
            request,
            "suppliers/merge.html",
            {"supplier": source, "values": values, "errors": error.errors},
            status_code=422,
        )
    return redirect(str(request.url_for("vendors:profile", slug=merged.slug)), request)
