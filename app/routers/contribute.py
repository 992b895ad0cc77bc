"""Writing reviews and pilot records, the screening preview, and the officer's own contributions.

Every page works without JavaScript: "Check my review" posts the whole form to the preview route, which answers
with the form page and the findings above the submit button. With htmx the same route answers with the findings
panel only. Findings never block a submission: they tell the author that a moderator will read it first.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import contributions, standard
from app.contributions import Contribution, ReviewData, Submission
from app.deps import CurrentUser, SessionDep, get_current_user
from app.errors import InvalidInput, NotAllowed, NotFound
from app.models import ContentStatus, ContentType, Supplier, User
from app.moderation import screening
from app.moderation.sanitize import highlight_spans
from app.routers.account import redirect
from app.templating import render

router = APIRouter(dependencies=[Depends(get_current_user)])


@dataclass(frozen=True)
class Kind:
    """What differs between the review form and the pilot form."""

    content_type: ContentType
    noun: str
    page: str
    form: str
    field_order: tuple[str, ...]
    text_labels: dict[str, str]
    parse: Callable[..., ReviewData]
    submit: Callable[..., Submission]


REVIEW = Kind(
    content_type=ContentType.review,
    noun="review",
    page="contribute/review_form.html",
    form="contribute/_review_form.html",
    field_order=(
        "relationship",
        "service_area",
        "product_id",
        "time_used",
        *(dimension.key for dimension in standard.DIMENSIONS),
        "overall",
        "recommend",
        "headline",
        "worked_well",
        "did_not_work",
        "advice",
        "procurement_route",
        "framework_lot",
        "contract_end",
        "cost_band",
        "exact_cost",
        "exact_cost_source_url",
    ),
    text_labels={
        "headline": "Headline",
        "worked_well": "What worked",
        "did_not_work": "What did not work",
        "advice": "Advice to a peer",
    },
    parse=contributions.parse_review,
    submit=contributions.submit_review,
)
PILOT = Kind(
    content_type=ContentType.pilot,
    noun="pilot record",
    page="contribute/pilot_form.html",
    form="contribute/_pilot_form.html",
    field_order=(
        "title",
        "product_id",
        "service_area",
        "problem",
        "start_date",
        "end_date",
        "pilot_status",
        "outcome",
        "cost_band",
        "nda",
        "lessons",
    ),
    text_labels={"title": "Title", "problem": "The problem it addressed", "lessons": "Lessons learned"},
    parse=contributions.parse_pilot,
    submit=contributions.submit_pilot,
)
KINDS = {ContentType.review: REVIEW, ContentType.pilot: PILOT}

STATUS_TAGS: dict[ContentStatus, tuple[str, str]] = {
    ContentStatus.published: ("Published", "govuk-tag--green"),
    ContentStatus.pending: ("Waiting for a moderator", "govuk-tag--blue"),
    ContentStatus.sent_back: ("Sent back for changes", "govuk-tag--orange"),
    ContentStatus.rejected: ("Not published", "govuk-tag--red"),
    ContentStatus.withdrawn: ("Withdrawn", "govuk-tag--grey"),
    ContentStatus.hidden: ("Hidden", "govuk-tag--purple"),
    ContentStatus.removed: ("Removed", "govuk-tag--red"),
}
WITHDRAWABLE = (*contributions.EDITABLE, ContentStatus.hidden)


def _items(options: Mapping[Any, str], *, first: str | None = None) -> list[dict[str, str]]:
    """GOV.UK radio or select items; `first` is an empty choice at the top of a select."""
    items = [{"value": "", "text": first}] if first is not None else []
    return items + [{"value": str(value), "text": label} for value, label in options.items()]


CHOICES = {
    "relationship": _items(standard.RELATIONSHIPS),
    "service_area": _items({area: area for area in standard.SERVICE_AREAS}, first="Select a service area"),
    "time_used": _items({period: period for period in standard.TIME_USED}, first="Not given"),
    "procurement_route": _items(standard.PROCUREMENT_ROUTES),
    "cost_band": _items(standard.COST_BANDS),
    "pilot_status": _items(standard.PILOT_STATUSES),
    "outcome": _items(standard.PILOT_OUTCOMES),
    "nda": _items(standard.NDA_STATUSES),
}


async def posted_form(request: Request) -> dict[str, str]:
    """The submitted form as strings, without the CSRF token: what the officer typed, to parse or to show again."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str) and name != "csrf_token"}


PostedForm = Annotated[dict[str, str], Depends(posted_form)]
# An id beyond the database's integer range is a wrong address, not a reason for PostgreSQL to raise.
ContentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass
class FieldPreview:
    label: str
    text: Markup
    hits: list[screening.Hit]


@dataclass
class Preview:
    """What screening found in the text being written, field by field, and whether a moderator reads it anyway."""

    fields: list[FieldPreview] = field(default_factory=list)
    hits: list[screening.Hit] = field(default_factory=list)
    not_yet_trusted: bool = True


def _not_yet_trusted(session: Session, user: User) -> bool:
    return contributions.approved_count(session, author=user) < contributions.TRUSTED_AFTER_APPROVALS


def _preview(session: Session, user: User, kind: Kind, raw: Mapping[str, str]) -> Preview:
    texts = contributions.preview(session, content_type=kind.content_type, raw=raw)
    hits = contributions.screen(session, content_type=kind.content_type, values=texts)
    fields = []
    for name, label in kind.text_labels.items():
        found = [hit for hit in hits if hit.field == name]
        if found:
            spans = [(hit.start, hit.end, str(hit.severity)) for hit in found]
            fields.append(FieldPreview(label=label, text=highlight_spans(texts[name], spans), hits=found))
    return Preview(fields=fields, hits=hits, not_yet_trusted=_not_yet_trusted(session, user))


def _in_form_order(errors: dict[str, str], kind: Kind) -> dict[str, str]:
    """Errors in the order of the fields on the page, so the summary reads top to bottom."""
    rank = {name: index for index, name in enumerate(kind.field_order)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _kind(content_type: str) -> Kind:
    try:
        return KINDS[ContentType(content_type)]
    except (ValueError, KeyError):
        raise NotFound("There is no contribution of yours at this address.") from None


def _form(
    request: Request,
    session: Session,
    *,
    kind: Kind,
    supplier: Supplier,
    values: Mapping[str, Any],
    action: str,
    preview_url: str,
    content: Contribution | None = None,
    errors: dict[str, str] | None = None,
    preview: Preview | None = None,
    fragment: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "kind": kind,
        "supplier": supplier,
        "products": contributions.list_products(session, supplier=supplier),
        "values": values,
        "errors": _in_form_order(errors, kind) if errors else None,
        "preview": preview,
        "action": action,
        "preview_url": preview_url,
        "content": content,
        "dimensions": standard.DIMENSIONS,
        "choices": CHOICES,
    }
    return render(request, kind.page, context, fragment=fragment, status_code=status_code)


# --- writing a new review or pilot record ----------------------------------------------------------------


def _new_form(
    request: Request, session: Session, kind: Kind, slug: str, values: Mapping[str, Any] | None = None, **extra: Any
) -> HTMLResponse:
    supplier = contributions.get_supplier(session, slug=slug)
    noun = kind.content_type.value
    return _form(
        request,
        session,
        kind=kind,
        supplier=supplier,
        values=values or {},
        action=str(request.url_for(f"contribute:create_{noun}", slug=slug)),
        preview_url=str(request.url_for(f"contribute:preview_{noun}", slug=slug)),
        **extra,
    )


def _create(request: Request, session: Session, user: User, kind: Kind, slug: str, raw: dict[str, str]) -> Response:
    supplier = contributions.get_supplier(session, slug=slug)
    try:
        data = kind.parse(session, supplier=supplier, raw=raw)
    except InvalidInput as error:
        return _new_form(
            request, session, kind, slug, values=raw, errors=error.errors, fragment=kind.form, status_code=422
        )
    submission = kind.submit(session, author=user, supplier=supplier, data=data)
    return _to_submitted(request, kind, submission.content)


def _preview_new(
    request: Request, session: Session, user: User, kind: Kind, slug: str, raw: dict[str, str]
) -> Response:
    preview = _preview(session, user, kind, raw)
    return _new_form(request, session, kind, slug, values=raw, preview=preview, fragment=_preview_fragment(kind, raw))


def _preview_fragment(kind: Kind, raw: dict[str, str]) -> str:
    """The "Check" button redraws the whole form (clearing errors it showed before); typing redraws the panel."""
    return kind.form if raw.get("check") == "form" else "contribute/_preview.html"


def _to_submitted(request: Request, kind: Kind, content: Contribution, *, changed: bool = False) -> Response:
    url = request.url_for("contribute:submitted", content_type=kind.content_type.value, content_id=str(content.id))
    return redirect(str(url.include_query_params(changed="yes") if changed else url), request)


@router.get("/vendors/{slug}/reviews/new", name="contribute:new_review")
def new_review(request: Request, session: SessionDep, slug: str) -> HTMLResponse:
    return _new_form(request, session, REVIEW, slug)


@router.post("/vendors/{slug}/reviews/new", name="contribute:create_review")
def create_review(request: Request, session: SessionDep, user: CurrentUser, slug: str, raw: PostedForm) -> Response:
    return _create(request, session, user, REVIEW, slug, raw)


@router.post("/vendors/{slug}/reviews/preview", name="contribute:preview_review")
def preview_review(request: Request, session: SessionDep, user: CurrentUser, slug: str, raw: PostedForm) -> Response:
    return _preview_new(request, session, user, REVIEW, slug, raw)


@router.get("/vendors/{slug}/pilots/new", name="contribute:new_pilot")
def new_pilot(request: Request, session: SessionDep, slug: str) -> HTMLResponse:
    return _new_form(request, session, PILOT, slug)


@router.post("/vendors/{slug}/pilots/new", name="contribute:create_pilot")
def create_pilot(request: Request, session: SessionDep, user: CurrentUser, slug: str, raw: PostedForm) -> Response:
    return _create(request, session, user, PILOT, slug, raw)


@router.post("/vendors/{slug}/pilots/preview", name="contribute:preview_pilot")
def preview_pilot(request: Request, session: SessionDep, user: CurrentUser, slug: str, raw: PostedForm) -> Response:
    return _preview_new(request, session, user, PILOT, slug, raw)


# --- the officer's own contributions ---------------------------------------------------------------------


@router.get("/account/contributions", name="contribute:mine")
def mine(request: Request, session: SessionDep, user: CurrentUser, done: str = "") -> HTMLResponse:
    rows = contributions.list_own(session, author=user)
    context = {
        "rows": rows,
        "status_tags": STATUS_TAGS,
        "editable": contributions.EDITABLE,
        "withdrawable": WITHDRAWABLE,
        "withdrawn": done == "withdrawn",
    }
    return render(request, "contribute/mine.html", context)


@router.get("/account/contributions/{content_type}/{content_id}/submitted", name="contribute:submitted")
def submitted(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    content_type: str,
    content_id: ContentId,
    changed: str = "",
) -> HTMLResponse:
    kind = _kind(content_type)
    content = contributions.get_own(session, author=user, content_type=kind.content_type, content_id=content_id)
    pending = content.status == ContentStatus.pending
    # Screening is repeated on what was saved, so the page can say in words what it found.
    hits = contributions.screen(session, content_type=kind.content_type, values=content.model_dump()) if pending else []
    context = {
        "kind": kind,
        "content": content,
        "supplier": contributions.supplier_of(session, content=content),
        "hits": hits,
        "labels": kind.text_labels,
        "not_yet_trusted": _not_yet_trusted(session, user),
        "changed": changed == "yes",
    }
    return render(request, "contribute/submitted.html", context)


def _edit_form(
    request: Request,
    session: Session,
    kind: Kind,
    content: Contribution,
    values: Mapping[str, Any] | None = None,
    **extra: Any,
) -> HTMLResponse:
    names = {"content_type": kind.content_type.value, "content_id": str(content.id)}
    return _form(
        request,
        session,
        kind=kind,
        supplier=contributions.supplier_of(session, content=content),
        content=content,
        values=contributions.form_values(content) if values is None else values,
        action=str(request.url_for("contribute:update", **names)),
        preview_url=str(request.url_for("contribute:preview_edit", **names)),
        **extra,
    )


def _editable(session: Session, user: User, kind: Kind, content_id: int) -> Contribution:
    content = contributions.get_own(session, author=user, content_type=kind.content_type, content_id=content_id)
    if content.status not in contributions.EDITABLE:
        raise NotAllowed("This contribution can no longer be changed.")
    return content


@router.get("/account/contributions/{content_type}/{content_id}/edit", name="contribute:edit")
def edit_form(
    request: Request, session: SessionDep, user: CurrentUser, content_type: str, content_id: ContentId
) -> HTMLResponse:
    kind = _kind(content_type)
    return _edit_form(request, session, kind, _editable(session, user, kind, content_id))


@router.post("/account/contributions/{content_type}/{content_id}/edit", name="contribute:update")
def update(
    request: Request, session: SessionDep, user: CurrentUser, content_type: str, content_id: ContentId, raw: PostedForm
) -> Response:
    kind = _kind(content_type)
    content = _editable(session, user, kind, content_id)
    supplier = contributions.supplier_of(session, content=content)
    try:
        data = kind.parse(session, supplier=supplier, raw=raw)
    except InvalidInput as error:
        return _edit_form(
            request, session, kind, content, values=raw, errors=error.errors, fragment=kind.form, status_code=422
        )
    submission = contributions.edit(session, author=user, content=content, data=data)
    return _to_submitted(request, kind, submission.content, changed=True)


@router.post("/account/contributions/{content_type}/{content_id}/preview", name="contribute:preview_edit")
def preview_edit(
    request: Request, session: SessionDep, user: CurrentUser, content_type: str, content_id: ContentId, raw: PostedForm
) -> Response:
    kind = _kind(content_type)
    content = _editable(session, user, kind, content_id)
    preview = _preview(session, user, kind, raw)
    return _edit_form(
        request, session, kind, content, values=raw, preview=preview, fragment=_preview_fragment(kind, raw)
    )


@router.get("/account/contributions/{content_type}/{content_id}/withdraw", name="contribute:confirm_withdraw")
def confirm_withdraw(
    request: Request, session: SessionDep, user: CurrentUser, content_type: str, content_id: ContentId
) -> HTMLResponse:
    kind = _kind(content_type)
    content = contributions.get_own(session, author=user, content_type=kind.content_type, content_id=content_id)
    context = {"kind": kind, "content": content, "supplier": contributions.supplier_of(session, content=content)}
    return render(request, "contribute/withdraw.html", context)


@router.post("/account/contributions/{content_type}/{content_id}/withdraw", name="contribute:withdraw")
def withdraw(
    request: Request, session: SessionDep, user: CurrentUser, content_type: str, content_id: ContentId
) -> Response:
    kind = _kind(content_type)
    content = contributions.get_own(session, author=user, content_type=kind.content_type, content_id=content_id)
    contributions.withdraw(session, author=user, content=content)
    return redirect(str(request.url_for("contribute:mine").include_query_params(done="withdrawn")), request)
