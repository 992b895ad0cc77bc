"""Backup and restore of the database, and of the embedded search index beside PostgreSQL.

- SQLite: the sqlite3 online backup API copies a consistent snapshot while the service runs. The embedded search
  index lives in the same file, so it comes along.
- PostgreSQL: `pg_dump -Fc` (custom format, compressed) writes PATH; `pg_restore` reads it back. With the embedded
  search (no MEILI_URL) the index is the SQLite file SEARCH_INDEX_PATH, copied with the online backup API to
  `PATH.search-index.db` straight after the dump. Content changed between the two is put right by a reindex; search
  results are checked against the database on read in any case, so nothing unpublished can show.
- Meilisearch is not backed up: after a restore, `supplier-intel reindex` rebuilds it from the database.

A restore goes only into an empty database (no tables), unless `force` is given: restoring over live data by mistake
would lose everything written since the backup.
"""

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from app.config import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
INDEX_SUFFIX = ".search-index.db"
LOCK_TIMEOUT_SECONDS = 15
PG_CLIENT_HINT = "Install Debian's postgresql-client (make pg-client, or apt-get install postgresql-client)."


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason and what to do about it."""


@dataclass(frozen=True)
class BackupReport:
    backend: str
    path: Path
    search_index: Path | None  # the copy of the embedded index beside PostgreSQL, if there is one
    size_bytes: int


@dataclass(frozen=True)
class RestoreReport:
    backend: str
    search_index_restored: bool
    needs_reindex: bool  # the search index was not part of the backup (Meilisearch, or a copy was missing)


def index_path_for(path: Path) -> Path:
    """Where the copy of the embedded search index goes beside a PostgreSQL dump."""
    return path.with_name(path.name + INDEX_SUFFIX)


def _embedded_index_file(engine: Engine, settings: Settings) -> Path | None:
    """The separate search index file, used with PostgreSQL and no Meilisearch (SQLite keeps it in the database)."""
    if settings.MEILI_URL or engine.dialect.name == "sqlite":
        return None
    return Path(settings.SEARCH_INDEX_PATH)


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: there is no file to back up or restore.")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a SQLite database with the online backup API: a consistent snapshot, even while others write to it."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, with no write-ahead log beside it


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside `target`, then rename it, so a failed backup leaves no half-written file.

    Backups hold personal data: only the owner may read them.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        write(partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump and pg_restore, with the password passed in the environment, not argv."""
    url: URL = engine.url.set(drivername="postgresql")
    # A restore that must wait for a lock (the service still running) fails with a reason instead of hanging.
    env = {**os.environ, "PGOPTIONS": f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}"}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed. {PG_CLIENT_HINT}")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{tool} failed: {' '.join(detail[-5:]) or f'exit status {result.returncode}'}")


def is_empty(engine: Engine) -> bool:
    """Whether the database has no tables at all (a new database, ready for a restore)."""
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine)
        if not path.exists() or path.stat().st_size == 0:
            return True
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
    return not names


def backup(engine: Engine, path: Path, *, settings: Settings) -> BackupReport:
    """Back up the database behind `engine` (and the embedded search index beside PostgreSQL) to `path`."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the name of the backup file to write.")
    if engine.dialect.name == "sqlite":
        source = _sqlite_path(engine)
        if not source.exists():
            raise BackupError(f"There is no database at {source} to back up.")
        if source.resolve() == path.resolve():
            raise BackupError("The backup file cannot be the database itself.")
        try:
            _write_atomically(path, lambda partial: _sqlite_copy(source, partial))
        except sqlite3.Error as error:
            raise BackupError(f"Could not back up {source}: {error}") from error
        return BackupReport(backend="sqlite", path=path, search_index=None, size_bytes=path.stat().st_size)
    if engine.dialect.name != "postgresql":
        raise BackupError(f"Backups are made of SQLite and PostgreSQL databases, not {engine.dialect.name}.")
    dsn, env = _libpq(engine)
    _write_atomically(path, lambda partial: _run(["pg_dump", "--format=custom", f"--file={partial}", dsn], env))
    index = _embedded_index_file(engine, settings)
    copied = None
    if index is not None and index.exists():
        copied = index_path_for(path)
        try:
            _write_atomically(copied, lambda partial: _sqlite_copy(index, partial))
        except sqlite3.Error as error:
            raise BackupError(f"Could not back up the search index {index}: {error}") from error
    return BackupReport(backend="postgresql", path=path, search_index=copied, size_bytes=path.stat().st_size)


def _kind_of(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by supplier-intel backup (neither SQLite nor pg_dump -Fc).")


def _check_sqlite_backup(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            ok = connection.execute("PRAGMA quick_check").fetchone()
            ours = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged: {error}") from error
    if not ok or ok[0] != "ok":
        raise BackupError(f"{path} is damaged: {ok[0] if ok else 'no answer from the integrity check'}")
    if ours is None:
        raise BackupError(f"{path} is a SQLite database, but not one of this service (it has no alembic_version).")


def restore(engine: Engine, path: Path, *, settings: Settings, force: bool = False) -> RestoreReport:
    """Restore a backup into the database behind `engine`: an empty one, or any with `force`."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    kind = _kind_of(path)
    if kind != engine.dialect.name:
        raise BackupError(
            f"{path} is a backup of a {kind} database, but DATABASE_URL is {engine.dialect.name}: "
            f"restore it into a {kind} database."
        )
    if not force and not is_empty(engine):
        raise BackupError(
            "The database already has tables: a restore would overwrite them. Restore into a new, empty database, "
            "or add --force to replace what is there."
        )
    engine.dispose()  # no pooled connection may hold the old contents open
    if kind == "sqlite":
        _check_sqlite_backup(path)
        target = _sqlite_path(engine)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with (
                closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src,
                closing(sqlite3.connect(target, timeout=LOCK_TIMEOUT_SECONDS)) as dst,
            ):
                src.backup(dst)
        except sqlite3.Error as error:
            raise BackupError(
                f"Could not restore into {target} ({error}): stop the service, then try again."
            ) from error
        engine.dispose()
        return RestoreReport(backend=kind, search_index_restored=True, needs_reindex=bool(settings.MEILI_URL))
    dsn, env = _libpq(engine)
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force:
        command += ["--clean", "--if-exists"]
    try:
        _run([*command, f"--dbname={dsn}", str(path)], env)
    except BackupError as error:
        if "lock timeout" in str(error):
            raise BackupError(f"{error} Stop the service (it holds the tables open), then try again.") from error
        raise
    engine.dispose()
    index = _embedded_index_file(engine, settings)
    copy = index_path_for(path)
    if index is None or not copy.exists():
        return RestoreReport(backend=kind, search_index_restored=False, needs_reindex=True)
    _check_index_copy(copy)
    index.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (index.with_name(index.name + "-wal"), index.with_name(index.name + "-shm")):
        leftover.unlink(missing_ok=True)
    try:
        _write_atomically(index, lambda partial: _sqlite_copy(copy, partial))
    except sqlite3.Error as error:
        raise BackupError(f"Could not restore the search index to {index}: {error}") from error
    return RestoreReport(backend=kind, search_index_restored=True, needs_reindex=False)


def _check_index_copy(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            ok = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"The search index copy {path} is damaged: {error}") from error
    if not ok or ok[0] != "ok":
        raise BackupError(f"The search index copy {path} is damaged.")
