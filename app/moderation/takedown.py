"""Taking published content down and putting it back: the one place a review or pilot leaves or re-enters view.

A change of status here is flushed in the caller's transaction; the search outbox (`app/search/indexer.py`) sees
the same flush, so on commit the item is gone from (or back in) the supplier page, the score, search and the API
before the request that asked for it returns. Every change is audited with its basis, which keeps statutory (s5)
removals apart from policy takedowns (DEF-8 in `research/moderation-legal.md`).

- `hidden`: taken down by a moderator under site policy; reversible.
- `removed`: removed after a complaint or by decision; reversible too until the record is deleted.
"""

from sqlmodel import Session

from app import audit
from app.contributions import Contribution, content_type_of
from app.errors import Conflict
from app.models import ContentStatus, User

TAKEN_DOWN = (ContentStatus.hidden, ContentStatus.removed)

# Why content was taken down (DEF-8): statutory removals under the s5 procedure, or site policy.
BASES = {
    "s5_no_response": "The poster did not reply to a notice of complaint in time",
    "s5_poster_request": "The poster asked for the statement to be removed",
    "s5_inadequate": "The poster's reply did not give a full name and postal address",
    "s5_no_contact_route": "The poster could not be contacted about a notice of complaint",
    "policy_flagged": "A moderator agreed with a flag",
    "policy_complaint_pending": "Hidden while a complaint is considered",
    "policy_personal_data": "It contains personal data",
    "policy_confidential": "It contains confidential commercial information",
    "policy_allegation": "It makes an allegation that could not be published",
    "policy_other": "Another reason, recorded in the note",
}


def take_down(
    session: Session,
    *,
    content: Contribution,
    status: ContentStatus,
    basis: str,
    actor: User | None,
    version: int | None = None,
    note: str | None = None,
) -> None:
    """Hide or remove a contribution; committed by the caller. A stale `version` changes nothing (409)."""
    if status not in TAKEN_DOWN:
        raise ValueError(f"take_down sets hidden or removed, not {status}")
    if basis not in BASES:
        raise ValueError(f"unknown take-down basis {basis!r}")
    _check_version(content, version)
    before = content.status
    content.status = status
    content.version += 1
    session.add(content)
    audit.record(
        session,
        actor=actor,
        action=status.value,
        entity_type=content_type_of(content).value,
        entity_id=content.id or 0,
        from_state=before.value,
        to_state=status.value,
        detail={"basis": basis, **({"note": note} if note else {})},
    )
    session.flush()


def restore(
    session: Session, *, content: Contribution, actor: User | None, version: int | None = None, note: str | None = None
) -> None:
    """Put hidden or removed content back in view; committed by the caller."""
    if content.status not in TAKEN_DOWN:
        raise Conflict("Only hidden or removed content can be restored.")
    _check_version(content, version)
    before = content.status
    content.status = ContentStatus.published
    content.version += 1
    session.add(content)
    audit.record(
        session,
        actor=actor,
        action="restored",
        entity_type=content_type_of(content).value,
        entity_id=content.id or 0,
        from_state=before.value,
        to_state=ContentStatus.published.value,
        detail={"note": note} if note else {},
    )
    session.flush()


def _check_version(content: Contribution, version: int | None) -> None:
    if version is not None and content.version != version:
        raise Conflict("Someone else changed this item first. Reload it to see what changed.")
