"""The moderation queue and decisions, claims, published content lookup and take-down (moderators only); and the
report ("flag") form that any signed-in officer uses on published reviews and pilots (`flags_router`)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app import suppliers
from app.contributions import text_fields
from app.deps import CurrentUser, MailerDep, ModeratorUser, SessionDep, require_moderator
from app.errors import Conflict, InvalidInput, NotFound
from app.mail import deliver_queued
from app.models import ContentStatus, ContentType, Finding, Pilot, QueueStatus, Review, User, utcnow
from app.moderation import flags, queue, sanitize, screening, takedown
from app.moderation.queue import Action, ItemDetail, QueueEntry, RedactionRequest
from app.routers.account import redirect
from app.standard import COST_BANDS, DIMENSIONS, NDA_STATUSES, PILOT_OUTCOMES, PILOT_STATUSES, RELATIONSHIPS
from app.templating import render

router = APIRouter(prefix="/moderation", dependencies=[Depends(require_moderator)])
flags_router = APIRouter()  # signed-in officers: reporting published content

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ContentKind = Annotated[Literal["review", "pilot"], Path()]

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
    "kept": "The reports are closed and the content stays published. The officers who reported it have been told.",
    "hidden": "The content is hidden everywhere. Its author and the officers who reported it have been told.",
    "redacted_kept": "The words are removed and the rest stays published. The author has been told.",
    "disagreed": "The reports are closed as disagreed and the content is published. The officers who reported it "
    "have been told.",
    "released": "You released the item. Any moderator can pick it up.",
}
CONTENT_DONE = {
    "hidden": "It is hidden: it no longer appears on the supplier page, in the score, in search or in the API.",
    "removed": "It is removed: it no longer appears on the supplier page, in the score, in search or in the API.",
    "restored": "It is published again, everywhere.",
}
ITEM_DONE = {"claimed": "You are handling this item. Other moderators see that it is yours."}

ACTION_LABELS = {
    "approve": "Approved",
    "redact_and_approve": "Approved with redactions",
    "first_approval": "First approval",
    "send_back": "Sent back for revision",
    "reject": "Rejected",
    "keep": "Agreed with the reports, kept published",
    "hide": "Agreed with the reports, hidden",
    "redact_and_keep": "Agreed with the reports, words removed",
    "disagree": "Disagreed with the reports",
}
DECISION_DONE = {
    "approve": "approved",
    "redact_and_approve": "redacted",
    "send_back": "sent_back",
    "reject": "rejected",
    "keep": "kept",
    "hide": "hidden",
    "redact_and_keep": "redacted_kept",
    "disagree": "disagreed",
}
HISTORY_LABELS = {
    "submitted": "Submitted",
    "screened": "Screened",
    "edited": "Edited by its author",
    "withdrawn": "Withdrawn by its author",
    "flagged": "Reported by an officer",
    "claimed": "Claimed",
    "claim_taken_over": "Claim taken over",
    "released": "Released",
    "hidden": "Hidden",
    "removed": "Removed",
    "restored": "Put back",
    **ACTION_LABELS,
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
    claim = detail.claim
    return {
        "actions": [a.value for a in detail.actions],
        "reported": bool(detail.actions) and detail.actions == queue.PUBLISHED_ACTIONS,
        "flag_reasons": flags.REASONS,
        "claim": claim,
        "claimed_by_you": claim is not None and claim.moderator_id == user.id,
        "claimed_by_other": claim is not None and claim.moderator_id != user.id and not claim.stale,
        "field_labels": {name: FIELD_LABELS.get(name, name) for name in text_fields(content_type)},
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
def item_page(
    request: Request,
    session: SessionDep,
    user: ModeratorUser,
    item_id: ItemId,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    detail = queue.get_item(session, item_id=item_id)
    context = _item_context(detail, user)
    context["values"] = {"version": detail.item.version, "reasons": {}, "remove": []}
    context["done"] = ITEM_DONE.get(done)
    return render(request, "moderation/item.html", context)


def _conflict(request: Request, message: str, back_url: str, back_text: str) -> HTMLResponse:
    """The 409 page: nothing was saved; a link to reload what changed."""
    context = {"message": message, "back_url": back_url, "back_text": back_text}
    return render(request, "moderation/conflict.html", context, status_code=409)


def _version(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise Conflict("The page you acted on is out of date.")
    return int(raw)


@router.post("/items/{item_id}/claim", name="moderation:claim")
def claim(
    request: Request, session: SessionDep, user: ModeratorUser, item_id: ItemId, version: Annotated[str, Form()] = ""
) -> Response:
    item_url = str(request.url_for("moderation:item", item_id=item_id))
    try:
        queue.claim(session, moderator=user, item_id=item_id, version=_version(version))
    except Conflict as error:
        return _conflict(request, error.message, item_url, "Reload the item to see what changed")
    return redirect(
        str(request.url_for("moderation:item", item_id=item_id).include_query_params(done="claimed")), request
    )


@router.post("/items/{item_id}/release", name="moderation:release")
def release(
    request: Request, session: SessionDep, user: ModeratorUser, item_id: ItemId, version: Annotated[str, Form()] = ""
) -> Response:
    item_url = str(request.url_for("moderation:item", item_id=item_id))
    try:
        queue.release(session, moderator=user, item_id=item_id, version=_version(version))
    except Conflict as error:
        return _conflict(request, error.message, item_url, "Reload the item to see what changed")
    return redirect(str(request.url_for("moderation:queue").include_query_params(done="released")), request)


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
    hide_note: Annotated[str, Form()] = "",
    redact_field: Annotated[str, Form(max_length=60)] = "",
    redact_words: Annotated[str, Form(max_length=5000)] = "",
    redact_reason: Annotated[str, Form(max_length=120)] = "",
    notify_author: Annotated[str, Form(max_length=10)] = "",
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
        "hide_note": hide_note,
        "remove": remove,
        "reasons": reasons,
        "redact_field": redact_field,
        "redact_words": redact_words,
        "redact_reason": redact_reason,
        "notify_author": bool(notify_author),
    }
    notes = {Action.send_back: send_back_note, Action.reject: reject_note, Action.hide: hide_note}
    try:
        if action not in Action.__members__:
            raise InvalidInput({"action": "Select what to do with this contribution"})
        chosen = Action(action)
        number = _version(version)
        redactions: list[RedactionRequest] = []
        if chosen == Action.redact_and_approve:
            redactions = _redactions(remove, reasons)
        elif chosen == Action.redact_and_keep:
            redactions = _redactions(remove, reasons)
            if redact_words.strip() or not redactions:
                content = queue.get_item(session, item_id=item_id).content
                redactions.append(
                    queue.find_span(
                        content, field=redact_field, words=redact_words, reason=redact_reason or "not relevant"
                    )
                )
        detail = queue.decide(
            session,
            moderator=user,
            item_id=item_id,
            version=number,
            action=chosen,
            reason_code=reason_code or None if chosen == Action.reject else None,
            note=notes.get(chosen),
            redactions=redactions,
            notify_author=bool(notify_author),
        )
    except InvalidInput as error:
        errors = dict(error.errors)
        if "note" in errors:  # one service field, several boxes on the page: point at the one in use
            errors[f"{action}_note" if action in ("send_back", "reject", "hide") else "note"] = errors.pop("note")
        context = _item_context(queue.get_item(session, item_id=item_id), user)
        context.update({"values": values, "errors": errors})
        return render(request, "moderation/item.html", context, status_code=422)
    except Conflict as error:
        item_url = str(request.url_for("moderation:item", item_id=item_id))
        return _conflict(request, error.message, item_url, "Reload the item to see what changed")
    done = "first_approval" if detail.item.status == QueueStatus.open else DECISION_DONE[action]
    url = request.url_for("moderation:queue").include_query_params(done=done)
    deliver_queued(session, mailer)  # the author hears the outcome now, after the decision is committed
    return redirect(str(url), request)


# --- published content: look up, hide or remove, put back --------------------------------------------------------


@router.get("/content", name="moderation:find_content")
def find_content(
    request: Request,
    user: ModeratorUser,
    content_type: Annotated[str, Query(alias="type", max_length=10)] = "",
    content_id: Annotated[str, Query(alias="id", max_length=12)] = "",
) -> Response:
    """The lookup form on the queue page: a review or pilot by its number."""
    number = content_id.strip().lstrip("#")
    if content_type not in ("review", "pilot") or not (number.isascii() and number.isdigit() and len(number) < 10):
        raise NotFound("Choose review or pilot record, and enter its number (the digits in its address).")
    return redirect(
        str(request.url_for("moderation:content", content_type=content_type, content_id=int(number))), request
    )


def _content_context(detail: queue.ContentDetail, user: User) -> dict[str, Any]:
    return {
        "detail": detail,
        "content": detail.content,
        "is_review": detail.content_type == ContentType.review,
        "own": detail.content.author_id == user.id,
        "bases": takedown.BASES,
        "history_labels": HISTORY_LABELS,
        "flag_reasons": flags.REASONS,
        "taken_down": detail.content.status in takedown.TAKEN_DOWN,
        "published": detail.content.status == ContentStatus.published,
        "user": user,
    }


def _content_page(
    request: Request,
    session: SessionDep,
    user: User,
    content_type: ContentType,
    content_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    detail = queue.get_content(session, viewer=user, content_type=content_type, content_id=content_id)
    context = _content_context(detail, user)
    context.update({"values": values or {"version": detail.content.version}, "errors": errors or {}, "done": done})
    return render(request, "moderation/content.html", context, status_code=422 if errors else 200)


@router.get("/content/{content_type}/{content_id}", name="moderation:content")
def content_page(
    request: Request,
    session: SessionDep,
    user: ModeratorUser,
    content_type: ContentKind,
    content_id: ItemId,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    return _content_page(request, session, user, ContentType(content_type), content_id, done=CONTENT_DONE.get(done))


@router.post("/content/{content_type}/{content_id}/take-down", name="moderation:take_down")
def take_down(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: ModeratorUser,
    content_type: ContentKind,
    content_id: ItemId,
    version: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=20)] = "",
    basis: Annotated[str, Form(max_length=60)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    kind = ContentType(content_type)
    page_url = request.url_for("moderation:content", content_type=content_type, content_id=content_id)
    try:
        queue.take_down_content(
            session,
            moderator=user,
            content_type=kind,
            content_id=content_id,
            version=_version(version),
            status=status,
            basis=basis,
            note=note,
        )
    except InvalidInput as error:
        session.rollback()
        values = {"version": version, "status": status, "basis": basis, "note": note}
        return _content_page(request, session, user, kind, content_id, values=values, errors=error.errors)
    except Conflict as error:
        session.rollback()
        return _conflict(request, error.message, str(page_url), "Reload it to see what changed")
    deliver_queued(session, mailer)
    return redirect(str(page_url.include_query_params(done=status)), request)


@router.post("/content/{content_type}/{content_id}/restore", name="moderation:restore")
def restore(
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    user: ModeratorUser,
    content_type: ContentKind,
    content_id: ItemId,
    version: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    kind = ContentType(content_type)
    page_url = request.url_for("moderation:content", content_type=content_type, content_id=content_id)
    try:
        queue.restore_content(
            session, moderator=user, content_type=kind, content_id=content_id, version=_version(version), note=note
        )
    except InvalidInput as error:
        session.rollback()
        values = {"version": version, "restore_note": note}
        errors = {"restore_note": error.errors.get("note", error.message)}
        return _content_page(request, session, user, kind, content_id, values=values, errors=errors)
    except Conflict as error:
        session.rollback()
        return _conflict(request, error.message, str(page_url), "Reload it to see what changed")
    deliver_queued(session, mailer)
    return redirect(str(page_url.include_query_params(done="restored")), request)


# --- reporting published content (any signed-in officer) ---------------------------------------------------------


FLAG_MESSAGE_FIELDS = {reason: f"message_{reason}" for reason in flags.REASONS}


def _flag_form(
    request: Request,
    subject: flags.Subject,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "subject": subject,
        "reasons": flags.REASONS,
        "message_fields": FLAG_MESSAGE_FIELDS,
        "values": values or {},
        "errors": errors or {},
        "message_limit": flags.MESSAGE_LIMIT,
    }
    return render(request, "flags/new.html", context, status_code=422 if errors else 200)


FLAG_ROUTES = {ContentType.review: "flags:review", ContentType.pilot: "flags:pilot"}


def _flag_page(
    request: Request, session: SessionDep, user: User, content_type: ContentType, content_id: int, sent: bool
) -> HTMLResponse:
    subject = flags.get_subject(session, user=user, content_type=content_type, content_id=content_id)
    if subject.already_reported:  # after sending (post/redirect/get), or on coming back to the form
        return render(request, "flags/done.html", {"subject": subject, "sent": sent})
    return _flag_form(request, subject)


def _create_flag(
    request: Request,
    session: SessionDep,
    user: User,
    content_type: ContentType,
    content_id: int,
    reason: str,
    messages: dict[str, str],
) -> Response:
    try:
        flags.create_flag(
            session,
            user=user,
            content_type=content_type,
            content_id=content_id,
            reason=reason,
            message=messages.get(reason, ""),
        )
    except InvalidInput as error:
        session.rollback()
        errors = dict(error.errors)
        if "message" in errors:  # each reason has its own box: point at the one under the chosen reason
            errors[FLAG_MESSAGE_FIELDS.get(reason, "reason")] = errors.pop("message")
        subject = flags.get_subject(session, user=user, content_type=content_type, content_id=content_id)
        values = {"reason": reason, **{FLAG_MESSAGE_FIELDS[r]: text for r, text in messages.items()}}
        return _flag_form(request, subject, values=values, errors=errors)
    url = request.url_for(FLAG_ROUTES[content_type], content_id=content_id).include_query_params(sent="yes")
    return redirect(str(url), request)


FlagMessage = Annotated[str, Form(max_length=10000)]


Sent = Annotated[str, Query(max_length=3)]


@flags_router.get("/reviews/{content_id}/flag", name="flags:review")
def flag_review_form(
    request: Request, session: SessionDep, user: CurrentUser, content_id: ItemId, sent: Sent = ""
) -> HTMLResponse:
    return _flag_page(request, session, user, ContentType.review, content_id, sent == "yes")


@flags_router.get("/pilots/{content_id}/flag", name="flags:pilot")
def flag_pilot_form(
    request: Request, session: SessionDep, user: CurrentUser, content_id: ItemId, sent: Sent = ""
) -> HTMLResponse:
    return _flag_page(request, session, user, ContentType.pilot, content_id, sent == "yes")


@dataclass(frozen=True)
class FlagForm:
    reason: str
    messages: dict[str, str]  # one text box per reason, so what was typed under each is kept on an error


def _flag_fields(
    reason: Annotated[str, Form(max_length=40)] = "",
    message_inappropriate: FlagMessage = "",
    message_personal_data: FlagMessage = "",
    message_confidential: FlagMessage = "",
    message_inaccurate_or_defamatory: FlagMessage = "",
    message_other: FlagMessage = "",
) -> FlagForm:
    texts = (
        message_inappropriate,
        message_personal_data,
        message_confidential,
        message_inaccurate_or_defamatory,
        message_other,
    )
    return FlagForm(reason=reason, messages=dict(zip(flags.REASONS, texts, strict=True)))


FlagFormDep = Annotated[FlagForm, Depends(_flag_fields)]


@flags_router.post("/reviews/{content_id}/flag", name="flags:create_review")
def flag_review(
    request: Request, session: SessionDep, user: CurrentUser, content_id: ItemId, form: FlagFormDep
) -> Response:
    return _create_flag(request, session, user, ContentType.review, content_id, form.reason, form.messages)


@flags_router.post("/pilots/{content_id}/flag", name="flags:create_pilot")
def flag_pilot(
    request: Request, session: SessionDep, user: CurrentUser, content_id: ItemId, form: FlagFormDep
) -> Response:
    return _create_flag(request, session, user, ContentType.pilot, content_id, form.reason, form.messages)
