"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from app.migrations import include_name
from app.models import AuditLog


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


def test_the_audit_log_is_append_only_in_the_database(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(AuditLog(action="test", entity_type="review", entity_id="1"))
        session.commit()
    for statement in ("UPDATE audit_log SET action = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with Session(engine) as session:
        assert [row.action for row in session.exec(select(AuditLog)).all()] == ["test"]
