"""Run the Alembic migrations from code (the CLI's `init` and the tests use this)."""

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.config import PROJECT_ROOT

OWN_TABLES_OF_THE_EMBEDDED_SEARCH = "search_"  # created by app/search/embedded.py itself, not by migrations


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """What Alembic compares: everything but the embedded search backend's own tables."""
    if type_ == "table" and name and name.startswith(OWN_TABLES_OF_THE_EMBEDDED_SEARCH):
        return name == "search_outbox"
    return True


def alembic_config() -> Config:
    return Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` up to `revision`."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
