"""Changing the supplier list: officers propose a missing supplier; admins edit and merge suppliers.

A proposed supplier is screened like any contribution and waits for a moderator before it is listed. A merge
moves everything about one supplier to another and keeps the merged name as an alias, so old spellings and old
links still find it.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.mail import queue_mail
from app.models import (
    ContentStatus,
    ContentType,
    ModerationDecision,
    ModerationItem,
    Pilot,
    Product,
    QueueStatus,
    Review,
    Role,
    Sale,
    Severity,
    Supplier,
    SupplierAlias,
    SupplierCategory,
    User,
    utcnow,
)
from app.moderation import screening
from app.moderation.sanitize import clean_text
from app.reference import supplier_name_key

NAME_LIMIT = 200
DESCRIPTION_LIMIT = 2000


@dataclass
class SupplierData:
    name: str
    website: str | None
    description: str | None


def parse_supplier(raw: dict[str, Any]) -> SupplierData:
    """Check a supplier's name, website and description; raise InvalidInput with a message per field."""
    errors: dict[str, str] = {}
    name = clean_text(str(raw.get("name") or ""))
    if not name:
        errors["name"] = "Enter the supplier's name"
    elif len(name) > NAME_LIMIT:
        errors["name"] = f"Name must be {NAME_LIMIT} characters or fewer"
    elif not supplier_name_key(name):
        errors["name"] = "Enter a name with letters or numbers in it"
    website = str(raw.get("website") or "").strip() or None
    if website and (not website.startswith(("https://", "http://")) or len(website) > 300 or " " in website):
        errors["website"] = "Enter the website as a full address, like https://www.example.co.uk"
    description = clean_text(str(raw.get("description") or "")) or None
    if description and len(description) > DESCRIPTION_LIMIT:
        errors["description"] = f"Description must be {DESCRIPTION_LIMIT:,} characters or fewer"
    if errors:
        raise InvalidInput(errors)
    return SupplierData(name=name, website=website, description=description)


def find_by_name(session: Session, name: str) -> Supplier | None:
    """The supplier that a name (or any known spelling of it) already belongs to."""
    key = supplier_name_key(name)
    supplier = session.exec(select(Supplier).where(Supplier.name_key == key)).first()
    if supplier is None:
        alias = session.exec(select(SupplierAlias).where(SupplierAlias.alias_key == key)).first()
        supplier = session.get(Supplier, alias.supplier_id) if alias else None
    while supplier is not None and supplier.merged_into_id is not None:
        supplier = session.get(Supplier, supplier.merged_into_id)
    return supplier


def _unique_slug(session: Session, name: str) -> str:
    base = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())[:100] or "supplier"
    slug, n = base, 1
    while session.exec(select(Supplier.id).where(Supplier.slug == slug)).first() is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def propose(session: Session, *, author: User, data: SupplierData) -> Supplier:
    """An officer adds a missing supplier: screened, then listed once a moderator approves it."""
    existing = find_by_name(session, data.name)
    if existing is not None:
        raise InvalidInput({"name": f"{existing.name} is already listed: search for it instead"})
    supplier = Supplier(
        slug=_unique_slug(session, data.name),
        name=data.name,
        name_key=supplier_name_key(data.name),
        website=data.website,
        description=data.description,
        status=ContentStatus.pending,
        added_by_id=author.id,
    )
    session.add(supplier)
    session.flush()
    hits = screening.screen_fields(
        {"name": data.name, "description": data.description}, allowlist=screening.load_allowlist(session)
    )
    session.add(
        ModerationItem(
            content_type=ContentType.supplier,
            content_id=supplier.id or 0,
            severity=screening.highest_severity(hits) or Severity.low,
            score=len(hits),
            needs_two_moderators=screening.highest_severity(hits) == Severity.critical,
        )
    )
    audit.record(
        session,
        actor=author,
        action="supplier_proposed",
        entity_type="supplier",
        entity_id=supplier.id or 0,
        to_state=ContentStatus.pending.value,
        detail={"findings": [{"detector": h.detector, "field": h.field, "start": h.start, "end": h.end} for h in hits]},
    )
    session.commit()
    session.refresh(supplier)
    screening.invalidate_allowlist()
    return supplier


def _require_admin(user: User) -> None:
    if user.role != Role.admin:
        raise NotAllowed("Only administrators can change suppliers.")


def get_by_slug(session: Session, slug: str) -> Supplier:
    supplier = session.exec(select(Supplier).where(Supplier.slug == slug)).first()
    if supplier is None:
        raise NotFound("There is no supplier at this address.")
    return supplier


def update_supplier(session: Session, *, admin: User, supplier: Supplier, data: SupplierData) -> Supplier:
    """An admin corrects a supplier's name, website or description; an old name stays findable as an alias."""
    _require_admin(admin)
    key = supplier_name_key(data.name)
    clash = find_by_name(session, data.name)
    if clash is not None and clash.id != supplier.id:
        raise InvalidInput({"name": f"{clash.name} already has this name: merge the two suppliers instead"})
    before = supplier.name
    if key != supplier.name_key:
        _add_alias(session, supplier=supplier, alias=supplier.name)
        supplier.name_key = key
    supplier.name, supplier.website, supplier.description = data.name, data.website, data.description
    session.add(supplier)
    audit.record(
        session,
        actor=admin,
        action="supplier_edited",
        entity_type="supplier",
        entity_id=supplier.id or 0,
        detail={"name_before": before, "name_after": data.name},
    )
    session.commit()
    session.refresh(supplier)
    screening.invalidate_allowlist()
    return supplier


def _add_alias(session: Session, *, supplier: Supplier, alias: str) -> None:
    key = supplier_name_key(alias)
    existing = session.exec(select(SupplierAlias).where(SupplierAlias.alias_key == key)).first()
    if existing is None:
        session.add(SupplierAlias(supplier_id=supplier.id or 0, alias=alias, alias_key=key))
    else:
        existing.supplier_id = supplier.id or 0
        session.add(existing)


def merge(session: Session, *, admin: User, source: Supplier, target: Supplier) -> Supplier:
    """Merge `source` into `target`: its reviews, pilots, sales, products, categories and names move over."""
    _require_admin(admin)
    if source.id == target.id or target.merged_into_id is not None or source.merged_into_id is not None:
        raise InvalidInput({"target": "Choose two different suppliers that have not been merged already"})
    assert source.id is not None and target.id is not None
    for model in (Review, Pilot, Sale):
        session.execute(update(model).where(col(model.supplier_id) == source.id).values(supplier_id=target.id))
    target_products = {
        p.name.casefold(): p for p in session.exec(select(Product).where(Product.supplier_id == target.id))
    }
    for product in session.exec(select(Product).where(Product.supplier_id == source.id)).all():
        same = target_products.get(product.name.casefold())
        if same is None:
            product.supplier_id = target.id
            session.add(product)
        else:
            for model in (Review, Pilot):
                session.execute(update(model).where(col(model.product_id) == product.id).values(product_id=same.id))
            session.delete(product)
    target_categories = set(
        session.exec(select(SupplierCategory.category_id).where(SupplierCategory.supplier_id == target.id)).all()
    )
    for link in session.exec(select(SupplierCategory).where(SupplierCategory.supplier_id == source.id)).all():
        if link.category_id not in target_categories:
            session.add(SupplierCategory(supplier_id=target.id, category_id=link.category_id))
        session.delete(link)
    session.execute(
        update(SupplierAlias).where(col(SupplierAlias.supplier_id) == source.id).values(supplier_id=target.id)
    )
    session.flush()
    # The merged supplier's own name becomes an alias; its key is freed for the alias.
    source_name, source_key = source.name, source.name_key
    source.name_key = f"merged-{source.id}-{source_key}"[:200]
    source.merged_into_id = target.id
    session.add(source)
    session.flush()
    alias = session.exec(select(SupplierAlias).where(SupplierAlias.alias_key == source_key)).first()
    if alias is None:
        session.add(SupplierAlias(supplier_id=target.id, alias=source_name, alias_key=source_key))
    audit.record(
        session,
        actor=admin,
        action="supplier_merged",
        entity_type="supplier",
        entity_id=source.id,
        detail={"into": target.id, "name": source_name},
    )
    session.commit()
    session.refresh(target)
    screening.invalidate_allowlist()
    return target


def resolve(session: Session, supplier: Supplier) -> Supplier:
    """Follow merges to the supplier that now stands for this one."""
    while supplier.merged_into_id is not None:
        merged = session.get(Supplier, supplier.merged_into_id)
        assert merged is not None
        supplier = merged
    return supplier


@dataclass
class Proposal:
    supplier: Supplier
    item: ModerationItem
    proposer: User | None


def list_proposed(session: Session) -> list[Proposal]:
    """Suppliers officers proposed that wait for a moderator, oldest first (two queries)."""
    rows = session.exec(
        select(ModerationItem, Supplier)
        .join(Supplier, col(Supplier.id) == col(ModerationItem.content_id))
        .where(ModerationItem.content_type == ContentType.supplier, ModerationItem.status == QueueStatus.open)
        .order_by(col(ModerationItem.opened_at))
    ).all()
    proposer_ids = {s.added_by_id for _, s in rows if s.added_by_id}
    proposers = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(proposer_ids))).all()}
    return [Proposal(s, item, proposers.get(s.added_by_id)) for item, s in rows]


def decide_proposed(session: Session, *, moderator: User, supplier_id: int, version: int, approve: bool) -> Supplier:
    """A moderator lists a proposed supplier, or turns it down (a duplicate, not a supplier, unsuitable)."""
    supplier = session.get(Supplier, supplier_id)
    item = session.exec(
        select(ModerationItem).where(
            ModerationItem.content_type == ContentType.supplier,
            ModerationItem.content_id == supplier_id,
            ModerationItem.status == QueueStatus.open,
        )
    ).first()
    if supplier is None or item is None:
        raise NotFound("There is no proposed supplier waiting at this address.")
    if supplier.added_by_id == moderator.id:
        raise NotAllowed("You cannot decide on a supplier you proposed: another moderator must.")
    claimed = session.execute(
        update(ModerationItem)
        .where(col(ModerationItem.id) == item.id, col(ModerationItem.version) == version)
        .values(version=version + 1, status=QueueStatus.decided, decided_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("Someone else acted on this supplier first. Reload the queue to see what changed.")
    supplier.status = ContentStatus.published if approve else ContentStatus.rejected
    session.add(supplier)
    session.add(
        ModerationDecision(
            item_id=item.id or 0, moderator_id=moderator.id or 0, action="approve" if approve else "reject"
        )
    )
    audit.record(
        session,
        actor=moderator,
        action="supplier_approved" if approve else "supplier_rejected",
        entity_type="supplier",
        entity_id=supplier.id or 0,
        from_state=ContentStatus.pending.value,
        to_state=supplier.status.value,
    )
    if supplier.added_by_id:
        proposer = session.get(User, supplier.added_by_id)
        if proposer is not None:
            outcome = "is now listed" if approve else "was not added to the list"
            queue_mail(
                session,
                to=proposer.email,
                subject=f"The supplier you proposed {outcome}",
                body_text=f"{supplier.name}, the supplier you proposed, {outcome}.",
                kind="moderation_outcome",
            )
    session.commit()
    session.refresh(supplier)
    screening.invalidate_allowlist()
    return supplier
