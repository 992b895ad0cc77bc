"""What each search index holds, built from the database: published content only, redactions already applied.

Reviews kept private keep their ratings and facets but not their text. The reviewer is never in a document: only
their role and council, as on the page. Documents are built in batches, a fixed number of queries per batch, from
column selects (plain rows, no ORM objects: a full reindex builds every document, and objects cost more than the
rest of the work).
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, func
from sqlalchemy import select as select_columns
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.models import (
    Category,
    ContentStatus,
    Council,
    Pilot,
    Product,
    Review,
    Sale,
    Supplier,
    SupplierAlias,
    SupplierCategory,
)
from app.search.base import IndexSettings
from app.standard import PILOT_OUTCOMES, PILOT_STATUSES, RELATIONSHIPS

VENDORS, PILOTS, REVIEWS = "vendors", "pilots", "reviews"
INDEX_NAMES = (VENDORS, PILOTS, REVIEWS)

INDEXES: dict[str, IndexSettings] = {
    VENDORS: IndexSettings(
        searchable=["name", "aliases", "products", "categories", "description", "councils"],
        filterable=["categories", "service_areas", "council_types", "regions", "rating_band", "has_pilots", "is_demo"],
        sortable=["name", "overall", "review_count", "updated"],
    ),
    PILOTS: IndexSettings(
        searchable=["title", "supplier", "problem", "lessons", "service_area", "council"],
        filterable=["supplier_id", "service_area", "council_type", "region", "status", "outcome", "is_demo"],
        sortable=["published", "title"],
    ),
    REVIEWS: IndexSettings(
        searchable=["headline", "supplier", "product", "worked_well", "did_not_work", "advice", "service_area"],
        filterable=[
            "supplier_id",
            "service_area",
            "council_type",
            "region",
            "relationship",
            "rating_band",
            "overall",
            "recommend",
            "is_demo",
        ],
        sortable=["published", "overall"],
    ),
}

RATING_BANDS = ((9, "9-10"), (7, "7-8"), (5, "5-6"), (1, "1-4"))


def rating_band(score: float | None) -> str | None:
    """The band a 1–10 score falls in, for facets: 9-10, 7-8, 5-6 or 1-4."""
    if score is None:
        return None
    return next(label for low, label in RATING_BANDS if score >= low)


def _timestamp(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None


class _Council(NamedTuple):
    name: str
    type_name: str
    region: str


class _Supplier(NamedTuple):
    name: str
    slug: str


def _rows(session: Session, statement: Select[Any]) -> Sequence[Row[Any]]:
    """The rows of a select of many columns (sqlmodel's typed `select` stops at four), with the session's autoflush;
    sqlmodel's `Session.execute` is only a deprecation wrapper around this one."""
    return OrmSession.execute(session, statement).all()


def _councils(session: Session, ids: set[int]) -> dict[int, _Council]:
    rows = session.exec(
        select(Council.id, Council.name, Council.type_name, Council.region).where(col(Council.id).in_(ids))
    ).all()
    return {id_ or 0: _Council(name, type_name, region) for id_, name, type_name, region in rows}


def _supplier_names(session: Session, ids: set[int]) -> dict[int, _Supplier]:
    rows = session.exec(select(Supplier.id, Supplier.name, Supplier.slug).where(col(Supplier.id).in_(ids))).all()
    return {id_ or 0: _Supplier(name, slug) for id_, name, slug in rows}


def review_documents(session: Session, ids: Sequence[int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Documents for the published reviews among `ids`, and the ids to delete (the rest)."""
    reviews = _rows(
        session,
        select_columns(
            col(Review.id),
            col(Review.supplier_id),
            col(Review.product_id),
            col(Review.council_id),
            col(Review.author_role),
            col(Review.keep_text_private),
            col(Review.headline),
            col(Review.worked_well),
            col(Review.did_not_work),
            col(Review.advice),
            col(Review.service_area),
            col(Review.relationship),
            col(Review.overall),
            col(Review.recommend),
            col(Review.published_at),
            col(Review.is_demo),
        ).where(col(Review.id).in_(ids), col(Review.status) == ContentStatus.published),
    )
    councils = _councils(session, {r.council_id for r in reviews})
    suppliers = _supplier_names(session, {r.supplier_id for r in reviews})
    product_ids = {r.product_id for r in reviews if r.product_id}
    products = dict(session.exec(select(Product.id, Product.name).where(col(Product.id).in_(product_ids))).all())
    documents = []
    for review in reviews:
        council, supplier = councils[review.council_id], suppliers[review.supplier_id]
        text = (
            {}
            if review.keep_text_private
            else {
                "worked_well": review.worked_well,
                "did_not_work": review.did_not_work,
                "advice": review.advice,
            }
        )
        documents.append(
            {
                "id": str(review.id),
                "headline": None if review.keep_text_private else review.headline,
                **text,
                "private_text": review.keep_text_private,
                "supplier": supplier.name,
                "supplier_id": review.supplier_id,
                "supplier_slug": supplier.slug,
                "product": products.get(review.product_id),
                "reviewer": f"{review.author_role}, {council.name}",
                "council_type": council.type_name,
                "region": council.region,
                "service_area": review.service_area,
                "relationship": RELATIONSHIPS[review.relationship],
                "overall": review.overall,
                "rating_band": rating_band(review.overall),
                "recommend": review.recommend,
                "published": _timestamp(review.published_at),
                "is_demo": review.is_demo,
            }
        )
    found = {str(r.id) for r in reviews}
    return documents, [str(i) for i in ids if str(i) not in found]


def pilot_documents(session: Session, ids: Sequence[int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Documents for the published pilots among `ids`, and the ids to delete (the rest)."""
    pilots = _rows(
        session,
        select_columns(
            col(Pilot.id),
            col(Pilot.supplier_id),
            col(Pilot.council_id),
            col(Pilot.title),
            col(Pilot.problem),
            col(Pilot.lessons),
            col(Pilot.service_area),
            col(Pilot.pilot_status),
            col(Pilot.outcome),
            col(Pilot.nda),
            col(Pilot.published_at),
            col(Pilot.is_demo),
        ).where(col(Pilot.id).in_(ids), col(Pilot.status) == ContentStatus.published),
    )
    councils = _councils(session, {p.council_id for p in pilots})
    suppliers = _supplier_names(session, {p.supplier_id for p in pilots})
    documents = []
    for pilot in pilots:
        council, supplier = councils[pilot.council_id], suppliers[pilot.supplier_id]
        documents.append(
            {
                "id": str(pilot.id),
                "title": pilot.title,
                "problem": pilot.problem,
                "lessons": pilot.lessons,
                "supplier": supplier.name,
                "supplier_id": pilot.supplier_id,
                "supplier_slug": supplier.slug,
                "council": council.name,
                "council_type": council.type_name,
                "region": council.region,
                "service_area": pilot.service_area,
                "status": PILOT_STATUSES[pilot.pilot_status],
                "outcome": PILOT_OUTCOMES[pilot.outcome] if pilot.outcome else None,
                "nda": pilot.nda.value,
                "published": _timestamp(pilot.published_at),
                "is_demo": pilot.is_demo,
            }
        )
    found = {str(p.id) for p in pilots}
    return documents, [str(i) for i in ids if str(i) not in found]


def vendor_documents(session: Session, ids: Sequence[int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Documents for the listed suppliers among `ids` (with their aggregate scores), and the ids to delete."""
    suppliers = _rows(
        session,
        select_columns(
            col(Supplier.id),
            col(Supplier.slug),
            col(Supplier.name),
            col(Supplier.description),
            col(Supplier.is_demo),
            col(Supplier.created_at),
        ).where(
            col(Supplier.id).in_(ids),
            col(Supplier.status) == ContentStatus.published,
            col(Supplier.merged_into_id).is_(None),
        ),
    )
    found = [s.id or 0 for s in suppliers]
    aliases: dict[int, list[str]] = defaultdict(list)
    for supplier_id, alias in session.exec(
        select(SupplierAlias.supplier_id, SupplierAlias.alias).where(col(SupplierAlias.supplier_id).in_(found))
    ).all():
        aliases[supplier_id].append(alias)
    products: dict[int, list[str]] = defaultdict(list)
    for supplier_id, name in session.exec(
        select(Product.supplier_id, Product.name).where(col(Product.supplier_id).in_(found))
    ).all():
        products[supplier_id].append(name)
    categories: dict[int, list[str]] = defaultdict(list)
    for supplier_id, label in session.exec(
        select(SupplierCategory.supplier_id, Category.label)
        .join(Category, col(Category.id) == col(SupplierCategory.category_id))
        .where(col(SupplierCategory.supplier_id).in_(found))
    ).all():
        categories[supplier_id].append(label)
    scores = {
        supplier_id: (float(mean) if mean is not None else None, count)
        for supplier_id, mean, count in session.exec(
            select(Review.supplier_id, func.avg(Review.overall), func.count())
            .where(col(Review.supplier_id).in_(found), col(Review.status) == ContentStatus.published)
            .group_by(col(Review.supplier_id))
        ).all()
    }
    # Councils that used it (published reviews and pilots) or bought it (G-Cloud), with their types and regions.
    councils: dict[int, set[int]] = defaultdict(set)
    areas: dict[int, set[str]] = defaultdict(set)
    with_pilots: set[int] = set()
    for model in (Review, Pilot):
        for supplier_id, council_id, area in session.exec(
            select(model.supplier_id, model.council_id, model.service_area).where(
                col(model.supplier_id).in_(found), col(model.status) == ContentStatus.published
            )
        ).all():
            councils[supplier_id].add(council_id)
            areas[supplier_id].add(area)
            if model is Pilot:
                with_pilots.add(supplier_id)
    for supplier_id, sale_council in session.exec(
        select(Sale.supplier_id, Sale.council_id)
        .where(col(Sale.supplier_id).in_(found), col(Sale.council_id).is_not(None))
        .distinct()
    ).all():
        councils[supplier_id].add(sale_council or 0)
    council_rows = _councils(session, {c for ids_ in councils.values() for c in ids_})
    documents = []
    for supplier in suppliers:
        sid = supplier.id or 0
        mean, count = scores.get(sid, (None, 0))
        used_by = [council_rows[c] for c in sorted(councils[sid]) if c in council_rows]
        documents.append(
            {
                "id": str(sid),
                "slug": supplier.slug,
                "name": supplier.name,
                "aliases": sorted(aliases[sid]),
                "products": sorted(products[sid]),
                "categories": sorted(categories[sid]),
                "description": supplier.description,
                "councils": [c.name for c in used_by],
                "council_types": sorted({c.type_name for c in used_by}),
                "regions": sorted({c.region for c in used_by}),
                "service_areas": sorted(areas[sid]),
                "overall": round(mean, 1) if mean is not None else None,
                "rating_band": rating_band(mean),
                "review_count": count,
                "has_pilots": sid in with_pilots,
                "is_demo": supplier.is_demo,
                "updated": _timestamp(supplier.created_at),
            }
        )
    return documents, [str(i) for i in ids if i not in set(found)]


BUILDERS = {VENDORS: vendor_documents, PILOTS: pilot_documents, REVIEWS: review_documents}
MODELS: dict[str, type[Supplier] | type[Review] | type[Pilot]] = {VENDORS: Supplier, PILOTS: Pilot, REVIEWS: Review}


def all_ids(session: Session, index: str, *, batch: int = 1000) -> Iterator[list[int]]:
    """Every id an index could hold, in batches, for a full rebuild."""
    model = MODELS[index]
    last = 0
    while True:
        ids = list(
            session.exec(select(model.id).where(col(model.id) > last).order_by(col(model.id)).limit(batch)).all()
        )
        if not ids:
            return
        yield [i for i in ids if i is not None]
        last = ids[-1] or 0
