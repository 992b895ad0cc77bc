"""Every setting of the service, read from the environment (or a `.env` file) in one place."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "change-me-only-for-development"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class ErasureMode(StrEnum):
    anonymise = "anonymise"  # contributions stay, as "Former member", with personal data redacted
    delete = "delete"  # contributions are deleted


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    APP_ENV: Environment = Field(Environment.development, description="development, test or production")
    SECRET_KEY: str = Field(PLACEHOLDER_SECRET, description="Signs sign-in links, sessions, API tokens and CSRF tokens")
    DATABASE_URL: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'supplier-intel.db'}",
        description="SQLAlchemy URL; postgresql://... for PostgreSQL",
    )
    REFERENCE_DATA_DIR: Path = Field(
        PROJECT_ROOT.parent / "shared" / "data", description="Folder of the reference data files"
    )
    SEARCH_INDEX_PATH: Path = Field(
        PROJECT_ROOT / "var" / "search-index.db",
        description="Embedded search index file, used only with PostgreSQL and no MEILI_URL",
    )
    MEILI_URL: str | None = Field(None, description="Meilisearch server; unset uses the embedded search")
    MEILI_MASTER_KEY: str | None = Field(None, description="Meilisearch API key")
    REDIS_URL: str | None = Field(
        None,
        pattern=r"^(redis|rediss|unix)://",  # a bad address stops the service at start-up, not each sign-in
        description="Redis server shared by every instance for rate limits; unset counts in each process",
    )
    SMTP_HOST: str | None = Field(None, description="Mail server; unset writes mail to the outbox and log")
    SMTP_PORT: int = Field(587, description="Mail server port")
    SMTP_USER: str | None = Field(None, description="Mail server user name")
    SMTP_PASSWORD: str | None = Field(None, description="Mail server password")
    MAIL_FROM: str = Field(
        "Supplier Intelligence Exchange <no-reply@supplier-intel.localhost>",
        description="Sender of every email",
    )
    BASE_URL: str = Field("http://127.0.0.1:8000", description="Public address, used in emailed links")
    PORT: int = Field(8000, description="Port that `supplier-intel serve` listens on")
    ERASURE_MODE: ErasureMode = Field(
        ErasureMode.anonymise,
        description="What erasing a person does to their reviews and pilots: anonymise them, or delete them",
    )
    RETENTION_REJECTED_DAYS: int = Field(90, ge=1, description="Days a rejected submission is kept")
    RETENTION_CRIMINAL_DAYS: int = Field(
        30, ge=1, description="Days a submission rejected for alleging criminal conduct is kept"
    )
    RETENTION_CASE_FILE_MONTHS: int = Field(
        24, ge=1, description="Months content stays when it is part of a notice-of-complaint case"
    )
    RETENTION_INACTIVE_YEARS: int = Field(3, ge=1, description="Years without sign-in before an account is anonymised")

    @model_validator(mode="after")
    def refuse_placeholder_secret(self) -> Self:
        if self.APP_ENV != Environment.development and (
            self.SECRET_KEY == PLACEHOLDER_SECRET or len(self.SECRET_KEY) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters outside development "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        self.BASE_URL = self.BASE_URL.rstrip("/")
        return self

    @property
    def is_development(self) -> bool:
        return self.APP_ENV == Environment.development

    @property
    def uses_https(self) -> bool:
        return self.BASE_URL.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
