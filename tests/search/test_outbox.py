"""The search outbox: index changes committed with the content, applied at once or caught up later."""

from collections.abc import Sequence
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.config import get_settings
from app.models import ContentStatus, SearchOutbox, Supplier
from app.search import indexer, service
from app.search.base import Document, IndexSettings, SearchParams, SearchUnavailable
from app.search.documents import VENDORS
from tests.factories import make_review, make_supplier


class FlakyServer:
    """A search server that is down until `up` is set, recording what reached it."""

    def __init__(self) -> None:
        self.up = False
        self.documents: dict[str, dict[str, Document]] = {}

    def _check(self) -> None:
        if not self.up:
            raise SearchUnavailable("connection refused")

    def configure(self, index: str, settings: IndexSettings) -> None:
        self._check()
        self.documents.setdefault(index, {})

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        self._check()
        self.documents.setdefault(index, {}).update({d["id"]: d for d in documents})

    def delete(self, index: str, ids: Sequence[str]) -> None:
        self._check()
        for i in ids:
            self.documents.setdefault(index, {}).pop(i, None)

    def clear(self, index: str) -> None:
        self._check()
        self.documents[index] = {}

    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        self._check()
        return {"hits": list(self.documents.get(index, {}).values())}

    def count(self, index: str) -> int:
        return len(self.documents.get(index, {}))


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FlakyServer:
    flaky = FlakyServer()
    monkeypatch.setenv("MEILI_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    monkeypatch.setattr(service, "_meili", lambda url, key: flaky)
    return flaky


def waiting(session: Session) -> list[SearchOutbox]:
    session.expire_all()
    return list(session.exec(select(SearchOutbox).where(col(SearchOutbox.processed_at).is_(None))).all())


def test_a_write_succeeds_while_the_search_server_is_down_and_is_caught_up_later(
    session: Session, server: FlakyServer
) -> None:
    supplier = make_supplier(session, "Downtime Proof Systems")  # committed although search is unreachable
    assert session.get(Supplier, supplier.id) is not None
    rows = waiting(session)
    assert [(r.index_name, r.document_id) for r in rows] == [(VENDORS, str(supplier.id))]
    assert rows[0].attempts == 1 and rows[0].last_error == "connection refused"

    server.up = True
    assert indexer.drain(session, server) == 1
    assert waiting(session) == []
    assert server.documents[VENDORS][str(supplier.id)]["name"] == "Downtime Proof Systems"


def test_with_the_server_up_a_change_is_applied_before_the_commit_returns(
    session: Session, server: FlakyServer
) -> None:
    server.up = True
    supplier = make_supplier(session, "Always Indexed Ltd")
    review = make_review(session, supplier, headline="Indexed at once")
    assert str(review.id) in server.documents["reviews"]
    assert waiting(session) == []

    review.status = ContentStatus.withdrawn
    session.add(review)
    session.commit()
    assert str(review.id) not in server.documents["reviews"]  # gone before the request that changed it returns


def test_the_embedded_index_changes_in_the_same_transaction_as_the_content(session: Session) -> None:
    backend, same_database = service.backend_for_session(session)
    supplier = make_supplier(session, "Quillfeather Housing")
    found = service.search(session, backend, index=VENDORS, params=SearchParams(q="quilfether"))
    assert [hit["name"] for hit in found["hits"]] == ["Quillfeather Housing"]
    assert waiting(session) == []  # applied in the same transaction (SQLite) or straight after it (PostgreSQL)

    supplier.name = "Renamed Holdings"
    session.add(supplier)
    session.rollback()  # a change that is rolled back never reaches the index
    found = service.search(session, backend, index=VENDORS, params=SearchParams(q="renamed"))
    assert found["hits"] == []
    assert same_database == (session.get_bind().dialect.name == "sqlite")
