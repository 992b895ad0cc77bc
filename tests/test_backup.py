"""`supplier-intel backup` and `restore`, on SQLite and PostgreSQL: a restored database equals the original, row by
row in every table, and search still finds what it found before."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import accounts, audit, backup, contacts
from app.cli import cli
from app.config import get_settings
from app.db import get_engine, make_engine
from app.models import ContentStatus, ContentType, Review, Role, User
from app.search import documents
from app.search import service as search_service
from app.search.base import SearchParams
from tests.conftest import POSTGRES_ADMIN_URL, _pg_admin, _with_database
from tests.factories import BIRMINGHAM, make_pilot, make_review, make_supplier, make_user

runner = CliRunner()
HEADLINE = "Quillwort migration finished early"  # a word no other content has


def make_data(session: Session) -> Review:
    """Some of everything: users, a session, reviews in several states, a pilot, a contact request, audit rows."""
    peer = make_user(session, email="peer@birmingham.gov.uk", gss_code=BIRMINGHAM, name="Pat Peer")
    peer.open_to_contact = True
    session.add(peer)
    asker = make_user(session, email="asker@harrow.gov.uk", name="Siân Ó Ceallaigh-Łukasiewicz")
    make_user(session, email="mod@harrow.gov.uk", role=Role.moderator, name="Mo Derator")
    accounts.start_session(session, user=asker, settings=get_settings())
    session.commit()
    supplier = make_supplier(session, "Fenwick Ledger Systems", website="https://fenwick.example")
    review = make_review(session, supplier, gss_code=BIRMINGHAM, headline=HEADLINE)
    review.author_id = peer.id or 0
    session.add(review)
    session.commit()
    make_review(session, supplier, headline="Waiting for a moderator", status=ContentStatus.pending)
    make_review(session, supplier, headline="Émigré data, “quoted”, 日本語 and\nnew lines", scores="- - 4 4 - 3 3")
    make_pilot(session, supplier, title="Ledger pilot")
    contacts.create_request(
        session,
        requester=asker,
        about_type=ContentType.review,
        about_id=review.id or 0,
        message="How long did the migration take?",
        settings=get_settings(),
    )
    audit.record(
        session,
        actor=asker,
        action="backup_test",
        entity_type="review",
        entity_id=review.id or 0,
        from_state="a",
        to_state="b",
        detail={"nested": {"list": [1, 2.5, None, True]}, "text": "ünïcode"},
    )
    session.commit()
    session.refresh(review)
    return review


def table_contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the search index tables too, where they share the database), in a stable order."""
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        contents = {}
        for name in names:
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
            contents[name] = sorted((tuple(row) for row in rows), key=repr)
    return contents


def point_at(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind as `database_url` (no tables at all)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'restored.db'}"
        return
    name = f"si_restore_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_ADMIN_URL, name)
    finally:
        get_engine.cache_clear()
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def found_ids(engine: Engine, query: str) -> list[int]:
    backend, _ = search_service.backend_for(engine)
    with Session(engine) as session:
        result = search_service.search(session, backend, index=documents.REVIEWS, params=SearchParams(q=query))
    return [int(hit["id"]) for hit in result["hits"]]


def test_a_restored_database_equals_the_original_in_every_table(
    session: Session,
    engine: Engine,
    database_url: str,
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    review = make_data(session)
    assert found_ids(engine, "quillwort") == [review.id]
    before = table_contents(engine)
    assert len(before["audit_log"]) >= 2 and len(before["app_user"]) >= 3 and before["council"]

    file = tmp_path / "backups" / "nightly.backup"
    made = runner.invoke(cli, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    assert file.stat().st_size > 0 and file.stat().st_mode & 0o077 == 0  # only the owner may read a backup
    assert not list(file.parent.glob(".*partial"))
    index_copy = backup.index_path_for(file)
    assert index_copy.exists() == database_url.startswith("postgresql")  # SQLite keeps its index inside

    # Restore on "another machine": a new, empty database and, beside PostgreSQL, a new index file.
    point_at(monkeypatch, DATABASE_URL=fresh_database, SEARCH_INDEX_PATH=str(tmp_path / "restored-index.db"))
    restored = runner.invoke(cli, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert "run supplier-intel reindex" not in restored.output
    target = make_engine(fresh_database)
    try:
        after = table_contents(target)
        assert sorted(after) == sorted(before)
        for name in before:
            assert after[name] == before[name], f"table {name} differs after restore"
        # Search finds the review in the restored database, with the restored index.
        assert found_ids(target, "quillwort") == [review.id]
        # The restored database carries on: new rows get new ids (PostgreSQL's sequences came along).
        with Session(target) as restored_session:
            newest = max(user.id or 0 for user in restored_session.exec(select(User)).all())
            added = make_user(restored_session, email="new@harrow.gov.uk")
            assert (added.id or 0) > newest
    finally:
        target.dispose()


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    session: Session, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    review = make_data(session)
    file = tmp_path / "backup.dump"
    assert runner.invoke(cli, ["backup", str(file)]).exit_code == 0
    later = make_review(session, make_supplier(session, "Later Systems"), headline="Written after the backup")
    refused = runner.invoke(cli, ["restore", str(file)])
    assert refused.exit_code == 2
    assert "already has tables" in " ".join(refused.output.split()) and "--force" in refused.output
    assert "Traceback" not in refused.output
    kept_id, later_id = review.id, later.id
    session.expire_all()
    assert session.get(Review, later_id) is not None  # nothing was touched

    session.close()  # a restore over a database needs the service stopped: no one else connected
    engine.dispose()
    forced = runner.invoke(cli, ["restore", "--force", str(file)])
    assert forced.exit_code == 0, forced.output
    with Session(get_engine()) as fresh:
        assert fresh.get(Review, later_id) is None  # back to the state of the backup
        assert fresh.get(Review, kept_id) is not None


def test_backup_and_restore_explain_what_is_wrong(engine: Engine, tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    cases = [
        (["restore", str(tmp_path / "missing.backup")], "There is no backup file at"),
        (["restore", str(not_a_backup)], "is not a backup made by supplier-intel backup"),
        (["backup", str(tmp_path)], "is a folder"),
    ]
    if engine.dialect.name == "postgresql":
        sqlite_file = tmp_path / "other.db"
        sqlite_file.write_bytes(backup.SQLITE_MAGIC + b"\0" * 100)
        cases.append((["restore", str(sqlite_file)], "a backup of a sqlite database, but DATABASE_URL is postgresql"))
    for args, message in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output


def test_a_missing_pg_dump_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")  # never reached
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    result = runner.invoke(cli, ["backup", str(tmp_path / "x.backup")])
    assert result.exit_code == 2
    assert "pg_dump is not installed" in result.output and "postgresql-client" in result.output
    assert not (tmp_path / "x.backup").exists()


def test_a_failing_pg_dump_leaves_no_backup_file(tmp_path: Path) -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    with pytest.raises(backup.BackupError, match="pg_dump failed"):
        backup.backup(engine, tmp_path / "x.backup", settings=get_settings())
    assert list(tmp_path.iterdir()) == []


def test_sessions_outlive_a_restore(
    session: Session,
    database_url: str,
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sessions, sign-in tokens and their expiry times survive, so officers stay signed in after a restore."""
    user = make_user(session, email="officer@harrow.gov.uk")
    cookie = accounts.start_session(session, user=user, settings=get_settings())
    session.commit()
    file = tmp_path / "b.backup"
    assert runner.invoke(cli, ["backup", str(file)]).exit_code == 0
    point_at(monkeypatch, DATABASE_URL=fresh_database, SEARCH_INDEX_PATH=str(tmp_path / "restored-index.db"))
    assert runner.invoke(cli, ["restore", str(file)]).exit_code == 0
    target = make_engine(fresh_database)
    try:
        with Session(target) as restored:
            found = accounts.user_for_session(restored, cookie=cookie, settings=get_settings())
            assert found is not None and found.email == "officer@harrow.gov.uk"
            assert accounts.start_session(restored, user=found, settings=get_settings())
    finally:
        target.dispose()
