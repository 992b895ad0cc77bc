"""The `supplier-intel` command: set up, seed, serve and administer the service."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import accounts
from app.config import get_settings
from app.db import get_engine
from app.errors import DomainError
from app.models import Council, Role

cli = typer.Typer(help="Supplier Intelligence Exchange: set up, seed, serve and administer.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A terminal progress bar fed by `progress(step, done, total)` calls from long work."""
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update


def fail(message: str) -> typer.Exit:
    errors.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code=2)


@cli.command()
def init() -> None:
    """Create or migrate the database and load the reference data (idempotent)."""
    from app import migrations, reference, synonyms
    from app.moderation import watched

    settings = get_settings()
    engine = get_engine()
    console.print(f"Migrating {engine.url.render_as_string(hide_password=True)}")
    migrations.upgrade(engine)
    console.print(f"Loading reference data from {settings.REFERENCE_DATA_DIR}")
    with Session(engine) as session, progress_bar() as progress:
        try:
            report = reference.import_reference_data(session, settings.REFERENCE_DATA_DIR, progress=progress)
        except reference.ReferenceDataError as error:
            raise fail(str(error)) from None
        synonyms.seed_default_synonyms(session)
        watched_terms = watched.seed_watched_terms(session)
        _prepare_search(session, engine, progress)
    console.print(
        f"{report.current_councils} current councils ({report.councils} with former ones), "
        f"{report.councils_with_domain} with an email domain; {report.domains} domains; "
        f"{report.categories} categories; {report.suppliers} suppliers ({report.aliases} other spellings); "
        f"{report.sales_to_councils} of {report.sales} G-Cloud sales linked to a council."
    )
    if watched_terms:
        console.print(f"{watched_terms} watched terms added from the default lists.")


def _prepare_search(session: Session, engine: Engine, progress: Callable[[str, int, int], None]) -> None:
    """Apply the index settings, and fill any index that is empty (a new search server, say)."""
    from app.search import documents, indexer
    from app.search.base import SearchUnavailable
    from app.search.service import backend_for, ensure_indexes

    backend, _ = backend_for(engine)
    try:
        ensure_indexes(session, backend)
        for name in documents.INDEX_NAMES:
            if backend.count(name) == 0:
                indexer.reindex(session, backend, index=name, progress=progress)
        indexer.drain(session, backend)
    except SearchUnavailable as error:
        errors.print(f"[yellow]Search is not reachable ({error}); run supplier-intel reindex once it is.[/yellow]")


@cli.command()
def reindex(
    index: Annotated[
        str | None, typer.Option("--index", help="vendors, pilots or reviews (default: all three)")
    ] = None,
) -> None:
    """Rebuild search indexes from the database, with a progress bar."""
    from app.search import documents, indexer
    from app.search.service import backend_for

    names = [index] if index else list(documents.INDEX_NAMES)
    unknown = [name for name in names if name not in documents.INDEXES]
    if unknown:
        raise fail(f"There is no index called {unknown[0]}. Choose one of: {', '.join(documents.INDEX_NAMES)}")
    engine = get_engine()
    backend, _ = backend_for(engine)
    with Session(engine) as session, progress_bar() as progress:
        counts = {name: indexer.reindex(session, backend, index=name, progress=progress) for name in names}
    console.print("Indexed " + ", ".join(f"{count} {name}" for name, count in counts.items()) + ".")


@cli.command("drain-search")
def drain_search() -> None:
    """Apply index changes waiting in the search outbox (after the search server was unreachable)."""
    from app.search import indexer
    from app.search.service import backend_for

    engine = get_engine()
    backend, _ = backend_for(engine)
    with Session(engine) as session:
        done = indexer.drain(session, backend)
        left = indexer.pending(session)
    console.print(f"Applied {done} index changes; {left} still waiting.")


@cli.command("send-mail")
def send_mail() -> None:
    """Deliver the mail that is due from the mail outbox (run it from a timer; failed mail is retried later)."""
    from app import mail

    mailer = mail.mailer_for(get_settings())
    sent = 0
    with Session(get_engine()) as session:
        while True:
            batch = mail.deliver_queued(session, mailer, limit=mail.BATCH_SIZE)
            sent += batch
            if batch < mail.BATCH_SIZE:  # all due mail is sent, or the server failed
                break
        waiting = mail.count_waiting(session)
        given_up = mail.count_given_up(session)
    console.print(f"Sent {sent} email{'' if sent == 1 else 's'}; {waiting} still waiting.")
    if given_up:
        errors.print(
            f"[yellow]{given_up} emails were given up after {mail.MAX_ATTEMPTS} attempts "
            "(see last_error in the mail_outbox table).[/yellow]"
        )


@cli.command("seed-demo")
def seed_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only when there are no users yet")] = False,
) -> None:
    """Add fictional demo suppliers, officers, reviews and pilots (idempotent)."""
    from app import demo

    with Session(get_engine()) as session:
        if session.exec(select(Council)).first() is None:
            raise fail("Load the reference data first: supplier-intel init")
        if if_empty and demo.has_content(session):
            console.print("The database already has content: no demo data added.")
            return
        try:
            report = demo.seed_demo(session)
        except demo.DemoDataError as error:
            raise fail(str(error)) from None
    verb = "Added" if report.created else "Demo data already present:"
    console.print(
        f"{verb} {report.suppliers} demo suppliers, {report.officers} officers, "
        f"{report.reviews} reviews and {report.pilots} pilots."
    )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: the PORT setting)")] = None,
    reload: Annotated[bool, typer.Option(help="Restart when code changes (development)")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the site and the API."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port or settings.PORT,
        reload=reload,
        workers=None if reload else workers,
        proxy_headers=True,
    )


@cli.command("create-user")
def create_user(
    email: str,
    role: Annotated[Role, typer.Option(help="officer, moderator or admin")] = Role.officer,
    name: Annotated[str | None, typer.Option(help="Full name")] = None,
) -> None:
    """Create a user, or change an existing user's role; the council comes from the email domain."""
    with Session(get_engine()) as session:
        try:
            user = accounts.create_user(session, raw_email=email, role=role, name=name)
        except DomainError as error:
            raise fail(error.message) from None
        council = accounts.council_of(session, user)
        console.print(f"{user.email}: {user.role.value} at {council.name} ({council.gss_code})")


@cli.command("login-link")
def login_link(email: str) -> None:
    """Print a one-time sign-in link (valid for 15 minutes) for a council email address."""
    settings = get_settings()
    with Session(get_engine()) as session:
        try:
            link = accounts.create_sign_in_link(session, raw_email=email, settings=settings)
        except DomainError as error:
            raise fail(error.message) from None
        council = f"{link.council.name} ({link.council.gss_code})"
        session.commit()
    errors.print(f"Sign-in link for {link.email}, an officer of {council}:", soft_wrap=True)
    console.print(link.url, soft_wrap=True, highlight=False)


@cli.command("api-token")
def api_token(email: str) -> None:
    """Print a bearer token (valid for 90 days) for the JSON API, for an existing user."""
    with Session(get_engine()) as session:
        try:
            token = accounts.issue_api_token(session, email=email, settings=get_settings())
        except DomainError as error:
            raise fail(error.message) from None
    console.print(token, soft_wrap=True, highlight=False)


@cli.command("expire-contacts")
def expire_contacts() -> None:
    """Expire contact requests with no answer after 14 days, and tell each requester (run daily)."""
    from app import contacts
    from app.mail import deliver_queued, mailer_for

    with Session(get_engine()) as session:
        count = contacts.expire_overdue(session)
        deliver_queued(session, mailer_for(get_settings()))
    console.print(f"{count} contact request{'' if count == 1 else 's'} expired.")


@cli.command()
def erase(
    email: str,
    mode: Annotated[
        str | None, typer.Option(help="anonymise or delete their contributions (default: the ERASURE_MODE setting)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase a person's data: close and anonymise the account, anonymise or delete what they wrote."""
    from app import datarights
    from app.config import ErasureMode

    settings = get_settings()
    try:
        chosen = ErasureMode(mode) if mode else settings.ERASURE_MODE
    except ValueError:
        raise fail(f"--mode must be anonymise or delete, not {mode}") from None
    with Session(get_engine()) as session:
        try:
            user = accounts.get_user_by_email(session, email=email)
        except DomainError as error:
            raise fail(error.message) from None
        question = f"Erase {user.email} and {chosen.value} their contributions? This cannot be undone"
        if not yes and not typer.confirm(question):
            raise typer.Exit(code=1)
        try:
            report = datarights.erase_person(session, user, None, chosen, settings=settings)
        except DomainError as error:
            raise fail(error.message) from None
    console.print(
        f"Erased {email.strip().lower()} (user {report.user_id}): {report.anonymised} contributions anonymised, "
        f"{report.deleted} deleted, {report.kept_for_case} kept for a complaint case; "
        f"{report.contacts_withdrawn} contact requests withdrawn, {report.sessions_ended} sessions ended.",
        soft_wrap=True,
    )


@cli.command()
def retention() -> None:
    """Apply the retention schedule: purge old rejected submissions, anonymise inactive accounts (run daily)."""
    from app import retention as schedule

    with Session(get_engine()) as session:
        report = schedule.run(session, settings=get_settings())
    console.print(report.summary(), soft_wrap=True)


@cli.command("complaints-due")
def complaints_due() -> None:
    """Remove statements whose poster did not reply to a notice of complaint in time, telling each complainant
    (run from a timer, at least hourly)."""
    from app import complaints
    from app.mail import deliver_queued, mailer_for

    with Session(get_engine()) as session:
        done = complaints.run_due(session)
        deliver_queued(session, mailer_for(get_settings()))
    for action in done:
        console.print(f"Complaint {action.complaint_id}: statement removed ({action.action}).")
    console.print(f"{len(done)} statement{'' if len(done) == 1 else 's'} removed after no reply.")


@cli.command("bench-corpus")
def bench_corpus(
    reviews: Annotated[int, typer.Option(help="Reviews (1,000,000 possible)")] = 200_000,
    suppliers: Annotated[int, typer.Option(help="Suppliers in all, the real G-Cloud ones included")] = 5_000,
    pilots: Annotated[int, typer.Option(help="Pilot records")] = 20_000,
    seed: Annotated[int, typer.Option(help="The same seed and sizes build the same corpus")] = 2026,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="An EMPTY database (default: the DATABASE_URL setting)")
    ] = None,
) -> None:
    """Build the benchmark corpus into an empty database, then index it (never a database that is served)."""
    import sys
    import time
    from pathlib import Path

    from sqlalchemy import inspect

    from app.config import PROJECT_ROOT
    from app.db import make_engine
    from app.search import documents, indexer
    from app.search.service import backend_for

    if str(PROJECT_ROOT) not in sys.path:  # bench/ sits beside app/ in the project folder, outside the package
        sys.path.insert(0, str(PROJECT_ROOT))
    from bench.corpus import build_corpus

    settings = get_settings()
    engine = make_engine(database_url) if database_url else get_engine()
    if inspect(engine).has_table("review"):
        raise fail(f"{engine.url.render_as_string(hide_password=True)} already has tables: give an empty database.")
    database = Path(engine.url.database or "")
    console.print(f"Building {reviews:,} reviews into {engine.url.render_as_string(hide_password=True)}")
    with progress_bar() as progress:
        report = build_corpus(
            engine,
            database=database,
            data_dir=settings.REFERENCE_DATA_DIR,
            reviews=reviews,
            suppliers=suppliers,
            pilots=pilots,
            seed=seed,
            progress=progress,
            screened=True,
        )
        backend, _ = backend_for(engine)
        started = time.perf_counter()
        with Session(engine) as session:
            counts = {
                name: indexer.reindex(session, backend, index=name, progress=progress) for name in documents.INDEX_NAMES
            }
    console.print(
        f"{report.real_suppliers + report.generated_suppliers:,} suppliers, {report.officers:,} officers, "
        f"{report.reviews:,} reviews and {report.pilots:,} pilots ({report.pending:,} waiting for a moderator, "
        f"{report.findings:,} findings); indexed {sum(counts.values()):,} documents in "
        f"{time.perf_counter() - started:.0f} s."
    )


@cli.command()
def backup(path: Annotated[Path, typer.Argument(help="The backup file to write")]) -> None:
    """Back up the database (SQLite online backup, or pg_dump -Fc) and the embedded search index beside it."""
    from app import backup as backups

    try:
        report = backups.backup(get_engine(), path, settings=get_settings())
    except backups.BackupError as error:
        raise fail(str(error)) from None
    console.print(f"Backed up the {report.backend} database to {report.path} ({report.size_bytes:,} bytes).")
    if report.search_index is not None:
        console.print(f"Backed up the search index to {report.search_index}.")


@cli.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by supplier-intel backup")],
    force: Annotated[bool, typer.Option("--force", help="Replace what a database that is not empty holds")] = False,
) -> None:
    """Restore a backup into an empty database (stop the service first); --force replaces what is there."""
    from app import backup as backups

    try:
        report = backups.restore(get_engine(), path, settings=get_settings(), force=force)
    except backups.BackupError as error:
        raise fail(str(error)) from None
    console.print(f"Restored the {report.backend} database from {path}.")
    if report.needs_reindex:
        errors.print("[yellow]The backup holds no search index for this setup: run supplier-intel reindex.[/yellow]")
    console.print("If the backup comes from an older release, run supplier-intel init to migrate it.")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        get_settings()
    except ValueError as error:
        errors.print(f"[red]Settings problem:[/red] {error}")
        raise SystemExit(2) from None
    cli()
