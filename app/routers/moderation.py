"""The moderation queue and decisions (moderators only)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app import suppliers
from app.contributions import text_fields
from app.deps import MailerDep, ModeratorUser, SessionDep, require_moderator
from app.errors import Conflict, InvalidInput
from app.mail import deliver_queued
from app.models import ContentType, Finding, Pilot, QueueStatus, Review, User, utcnow
from app.moderation import queue, sanitize, screening
from app.moderation.queue import Action, ItemDetail, QueueEntry, RedactionRequest
from app.routers.account import redirect
from app.standard import COST_BANDS, DIMENSIONS, NDA_STATUSES, PILOT_OUTCOMES, PILOT_STATUSES, RELATIONSHIPS
from app.templating import render

router = APIRouter(prefix="/moderation", dependencies=[Depends(require_moderator)])

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]

FIELD_LABELS = {
    "headline": "Headline",
    "worked_well": "What worked",
    "did_not_work": "What did not work",
    "advice": "Advice to a peer",
    "title": "Title",
    "problem": "The problem it addressed",
    "lessons": "Lessons learned",
}

# What a redaction says in place of the words it removes: "[removed: personal data]".
REDACTION_REASONS = (
    "personal data",
    "confidential commercial information",
    "allegation",
    "offensive language",
    "not relevant",
)
REASON_FOR_CATEGORY = {
    screening.PERSONAL_DATA: "personal data",
    screening.COMMERCIAL: "confidential commercial information",
    screening.LEGAL_RISK: "allegation",
}

DONE_MESSAGES = {
    "approved": "The contribution is approved and published. The author has been told.",
    "redacted": "The redactions are made and the contribution is published. The author has been told.",
    "first_approval": "Your approval is recorded. A second moderator must approve it before it is published.",
    "sent_back": "The contribution is sent back. The author has an email with your note and what they wrote.",
    "rejected": "The contribution is rejected. The author has an email with the reason.",
    "supplier_listed": "The supplier is listed. The officer who proposed it has been told.",
    "supplier_refused": "The supplier is not listed. The officer who proposed it has been told.",
}

ACTION_LABELS = {
    "approve": "Approved",
    "redact_and_approve": "Approved with redactions",
    "first_approval": "First approval",
    "send_back": "Sent back for revision",
    "reject": "Rejected",
}


def redaction_reason(category: str) -> str:
    """The default words a finding's redaction leaves behind, from the finding's category."""
    return REASON_FOR_CATEGORY.get(category, "not relevant")


def span_key(finding: Finding) -> str:
    """How a form names a finding's span: field, start and end, so that the post needs no lookup."""
    return f"{finding.field}:{finding.start}:{finding.end}"


@dataclass
class QueueRow:
    entry: QueueEntry
    title: str
    age: str
    decided: str
    outcome: str


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age(opened_at: datetime, now: datetime) -> str:
    """How long an item has waited: "40 minutes", "5 hours", "3 days"."""
    minutes = max(0, int((now - _aware(opened_at)).total_seconds() // 60))
    if not minutes:
        return "Less than a minute"
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size or unit == "minute":
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return ""  # unreachable


def _queue_rows(entries: list[QueueEntry]) -> list[QueueRow]:
    now = utcnow()
    return [
        QueueRow(
            entry=e,
            title=e.content.headline if isinstance(e.content, Review) else e.content.title,
            age=_age(e.item.opened_at, now),
            decided=f"{_aware(e.item.decided_at):%-d %B %Y at %H:%M}" if e.item.decided_at else "",
            outcome=e.content.status.value.replace("_", " ").capitalize(),
        )
        for e in entries
    ]


@dataclass
class TextField:
    name: str
    label: str
    html: Markup  # only ever from sanitize.highlight_spans


@dataclass
class FindingRow:
    finding: Finding
    key: str
    field_label: str
    excerpt: str
    message: str
    default_reason: str


def _highlighted(content: Review | Pilot, content_type: ContentType, findings: list[Finding]) -> list[TextField]:
    fields = []
    for name in text_fields(content_type):
        text = getattr(content, name) or ""
        if not text:
            continue
        spans = [
            (f.start, f.end, f.severity.value)
            for f in findings
            if f.field == name and 0 <= f.start < f.end <= len(text)
        ]
        fields.append(TextField(name, FIELD_LABELS.get(name, name), sanitize.highlight_spans(text, spans)))
    return fields


def _finding_rows(content: Review | Pilot, findings: list[Finding]) -> list[FindingRow]:
    rows = []
    for f in findings:
        text = getattr(content, f.field, None) or ""
        rows.append(
            FindingRow(
                finding=f,
                key=span_key(f),
                field_label=FIELD_LABELS.get(f.field, f.field),
                excerpt=text[f.start : f.end],
                message=_finding_message(f),
                default_reason=redaction_reason(f.category),
            )
        )
    return rows


def _finding_message(finding: Finding) -> str:
    return screening.MESSAGES.get(finding.detector, finding.category.replace("_", " ").capitalize())


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _structured(content: Review | Pilot) -> list[tuple[str, str]]:
    """The contribution's structured answers, as (label, value) rows; empty answers left out."""
    if isinstance(content, Review):
        rows = [
            ("Relationship", RELATIONSHIPS.get(content.relationship, str(content.relationship))),
            ("Service area", content.service_area),
            ("Time used", content.time_used or ""),
            ("Overall", f"{content.overall} out of 10"),
            ("Would recommend to a peer council", _yes_no(content.recommend)),
        ]
        for dimension in DIMENSIONS:
            rating = getattr(content, dimension.key)
            rows.append((dimension.label, "Not applicable" if rating is None else f"{rating} out of 5"))
        rows += [
            ("Written part kept private", _yes_no(content.keep_text_private)),
            ("Procurement route", content.procurement_route.replace("_", " ") if content.procurement_route else ""),
            ("Framework and lot", content.framework_lot or ""),
            ("Contract end", f"{content.contract_end:%-d %B %Y}" if content.contract_end else ""),
            ("Annual cost band", COST_BANDS.get(content.cost_band, "") if content.cost_band else ""),
            ("Exact annual cost", f"£{content.exact_cost_pence / 100:,.2f}" if content.exact_cost_pence else ""),
            ("Where the exact cost is published", content.exact_cost_source_url or ""),
        ]
    else:
        rows = [
            ("Service area", content.service_area),
            ("Status", PILOT_STATUSES.get(content.pilot_status, str(content.pilot_status))),
            ("Outcome", PILOT_OUTCOMES.get(content.outcome, "") if content.outcome else ""),
            ("Start date", f"{content.start_date:%-d %B %Y}" if content.start_date else ""),
            ("End date", f"{content.end_date:%-d %B %Y}" if content.end_date else ""),
            ("Cost band", COST_BANDS.get(content.cost_band, "") if content.cost_band else ""),
            ("Run under an NDA", NDA_STATUSES.get(content.nda, str(content.nda))),
            ("Open to contact from peers", _yes_no(content.open_to_contact)),
        ]
    return [(label, value) for label, value in rows if value]


def _item_context(detail: ItemDetail, user: User) -> dict[str, Any]:
    content = detail.content
    content_type = detail.item.content_type
    approved_by_you = any(
        d.moderator_id == user.id and d.action in ("approve", "redact_and_approve") for d in detail.decisions
    )
    return {
        "category_labels": screening.CATEGORY_LABELS,
        "detail": detail,
        "item": detail.item,
        "content": content,
        "is_review": isinstance(content, Review),
        "title": content.headline if isinstance(content, Review) else content.title,
        "text_fields": _highlighted(content, content_type, detail.findings),
        "findings": _finding_rows(content, detail.findings),
        "structured": _structured(content),
        "own": content.author_id == user.id,
        "approved_by_you": approved_by_you,
        "reject_reasons": queue.REJECT_REASONS,
        "redaction_reasons": REDACTION_REASONS,
        "action_labels": ACTION_LABELS,
        "user": user,
    }


@router.get("", name="moderation:queue")
def queue_page(
    request: Request,
    session: SessionDep,
    user: ModeratorUser,
    status: Annotated[QueueStatus, Query()] = QueueStatus.open,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    rows = _queue_rows(queue.list_items(session, status=status))
    proposals = suppliers.list_proposed(session) if status == QueueStatus.open else []
    context = {"entries": rows, "proposals": proposals, "status": status.value, "done": DONE_MESSAGES.get(done)}
    return render(request, "moderation/queue.html", context)


@router.post("/suppliers/{supplier_id}/decide", name="moderation:decide_supplier")
def decide_supplier(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: ModeratorUser,
    supplier_id: ItemId,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    action: Annotated[Literal["approve", "reject"], Form()],
) -> Response:
    suppliers.decide_proposed(
        session, moderator=user, supplier_id=supplier_id, version=version, approve=action == "approve"
    )
    deliver_queued(session, mailer)
    done = "supplier_listed" if action == "approve" else "supplier_refused"
    return redirect(str(request.url_for("moderation:queue").include_query_params(done=done)), request)


@router.get("/items/{item_id}", name="moderation:item")
def item_page(request: Request, session: SessionDep, user: ModeratorUser, item_id: ItemId) -> HTMLResponse:
    detail = queue.get_item(session, item_id=item_id)
    context = _item_context(detail, user)
    context["values"] = {"version": detail.item.version, "reasons": {}, "remove": []}
    return render(request, "moderation/item.html", context)


def _redactions(remove: list[str], reasons: dict[str, str]) -> list[RedactionRequest]:
    """The ticked findings' spans ("field:start:end") with the reason chosen for each."""
    requests = []
    for key in remove:
        name, _, rest = key.partition(":")
        start, _, end = rest.partition(":")
        if not (start.isascii() and start.isdigit() and end.isascii() and end.isdigit()) or len(start + end) > 18:
            raise InvalidInput({"redactions": "Choose the findings to remove from the list"})
        requests.append(RedactionRequest(field=name, start=int(start), end=int(end), reason=reasons.get(key, "")))
    return requests


@router.post("/items/{item_id}/decide", name="moderation:decide")
def decide(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: ModeratorUser,
    item_id: ItemId,
    version: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    remove: Annotated[list[str] | None, Form(description="ticked findings, as field:start:end")] = None,
    reason: Annotated[list[str] | None, Form(description="each finding's reason, as field:start:end=reason")] = None,
    reason_code: Annotated[str, Form()] = "",
    send_back_note: Annotated[str, Form()] = "",
    reject_note: Annotated[str, Form()] = "",
) -> Response:
    remove = remove or []
    # Every finding's select is sent, ticked or not; each value names its span, so no order is assumed.
    reasons = {key: text.strip() for key, _, text in (value.partition("=") for value in reason or [])}
    values = {
        "version": version,
        "action": action,
        "reason_code": reason_code,
        "send_back_note": send_back_note,
        "reject_note": reject_note,
        "remove": remove,
        "reasons": reasons,
    }
    note = send_back_note if action == Action.send_back else reject_note if action == Action.reject else None
    try:
        if action not in Action.__members__:
            raise InvalidInput({"action": "Select what to do with this contribution"})
        if not (version.isascii() and version.isdigit() and len(version) < 10):
            raise Conflict("The page you acted on is out of date.")
        detail = queue.decide(
            session,
            moderator=user,
            item_id=item_id,
            version=int(version),
            action=Action(action),
            reason_code=reason_code or None,
            note=note,
            redactions=_redactions(remove, reasons) if action == Action.redact_and_approve else (),
        )
    except InvalidInput as error:
        errors = dict(error.errors)
        if "note" in errors:  # one service field, two boxes on the page: point at the one in use
            errors[f"{action}_note" if action in ("send_back", "reject") else "note"] = errors.pop("note")
        context = _item_context(queue.get_item(session, item_id=item_id), user)
        context.update({"values": values, "errors": errors})
        return render(request, "moderation/item.html", context, status_code=422)
    except Conflict as error:
        return render(
            request,
            "moderation/conflict.html",
            {"message": error.message, "item_id": item_id},
            status_code=409,
        )
    if detail.item.status == QueueStatus.open:
        done = "first_approval"
    else:
        done = {
            "approve": "approved",
            "redact_and_approve": "redacted",
            "send_back": "sent_back",
            "reject": "rejected",
        }[action]
    url = request.url_for("moderation:queue").include_query_params(done=done)
    deliver_queued(session, mailer)  # the author hears the outcome now, after the decision is committed
    return redirect(str(url), request)
