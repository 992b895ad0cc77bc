"""A supplier's score, as `product.md` defines it ("A vendor's score is...").

Policy:
- Only published reviews count; pending, sent back, rejected, hidden, removed and withdrawn ones never do.
- The score is the mean overall score (1 to 10) with its word, the number of reviews, the mean of each of the seven
  dimensions (1 to 5; a "not applicable" answer is left out of that dimension's mean, never counted as zero), the
  1 to 10 distribution and the share of reviewers who would recommend the supplier.
- Means are computed from exact integer sums and rounded half up to one decimal, so 8.95 is 9.0 and "Exceptional";
  the word always comes from the rounded figure that the page shows.
- Every review counts whatever its age, but the score says which period its reviews cover, and how many are older
  than 24 months (those are labelled "Older review" where they are shown).
- The database does the arithmetic: a fixed number of aggregate queries, whatever the number of reviews.
"""

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlmodel import Session, col, func, select

from app.models import ContentStatus, Review, utcnow
from app.standard import DIMENSIONS as STANDARD_DIMENSIONS

# (Review attribute, label) of each dimension, in the standard's order.
DIMENSIONS: tuple[tuple[str, str], ...] = tuple((d.key, d.label) for d in STANDARD_DIMENSIONS)
OVERALL_SCALE = range(1, 11)
DIMENSION_MAX = 5
OLDER_AFTER_MONTHS = 24
WORDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("9.0"), "Exceptional"),
    (Decimal("8.0"), "Very good"),
    (Decimal("7.0"), "Good"),
    (Decimal("5.0"), "Mixed"),
)
LOWEST_WORD = "Poor"
BAR_STEPS = 50  # bars are drawn in 50 steps of 2%: `.app-bar--0` to `.app-bar--50` in static/app.css

_ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class DimensionScore:
    label: str
    key: str
    mean: float | None  # None when every counted review said "not applicable"
    count: int  # reviews that rated this dimension

    @property
    def bar(self) -> int:
        """The bar's length in steps of `BAR_STEPS`: 5.0 out of 5 fills it."""
        return 0 if self.mean is None else bar_step(self.mean, DIMENSION_MAX)


@dataclass(frozen=True)
class Score:
    overall: float | None
    word: str | None
    count: int
    first_at: datetime | None
    last_at: datetime | None
    dimensions: list[DimensionScore]
    distribution: dict[int, int]
    recommend_share: float | None
    older_count: int
    recommend_count: int = 0  # counted reviews that recommend, so that the percentage is exact

    @property
    def recommend_percent(self) -> int | None:
        """The share who would recommend, as a whole percentage rounded half up from the exact counts."""
        if not self.count:
            return None
        exact = Decimal(self.recommend_count * 100) / Decimal(self.count)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def period(self) -> str | None:
        """The months the counted reviews were published in: "March 2024 to October 2026", or one month."""
        if self.first_at is None or self.last_at is None:
            return None
        first, last = f"{self.first_at:%B %Y}", f"{self.last_at:%B %Y}"
        return first if first == last else f"{first} to {last}"

    @property
    def distribution_bars(self) -> list[tuple[int, int, int]]:
        """(overall score, reviews, bar step) from 10 down to 1; the bar is the share of all counted reviews."""
        return [
            (value, self.distribution[value], bar_step(self.distribution[value], self.count))
            for value in reversed(OVERALL_SCALE)
        ]


def mean_half_up(total: int, count: int) -> float:
    """`total / count` to one decimal, rounded half up from the exact quotient."""
    return float((Decimal(total) / Decimal(count)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP))


def score_word(mean: float) -> str:
    """The word for a mean overall score, judged on the figure shown (one decimal, half up)."""
    shown = Decimal(str(mean)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return next((word for threshold, word in WORDS if shown >= threshold), LOWEST_WORD)


def bar_step(value: float, maximum: float) -> int:
    """How many of the `BAR_STEPS` steps of a bar `value` out of `maximum` fills."""
    if maximum <= 0:
        return 0
    share = Decimal(str(value)) / Decimal(str(maximum)) * BAR_STEPS
    return max(0, min(BAR_STEPS, int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))))


def older_than(now: datetime) -> datetime:
    """The moment before which a review counts as older: `OLDER_AFTER_MONTHS` calendar months before `now`."""
    months = now.year * 12 + now.month - 1 - OLDER_AFTER_MONTHS
    year, month = divmod(months, 12)
    return now.replace(year=year, month=month + 1, day=min(now.day, monthrange(year, month + 1)[1]))


def _published(supplier_id: int) -> tuple[ColumnElement[bool], ...]:
    return (col(Review.supplier_id) == supplier_id, col(Review.status) == ContentStatus.published)


def supplier_score(session: Session, *, supplier_id: int, now: datetime | None = None) -> Score:
    """The score of a supplier from its published reviews, in two aggregate queries."""
    cutoff = older_than(now or utcnow())
    columns: list[Any] = [
        func.count(),
        func.sum(Review.overall),
        func.min(Review.published_at),
        func.max(Review.published_at),
        func.sum(case((col(Review.recommend), 1), else_=0)),
        func.sum(case((col(Review.published_at) < cutoff, 1), else_=0)),
    ]
    for key, _label in DIMENSIONS:
        columns += [func.sum(getattr(Review, key)), func.count(getattr(Review, key))]
    row = session.exec(select(*columns).where(*_published(supplier_id))).one()
    count, overall_sum, first_at, last_at, recommended, older = row[:6]
    dimension_sums = row[6:]
    distribution = dict.fromkeys(OVERALL_SCALE, 0)
    for value, reviews in session.exec(
        select(Review.overall, func.count()).where(*_published(supplier_id)).group_by(col(Review.overall))
    ):
        distribution[value] = reviews
    dimensions = [
        DimensionScore(
            label=label,
            key=key,
            mean=mean_half_up(dimension_sums[2 * i], rated) if (rated := dimension_sums[2 * i + 1]) else None,
            count=rated,
        )
        for i, (key, label) in enumerate(DIMENSIONS)
    ]
    overall = mean_half_up(overall_sum, count) if count else None
    return Score(
        overall=overall,
        word=None if overall is None else score_word(overall),
        count=count,
        first_at=first_at,
        last_at=last_at,
        dimensions=dimensions,
        distribution=distribution,
        recommend_share=recommended / count if count else None,
        older_count=older or 0,
        recommend_count=recommended or 0,
    )


def scores_for(session: Session, *, supplier_ids: Sequence[int]) -> dict[int, tuple[float | None, int]]:
    """The mean overall score and review count of each supplier, for lists, in one query."""
    scores: dict[int, tuple[float | None, int]] = dict.fromkeys(supplier_ids, (None, 0))
    if not scores:
        return scores
    rows = session.exec(
        select(Review.supplier_id, func.sum(Review.overall), func.count())
        .where(col(Review.supplier_id).in_(list(scores)), col(Review.status) == ContentStatus.published)
        .group_by(col(Review.supplier_id))
    )
    for supplier_id, total, count in rows:
        scores[supplier_id] = (mean_half_up(total, count), count)
    return scores
