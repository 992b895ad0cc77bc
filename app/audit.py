"""The append-only audit log: who did what to which item, from which state to which.

Rows are only ever added, in the same transaction as the change they record. Nothing here updates or deletes.
Raw personal data found by screening is never written here: findings are recorded by detector and span only.
"""

from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditLog, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | str,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one entry to the log (committed with the caller's transaction)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        from_state=from_state,
        to_state=to_state,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def history(session: Session, *, entity_type: str, entity_id: int | str) -> list[AuditLog]:
    """Every entry about one item, oldest first."""
    return list(
        session.exec(
            select(AuditLog)
            .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
            .order_by(col(AuditLog.id))
        ).all()
    )
