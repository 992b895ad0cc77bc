"""The JSON API for notices of complaint: anyone may send one; moderators read a case with its deadlines.

Sending needs no sign-in (a complainant is usually not an officer), so this router is not behind the bearer token
of `api.router`; it is rate-limited per client address instead. A notice missing a statutory item is still
accepted (201, status "defective", with what is missing); only a missing or invalid email address is refused (422),
since without it we cannot reply. Every time is ISO 8601 in UK time.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app import complaints
from app.clock import uk_time
from app.deps import MailerDep, SessionDep, SettingsDep
from app.errors import InvalidInput
from app.mail import deliver_queued
from app.models import Complaint
from app.routers.api import ApiModerator, invalid

router = APIRouter(prefix="/api/v1", tags=["complaints"])

# Written as "2026-12-30T10:00:00+00:00": the UK offset always shown (pydantic would write "Z" for GMT).
UkTime = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-12-30T10:00:00+00:00"])]

ComplaintId = Annotated[int, Path(ge=1, le=2**31 - 1)]

NOTICE_EXAMPLE: dict[str, Any] = {
    "complainant_name": "Example Systems Ltd",
    "complainant_email": "legal@example.com",
    "statement": "Example Systems lied about the migration and stole our data.",
    "location": "https://supplier-intel.example/vendors/example-systems#review-12",
    "why_defamatory": "It accuses us of dishonesty and theft, and councils have paused procurements because of it.",
    "meaning": "That Example Systems is dishonest and steals its customers' data.",
    "inaccurate_parts": "No data was taken: the council's data was returned in full on 3 March.",
    "unsupported_opinion": None,
    "cannot_identify_poster": True,
    "consent_to_share": False,
}


class NoticeIn(BaseModel):
    """A notice of complaint. Leave nothing out: a notice missing a statutory item is recorded as defective."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [NOTICE_EXAMPLE]})

    complainant_name: str | None = Field(None, description="Your name (s5(6)(a))")
    complainant_email: str | None = Field(None, description="Where we reply: the only field we cannot do without")
    statement: str | None = Field(None, description="The words complained about (s5(6)(b))")
    location: str | None = Field(
        None, description="The address of the review or pilot on this site, or review:12 (s5(6)(c))"
    )
    why_defamatory: str | None = Field(None, description="Why it is defamatory of you (s5(6)(b))")
    meaning: str | None = Field(None, description="The meaning you attribute to it (reg 2(b))")
    inaccurate_parts: str | None = Field(None, description="What is factually inaccurate (reg 2(c))")
    unsupported_opinion: str | None = Field(None, description="What is opinion not supported by fact (reg 2(c))")
    cannot_identify_poster: bool | None = Field(
        None, description="You do not have enough information about the poster to sue them (reg 2(d))"
    )
    consent_to_share: bool | None = Field(
        None, description="Whether we may give your name and email address to the poster (reg 2(e))"
    )


class NoticeReceived(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "status": "awaiting_poster",
                    "missing": [],
                    "poster_reply_due_at": "2026-06-07T00:00:00+01:00",
                },
                {"id": 8, "status": "defective", "missing": ["meaning"], "poster_reply_due_at": None},
            ]
        }
    )

    id: int
    status: Literal["defective", "open", "awaiting_poster", "removed"]
    missing: list[str] = Field(description="The statutory items left out (keys of the requirements), if defective")
    poster_reply_due_at: UkTime | None = Field(description="When the poster must reply by, in UK time")


class DeadlinePublic(BaseModel):
    step: str
    due_at: UkTime
    done_at: UkTime | None
    state: Literal["done", "late", "due", "overdue"]


class ComplaintPublic(BaseModel):
    """A case as moderators see it; every time is ISO 8601 in UK time (for example 2026-12-30T10:00:00+00:00)."""

    id: int
    status: str
    content_type: str | None
    content_id: int | None
    complainant_name: str
    complainant_email: str
    consent_to_share: bool
    statement: str
    location: str
    missing: list[str]
    received_at: UkTime
    response_due_at: UkTime | None
    acknowledged_at: UkTime | None
    poster_notified_at: UkTime | None
    poster_reply_due_at: UkTime | None
    poster_replied_at: UkTime | None
    poster_wants_removal: bool | None
    poster_consents_disclosure: bool | None
    outcome: str | None
    removal_due_at: UkTime | None
    removed_at: UkTime | None
    complainant_told_at: UkTime | None
    closed_at: UkTime | None
    deadlines: list[DeadlinePublic]


def _uk(moment: datetime | None) -> str | None:
    return uk_time(moment).isoformat() if moment else None


def _public(case: complaints.CaseFile) -> ComplaintPublic:
    c: Complaint = case.complaint
    return ComplaintPublic(
        id=c.id or 0,
        status=c.status.value,
        content_type=c.content_type.value if c.content_type else None,
        content_id=c.content_id,
        complainant_name=c.complainant_name,
        complainant_email=c.complainant_email,
        consent_to_share=c.consent_to_share,
        statement=c.statement,
        location=c.location,
        missing=list(c.missing),
        received_at=uk_time(c.received_at).isoformat(),
        response_due_at=_uk(c.response_due_at),
        acknowledged_at=_uk(c.acknowledged_at),
        poster_notified_at=_uk(c.poster_notified_at),
        poster_reply_due_at=_uk(c.poster_reply_due_at),
        poster_replied_at=_uk(c.poster_replied_at),
        poster_wants_removal=c.poster_wants_removal,
        poster_consents_disclosure=c.poster_consents_disclosure,
        outcome=c.outcome,
        removal_due_at=_uk(c.removal_due_at),
        removed_at=_uk(c.removed_at),
        complainant_told_at=_uk(c.complainant_told_at),
        closed_at=_uk(c.closed_at),
        deadlines=[
            DeadlinePublic(step=d.label, due_at=uk_time(d.due_at).isoformat(), done_at=_uk(d.done_at), state=d.state)
            for d in case.deadlines
        ],
    )


@router.post(
    "/complaints",
    name="api:create_complaint",
    status_code=201,
    response_model=NoticeReceived,
    responses={
        422: {"description": 'No valid email address, or a field of the wrong type: {"detail": {"errors": {...}}}'},
        429: {"description": "Too many notices from this address in an hour"},
    },
    # The body is checked by NoticeIn inside the route (so errors come one per field); document it here.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": NoticeIn.model_json_schema(), "example": NOTICE_EXAMPLE}},
        }
    },
)
def create_complaint(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    mailer: MailerDep,
    body: Annotated[Any, Body()] = None,
) -> Any:
    """Send a notice of complaint (no sign-in). A complete notice goes to the poster at once; a defective one is
    answered by email with what is missing."""
    complaints.check_rate(request.client.host if request.client else "unknown")
    try:
        notice = _validated(body)
        complaint = complaints.receive(session, raw=notice.model_dump(), settings=settings)
    except InvalidInput as error:
        return invalid(error)
    deliver_queued(session, mailer)
    return JSONResponse(
        NoticeReceived(
            id=complaint.id or 0,
            status=complaint.status.value,
            missing=list(complaint.missing),
            poster_reply_due_at=_uk(complaint.poster_reply_due_at),
        ).model_dump(mode="json"),
        status_code=201,
    )


def _validated(body: Any) -> NoticeIn:
    try:
        return NoticeIn.model_validate(body if body is not None else {})
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            errors.setdefault(name, problem["msg"])
        raise InvalidInput(errors) from None


@router.get("/complaints/{complaint_id}", name="api:complaint", response_model=ComplaintPublic)
def get_complaint(
    session: SessionDep, mailer: MailerDep, moderator: ApiModerator, complaint_id: ComplaintId
) -> ComplaintPublic:
    """A notice with its status and every deadline, in UK time (moderators only)."""
    case = complaints.get_case(session, complaint_id=complaint_id)
    deliver_queued(session, mailer)  # reading a case runs the clock, which may have told people something
    return _public(case)
