"""A supplier's score (`app.scores`): hand-computed arithmetic, only published reviews, a fixed number of queries.

The `make_*` functions here build suppliers, reviews and pilots for these tests and for tests/test_vendors.py.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import ContentStatus, ContentType, Review
from app.scores import (
    DIMENSIONS,
    DimensionScore,
    Score,
    bar_step,
    mean_half_up,
    older_than,
    score_word,
    scores_for,
    supplier_score,
)
from tests.factories import NOW, counting_queries, make_review, make_supplier

# --- the arithmetic ------------------------------------------------------------------------------


def test_the_score_of_three_published_reviews_by_hand(session: Session) -> None:
    supplier = make_supplier(session)
    make_review(session, supplier, overall=7, scores="4 2 5 3 - 3 2", published_at=datetime(2026, 1, 10, tzinfo=UTC))
    make_review(session, supplier, overall=8, scores="3 - 4 3 - 4 2", published_at=datetime(2025, 6, 1, tzinfo=UTC))
    make_review(
        session, supplier, overall=4, scores="- - - - - - -", recommend=False,
        published_at=datetime(2023, 3, 15, tzinfo=UTC),
    )  # fmt: skip

    score = supplier_score(session, supplier_id=supplier.id or 0, now=NOW)

    assert score.count == 3
    assert score.overall == 6.3  # 19 / 3 = 6.333...
    assert score.word == "Mixed"
    by_key = {d.key: (d.label, d.mean, d.count) for d in score.dimensions}
    assert list(by_key) == [key for key, _label in DIMENSIONS]
    assert by_key == {
        "implementation": ("Implementation and delivery", 3.5, 2),  # (4 + 3) / 2; the third said N/A
        "customisation_cost": ("Cost of customisation and change", 2.0, 1),
        "fit": ("Fit to requirements", 4.5, 2),
        "support": ("Support and service levels", 3.0, 2),
        "value": ("Value for money", None, 0),  # every review said N/A: no mean, not zero
        "partnership": ("Partnership and improvement", 3.5, 2),
        "data_exit": ("Data, integration and exit", 2.0, 2),
    }
    assert score.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0, 7: 1, 8: 1, 9: 0, 10: 0}
    assert score.recommend_share == pytest.approx(2 / 3)
    assert score.recommend_percent == 67
    assert score.older_count == 1  # March 2023 is more than 24 months before June 2026
    assert score.first_at == datetime(2023, 3, 15, tzinfo=UTC)
    assert score.last_at == datetime(2026, 1, 10, tzinfo=UTC)
    assert score.period == "March 2023 to January 2026"


def test_only_published_reviews_count(session: Session) -> None:
    supplier = make_supplier(session)
    other = make_supplier(session, name="Other Supplier Ltd")
    make_review(session, supplier, overall=6, scores="3 3 3 3 3 3 3", recommend=False)
    for status in ContentStatus:
        if status != ContentStatus.published:
            make_review(session, supplier, overall=10, scores="5 5 5 5 5 5 5", status=status, recommend=True)
    make_review(session, other, overall=10, scores="5 5 5 5 5 5 5")

    score = supplier_score(session, supplier_id=supplier.id or 0, now=NOW)

    assert score.count == 1
    assert score.overall == 6.0
    assert all(d.mean == 3.0 and d.count == 1 for d in score.dimensions)
    assert score.distribution[6] == 1 and score.distribution[10] == 0
    assert score.recommend_share == 0.0
    assert scores_for(session, supplier_ids=[supplier.id or 0]) == {supplier.id: (6.0, 1)}


def test_a_supplier_without_published_reviews_has_no_score(session: Session) -> None:
    supplier = make_supplier(session)
    make_review(session, supplier, status=ContentStatus.pending)

    score = supplier_score(session, supplier_id=supplier.id or 0, now=NOW)

    assert (score.overall, score.word, score.count) == (None, None, 0)
    assert (score.first_at, score.last_at, score.period) == (None, None, None)
    assert score.distribution == dict.fromkeys(range(1, 11), 0)
    assert [(d.mean, d.count) for d in score.dimensions] == [(None, 0)] * 7
    assert (score.recommend_share, score.recommend_percent, score.older_count) == (None, None, 0)


def test_means_round_half_up_from_exact_sums(session: Session) -> None:
    supplier = make_supplier(session)
    # Overall 179 / 20 = 8.95 exactly: half up to 9.0, so "Exceptional" (a float mean rounds 8.95 down to 8.9).
    for i in range(20):
        make_review(session, supplier, overall=9 if i else 8, scores="4 - - - - - -" if i % 4 else "5 - - - - - -",
                    commit=False)  # fmt: skip
    session.commit()

    score = supplier_score(session, supplier_id=supplier.id or 0, now=NOW)

    assert score.overall == 9.0
    assert score.word == "Exceptional"
    assert score.dimensions[0].mean == 4.3  # 85 / 20 = 4.25, half up
    assert score.dimensions[0].count == 20


def test_scores_for_many_suppliers_in_one_query(session: Session, engine: Engine) -> None:
    first, second, unreviewed = (make_supplier(session, name=f"Supplier {n}") for n in ("One", "Two", "Three"))
    for overall in (9, 9, 9, 8):
        make_review(session, first, overall=overall)  # 35 / 4 = 8.75 -> 8.8
    make_review(session, second, overall=3)
    make_review(session, second, overall=10, status=ContentStatus.hidden)
    ids = [first.id or 0, second.id or 0, unreviewed.id or 0]

    with counting_queries(engine) as queries:
        result = scores_for(session, supplier_ids=ids)

    assert queries() == 1
    assert result == {ids[0]: (8.8, 4), ids[1]: (3.0, 1), ids[2]: (None, 0)}
    assert scores_for(session, supplier_ids=[]) == {}


def test_the_score_takes_the_same_queries_for_3_or_30_reviews(session: Session, engine: Engine) -> None:
    small, large = make_supplier(session, name="Small Supplier"), make_supplier(session, name="Large Supplier")
    for n in range(3):
        make_review(session, small, overall=n + 5, commit=False)
    for n in range(30):
        make_review(session, large, overall=n % 10 + 1, commit=False)
    session.commit()
    small_id, large_id = small.id or 0, large.id or 0  # loaded before counting

    with counting_queries(engine) as queries:
        assert supplier_score(session, supplier_id=small_id, now=NOW).count == 3
    small_queries = queries()
    with counting_queries(engine) as queries:
        assert supplier_score(session, supplier_id=large_id, now=NOW).count == 30
    assert queries() == small_queries == 2


@pytest.mark.parametrize(
    ("mean", "word"),
    [
        (10.0, "Exceptional"),
        (9.0, "Exceptional"),
        (8.95, "Exceptional"),  # shown as 9.0
        (8.94, "Very good"),
        (8.0, "Very good"),
        (7.95, "Very good"),
        (7.94, "Good"),
        (7.0, "Good"),
        (6.95, "Good"),
        (6.9, "Mixed"),
        (5.0, "Mixed"),
        (4.95, "Mixed"),
        (4.94, "Poor"),
        (1.0, "Poor"),
    ],
)
def test_score_words_and_their_boundaries(mean: float, word: str) -> None:
    assert score_word(mean) == word


@pytest.mark.parametrize(
    ("total", "count", "mean"),
    [(179, 20, 9.0), (1, 4, 0.3), (17, 8, 2.1), (3, 8, 0.4), (19, 3, 6.3), (20, 3, 6.7), (7, 1, 7.0)],
)
def test_mean_half_up(total: int, count: int, mean: float) -> None:
    assert mean_half_up(total, count) == mean


def test_older_means_more_than_24_calendar_months() -> None:
    assert older_than(datetime(2026, 6, 1, 12, tzinfo=UTC)) == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert older_than(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert older_than(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2024, 1, 31, tzinfo=UTC)


def test_bars_and_percentages_for_the_page() -> None:
    assert DimensionScore(label="Fit", key="fit", mean=4.2, count=3).bar == 42
    assert DimensionScore(label="Fit", key="fit", mean=None, count=0).bar == 0
    assert bar_step(1, 3) == 17  # 16.67 steps of 2%
    assert bar_step(5, 0) == 0
    score = Score(
        overall=6.0,
        word="Mixed",
        count=8,
        first_at=datetime(2025, 3, 1, tzinfo=UTC),
        last_at=datetime(2025, 3, 30, tzinfo=UTC),
        dimensions=[],
        distribution={**dict.fromkeys(range(1, 11), 0), 6: 6, 5: 2},
        recommend_share=1 / 8,
        older_count=0,
        recommend_count=1,
    )
    assert score.recommend_percent == 13  # 12.5 rounds half up
    assert score.period == "March 2025"
    assert score.distribution_bars[0] == (10, 0, 0)
    assert (6, 6, 38) in score.distribution_bars and (5, 2, 13) in score.distribution_bars


def test_the_score_follows_publication_edits_and_withdrawal(session: Session) -> None:
    from app import contributions
    from app.models import Role
    from app.moderation import queue
    from tests.factories import make_user

    supplier = make_supplier(session)
    officer = make_user(session, email="writer@harrow.gov.uk")
    moderator = make_user(session, email="mod@harrow.gov.uk", role=Role.moderator)
    raw = {
        "relationship": "live_contract",
        "service_area": "Finance",
        "overall": "8",
        "recommend": "yes",
        "headline": "Solid ledger",
        "worked_well": "The month end close is quicker.",
        **{key: "4" for key, _ in DIMENSIONS},
    }
    data = contributions.parse_review(session, supplier=supplier, raw=raw)
    submitted = contributions.submit_review(session, author=officer, supplier=supplier, data=data)
    assert submitted.status == ContentStatus.pending  # a first contribution waits for a moderator
    assert supplier_score(session, supplier_id=supplier.id or 0).count == 0

    item = contributions.open_item_for(session, content_type=ContentType.review, content_id=submitted.content.id or 0)
    assert item is not None
    queue.decide(session, moderator=moderator, item_id=item.id or 0, version=item.version, action=queue.Action.approve)
    score = supplier_score(session, supplier_id=supplier.id or 0)
    assert (score.count, score.overall) == (1, 8.0)

    review = session.get(Review, submitted.content.id)
    assert review is not None
    changed = contributions.parse_review(session, supplier=supplier, raw={**raw, "worked_well": "Call 020 7946 0000."})
    contributions.edit(session, author=officer, content=review, data=changed)
    assert supplier_score(session, supplier_id=supplier.id or 0).count == 0  # back with a moderator

    contributions.withdraw(session, author=officer, content=review)
    assert supplier_score(session, supplier_id=supplier.id or 0).count == 0
