"""The JSON API under /api/v1 (bearer tokens), and the health check."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import councils
from app.db import database_status
from app.deps import SessionDep, SettingsDep, get_api_user
from app.search import search_status

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(get_api_user)])
health_router = APIRouter(tags=["health"])


class CouncilPublic(BaseModel):
    gss_code: str
    code: str
    name: str
    type: str
    type_name: str
    region: str
    nation: str


class CouncilList(BaseModel):
    count: int
    councils: list[CouncilPublic]


@router.get("/councils", name="api:councils", response_model=CouncilList)
def list_councils(
    session: SessionDep, q: Annotated[str | None, Query(max_length=100, description="part of a name, or a code")] = None
) -> CouncilList:
    """Current UK councils, optionally filtered by part of their name or their GSS or register code."""
    rows = councils.list_councils(session, q=q)
    items = [
        CouncilPublic(
            gss_code=c.gss_code,
            code=c.code,
            name=c.name,
            type=c.type_code,
            type_name=c.type_name,
            region=c.region,
            nation=c.nation,
        )
        for c in rows
    ]
    return CouncilList(count=len(items), councils=items)


class Health(BaseModel):
    status: str
    database: str
    search: str


@health_router.get("/healthz", name="health", response_model=Health)
def healthz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Whether the service, its database and its search backend answer."""
    database = database_status(session.get_bind())  # type: ignore[arg-type]
    search = search_status(settings)
    ok = database == "ok" and search in ("ok", "embedded")
    body = Health(status="ok" if ok else "degraded", database=database, search=search)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
