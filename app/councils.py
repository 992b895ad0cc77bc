"""Councils: the reference list every officer, review and pilot belongs to."""

from sqlmodel import Session, col, func, or_, select

from app.models import Council


def list_councils(session: Session, *, q: str | None = None, include_former: bool = False) -> list[Council]:
    """Councils by name; `q` matches part of the name or a whole GSS or register code, case-insensitively."""
    query = select(Council).order_by(col(Council.name))
    if not include_former:
        query = query.where(col(Council.current).is_(True))
    term = (q or "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses a NUL byte in a text parameter
    if term:
        like = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                func.lower(Council.name).like(like, escape="\\"),
                func.lower(Council.nice_name).like(like, escape="\\"),
                func.upper(Council.gss_code) == term.upper(),
                func.upper(Council.code) == term.upper(),
            )
        )
    return list(session.exec(query).all())
