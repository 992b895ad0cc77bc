"""Choosing the search backend, and searching with a check on read.

Backend: Meilisearch when MEILI_URL is set; otherwise the embedded backend, whose index lives in the application's
own SQLite database (updated in the same transaction as the content), or, beside PostgreSQL, in the SQLite file
SEARCH_INDEX_PATH (updated straight after each commit, through the outbox).
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import make_engine
from app.models import ContentStatus, Pilot, Review, Supplier
from app.search import documents
from app.search.base import SearchBackend, SearchParams


@lru_cache(maxsize=8)
def _meili(url: str, key: str | None) -> SearchBackend:
    from app.search.meili import MeiliBackend

    return MeiliBackend(url, key)


@lru_cache(maxsize=32)
def _embedded(engine: Engine) -> SearchBackend:
    from app.search.embedded import EmbeddedBackend

    return EmbeddedBackend(engine)


@lru_cache(maxsize=8)
def _index_file(path: str) -> Engine:
    return make_engine(f"sqlite:///{path}")


def backend_for(engine: Engine) -> tuple[SearchBackend, bool]:
    """The backend for the database behind `engine`, and whether its index lives in that same database."""
    settings = get_settings()
    if settings.MEILI_URL:
        return _meili(settings.MEILI_URL, settings.MEILI_MASTER_KEY), False
    if engine.dialect.name == "sqlite":
        return _embedded(engine), True
    return _embedded(_index_file(str(settings.SEARCH_INDEX_PATH))), False


def backend_for_session(session: OrmSession) -> tuple[SearchBackend, bool]:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return backend_for(engine)


def ensure_indexes(session: Session, backend: SearchBackend) -> None:
    """Create the three indexes with their settings and the admins' synonyms (idempotent)."""
    from app.synonyms import index_settings

    for name in documents.INDEX_NAMES:
        backend.configure(name, index_settings(session, name))


PUBLISHED: dict[str, type[Review] | type[Pilot] | type[Supplier]] = {
    documents.REVIEWS: Review,
    documents.PILOTS: Pilot,
    documents.VENDORS: Supplier,
}


def search(session: Session, backend: SearchBackend, *, index: str, params: SearchParams) -> dict[str, Any]:
    """Search an index; hits whose content is no longer published are dropped (the check on read)."""
    result = backend.search(index, params)
    hits = result.get("hits", [])
    if hits:
        model = PUBLISHED[index]
        ids = [int(h["id"]) for h in hits if str(h.get("id", "")).isdigit()]
        query = select(model.id).where(col(model.id).in_(ids), col(model.status) == ContentStatus.published)
        if model is Supplier:
            query = query.where(col(Supplier.merged_into_id).is_(None))
        live = {str(i) for i in session.exec(query).all()}
        result["hits"] = [h for h in hits if str(h.get("id")) in live]
    return result
