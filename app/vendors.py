"""Suppliers: the list officers browse and the profile each supplier has.

What a profile may show (`product.md`, "Who can see what"):
- A reviewer appears as role and council ("Digital lead, London Borough of Harrow"). The author's user row is never
  loaded here, so a name or an email address cannot reach a page by mistake.
- A review whose author kept the written part private shows its ratings only: its text never leaves this module.
- Contract facts (route, contract end, cost band, an exact cost with the link where it is published) are for
  signed-in officers only; they travel in `ContractFacts` and render from `vendors/_contract_facts.html`, the one
  place to gate them if profiles are ever shown to anyone else. The written part of a pilot run under an NDA (yes or
  unknown) is members-only in the same way (`ShownPilot.members_only`).
- Only published reviews and pilots appear, and only published reviews count towards the score (`app.scores`).

A profile costs a fixed number of queries, whatever the number of reviews, pilots and sales: reviews and pilots come
a page at a time (`REVIEWS_PER_PAGE`, `PILOTS_PER_PAGE`), each with its own page number in the address.

What is computed over all of a supplier's published reviews, pilots and sales (its score, the review counts behind the
filters, the councils that use it, the number of pilots) is cached per supplier (`aggregates`): forgotten as soon as
this process commits a change to the supplier's reviews, pilots or sales (a publication, a take-down, an edit), and
recomputed at least every `AGGREGATES_SECONDS`, for changes made by another process.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import chain
from math import ceil
from typing import Any, Literal
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import get_history
from sqlmodel import Session, col, func, or_, select

from app.errors import Moved, NotFound
from app.models import (
    Category,
    ContentStatus,
    CostBand,
    Council,
    NdaStatus,
    Pilot,
    PilotOutcome,
    PilotStatus,
    ProcurementRoute,
    Product,
    Relationship,
    Review,
    Sale,
    Supplier,
    SupplierAlias,
    SupplierCategory,
    User,
    utcnow,
)
from app.scores import DIMENSIONS, Score, older_than, score_word, scores_for, supplier_score
from app.standard import COST_BANDS, PILOT_OUTCOMES, PILOT_STATUSES, PROCUREMENT_ROUTES, RELATIONSHIPS
from app.suppliers import resolve

PER_PAGE = 20
REVIEWS_PER_PAGE = 10
PILOTS_PER_PAGE = 10
AGGREGATES_SECONDS = 30.0
PAGE_PARAMS = ("page", "pilots_page")  # page numbers in a profile's address: 1 is the default, left out of links

Sort = Literal["newest", "highest", "lowest"]
Band = Literal["", "9-10", "7-8", "5-6", "1-4"]
SORTS: dict[Sort, str] = {"newest": "Newest first", "highest": "Highest score first", "lowest": "Lowest score first"}
BANDS: dict[Band, tuple[int, int, str]] = {
    "9-10": (9, 10, "9 to 10"),
    "7-8": (7, 8, "7 to 8"),
    "5-6": (5, 6, "5 to 6"),
    "1-4": (1, 4, "1 to 4"),
}

HOW_REVIEW = "review"
HOW_PILOT = "pilot"
HOW_SALE = "G-Cloud purchase"
_HOW_ORDER = (HOW_REVIEW, HOW_PILOT, HOW_SALE)


def long_date(value: date | datetime | None) -> str:
    """A date as GOV.UK writes it: 5 March 2026."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


# --- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedScore:
    overall: float | None
    word: str | None
    count: int


@dataclass
class Page:
    items: list[Supplier]
    total: int
    page: int
    per_page: int
    scores: dict[int, ListedScore] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_suppliers(session: Session, *, q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Published suppliers by name with their scores, optionally those whose name or alias contains `q`."""
    query = select(Supplier).where(
        col(Supplier.status) == ContentStatus.published, col(Supplier.merged_into_id).is_(None)
    )
    term = q.replace("\x00", "").strip()[:100]  # PostgreSQL refuses a NUL byte in a text parameter
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
    means = scores_for(session, supplier_ids=[s.id for s in items if s.id is not None])
    scores = {
        supplier_id: ListedScore(overall=mean, word=None if mean is None else score_word(mean), count=count)
        for supplier_id, (mean, count) in means.items()
    }
    return Page(items=list(items), total=total, page=page, per_page=per_page, scores=scores)


# --- the profile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilters:
    """What an officer narrowed the reviews to, and their order; empty means "any"."""

    council_type: str = ""
    region: str = ""
    relationship: Relationship | None = None
    service_area: str = ""
    band: Band = ""
    sort: Sort = "newest"

    @property
    def active(self) -> bool:
        return bool(self.council_type or self.region or self.relationship or self.service_area or self.band)

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters that reproduce these filters (with `changes`), leaving out the defaults."""
        values = {
            "council_type": self.council_type,
            "region": self.region,
            "relationship": self.relationship.value if self.relationship else "",
            "service_area": self.service_area,
            "band": self.band,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        values.update({key: str(value) for key, value in changes.items()})
        return {key: value for key, value in values.items() if value and not (key in PAGE_PARAMS and value == "1")}

    def query(self, **changes: Any) -> str:
        """`params` as the query string of a link ("?region=London&page=2"), or "" when all are defaults."""
        params = self.params(**changes)
        return "?" + urlencode(params) if params else ""


@dataclass(frozen=True)
class FilterOptions:
    """The values the supplier's published reviews actually have, so that no filter offers an empty choice."""

    council_types: list[tuple[str, str]]  # (type code, type name)
    regions: list[str]
    relationships: list[tuple[str, str]]  # (value, label)
    service_areas: list[str]
    bands: list[tuple[str, str]] = field(default_factory=lambda: [(key, v[2]) for key, v in BANDS.items()])
    sorts: list[tuple[str, str]] = field(default_factory=lambda: list(SORTS.items()))


@dataclass(frozen=True)
class ContractFacts:
    """Members-only contract facts of a review: for signed-in council officers, never for the public."""

    procurement_route: str | None
    framework_lot: str | None
    contract_end: str | None
    cost_band: str | None
    exact_cost: str | None  # only with the link where the council already published it
    exact_cost_source_url: str | None


@dataclass(frozen=True)
class ShownReview:
    """A published review as an officer reads it: the author as role and council, private text left out."""

    id: int
    author: str
    headline: str | None
    overall: int
    recommend: bool
    relationship: str
    service_area: str
    product: str | None
    time_used: str | None
    published_on: str
    older: bool
    text_private: bool
    worked_well: str | None
    did_not_work: str | None
    advice: str | None
    ratings: list[tuple[str, int | None]]  # (dimension label, 1 to 5 or None for "not applicable")
    contract: ContractFacts | None
    is_demo: bool
    open_to_contact: bool = False  # the author takes contact requests (who they are stays hidden)


@dataclass(frozen=True)
class ShownPilot:
    id: int
    title: str
    council: str
    author: str
    service_area: str
    product: str | None
    status: str
    outcome: str | None
    start_on: str
    end_on: str
    cost_band: str | None
    members_only: bool  # run under an NDA (yes or unknown): the written part is for signed-in officers only
    problem: str
    lessons: str | None
    is_demo: bool
    open_to_contact: bool = False  # the author and the record both take contact requests


@dataclass(frozen=True)
class CouncilUse:
    """A council that uses or bought the supplier, how we know, and the latest date we know it from."""

    council: str
    how: str
    latest: date
    # Written out once, when the (cached) list is built, rather than on every page that shows hundreds of rows.
    how_label: str = field(init=False)
    latest_on: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "how_label", self.how[:1].upper() + self.how[1:])
        object.__setattr__(self, "latest_on", f"{self.latest:%B %Y}")


@dataclass
class ReviewPage:
    items: list[ShownReview]
    total: int  # reviews that match the filters
    page: int
    per_page: int
    filters: ReviewFilters
    options: FilterOptions

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


@dataclass
class PilotPage:
    """One page of a supplier's published pilots, newest first."""

    items: list[ShownPilot]
    total: int
    page: int  # the page shown: the last one when `requested` is past the end
    per_page: int
    requested: int  # the page the address asked for

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def past_end(self) -> bool:
        """The address asked for a page after the last one (an old link, after pilots were taken down)."""
        return self.total > 0 and self.requested > self.pages

    @property
    def first(self) -> int:
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


@dataclass
class SupplierProfile:
    supplier: Supplier
    aliases: list[str]
    categories: list[Category]
    products: list[Product]
    score: Score
    councils: list[CouncilUse]
    pilots: PilotPage
    reviews: ReviewPage

    @property
    def has_sales(self) -> bool:
        """Some councils are known from the G-Cloud spend data, which the page then names as its source."""
        return any(use.how == HOW_SALE for use in self.councils)

    @property
    def name(self) -> str:
        return self.supplier.name

    @property
    def description(self) -> str | None:
        return self.supplier.description


def get_supplier_profile(
    session: Session,
    *,
    slug: str,
    filters: ReviewFilters | None = None,
    page: int = 1,
    pilots_page: int = 1,
    now: datetime | None = None,
) -> SupplierProfile:
    """A published supplier with its score, the councils that use it, a page of its pilots and a page of reviews."""
    supplier = session.exec(
        select(Supplier).where(Supplier.slug == slug, col(Supplier.status) == ContentStatus.published)
    ).first()
    if supplier is None or supplier.id is None:
        raise NotFound("There is no supplier at this address.")
    if supplier.merged_into_id is not None:
        raise Moved(old=slug, new=resolve(session, supplier).slug)
    aliases = session.exec(
        select(SupplierAlias.alias).where(SupplierAlias.supplier_id == supplier.id).order_by(col(SupplierAlias.alias))
    ).all()
    categories = session.exec(
        select(Category)
        .join(SupplierCategory, col(SupplierCategory.category_id) == col(Category.id))
        .where(SupplierCategory.supplier_id == supplier.id)
        .order_by(col(Category.code))
    ).all()
    products = session.exec(select(Product).where(Product.supplier_id == supplier.id).order_by(col(Product.name))).all()
    product_names = {product.id: product.name for product in products}
    # An explicit moment (which decides what counts as an older review) is computed afresh, never cached.
    totals = aggregates(session, supplier_id=supplier.id) if now is None else _aggregate(session, supplier.id, now)
    return SupplierProfile(
        supplier=supplier,
        aliases=list(aliases),
        categories=list(categories),
        products=list(products),
        score=totals.score,
        councils=totals.councils,
        pilots=_pilots(
            session, supplier_id=supplier.id, total=totals.pilots, page=pilots_page, product_names=product_names
        ),
        reviews=_reviews(
            session,
            supplier_id=supplier.id,
            groups=totals.groups,
            filters=filters or ReviewFilters(),
            page=page,
            older_before=older_than(now or utcnow()),
            product_names=product_names,
        ),
    )


def _published_reviews(supplier_id: int) -> tuple[ColumnElement[bool], ...]:
    return (col(Review.supplier_id) == supplier_id, col(Review.status) == ContentStatus.published)


def _published_pilots(supplier_id: int) -> tuple[ColumnElement[bool], ...]:
    return (col(Pilot.supplier_id) == supplier_id, col(Pilot.status) == ContentStatus.published)


def _filter_options(groups: Iterable["ReviewGroup"]) -> FilterOptions:
    groups = list(groups)
    relationships = {group.relationship for group in groups}
    return FilterOptions(
        council_types=sorted({(g.council_type, g.council_type_name) for g in groups}, key=lambda pair: pair[1]),
        regions=sorted({group.region for group in groups if group.region}),
        relationships=[(value.value, label) for value, label in RELATIONSHIPS.items() if value in relationships],
        service_areas=sorted({group.service_area for group in groups}),
    )


def _known(filters: ReviewFilters, options: FilterOptions) -> ReviewFilters:
    """The filters with any value no review has left out, so an old or hand-made link still shows reviews."""
    return replace(
        filters,
        council_type=filters.council_type if filters.council_type in dict(options.council_types) else "",
        region=filters.region if filters.region in options.regions else "",
        relationship=filters.relationship
        if filters.relationship and filters.relationship.value in dict(options.relationships)
        else None,
        service_area=filters.service_area if filters.service_area in options.service_areas else "",
    )


def _reviews(
    session: Session,
    *,
    supplier_id: int,
    groups: tuple["ReviewGroup", ...],
    filters: ReviewFilters,
    page: int,
    older_before: datetime,
    product_names: dict[int | None, str],
) -> ReviewPage:
    options = _filter_options(groups)
    filters = _known(filters, options)
    conditions = list(_published_reviews(supplier_id))
    if filters.council_type:
        conditions.append(col(Council.type_code) == filters.council_type)
    if filters.region:
        conditions.append(col(Council.region) == filters.region)
    if filters.relationship:
        conditions.append(col(Review.relationship) == filters.relationship)
    if filters.service_area:
        conditions.append(col(Review.service_area) == filters.service_area)
    if filters.band:
        low, high, _label = BANDS[filters.band]
        conditions.append(col(Review.overall).between(low, high))
    # The number that match comes from the cached counts, so that no query counts thousands of reviews.
    total = sum(group.reviews for group in groups if group.matches(filters))
    page = max(1, min(page, max(1, ceil(total / REVIEWS_PER_PAGE))))
    newest = (col(Review.published_at).desc(), col(Review.id).desc())
    order = {
        "newest": newest,
        "highest": (col(Review.overall).desc(), *newest),
        "lowest": (col(Review.overall).asc(), *newest),
    }[filters.sort]
    rows = session.exec(
        select(Review, Council.name, User.open_to_contact)
        .join(Council, col(Council.id) == col(Review.council_id))
        .join(User, col(User.id) == col(Review.author_id))
        .where(*conditions)
        .order_by(*order)
        .offset((page - 1) * REVIEWS_PER_PAGE)
        .limit(REVIEWS_PER_PAGE)
    ).all()
    items = [
        _shown_review(
            review, council=council, older_before=older_before, product_names=product_names, open_to_contact=open_
        )
        for review, council, open_ in rows
    ]
    return ReviewPage(items=items, total=total, page=page, per_page=REVIEWS_PER_PAGE, filters=filters, options=options)


def _shown_review(
    review: Review,
    *,
    council: str,
    older_before: datetime,
    product_names: dict[int | None, str],
    open_to_contact: bool = False,
) -> ShownReview:
    assert review.id is not None
    private = review.keep_text_private
    return ShownReview(
        id=review.id,
        author=f"{review.author_role}, {council}",
        headline=None if private else review.headline,
        overall=review.overall,
        recommend=review.recommend,
        relationship=RELATIONSHIPS[Relationship(review.relationship)],
        service_area=review.service_area,
        product=product_names.get(review.product_id),
        time_used=review.time_used,
        published_on=long_date(review.published_at),
        older=review.published_at is not None and review.published_at < older_before,
        text_private=private,
        worked_well=None if private else review.worked_well,
        did_not_work=None if private else review.did_not_work,
        advice=None if private else review.advice,
        ratings=[(label, getattr(review, key)) for key, label in DIMENSIONS],
        contract=contract_facts(review),
        is_demo=review.is_demo,
        open_to_contact=open_to_contact,
    )


def contract_facts(review: Review) -> ContractFacts | None:
    """Members-only: the contract facts a review gives, or None when it gives none."""
    source = review.exact_cost_source_url
    # An exact figure is shown only beside the public page it was already published on.
    published_source = source if source and source.startswith(("https://", "http://")) else None
    exact_cost = _pounds(review.exact_cost_pence) if review.exact_cost_pence is not None and published_source else None
    facts = ContractFacts(
        procurement_route=PROCUREMENT_ROUTES[ProcurementRoute(review.procurement_route)]
        if review.procurement_route
        else None,
        framework_lot=review.framework_lot,
        contract_end=long_date(review.contract_end) or None,
        cost_band=COST_BANDS[CostBand(review.cost_band)] if review.cost_band else None,
        exact_cost=exact_cost,
        exact_cost_source_url=published_source if exact_cost else None,
    )
    return facts if any(vars(facts).values()) else None


def _pounds(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


def _pilots(
    session: Session, *, supplier_id: int, total: int, page: int, product_names: dict[int | None, str]
) -> PilotPage:
    shown_page = max(1, min(page, max(1, ceil(total / PILOTS_PER_PAGE))))
    rows = session.exec(
        select(Pilot, Council.name, User.open_to_contact)
        .join(Council, col(Council.id) == col(Pilot.council_id))
        .join(User, col(User.id) == col(Pilot.author_id))
        .where(*_published_pilots(supplier_id))
        .order_by(col(Pilot.published_at).desc(), col(Pilot.id).desc())
        .offset((shown_page - 1) * PILOTS_PER_PAGE)
        .limit(PILOTS_PER_PAGE)
    ).all()
    shown = []
    for pilot, council, author_open in rows:
        assert pilot.id is not None
        shown.append(
            ShownPilot(
                id=pilot.id,
                title=pilot.title,
                council=council,
                author=f"{pilot.author_role}, {council}",
                service_area=pilot.service_area,
                product=product_names.get(pilot.product_id),
                status=PILOT_STATUSES[PilotStatus(pilot.pilot_status)],
                outcome=PILOT_OUTCOMES[PilotOutcome(pilot.outcome)] if pilot.outcome else None,
                start_on=long_date(pilot.start_date),
                end_on=long_date(pilot.end_date),
                cost_band=COST_BANDS[CostBand(pilot.cost_band)] if pilot.cost_band else None,
                members_only=pilot.nda != NdaStatus.no,
                problem=pilot.problem,
                lessons=pilot.lessons,
                is_demo=pilot.is_demo,
                open_to_contact=author_open and pilot.open_to_contact,
            )
        )
    return PilotPage(items=shown, total=total, page=shown_page, per_page=PILOTS_PER_PAGE, requested=page)


def _councils(session: Session, *, supplier_id: int) -> list[CouncilUse]:
    """Councils behind published reviews and pilots, and councils in the G-Cloud sales, once for each way."""
    reviewed = session.exec(
        select(Council.name, func.max(Review.published_at))
        .join(Council, col(Council.id) == col(Review.council_id))
        .where(*_published_reviews(supplier_id))
        .group_by(col(Council.id), col(Council.name))
    ).all()
    piloted = session.exec(
        select(Council.name, func.max(Pilot.published_at))
        .join(Council, col(Council.id) == col(Pilot.council_id))
        .where(*_published_pilots(supplier_id))
        .group_by(col(Council.id), col(Council.name))
    ).all()
    # Sales to customers that are not councils (housing associations, Transport for London) are left out.
    bought = session.exec(
        select(Council.name, func.max(Sale.month))
        .join(Council, col(Council.id) == col(Sale.council_id))
        .where(Sale.supplier_id == supplier_id)
        .group_by(col(Council.id), col(Council.name))
    ).all()
    latest: dict[tuple[str, str], date] = {}
    for how, rows in ((HOW_REVIEW, reviewed), (HOW_PILOT, piloted), (HOW_SALE, bought)):
        for council, when in rows:
            if when is None:
                continue
            day = when.date() if isinstance(when, datetime) else when
            latest[(council, how)] = max(day, latest.get((council, how), day))
    return [
        CouncilUse(council=council, how=how, latest=day)
        for (council, how), day in sorted(latest.items(), key=lambda item: (item[0][0], _HOW_ORDER.index(item[0][1])))
    ]


# --- what is computed over all of a supplier's contributions, cached -------------------------------------------------


@dataclass(frozen=True)
class ReviewGroup:
    """How many published reviews share these filterable values: the filters' choices and counts come from these."""

    council_type: str
    council_type_name: str
    region: str | None
    relationship: Relationship
    service_area: str
    overall: int
    reviews: int

    def matches(self, filters: ReviewFilters) -> bool:
        low, high = BANDS[filters.band][:2] if filters.band else (1, 10)
        return (
            (not filters.council_type or self.council_type == filters.council_type)
            and (not filters.region or self.region == filters.region)
            and (filters.relationship is None or self.relationship == filters.relationship)
            and (not filters.service_area or self.service_area == filters.service_area)
            and low <= self.overall <= high
        )


@dataclass(frozen=True)
class Aggregates:
    score: Score
    groups: tuple[ReviewGroup, ...]
    councils: list[CouncilUse]
    pilots: int  # published pilots


def _aggregate(session: Session, supplier_id: int, now: datetime) -> Aggregates:
    columns: list[Any] = [
        Council.type_code,
        Council.type_name,
        Council.region,
        Review.relationship,
        Review.service_area,
        Review.overall,
        func.count(),
    ]
    rows = session.exec(
        select(*columns)
        .join(Council, col(Council.id) == col(Review.council_id))
        .where(*_published_reviews(supplier_id))
        .group_by(*columns[:-1])
    ).all()
    pilots = session.exec(select(func.count()).select_from(Pilot).where(*_published_pilots(supplier_id))).one()
    return Aggregates(
        score=supplier_score(session, supplier_id=supplier_id, now=now),
        groups=tuple(
            ReviewGroup(type_code, type_name, region, Relationship(relationship), area, overall, count)
            for type_code, type_name, region, relationship, area, overall, count in rows
        ),
        councils=_councils(session, supplier_id=supplier_id),
        pilots=pilots,
    )


_lock = threading.Lock()
# Per database: supplier id -> (generation, when computed, aggregates).
_cached: "WeakKeyDictionary[Engine, dict[int, tuple[int, float, Aggregates]]]" = WeakKeyDictionary()
# Bumped for a supplier whenever a commit in this process changed its reviews, pilots or sales.
_generation: defaultdict[int, int] = defaultdict(int)
_CHANGED = "vendors_changed_suppliers"


def aggregates(session: Session, *, supplier_id: int) -> Aggregates:
    """The supplier's score, review counts, councils and pilot count, from the cache while they are current."""
    engine = session.get_bind().engine
    generation = _generation[supplier_id]  # read first: a change committed while computing makes the result stale
    entry = _cached.get(engine, {}).get(supplier_id)
    if entry is not None and entry[0] == generation and time.monotonic() - entry[1] < AGGREGATES_SECONDS:
        return entry[2]
    computed_at = time.monotonic()
    result = _aggregate(session, supplier_id, utcnow())
    with _lock:
        _cached.setdefault(engine, {})[supplier_id] = (generation, computed_at, result)
    return result


def forget_aggregates(supplier_ids: Iterable[int | None] | None = None) -> None:
    """Forget the cached aggregates of these suppliers (of every supplier with None), in this process."""
    with _lock:
        if supplier_ids is None:
            _cached.clear()
            return
        for supplier_id in supplier_ids:
            if supplier_id is not None:
                _generation[supplier_id] += 1


def _supplier_ids(obj: Review | Pilot | Sale | Supplier) -> set[int | None]:
    """The suppliers a changed row counts towards, before and after the change (a merge moves reviews)."""
    if isinstance(obj, Supplier):
        return {obj.id}
    history = get_history(obj, "supplier_id")
    return {obj.supplier_id, *history.added, *history.deleted}


@event.listens_for(OrmSession, "after_flush")
def _note_changes(session: OrmSession, _context: Any) -> None:
    changed: set[int | None] = session.info.setdefault(_CHANGED, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Review | Pilot | Sale | Supplier):
            changed |= _supplier_ids(obj)


@event.listens_for(OrmSession, "after_commit")
def _forget_changed(session: OrmSession) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        forget_aggregates(changed)
