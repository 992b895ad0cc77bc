"""The tables of the whole domain (see `../shared/design/product.md`) and the enums they use.

Later features fill in behaviour; the shape is here so migrations stay linear and reviewable.
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- enums ---------------------------------------------------------------------------------------


class Role(StrEnum):
    officer = "officer"
    moderator = "moderator"
    admin = "admin"


class ContentStatus(StrEnum):
    """Life of a review or pilot: only `published` is ever shown to other officers."""

    pending = "pending"  # screened, waiting for a moderator
    published = "published"
    sent_back = "sent_back"  # returned to the author for revision
    rejected = "rejected"
    hidden = "hidden"  # taken down by a moderator, reversible
    removed = "removed"  # removed after a complaint or by decision
    withdrawn = "withdrawn"  # withdrawn by its author


class ContentType(StrEnum):
    review = "review"
    pilot = "pilot"
    supplier = "supplier"


class Relationship(StrEnum):
    pilot = "pilot"
    live_contract = "live_contract"
    past_contract = "past_contract"
    evaluated = "evaluated"  # evaluated but did not buy


class CostBand(StrEnum):
    under_5k = "under_5k"
    from_5k_to_25k = "5k_25k"
    from_25k_to_100k = "25k_100k"
    from_100k_to_500k = "100k_500k"
    over_500k = "over_500k"


class ProcurementRoute(StrEnum):
    framework = "framework"
    direct_award = "direct_award"
    open_tender = "open_tender"


class PilotStatus(StrEnum):
    planned = "planned"
    running = "running"
    completed = "completed"
    stopped = "stopped"


class PilotOutcome(StrEnum):
    adopted = "adopted"
    extending = "extending"
    not_adopted = "not_adopted"
    inconclusive = "inconclusive"


class NdaStatus(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class QueueStatus(StrEnum):
    open = "open"
    decided = "decided"


class ContactStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"


class ComplaintStatus(StrEnum):
    defective = "defective"
    open = "open"
    awaiting_poster = "awaiting_poster"
    removed = "removed"
    kept = "kept"
    closed = "closed"


class OutboxOp(StrEnum):
    upsert = "upsert"
    delete = "delete"


class WatchedAction(StrEnum):
    block = "block"
    require_approval = "require_approval"
    flag = "flag"
    censor = "censor"
    replace_with = "replace"  # named so it does not hide str.replace


# --- councils and people ------------------------------------------------------------------------


class Council(SQLModel, table=True):
    """A UK local authority; former authorities are kept so historical facts can point at them."""

    id: int | None = Field(default=None, primary_key=True)
    gss_code: str = Field(unique=True, max_length=9)
    code: str = Field(unique=True, max_length=4, description="mySociety register code, e.g. HRW")
    name: str = Field(max_length=200, index=True)
    nice_name: str = Field(max_length=200)
    type_code: str = Field(max_length=8)
    type_name: str = Field(max_length=80)
    region: str = Field(max_length=80)
    nation: str = Field(max_length=40)
    current: bool = Field(default=True, index=True)
    replaced_by: str | None = Field(default=None, max_length=40)


class CouncilDomain(SQLModel, table=True):
    """An email domain that proves its holder works for a council (subdomains count too)."""

    __tablename__ = "council_domain"
    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(unique=True, max_length=253)
    council_id: int = Field(foreign_key="council.id", index=True)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    role: Role = Field(default=Role.officer)
    council_id: int = Field(foreign_key="council.id", index=True)
    open_to_contact: bool = False  # consent: an officer opts in, never by default
    is_demo: bool = False
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None
    erased_at: datetime | None = None  # set when the person's data was erased or anonymised (app/datarights.py)


class SignInToken(SQLModel, table=True):
    """Each emailed sign-in link, so that it can be used once only."""

    __tablename__ = "sign_in_token"
    jti: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=320, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A signed-in browser; the session cookie names it, and signing out ends it."""

    __tablename__ = "user_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None


# --- suppliers ----------------------------------------------------------------------------------


class Category(SQLModel, table=True):
    """A CPV code from divisions 48 (software packages) and 72 (IT services)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=10, description="CPV code with check digit, e.g. 48000000-8")
    label: str = Field(max_length=300)
    parent_code: str | None = Field(default=None, max_length=10)


class Supplier(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=120)
    name: str = Field(max_length=200)
    name_key: str = Field(unique=True, max_length=200, description="normalised name, one supplier each")
    description: str | None = Field(default=None, sa_column=Column(Text))
    website: str | None = Field(default=None, max_length=300)
    sme: bool | None = None
    status: ContentStatus = Field(default=ContentStatus.published)
    is_demo: bool = False
    merged_into_id: int | None = Field(default=None, foreign_key="supplier.id")
    added_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class SupplierAlias(SQLModel, table=True):
    """Another spelling of a supplier's name, kept for search and for merging."""

    __tablename__ = "supplier_alias"
    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    alias: str = Field(max_length=200)
    alias_key: str = Field(unique=True, max_length=200)


class SupplierCategory(SQLModel, table=True):
    __tablename__ = "supplier_category"
    supplier_id: int = Field(foreign_key="supplier.id", primary_key=True)
    category_id: int = Field(foreign_key="category.id", primary_key=True)


class Product(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("supplier_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))


class Sale(SQLModel, table=True):
    """A fact from the G-Cloud spend data: what a supplier sold to a council, and when."""

    __table_args__ = (Index("ix_sale_supplier_month", "supplier_id", "month"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(unique=True, description="ID of the row in the G-Cloud spend file")
    supplier_id: int = Field(foreign_key="supplier.id")
    council_id: int | None = Field(default=None, foreign_key="council.id", index=True)
    customer_name: str = Field(max_length=200)
    month: date
    description: str = Field(sa_column=Column(Text, nullable=False))
    amount_pence: int
    framework: str = Field(max_length=40)
    lot: str = Field(max_length=40)


# --- contributions ------------------------------------------------------------------------------


class Review(SQLModel, table=True):
    """A structured review to the review standard, version 1 (`product.md`)."""

    __table_args__ = (
        Index("ix_review_supplier_status", "supplier_id", "status"),
        # A supplier's reviews a page at a time, newest or by score first, without sorting all of them.
        Index("ix_review_supplier_published", "supplier_id", "status", "published_at", "id"),
        Index("ix_review_supplier_overall", "supplier_id", "status", "overall", "published_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    author_id: int = Field(foreign_key="app_user.id", index=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    author_role: str = Field(max_length=200, description="job title shown with the review, never the name")
    standard_version: int = 1
    status: ContentStatus = Field(default=ContentStatus.pending)
    version: int = Field(default=1, description="optimistic concurrency for moderation")
    # The seven dimensions, 1 to 5, None meaning "not applicable".
    implementation: int | None = None
    customisation_cost: int | None = None
    fit: int | None = None
    support: int | None = None
    value: int | None = None
    partnership: int | None = None
    data_exit: int | None = None
    overall: int = Field(ge=1, le=10)
    recommend: bool
    relationship: Relationship
    service_area: str = Field(max_length=120)
    time_used: str | None = Field(default=None, max_length=60)
    headline: str = Field(max_length=200)
    worked_well: str | None = Field(default=None, sa_column=Column(Text))
    did_not_work: str | None = Field(default=None, sa_column=Column(Text))
    advice: str | None = Field(default=None, sa_column=Column(Text))
    keep_text_private: bool = False
    # Members-only contract facts.
    procurement_route: ProcurementRoute | None = None
    framework_lot: str | None = Field(default=None, max_length=200)
    contract_end: date | None = None
    cost_band: CostBand | None = None
    exact_cost_pence: int | None = None
    exact_cost_source_url: str | None = Field(default=None, max_length=500)
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


class Pilot(SQLModel, table=True):
    __table_args__ = (
        Index("ix_pilot_supplier_status", "supplier_id", "status"),
        Index("ix_pilot_supplier_published", "supplier_id", "status", "published_at", "id"),  # a page of pilots
    )
    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    author_id: int = Field(foreign_key="app_user.id", index=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    author_role: str = Field(max_length=200)
    status: ContentStatus = Field(default=ContentStatus.pending)
    version: int = 1
    title: str = Field(max_length=200)
    service_area: str = Field(max_length=120)
    problem: str = Field(sa_column=Column(Text, nullable=False))
    start_date: date | None = None
    end_date: date | None = None
    pilot_status: PilotStatus
    outcome: PilotOutcome | None = None
    cost_band: CostBand | None = None
    nda: NdaStatus = NdaStatus.unknown
    lessons: str | None = Field(default=None, sa_column=Column(Text))
    open_to_contact: bool = False
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None


# --- moderation ---------------------------------------------------------------------------------


class ModerationItem(SQLModel, table=True):
    """One queue entry per piece of content; flags and findings add to its score."""

    __tablename__ = "moderation_item"
    __table_args__ = (
        Index("ix_moderation_item_queue", "status", "severity", "opened_at"),
        Index("ix_moderation_item_content", "content_type", "content_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    content_type: ContentType
    content_id: int
    status: QueueStatus = QueueStatus.open
    severity: Severity = Severity.low
    score: int = 0
    needs_two_moderators: bool = False
    source: str = Field(default="submission", max_length=20, description="submission, flags or complaint")
    claimed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    claimed_at: datetime | None = None
    version: int = 1
    opened_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Finding(SQLModel, table=True):
    """What screening found in a field of a contribution, with its character span."""

    id: int | None = Field(default=None, primary_key=True)
    content_type: ContentType
    content_id: int = Field(index=True)
    field: str = Field(max_length=60)
    detector: str = Field(max_length=60)
    category: str = Field(max_length=60)
    severity: Severity
    start: int
    end: int
    created_at: datetime = Field(default_factory=utcnow)


class ModerationDecision(SQLModel, table=True):
    __tablename__ = "moderation_decision"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="moderation_item.id", index=True)
    moderator_id: int = Field(foreign_key="app_user.id")
    action: str = Field(max_length=40)
    reason_code: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class Redaction(SQLModel, table=True):
    """A span replaced by "[removed: reason]"; the original stays for the legal record."""

    id: int | None = Field(default=None, primary_key=True)
    content_type: ContentType
    content_id: int = Field(index=True)
    field: str = Field(max_length=60)
    start: int
    end: int
    reason: str = Field(max_length=120)
    original: str = Field(sa_column=Column(Text, nullable=False), description="the removed text, for the record")
    moderator_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Flag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="moderation_item.id", index=True)
    content_type: ContentType
    content_id: int
    user_id: int = Field(foreign_key="app_user.id")
    reason: str = Field(max_length=40)
    message: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=40, description="agreed or disagreed, by a moderator")


class WatchedTerm(SQLModel, table=True):
    __tablename__ = "watched_term"
    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(unique=True, max_length=200)
    action: WatchedAction
    replacement: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=40, description="legal_risk, confidentiality, profanity...")
    case_sensitive: bool = False
    list_version: str | None = Field(default=None, max_length=40, description="the seed list it came from, if any")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Complaint(SQLModel, table=True):
    """A notice of complaint under the Defamation (Operators of Websites) Regulations 2013."""

    id: int | None = Field(default=None, primary_key=True)
    status: ComplaintStatus = ComplaintStatus.open
    content_type: ContentType | None = None
    content_id: int | None = None
    complainant_name: str = Field(max_length=200)
    complainant_email: str = Field(max_length=320)
    statement: str = Field(sa_column=Column(Text, nullable=False))
    location: str = Field(max_length=500, description="where the statement was posted")
    why_defamatory: str = Field(sa_column=Column(Text, nullable=False))
    meaning: str = Field(sa_column=Column(Text, nullable=False))
    inaccurate_parts: str = Field(sa_column=Column(Text, nullable=False))
    unsupported_opinion: str | None = Field(default=None, sa_column=Column(Text))
    cannot_identify_poster: bool = False
    consent_to_share: bool = False
    missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    received_at: datetime = Field(default_factory=utcnow)
    response_due_at: datetime | None = None  # 48 statutory hours from receipt: notify the poster, acknowledge
    acknowledged_at: datetime | None = None
    poster_notified_at: datetime | None = None
    poster_reply_due_at: datetime | None = None  # midnight at the end of the fifth day after the notice
    poster_replied_at: datetime | None = None
    poster_wants_removal: bool | None = None
    poster_full_name: str | None = Field(default=None, max_length=200)
    poster_address: str | None = Field(default=None, sa_column=Column(Text))
    poster_consents_disclosure: bool | None = None
    outcome: str | None = Field(default=None, max_length=40, description="removal basis or why the statement stays")
    removal_due_at: datetime | None = None
    removed_at: datetime | None = None
    complainant_told_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1


class ContactRequest(SQLModel, table=True):
    """A double opt-in introduction: nothing about the peer is shared until they accept."""

    __tablename__ = "contact_request"
    __table_args__ = (Index("ix_contact_request_requester_status", "requester_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="app_user.id")
    peer_id: int = Field(foreign_key="app_user.id", index=True)
    about_type: ContentType
    about_id: int
    message: str = Field(sa_column=Column(Text, nullable=False))
    status: ContactStatus = ContactStatus.pending
    peer_note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    expires_at: datetime


class Synonym(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(unique=True, max_length=120)
    synonyms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# --- records and outboxes -----------------------------------------------------------------------


class AuditLog(SQLModel, table=True):
    """Append-only: who did what to which item, from which state to which."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=40)
    to_state: str | None = Field(default=None, max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SearchOutbox(SQLModel, table=True):
    """Index changes written in the same transaction as the content they describe."""

    __tablename__ = "search_outbox"
    id: int | None = Field(default=None, primary_key=True)
    index_name: str = Field(max_length=40)
    document_id: str = Field(max_length=64)
    op: OutboxOp
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    processed_at: datetime | None = Field(default=None, index=True)


class MailOutbox(SQLModel, table=True):
    """Every email the service sends, kept until delivered (and afterwards, for the record)."""

    __tablename__ = "mail_outbox"
    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    kind: str = Field(max_length=40)
    ref: str | None = Field(default=None, max_length=64, index=True, description="what it is about, e.g. complaint:12")
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: datetime | None = None  # unset: due now; pushed back after each attempt (app/mail.py)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, index=True)
