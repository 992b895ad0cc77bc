"""The benchmark corpus: the real reference data, then suppliers, officers, reviews and pilots made up in bulk.

Built in a fresh SQLite database, never the development one:
- `app.migrations.upgrade`, the real reference data (`app.reference.import_reference_data`: every UK council, the
  CPV categories, the G-Cloud suppliers and their sales) and the default search synonyms.
- The real G-Cloud suppliers get a description and products taken from their own G-Cloud sales, and categories;
  generated suppliers with invented names fill up to the number wanted.
- Officers at every current council; reviews and pilots spread over the suppliers with a skewed popularity (a few
  suppliers have thousands of reviews, most have a handful), scores that cluster per supplier, and text built from
  the demo data's sentences, phrase templates per service area and the G-Cloud service descriptions.
Everything comes from one `random.Random(seed)`: the same seed and sizes build the same corpus.

Rows are written with SQLAlchemy core `insert()` on a plain connection. Core statements do not pass through an ORM
session, so the indexer's after_flush/before_commit hooks (`app/search/indexer.py`) never see them: nothing is
indexed while loading. The benchmark then rebuilds each index with `reindex`, and times that.

With `screened=True` (the HTTP benchmark and `supplier-intel bench-corpus`) the corpus is what the service itself
would hold had officers submitted every review and pilot: a share of them carry a sentence that screening flags (a
name, a phone number, a price, an allegation...), and the bulk path applies the submission policy of
`app/contributions.py` to each one (screening; anything with a finding waits for a moderator, with its findings,
queue item and audit entries). The corpus officers count as trusted: the contributions a moderator approved before
they were trusted are taken to be among the published ones, so that the first three of each do not all wait.
`loader="services"` loads the same contributions through `contributions.parse_review`/`submit_review` (and the pilot
ones) instead, one commit each, indexed as they go: slow, and there so that `tests/test_bench_corpus.py` can prove
both paths give the same state. PostgreSQL works too: explicit ids are followed by moving each table's id sequence
past them.

The text is invented and the database is thrown away: it must never be served to anyone, since it puts made-up
reviews next to the names of real companies.
"""

import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Table, bindparam, func, insert, select, update
from sqlmodel import Session, SQLModel

from app import contributions, demo, migrations, reference, synonyms
from app.models import (
    ContentStatus,
    ContentType,
    CostBand,
    NdaStatus,
    PilotOutcome,
    PilotStatus,
    ProcurementRoute,
    QueueStatus,
    Relationship,
    Role,
    Severity,
    Supplier,
    User,
    utcnow,
)
from app.moderation import screening
from app.moderation.sanitize import clean_text
from app.standard import DIMENSIONS, TIME_USED

Progress = Callable[[str, int, int], None]
BATCH = 5_000
ANCHOR = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)  # fixed, so that the corpus does not depend on the day it is built
MAX_AGE_DAYS = 1_100

# Service areas with how often reviews are about them, and the things councils buy for each.
AREAS: dict[str, tuple[float, tuple[str, ...]]] = {
    "Adult social care": (
        10,
        ("case management", "care planning", "financial assessments", "provider portal", "case recording"),
    ),
    "Children's services": (
        8,
        ("case management", "case recording", "early help", "statutory returns", "multi-agency referrals"),
    ),
    "Revenues and benefits": (
        9,
        ("council tax billing", "business rates", "revenues", "benefits assessment", "recovery", "self-service"),
    ),
    "Housing": (
        9,
        ("housing repairs", "rent accounting", "tenancy management", "allocations", "repairs appointments"),
    ),
    "Planning": (5, ("planning applications", "building control", "land charges", "public access", "mapping")),
    "Waste and recycling": (
        5,
        ("round planning", "in-cab devices", "bin collections", "garden waste subscriptions", "missed bin reports"),
    ),
    "Customer services": (
        10,
        ("CRM", "customer relationship management", "contact centre", "webchat", "online forms", "telephony"),
    ),
    "Finance": (7, ("general ledger", "purchase to pay", "accounts payable", "budget monitoring", "ERP")),
    "HR and payroll": (
        7,
        ("payroll", "recruitment", "applicant tracking", "HR", "employee self-service", "learning management"),
    ),
    "ICT infrastructure": (
        10,
        ("cloud hosting", "email", "backup", "identity management", "network monitoring", "service desk"),
    ),
    "Education": (3, ("school admissions", "SEND case management", "education management", "free school meals")),
    "Highways and transport": (
        3,
        ("street works", "highways asset management", "parking enforcement", "concessionary travel"),
    ),
    "Public health": (2, ("case management", "data analytics", "health visiting records", "sexual health booking")),
    "Libraries and leisure": (2, ("library management", "room bookings", "leisure memberships", "e-books")),
    "Elections and democratic services": (
        2,
        ("electoral registration", "committee management", "webcasting", "postal votes"),
    ),
    "Legal and governance": (
        3,
        ("document management", "EDRMS", "legal case management", "FOI requests", "records management"),
    ),
    "Other": (2, ("data analytics", "GIS", "workflow", "document management")),
}

# What a supplier's own G-Cloud sales say about its trade.
SALE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\bcrm\b|customer|contact cent|webchat|forms?\b|dynamics", "Customer services"),
    (r"\bhr\b|payroll|recruit|talent|learning|e-?learning", "HR and payroll"),
    (r"housing|repairs|tenan|asset", "Housing"),
    (r"planning|\bgis\b|mapping|map\b", "Planning"),
    (r"revenue|council tax|benefit", "Revenues and benefits"),
    (r"care\b|social|case manag", "Adult social care"),
    (r"financ|\berp\b|accounting|payment|procure", "Finance"),
    (r"document|records|edrms|sharepoint|content manag", "Legal and governance"),
    (
        r"e-?mail|hosting|cloud|server|network|backup|security|exchange|office 365|iaas|storage|vpn",
        "ICT infrastructure",
    ),
    (r"school|education", "Education"),
    (r"library|libraries", "Libraries and leisure"),
    (r"election|committee|democra|webcast", "Elections and democratic services"),
    (r"waste|fleet", "Waste and recycling"),
    (r"parking|highway|transport", "Highways and transport"),
    (r"website|web site|cookie|digital|analytics", "Customer services"),
)

AREA_CPV: dict[str, tuple[str, ...]] = {
    "Adult social care": ("48100000-9", "48311000-1", "72263000-6", "48814000-7"),
    "Children's services": ("48100000-9", "48311000-1", "72263000-6"),
    "Revenues and benefits": ("48440000-4", "48812000-3", "48442000-8"),
    "Housing": ("48100000-9", "48420000-8", "48332000-4"),
    "Planning": ("48100000-9", "48326000-9", "48613000-8"),
    "Waste and recycling": ("48332000-4", "48326000-9"),
    "Customer services": ("48445000-9", "48325000-2", "72413000-8", "48333000-1"),
    "Finance": ("48443000-5", "48442000-8", "48451000-4", "48812000-3"),
    "HR and payroll": ("48450000-7", "48451000-4"),
    "ICT infrastructure": ("48223000-7", "72415000-2", "72253000-3", "72514000-1", "48210000-3", "72250000-2"),
    "Education": ("48190000-6", "48610000-7"),
    "Highways and transport": ("48420000-8", "48326000-9"),
    "Public health": ("48814000-7", "48460000-0", "72320000-4"),
    "Libraries and leisure": ("48161000-4", "48332000-4"),
    "Elections and democratic services": ("48610000-7", "48311000-1"),
    "Legal and governance": ("48311000-1", "48613000-8", "72322000-8"),
    "Other": ("48460000-0", "48331000-7", "72310000-1"),
}
GENERIC_CPV = ("72000000-5", "72263000-6", "72212000-4", "72416000-9", "48000000-8", "48900000-7")

TEAMS = (
    "social workers",
    "call handlers",
    "the revenues team",
    "housing officers",
    "planning officers",
    "crews",
    "payroll staff",
    "our systems team",
    "practitioners",
    "caseworkers",
    "the finance team",
    "service managers",
    "our business analysts",
    "frontline staff",
)

JOB_TITLES = (
    "Digital lead",
    "Head of ICT",
    "Procurement manager",
    "Service lead, adult social care",
    "Service lead, children's services",
    "Revenues and benefits manager",
    "Housing systems manager",
    "Waste services manager",
    "Planning systems lead",
    "Customer services manager",
    "HR and payroll systems lead",
    "Information governance officer",
    "Systems administrator",
    "Business analyst",
    "Head of finance systems",
    "Enterprise architect",
    "Commissioning officer",
    "Transformation programme manager",
)

HEADLINES: dict[str, tuple[str, ...]] = {
    "good": (
        "Reliable {feature} for {area}",
        "{Product} does what we need for {feature}",
        "Good value {feature} with a helpful support desk",
        "A partner that listens on {feature}",
        "Smooth implementation of {feature}, on time and on budget",
        "Strong {feature} that our {team} actually like",
        "Dependable {feature} with open data and good APIs",
    ),
    "mixed": (
        "Solid {feature}, but every change costs extra",
        "{Feature} works once configured, slow to get there",
        "Capable {feature} held back by closed data",
        "Good fit for {area}, dated screens",
        "{Product}: fine for {feature}, weak on reporting",
        "Reasonable value, limited appetite for improvement",
    ),
    "poor": (
        "Difficult contract for {feature}",
        "{Feature} never met our needs",
        "Poor support for {feature} after go-live",
        "We moved away from {product} after a hard year",
        "Costly change requests and missed service levels",
    ),
}

GOOD = (
    "The {feature} module went live on the planned date and {team} picked it up quickly.",
    "{Feature} has been reliable, and the support desk answers within the agreed service levels.",
    "Integration between {feature} and our {feature2} system saved {team} a lot of rekeying.",
    "Reporting on {feature} is clear, and we build our own reports without paying for changes.",
    "The implementation team understood {area} and how councils work.",
    "Data migration from our old {feature} system was rehearsed twice and went smoothly.",
    "Staff like the mobile app for {feature}, which also works offline.",
    "{Product} has been stable since go-live, with very little unplanned downtime.",
    "Configuration is done by our own systems team, so changes to {feature} are quick.",
    "The user group is active and has shaped the roadmap for {feature}.",
    "Residents can use {feature} online, which has taken pressure off the phones.",
    "Open APIs made it easy to connect {feature} to our integration platform.",
    "We use it alongside {sale}, and the two work well together.",
)
BAD = (
    "Every change to {feature} went to the supplier as a chargeable request.",
    "Support tickets about {feature} waited weeks for a first response.",
    "Bulk export of our {feature} data is only possible through a paid extract service.",
    "The interface to our {feature2} system runs overnight only, so staff see yesterday's position.",
    "Implementation ran {months} months late, mostly because of data migration.",
    "The officer screens look dated and new staff take a while to learn {feature}.",
    "Single sign-on with our identity provider needed more of our own effort than we were told.",
    "Major upgrades need a lot of regression testing from our side.",
    "The account manager changed several times during the contract.",
    "Accessibility problems in the resident-facing {feature} pages took months to fix.",
    "Test environments are limited and refreshing one takes a formal request.",
    "Integration with {sale} needed a separate middleware product.",
)
ADVICE = (
    "Agree a pot of configuration days for {feature} in the contract.",
    "Ask reference councils how much change they have bought since go-live.",
    "Write open APIs and a full data export into the specification from the start.",
    "Plan at least two data migration rehearsals before go-live.",
    "Involve {team} in the configuration workshops, not only team managers.",
    "Score whole-life cost, not only the licence and implementation.",
    "Check the exit terms and the data export format before you sign.",
    "Test {feature} with residents who use screen readers before launch.",
    "Keep your own business analysts on the project after go-live.",
    "Ask how many test environments are included and how often they can be refreshed.",
)
PILOT_TITLES = (
    "Pilot of {feature} for {area}",
    "Trying {product} for {feature}",
    "{Feature} trial with two teams",
    "Automating {feature} with {product}",
    "Resident self-service for {feature}",
)
PILOT_PROBLEMS = (
    "Our {team} spent too long on {feature}, and backlogs grew every quarter.",
    "Residents could not do {feature} online, so most contact came by phone.",
    "Data for {feature} sat in spreadsheets and nobody trusted the figures.",
    "The old {feature} system was out of support and the contract was ending.",
    "We wanted to know whether {product} could cut the time {team} spend on {feature}.",
)

BRAND_STARTS = (
    "Ash", "Bram", "Cald", "Dun", "Elm", "Fen", "Gray", "Hal", "Iver", "Kes", "Lark", "Mar", "Nor", "Orr", "Pen",
    "Quill", "Ros", "Stan", "Thorn", "Ul", "Ven", "Wex", "Yar", "Brock", "Cor", "Dal", "Ever", "Fal", "Glen", "Hart",
)  # fmt: skip
BRAND_ENDS = (
    "ford", "wick", "mere", "combe", "ley", "ton", "holt", "bury", "dale", "field", "gate", "stone", "well", "brook",
    "ridge", "vale", "moor", "haven", "croft", "more",
)  # fmt: skip
BRAND_KINDS = (
    "Systems", "Digital", "Software", "Solutions", "Technology", "Consulting", "Cloud", "Data", "Networks", "Group",
    "Analytics", "Services", "Partners", "Labs", "Computing",
)  # fmt: skip

# Overall scores: most reviews between 6 and 8, a long tail of unhappy ones (1 to 10).
RELATIONSHIPS = (
    (Relationship.live_contract, 55),
    (Relationship.past_contract, 20),
    (Relationship.pilot, 12),
    (Relationship.evaluated, 13),
)
COST_BANDS = tuple(CostBand)
DEMO_BRANDS = tuple(spec.key for spec in demo.SUPPLIERS)

# Sentences officers sometimes write that screening flags (a screened corpus adds one to about 4% of contributions).
FLAGGED = (
    "Our account manager, Mr Preston, stopped answering our emails.",
    "Ring their support line on 01632 960 123 rather than logging a ticket.",
    "The day rate was £950 per consultant, well above what we expected.",
    "They gave us a 15% discount for signing a three-year deal.",
    "Details are in the contract, which is marked commercial in confidence.",
    "We believe the account manager lied to us about the delivery date.",
    "Email jane.doe@example.org, who led the evaluation, for the details.",
    "Sarah Jenkins from their team rewrote the interface in a week.",
)
FLAGGED_SHARE = 0.04


@dataclass
class CorpusReport:
    """What the corpus holds, and how long each step took."""

    database: Path
    councils: int = 0
    current_councils: int = 0
    real_suppliers: int = 0
    generated_suppliers: int = 0
    products: int = 0
    categories: int = 0
    sales: int = 0
    officers: int = 0
    reviews: int = 0
    private_reviews: int = 0
    pilots: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    pending: int = 0
    findings: int = 0
    top_real_supplier: str = ""
    top_generated_supplier: str = ""


@dataclass
class _Vendor:
    id: int
    name: str
    brand: str
    areas: list[str]
    products: list[tuple[int, str]] = field(default_factory=list)
    quality: float = 7.0
    real: bool = False


@dataclass
class _Officer:
    id: int
    council_id: int
    job_title: str


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sentences(texts: Iterator[str]) -> list[str]:
    """Sentences of the demo data's text that name none of the demo suppliers."""
    found: list[str] = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if sentence and not any(brand in sentence.casefold() for brand in DEMO_BRANDS):
                found.append(sentence.strip())
    return sorted(set(found))


class _Writer:
    """Makes up the text of reviews and pilots for one corpus."""

    def __init__(self, rng: random.Random, sales: list[str]) -> None:
        self.rng = rng
        self.sales = sales
        reviews = demo.REVIEWS
        self.demo_good = _sentences(r.worked_well for r in reviews)
        self.demo_bad = _sentences(r.did_not_work for r in reviews)
        self.demo_advice = _sentences(r.advice for r in reviews)
        self.demo_lessons = _sentences(p.lessons or "" for p in demo.PILOTS)
        self.demo_problems = _sentences(p.problem for p in demo.PILOTS)

    def _fill(self, template: str, vendor: _Vendor, area: str, product: str) -> str:
        rng = self.rng
        features = AREAS[area][1]
        feature = rng.choice(features)
        feature2 = rng.choice([f for f in features if f != feature] or [feature])
        text = template.format(
            feature=feature,
            Feature=feature[:1].upper() + feature[1:],
            feature2=feature2,
            area=area.lower() if area != "Other" else "our service",
            product=product,
            Product=product,
            team=rng.choice(TEAMS),
            months=rng.randint(2, 9),
            sale=rng.choice(self.sales),
        )
        return text

    def _paragraph(self, own: tuple[str, ...], borrowed: list[str], count: int, *fill: Any) -> str:
        """`count` different sentences: the templates filled in, some borrowed from the demo data as they are."""
        rng = self.rng
        templates = iter(rng.sample(own, k=min(count, len(own))))
        parts = [
            rng.choice(borrowed) if borrowed and rng.random() < 0.3 else self._fill(next(templates), *fill)
            for _ in range(min(count, len(own)))
        ]
        return " ".join(dict.fromkeys(parts))

    def review(self, vendor: _Vendor, area: str, product: str, overall: int) -> dict[str, str]:
        rng = self.rng
        mood = "good" if overall >= 8 else "mixed" if overall >= 5 else "poor"
        fill = (vendor, area, product)
        good_count = {"good": rng.randint(2, 4), "mixed": rng.randint(1, 3), "poor": rng.randint(1, 2)}[mood]
        bad_count = {"good": rng.randint(1, 2), "mixed": rng.randint(1, 3), "poor": rng.randint(2, 4)}[mood]
        return {
            "headline": self._fill(rng.choice(HEADLINES[mood]), *fill)[: contributions.TEXT_LIMITS["headline"]],
            "worked_well": self._paragraph(GOOD, self.demo_good, good_count, *fill),
            "did_not_work": self._paragraph(BAD, self.demo_bad, bad_count, *fill),
            "advice": self._paragraph(ADVICE, self.demo_advice, rng.randint(1, 2), *fill),
        }

    def pilot(self, vendor: _Vendor, area: str, product: str) -> dict[str, str]:
        rng = self.rng
        fill = (vendor, area, product)
        return {
            "title": self._fill(rng.choice(PILOT_TITLES), *fill)[: contributions.TEXT_LIMITS["title"]],
            "problem": self._paragraph(PILOT_PROBLEMS, self.demo_problems, rng.randint(1, 3), *fill),
            "lessons": self._paragraph(ADVICE + GOOD, self.demo_lessons, rng.randint(2, 4), *fill),
        }


def _clean_sale(text: str) -> str:
    # As the submission path would store it (no markup, tidy whitespace), so product names and borrowed sale
    # descriptions read the same through either loader.
    return " ".join(clean_text(text).split())[:120]


def _areas_from_sales(descriptions: list[str], rng: random.Random, weights: dict[str, float]) -> list[str]:
    text = " ".join(descriptions).casefold()
    found = [area for pattern, area in SALE_KEYWORDS if re.search(pattern, text)]
    areas = list(dict.fromkeys(found))[:2]
    if not areas:
        areas = [_weighted(rng, weights)]
    return areas


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _slug(text: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())[:120]


def _score(rng: random.Random, quality: float) -> int:
    """An overall score from 1 to 10 around the supplier's quality, with a tail of unhappy reviews."""
    if rng.random() < 0.07:
        return rng.randint(1, 4)
    return max(1, min(10, round(rng.gauss(quality, 1.4))))


def _dimension(rng: random.Random, overall: int, skip: float) -> int | None:
    if rng.random() < skip:
        return None
    return max(1, min(5, round(overall / 2 + rng.gauss(0, 0.8))))


def build_corpus(
    engine: Engine,
    *,
    database: Path,
    data_dir: Path,
    reviews: int,
    suppliers: int,
    pilots: int,
    seed: int,
    progress: Progress,
    screened: bool = False,
) -> CorpusReport:
    """Fill the empty database behind `engine` (see the module docstring) and report what it holds."""
    started = time.perf_counter()
    migrations.upgrade(engine)
    with Session(engine) as session:
        imported = reference.import_reference_data(session, data_dir, progress=progress)
        synonyms.seed_default_synonyms(session)
        session.commit()
    seconds = time.perf_counter() - started
    report = fill_corpus(
        engine,
        database=database,
        reviews=reviews,
        suppliers=suppliers,
        pilots=pilots,
        seed=seed,
        progress=progress,
        screened=screened,
    )
    report.councils, report.current_councils = imported.councils, imported.current_councils
    report.categories, report.sales = imported.categories, imported.sales
    report.seconds = {"migrate and import reference data": seconds, **report.seconds}
    return report


def fill_corpus(
    engine: Engine,
    *,
    database: Path,
    reviews: int,
    suppliers: int,
    pilots: int,
    seed: int,
    progress: Progress,
    screened: bool = False,
    loader: str = "bulk",
    councils_with_officers: int | None = None,
) -> CorpusReport:
    """Add the suppliers, officers, reviews and pilots to a database that holds the reference data already.

    `loader` is "bulk" (core inserts, fast) or "services" (each contribution through `app.contributions`, which
    implies `screened`); both give the same rows for the same seed and sizes. `councils_with_officers` limits the
    officers to the first councils (small test corpora, where otherwise every officer would still be new).
    """
    if loader not in ("bulk", "services"):
        raise ValueError(f"unknown loader {loader!r}")
    screened = screened or loader == "services"
    report = CorpusReport(database=database)
    rng = random.Random(seed)
    flagger = random.Random(seed + 1) if screened else None  # its own stream: the rest of the text stays the same

    started = time.perf_counter()
    with engine.begin() as connection:
        vendors = _suppliers(connection, rng, suppliers, report, progress)
        officers = _officers(connection, rng, report, progress, councils_with_officers)
        sales = sorted({_clean_sale(d) for (d,) in connection.execute(select(_table("sale").c.description))})
        writer = _Writer(rng, [s for s in sales if len(s) > 8])
        popularity = _popularity(rng, vendors)
        plan = _Plan(rng, flagger, writer, vendors, popularity, officers, report, progress)
        if loader == "bulk":
            sink: _Sink = _BulkSink(connection, screened=screened, report=report)
            _reviews(connection, plan, sink, reviews)
            _pilots(connection, plan, sink, pilots)
        _fix_sequences(connection)
    if loader == "services":
        from app.search import documents, indexer
        from app.search.service import backend_for

        with Session(engine) as session:
            # The suppliers went in with core inserts, as `supplier-intel init` imports them: index them first.
            indexer.reindex(session, backend_for(engine)[0], index=documents.VENDORS)
            service_sink = _ServiceSink(session, report=report)
            _reviews(session.connection(), plan, service_sink, reviews)
            _pilots(session.connection(), plan, service_sink, pilots)
        with engine.begin() as connection:
            _fix_sequences(connection)
    report.seconds["generate and insert content"] = time.perf_counter() - started
    return report


def _fix_sequences(connection: Connection) -> None:
    """On PostgreSQL, move each id sequence past the ids written explicitly, so the service can add rows."""
    if connection.dialect.name != "postgresql":
        return
    for table in SQLModel.metadata.sorted_tables:
        if "id" not in table.c or not isinstance(table.c.id.type, Integer):
            continue
        sequence = connection.exec_driver_sql("SELECT pg_get_serial_sequence(%s, 'id')", (table.name,)).scalar()
        if sequence:
            highest = int(connection.execute(select(func.max(table.c.id))).scalar() or 0)
            connection.exec_driver_sql("SELECT setval(%s, %s, %s)", (sequence, max(highest, 1), highest > 0))


def _next_id(connection: Connection, name: str) -> int:
    table = _table(name)
    current = connection.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar()
    return int(current or 0) + 1


def _suppliers(
    connection: Connection, rng: random.Random, wanted: int, report: CorpusReport, progress: Progress
) -> list[_Vendor]:
    """Describe the real G-Cloud suppliers from their sales, and add generated ones up to `wanted` in all."""
    supplier, sale = _table("supplier"), _table("sale")
    category = _table("category")
    codes = {code: cid for cid, code in connection.execute(select(category.c.id, category.c.code))}
    weights = {area: weight for area, (weight, _) in AREAS.items()}
    by_supplier: dict[int, list[str]] = defaultdict(list)
    for supplier_id, description in connection.execute(
        select(sale.c.supplier_id, sale.c.description).order_by(sale.c.id)
    ):
        by_supplier[supplier_id].append(_clean_sale(description))
    real = list(connection.execute(select(supplier.c.id, supplier.c.name).order_by(supplier.c.id)))
    taken_keys = {key for (key,) in connection.execute(select(supplier.c.name_key))}
    taken_keys |= {key for (key,) in connection.execute(select(_table("supplier_alias").c.alias_key))}
    taken_slugs = {slug for (slug,) in connection.execute(select(supplier.c.slug))}

    vendors: list[_Vendor] = []
    descriptions: list[dict[str, Any]] = []
    for supplier_id, name in real:
        sold = list(dict.fromkeys(d for d in by_supplier[supplier_id] if len(d) > 5 and not d[:1].isdigit()))
        areas = _areas_from_sales(sold, rng, weights)
        vendor = _Vendor(supplier_id, name, name.split()[0], areas, quality=rng.gauss(6.8, 1.1), real=True)
        vendors.append(vendor)
        services = "; ".join(sold[:3]) or f"{AREAS[areas[0]][1][0]} services"
        descriptions.append(
            {"b_id": supplier_id, "b_description": f"G-Cloud services for the public sector: {services}."}
        )
        vendor.products = [(0, p) for p in sold[:5]]
    connection.execute(
        update(supplier).where(supplier.c.id == bindparam("b_id")).values(description=bindparam("b_description")),
        descriptions,
    )
    report.real_suppliers = len(real)

    next_id = _next_id(connection, "supplier")
    rows: list[dict[str, Any]] = []
    aliases: list[dict[str, Any]] = []
    created = ANCHOR - timedelta(days=MAX_AGE_DAYS + 60)
    attempts = 0
    while len(vendors) < wanted and attempts < wanted * 20:
        attempts += 1
        brand = rng.choice(BRAND_STARTS) + rng.choice(BRAND_ENDS)
        name = f"{brand} {rng.choice(BRAND_KINDS)}"
        if rng.random() < 0.3:
            name += rng.choice((" Ltd", " Limited", " UK"))
        key = reference.supplier_name_key(name)
        slug = _slug(name)
        if key in taken_keys or slug in taken_slugs:
            continue
        taken_keys.add(key)
        taken_slugs.add(slug)
        areas = [_weighted(rng, weights)]
        if rng.random() < 0.35:
            areas.append(_weighted(rng, weights))
        areas = list(dict.fromkeys(areas))
        features = [f for area in areas for f in AREAS[area][1]]
        chosen = rng.sample(features, k=min(len(features), rng.randint(1, 4)))
        vendor = _Vendor(next_id, name, brand, areas, quality=rng.gauss(6.8, 1.1))
        vendor.products = [(0, f"{brand} {f[:1].upper() + f[1:]}") for f in chosen]
        area_text = " and ".join(a.lower() for a in areas)
        text = rng.choice(
            (
                f"{chosen[0][:1].upper() + chosen[0][1:]} for {area_text} teams in councils, hosted in the UK.",
                f"Cloud software for councils: {', '.join(chosen)}.",
                f"Specialists in {chosen[0]} for local government, with reporting and resident self-service.",
                f"{chosen[0][:1].upper() + chosen[0][1:]} for {area_text}, with open APIs and a mobile app for staff.",
            )
        )
        rows.append(
            {
                "id": next_id,
                "slug": slug,
                "name": name,
                "name_key": key,
                "description": text,
                "website": f"https://{slug}.example",
                "sme": rng.random() < 0.7,
                "status": ContentStatus.published,
                "is_demo": True,
                "merged_into_id": None,
                "added_by_id": None,
                "created_at": created,
            }
        )
        if rng.random() < 0.1:
            alias_key = reference.supplier_name_key(brand)
            if alias_key not in taken_keys:
                taken_keys.add(alias_key)
                aliases.append({"supplier_id": next_id, "alias": brand, "alias_key": alias_key})
        vendors.append(vendor)
        next_id += 1
    progress("suppliers", 0, len(rows))
    for done, chunk in enumerate(_batches(rows), start=1):
        connection.execute(insert(supplier), list(chunk))
        progress("suppliers", min(done * BATCH, len(rows)), len(rows))
    if aliases:
        connection.execute(insert(_table("supplier_alias")), aliases)
    report.generated_suppliers = len(rows)

    product_rows: list[dict[str, Any]] = []
    category_rows: list[dict[str, Any]] = []
    product_id = _next_id(connection, "product")
    for vendor in vendors:
        named: list[tuple[int, str]] = []
        seen: set[str] = set()
        for _, product_name in vendor.products:
            if product_name.casefold() in seen:
                continue
            seen.add(product_name.casefold())
            product_rows.append(
                {"id": product_id, "supplier_id": vendor.id, "name": product_name[:200], "description": None}
            )
            named.append((product_id, product_name))
            product_id += 1
        vendor.products = named
        wanted_codes = {c for area in vendor.areas for c in rng.sample(AREA_CPV[area], k=min(2, len(AREA_CPV[area])))}
        if rng.random() < 0.5:
            wanted_codes.add(rng.choice(GENERIC_CPV))
        category_rows += [
            {"supplier_id": vendor.id, "category_id": codes[c]} for c in sorted(wanted_codes) if c in codes
        ]
    for chunk in _batches(product_rows):
        connection.execute(insert(_table("product")), list(chunk))
    for chunk in _batches(category_rows):
        connection.execute(insert(_table("supplier_category")), list(chunk))
    report.products = len(product_rows)
    return vendors


def _officers(
    connection: Connection, rng: random.Random, report: CorpusReport, progress: Progress, limit: int | None = None
) -> list[_Officer]:
    """One to four officers at every current council (emails on the reserved `.invalid` domain)."""
    council = _table("council")
    councils = [cid for (cid,) in connection.execute(select(council.c.id).where(council.c.current).order_by("id"))]
    councils = councils[:limit] if limit is not None else councils
    next_id = _next_id(connection, "app_user")
    created = ANCHOR - timedelta(days=MAX_AGE_DAYS + 30)
    officers: list[_Officer] = []
    rows: list[dict[str, Any]] = []
    for council_id in councils:
        for _ in range(rng.randint(1, 4)):
            title = rng.choice(JOB_TITLES)
            officers.append(_Officer(next_id, council_id, title))
            rows.append(
                {
                    "id": next_id,
                    "email": f"officer{next_id}@bench.invalid",
                    "name": f"Bench officer {next_id}",
                    "job_title": title,
                    "role": Role.officer,
                    "council_id": council_id,
                    "open_to_contact": rng.random() < 0.6,
                    "is_demo": True,
                    "disabled": False,
                    "created_at": created,
                    "last_sign_in_at": None,
                }
            )
            next_id += 1
    progress("officers", 0, len(rows))
    connection.execute(insert(_table("app_user")), rows)
    progress("officers", len(rows), len(rows))
    report.officers = len(rows)
    return officers


def _popularity(rng: random.Random, vendors: list[_Vendor]) -> list[float]:
    """Review weights: Zipf-like over a shuffled order, real G-Cloud suppliers a little more likely."""
    order = list(range(len(vendors)))
    rng.shuffle(order)
    weights = [0.0] * len(vendors)
    for rank, index in enumerate(order, start=1):
        weights[index] = (3.0 if vendors[index].real else 1.0) / rank**0.8
    return weights


def _dates(rng: random.Random) -> tuple[datetime, datetime]:
    created = ANCHOR - timedelta(days=rng.randint(7, MAX_AGE_DAYS), minutes=rng.randint(0, 600))
    return created, created + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 8))


@dataclass
class _Plan:
    """What the review and pilot generators share: the random streams, the text writer and who writes what."""

    rng: random.Random
    flagger: random.Random | None
    writer: _Writer
    vendors: list[_Vendor]
    popularity: list[float]
    officers: list[_Officer]
    report: CorpusReport
    progress: Progress

    def flag(self, row: dict[str, Any], fields: tuple[str, ...]) -> None:
        """In a screened corpus, add a sentence that screening flags to a long text field of a few contributions."""
        if self.flagger is None or self.flagger.random() >= FLAGGED_SHARE:
            return
        name = self.flagger.choice(fields[1:])  # not the headline or title, which are short
        sentence = self.flagger.choice(FLAGGED)
        row[name] = f"{row[name]} {sentence}" if row.get(name) else sentence


class _Sink:
    """Where generated reviews and pilots go."""

    def write(self, kind: ContentType, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError


class _BulkSink(_Sink):
    """Core inserts; when screened, the submission policy of `app/contributions.py` applied to each row first."""

    def __init__(self, connection: Connection, *, screened: bool, report: CorpusReport) -> None:
        self.connection = connection
        self.screened = screened
        self.report = report
        self.allowlist = screening.load_allowlist(Session(bind=connection)) if screened else None
        self.now = utcnow()

    def write(self, kind: ContentType, rows: list[dict[str, Any]]) -> None:
        findings: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        if self.screened:
            for row in rows:
                self._route(kind, row, findings, items, entries)
        self.connection.execute(insert(_table(kind.value)), rows)
        for name, extra in (("moderation_item", items), ("finding", findings), ("audit_log", entries)):
            if extra:
                self.connection.execute(insert(_table(name)), extra)

    def _route(
        self,
        kind: ContentType,
        row: dict[str, Any],
        findings: list[dict[str, Any]],
        items: list[dict[str, Any]],
        entries: list[dict[str, Any]],
    ) -> None:
        """What `contributions.submit` does to one new contribution, as rows (see `_route` and `_queue` there)."""
        assert self.allowlist is not None
        hits = screening.screen_fields(
            {name: row.get(name) for name in contributions.text_fields(kind)}, allowlist=self.allowlist
        )
        author, content_id = row["author_id"], row["id"]
        entry = {"at": self.now, "actor_id": author, "entity_type": kind.value, "entity_id": str(content_id)}
        entries.append({**entry, "action": "submitted", "from_state": None, "to_state": None, "detail": {}})
        if hits:  # the officers are trusted (see the module docstring): only findings send it to a moderator
            row["status"], row["published_at"] = ContentStatus.pending, None
            severity = screening.highest_severity(hits) or Severity.low
            items.append(
                {
                    "content_type": kind,
                    "content_id": content_id,
                    "status": QueueStatus.open,
                    "severity": severity,
                    "score": sum(contributions.SEVERITY_SCORE[hit.severity] for hit in hits),
                    "needs_two_moderators": severity == Severity.critical,
                    "source": "submission",
                    "version": 1,
                    "opened_at": self.now,
                }
            )
            self.report.pending += 1
        else:
            row["status"] = ContentStatus.published
        findings += [
            {
                "content_type": kind,
                "content_id": content_id,
                "field": hit.field,
                "detector": hit.detector,
                "category": hit.category,
                "severity": hit.severity,
                "start": hit.start,
                "end": hit.end,
                "created_at": self.now,
            }
            for hit in hits
        ]
        self.report.findings += len(hits)
        detail = {
            "findings": [{"detector": h.detector, "field": h.field, "start": h.start, "end": h.end} for h in hits]
        }
        entries.append(
            {
                **entry,
                "action": "screened",
                "from_state": ContentStatus.pending.value,
                "to_state": row["status"].value,
                "detail": detail,
            }
        )


class _ServiceSink(_Sink):
    """Each contribution parsed and submitted through `app.contributions`, as the API does, then back-dated."""

    def __init__(self, session: Session, *, report: CorpusReport) -> None:
        self.session = session
        self.report = report

    def write(self, kind: ContentType, rows: list[dict[str, Any]]) -> None:
        trusted_after = contributions.TRUSTED_AFTER_APPROVALS
        contributions.TRUSTED_AFTER_APPROVALS = 0  # the corpus officers are trusted (see the module docstring)
        try:
            self._write(kind, rows)
        finally:
            contributions.TRUSTED_AFTER_APPROVALS = trusted_after

    def _write(self, kind: ContentType, rows: list[dict[str, Any]]) -> None:
        session = self.session
        parse = contributions.parse_review if kind is ContentType.review else contributions.parse_pilot
        for row in rows:
            supplier = session.get(Supplier, row["supplier_id"])
            author = session.get(User, row["author_id"])
            assert supplier is not None and author is not None
            data = parse(session, supplier=supplier, raw=_as_input(kind, row))
            submission = contributions.submit(session, content_type=kind, author=author, supplier=supplier, data=data)
            content = submission.content
            if content.id != row["id"]:
                raise RuntimeError(f"{kind.value} {row['id']} was saved as {content.id}: the database was not empty")
            content.created_at, content.updated_at = row["created_at"], row["updated_at"]
            published = submission.status == ContentStatus.published
            content.published_at = row["published_at"] if published else None
            content.is_demo = True
            session.add(content)
            session.commit()
            self.report.pending += not published
            self.report.findings += len(submission.hits)


def _as_input(kind: ContentType, row: dict[str, Any]) -> dict[str, Any]:
    """A generated row as the JSON API would receive it."""

    def text(value: Any) -> Any:
        return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)

    if kind is ContentType.review:
        names = ["product_id", "relationship", "service_area", "time_used", "overall", "recommend"]
        names += [*contributions.REVIEW_TEXT_FIELDS, "procurement_route", "framework_lot", "contract_end", "cost_band"]
        raw = {name: text(row[name]) for name in names}
        raw |= {d.key: "na" if row[d.key] is None else str(row[d.key]) for d in DIMENSIONS}
        raw["recommend"] = row["recommend"]
        raw["keep_text_private"] = row["keep_text_private"]
        return raw
    names = ["product_id", *contributions.PILOT_TEXT_FIELDS, "service_area", "start_date", "end_date"]
    names += ["pilot_status", "outcome", "cost_band", "nda"]
    return {**{name: text(row[name]) for name in names}, "open_to_contact": row["open_to_contact"]}


def _reviews(connection: Connection, plan: "_Plan", sink: "_Sink", wanted: int) -> None:
    rng, writer, vendors, popularity, officers = plan.rng, plan.writer, plan.vendors, plan.popularity, plan.officers
    report, progress = plan.report, plan.progress
    relationships = [r for r, _ in RELATIONSHIPS]
    relationship_weights = [w for _, w in RELATIONSHIPS]
    next_id = _next_id(connection, "review")
    counts: dict[int, int] = defaultdict(int)
    progress("reviews", 0, wanted)
    done = 0
    while done < wanted:
        size = min(BATCH, wanted - done)
        picks = rng.choices(range(len(vendors)), weights=popularity, k=size)
        rows: list[dict[str, Any]] = []
        for index in picks:
            vendor = vendors[index]
            officer = rng.choice(officers)
            area = rng.choice(vendor.areas)
            product_id, product = rng.choice(vendor.products) if vendor.products else (None, vendor.brand)
            overall = _score(rng, vendor.quality)
            relationship = rng.choices(relationships, weights=relationship_weights)[0]
            created, published = _dates(rng)
            private = rng.random() < 0.08
            row: dict[str, Any] = {
                "id": next_id,
                "supplier_id": vendor.id,
                "product_id": product_id,
                "author_id": officer.id,
                "council_id": officer.council_id,
                "author_role": officer.job_title,
                "standard_version": 1,
                "status": ContentStatus.published,
                "version": 1,
                "implementation": _dimension(rng, overall, 0.15 if relationship is Relationship.evaluated else 0.03),
                "customisation_cost": _dimension(rng, overall, 0.1),
                "fit": _dimension(rng, overall, 0.03),
                "support": _dimension(rng, overall, 0.15 if relationship is Relationship.evaluated else 0.03),
                "value": _dimension(rng, overall, 0.05),
                "partnership": _dimension(rng, overall, 0.08),
                "data_exit": _dimension(rng, overall, 0.12),
                "overall": overall,
                "recommend": overall >= 6 if rng.random() > 0.1 else overall >= 8,
                "relationship": relationship,
                "service_area": area,
                "time_used": None
                if relationship is Relationship.evaluated
                else TIME_USED[0]
                if relationship is Relationship.pilot
                else rng.choice(TIME_USED[1:]),
                **writer.review(vendor, area, product, overall),
                "keep_text_private": private,
                "procurement_route": None,
                "framework_lot": None,
                "contract_end": None,
                "cost_band": None,
                "exact_cost_pence": None,
                "exact_cost_source_url": None,
                "is_demo": True,
                "created_at": created,
                "updated_at": published,
                "published_at": published,
            }
            if relationship in (Relationship.live_contract, Relationship.past_contract) and rng.random() < 0.7:
                route = rng.choice(tuple(ProcurementRoute))
                row["procurement_route"] = route
                row["framework_lot"] = rng.choice(demo.FRAMEWORK_LOTS) if route is ProcurementRoute.framework else None
                row["cost_band"] = rng.choice(COST_BANDS)
                row["contract_end"] = (ANCHOR + timedelta(days=rng.randint(-400, 1100))).date()
            plan.flag(row, contributions.REVIEW_TEXT_FIELDS)
            rows.append(row)
            counts[vendor.id] += 1
            report.private_reviews += private
            next_id += 1
        sink.write(ContentType.review, rows)
        done += size
        progress("reviews", done, wanted)
    report.reviews = done
    names = {v.id: (v.name, v.real) for v in vendors}
    ranked = sorted(counts, key=lambda i: (-counts[i], i))
    report.top_real_supplier = next((names[i][0] for i in ranked if names[i][1]), "")
    report.top_generated_supplier = next((names[i][0] for i in ranked if not names[i][1]), "")


def _pilots(connection: Connection, plan: "_Plan", sink: "_Sink", wanted: int) -> None:
    rng, writer, vendors, popularity, officers = plan.rng, plan.writer, plan.vendors, plan.popularity, plan.officers
    report, progress = plan.report, plan.progress
    next_id = _next_id(connection, "pilot")
    statuses = tuple(PilotStatus)
    progress("pilots", 0, wanted)
    done = 0
    while done < wanted:
        size = min(BATCH, wanted - done)
        picks = rng.choices(range(len(vendors)), weights=popularity, k=size)
        rows: list[dict[str, Any]] = []
        for index in picks:
            vendor = vendors[index]
            officer = rng.choice(officers)
            area = rng.choice(vendor.areas)
            product_id, product = rng.choice(vendor.products) if vendor.products else (None, vendor.brand)
            status = rng.choice(statuses)
            created, published = _dates(rng)
            start: date = created.date() - timedelta(days=rng.randint(0, 200))
            row: dict[str, Any] = {
                "id": next_id,
                "supplier_id": vendor.id,
                "product_id": product_id,
                "author_id": officer.id,
                "council_id": officer.council_id,
                "author_role": officer.job_title,
                "status": ContentStatus.published,
                "version": 1,
                **writer.pilot(vendor, area, product),
                "service_area": area,
                "start_date": start,
                "end_date": start + timedelta(days=rng.choice((60, 90, 120, 180, 365))),
                "pilot_status": status,
                "outcome": rng.choice(tuple(PilotOutcome)) if status is PilotStatus.completed else None,
                "cost_band": rng.choice(COST_BANDS),
                "nda": rng.choice(tuple(NdaStatus)),
                "open_to_contact": rng.random() < 0.5,
                "is_demo": True,
                "created_at": created,
                "updated_at": published,
                "published_at": published,
            }
            plan.flag(row, contributions.PILOT_TEXT_FIELDS)
            rows.append(row)
            next_id += 1
        sink.write(ContentType.pilot, rows)
        done += size
        progress("pilots", done, wanted)
    report.pilots = done
