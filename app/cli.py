"""The `supplier-intel` command: set up, seed, serve and administer the service."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        _prepare_search(session, engine, progress)
    console.print(
        f"{report.current_councils} current councils ({report.councils} with former ones), "
        f"{report.councils_with_domain} with an email domain; {report.domains} domains; "
        f"{report.categories} categories; {report.suppliers} suppliers ({report.aliases} other spellings); "
        f"{report.sales_to_councils} of {report.sales} G-Cloud sales linked to a council."
    )


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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        get_settings()
    except ValueError as error:
        errors.print(f"[red]Settings problem:[/red] {error}")
        raise SystemExit(2) from None
    cli()
