"""The JSON API under /api/v1 (bearer tokens), and the health check.

Routes call the same service functions as the HTML pages. Contributions are checked by the forms' own parsers, so
an invalid body gets 422 with one message per field, `{"detail": {"errors": {field: message}}}`, never a 500.
The moderation routes are for moderators only: other officers get 403.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from app import contacts, contributions, councils, suppliers, vendors
from app.db import database_status
from app.deps import ApiUser, MailerDep, SearchDep, SessionDep, SettingsDep, get_api_user
from app.errors import InvalidInput, NotAllowed, NotFound
from app.mail import deliver_queued
from app.models import (
    ContentStatus,
    ContentType,
    Finding,
    ModerationItem,
    Pilot,
    QueueStatus,
    Review,
    Role,
    Supplier,
    User,
)
from app.moderation import queue, watched
from app.moderation.queue import ItemDetail, QueueEntry, RedactionRequest
from app.moderation.sanitize import HIGHLIGHT_POST, HIGHLIGHT_PRE, mark_highlights
from app.moderation.screening import Hit
from app.schemas import (
    PILOT_EXAMPLE,
    REVIEW_EXAMPLE,
    CategoryPublic,
    ContractFactsPublic,
    DecisionPublic,
    FindingPublic,
    ModerationActionIn,
    ModerationItemList,
    ModerationItemPublic,
    PilotDetail,
    ProductPublic,
    PublishedReview,
    RatingPublic,
    ReviewDetail,
    ReviewList,
    ScorePublic,
    ScoreSummary,
    SubmissionResult,
    VendorDetail,
    VendorList,
    VendorSummary,
)
from app.scores import DIMENSIONS
from app.search import documents, search_status
from app.search import service as search_service
from app.search.base import SearchParams, SearchQueryError, SearchUnavailable

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(get_api_user)])
health_router = APIRouter(tags=["health"])

DatabaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class FieldErrors(BaseModel):
    errors: dict[str, str] = Field(description="one message per field")


class RequestProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidRequest(BaseModel):
    """A 422: a service refused the input (one message per field), or the request did not fit the schema at all."""

    detail: FieldErrors | list[RequestProblem]


INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": InvalidRequest, "description": 'The body is not valid: {"detail": {"errors": {field: message}}}'}
}
Model = TypeVar("Model", bound=BaseModel)


def invalid(error: InvalidInput) -> JSONResponse:
    """The 422 every route sends for input a service refused: one message per field."""
    return JSONResponse({"detail": {"errors": error.errors}}, status_code=422)


def _validated(model: type[Model], body: Any) -> Model:
    """A pydantic model from a JSON body, or InvalidInput with one message per field."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            errors.setdefault(name, problem["msg"])
        raise InvalidInput(errors) from None


# --- councils ------------------------------------------------------------------------------------


class CouncilPublic(BaseModel):
    gss_code: str
    code: str
    name: str
    type: str
    type_name: str
    region: str
    nation: str


class CouncilList(BaseModel):
    count: int
    councils: list[CouncilPublic]


@router.get("/councils", name="api:councils", response_model=CouncilList)
def list_councils(
    session: SessionDep, q: Annotated[str | None, Query(max_length=100, description="part of a name, or a code")] = None
) -> CouncilList:
    """Current UK councils, optionally filtered by part of their name or their GSS or register code."""
    rows = councils.list_councils(session, q=q)
    items = [
        CouncilPublic(
            gss_code=c.gss_code,
            code=c.code,
            name=c.name,
            type=c.type_code,
            type_name=c.type_name,
            region=c.region,
            nation=c.nation,
        )
        for c in rows
    ]
    return CouncilList(count=len(items), councils=items)


# --- suppliers -----------------------------------------------------------------------------------


@router.get("/vendors", name="api:vendors", response_model=VendorList)
def list_vendors(
    session: SessionDep,
    q: Annotated[str, Query(max_length=100, description="part of the supplier's name or another spelling")] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> VendorList:
    """Published suppliers by name, 20 a page, each with its overall score and number of reviews."""
    result = vendors.list_suppliers(session, q=q, page=page)
    items = []
    for supplier in result.items:
        listed = result.scores.get(supplier.id or 0)
        items.append(
            VendorSummary(
                slug=supplier.slug,
                name=supplier.name,
                website=supplier.website,
                is_demo=supplier.is_demo,
                score=ScoreSummary(
                    overall=listed.overall if listed else None,
                    word=listed.word if listed else None,
                    count=listed.count if listed else 0,
                ),
            )
        )
    return VendorList(total=result.total, page=result.page, pages=result.pages, per_page=result.per_page, vendors=items)


@router.post("/vendors", name="api:create_vendor", status_code=201, responses=INVALID)
def propose_vendor(
    session: SessionDep,
    user: ApiUser,
    body: Annotated[dict[str, Any], Body(openapi_examples={"supplier": {"value": {"name": "Example Systems Ltd"}}})],
) -> JSONResponse:
    """Propose a supplier that is missing (`name`, optional `website` and `description`): listed once a moderator
    approves it."""
    try:
        supplier = suppliers.propose(session, author=user, data=suppliers.parse_supplier(body))
    except InvalidInput as error:
        return invalid(error)
    return JSONResponse({"slug": supplier.slug, "name": supplier.name, "status": "pending_moderation"}, status_code=201)


@router.get("/vendors/{slug}", name="api:vendor", response_model=VendorDetail)
def get_vendor(session: SessionDep, slug: Annotated[str, Path(max_length=120)]) -> VendorDetail:
    """A published supplier with its score (from published reviews only), other names, categories and products."""
    profile = vendors.get_supplier_profile(session, slug=slug)
    s = profile.supplier
    return VendorDetail(
        slug=s.slug,
        name=s.name,
        description=s.description,
        website=s.website,
        is_demo=s.is_demo,
        aliases=profile.aliases,
        categories=[CategoryPublic(code=c.code, label=c.label) for c in profile.categories],
        products=[ProductPublic(id=p.id or 0, name=p.name) for p in profile.products],
        score=ScorePublic.of(profile.score),
    )


@router.get("/vendors/{slug}/reviews", name="api:vendor_reviews", response_model=ReviewList)
def list_vendor_reviews(
    session: SessionDep,
    slug: Annotated[str, Path(max_length=120)],
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> ReviewList:
    """A supplier's published reviews, newest first, 10 a page; reviewers appear as role and council only."""
    reviews = vendors.get_supplier_profile(session, slug=slug, page=page).reviews
    keys = {label: key for key, label in DIMENSIONS}
    items = []
    for r in reviews.items:
        items.append(
            PublishedReview(
                id=r.id,
                reviewer=r.author,
                published_on=r.published_on,
                older=r.older,
                product=r.product,
                relationship=r.relationship,
                service_area=r.service_area,
                time_used=r.time_used,
                overall=r.overall,
                recommend=r.recommend,
                ratings=[RatingPublic(key=keys.get(label, label), label=label, rating=v) for label, v in r.ratings],
                text_private=r.text_private,
                headline=r.headline,
                worked_well=r.worked_well,
                did_not_work=r.did_not_work,
                advice=r.advice,
                contract=ContractFactsPublic(**vars(r.contract)) if r.contract else None,
                is_demo=r.is_demo,
            )
        )
    return ReviewList(
        total=reviews.total, page=reviews.page, pages=reviews.pages, per_page=reviews.per_page, reviews=items
    )


# --- contributing --------------------------------------------------------------------------------


def _supplier_for(session: SessionDep, body: dict[str, Any]) -> Supplier:
    """The published supplier a contribution is about, named by its slug (an old, merged slug still works)."""
    slug = body.get("supplier")
    if not isinstance(slug, str) or not slug.strip():
        raise InvalidInput({"supplier": "Give the supplier's slug, as in /api/v1/vendors"})
    if len(slug) > 120:
        raise NotFound("There is no supplier with this slug.")
    supplier = suppliers.resolve(session, suppliers.get_by_slug(session, slug.strip()))
    if supplier.status != ContentStatus.published:
        raise NotFound("There is no supplier with this slug.")
    return supplier


def _findings(hits: list[Hit] | list[Finding]) -> list[FindingPublic]:
    return [
        FindingPublic(
            field=h.field, category=h.category, severity=h.severity.value, start=h.start, end=h.end, detector=h.detector
        )
        for h in hits
    ]


def _submission(submission: contributions.Submission) -> JSONResponse:
    result = SubmissionResult(
        id=submission.content.id or 0,
        status="published" if submission.api_status == "published" else "pending_moderation",
        findings=_findings(submission.hits),
    )
    return JSONResponse(result.model_dump(), status_code=201)


SUBMISSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": SubmissionResult, "description": "Saved: published, or waiting for a moderator"},
    404: {"description": "No published supplier has this slug"},
    **INVALID,
}


@router.post("/reviews", name="api:create_review", status_code=201, responses=SUBMISSION_RESPONSES)
def create_review(
    session: SessionDep,
    user: ApiUser,
    body: Annotated[dict[str, Any], Body(openapi_examples={"review": {"value": REVIEW_EXAMPLE}})],
) -> JSONResponse:
    """Write a review to the review standard. It is screened: anything found, or a new author, waits for a moderator.

    Ratings are 1 to 5, or null for "not applicable"; `overall` is 1 to 10; `contract_end` is an ISO date.
    """
    try:
        supplier = _supplier_for(session, body)
        data = contributions.parse_review(session, supplier=supplier, raw=body)
    except InvalidInput as error:
        return invalid(error)
    return _submission(contributions.submit_review(session, author=user, supplier=supplier, data=data))


@router.post("/pilots", name="api:create_pilot", status_code=201, responses=SUBMISSION_RESPONSES)
def create_pilot(
    session: SessionDep,
    user: ApiUser,
    body: Annotated[dict[str, Any], Body(openapi_examples={"pilot": {"value": PILOT_EXAMPLE}})],
) -> JSONResponse:
    """Record a pilot. It is screened like a review. Dates are ISO dates."""
    try:
        supplier = _supplier_for(session, body)
        data = contributions.parse_pilot(session, supplier=supplier, raw=body)
    except InvalidInput as error:
        return invalid(error)
    return _submission(contributions.submit_pilot(session, author=user, supplier=supplier, data=data))


def _ratings(review: Review) -> list[RatingPublic]:
    return [RatingPublic(key=key, label=label, rating=getattr(review, key)) for key, label in DIMENSIONS]


@router.get("/reviews/{review_id}", name="api:review", response_model=ReviewDetail)
def get_review(session: SessionDep, user: ApiUser, review_id: DatabaseId) -> ReviewDetail:
    """A published review; its author also sees it before it is published, with its state. Others get 404."""
    found = contributions.get_readable(session, reader=user, content_type=ContentType.review, content_id=review_id)
    review = found.content
    assert isinstance(review, Review)
    hidden = review.keep_text_private and review.author_id != user.id
    return ReviewDetail(
        id=review.id or 0,
        status=review.status.value,
        published_at=review.published_at,
        supplier=found.supplier.slug,
        reviewer=f"{review.author_role}, {found.council.name}",
        product_id=review.product_id,
        relationship=review.relationship.value,
        service_area=review.service_area,
        time_used=review.time_used,
        ratings=_ratings(review),
        overall=review.overall,
        recommend=review.recommend,
        keep_text_private=review.keep_text_private,
        headline=None if hidden else review.headline,
        worked_well=None if hidden else review.worked_well,
        did_not_work=None if hidden else review.did_not_work,
        advice=None if hidden else review.advice,
        procurement_route=review.procurement_route.value if review.procurement_route else None,
        framework_lot=review.framework_lot,
        contract_end=review.contract_end,
        cost_band=review.cost_band.value if review.cost_band else None,
    )


@router.get("/pilots/{pilot_id}", name="api:pilot", response_model=PilotDetail)
def get_pilot(session: SessionDep, user: ApiUser, pilot_id: DatabaseId) -> PilotDetail:
    """A published pilot record; its author also sees it before it is published, with its state. Others get 404."""
    found = contributions.get_readable(session, reader=user, content_type=ContentType.pilot, content_id=pilot_id)
    pilot = found.content
    assert isinstance(pilot, Pilot)
    return PilotDetail(
        id=pilot.id or 0,
        status=pilot.status.value,
        published_at=pilot.published_at,
        supplier=found.supplier.slug,
        author=f"{pilot.author_role}, {found.council.name}",
        product_id=pilot.product_id,
        title=pilot.title,
        service_area=pilot.service_area,
        problem=pilot.problem,
        start_date=pilot.start_date,
        end_date=pilot.end_date,
        pilot_status=pilot.pilot_status.value,
        outcome=pilot.outcome.value if pilot.outcome else None,
        cost_band=pilot.cost_band.value if pilot.cost_band else None,
        nda=pilot.nda.value,
        lessons=pilot.lessons,
        open_to_contact=pilot.open_to_contact,
    )


# --- search --------------------------------------------------------------------------------------

MAX_SEARCH_LIMIT = 100
MAX_SEARCH_OFFSET = 100_000
MAX_FILTER_LENGTH = 2000
SEARCH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'A bad index, filter, sort, facet or limit: {"detail": message, "code": Meilisearch\'s code}'},
    503: {"description": "The search server did not answer"},
}


def _listed(value: str | None) -> list[str] | None:
    """A comma-separated parameter as a list (None when absent)."""
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _whole_number(value: str | None, *, name: str, low: int, high: int, code: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.strip().isdigit() or not low <= int(value) <= high:
        raise SearchQueryError(f"`{name}` must be a whole number from {low} to {high}.", code=code)
    return int(value)


def search_params(
    index: str | None,
    *,
    q: str,
    filter: str | None,
    facets: str | None,
    sort: str | None,
    limit: str | None,
    offset: str | None,
    page: str | None,
    hits_per_page: str | None,
    highlight: str | None,
) -> SearchParams:
    """Meilisearch's parameters from the query string, checked; SearchQueryError (a 400) for anything wrong."""
    if index not in documents.INDEXES:
        names = ", ".join(documents.INDEX_NAMES)
        raise SearchQueryError(f"Index `{index or ''}` not found. Use index= one of: {names}.", code="index_not_found")
    settings = documents.INDEXES[index]
    if filter is not None and len(filter) > MAX_FILTER_LENGTH:
        raise SearchQueryError(
            f"The filter is longer than {MAX_FILTER_LENGTH} characters.", code="invalid_search_filter"
        )
    facet_list = _listed(facets)
    if facet_list == ["*"]:
        facet_list = list(settings.filterable)
    for name in facet_list or []:
        if name not in settings.filterable:
            raise SearchQueryError(
                f"Attribute `{name}` is not filterable, so it cannot be a facet. "
                f"Facets of {index}: {', '.join(settings.filterable)}.",
                code="invalid_search_facets",
            )
    sort_list = _listed(sort)
    for rule in sort_list or []:
        attribute, _, direction = rule.partition(":")
        if attribute not in settings.sortable or direction not in ("asc", "desc"):
            raise SearchQueryError(
                f"Cannot sort by `{rule}`: use attribute:asc or attribute:desc, with one of the sortable attributes "
                f"of {index}: {', '.join(settings.sortable)}.",
                code="invalid_search_sort",
            )
    params = SearchParams(
        q=q,
        filter=filter or None,
        facets=facet_list,
        sort=sort_list or None,
        attributes_to_highlight=_listed(highlight) or None,
        highlight_pre_tag=HIGHLIGHT_PRE,
        highlight_post_tag=HIGHLIGHT_POST,
    )
    numbers = {
        "limit": (limit, 0, MAX_SEARCH_LIMIT, "invalid_search_limit"),
        "offset": (offset, 0, MAX_SEARCH_OFFSET, "invalid_search_offset"),
        "page": (page, 1, MAX_SEARCH_OFFSET, "invalid_search_page"),
        "hitsPerPage": (hits_per_page, 0, MAX_SEARCH_LIMIT, "invalid_search_hits_per_page"),
    }
    checked = {name: _whole_number(v, name=name, low=lo, high=hi, code=c) for name, (v, lo, hi, c) in numbers.items()}
    if checked["limit"] is not None:
        params.limit = checked["limit"]
    if checked["offset"] is not None:
        params.offset = checked["offset"]
    params.page, params.hits_per_page = checked["page"], checked["hitsPerPage"]
    return params


def _as_html(value: Any) -> Any:
    """A `_formatted` value as safe HTML: the text escaped, then its matches wrapped in <em>."""
    if isinstance(value, str):
        # mark_highlights escapes the text before it adds <mark>, so every <mark> left is one of ours.
        return str(mark_highlights(value)).replace("<mark>", "<em>").replace("</mark>", "</em>")
    if isinstance(value, list):
        return [_as_html(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_html(item) for key, item in value.items()}
    return value


def _search_error(message: str, code: str, status_code: int) -> JSONResponse:
    return JSONResponse({"detail": message, "code": code}, status_code=status_code)


@router.get("/search", name="api:search", responses=SEARCH_ERRORS)
def search(
    session: SessionDep,
    backend: SearchDep,
    index: Annotated[str | None, Query(description="vendors, pilots or reviews")] = None,
    q: Annotated[str, Query(description="the words to find; empty for every document")] = "",
    filter: Annotated[str | None, Query(description='Meilisearch filter syntax, e.g. region = "London"')] = None,
    facets: Annotated[str | None, Query(description="comma-separated filterable attributes, or *")] = None,
    sort: Annotated[str | None, Query(description="comma-separated attribute:asc or attribute:desc")] = None,
    limit: Annotated[str | None, Query(description="hits to return, 0 to 100 (default 20)")] = None,
    offset: Annotated[str | None, Query(description="hits to skip")] = None,
    page: Annotated[str | None, Query(description="page number: page mode, with exact totals")] = None,
    hits_per_page: Annotated[str | None, Query(alias="hitsPerPage", description="0 to 100, in page mode")] = None,
    attributes_to_highlight: Annotated[
        str | None, Query(alias="attributesToHighlight", description="comma-separated attributes, or *")
    ] = None,
) -> JSONResponse:
    """Search suppliers, pilots or reviews, answered in Meilisearch's shape: `hits`, `estimatedTotalHits` (or
    `totalHits` and `totalPages` in page mode), `facetDistribution`, `facetStats`, `processingTimeMs`, `query`.

    With `attributesToHighlight`, each hit has `_formatted`: its text HTML-escaped, matches in `<em>`.
    A bad request gets 400 `{"detail": message, "code": code}`; 503 when the search server does not answer.
    """
    try:
        params = search_params(
            index,
            q=q,
            filter=filter,
            facets=facets,
            sort=sort,
            limit=limit,
            offset=offset,
            page=page,
            hits_per_page=hits_per_page,
            highlight=attributes_to_highlight,
        )
        result = search_service.search(session, backend, index=index or "", params=params)
    except SearchQueryError as error:
        return _search_error(error.message, error.code, 400)
    except SearchUnavailable:
        return _search_error(
            "Search is not available at the moment. Try again in a few minutes.", "search_unavailable", 503
        )
    for hit in result.get("hits", []):
        watched.censor_hit(hit)
        if "_formatted" in hit:
            hit["_formatted"] = _as_html(hit["_formatted"])
    return JSONResponse({**result, "query": q})


# --- moderation (moderators only) ----------------------------------------------------------------


def require_api_moderator(user: ApiUser) -> User:
    if user.role not in (Role.moderator, Role.admin):
        raise NotAllowed("Only moderators can use the moderation API.")
    return user


ApiModerator = Annotated[User, Depends(require_api_moderator)]
moderation = APIRouter(prefix="/moderation", dependencies=[Depends(require_api_moderator)])


def _item_public(
    item: ModerationItem, content: contributions.Contribution, findings: list[Finding], **extra: Any
) -> ModerationItemPublic:
    return ModerationItemPublic(
        id=item.id or 0,
        version=item.version,
        status=item.status.value,
        content_type=item.content_type.value,
        content_id=item.content_id,
        content_status=content.status.value,
        severity=item.severity.value,
        needs_two_moderators=item.needs_two_moderators,
        opened_at=item.opened_at,
        decided_at=item.decided_at,
        findings=_findings(findings),
        **extra,
    )


def _entry(entry: QueueEntry) -> ModerationItemPublic:
    return _item_public(entry.item, entry.content, entry.findings, overdue=entry.overdue)


def _detail(detail: ItemDetail, moderator: User) -> ModerationItemPublic:
    decisions = [
        DecisionPublic(
            action=d.action,
            reason_code=d.reason_code,
            note=d.note,
            by_you=d.moderator_id == moderator.id,
            at=d.created_at,
        )
        for d in detail.decisions
    ]
    return _item_public(detail.item, detail.content, detail.findings, approvals=detail.approvals, decisions=decisions)


@moderation.get("/items", name="api:moderation_items", response_model=ModerationItemList)
def list_moderation_items(
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(pending|decided)$", description="pending (open) or decided")] = "pending",
) -> ModerationItemList:
    """The queue: pending items most severe first, then oldest; or the latest decided ones."""
    entries = queue.list_items(session, status=QueueStatus.open if status == "pending" else QueueStatus.decided)
    return ModerationItemList(count=len(entries), items=[_entry(e) for e in entries])


@moderation.get("/items/{item_id}", name="api:moderation_item", response_model=ModerationItemPublic)
def get_moderation_item(session: SessionDep, moderator: ApiModerator, item_id: DatabaseId) -> ModerationItemPublic:
    """One queue item with its findings and the decisions taken so far."""
    return _detail(queue.get_item(session, item_id=item_id), moderator)


@moderation.post(
    "/items/{item_id}/actions",
    name="api:moderation_action",
    response_model=ModerationItemPublic,
    responses={
        403: {"description": "Not a moderator, or the moderator wrote the contribution"},
        409: {"description": "Stale version: someone else acted first, nothing changed"},
        **INVALID,
    },
)
def act_on_item(
    session: SessionDep,
    mailer: MailerDep,
    moderator: ApiModerator,
    item_id: DatabaseId,
    body: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={
                "redact": {
                    "value": {
                        "action": "redact_and_approve",
                        "version": 1,
                        "redactions": [{"field": "worked_well", "start": 10, "end": 17, "reason": "price"}],
                    }
                },
                "reject": {"value": {"action": "reject", "version": 1, "reason_code": "personal_data"}},
            }
        ),
    ],
) -> ModerationItemPublic | JSONResponse:
    """Approve, approve with redactions, send back (note required) or reject (reason code required) an item.

    Send the item's `version`: a stale one gets 409 and changes nothing. A critical item needs two different
    moderators' approvals; nobody decides on their own contribution (403).
    """
    try:
        action = _validated(ModerationActionIn, body)
        detail = queue.decide(
            session,
            moderator=moderator,
            item_id=item_id,
            version=action.version,
            action=queue.Action(action.action),
            reason_code=action.reason_code,
            note=action.note,
            redactions=[
                RedactionRequest(field=r.field, start=r.start, end=r.end, reason=r.reason) for r in action.redactions
            ],
        )
    except InvalidInput as error:
        return invalid(error)
    state = _detail(detail, moderator)
    deliver_queued(session, mailer)  # the author hears the outcome now, after the decision is committed
    return state


router.include_router(moderation)


# --- peer contact ----------------------------------------------------------------------------------


class ContactRequestIn(BaseModel):
    about_type: Literal["review", "pilot"]
    about_id: int = Field(ge=1, le=2**31 - 1)
    message: str = Field(max_length=5000)


class ContactDecisionIn(BaseModel):
    note: str = Field(default="", max_length=5000)


class PersonPublic(BaseModel):
    name: str
    job_title: str
    council: str
    email: str


class ContactRequestPublic(BaseModel):
    """A request as one party sees it: `peer` is null until the peer accepts; `requester` is for the peer."""

    id: int
    status: str
    about_type: str
    about_id: int
    direction: Literal["incoming", "outgoing"]
    requester_role: str
    requester_council: str
    message: str
    note: str | None
    created_at: datetime
    expires_at: datetime
    requester: PersonPublic | None
    peer: PersonPublic | None


class ContactRequestList(BaseModel):
    incoming: list[ContactRequestPublic]
    outgoing: list[ContactRequestPublic]


def _person_public(person: contacts.Person | None) -> PersonPublic | None:
    return PersonPublic(**vars(person)) if person else None


def _contact(view: contacts.ContactView) -> ContactRequestPublic:
    return ContactRequestPublic(
        id=view.id,
        status=view.status.value,
        about_type=view.about_type.value,
        about_id=view.about_id,
        direction="incoming" if view.incoming else "outgoing",
        requester_role=view.requester_role,
        requester_council=view.requester_council,
        message=view.message,
        note=view.peer_note,
        created_at=view.created_at,
        expires_at=view.expires_at,
        requester=_person_public(view.requester),
        peer=_person_public(view.peer),
    )


@router.post(
    "/contact-requests",
    name="api:create_contact_request",
    status_code=201,
    responses={
        201: {"model": ContactRequestPublic, "description": "Sent: the peer is asked by email"},
        200: {"model": ContactRequestPublic, "description": "The same request is already pending: nothing sent"},
        403: {"description": "Your own item, or its author is not open to contact"},
        404: {"description": "No published review or pilot with this id"},
        429: {"description": "Too many requests: see Retry-After"},
        **INVALID,
    },
)
def create_contact_request(
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    user: ApiUser,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Ask the author of a published review or pilot to be put in touch (double opt-in).

    The author sees your job title, council and message; nothing about them is shared until they accept.
    """
    try:
        data = _validated(ContactRequestIn, body)
        request, created = contacts.create_request(
            session,
            requester=user,
            about_type=ContentType(data.about_type),
            about_id=data.about_id,
            message=data.message,
            settings=settings,
        )
    except InvalidInput as error:
        return invalid(error)
    deliver_queued(session, mailer)
    view = contacts.get_request(session, user=user, request_id=request.id or 0)
    return JSONResponse(_contact(view).model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/contact-requests", name="api:contact_requests", response_model=ContactRequestList)
def list_contact_requests(session: SessionDep, user: ApiUser) -> ContactRequestList:
    """Your contact requests: those made to you and those you made."""
    lists = contacts.list_for_user(session, user=user)
    return ContactRequestList(
        incoming=[_contact(v) for v in lists.incoming], outgoing=[_contact(v) for v in lists.outgoing]
    )


@router.get("/contact-requests/{request_id}", name="api:contact_request", response_model=ContactRequestPublic)
def get_contact_request(session: SessionDep, user: ApiUser, request_id: DatabaseId) -> ContactRequestPublic:
    """One of your contact requests (404 for anyone else's)."""
    return _contact(contacts.get_request(session, user=user, request_id=request_id))


def _decide(
    session: SessionDep, mailer: MailerDep, user: User, request_id: int, accept: bool, body: dict[str, Any] | None
) -> ContactRequestPublic | JSONResponse:
    try:
        data = _validated(ContactDecisionIn, body or {})
        view = contacts.decide(session, peer=user, request_id=request_id, accept=accept, note=data.note)
    except InvalidInput as error:
        return invalid(error)
    deliver_queued(session, mailer)
    return _contact(view)


DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "You made this request: only the peer can answer it"},
    404: {"description": "No request of yours with this id"},
    **INVALID,
}


@router.post(
    "/contact-requests/{request_id}/accept",
    name="api:accept_contact_request",
    response_model=ContactRequestPublic,
    responses=DECISION_RESPONSES,
)
def accept_contact_request(
    session: SessionDep,
    mailer: MailerDep,
    user: ApiUser,
    request_id: DatabaseId,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> ContactRequestPublic | JSONResponse:
    """Accept a request made to you, with an optional `note`: you both get each other's details."""
    return _decide(session, mailer, user, request_id, True, body)


@router.post(
    "/contact-requests/{request_id}/decline",
    name="api:decline_contact_request",
    response_model=ContactRequestPublic,
    responses=DECISION_RESPONSES,
)
def decline_contact_request(
    session: SessionDep, mailer: MailerDep, user: ApiUser, request_id: DatabaseId
) -> ContactRequestPublic | JSONResponse:
    """Decline a request made to you: the requester sees only that it was declined."""
    return _decide(session, mailer, user, request_id, False, None)


# --- health --------------------------------------------------------------------------------------


class Health(BaseModel):
    status: str
    database: str
    search: str


@health_router.get("/healthz", name="health", response_model=Health)
def healthz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Whether the service, its database and its search backend answer."""
    database = database_status(session.get_bind())  # type: ignore[arg-type]
    search = search_status(settings)
    ok = database == "ok" and search in ("ok", "embedded")
    body = Health(status="ok" if ok else "degraded", database=database, search=search)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
