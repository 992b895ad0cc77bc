"""The benchmark corpus (`bench/corpus.py`): the same seed builds the same corpus, and its bulk path leaves the
database and the search indexes as loading every contribution through `app.contributions` does."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from app.config import get_settings
from app.db import make_engine
from app.search import documents
from app.search.base import SearchParams
from app.search.indexer import reindex
from app.search.service import backend_for
from bench.corpus import CorpusReport, fill_corpus

SIZES = {"reviews": 50, "suppliers": 400, "pilots": 12, "councils_with_officers": 2}
# Columns written at load time (when the rows were added, not when the contribution was made).
LOAD_TIME = {"audit_log": {"at"}, "finding": {"created_at"}, "moderation_item": {"opened_at"}}
TABLES = ("supplier", "product", "app_user", "review", "pilot", "finding", "moderation_item", "audit_log")


@pytest.fixture(autouse=True)
def _sqlite_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()


def _fresh(template: Path, tmp_path: Path, name: str) -> tuple[Engine, Path]:
    path = tmp_path / f"{name}.db"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}"), path


def _load(template: Path, tmp_path: Path, name: str, *, loader: str, seed: int = 7) -> tuple[Engine, CorpusReport]:
    engine, path = _fresh(template, tmp_path, name)
    report = fill_corpus(
        engine, database=path, seed=seed, progress=lambda *_: None, screened=True, loader=loader, **SIZES
    )
    if loader == "bulk":  # nothing is indexed while loading in bulk: the benchmark reindexes, as here
        backend, _ = backend_for(engine)
        with Session(engine) as session:
            for index in documents.INDEX_NAMES:
                reindex(session, backend, index=index)
    return engine, report


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables = SQLModel.metadata.tables
    with engine.connect() as connection:
        return {
            name: [
                {key: value for key, value in row._mapping.items() if key not in LOAD_TIME.get(name, set())}
                for row in connection.execute(select(tables[name]).order_by(tables[name].c.id))
            ]
            for name in TABLES
        }


def _documents(engine: Engine) -> dict[str, dict[str, Any]]:
    backend, _ = backend_for(engine)
    found = {}
    for index in documents.INDEX_NAMES:
        result = backend.search(index, SearchParams(q="", limit=1000))
        found[index] = {"total": result.get("estimatedTotalHits"), "hits": sorted(result["hits"], key=str)}
    return found


def test_same_seed_same_corpus_and_another_seed_differs(sqlite_template: Path, tmp_path: Path) -> None:
    first, report = _load(sqlite_template, tmp_path, "first", loader="bulk")
    second, _ = _load(sqlite_template, tmp_path, "second", loader="bulk")
    other, _ = _load(sqlite_template, tmp_path, "other", loader="bulk", seed=8)

    rows = _rows(first)
    assert rows == _rows(second)
    assert _documents(first) == _documents(second)
    assert [r["headline"] for r in rows["review"]] != [r["headline"] for r in _rows(other)["review"]]
    assert len(rows["review"]) == 50 and len(rows["pilot"]) == 12
    assert len(rows["supplier"]) >= 400
    # Contributions with a finding wait for a moderator, with their queue items; the rest are published.
    assert report.pending == len(rows["moderation_item"])
    assert {r["status"] for r in rows["review"]} >= {"published"}


def test_bulk_path_gives_the_state_the_service_functions_give(sqlite_template: Path, tmp_path: Path) -> None:
    bulk, bulk_report = _load(sqlite_template, tmp_path, "bulk", loader="bulk", seed=11)
    services, services_report = _load(sqlite_template, tmp_path, "services", loader="services", seed=11)

    bulk_rows, service_rows = _rows(bulk), _rows(services)
    for name in TABLES:
        assert bulk_rows[name] == service_rows[name], name
    assert bulk_report.findings == services_report.findings
    assert bulk_report.pending == services_report.pending
    assert _documents(bulk) == _documents(services)
    # Scores as the vendor pages and the API show them.
    from app import scores

    with Session(bulk) as left, Session(services) as right:
        for supplier_id in sorted({r["supplier_id"] for r in bulk_rows["review"]}):
            assert scores.supplier_score(left, supplier_id=supplier_id) == scores.supplier_score(
                right, supplier_id=supplier_id
            )


def test_a_larger_screened_corpus_has_findings(sqlite_template: Path, tmp_path: Path) -> None:
    engine, path = _fresh(sqlite_template, tmp_path, "findings")
    report = fill_corpus(
        engine,
        database=path,
        seed=3,
        progress=lambda *_: None,
        screened=True,
        reviews=600,
        suppliers=400,
        pilots=0,
        councils_with_officers=10,
    )
    rows = _rows(engine)
    assert report.findings == len(rows["finding"]) > 0
    flagged = {r["content_id"] for r in rows["finding"]}
    pending = {r["content_id"] for r in rows["moderation_item"]}
    assert flagged <= pending
    assert {r["id"] for r in rows["review"] if r["status"] == "pending"} == pending
