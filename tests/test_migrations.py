"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.migrations import include_name


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_the_schema_has_every_table_of_the_domain(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    expected = {
        "council",
        "council_domain",
        "app_user",
        "category",
        "supplier",
        "supplier_alias",
        "supplier_category",
        "product",
        "sale",
        "review",
        "pilot",
        "moderation_item",
        "finding",
        "moderation_decision",
        "redaction",
        "flag",
        "watched_term",
        "complaint",
        "contact_request",
        "synonym",
        "audit_log",
        "search_outbox",
        "mail_outbox",
        "sign_in_token",
        "user_session",
    }
    assert expected <= tables


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings do not apply to PostgreSQL")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
