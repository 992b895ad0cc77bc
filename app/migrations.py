"""Run the Alembic migrations from code (the CLI's `init` and the tests use this)."""

from alembic.config import Config
from sqlalchemy import Engine

from alembic import command
from app.config import PROJECT_ROOT


def alembic_config() -> Config:
    return Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` up to `revision`."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
