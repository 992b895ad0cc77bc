"""Keeping the search indexes in step with the database, through the search outbox.

The policy, in one place:
- Any flush that adds, changes or deletes a review, pilot or supplier (or a supplier's names, products or
  categories) notes which documents it touches. Services do not call search themselves.
- Before the transaction commits, those notes become `search_outbox` rows in the same transaction, so a change
  and its index update are committed together or not at all.
- When the index lives in the same database (the embedded backend on SQLite, the default), the rows are applied
  right there, inside that transaction: the index can never disagree with the content.
- Otherwise (Meilisearch, or the embedded backend beside PostgreSQL) the outbox is drained straight after the
  commit, before the request returns; a failed attempt leaves the rows for the next drain, so a write never fails
  because search is down and nothing is lost. `supplier-intel reindex` rebuilds an index from the database.
"""

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.models import (
    OutboxOp,
    Pilot,
    Product,
    Review,
    SearchOutbox,
    Supplier,
    SupplierAlias,
    SupplierCategory,
    utcnow,
)
from app.search import documents
from app.search.base import SearchBackend, SearchUnavailable
from app.search.service import backend_for_session, ensure_indexes
from app.synonyms import index_settings

CHANGES = "search_changes"
READY = "_indexes_ready"  # set on a backend object once this process has set up its indexes
DRAIN = "search_drain"
MAX_ERROR_LENGTH = 500
Progress = Callable[[str, int, int], None]


def mark(session: OrmSession, index: str, ids: Iterable[int | None]) -> None:
    """Note that these documents must be refreshed when the session commits (for bulk UPDATEs the ORM cannot see)."""
    changes: set[tuple[str, int]] = session.info.setdefault(CHANGES, set())
    changes.update((index, i) for i in ids if i is not None)


@event.listens_for(OrmSession, "after_flush")
def _collect(session: OrmSession, _context: Any) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Review):
            mark(session, documents.REVIEWS, [obj.id])
            mark(session, documents.VENDORS, [obj.supplier_id])
        elif isinstance(obj, Pilot):
            mark(session, documents.PILOTS, [obj.id])
            mark(session, documents.VENDORS, [obj.supplier_id])
        elif isinstance(obj, Supplier):
            mark(session, documents.VENDORS, [obj.id, obj.merged_into_id])
        elif isinstance(obj, SupplierAlias | Product | SupplierCategory):
            mark(session, documents.VENDORS, [obj.supplier_id])


@event.listens_for(OrmSession, "before_commit")
def _write_outbox(session: OrmSession) -> None:
    session.flush()  # pending changes are only noted once flushed, and commit flushes after this hook
    changes: set[tuple[str, int]] | None = session.info.pop(CHANGES, None)
    if not changes:
        return
    rows = [SearchOutbox(index_name=index, document_id=str(i), op=OutboxOp.upsert) for index, i in sorted(changes)]
    session.add_all(rows)
    session.flush()
    backend, same_database = backend_for_session(session)
    if same_database:
        apply(session, backend, rows, connection=session.connection())
        session.flush()
    else:
        session.info[DRAIN] = True


@event.listens_for(OrmSession, "after_commit")
def _drain_after_commit(session: OrmSession) -> None:
    if not session.info.pop(DRAIN, False):
        return
    backend, _ = backend_for_session(session)
    bind = session.get_bind()
    with Session(bind) as fresh:
        drain(fresh, backend)


def apply(session: OrmSession, backend: SearchBackend, rows: list[SearchOutbox], *, connection: Any = None) -> None:
    """Refresh the documents these outbox rows name, and mark the rows done; on failure keep them for a retry."""
    by_index: dict[str, list[int]] = {}
    for row in rows:
        by_index.setdefault(row.index_name, []).append(int(row.document_id))
    using = getattr(backend, "using", None)
    context = using(connection) if connection is not None and using is not None else nullcontext()
    try:
        with context:
            if not getattr(backend, READY, False):
                ensure_indexes(session, backend)  # type: ignore[arg-type]
                setattr(backend, READY, True)
            for index, ids in by_index.items():
                upserts, deletes = documents.BUILDERS[index](session, sorted(set(ids)))  # type: ignore[arg-type]
                if upserts:
                    backend.upsert(index, upserts)
                if deletes:
                    backend.delete(index, deletes)
    except SearchUnavailable as error:
        for row in rows:
            row.attempts += 1
            row.last_error = str(error)[:MAX_ERROR_LENGTH]
            session.add(row)
        return
    now = utcnow()
    for row in rows:
        row.attempts += 1
        row.processed_at = now
        row.last_error = None
        session.add(row)


def drain(session: Session, backend: SearchBackend, *, batch: int = 500) -> int:
    """Apply waiting outbox rows, oldest first, in batches; return how many were applied."""
    done = 0
    while True:
        rows = list(
            session.exec(
                select(SearchOutbox)
                .where(col(SearchOutbox.processed_at).is_(None))
                .order_by(col(SearchOutbox.id))
                .limit(batch)
            ).all()
        )
        if not rows:
            return done
        apply(session, backend, rows)
        session.commit()
        if any(row.processed_at is None for row in rows):
            return done  # the server is down: leave the rest for the next drain
        done += len(rows)


def pending(session: Session) -> int:
    """How many outbox rows wait to be applied."""
    return len(session.exec(select(SearchOutbox.id).where(col(SearchOutbox.processed_at).is_(None))).all())


def reindex(
    session: Session, backend: SearchBackend, *, index: str, progress: Progress | None = None, batch: int = 1000
) -> int:
    """Rebuild one index from the database: apply its settings, empty it, add every published document."""
    tick = progress or (lambda *_: None)
    model = documents.MODELS[index]
    total = len(session.exec(select(model.id)).all())
    backend.configure(index, index_settings(session, index))
    bulk_load = getattr(backend, "bulk_load", None)  # the embedded backend's cheaper path for a full rebuild
    done = indexed = 0
    with bulk_load() if bulk_load is not None else nullcontext():
        backend.clear(index)
        tick(index, 0, total)
        for ids in documents.all_ids(session, index, batch=batch):
            upserts, _ = documents.BUILDERS[index](session, ids)
            if upserts:
                backend.upsert(index, upserts)
            done += len(ids)
            indexed += len(upserts)
            tick(index, done, total)
    return indexed
