"""Search synonyms: groups of words and phrases that mean the same thing to someone searching, edited by admins.

Policy:
- Adding a group such as "CRM, customer relationship management" makes its terms mutual synonyms. Each term has one
  row (`Synonym`: term -> the terms it also finds), so a term added in two groups finds the terms of both.
- Terms are compared ignoring case and repeated spaces; a term keeps the spelling it was first given, for display.
- Removing a term removes it everywhere: its row, and its place in every other term's list. A term left with nothing
  to find goes too.
- Every change is written to the audit log in the same transaction, then applied to the settings of the three search
  indexes. When the search server does not answer, the change is kept and applies at the next start-up or
  `supplier-intel reindex`, which build their settings with `index_settings`.
"""

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Synonym, User
from app.moderation.sanitize import TextTooLong, clean_text
from app.search import documents
from app.search.base import IndexSettings, SearchBackend, SearchUnavailable

log = logging.getLogger(__name__)

FIELD = "terms"
MAX_TERM_LENGTH = 120  # the column's length
MAX_TERMS_IN_GROUP = 20
MAX_SYNONYMS_PER_TERM = 50  # Meilisearch ignores any beyond 50 for one term

DEFAULT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("CRM", "customer relationship management"),
    ("EDRMS", "electronic document and records management", "document management"),
    ("social care case management", "case management system"),
    ("Northgate", "NEC Software Solutions"),
    ("ERP", "enterprise resource planning"),
    ("HR", "human resources"),
    ("ICT", "information technology"),  # not "IT": it would also match the word "it"
)


@dataclass
class Change:
    """What a change did: the terms it touched, and whether the search indexes use it already."""

    terms: list[str]
    applied: bool


def _key(term: str) -> str:
    return " ".join(term.split()).casefold()


def parse_group(text: str) -> list[str]:
    """The distinct terms of a comma-separated group, or InvalidInput with a message for the form."""
    try:
        cleaned = clean_text(text, max_length=MAX_TERMS_IN_GROUP * (MAX_TERM_LENGTH + 2))
    except TextTooLong:
        raise InvalidInput({FIELD: f"Enter no more than {MAX_TERMS_IN_GROUP} words or phrases"}) from None
    terms: list[str] = []
    seen: set[str] = set()
    for part in cleaned.split(","):
        term = " ".join(part.split())
        if not term or _key(term) in seen:
            continue
        if len(term) > MAX_TERM_LENGTH:
            raise InvalidInput({FIELD: f"Each word or phrase must be {MAX_TERM_LENGTH} characters or fewer"})
        seen.add(_key(term))
        terms.append(term)
    if len(terms) < 2:
        raise InvalidInput({FIELD: "Enter at least 2 different words or phrases, separated by commas"})
    if len(terms) > MAX_TERMS_IN_GROUP:
        raise InvalidInput({FIELD: f"Enter no more than {MAX_TERMS_IN_GROUP} words or phrases"})
    return terms


def list_synonyms(session: Session) -> list[Synonym]:
    """Every term with the terms it also finds, in alphabetical order."""
    return sorted(session.exec(select(Synonym)).all(), key=lambda row: _key(row.term))


def synonym_map(session: Session) -> dict[str, list[str]]:
    """The synonyms as Meilisearch takes them: each term and the terms it also finds."""
    return {row.term: list(row.synonyms) for row in list_synonyms(session) if row.synonyms}


def index_settings(session: Session, index: str) -> IndexSettings:
    """An index's settings (from `documents.INDEXES`) with the synonyms of the database."""
    return dataclasses.replace(documents.INDEXES[index], synonyms=synonym_map(session))


def apply_synonyms(session: Session, backend: SearchBackend) -> bool:
    """Give the three indexes the current synonyms; False when the search server did not answer."""
    try:
        for index in documents.INDEX_NAMES:
            backend.configure(index, index_settings(session, index))
    except SearchUnavailable as error:
        log.warning("Synonyms saved but not applied to the search indexes: %s", error)
        return False
    return True


def _merge(session: Session, groups: Sequence[Sequence[str]]) -> list[Synonym]:
    """Add each group's terms as mutual synonyms to the rows in the session; return the rows touched."""
    rows = {_key(row.term): row for row in session.exec(select(Synonym)).all()}
    touched: dict[str, Synonym] = {}
    for group in groups:
        # A term already known keeps the spelling it was first given.
        terms = [rows[_key(term)].term if _key(term) in rows else term for term in group]
        for term in terms:
            row = rows.get(_key(term))
            if row is None:
                row = rows[_key(term)] = Synonym(term=term, synonyms=[])
            known = {_key(other) for other in row.synonyms}
            added = [other for other in terms if _key(other) != _key(term) and _key(other) not in known]
            if len(row.synonyms) + len(added) > MAX_SYNONYMS_PER_TERM:
                raise InvalidInput(
                    {FIELD: f"“{row.term}” would have more than {MAX_SYNONYMS_PER_TERM} synonyms. Remove some first"}
                )
            row.synonyms = [*row.synonyms, *added]  # a new list, so the JSON column is saved
            session.add(row)
            touched[_key(term)] = row
    return list(touched.values())


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("Someone else changed the synonyms at the same time. Check the list and try again.") from None


def add_group(session: Session, *, backend: SearchBackend, actor: User, text: str) -> Change:
    """Make the comma-separated terms of `text` mutual synonyms, record it, and apply it to the indexes."""
    terms = parse_group(text)
    try:
        rows = _merge(session, [terms])
    except InvalidInput:
        session.rollback()  # the rows merged so far must not reach the page that shows the error
        raise
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="synonyms_added",
        entity_type="synonym",
        entity_id=rows[0].id or 0,
        detail={"terms": terms},
    )
    _commit(session)
    return Change(terms=terms, applied=apply_synonyms(session, backend))


def delete_term(session: Session, *, backend: SearchBackend, actor: User, synonym_id: int) -> Change:
    """Stop a term finding anything and being found as a synonym; record it, and apply it to the indexes."""
    row = session.get(Synonym, synonym_id)
    if row is None:
        raise NotFound("There is no such synonym. Someone may have removed it already.")
    removed, key = row.term, _key(row.term)
    had = list(row.synonyms)
    session.delete(row)
    for other in session.exec(select(Synonym).where(Synonym.id != synonym_id)).all():
        kept = [term for term in other.synonyms if _key(term) != key]
        if len(kept) == len(other.synonyms):
            continue
        if kept:
            other.synonyms = kept
            session.add(other)
        else:
            session.delete(other)
    audit.record(
        session,
        actor=actor,
        action="synonym_removed",
        entity_type="synonym",
        entity_id=synonym_id,
        detail={"term": removed, "synonyms": had},
    )
    _commit(session)
    return Change(terms=[removed], applied=apply_synonyms(session, backend))


def seed_default_synonyms(session: Session) -> int:
    """Add the default synonyms for council technology when there are none yet; return how many terms were added.

    Only the database changes: the indexes take them from `index_settings` when they are next set up.
    """
    if session.exec(select(Synonym.id)).first() is not None:
        return 0
    rows = _merge(session, DEFAULT_GROUPS)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="synonyms_seeded",
        entity_type="synonym",
        entity_id=rows[0].id or 0,
        detail={"groups": [list(group) for group in DEFAULT_GROUPS]},
    )
    _commit(session)
    return len(rows)
