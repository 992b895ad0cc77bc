"""Reviews and pilot records: checked, sanitised, screened, then published or queued for a moderator.

Who is pre-moderated (`moderation.md`): anything with a screening finding, and every contribution of an officer
who has fewer than three approved ones. Clean contributions of a trusted officer publish at once.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, func, select

from app import audit
from app.errors import InvalidInput, NotAllowed, NotFound
from app.models import (
    ContentStatus,
    ContentType,
    CostBand,
    Council,
    CouncilDomain,
    Finding,
    ModerationItem,
    NdaStatus,
    Pilot,
    PilotOutcome,
    PilotStatus,
    ProcurementRoute,
    Product,
    QueueStatus,
    Relationship,
    Review,
    Severity,
    Supplier,
    User,
    utcnow,
)
from app.moderation import screening, watched
from app.moderation.sanitize import clean_text
from app.standard import DIMENSIONS, PUBLISHED_SOURCE_HOSTS, SERVICE_AREAS, TIME_USED

TRUSTED_AFTER_APPROVALS = 3
REVIEW_TEXT_FIELDS = ("headline", "worked_well", "did_not_work", "advice")
PILOT_TEXT_FIELDS = ("title", "problem", "lessons")
TEXT_LIMITS = {"headline": 150, "title": 150, "framework_lot": 200}
LONG_TEXT_LIMIT = 5000
EDITABLE = (ContentStatus.pending, ContentStatus.sent_back, ContentStatus.published)
NOT_APPLICABLE = "na"

Contribution = Review | Pilot


@dataclass
class Submission:
    """What happened to a contribution: its state and what screening found."""

    content: Contribution
    status: ContentStatus
    hits: list[screening.Hit] = field(default_factory=list)

    @property
    def api_status(self) -> str:
        return "published" if self.status == ContentStatus.published else "pending_moderation"


# --- parsing input (HTML forms send strings, the API sends JSON values) ---------------------------------


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return clean_text(str(value)) if value is not None else ""


def _choice(raw: Mapping[str, Any], name: str, allowed: Iterable[str], errors: dict[str, str], message: str) -> Any:
    """One of `allowed` (a tuple of strings, or a StrEnum class, whose member is returned), or an error."""
    value = str(raw.get(name) or "").strip()
    if isinstance(allowed, type) and issubclass(allowed, StrEnum):
        try:
            return allowed(value)
        except ValueError:
            pass
    elif value in allowed:
        return value
    errors[name] = message
    return None


def _bool(raw: Mapping[str, Any], name: str) -> bool | None:
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    return {"yes": True, "true": True, "on": True, "no": False, "false": False}.get(text)


def _int_in(raw: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = raw.get(name)
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def _date(raw: Mapping[str, Any], name: str, errors: dict[str, str], label: str) -> date | None:
    """A date from an ISO value (API) or the GOV.UK date input's day, month and year fields (forms)."""
    if raw.get(name):
        try:
            return date.fromisoformat(str(raw[name]).strip())
        except ValueError:
            errors[name] = f"{label} must be a real date, like 2027-03-31"
            return None
    parts = [str(raw.get(f"{name}-{part}") or "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    if not all(parts):
        missing = [p for p, v in zip(("day", "month", "year"), parts, strict=True) if not v]
        errors[name] = f"{label} must include a {' and '.join(missing)}"
        return None
    try:
        day, month, year = (int(p) for p in parts)
        if not 1900 <= year <= 2100:
            raise ValueError
        return date(year, month, day)
    except (ValueError, OverflowError):  # a day of 10**20 overflows instead
        errors[name] = f"{label} must be a real date"
        return None


def _long_text(raw: Mapping[str, Any], name: str, errors: dict[str, str], label: str) -> str | None:
    value = _text(raw, name)
    limit = TEXT_LIMITS.get(name, LONG_TEXT_LIMIT)
    if len(value) > limit:
        errors[name] = f"{label} must be {limit:,} characters or fewer (it has {len(value):,})"
    return value or None


def _product(session: Session, supplier: Supplier, raw: Mapping[str, Any], errors: dict[str, str]) -> int | None:
    value = str(raw.get("product_id") or "").strip()
    if not value:
        return None
    # ASCII digits that fit a database integer: anything else is no product, never a crash.
    product = session.get(Product, int(value)) if value.isascii() and value.isdigit() and len(value) < 10 else None
    if product is None or product.supplier_id != supplier.id:
        errors["product_id"] = "Select one of this supplier's products, or none"
        return None
    return product.id


def _pence(text: str) -> int | None:
    cleaned = text.replace("£", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    # NaN, Infinity and amounts past what the pence column holds (£21m) are not accepted, never a crash.
    if not amount.is_finite() or not 0 < amount < Decimal(2**31 - 1) / 100:
        return None
    return int(amount * 100) if amount == amount.quantize(Decimal("0.01")) else None


def _is_published_source(session: Session, url: str) -> bool:
    """An exact contract value may be quoted only from where it is already public."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return False
    if host in PUBLISHED_SOURCE_HOSTS:
        return True
    labels = host.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return session.exec(select(CouncilDomain.id).where(col(CouncilDomain.domain).in_(candidates))).first() is not None


@dataclass
class ReviewData:
    values: dict[str, Any]


def parse_review(session: Session, *, supplier: Supplier, raw: Mapping[str, Any]) -> ReviewData:
    """Check a review against the review standard; raise InvalidInput with a message per field."""
    raw = watched.replace_fields(session, raw, REVIEW_TEXT_FIELDS)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"product_id": _product(session, supplier, raw, errors)}
    values["relationship"] = _choice(
        raw, "relationship", Relationship, errors, "Select how your council has worked with this supplier"
    )
    values["service_area"] = _choice(raw, "service_area", SERVICE_AREAS, errors, "Select the service area")
    time_used = str(raw.get("time_used") or "").strip()
    if time_used and time_used not in TIME_USED:
        errors["time_used"] = "Select how long you have used it"
    values["time_used"] = time_used or None
    for dimension in DIMENSIONS:
        value = raw.get(dimension.key)
        if str(value or "").strip().lower() in (NOT_APPLICABLE, "n/a", "none", "null") or (
            value is None and dimension.key in raw
        ):
            values[dimension.key] = None
            continue
        rating = _int_in(raw, dimension.key, 1, 5)
        if rating is None:
            errors[dimension.key] = f"Rate {dimension.label.lower()} from 1 to 5, or choose not applicable"
        values[dimension.key] = rating
    values["overall"] = _int_in(raw, "overall", 1, 10)
    if values["overall"] is None:
        errors["overall"] = "Give an overall score from 1 to 10"
    values["recommend"] = _bool(raw, "recommend")
    if values["recommend"] is None:
        errors["recommend"] = "Select yes if you would recommend this supplier to a peer council"
    labels = {"headline": "Headline", "worked_well": "What worked", "did_not_work": "What did not work"}
    labels["advice"] = "Advice to a peer"
    for name in REVIEW_TEXT_FIELDS:
        values[name] = _long_text(raw, name, errors, labels[name])
    if not values["headline"] and "headline" not in errors:
        errors["headline"] = "Enter a headline that sums up your experience"
    if not any(values[name] for name in ("worked_well", "did_not_work", "advice")) and "worked_well" not in errors:
        errors["worked_well"] = "Tell peers what worked, what did not, or your advice"
    values["keep_text_private"] = bool(_bool(raw, "keep_text_private"))
    # Members-only contract facts, all optional.
    route = str(raw.get("procurement_route") or "").strip()
    values["procurement_route"] = (
        _choice(raw, "procurement_route", ProcurementRoute, errors, "Select a procurement route") if route else None
    )
    values["framework_lot"] = _long_text(raw, "framework_lot", errors, "Framework and lot")
    values["contract_end"] = _date(raw, "contract_end", errors, "Contract end date")
    band = str(raw.get("cost_band") or "").strip()
    values["cost_band"] = _choice(raw, "cost_band", CostBand, errors, "Select an annual cost band") if band else None
    exact = str(raw.get("exact_cost") or "").strip()
    source = str(raw.get("exact_cost_source_url") or "").strip()
    values["exact_cost_pence"], values["exact_cost_source_url"] = None, None
    if exact:
        pence = _pence(exact)
        if pence is None:
            errors["exact_cost"] = "Enter the exact annual cost as an amount, like 12500 or £12,500.00"
        elif not source:
            errors["exact_cost_source_url"] = (
                "Give the link to where this figure is already published, or leave the exact cost empty"
            )
        elif len(source) > 500 or not _is_published_source(session, source):
            errors["exact_cost_source_url"] = (
                "The link must be an https address on Contracts Finder, Find a Tender or your council's website"
            )
        else:
            values["exact_cost_pence"], values["exact_cost_source_url"] = pence, source
    _refuse_blocked_terms(session, values, labels, errors)
    if errors:
        raise InvalidInput(errors)
    return ReviewData(values)


def parse_pilot(session: Session, *, supplier: Supplier, raw: Mapping[str, Any]) -> ReviewData:
    """Check a pilot record (`product.md`, Pilot records); raise InvalidInput with a message per field."""
    raw = watched.replace_fields(session, raw, PILOT_TEXT_FIELDS)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"product_id": _product(session, supplier, raw, errors)}
    values["title"] = _long_text(raw, "title", errors, "Title")
    if not values["title"] and "title" not in errors:
        errors["title"] = "Enter a title for the pilot"
    values["service_area"] = _choice(raw, "service_area", SERVICE_AREAS, errors, "Select the service area")
    values["problem"] = _long_text(raw, "problem", errors, "The problem it addressed")
    if not values["problem"] and "problem" not in errors:
        errors["problem"] = "Describe the problem the pilot addressed"
    values["start_date"] = _date(raw, "start_date", errors, "Start date")
    values["end_date"] = _date(raw, "end_date", errors, "End date")
    if values["start_date"] and values["end_date"] and values["end_date"] < values["start_date"]:
        errors["end_date"] = "End date must be the same as or after the start date"
    values["pilot_status"] = _choice(raw, "pilot_status", PilotStatus, errors, "Select the status of the pilot")
    outcome = str(raw.get("outcome") or "").strip()
    values["outcome"] = _choice(raw, "outcome", PilotOutcome, errors, "Select an outcome") if outcome else None
    band = str(raw.get("cost_band") or "").strip()
    values["cost_band"] = _choice(raw, "cost_band", CostBand, errors, "Select a cost band") if band else None
    values["nda"] = _choice(raw, "nda", NdaStatus, errors, "Select whether the pilot ran under an NDA")
    values["lessons"] = _long_text(raw, "lessons", errors, "Lessons learned")
    values["open_to_contact"] = bool(_bool(raw, "open_to_contact"))
    labels = {"title": "Title", "problem": "The problem it addressed", "lessons": "Lessons learned"}
    _refuse_blocked_terms(session, values, labels, errors)
    if errors:
        raise InvalidInput(errors)
    return ReviewData(values)


def _refuse_blocked_terms(
    session: Session, values: Mapping[str, Any], labels: Mapping[str, str], errors: dict[str, str]
) -> None:
    """A field with a `block` watched term gets an error naming every blocked term in it (WW-3)."""
    for name, label in labels.items():
        terms = watched.blocked_terms(session, values.get(name)) if name not in errors else []
        if terms:
            errors[name] = watched.blocked_message(label, terms)


# --- screening and routing -------------------------------------------------------------------------------


def text_fields(content_type: ContentType) -> tuple[str, ...]:
    return REVIEW_TEXT_FIELDS if content_type == ContentType.review else PILOT_TEXT_FIELDS


def screen(session: Session, *, content_type: ContentType, values: Mapping[str, Any]) -> list[screening.Hit]:
    """What screening finds in the free text of a contribution (for the preview and for submission)."""
    fields = {name: values.get(name) for name in text_fields(content_type)}
    hits = screening.screen_fields(fields, allowlist=screening.load_allowlist(session))
    # Watched terms follow the detectors, leaving out the spans a detector has already explained.
    hits += watched.findings(session, fields, found=hits)
    order = list(fields)
    return sorted(hits, key=lambda hit: (order.index(hit.field), hit.start, hit.end))


def preview(session: Session, *, content_type: ContentType, raw: Mapping[str, Any]) -> dict[str, str]:
    """Sanitised free text of a form being written, for the screening preview (replace terms applied, as on save)."""
    raw = watched.replace_fields(session, raw, text_fields(content_type))
    return {name: _text(raw, name) for name in text_fields(content_type)}


def approved_count(session: Session, *, author: User) -> int:
    """How many of the author's contributions a moderator (or trust) has let through."""
    total = 0
    for model in (Review, Pilot):
        total += session.exec(
            select(func.count())
            .select_from(model)
            .where(model.author_id == author.id, col(model.published_at).is_not(None))
        ).one()
    return total


def is_trusted(session: Session, *, author: User) -> bool:
    """`approved_count` has reached TRUSTED_AFTER_APPROVALS: found without counting all of a prolific author's."""
    needed = TRUSTED_AFTER_APPROVALS
    for model in (Review, Pilot):
        let_through = select(model.id).where(model.author_id == author.id, col(model.published_at).is_not(None))
        needed -= len(session.exec(let_through.limit(needed)).all())
        if needed <= 0:
            return True
    return False


def needs_moderator(session: Session, *, author: User, hits: list[screening.Hit]) -> bool:
    """The pre-moderation policy: any finding, or an officer not yet trusted."""
    return bool(hits) or not is_trusted(session, author=author)


def content_type_of(content: Contribution) -> ContentType:
    return ContentType.review if isinstance(content, Review) else ContentType.pilot


def _save_findings(session: Session, content: Contribution, hits: list[screening.Hit]) -> None:
    content_type = content_type_of(content)
    for old in session.exec(
        select(Finding).where(Finding.content_type == content_type, Finding.content_id == content.id)
    ).all():
        session.delete(old)
    for hit in hits:
        assert content.id is not None
        session.add(
            Finding(
                content_type=content_type,
                content_id=content.id,
                field=hit.field,
                detector=hit.detector,
                category=hit.category,
                severity=hit.severity,
                start=hit.start,
                end=hit.end,
            )
        )


def open_item_for(session: Session, *, content_type: ContentType, content_id: int) -> ModerationItem | None:
    return session.exec(
        select(ModerationItem).where(
            ModerationItem.content_type == content_type,
            ModerationItem.content_id == content_id,
            ModerationItem.status == QueueStatus.open,
        )
    ).first()


SEVERITY_SCORE = {Severity.low: 1, Severity.medium: 2, Severity.high: 5, Severity.critical: 20}


def _queue(session: Session, content: Contribution, hits: list[screening.Hit]) -> ModerationItem:
    """Put the content in the queue: one open item per content, its severity that of the worst finding."""
    assert content.id is not None
    content_type = content_type_of(content)
    item = open_item_for(session, content_type=content_type, content_id=content.id)
    if item is None:
        item = ModerationItem(content_type=content_type, content_id=content.id)
    else:
        item.version += 1
    item.severity = screening.highest_severity(hits) or Severity.low
    item.score = sum(SEVERITY_SCORE[hit.severity] for hit in hits)
    item.needs_two_moderators = item.severity == Severity.critical
    session.add(item)
    return item


def _route(session: Session, *, author: User, content: Contribution, hits: list[screening.Hit]) -> ContentStatus:
    before = content.status
    # A `flag` watched term alone does not hold back a trusted officer's contribution: it is published, and an item
    # opens in the queue so that a moderator looks at it (`watched.py`).
    flagged = [hit for hit in hits if hit.detector == watched.FLAG_DETECTOR]
    if needs_moderator(session, author=author, hits=[hit for hit in hits if hit not in flagged]):
        content.status = ContentStatus.pending
        session.add(content)
        session.flush()
        _queue(session, content, hits)
    else:
        content.status = ContentStatus.published
        content.published_at = content.published_at or utcnow()
        session.add(content)
        session.flush()
        content_type = content_type_of(content)
        if flagged and open_item_for(session, content_type=content_type, content_id=content.id or 0) is None:
            _queue(session, content, flagged).source = "flags"
    _save_findings(session, content, hits)
    audit.record(
        session,
        actor=author,
        action="screened",
        entity_type=content_type_of(content).value,
        entity_id=content.id or 0,
        from_state=before.value if before else None,
        to_state=content.status.value,
        detail={"findings": [{"detector": h.detector, "field": h.field, "start": h.start, "end": h.end} for h in hits]},
    )
    return content.status


def submit(
    session: Session, *, content_type: ContentType, author: User, supplier: Supplier, data: ReviewData
) -> Submission:
    """Save a new review or pilot record, screened; published at once only if clean and the author is trusted."""
    assert author.id is not None and supplier.id is not None
    model = Review if content_type == ContentType.review else Pilot
    content: Contribution = model(
        supplier_id=supplier.id,
        author_id=author.id,
        council_id=author.council_id,
        author_role=author.job_title or "Council officer",
        **data.values,
    )
    session.add(content)
    session.flush()
    audit.record(session, actor=author, action="submitted", entity_type=content_type.value, entity_id=content.id or 0)
    hits = screen(session, content_type=content_type, values=data.values)
    status = _route(session, author=author, content=content, hits=hits)
    session.commit()
    session.refresh(content)
    return Submission(content=content, status=status, hits=hits)


def submit_review(session: Session, *, author: User, supplier: Supplier, data: ReviewData) -> Submission:
    """Save a new review (see `submit`)."""
    return submit(session, content_type=ContentType.review, author=author, supplier=supplier, data=data)


def submit_pilot(session: Session, *, author: User, supplier: Supplier, data: ReviewData) -> Submission:
    """Save a new pilot record (see `submit`)."""
    return submit(session, content_type=ContentType.pilot, author=author, supplier=supplier, data=data)


def get_own(session: Session, *, author: User, content_type: ContentType, content_id: int) -> Contribution:
    """One of the author's own contributions, or NotFound (another officer's is not theirs to see here)."""
    content: Contribution | None = (
        session.get(Review, content_id) if content_type == ContentType.review else session.get(Pilot, content_id)
    )
    if content is None or content.author_id != author.id:
        raise NotFound("There is no contribution of yours at this address.")
    return content


@dataclass
class Readable:
    content: Contribution
    supplier: Supplier
    council: Council


def get_readable(session: Session, *, reader: User, content_type: ContentType, content_id: int) -> Readable:
    """A published contribution, or the reader's own in any state; NotFound for anything else."""
    content: Contribution | None = (
        session.get(Review, content_id) if content_type == ContentType.review else session.get(Pilot, content_id)
    )
    if content is None or (content.status != ContentStatus.published and content.author_id != reader.id):
        raise NotFound("There is no contribution at this address.")
    supplier = session.get(Supplier, content.supplier_id)
    council = session.get(Council, content.council_id)
    assert supplier is not None and council is not None
    return Readable(content=content, supplier=supplier, council=council)


def edit(session: Session, *, author: User, content: Contribution, data: ReviewData) -> Submission:
    """Change a contribution: screened again and routed again, as if new (a published one may go back to the queue)."""
    if content.author_id != author.id:
        raise NotAllowed("Only the author can change a contribution.")
    if content.status not in EDITABLE:
        raise NotAllowed("This contribution can no longer be changed.")
    for name, value in data.values.items():
        setattr(content, name, value)
    content.updated_at = utcnow()
    content.version += 1
    session.add(content)
    content_type = content_type_of(content)
    audit.record(session, actor=author, action="edited", entity_type=content_type.value, entity_id=content.id or 0)
    hits = screen(session, content_type=content_type, values=data.values)
    status = _route(session, author=author, content=content, hits=hits)
    session.commit()
    session.refresh(content)
    return Submission(content=content, status=status, hits=hits)


def withdraw(session: Session, *, author: User, content: Contribution) -> None:
    """The author takes a contribution down; it leaves the page, the score and the queue at once."""
    if content.author_id != author.id:
        raise NotAllowed("Only the author can withdraw a contribution.")
    if content.status == ContentStatus.withdrawn:
        return
    before = content.status
    content.status = ContentStatus.withdrawn
    content.version += 1
    session.add(content)
    content_type = content_type_of(content)
    item = open_item_for(session, content_type=content_type, content_id=content.id or 0)
    if item is not None:
        item.status = QueueStatus.decided
        item.decided_at = utcnow()
        item.version += 1
        session.add(item)
    audit.record(
        session,
        actor=author,
        action="withdrawn",
        entity_type=content_type.value,
        entity_id=content.id or 0,
        from_state=before.value,
        to_state=ContentStatus.withdrawn.value,
    )
    session.commit()


@dataclass
class MyContribution:
    content_type: ContentType
    content: Contribution
    supplier: Supplier


def list_own(session: Session, *, author: User) -> list[MyContribution]:
    """All of an officer's reviews and pilots, newest first, with their suppliers (three queries)."""
    reviews = session.exec(select(Review).where(Review.author_id == author.id)).all()
    pilots = session.exec(select(Pilot).where(Pilot.author_id == author.id)).all()
    ids = {r.supplier_id for r in reviews} | {p.supplier_id for p in pilots}
    suppliers = {s.id: s for s in session.exec(select(Supplier).where(col(Supplier.id).in_(ids))).all()}
    rows = [MyContribution(ContentType.review, r, suppliers[r.supplier_id]) for r in reviews]
    rows += [MyContribution(ContentType.pilot, p, suppliers[p.supplier_id]) for p in pilots]
    return sorted(rows, key=lambda row: row.content.updated_at, reverse=True)


def get_supplier(session: Session, *, slug: str) -> Supplier:
    """A published supplier that officers can write about, or NotFound."""
    supplier = session.exec(
        select(Supplier).where(Supplier.slug == slug, col(Supplier.status) == ContentStatus.published)
    ).first()
    if supplier is None:
        raise NotFound("There is no supplier at this address.")
    return supplier


def supplier_of(session: Session, *, content: Contribution) -> Supplier:
    """The supplier a contribution is about."""
    supplier = session.get(Supplier, content.supplier_id)
    if supplier is None:
        raise NotFound("There is no supplier at this address.")
    return supplier


def list_products(session: Session, *, supplier: Supplier) -> list[Product]:
    """A supplier's products by name, for the product choice of a form."""
    return list(session.exec(select(Product).where(Product.supplier_id == supplier.id).order_by(col(Product.name))))


def form_values(content: Contribution) -> dict[str, Any]:
    """A saved contribution as the strings its form shows, so an edit starts from what was written."""
    values: dict[str, Any] = {}
    for name, value in content.model_dump().items():
        if value is None:
            values[name] = NOT_APPLICABLE if name in {d.key for d in DIMENSIONS} else ""
        elif isinstance(value, bool):
            values[name] = "yes" if value else "no"
        elif type(value) is date:
            values[f"{name}-day"], values[f"{name}-month"], values[f"{name}-year"] = (
                str(value.day),
                str(value.month),
                str(value.year),
            )
        else:
            values[name] = value.value if hasattr(value, "value") else str(value)
    if isinstance(content, Review) and content.exact_cost_pence:
        values["exact_cost"] = f"{Decimal(content.exact_cost_pence) / 100:.2f}"
    return values
