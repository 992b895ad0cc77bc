"""The fictional demo data: marked as demo, attached only to demo suppliers, loaded once, to the review standard."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, col, select

from app.db import make_engine
from app.demo import DEMO_COUNCILS, DemoDataError, seed_demo
from app.models import (
    Category,
    ContentStatus,
    Council,
    ModerationItem,
    NdaStatus,
    Pilot,
    Review,
    Supplier,
    SupplierCategory,
    User,
)
from app.standard import SERVICE_AREAS

TODAY = date(2026, 3, 2)

# Real councils, as in ../shared/data/uk_local_authorities.csv: GSS code, register code, name, nice name,
# type code, type name, region, nation.
COUNCILS = (
    ("E09000015", "HRW", "London Borough of Harrow", "Harrow", "LBO", "London borough", "London", "England"),
    ("E08000025", "BIR", "Birmingham City Council", "Birmingham", "MD", "Metropolitan district", "West Midlands",
     "England"),
    ("S12000036", "EDH", "City of Edinburgh Council", "City of Edinburgh", "SCO", "Scottish unitary authority",
     "Scotland", "Scotland"),
    ("W06000015", "CRF", "City of Cardiff Council", "Cardiff", "WPA", "Welsh unitary authority", "Wales", "Wales"),
    ("E10000030", "SRY", "Surrey County Council", "Surrey", "CTY", "County", "South East", "England"),
    ("E07000178", "OXO", "Oxford City Council", "Oxford", "NMD", "Non-metropolitan district", "South East",
     "England"),
    ("E06000023", "BST", "Bristol City Council", "City of Bristol", "UA", "Unitary authority", "South West",
     "England"),
    ("E08000035", "LDS", "Leeds City Council", "Leeds", "MD", "Metropolitan district", "Yorkshire and The Humber",
     "England"),
)  # fmt: skip


def add_councils(session: Session, *, leave_out: str | None = None) -> None:
    for gss, code, name, nice_name, type_code, type_name, region, nation in COUNCILS:
        if gss != leave_out:
            session.add(
                Council(
                    gss_code=gss,
                    code=code,
                    name=name,
                    nice_name=nice_name,
                    type_code=type_code,
                    type_name=type_name,
                    region=region,
                    nation=nation,
                )
            )
    session.commit()


def add_real_supplier(session: Session) -> Supplier:
    supplier = Supplier(slug="real-supplier", name="Real Supplier Ltd", name_key="real supplier")
    session.add(supplier)
    session.commit()
    return supplier


def make_session(tmp_path: Path, name: str) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path}/{name}.db")
    SQLModel.metadata.create_all(engine)
    return Session(engine)


@pytest.fixture
def empty_session(tmp_path: Path) -> Iterator[Session]:
    """A fresh SQLite database with no reference data: each test adds the councils it needs."""
    with make_session(tmp_path, "t") as session:
        yield session


@pytest.fixture
def seeded(empty_session: Session) -> Session:
    add_councils(empty_session)
    add_real_supplier(empty_session)
    seed_demo(empty_session, today=TODAY)
    return empty_session


def test_the_demo_councils_are_the_real_ones_in_the_reference_data() -> None:
    assert sorted(DEMO_COUNCILS) == sorted(row[0] for row in COUNCILS)
    csv = (Path(__file__).resolve().parents[2] / "shared" / "data" / "uk_local_authorities.csv").read_text()
    for gss, code, name, *_ in COUNCILS:
        assert f"{code},{name}," in csv and f",{gss}," in csv


def test_seeding_creates_demo_suppliers_officers_reviews_and_pilots(empty_session: Session) -> None:
    add_councils(empty_session)
    add_real_supplier(empty_session)

    report = seed_demo(empty_session, today=TODAY)

    assert report.created
    demo_suppliers = empty_session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).all()
    assert report.suppliers == len(demo_suppliers) >= 6
    assert report.officers == len(empty_session.exec(select(User)).all()) >= 10
    assert report.reviews == len(empty_session.exec(select(Review)).all()) >= 30
    assert report.pilots == len(empty_session.exec(select(Pilot)).all()) >= 8
    for row in [*demo_suppliers, *empty_session.exec(select(User)), *empty_session.exec(select(Review))]:
        assert row.is_demo
    assert all(pilot.is_demo for pilot in empty_session.exec(select(Pilot)))
    assert all("(demo)" in supplier.name for supplier in demo_suppliers)
    assert {user.role for user in empty_session.exec(select(User))} == {"officer", "moderator", "admin"}


def test_demo_reviews_and_pilots_belong_only_to_demo_suppliers(seeded: Session) -> None:
    demo_ids = set(seeded.exec(select(Supplier.id).where(col(Supplier.is_demo).is_(True))))
    assert demo_ids
    reviews, pilots = seeded.exec(select(Review)).all(), seeded.exec(select(Pilot)).all()
    assert {review.supplier_id for review in reviews} <= demo_ids
    assert {pilot.supplier_id for pilot in pilots} <= demo_ids
    # One demo supplier has no reviews, so an empty vendor page can be shown too.
    assert demo_ids - {review.supplier_id for review in reviews}


def test_every_demo_email_is_at_the_reserved_domain(seeded: Session) -> None:
    users = seeded.exec(select(User)).all()
    assert users
    assert all(user.email.endswith("@demo.invalid") for user in users)
    assert any(not user.open_to_contact for user in users)


def test_seeding_twice_adds_nothing(seeded: Session) -> None:
    counts = [len(seeded.exec(select(model)).all()) for model in (Supplier, User, Review, Pilot, ModerationItem)]

    again = seed_demo(seeded, today=TODAY)

    assert not again.created
    assert [len(seeded.exec(select(model)).all()) for model in (Supplier, User, Review, Pilot, ModerationItem)] == (
        counts
    )
    assert (again.suppliers, again.officers, again.reviews, again.pilots) == (counts[0] - 1, *counts[1:4])


def test_missing_councils_stop_the_seeding_with_a_clear_message(empty_session: Session) -> None:
    with pytest.raises(DemoDataError, match=r"^Load the reference data first: supplier-intel init$"):
        seed_demo(empty_session, today=TODAY)


def test_one_missing_council_stops_the_seeding_before_anything_is_written(empty_session: Session) -> None:
    add_councils(empty_session, leave_out="W06000015")

    with pytest.raises(DemoDataError) as raised:
        seed_demo(empty_session, today=TODAY)

    assert raised.value.message == "Load the reference data first: supplier-intel init"
    empty_session.rollback()
    assert empty_session.exec(select(Supplier)).all() == []
    assert empty_session.exec(select(User)).all() == []


def test_review_scores_follow_the_review_standard(seeded: Session) -> None:
    reviews = seeded.exec(select(Review)).all()
    not_applicable = 0
    for review in reviews:
        dimensions = [
            review.implementation,
            review.customisation_cost,
            review.fit,
            review.support,
            review.value,
            review.partnership,
            review.data_exit,
        ]
        rated = [score for score in dimensions if score is not None]
        not_applicable += len(dimensions) - len(rated)
        assert rated and all(1 <= score <= 5 for score in rated)
        assert 1 <= review.overall <= 10
        # The overall score tells the same story as the dimensions (mean 1-5 doubled is 2-10).
        assert abs(review.overall - 2 * sum(rated) / len(rated)) <= 2
        assert review.recommend == (review.overall >= 6) or review.overall in (5, 6)
        assert review.standard_version == 1
    assert not_applicable > 0


def test_reviews_read_like_officers_at_their_councils(seeded: Session) -> None:
    officers = {user.id: user for user in seeded.exec(select(User))}
    reviews = seeded.exec(select(Review)).all()
    for review in reviews:
        author = officers[review.author_id]
        assert review.author_role == author.job_title
        assert review.council_id == author.council_id
        assert review.service_area in SERVICE_AREAS
        assert review.product_id is not None
        assert review.headline and review.worked_well and review.did_not_work and review.advice
        assert review.exact_cost_pence is None
    assert any(review.keep_text_private for review in reviews)
    assert any(not review.keep_text_private for review in reviews)
    assert any(review.cost_band and review.procurement_route and review.contract_end for review in reviews)
    assert len({review.relationship for review in reviews}) == 4


def utc(value: datetime) -> datetime:
    """A stored datetime as naive UTC, whichever convention the database layer keeps."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def test_reviews_span_thirty_months_and_two_await_moderation(seeded: Session) -> None:
    anchor = datetime.combine(TODAY, time(0, 0))
    reviews = seeded.exec(select(Review)).all()
    pending = [review for review in reviews if review.status == ContentStatus.pending]
    published = [review for review in reviews if review.status == ContentStatus.published]

    assert len(pending) == 2 and len(published) == len(reviews) - 2
    assert all(review.published_at is None for review in pending)
    for review in published:
        assert review.published_at is not None
        assert utc(review.created_at) <= utc(review.published_at) < anchor
    ages = [anchor - utc(review.created_at) for review in reviews]
    assert all(timedelta(0) < age <= timedelta(days=31 * 30) for age in ages)
    assert any(age > timedelta(days=2 * 365) for age in ages)
    assert any(age < timedelta(days=90) for age in ages)
    queued = seeded.exec(select(ModerationItem.content_id).where(ModerationItem.content_type == "review")).all()
    assert sorted(queued) == sorted(review.id for review in pending)


def test_pilots_cover_the_pilot_record(seeded: Session) -> None:
    officers = {user.id: user for user in seeded.exec(select(User))}
    pilots = seeded.exec(select(Pilot)).all()
    assert {pilot.nda for pilot in pilots} == set(NdaStatus)
    assert sum(pilot.status == ContentStatus.published for pilot in pilots) > len(pilots) / 2
    for pilot in pilots:
        author = officers[pilot.author_id]
        assert pilot.author_role == author.job_title and pilot.council_id == author.council_id
        assert pilot.title and pilot.problem and pilot.service_area in SERVICE_AREAS
        assert pilot.start_date and pilot.end_date and pilot.start_date < pilot.end_date
        if pilot.pilot_status in ("completed", "stopped"):
            assert pilot.outcome is not None and pilot.end_date <= TODAY
        else:
            assert pilot.outcome is None
        if pilot.pilot_status == "planned":
            assert pilot.start_date > TODAY
        if not author.open_to_contact:
            assert not pilot.open_to_contact


def test_demo_text_is_clean(seeded: Session) -> None:
    """No prices, email addresses, honorifics or allegation words: the demo must pass screening itself."""
    texts: list[str] = []
    for review in seeded.exec(select(Review)):
        texts += [review.headline, review.worked_well or "", review.did_not_work or "", review.advice or ""]
    for pilot in seeded.exec(select(Pilot)):
        texts += [pilot.title, pilot.problem, pilot.lessons or ""]
    risky = re.compile(
        r"£|\bGBP\b|\d+(\.\d+)?\s*(k|m)\b|\d+%|@|\b(Mr|Mrs|Ms|Miss|Dr|Cllr)\b\.?\s|"
        r"\b(fraud|corrupt|criminal|illegal|lied|lying|bribe|scam|NDA|confidential)\w*",
        re.IGNORECASE,
    )
    for text in texts:
        assert not risky.search(text), text


def test_seeding_is_deterministic(tmp_path: Path) -> None:
    def snapshot(name: str) -> list[tuple[object, ...]]:
        with make_session(tmp_path, name) as session:
            add_councils(session)
            seed_demo(session, today=TODAY)
            reviews = session.exec(select(Review).order_by(col(Review.id))).all()
            return [(r.headline, r.created_at, r.keep_text_private, r.cost_band, r.time_used) for r in reviews]

    assert snapshot("first") == snapshot("second")


def test_suppliers_are_linked_to_categories_only_when_they_exist(empty_session: Session) -> None:
    add_councils(empty_session)
    empty_session.add(Category(code="48445000-9", label="Customer Relation Management software package"))
    empty_session.commit()

    seed_demo(empty_session, today=TODAY)

    links = empty_session.exec(select(SupplierCategory)).all()
    assert len(links) == 1
    supplier = empty_session.get(Supplier, links[0].supplier_id)
    assert supplier is not None and supplier.is_demo


def test_seeding_on_the_reference_data(session: Session) -> None:
    """On the real reference import, on SQLite and PostgreSQL: demo suppliers get their CPV categories."""
    real_suppliers = set(session.exec(select(Supplier.id).where(col(Supplier.is_demo).is_(False))))

    report = seed_demo(session, today=TODAY)

    assert report.created and report.reviews > 0 and report.pilots > 0
    demo_suppliers = session.exec(select(Supplier).where(col(Supplier.is_demo).is_(True))).all()
    linked = set(session.exec(select(SupplierCategory.supplier_id)))
    assert {supplier.id for supplier in demo_suppliers} <= linked
    assert not real_suppliers & {review.supplier_id for review in session.exec(select(Review))}
    assert not real_suppliers & {pilot.supplier_id for pilot in session.exec(select(Pilot))}
    again = seed_demo(session, today=TODAY)
    assert not again.created and again.reviews == report.reviews and again.suppliers == report.suppliers
