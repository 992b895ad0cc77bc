"""The JSON API's request and response bodies (`/api/v1`); the routes in `app.routers.api` fill them from services.

Contributions are sent as plain JSON objects and checked by the same parsers as the HTML forms
(`app.contributions.parse_review`, `parse_pilot`), so both say the same thing about the same mistake.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.moderation.watched import censor_text
from app.scores import Score

# Contributors' free text as the API shows it: watched terms with the censor action as ■ (`watched.py`).
CensoredText = Annotated[str | None, AfterValidator(censor_text)]

# --- suppliers -----------------------------------------------------------------------------------


class ScoreSummary(BaseModel):
    overall: float | None = Field(description="mean overall score, 1 to 10, to one decimal; null with no reviews")
    word: str | None = None
    count: int = Field(description="published reviews counted")


class VendorSummary(BaseModel):
    slug: str
    name: str
    website: str | None
    is_demo: bool
    score: ScoreSummary


class VendorList(BaseModel):
    total: int
    page: int
    pages: int
    per_page: int
    vendors: list[VendorSummary]


class DimensionScorePublic(BaseModel):
    key: str
    label: str
    mean: float | None = Field(description="1 to 5; null when every review said not applicable")
    count: int


class ScorePublic(BaseModel):
    overall: float | None
    word: str | None
    count: int
    dimensions: list[DimensionScorePublic]
    distribution: dict[str, int] = Field(description='reviews by overall score, "1" to "10"')
    recommend_share: float | None = Field(description="0 to 1: the share who would recommend the supplier")

    @classmethod
    def of(cls, score: Score) -> "ScorePublic":
        return cls(
            overall=score.overall,
            word=score.word,
            count=score.count,
            dimensions=[
                DimensionScorePublic(key=d.key, label=d.label, mean=d.mean, count=d.count) for d in score.dimensions
            ],
            distribution={str(value): count for value, count in sorted(score.distribution.items())},
            recommend_share=score.recommend_share,
        )


class CategoryPublic(BaseModel):
    code: str
    label: str


class ProductPublic(BaseModel):
    id: int
    name: str


class VendorDetail(BaseModel):
    slug: str
    name: str
    description: str | None
    website: str | None
    is_demo: bool
    aliases: list[str]
    categories: list[CategoryPublic]
    products: list[ProductPublic]
    score: ScorePublic


class RatingPublic(BaseModel):
    key: str
    label: str
    rating: int | None = Field(description="1 to 5; null for not applicable")


class ContractFactsPublic(BaseModel):
    procurement_route: str | None
    framework_lot: str | None
    contract_end: str | None
    cost_band: str | None
    exact_cost: str | None
    exact_cost_source_url: str | None


class PublishedReview(BaseModel):
    id: int
    reviewer: str = Field(description='role and council, e.g. "Digital lead, London Borough of Harrow"; never a name')
    published_on: str
    older: bool = Field(description="published more than 24 months ago")
    product: str | None
    relationship: str
    service_area: str
    time_used: str | None
    overall: int
    recommend: bool
    ratings: list[RatingPublic]
    text_private: bool = Field(description="the reviewer kept the written part private: the text fields are null")
    headline: CensoredText
    worked_well: CensoredText
    did_not_work: CensoredText
    advice: CensoredText
    contract: ContractFactsPublic | None
    is_demo: bool


class ReviewList(BaseModel):
    total: int
    page: int
    pages: int
    per_page: int
    reviews: list[PublishedReview]


# --- contributing --------------------------------------------------------------------------------


class FindingPublic(BaseModel):
    field: str
    category: str
    severity: str
    start: int
    end: int
    detector: str


class SubmissionResult(BaseModel):
    id: int
    status: Literal["published", "pending_moderation"]
    findings: list[FindingPublic]


# Open bodies: documented for /docs, checked by the services' parsers (one set of messages for forms and the API).
REVIEW_EXAMPLE: dict[str, Any] = {
    "supplier": "example-supplier",
    "product_id": None,
    "relationship": "live_contract",
    "service_area": "Housing",
    "time_used": "1 to 2 years",
    "implementation": 4,
    "customisation_cost": 3,
    "fit": 4,
    "support": 5,
    "value": 4,
    "partnership": None,
    "data_exit": 3,
    "overall": 8,
    "recommend": True,
    "headline": "Solid housing system, slow to change",
    "worked_well": "Migration went to plan.",
    "did_not_work": "Reports need the supplier's help.",
    "advice": "Agree the data export format before signing.",
    "keep_text_private": False,
    "procurement_route": "framework",
    "framework_lot": "G-Cloud 14 lot 2",
    "contract_end": "2027-03-31",
    "cost_band": "25k_100k",
}
PILOT_EXAMPLE: dict[str, Any] = {
    "supplier": "example-supplier",
    "title": "Chatbot for council tax questions",
    "service_area": "Revenues and benefits",
    "problem": "Long waits on the phone in billing season.",
    "start_date": "2025-01-06",
    "end_date": "2025-04-30",
    "pilot_status": "completed",
    "outcome": "adopted",
    "cost_band": "under_5k",
    "nda": "no",
    "lessons": "Train it on real questions from the contact centre.",
    "open_to_contact": False,
}


class ContributionStatus(BaseModel):
    status: str = Field(description="published, pending, sent_back, rejected, hidden, removed or withdrawn")
    published_at: datetime | None


class ReviewDetail(ContributionStatus):
    id: int
    supplier: str = Field(description="the supplier's slug")
    reviewer: str
    product_id: int | None
    relationship: str
    service_area: str
    time_used: str | None
    ratings: list[RatingPublic]
    overall: int
    recommend: bool
    keep_text_private: bool
    headline: CensoredText
    worked_well: CensoredText
    did_not_work: CensoredText
    advice: CensoredText
    procurement_route: str | None
    framework_lot: str | None
    contract_end: date | None
    cost_band: str | None


class PilotDetail(ContributionStatus):
    id: int
    supplier: str
    author: str
    product_id: int | None
    title: Annotated[str, AfterValidator(censor_text)]
    service_area: str
    problem: CensoredText
    start_date: date | None
    end_date: date | None
    pilot_status: str
    outcome: str | None
    cost_band: str | None
    nda: str
    lessons: CensoredText
    open_to_contact: bool


# --- moderation ----------------------------------------------------------------------------------


class DecisionPublic(BaseModel):
    action: str
    reason_code: str | None
    note: str | None
    by_you: bool
    at: datetime


class ModerationItemPublic(BaseModel):
    id: int
    version: int = Field(description="send it back with an action; a stale one gets 409")
    status: str
    content_type: str
    content_id: int
    content_status: str | None = None
    severity: str
    needs_two_moderators: bool
    approvals: int | None = None
    opened_at: datetime
    decided_at: datetime | None
    overdue: bool | None = None
    findings: list[FindingPublic]
    decisions: list[DecisionPublic] | None = None


class ModerationItemList(BaseModel):
    count: int
    items: list[ModerationItemPublic]


class RedactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=60)
    start: int = Field(ge=0, le=1_000_000)
    end: int = Field(ge=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=120)


class ModerationActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "redact_and_approve", "send_back", "reject"]
    version: int = Field(ge=0, le=2**31 - 1)
    reason_code: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, max_length=2000)
    redactions: list[RedactionIn] = Field(default_factory=list, max_length=200)
