"""Suppliers: the list officers browse and the profile each supplier has."""

from dataclasses import dataclass, field
from math import ceil

from sqlmodel import Session, col, func, or_, select

from app.errors import NotFound
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

PER_PAGE = 20


@dataclass
class Page:
    items: list[Supplier]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


@dataclass
class CouncilSales:
    council_name: str
    months: int
    first_month: str
    last_month: str


@dataclass
class SupplierProfile:
    supplier: Supplier
    aliases: list[str]
    categories: list[Category]
    products: list[Product]
    reviews: list[Review]
    pilots: list[Pilot]
    sales: list[CouncilSales] = field(default_factory=list)


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_suppliers(session: Session, *, q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Published suppliers by name, optionally those whose name or alias contains `q`."""
    query = select(Supplier).where(
        col(Supplier.status) == ContentStatus.published, col(Supplier.merged_into_id).is_(None)
    )
    term = q.strip()[:100]
    if term:
        aliased = select(SupplierAlias.supplier_id).where(
            func.lower(SupplierAlias.alias).like(_like(term), escape="\\")
        )
        query = query.where(
            or_(func.lower(Supplier.name).like(_like(term), escape="\\"), col(Supplier.id).in_(aliased))
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(1, min(page, max(1, ceil(total / per_page))))
    items = session.exec(query.order_by(func.lower(Supplier.name)).offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def get_supplier_profile(session: Session, *, slug: str) -> SupplierProfile:
    """A published supplier with its aliases, categories, products, published reviews and pilots, and sales."""
    supplier = session.exec(
        select(Supplier).where(Supplier.slug == slug, col(Supplier.status) == ContentStatus.published)
    ).first()
    if supplier is None or supplier.id is None:
        raise NotFound("There is no supplier at this address.")
    aliases = session.exec(select(SupplierAlias.alias).where(SupplierAlias.supplier_id == supplier.id)).all()
    categories = session.exec(
        select(Category)
        .join(SupplierCategory, col(SupplierCategory.category_id) == col(Category.id))
        .where(SupplierCategory.supplier_id == supplier.id)
        .order_by(col(Category.code))
    ).all()
    products = session.exec(select(Product).where(Product.supplier_id == supplier.id).order_by(col(Product.name))).all()
    reviews = session.exec(
        select(Review)
        .where(Review.supplier_id == supplier.id, col(Review.status) == ContentStatus.published)
        .order_by(col(Review.published_at).desc())
    ).all()
    pilots = session.exec(
        select(Pilot)
        .where(Pilot.supplier_id == supplier.id, col(Pilot.status) == ContentStatus.published)
        .order_by(col(Pilot.published_at).desc())
    ).all()
    sales_rows = session.exec(
        select(
            func.coalesce(Council.name, Sale.customer_name),
            func.count(func.distinct(Sale.month)),
            func.min(Sale.month),
            func.max(Sale.month),
        )
        .select_from(Sale)
        .outerjoin(Council, col(Council.id) == col(Sale.council_id))
        .where(Sale.supplier_id == supplier.id)
        .group_by(func.coalesce(Council.name, Sale.customer_name))
        .order_by(func.coalesce(Council.name, Sale.customer_name))
    ).all()
    sales = [
        CouncilSales(council_name=name, months=months, first_month=f"{first:%B %Y}", last_month=f"{last:%B %Y}")
        for name, months, first, last in sales_rows
    ]
    return SupplierProfile(
        supplier=supplier,
        aliases=list(aliases),
        categories=list(categories),
        products=list(products),
        reviews=list(reviews),
        pilots=list(pilots),
        sales=sales,
    )
