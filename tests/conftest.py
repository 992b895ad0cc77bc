"""Fixtures: every test that touches the database gets its own copy, on SQLite and on PostgreSQL.

Reference data is imported once per run into a template database (a file for SQLite, a template database for
PostgreSQL); each test then starts from a fresh copy of it. PostgreSQL is taken from TEST_POSTGRES_URL, by default
the CI machine's server at 127.0.0.1:5432; where none answers, the PostgreSQL variant of each test is skipped
with that reason.
"""

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app import migrations, reference
from app.config import get_settings
from app.db import get_engine, make_engine
from app.ratelimit import limiter

TEST_SECRET = "test-secret-key-that-is-long-enough-to-be-accepted-0123456789"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _build(url: str) -> None:
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
        with Session(engine) as session:
            reference.import_reference_data(session, get_settings().REFERENCE_DATA_DIR)
    finally:
        engine.dispose()
    for path in (url.removeprefix("sqlite:///"), str(get_settings().SEARCH_INDEX_PATH)):
        _checkpoint(path)


def _checkpoint(path: str) -> None:
    """Move everything from a SQLite file's write-ahead log into the file, so that a copy of it is complete."""
    if Path(path).exists():
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(autouse=True)
def _test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("SEARCH_INDEX_PATH", str(tmp_path / "search-index.db"))
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BASE_URL", "http://testserver")
    for name in ("MEILI_URL", "SMTP_HOST", "REDIS_URL"):  # REDIS_URL: tests that share counts set it themselves
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    limiter.reset()
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path] | None]:
    """A template database, and the embedded search index file built beside it (PostgreSQL has no FTS5)."""
    try:
        admin = _pg_admin()
    except psycopg.OperationalError:
        yield None
        return
    name = f"si_template_{uuid.uuid4().hex[:8]}"
    index = tmp_path_factory.mktemp("pg-template") / "search-index.db"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with _environment(SEARCH_INDEX_PATH=str(index)):
                _build(_with_database(POSTGRES_ADMIN_URL, name))
            yield name, index
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database with the reference data, on each backend in turn; DATABASE_URL points at it."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        get_engine.cache_clear()
        yield url
        return
    built = request.getfixturevalue("postgres_template")
    if built is None:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL to test on it)")
    template, index = built
    if index.exists():
        shutil.copyfile(index, tmp_path / "search-index.db")
    name = f"si_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _with_database(POSTGRES_ADMIN_URL, name)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield url
    finally:
        get_engine().dispose()
        get_engine.cache_clear()
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Engine:
    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app(), base_url="http://testserver") as test_client:
        yield test_client
